#!/usr/bin/env bash
# A real Apache Kafka (KRaft, no ZooKeeper, no Docker) on 127.0.0.1 for kstream's tests, benchmarks
# and quickstart, run with this machine's Java from jars that Maven resolves from Maven Central.
#
#   scripts/kafka.sh fetch            resolve the broker's jars (once; cached under .cache/kafka/)
#   scripts/kafka.sh up [--secure [--acl]] [--brokers N]
#                                     start the broker (or cluster) unless it runs; wait until it
#                                     answers requests. Plain "up" is one node, PLAINTEXT only.
#   scripts/kafka.sh down [--purge]   stop every node cleanly; --purge also deletes data and logs
#   scripts/kafka.sh reset            the same as down --purge
#   scripts/kafka.sh status           running or not (exit 0 / 3), pids, ports, version, data dirs
#   scripts/kafka.sh logs [-f] [ID]   a node's log (default node 1; -f follows it)
#   scripts/kafka.sh stop-node ID [--kill]   stop one node of the cluster (--kill: SIGKILL, a crash)
#   scripts/kafka.sh start-node ID    start it again, with the settings of the last "up"
#
# Ports, from KAFKA_PORT (P): node i (1..N) serves clients on P+10*(i-1) (PLAINTEXT) and runs its
# KRaft controller on that + 1. With --secure each node also listens on
#   that + 2   SASL_SSL: SCRAM-SHA-256, SCRAM-SHA-512 and PLAIN, user "kstream" (TLS, no client cert)
#   that + 3   SSL with required client certificates (mutual TLS)
# and the CA, client certificate/key (PEM) and passwords are made once under
# $KSTREAM_KAFKA_CACHE/kafka-run/<P>/secure/ (see scripts/kafka/certs.sh; "up --secure" prints it).
# SCRAM users are written when the storage is formatted, so a broker first started without --secure
# cannot become secure: "down --purge" it, or use another KAFKA_PORT (the tests use 19292).
# --acl (with --secure) turns on Kafka's standard authorizer (StandardAuthorizer, KRaft): the broker's
# own principal (User:ANONYMOUS, on the PLAINTEXT and controller listeners), the SASL user "kstream"
# and the mutual-TLS client (User:CN=kstream-client) are super users; a second SCRAM user "limited"
# (password in secure/limited.password) may only describe topics, nothing else. ACLs are set with
# kafka-acls.sh's and kafka-configs.sh's classes (org.apache.kafka.tools.*), fetched once with mvn
# into kafka/<version>/tools beside the broker's jars. PLAINTEXT stays open to anyone (as ANONYMOUS,
# a super user): the point of --acl is to test clients on the SASL listener, not to protect a broker.
# --brokers N (N >= 2): every node is broker and controller, internal topics get replication
# factor min(N,3) and min.insync.replicas (the brokers' default) 2. A cluster keeps the shape it
# was formatted with; "up" without --brokers starts whatever the port holds (1 node when new).
#
# Environment (all optional):
#   KAFKA_PORT               client port (default 9092); one broker per port, so checkouts and
#                            test runs can each have their own
#   KAFKA_HOSTS              one address per node, comma-separated: node i binds to the i-th, on
#                            KAFKA_PORT (controller + 1) of its own address, instead of 127.0.0.1 at
#                            P+10*(i-1). For several hosts (scripts/hosts.sh); not with --secure
#   KAFKA_NETNS              a network namespace prefix: node i runs inside <prefix><i> (hosts.sh
#                            sets kstream-b); needs root, and KAFKA_HOSTS with those namespaces'
#                            addresses. Its brokers live in kafka-run/<prefix>-<port>/
#   KAFKA_CONTROLLER_PORT    KRaft controller port of node 1 (default KAFKA_PORT+1)
#   KAFKA_HEAP_OPTS          default -Xms512m -Xmx1g for a single node (plenty for one test broker
#                            on a 2-core, 24 GB machine that the tests share); -Xms256m -Xmx512m
#                            for each node of a cluster
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
hosts=${KAFKA_HOSTS:-}
netns=${KAFKA_NETNS:-}
# One folder per cluster: a namespaced cluster on 9092 is not the loopback broker on 9092.
if [ -n "$netns" ]; then
  cluster_dir="$cache/kafka-run/$netns-$port"
elif [ -n "$hosts" ]; then
  cluster_dir="$cache/kafka-run/${hosts%%,*}-$port"
else
  cluster_dir="$cache/kafka-run/$port"
fi
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
[ -z "$hosts" ] || [[ $hosts =~ ^[0-9.]+(,[0-9.]+)*$ ]] || die "KAFKA_HOSTS must be IPv4 addresses separated by commas (got: $hosts)"
[ -z "$netns" ] || [ -n "$hosts" ] || die "KAFKA_NETNS needs KAFKA_HOSTS: the address of each node inside its namespace"

# Node i's address: the i-th of KAFKA_HOSTS, else loopback.
node_host() {
  if [ -z "$hosts" ]; then echo 127.0.0.1; return; fi
  local list
  IFS=, read -r -a list <<<"$hosts"
  [ "$1" -le "${#list[@]}" ] || die "node $1 has no address: KAFKA_HOSTS lists ${#list[@]} ($hosts)"
  echo "${list[$(($1 - 1))]}"
}
# Runs a command in node i's network namespace (KAFKA_NETNS), or here.
in_node_net() {
  local id=$1
  shift
  if [ -n "$netns" ]; then ip netns exec "$netns$id" "$@"; else "$@"; fi
}

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

# One folder per node: the nodes of a cluster on loopback sit next to each other.
node_dir() { echo "$cluster_dir/node-$1"; }

# Prints the pid of node <id> if that process is alive and really is this node's broker: a pid
# file can outlive its broker (reboot, kill -9) and the pid be reused by something else.
node_pid() {
  local pid_file pid
  pid_file="$(node_dir "$1")/broker.pid"
  [ -f "$pid_file" ] || return 1
  pid=$(cat "$pid_file")
  if [[ $pid =~ ^[0-9]+$ ]] && tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF "kafka.Kafka $(node_dir "$1")/server.properties"; then
    echo "$pid"
    return 0
  fi
  rm -f "$pid_file"
  return 1
}

# The probes below take a node id and a port: they run where node <id> lives (its namespace) and
# talk to its address. In a namespace they run as "bash -c" with their own text (declare -f).
port_taken_at() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }
port_taken() { in_node_net "$1" bash -c "$(declare -f port_taken_at); port_taken_at $(node_host "$1") $2"; }

# True when a Kafka broker answers on the port: an ApiVersions v0 request (api key 18, correlation
# id "kstr", no client id), written by hand so neither kcat nor a JVM is needed; only Kafka replies
# with our correlation id. Any broker answers it, whatever protocol versions it supports.
kafka_answers_at() {
  local reply
  reply=$(
    exec 2>/dev/null
    exec 3<>"/dev/tcp/$1/$2" || exit 1
    printf '\x00\x00\x00\x0a\x00\x12\x00\x00\x6b\x73\x74\x72\xff\xff' >&3
    timeout 3 head -c 8 <&3 | od -An -tx1 | tr -d ' \n'
  ) || return 1
  [[ $reply == ????????6b737472 ]]
}

# A listening socket is not yet a usable broker; kcat (when present) also asks for metadata, which
# needs the broker registered with its controller.
broker_ready_at() {
  kafka_answers_at "$1" "$2" || return 1
  if command -v kcat >/dev/null; then kcat -b "$1:$2" -L -m 5 >/dev/null 2>&1 || return 1; fi
}
kafka_answers() { in_node_net "$1" bash -c "$(declare -f kafka_answers_at); kafka_answers_at $(node_host "$1") $2"; }
broker_ready() { in_node_net "$1" bash -c "$(declare -f kafka_answers_at broker_ready_at); broker_ready_at $(node_host "$1") $2"; }

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

# The cluster's shape, written when node 1 is formatted and by every "up": brokers (node count),
# scram (1: SCRAM users were added at format time) and secure (1: the last "up" had --secure, which
# start-node repeats). A folder from before this file existed is one plain node.
topology_file="$cluster_dir/topology"
secure_dir="$cluster_dir/secure"
topology() {
  local value=""
  if [ -f "$topology_file" ]; then value=$(sed -n "s/^$1=//p" "$topology_file" | tail -1); fi
  case "$1" in brokers) echo "${value:-1}" ;; *) echo "${value:-0}" ;; esac
}
save_topology() { printf 'brokers=%s\nscram=%s\nsecure=%s\nacl=%s\n' "$1" "$2" "$3" "${4:-0}" >"$topology_file"; }

# Node i's ports: clients on KAFKA_PORT + 10*(i-1), its controller on that + 1 (node 1's controller
# port can be moved with KAFKA_CONTROLLER_PORT, as before clusters existed), SASL_SSL on + 2, SSL + 3.
# With KAFKA_HOSTS every node has an address of its own, so all use the same ports.
client_port_of() { if [ -n "$hosts" ]; then echo "$port"; else echo $((port + 10 * ($1 - 1))); fi; }
controller_port_of() { if [ "$1" = 1 ] || [ -n "$hosts" ]; then echo "$controller_port"; else echo $(($(client_port_of "$1") + 1)); fi; }
sasl_port_of() { echo $(($(client_port_of "$1") + 2)); }
ssl_port_of() { echo $(($(client_port_of "$1") + 3)); }
quorum_voters() {
  local id voters=""
  for id in $(seq 1 "$1"); do voters+="${voters:+,}$id@$(node_host "$id"):$(controller_port_of "$id")"; done
  echo "$voters"
}
# The node ids that have a folder, in order: what "down" and "status" look at.
known_nodes() {
  local dir
  for dir in "$cluster_dir"/node-*; do [ -d "$dir" ] && echo "${dir##*/node-}"; done | sort -n
}
# True when node <id> was started with the secure listeners (its properties are rewritten per start).
node_is_secure() { grep -q '^listeners=.*SASL_SSL://' "$(node_dir "$1")/server.properties" 2>/dev/null; }
# True when node <id> was started with the standard authorizer (--acl).
node_has_acl() { grep -q '^authorizer.class.name=' "$(node_dir "$1")/server.properties" 2>/dev/null; }

# Args: node id, node count, secure (0/1), acl (0/1). Regenerated on every start so a change to this script or
# the environment takes effect; the data folder is what persists.
write_node_properties() {
  local id=$1 brokers=$2 secure=$3 acl=${4:-0} dir client_port ctrl_port rf min_isr
  dir=$(node_dir "$id")
  client_port=$(client_port_of "$id")
  ctrl_port=$(controller_port_of "$id")
  mkdir -p "$dir"
  # One node: internal topics cannot have more replicas than that. A cluster: three copies, two of
  # which must acknowledge, so one node can die without losing a committed offset or transaction.
  rf=$((brokers < 3 ? brokers : 3))
  min_isr=$((rf < 2 ? 1 : 2))
  local host
  host=$(node_host "$id")
  local listeners="PLAINTEXT://$host:$client_port,CONTROLLER://$host:$ctrl_port"
  local advertised="PLAINTEXT://$host:$client_port"
  local protocols="PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT"
  if [ "$secure" = 1 ]; then
    listeners+=",SASL_SSL://127.0.0.1:$(sasl_port_of "$id"),SSL://127.0.0.1:$(ssl_port_of "$id")"
    advertised+=",SASL_SSL://127.0.0.1:$(sasl_port_of "$id"),SSL://127.0.0.1:$(ssl_port_of "$id")"
    protocols+=",SASL_SSL:SASL_SSL,SSL:SSL"
  fi
  {
    cat <<PROPS
# written by scripts/kafka.sh on each start; edits are lost (use KAFKA_EXTRA_PROPERTIES)
process.roles=broker,controller
node.id=$id
controller.quorum.voters=$(quorum_voters "$brokers")
listeners=$listeners
advertised.listeners=$advertised
controller.listener.names=CONTROLLER
listener.security.protocol.map=$protocols
inter.broker.listener.name=PLAINTEXT
log.dirs=$dir/data
# kstream creates its own topics; a typo in a topic name must not create one silently
auto.create.topics.enable=false
num.partitions=3
PROPS
    if [ "$brokers" = 1 ]; then
      echo "# one node: internal topics cannot have more replicas than that"
    else
      echo "# $brokers nodes: internal topics on $rf of them, $min_isr of which must acknowledge a write;"
      echo "# min.insync.replicas is also the default of every topic (a topic with fewer replicas"
      echo "# than that cannot take acks=all writes: create topics with replication_factor >= $min_isr)"
      echo "min.insync.replicas=$min_isr"
    fi
    cat <<PROPS
offsets.topic.replication.factor=$rf
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=$min_isr
transaction.state.log.num.partitions=10
share.coordinator.state.topic.replication.factor=$rf
share.coordinator.state.topic.min.isr=$min_isr
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
    if [ "$secure" = 1 ]; then
      local store_password sasl_user sasl_password
      store_password=$(cat "$secure_dir/store.password")
      sasl_user=$(cat "$secure_dir/sasl.username")
      sasl_password=$(cat "$secure_dir/sasl.password")
      cat <<PROPS
# --secure: TLS material from scripts/kafka/certs.sh; brokers and controllers still talk PLAINTEXT
# to each other on loopback, so only the client side is secured
ssl.keystore.type=PKCS12
ssl.keystore.location=$secure_dir/broker.p12
ssl.keystore.password=$store_password
ssl.key.password=$store_password
ssl.truststore.type=PKCS12
ssl.truststore.location=$secure_dir/truststore.p12
ssl.truststore.password=$store_password
# mutual TLS on the SSL listener: a client without a certificate signed by the CA is refused
listener.name.ssl.ssl.client.auth=required
listener.name.sasl_ssl.ssl.client.auth=none
# SASL_SSL: SCRAM users live in the cluster metadata (added when the storage was formatted); PLAIN
# users are the user_<name> entries of the listener's JAAS line
sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512,PLAIN
listener.name.sasl_ssl.sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512,PLAIN
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_$sasl_user="$sasl_password";
PROPS
    fi
    if [ "$acl" = 1 ]; then
      cat <<PROPS
# --acl: every request is authorized against the cluster's ACLs (kept in the KRaft metadata);
# nothing is allowed without an ACL except to the super users: the broker itself and its
# controller (ANONYMOUS, PLAINTEXT on loopback), the SASL user and the mutual-TLS client
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
super.users=User:ANONYMOUS;User:$(cat "$secure_dir/sasl.username");User:CN=kstream-client
PROPS
    fi
    if [ -n "${KAFKA_MESSAGE_MAX_BYTES:-}" ]; then echo "message.max.bytes=$KAFKA_MESSAGE_MAX_BYTES"; fi
    if [ -n "${KAFKA_EXTRA_PROPERTIES:-}" ]; then
      echo "# from KAFKA_EXTRA_PROPERTIES=$KAFKA_EXTRA_PROPERTIES"
      cat "$KAFKA_EXTRA_PROPERTIES"
    fi
  } >"$dir/server.properties.tmp"
  # It may hold passwords (PLAIN users, keystore): readable by this user only.
  chmod 600 "$dir/server.properties.tmp"
  mv -f "$dir/server.properties.tmp" "$dir/server.properties"
}

# Formats node <id>'s storage once; with scram=1 the SCRAM-SHA-256 and -512 users of --secure are
# written into the cluster's first metadata (KRaft's way to have them before any client connects).
# A data folder with files but no meta.properties is not ours to wipe; say so rather than guess.
format_node_storage() {
  local id=$1 scram=${2:-0} dir data
  dir=$(node_dir "$id")
  data="$dir/data"
  [ -f "$data/meta.properties" ] && return 0
  if [ -d "$data" ] && [ -n "$(ls -A "$data")" ]; then
    die "$data holds files but no meta.properties; delete it (scripts/kafka.sh down --purge) to start afresh"
  fi
  mkdir -p "$data"
  local scram_args=()
  if [ "$scram" = 1 ]; then
    local user password
    user=$(cat "$secure_dir/sasl.username")
    password=$(cat "$secure_dir/sasl.password")
    scram_args=(--add-scram "SCRAM-SHA-256=[name=$user,password=$password]" --add-scram "SCRAM-SHA-512=[name=$user,password=$password]")
  fi
  # The format log lists the SCRAM users' salted keys: readable by this user only (umask 077).
  if ! (umask 077 && java -cp "$libs/*" kafka.tools.StorageTool format -t "$(cluster_id)" -c "$dir/server.properties" "${scram_args[@]}" >"$dir/format.log" 2>&1); then
    cat "$dir/format.log" >&2
    rm -rf "$data"
    die "formatting the KRaft storage of node $id failed"
  fi
}

# Starts node <id> in the background, detached from this shell's input and output; the previous
# run's log is kept as server.previous.log for "why did it die". Arg 2: the JVM heap options.
start_node() {
  local dir node_heap_opts=$2
  dir=$(node_dir "$1")
  if [ -f "$dir/server.log" ]; then mv -f "$dir/server.log" "$dir/server.previous.log"; fi
  rm -f "$dir"/server.log.[0-9]*
  : >"$dir/server.log"
  # A broker holds a file per segment and index: lift the soft limit as far as allowed.
  ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
  # "ip netns exec" execs the command in place, so $! is the JVM's pid either way.
  local net=()
  if [ -n "$netns" ]; then net=(ip netns exec "$netns$1"); fi
  # shellcheck disable=SC2086  # the option strings are meant to split into words
  "${net[@]}" nohup java $node_heap_opts $jvm_opts -Dkafka.logs.dir="$dir" -Dlog4j2.configurationFile="$log4j_config" \
    -cp "$libs/*" kafka.Kafka "$dir/server.properties" </dev/null >"$dir/stdout.log" 2>&1 9>&- &
  echo $! >"$dir/broker.pid"
}

# Each node of a cluster gets half a single broker's heap: three of them share two cores and the
# tests' memory. KAFKA_HEAP_OPTS wins in both cases.
heap_for() { if [ -n "${KAFKA_HEAP_OPTS:-}" ]; then echo "$KAFKA_HEAP_OPTS"; elif [ "$1" -gt 1 ]; then echo "-Xms256m -Xmx512m"; else echo "$heap_opts"; fi; }

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
    if grep -q "Kafka Server started" "$dir/server.log" 2>/dev/null && broker_ready "$id" "$client_port"; then return 0; fi
    sleep 0.25
  done
  say "the broker (node $id) did not answer within ${start_timeout}s (KAFKA_START_TIMEOUT); stopping it. Its log:"
  explain_failure "$id"
  stop_node "$id" >/dev/null 2>&1 || true
  exit 1
}

# True while <pid> runs; a zombie (dead, not yet reaped by whoever adopted it) counts as stopped.
alive() { kill -0 "$1" 2>/dev/null && [ "$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null)" != Z ]; }

# Sends SIGTERM (clean: no log recovery on the next start) or SIGKILL (a crash, for failover tests)
# to the given nodes at once, then waits for each; a node still alive after KAFKA_STOP_TIMEOUT is
# killed, with a warning. At once matters for a cluster: a node stopping after the others have
# taken the controller quorum away would wait for it until the timeout. Prints "<id> <pid>" per
# node it stopped.
stop_nodes() {
  local signal=$1 id pid i ids=() pids=()
  shift
  for id in "$@"; do
    pid=$(node_pid "$id") || continue
    kill -"$signal" "$pid" 2>/dev/null || true
    ids+=("$id")
    pids+=("$pid")
  done
  local deadline=$((SECONDS + stop_timeout))
  for i in "${!ids[@]}"; do
    id=${ids[$i]} pid=${pids[$i]}
    while alive "$pid" && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
    if alive "$pid"; then
      say "warning: node $id (pid $pid) did not stop within ${stop_timeout}s; killing it (its logs will be recovered on the next start)"
      kill -KILL "$pid" 2>/dev/null || true
      while alive "$pid"; do sleep 0.1; done
    fi
    rm -f "$(node_dir "$id")/broker.pid"
    echo "$id $pid"
  done
}

# Stops node <id> cleanly; prints its pid, or fails when it was not running.
stop_node() {
  local stopped
  stopped=$(stop_nodes TERM "$1")
  [ -n "$stopped" ] || return 1
  echo "${stopped#* }"
}

# Where a client finds what --secure made; printed by up, status and start-node.
describe_secure() {
  local id=$1
  say "secure: SASL_SSL on 127.0.0.1:$(sasl_port_of "$id") (SCRAM-SHA-256, SCRAM-SHA-512, PLAIN; user $(cat "$secure_dir/sasl.username"), password in $secure_dir/sasl.password),"
  say "        SSL with client certificates on 127.0.0.1:$(ssl_port_of "$id"); CA $secure_dir/ca.pem,"
  say "        client certificate $secure_dir/client.pem, key $secure_dir/client.key"
}

# Starts the given nodes (all at once: a cluster's controllers need each other to elect a leader)
# and waits for each. Args: node count, secure (0/1), scram (0/1), acl (0/1), node ids.
start_nodes() {
  local brokers=$1 secure=$2 scram=$3 acl=$4 id p
  shift 4
  for id in "$@"; do
    local ports=("$(client_port_of "$id")" "$(controller_port_of "$id")")
    if [ "$secure" = 1 ]; then ports+=("$(sasl_port_of "$id")" "$(ssl_port_of "$id")"); fi
    for p in "${ports[@]}"; do
      if port_taken "$id" "$p"; then
        if [ "$p" = "$controller_port" ] && [ "$id" = 1 ]; then
          die "controller port $p is in use; choose another with KAFKA_CONTROLLER_PORT (or KAFKA_PORT)"
        fi
        die "port $p (node $id) is in use by something else; choose another KAFKA_PORT"
      fi
    done
  done
  if [ "$secure" = 1 ]; then bash "$repo/scripts/kafka/certs.sh" "$secure_dir"; fi
  for id in "$@"; do
    write_node_properties "$id" "$brokers" "$secure" "$acl"
    format_node_storage "$id" "$scram"
  done
  for id in "$@"; do start_node "$id" "$(heap_for "$brokers")"; done
  for id in "$@"; do wait_node_started "$id" "$(client_port_of "$id")" "$(cat "$(node_dir "$id")/broker.pid")"; done
  if [ "$acl" = 1 ]; then ensure_limited_user; fi
}

# Kafka's command-line tools (not among the broker's jars): only the kafka-tools jar itself, whose
# dependencies the broker's libs folder already holds. Fetched once, like the broker's jars.
tools="$cache/kafka/$version/tools"
fetch_tools() {
  [ -f "$tools/.complete" ] && return 0
  lock "$cache/kafka/.fetch-tools.lock"
  [ -f "$tools/.complete" ] && return 0
  say "resolving Kafka $version's command-line tools from Maven Central (once)"
  local tmp="$tools.tmp.$$" mvn_log="$cache/kafka/mvn-tools.log"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  if ! mvn -q -B -f "$repo/scripts/kafka/tools-pom.xml" -Dkafka.version="$version" dependency:copy-dependencies \
    -DoutputDirectory="$tmp" -DincludeScope=runtime -DexcludeTransitive=true >"$mvn_log" 2>&1 ||
    [ ! -f "$tmp/kafka-tools-$version.jar" ]; then
    rm -rf "$tmp"
    tail -20 "$mvn_log" >&2
    die "mvn could not resolve kafka-tools $version (full log: $mvn_log)"
  fi
  touch "$tmp/.complete"
  rm -rf "$tools"
  mv "$tmp" "$tools"
}

# Runs one of Kafka's tools (class, arguments) against node 1's PLAINTEXT listener, as the broker's
# super user; its output goes to the cluster's tools.log.
kafka_tool() {
  local class=$1
  shift
  java -Xmx256m -Dlog4j2.configurationFile="$log4j_config" -cp "$libs/*:$tools/*" "$class" --bootstrap-server "127.0.0.1:$port" "$@" \
    >>"$cluster_dir/tools.log" 2>&1 9>&- || { tail -20 "$cluster_dir/tools.log" >&2; die "$class $* failed (log: $cluster_dir/tools.log)"; }
}

# The SCRAM user "limited" and its one ACL (describe any topic), made once per cluster: both live
# in the cluster's metadata, which a purge deletes together with the marker.
ensure_limited_user() {
  local marker="$cluster_dir/acl.users"
  [ -f "$marker" ] && return 0
  [ -f "$tools/.complete" ] || die "Kafka's tools are not fetched (fetch_tools runs before the cluster lock is taken)"
  [ -s "$secure_dir/limited.password" ] || (umask 077 && openssl rand -hex 16 >"$secure_dir/limited.password")
  local password
  password=$(cat "$secure_dir/limited.password")
  # One mechanism per call: the broker refuses two changes to one user in a request.
  local mechanism
  for mechanism in SCRAM-SHA-256 SCRAM-SHA-512; do
    kafka_tool org.apache.kafka.tools.ConfigCommand --alter --entity-type users --entity-name limited \
      --add-config "$mechanism=[password=$password]"
  done
  kafka_tool org.apache.kafka.tools.AclCommand --add --allow-principal User:limited --operation Describe --topic '*'
  touch "$marker"
}

up() {
  local want_secure=0 want_acl=0 want_brokers=""
  while [ $# -gt 0 ]; do
    case "$1" in
      --secure) want_secure=1 ;;
      --acl) want_acl=1 ;;
      --brokers) [ $# -ge 2 ] || die "--brokers needs a node count"; want_brokers=$2; shift ;;
      --brokers=*) want_brokers=${1#--brokers=} ;;
      *) die "up takes only --secure, --acl and --brokers N (got: $1)" ;;
    esac
    shift
  done
  [ "$want_secure" = 0 ] || [ -z "$hosts" ] || die "--secure is not available with KAFKA_HOSTS (its certificates name 127.0.0.1 only)"
  [ "$want_acl" = 0 ] || [ "$want_secure" = 1 ] || die "--acl needs --secure (the ACLs name the SASL users)"
  [ -z "$want_brokers" ] || [[ $want_brokers =~ ^[1-9]$ ]] || die "--brokers takes a node count from 1 to 9 (got: $want_brokers)"
  command -v java >/dev/null || die "Java 17+ is needed (scripts/setup.sh checks what is missing)"
  fetch
  # Before the cluster's lock: lock() holds one lock at a time.
  if [ "$want_acl" = 1 ]; then fetch_tools; fi
  mkdir -p "$cluster_dir"
  touch "$cluster_dir/.kstream-kafka-run"
  lock "$cluster_dir/.lock"
  local started=$SECONDS brokers scram id pid

  # The storage decides the shape: its quorum and its SCRAM users were fixed when it was formatted.
  if [ -f "$(node_dir 1)/data/meta.properties" ]; then
    brokers=$(topology brokers)
    scram=$(topology scram)
    if [ -n "$want_brokers" ] && [ "$want_brokers" != "$brokers" ]; then
      die "$(node_host 1):$port holds a $brokers-node cluster (formatted so); to replace it: KAFKA_PORT=$port scripts/kafka.sh down --purge; or choose another KAFKA_PORT"
    fi
    if [ "$want_secure" = 1 ] && [ "$scram" != 1 ]; then
      die "the broker on $(node_host 1):$port was formatted without --secure, so it has no SCRAM users; to recreate it secured: KAFKA_PORT=$port scripts/kafka.sh down --purge (deletes its topics), or choose another KAFKA_PORT"
    fi
  else
    brokers=${want_brokers:-1}
    scram=$want_secure
  fi

  local running=() stopped=()
  for id in $(seq 1 "$brokers"); do
    if node_pid "$id" >/dev/null; then running+=("$id"); else stopped+=("$id"); fi
  done
  # Running nodes keep their listeners; nodes started now get the same ones, so a cluster is uniform.
  local secure=$want_secure acl=$want_acl
  if [ ${#running[@]} -gt 0 ]; then
    if node_is_secure "${running[0]}"; then secure=1; else secure=0; fi
    if node_has_acl "${running[0]}"; then acl=1; else acl=0; fi
    if [ "$want_secure" = 1 ] && [ "$secure" = 0 ]; then
      die "the broker on $(node_host 1):$port runs without the secure listeners; restart it: KAFKA_PORT=$port scripts/kafka.sh down, then up --secure"
    fi
    if [ "$want_acl" = 1 ] && [ "$acl" = 0 ]; then
      die "the broker on 127.0.0.1:$port runs without the authorizer; restart it: KAFKA_PORT=$port scripts/kafka.sh down, then up --secure --acl"
    fi
  fi

  if [ ${#stopped[@]} -eq 0 ]; then
    # Running already; it may still be starting (a caller that gave up waiting): wait for it too.
    local deadline=$((SECONDS + start_timeout)) client_port
    for id in "${running[@]}"; do
      pid=$(node_pid "$id") || die "node $id exited; see scripts/kafka.sh logs $id"
      client_port=$(client_port_of "$id")
      until broker_ready "$id" "$client_port"; do
        [ $SECONDS -lt $deadline ] || die "node $id (pid $pid) runs but does not answer on $(node_host "$id"):$client_port; see scripts/kafka.sh logs $id"
        alive "$pid" || die "node $id (pid $pid) exited; see scripts/kafka.sh logs $id"
        sleep 0.25
      done
    done
    if [ "$brokers" = 1 ]; then
      say "already running: Kafka $version on $(node_host 1):$port (pid $(node_pid 1))"
    else
      say "already running: Kafka $version, $brokers nodes on $(node_host 1):$(bootstrap_list "$brokers" client_port_of)"
    fi
    if [ "$secure" = 1 ]; then describe_secure 1; fi
    # An ACL broker whose start stopped before its users were made gets them now.
    if [ "$acl" = 1 ] && [ "$want_acl" = 1 ]; then ensure_limited_user; fi
    return 0
  fi

  if [ ${#running[@]} -eq 0 ] && kafka_answers 1 "$port"; then
    if [ "$brokers" = 1 ] && [ "$want_secure" = 0 ]; then
      # Another checkout's broker (or the user's own) serves this port: use it rather than fail.
      say "a Kafka broker not started from this checkout already answers on $(node_host 1):$port; using it"
      return 0
    fi
    # Its certificates, users and node layout are unknown here: it cannot stand in.
    die "a Kafka broker not started from this checkout already answers on $(node_host 1):$port; choose another KAFKA_PORT for --secure or --brokers"
  fi
  [ -f "$topology_file" ] || save_topology "$brokers" "$scram" "$secure" "$acl"
  save_topology "$brokers" "$(topology scram)" "$secure" "$acl"
  start_nodes "$brokers" "$secure" "$scram" "$acl" "${stopped[@]}"
  if [ "$brokers" = 1 ]; then
    say "Kafka $version is up on $(node_host 1):$port in $((SECONDS - started))s (pid $(node_pid 1); logs: scripts/kafka.sh logs)"
  else
    say "Kafka $version is up: $brokers nodes, bootstrap $(node_host 1):$(bootstrap_list "$brokers" client_port_of), in $((SECONDS - started))s (status: scripts/kafka.sh status)"
  fi
  if [ "$secure" = 1 ]; then describe_secure 1; fi
  if [ "$acl" = 1 ]; then say "acl: standard authorizer on; user limited (password in $secure_dir/limited.password) may only describe topics"; fi
}

# "9092,127.0.0.1:9102,127.0.0.1:9112": the given port function over nodes 1..N, as a broker list
# that follows a leading "<node 1's address>:".
bootstrap_list() {
  local id list=""
  for id in $(seq 1 "$1"); do list+="${list:+,$(node_host "$id"):}$("$2" "$id")"; done
  echo "$list"
}

# Args: node id. For failover tests: stop one node of a running cluster (--kill: SIGKILL, no clean
# shutdown), start it again with the settings of the last "up".
stop_node_command() {
  local id=${1:-} signal=TERM
  [[ $id =~ ^[1-9]$ ]] || die "stop-node takes a node id (1-9) and optionally --kill (got: ${id:-nothing})"
  case "${2:-}" in "") ;; --kill) signal=KILL ;; *) die "stop-node takes only --kill after the id (got: $2)" ;; esac
  [ -d "$(node_dir "$id")" ] || die "no node $id on $(node_host 1):$port (its folder $(node_dir "$id") does not exist)"
  lock "$cluster_dir/.lock"
  local stopped
  stopped=$(stop_nodes "$signal" "$id")
  if [ -n "$stopped" ]; then
    say "node $id stopped (pid ${stopped#* }$([ "$signal" = KILL ] && echo ", killed"))"
  else
    say "node $id was not running"
  fi
}

start_node_command() {
  local id=${1:-}
  [[ $id =~ ^[1-9]$ ]] || die "start-node takes a node id (1-9) (got: ${id:-nothing})"
  [ $# -le 1 ] || die "start-node takes only a node id (got: $*)"
  [ -f "$(node_dir "$id")/data/meta.properties" ] || die "node $id on $(node_host 1):$port was never formatted; start the cluster with scripts/kafka.sh up first"
  command -v java >/dev/null || die "Java 17+ is needed (scripts/setup.sh checks what is missing)"
  fetch
  if [ "$(topology acl)" = 1 ]; then fetch_tools; fi
  lock "$cluster_dir/.lock"
  local pid
  if pid=$(node_pid "$id"); then
    say "node $id already runs (pid $pid)"
    return 0
  fi
  local started=$SECONDS
  start_nodes "$(topology brokers)" "$(topology secure)" "$(topology scram)" "$(topology acl)" "$id"
  say "node $id is up on $(node_host "$id"):$(client_port_of "$id") in $((SECONDS - started))s (pid $(node_pid "$id"))"
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
  local nodes stopped line
  mapfile -t nodes < <(known_nodes)
  stopped=$(stop_nodes TERM "${nodes[@]}")
  if [ -z "$stopped" ]; then
    say "not running"
  elif [ "${#nodes[@]}" -le 1 ]; then
    say "stopped (pid ${stopped#* })"
  else
    while read -r line; do say "stopped node ${line% *} (pid ${line#* })"; done <<<"$stopped"
  fi
  if [ "$purge" = 1 ]; then
    # Only a folder this script made: KSTREAM_KAFKA_CACHE may point anywhere.
    [ -f "$cluster_dir/.kstream-kafka-run" ] || die "$cluster_dir was not made by kafka.sh; not deleting it"
    rm -rf "$cluster_dir"
    say "deleted $cluster_dir"
  fi
}

status() {
  local pid data brokers
  brokers=$(topology brokers)
  if [ "$brokers" = 1 ]; then
    data="$(node_dir 1)/data"
    if pid=$(node_pid 1); then
      local answers="answers requests"
      broker_ready 1 "$port" || answers="does NOT answer requests yet (starting or stuck; see scripts/kafka.sh logs)"
      echo "running: Kafka $version on $(node_host 1):$port (controller :$controller_port), pid $pid, $answers"
      if node_is_secure 1; then echo "secure:  SASL_SSL :$(sasl_port_of 1), SSL (mutual TLS) :$(ssl_port_of 1); certificates and passwords in $secure_dir"; fi
      if node_has_acl 1; then echo "acl:     standard authorizer; super users kstream and the TLS client; user limited (password in $secure_dir/limited.password) may only describe topics"; fi
      echo "data:    $data"
      return 0
    fi
    echo "stopped: Kafka $version, $(node_host 1):$port, data $data"
    if kafka_answers 1 "$port"; then echo "note:    a Kafka broker not started from this checkout answers on $(node_host 1):$port"; fi
    exit 3
  fi
  # A cluster: one line per node; exit 0 only when every node runs.
  local id up=0 client_port
  echo "cluster: Kafka $version, $brokers nodes, data under $cluster_dir"
  for id in $(seq 1 "$brokers"); do
    client_port=$(client_port_of "$id")
    if pid=$(node_pid "$id"); then
      local answers="answers requests"
      broker_ready "$id" "$client_port" || answers="does NOT answer requests yet"
      echo "node $id: running on $(node_host "$id"):$client_port (controller :$(controller_port_of "$id")), pid $pid, $answers"
      up=$((up + 1))
    else
      echo "node $id: stopped ($(node_host "$id"):$client_port)"
    fi
  done
  if [ "$(topology secure)" = 1 ]; then echo "secure:  SASL_SSL on client port + 2, SSL (mutual TLS) on + 3; certificates and passwords in $secure_dir"; fi
  [ "$up" = "$brokers" ] || exit 3
}

logs() {
  local follow=0 id=1 log_file
  while [ $# -gt 0 ]; do
    case "$1" in
      -f) follow=1 ;;
      [1-9]) id=$1 ;;
      *) die "logs takes only -f and a node id (got: $1)" ;;
    esac
    shift
  done
  log_file="$(node_dir "$id")/server.log"
  [ -f "$log_file" ] || die "no log yet at $log_file"
  if [ "$follow" = 1 ]; then tail -n 50 -F "$log_file"; else cat "$log_file"; fi
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
  stop-node) stop_node_command "$@" ;;
  start-node) start_node_command "$@" ;;
  help | -h | --help) usage ;;
  *) usage >&2; say "unknown command: $command"; exit 2 ;;
esac
