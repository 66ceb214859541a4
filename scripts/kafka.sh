#!/usr/bin/env bash
# A real Apache Kafka (KRaft, no ZooKeeper, no Docker) on 127.0.0.1 for kstream's tests, benchmarks
# and quickstart, run with this machine's Java from jars that Maven resolves from Maven Central.
#
#   scripts/kafka.sh fetch            resolve the broker's jars (once; cached under .cache/kafka/)
#   scripts/kafka.sh up               start the broker unless it is running; wait until it answers
#   scripts/kafka.sh down [--purge]   stop it cleanly; --purge also deletes its data
#   scripts/kafka.sh status           running or not (exit 0 / 3), pid, port, version, data dir
#   scripts/kafka.sh logs [-f]        the broker's log
#
# Environment: KAFKA_PORT (default 9092; the controller listens on KAFKA_PORT+1), KAFKA_HEAP_OPTS
# (default -Xms512m -Xmx1g: plenty for one test broker on a 2-core, 24 GB machine shared with the
# tests), KSTREAM_KAFKA_CACHE (default <repo>/.cache), KAFKA_START_TIMEOUT (seconds, default 90).
# The Kafka version is pinned in scripts/kafka/pom.xml only.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
pom="$repo/scripts/kafka/pom.xml"
version=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$pom")
cache=${KSTREAM_KAFKA_CACHE:-$repo/.cache}
libs="$cache/kafka/$version/libs"
port=${KAFKA_PORT:-9092}
controller_port=$((port + 1))
run_dir="$cache/kafka-run/$port"
data_dir="$run_dir/data"
pid_file="$run_dir/broker.pid"
log_file="$run_dir/server.log"
start_timeout=${KAFKA_START_TIMEOUT:-90}

say() { echo "kafka.sh: $*" >&2; }

# Resolving with mvn (not a downloaded tarball) is the only way to Kafka from this machine's
# registries; the marker file makes a half-finished copy count as missing.
fetch() {
  if [ -f "$libs/.complete" ]; then return 0; fi
  command -v mvn >/dev/null || { say "Maven (mvn) is needed to fetch Kafka $version"; exit 1; }
  say "resolving Apache Kafka $version from Maven Central"
  rm -rf "$libs"
  mkdir -p "$libs"
  if ! mvn -q -B -f "$pom" dependency:copy-dependencies -DoutputDirectory="$libs" -DincludeScope=runtime >"$cache/kafka/mvn.log" 2>&1; then
    tail -20 "$cache/kafka/mvn.log" >&2
    say "mvn could not resolve Kafka $version (log: $cache/kafka/mvn.log)"
    exit 1
  fi
  touch "$libs/.complete"
}

java_cmd() { java -cp "$libs/*" "$@"; }

running_pid() {
  [ -f "$pid_file" ] || return 1
  local pid
  pid=$(cat "$pid_file")
  # A stale pid file may name a process that is now something else: check it is our broker.
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "kafka.Kafka $run_dir/server.properties"; then
    echo "$pid"
    return 0
  fi
  rm -f "$pid_file"
  return 1
}

port_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

write_properties() {
  mkdir -p "$run_dir"
  cat >"$run_dir/server.properties" <<PROPS
# written by scripts/kafka.sh: a single-node KRaft broker+controller on loopback
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller_port
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$data_dir
# kstream creates its own topics; a typo in a topic name must not create one silently
auto.create.topics.enable=false
num.partitions=3
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=10
group.initial.rebalance.delay.ms=0
# two cores: a few threads are enough and leave CPU to the clients under test
num.network.threads=2
num.io.threads=4
background.threads=4
log.retention.hours=168
log.segment.bytes=268435456
PROPS
}

up() {
  fetch
  if pid=$(running_pid); then say "already running (pid $pid, 127.0.0.1:$port)"; return 0; fi
  if port_taken "$port"; then
    # Another checkout's broker (or the user's own) already serves this port: use it rather than fail.
    if command -v kcat >/dev/null && kcat -b "127.0.0.1:$port" -L -m 5 >/dev/null 2>&1; then
      say "a Kafka broker not started from this checkout already answers on 127.0.0.1:$port; using it"
      return 0
    fi
    say "port $port is already in use by another process; set KAFKA_PORT"
    exit 1
  fi
  if port_taken "$controller_port"; then say "controller port $controller_port is already in use; set KAFKA_PORT"; exit 1; fi
  write_properties
  if [ ! -f "$data_dir/meta.properties" ]; then
    mkdir -p "$data_dir"
    local cluster_id
    cluster_id=$(java_cmd kafka.tools.StorageTool random-uuid 2>/dev/null | tail -1)
    java_cmd kafka.tools.StorageTool format -t "$cluster_id" -c "$run_dir/server.properties" >"$run_dir/format.log" 2>&1 ||
      { cat "$run_dir/format.log" >&2; say "formatting the KRaft storage failed"; exit 1; }
  fi
  : >"$log_file"
  # shellcheck disable=SC2086
  nohup java ${KAFKA_HEAP_OPTS:--Xms512m -Xmx1g} -XX:+UseG1GC -XX:ParallelGCThreads=2 -XX:ConcGCThreads=1 \
    -Djava.awt.headless=true -Dkafka.logs.dir="$run_dir" \
    -Dlog4j2.configurationFile="$repo/scripts/kafka/log4j2.properties" \
    -cp "$libs/*" kafka.Kafka "$run_dir/server.properties" >"$run_dir/stdout.log" 2>&1 &
  echo $! >"$pid_file"
  wait_until_ready
}

# A listening port is not a working broker: wait for "Kafka Server started" and an answer to a
# metadata request (kcat when present), and report why when the process dies instead.
wait_until_ready() {
  local pid deadline
  pid=$(cat "$pid_file")
  deadline=$((SECONDS + start_timeout))
  while [ $SECONDS -lt $deadline ]; do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$pid_file"
      say "the broker exited during start-up; the reason:"
      { grep -hE "ERROR|Exception|Error:" "$log_file" "$run_dir/stdout.log" 2>/dev/null | tail -15; } >&2 || true
      exit 1
    fi
    if grep -q "Kafka Server started" "$log_file" 2>/dev/null; then
      if ! command -v kcat >/dev/null || kcat -b "127.0.0.1:$port" -L -m 5 >/dev/null 2>&1; then
        say "Kafka $version is up on 127.0.0.1:$port (pid $pid, logs: scripts/kafka.sh logs)"
        return 0
      fi
    fi
    sleep 0.5
  done
  say "the broker did not answer within ${start_timeout}s; last log lines:"
  tail -15 "$log_file" >&2 || true
  exit 1
}

down() {
  local pid
  if pid=$(running_pid); then
    kill -TERM "$pid"
    for _ in $(seq 1 60); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.5
    done
    if kill -0 "$pid" 2>/dev/null; then
      say "the broker did not stop within 30 s; killing it"
      kill -KILL "$pid" || true
    fi
    rm -f "$pid_file"
    say "stopped (pid $pid)"
  else
    say "not running"
  fi
  if [ "${1:-}" = "--purge" ]; then rm -rf "$run_dir"; say "deleted $run_dir"; fi
}

status() {
  local pid
  if pid=$(running_pid); then
    echo "running: pid $pid, 127.0.0.1:$port, Kafka $version, data $data_dir"
  else
    echo "stopped: 127.0.0.1:$port, Kafka $version, data $data_dir"
    exit 3
  fi
}

logs() {
  [ -f "$log_file" ] || { say "no log yet at $log_file"; exit 1; }
  if [ "${1:-}" = "-f" ]; then tail -F "$log_file"; else cat "$log_file"; fi
}

case "${1:-help}" in
  fetch) fetch ;;
  up) up ;;
  down) shift; down "${1:-}" ;;
  status) status ;;
  logs) shift; logs "${1:-}" ;;
  *) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; [ "${1:-help}" = help ] || exit 2 ;;
esac
