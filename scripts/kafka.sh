#!/usr/bin/env bash
# A real Apache Kafka (KRaft, no ZooKeeper, no Docker) on 127.0.0.1 for kstream's tests, benchmarks
# and quickstart, run with this machine's Java from jars that Maven resolves from Maven Central.
#
#   scripts/kafka.sh fetch            resolve the broker's jars (once; cached under .cache/kafka/)
#   scripts/kafka.sh up               start the broker unless it runs; wait until it answers requests
#   scripts/kafka.sh down [--purge]   stop it cleanly; --purge also deletes its data and logs
#   scripts/kafka.sh reset            the same as down --purge
#   scripts/kafka.sh status           running or not (exit 0 / 3), pid, ports, version, data dir
#   scripts/kafka.sh logs [-f]        the broker's log (-f follows it)
#
# Environment (all optional):
#   KAFKA_PORT               client port (default 9092); one broker per port, so checkouts and
#                            test runs can each have their own
#   KAFKA_CONTROLLER_PORT    KRaft controller port (default KAFKA_PORT+1)
#   KAFKA_HEAP_OPTS          default -Xms512m -Xmx1g: plenty for one test broker on a 2-core, 24 GB
#                            machine that the tests share
#   KAFKA_JVM_OPTS           extra JVM options, appended (so they win over the defaults below)
#   KAFKA_MESSAGE_MAX_BYTES  the broker's message.max.bytes (default: Kafka's, about 1 MB)
#   KAFKA_EXTRA_PROPERTIES   a file of broker properties appended to the generated ones (they win)
#   KAFKA_START_TIMEOUT      seconds to wait for a starting broker (default 90)
#   KAFKA_STOP_TIMEOUT       seconds to wait for a stopping broker before SIGKILL (default 30)
#   KSTREAM_KAFKA_CACHE      where jars and brokers live (default <repo>/.cache, git-ignored):
#                            jars in kafka/<version>/libs, brokers in kafka-run/<port>/node-<id>/
# The Kafka version is pinned in scripts/kafka/pom.xml only.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
pom="$repo/scripts/kafka/pom.xml"
log4j_config="$repo/scripts/kafka/log4j2.properties"
version=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$pom")
cache=${KSTREAM_KAFKA_CACHE:-$repo/.cache}
libs="$cache/kafka/$version/libs"
port=${KAFKA_PORT:-9092}
controller_port=${KAFKA_CONTROLLER_PORT:-$((port + 1))}
cluster_dir="$cache/kafka-run/$port"
start_timeout=${KAFKA_START_TIMEOUT:-90}
stop_timeout=${KAFKA_STOP_TIMEOUT:-30}
heap_opts=${KAFKA_HEAP_OPTS:--Xms512m -Xmx1g}
# Kafka's own G1 settings (kafka-run-class.sh), with GC threads capped: on two cores the defaults
# would take both from the tests. Running out of memory ends the broker instead of leaving it limping.
jvm_opts="-XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35
  -XX:+ExplicitGCInvokesConcurrent -XX:ParallelGCThreads=2 -XX:ConcGCThreads=1
  -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true ${KAFKA_JVM_OPTS:-}"

say() { echo "kafka.sh: $*" >&2; }
die() { say "$*"; exit 1; }

[ -n "$version" ] || die "no <kafka.version> in $pom"
[[ $port =~ ^[0-9]+$ && $controller_port =~ ^[0-9]+$ ]] || die "KAFKA_PORT and KAFKA_CONTROLLER_PORT must be port numbers"

# Several scripts (test runs, quickstart, a second terminal) may call fetch/up/down at once; a lock
# per resource makes the second caller wait for the first instead of racing it. fd 9 is the lock and
# must not leak into the broker (which would then hold it for its whole life).
lock() {
  mkdir -p "$(dirname "$1")"
  command -v flock >/dev/null || return 0
  exec 9>"$1"
  flock -w "$((start_timeout + stop_timeout + 60))" 9 || die "another kafka.sh holds $1; gave up waiting"
}

# Maven resolves the broker and its dependencies (the only route to Kafka from this machine's
# registries). It copies into a temporary folder that is renamed when complete, and a marker file
# makes an interrupted copy count as missing, so a warm machine never runs mvn.
fetch() {
  [ -f "$libs/.complete" ] && return 0
  lock "$cache/kafka/.fetch.lock"
  [ -f "$libs/.complete" ] && return 0   # another caller fetched while we waited for the lock
  command -v mvn >/dev/null || die "Maven (mvn) is needed to fetch Kafka $version (scripts/setup.sh checks what is missing)"
  say "resolving Apache Kafka $version from Maven Central (once)"
  local tmp="$libs.tmp.$$" mvn_log="$cache/kafka/mvn.log"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  if ! mvn -q -B -f "$pom" dependency:copy-dependencies -DoutputDirectory="$tmp" -DincludeScope=runtime >"$mvn_log" 2>&1 ||
    [ ! -f "$tmp/kafka_2.13-$version.jar" ]; then
    rm -rf "$tmp"
    tail -20 "$mvn_log" >&2
    die "mvn could not resolve Kafka $version (full log: $mvn_log)"
  fi
  touch "$tmp/.complete"
  rm -rf "$libs"
  mv "$tmp" "$libs"
}

# One folder per node so a multi-node cluster on loopback can sit next to node 1 later.
node_dir() { echo "$cluster_dir/node-$1"; }

# Prints the pid of node <id> if that process is alive and really is this node's broker: a pid
# file can outlive its broker (reboot, kill -9) and the pid be reused by something else.
node_pid() {
  local pid_file pid
  pid_file="$(node_dir "$1")/broker.pid"
  [ -f "$pid_file" ] || return 1
  pid=$(cat "$pid_file")
  if [[ $pid =~ ^[0-9]+$ ]] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "kafka.Kafka $(node_dir "$1")/server.properties"; then
    echo "$pid"
    return 0
  fi
  rm -f "$pid_file"
  return 1
}

port_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# True when a Kafka broker answers on the port: an ApiVersions v0 request (api key 18, correlation
# id "kstr", no client id), written by hand so neither kcat nor a JVM is needed; only Kafka replies
# with our correlation id. Any broker answers it, whatever protocol versions it supports.
kafka_answers() {
  local reply
  reply=$(
    exec 2>/dev/null
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    printf '\x00\x00\x00\x0a\x00\x12\x00\x00\x6b\x73\x74\x72\xff\xff' >&3
    timeout 3 head -c 8 <&3 | od -An -tx1 | tr -d ' \n'
  ) || return 1
  [[ $reply == ????????6b737472 ]]
}

# A listening socket is not yet a usable broker; kcat (when present) also asks for metadata, which
# needs the broker registered with its controller.
broker_ready() {
  kafka_answers "$1" || return 1
  if command -v kcat >/dev/null; then kcat -b "127.0.0.1:$1" -L -m 5 >/dev/null 2>&1 || return 1; fi
}

# A KRaft cluster id is 16 random bytes in URL-safe base64 without padding, not starting with '-'
# (Kafka's own rule); generated here to save a JVM start. Kept in the cluster folder so every node
# of the cluster is formatted with the same one.
cluster_id() {
  local file="$cluster_dir/cluster.id" id
  if [ ! -s "$file" ]; then
    while :; do
      id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
      [[ $id == -* ]] || break
    done
    echo "$id" >"$file"
  fi
  cat "$file"
}

# Args: node id, client port, controller port, controller quorum voters ("1@127.0.0.1:9093,...").
# Regenerated on every start so a change to this script or the environment takes effect; the
# data folder is what persists.
write_node_properties() {
  local id=$1 client_port=$2 ctrl_port=$3 voters=$4 dir
  dir=$(node_dir "$id")
  mkdir -p "$dir"
  {
    cat <<PROPS
# written by scripts/kafka.sh on each start; edits are lost (use KAFKA_EXTRA_PROPERTIES)
process.roles=broker,controller
node.id=$id
controller.quorum.voters=$voters
listeners=PLAINTEXT://127.0.0.1:$client_port,CONTROLLER://127.0.0.1:$ctrl_port
advertised.listeners=PLAINTEXT://127.0.0.1:$client_port
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$dir/data
# kstream creates its own topics; a typo in a topic name must not create one silently
auto.create.topics.enable=false
num.partitions=3
# one node: internal topics cannot have more replicas than that
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=10
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
share.coordinator.state.topic.num.partitions=3
# tests start and stop consumer groups all the time; waiting 3 s for more members only slows them
group.initial.rebalance.delay.ms=0
# two cores: a few threads are enough and leave CPU to the clients under test
num.network.threads=2
num.io.threads=4
background.threads=4
# a week, as on a real cluster: the quickstart's topics outlive the day, benchmarks fit easily
log.retention.hours=168
log.segment.bytes=268435456
PROPS
    if [ -n "${KAFKA_MESSAGE_MAX_BYTES:-}" ]; then echo "message.max.bytes=$KAFKA_MESSAGE_MAX_BYTES"; fi
    if [ -n "${KAFKA_EXTRA_PROPERTIES:-}" ]; then
      echo "# from KAFKA_EXTRA_PROPERTIES=$KAFKA_EXTRA_PROPERTIES"
      cat "$KAFKA_EXTRA_PROPERTIES"
    fi
  } >"$dir/server.properties"
}

# Formats the node's storage once. A data folder with files but no meta.properties is not ours to
# wipe; say so rather than guess.
format_node_storage() {
  local dir data
  dir=$(node_dir "$1")
  data="$dir/data"
  [ -f "$data/meta.properties" ] && return 0
  if [ -d "$data" ] && [ -n "$(ls -A "$data")" ]; then
    die "$data holds files but no meta.properties; delete it (scripts/kafka.sh down --purge) to start afresh"
  fi
  mkdir -p "$data"
  if ! java -cp "$libs/*" kafka.tools.StorageTool format -t "$(cluster_id)" -c "$dir/server.properties" >"$dir/format.log" 2>&1; then
    cat "$dir/format.log" >&2
    rm -rf "$data"
    die "formatting the KRaft storage of node $1 failed"
  fi
}

# Starts node <id> in the background, detached from this shell's input and output; the previous
# run's log is kept as server.previous.log for "why did it die".
start_node() {
  local dir
  dir=$(node_dir "$1")
  if [ -f "$dir/server.log" ]; then mv -f "$dir/server.log" "$dir/server.previous.log"; fi
  rm -f "$dir"/server.log.[0-9]*
  : >"$dir/server.log"
  # A broker holds a file per segment and index: lift the soft limit as far as allowed.
  ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
  # shellcheck disable=SC2086  # the option strings are meant to split into words
  nohup java $heap_opts $jvm_opts -Dkafka.logs.dir="$dir" -Dlog4j2.configurationFile="$log4j_config" \
    -cp "$libs/*" kafka.Kafka "$dir/server.properties" </dev/null >"$dir/stdout.log" 2>&1 9>&- &
  echo $! >"$dir/broker.pid"
}

# Prints why node <id> failed: what the JVM itself printed (bad options, a crash), then the error
# lines of the broker's log, or its last lines when it logged no error.
explain_failure() {
  local dir errors
  dir=$(node_dir "$1")
  if [ -s "$dir/stdout.log" ]; then tail -10 "$dir/stdout.log" | cut -c1-400 >&2; fi
  errors=$(grep -hE "ERROR|FATAL|Exception" "$dir/server.log" 2>/dev/null | tail -15 || true)
  if [ -n "$errors" ]; then
    printf '%s\n' "$errors" | cut -c1-400 >&2
  elif [ -s "$dir/server.log" ]; then
    tail -10 "$dir/server.log" | cut -c1-400 >&2
  elif [ ! -s "$dir/stdout.log" ]; then
    say "(nothing logged yet: the JVM had not got far)"
  fi
  say "full log: $dir/server.log (JVM output: $dir/stdout.log)"
}

# Waits until a freshly started node logs "Kafka Server started" and answers requests. A node that
# exits meanwhile, or takes longer than KAFKA_START_TIMEOUT, is reported (and a hung one stopped, so
# the next "up" starts clean).
wait_node_started() {
  local id=$1 client_port=$2 pid=$3 dir deadline
  dir=$(node_dir "$id")
  deadline=$((SECONDS + start_timeout))
  while [ $SECONDS -lt $deadline ]; do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$dir/broker.pid"
      say "the broker (node $id) exited during start-up; the reason:"
      explain_failure "$id"
      exit 1
    fi
    if grep -q "Kafka Server started" "$dir/server.log" 2>/dev/null && broker_ready "$client_port"; then return 0; fi
    sleep 0.25
  done
  say "the broker (node $id) did not answer within ${start_timeout}s (KAFKA_START_TIMEOUT); stopping it. Its log:"
  explain_failure "$id"
  stop_node "$id" >/dev/null 2>&1 || true
  exit 1
}

# SIGTERM lets Kafka shut down cleanly (no log recovery on the next start); a broker still alive
# after KAFKA_STOP_TIMEOUT is killed, with a warning.
stop_node() {
  local id=$1 pid
  pid=$(node_pid "$id") || return 1
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + stop_timeout))
  while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then
    say "warning: node $id (pid $pid) did not stop within ${stop_timeout}s; killing it (its logs will be recovered on the next start)"
    kill -KILL "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  fi
  rm -f "$(node_dir "$id")/broker.pid"
  echo "$pid"
}

up() {
  [ $# -eq 0 ] || die "up takes no arguments (got: $*)"
  command -v java >/dev/null || die "Java 17+ is needed (scripts/setup.sh checks what is missing)"
  fetch
  mkdir -p "$cluster_dir"
  touch "$cluster_dir/.kstream-kafka-run"
  lock "$cluster_dir/.lock"
  local pid started=$SECONDS
  if pid=$(node_pid 1); then
    # Running already; it may still be starting (a caller that gave up waiting): wait for it too.
    local deadline=$((SECONDS + start_timeout))
    until broker_ready "$port"; do
      [ $SECONDS -lt $deadline ] || die "node 1 (pid $pid) runs but does not answer on 127.0.0.1:$port; see scripts/kafka.sh logs"
      kill -0 "$pid" 2>/dev/null || die "node 1 (pid $pid) exited; see scripts/kafka.sh logs"
      sleep 0.25
    done
    say "already running: Kafka $version on 127.0.0.1:$port (pid $pid)"
    return 0
  fi
  if kafka_answers "$port"; then
    # Another checkout's broker (or the user's own) serves this port: use it rather than fail.
    say "a Kafka broker not started from this checkout already answers on 127.0.0.1:$port; using it"
    return 0
  fi
  port_taken "$port" && die "port $port is in use by something that is not Kafka; choose another with KAFKA_PORT"
  port_taken "$controller_port" && die "controller port $controller_port is in use; choose another with KAFKA_CONTROLLER_PORT (or KAFKA_PORT)"
  write_node_properties 1 "$port" "$controller_port" "1@127.0.0.1:$controller_port"
  format_node_storage 1
  start_node 1
  wait_node_started 1 "$port" "$(cat "$(node_dir 1)/broker.pid")"
  say "Kafka $version is up on 127.0.0.1:$port in $((SECONDS - started))s (pid $(node_pid 1); logs: scripts/kafka.sh logs)"
}

down() {
  local purge=0
  case "${1:-}" in
    "") ;;
    --purge) purge=1 ;;
    *) die "down takes only --purge (got: $1)" ;;
  esac
  [ -d "$cluster_dir" ] || { say "not running"; return 0; }
  lock "$cluster_dir/.lock"
  local pid
  if pid=$(stop_node 1); then say "stopped (pid $pid)"; else say "not running"; fi
  if [ "$purge" = 1 ]; then
    # Only a folder this script made: KSTREAM_KAFKA_CACHE may point anywhere.
    [ -f "$cluster_dir/.kstream-kafka-run" ] || die "$cluster_dir was not made by kafka.sh; not deleting it"
    rm -rf "$cluster_dir"
    say "deleted $cluster_dir"
  fi
}

status() {
  local pid data
  data="$(node_dir 1)/data"
  if pid=$(node_pid 1); then
    local answers="answers requests"
    broker_ready "$port" || answers="does NOT answer requests yet (starting or stuck; see scripts/kafka.sh logs)"
    echo "running: Kafka $version on 127.0.0.1:$port (controller :$controller_port), pid $pid, $answers"
    echo "data:    $data"
    return 0
  fi
  echo "stopped: Kafka $version, 127.0.0.1:$port, data $data"
  if kafka_answers "$port"; then echo "note:    a Kafka broker not started from this checkout answers on 127.0.0.1:$port"; fi
  exit 3
}

logs() {
  local log_file
  log_file="$(node_dir 1)/server.log"
  [ -f "$log_file" ] || die "no log yet at $log_file"
  case "${1:-}" in
    "") cat "$log_file" ;;
    -f) tail -n 50 -F "$log_file" ;;
    *) die "logs takes only -f (got: $1)" ;;
  esac
}

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }

command=${1:-help}
[ $# -eq 0 ] || shift
case "$command" in
  fetch) fetch ;;
  up) up "$@" ;;
  down) down "$@" ;;
  reset) down --purge ;;
  status) status ;;
  logs) logs "$@" ;;
  help | -h | --help) usage ;;
  *) usage >&2; say "unknown command: $command"; exit 2 ;;
esac
