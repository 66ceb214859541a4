#!/usr/bin/env bash
# Several hosts on one machine, for tests of kstream beyond one machine: Linux network namespaces,
# each with its own address, joined by a bridge, and nothing routed to or from anything else.
#
#   scripts/hosts.sh up              build the network (idempotent)
#   scripts/hosts.sh down            stop every process inside it, then delete it
#   scripts/hosts.sh status          each host, its address and link; exit 0 when all are up, 3 if not
#   scripts/hosts.sh exec HOST CMD…  run CMD inside HOST's namespace (it sees only that network)
#   scripts/hosts.sh cut HOST        unplug HOST from the bridge (its link goes down; for fault tests)
#   scripts/hosts.sh heal HOST       plug it in again
#   scripts/hosts.sh kafka up|down|status   a 3-node Kafka cluster, node i inside b<i> on its
#                                    address, port 9092 (scripts/kafka.sh with KAFKA_HOSTS/KAFKA_NETNS)
#   scripts/hosts.sh s3 up|down|status      versitygw inside s3, on its address, port 9000
#
# Hosts and addresses (198.18.0.0/24, from 198.18.0.0/15, the range RFC 2544 reserves for
# benchmark networks, so it can never be anyone's real address):
#   b1 b2 b3   198.18.0.11-13   Kafka brokers            namespaces kstream-b1..b3
#   s3         198.18.0.20      the S3 server            kstream-s3
#   c1 c2 c3   198.18.0.31-33   stream-clean processes   kstream-c1..c3
# Each host's eth0 is one end of a veth pair whose other end is a port of the bridge "br0". The
# bridge lives in a namespace of its own, kstream-net, which has no address and no route: the
# machine's own namespace gets no interface, address or route, no host has a default route, nothing
# is forwarded or NATed, so a process in a host reaches the other hosts and nothing else. While the
# network is up, the machine's own namespace refuses 198.18.0.0/15 (an "unreachable" route), so a
# stray probe from outside the hosts fails at once instead of leaving by the default route.
#
# Needs root and iproute2 ("ip netns"); where either is missing every command says so and exits 4,
# which tests treat as "skip". Environment: KSTREAM_HOSTS_C (number of stream-clean hosts, 1-3,
# default 3).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
prefix=kstream-
net_ns=${prefix}net
bridge=br0
clean_hosts=${KSTREAM_HOSTS_C:-3}
kafka_port=9092
s3_port=9000
# The whole RFC 2544 block, refused in the machine's own namespace while the network is up.
guard_range=198.18.0.0/15

say() { echo "hosts.sh: $*" >&2; }
die() { say "$*"; exit 1; }
cannot() { say "$*"; exit 4; }

[[ $clean_hosts =~ ^[1-3]$ ]] || die "KSTREAM_HOSTS_C must be 1, 2 or 3 (got: $clean_hosts)"

# Host name -> address; the list in the order they are made.
address_of() {
  case "$1" in
    b[1-3]) echo "198.18.0.1${1#b}" ;;
    s3) echo 198.18.0.20 ;;
    c[1-3]) echo "198.18.0.3${1#c}" ;;
    *) die "no host $1 (hosts: $(all_hosts | tr '\n' ' '))" ;;
  esac
}
all_hosts() {
  echo b1; echo b2; echo b3; echo s3
  local i
  for i in $(seq 1 "$clean_hosts"); do echo "c$i"; done
}
is_host() { all_hosts | grep -x "$1" >/dev/null; }  # not -q: an early exit would fail the pipe (pipefail)

preflight() {
  [ "$(id -u)" = 0 ] || cannot "network namespaces need root (this is uid $(id -u)); skipping"
  command -v ip >/dev/null || cannot "iproute2 (ip) is not installed; skipping"
  ip netns list >/dev/null 2>&1 || cannot "'ip netns' does not work here ($(ip netns list 2>&1 | head -1)); skipping"
}

ns_exists() { ip netns list | awk -v ns="$1" '$1 == ns {found = 1} END {exit !found}'; }

make_ns() {
  ns_exists "$1" || ip netns add "$1"
  ip -n "$1" link set lo up
}

up() {
  preflight
  make_ns "$net_ns"
  if ! ip -n "$net_ns" link show "$bridge" >/dev/null 2>&1; then
    ip -n "$net_ns" link add "$bridge" type bridge
  fi
  ip -n "$net_ns" link set "$bridge" up
  # The bridge's own namespace forwards nothing at layer 3: it has no addresses to forward between.
  ip netns exec "$net_ns" sysctl -qw net.ipv4.ip_forward=0 net.ipv6.conf.all.disable_ipv6=1
  # A guard in the machine's own namespace: its default route would otherwise carry a stray
  # packet for a test host's address (a probe run outside `exec`) off the machine. An
  # "unreachable" route refuses such traffic at once (EHOSTUNREACH) and routes nothing.
  ip route replace unreachable "$guard_range"
  local host ns
  for host in $(all_hosts); do
    ns=$prefix$host
    make_ns "$ns"
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
    # Made inside the bridge's namespace with the peer put straight into the host's: no end of the
    # pair ever appears in the machine's own namespace.
    if ! ip -n "$net_ns" link show "v-$host" >/dev/null 2>&1; then
      ip -n "$ns" link del eth0 2>/dev/null || true
      ip -n "$net_ns" link add "v-$host" type veth peer name eth0 netns "$ns"
    fi
    ip -n "$net_ns" link set "v-$host" master "$bridge" up
    ip -n "$ns" addr replace "$(address_of "$host")/24" dev eth0
    ip -n "$ns" link set eth0 up
  done
  say "up: $(all_hosts | while read -r h; do printf '%s=%s ' "$h" "$(address_of "$h")"; done)(bridge $bridge in $net_ns; nothing routed outside 198.18.0.0/24)"
}

# Stops what runs inside a namespace: SIGTERM, then SIGKILL after 10 s. Only namespaces of this
# script, so only processes started in them on purpose.
stop_inside() {
  local ns=$1 pids deadline
  pids=$(ip netns pids "$ns" 2>/dev/null | tr '\n' ' ')
  [ -n "${pids// /}" ] || return 0
  say "stopping processes in $ns: $pids"
  # shellcheck disable=SC2086
  kill -TERM $pids 2>/dev/null || true
  deadline=$((SECONDS + 10))
  while [ -n "$(ip netns pids "$ns" 2>/dev/null)" ] && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
  pids=$(ip netns pids "$ns" 2>/dev/null | tr '\n' ' ')
  # shellcheck disable=SC2086
  if [ -n "${pids// /}" ]; then kill -KILL $pids 2>/dev/null || true; fi
}

down() {
  preflight
  local host ns
  for host in b1 b2 b3 s3 c1 c2 c3; do
    ns=$prefix$host
    ns_exists "$ns" || continue
    stop_inside "$ns"
    ip netns del "$ns"
  done
  if ns_exists "$net_ns"; then ip netns del "$net_ns"; fi
  ip route del unreachable "$guard_range" 2>/dev/null || true
  say "down: namespaces deleted"
}

status() {
  preflight
  local host ns up=0 total=0 state
  if ns_exists "$net_ns"; then echo "bridge:  $bridge in $net_ns"; else echo "bridge:  absent"; fi
  for host in $(all_hosts); do
    total=$((total + 1))
    ns=$prefix$host
    if ! ns_exists "$ns"; then
      echo "$host:      absent"
      continue
    fi
    state=$(ip -n "$net_ns" -o link show "v-$host" 2>/dev/null | grep -q 'state UP\|,UP' && echo plugged || echo CUT)
    echo "$host:      $ns $(ip -n "$ns" -4 -o addr show dev eth0 2>/dev/null | awk '{print $4}') $state, $(ip netns pids "$ns" | wc -l) processes"
    [ "$state" = plugged ] && up=$((up + 1))
  done
  [ "$up" = "$total" ] || exit 3
}

need_host() {
  [ -n "${1:-}" ] || die "which host? ($(all_hosts | tr '\n' ' '))"
  is_host "$1" || die "no host $1 (hosts: $(all_hosts | tr '\n' ' '))"
  ns_exists "$prefix$1" || die "host $1 does not exist; run scripts/hosts.sh up first"
}

exec_in() {
  preflight
  local host=${1:-}
  need_host "$host"
  shift
  [ $# -gt 0 ] || die "exec $host needs a command"
  exec ip netns exec "$prefix$host" "$@"
}

# Down at the bridge's end, as if the cable were pulled at the switch: the host keeps its address
# and its processes, and every packet to or from it is lost.
cut() { preflight; need_host "${1:-}"; ip -n "$net_ns" link set "v-$1" down; say "cut $1 ($(address_of "$1"))"; }
heal() { preflight; need_host "${1:-}"; ip -n "$net_ns" link set "v-$1" up; say "healed $1 ($(address_of "$1"))"; }

kafka() {
  preflight
  local action=${1:-}
  case "$action" in up | down | status) ;; *) die "kafka takes up, down or status (got: ${action:-nothing})" ;; esac
  shift
  local args=()
  if [ "$action" = up ]; then
    for host in b1 b2 b3; do need_host "$host"; done
    args=(--brokers 3)
  fi
  KAFKA_PORT=$kafka_port KAFKA_HOSTS="$(address_of b1),$(address_of b2),$(address_of b3)" KAFKA_NETNS=${prefix}b \
    bash "$repo/scripts/kafka.sh" "$action" "${args[@]}" "$@"
}

s3() {
  preflight
  local action=${1:-}
  case "$action" in up | down | status) ;; *) die "s3 takes up, down or status (got: ${action:-nothing})" ;; esac
  shift
  [ "$action" != up ] || need_host s3
  # The whole of s3.sh runs in the namespace: the server binds there and its checks talk to it there.
  ip netns exec "${prefix}s3" env S3_HOST="$(address_of s3)" S3_PORT=$s3_port KSTREAM_S3_CACHE="${KSTREAM_S3_CACHE:-$repo/.cache}" \
    bash "$repo/scripts/s3.sh" "$action" "$@"
}

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }

command=${1:-help}
[ $# -eq 0 ] || shift
case "$command" in
  up) up ;;
  down) down ;;
  status) status ;;
  exec) exec_in "$@" ;;
  cut) cut "$@" ;;
  heal) heal "$@" ;;
  kafka) kafka "$@" ;;
  s3) s3 "$@" ;;
  help | -h | --help) usage ;;
  *) usage >&2; say "unknown command: $command"; exit 2 ;;
esac
