#!/usr/bin/env bash
# A real S3-compatible server on 127.0.0.1 for kstream's tests: versitygw (Apache-2.0) with its posix
# backend, built once from source with this machine's Go through the Go module proxy. It implements
# multipart upload and create-only PUTs (If-None-Match: *), which kstream's Parquet writes rely on.
#
#   scripts/s3.sh build      build versitygw into $KSTREAM_S3_CACHE/s3/bin (once; cached)
#   scripts/s3.sh up         start the server unless it runs; wait until it answers; make the bucket
#   scripts/s3.sh down [--purge]   stop it; --purge also deletes its objects and credentials
#   scripts/s3.sh status     running and answering (exit 0) or not (exit 3), pid, endpoint, files
#   scripts/s3.sh logs [-f]  the server's log
#
# The server keeps its objects under $KSTREAM_S3_CACHE/s3-run/<port>/data/ (<host>-<port> off loopback) (one folder per bucket,
# object metadata in extended attributes: the filesystem must support user xattrs, as ext4 does).
# Its access key and secret are made on the first "up" and kept, readable by this user only, in
#   s3-run/<port>/access_key_id  and  s3-run/<port>/secret_access_key
# "up" prints where; the secret itself is never printed. Clients find it there or in the env file
# s3-run/<port>/env (AWS_ENDPOINT_URL_S3, AWS_ACCESS_KEY_ID, AWS_REGION, S3_BUCKET; no secret).
#
# Environment (all optional):
#   S3_PORT              the port on 127.0.0.1 (default 9000); one server per port
#   S3_HOST              the address to bind and advertise (default 127.0.0.1; scripts/hosts.sh sets
#                        the S3 host's address when it starts the server inside its namespace)
#   S3_BUCKET            the bucket "up" creates (default kstream)
#   S3_REGION            the region the server signs for (default us-east-1)
#   S3_START_TIMEOUT     seconds to wait for the server to answer (default 30)
#   KSTREAM_S3_CACHE     where the build and the data live (default <repo>/.cache, git-ignored):
#                        the binary in s3/bin, Go's module and build caches in s3/gomod, s3/gocache
# The versitygw version is pinned here only.
set -euo pipefail

versitygw_version=v1.8.0
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=${KSTREAM_S3_CACHE:-$repo/.cache}
build_dir="$cache/s3"
binary="$build_dir/bin/versitygw"
stamp="$build_dir/bin/.version"
port=${S3_PORT:-9000}
host=${S3_HOST:-127.0.0.1}
bucket=${S3_BUCKET:-kstream}
region=${S3_REGION:-us-east-1}
start_timeout=${S3_START_TIMEOUT:-30}
# A server on another address (scripts/hosts.sh) is not the loopback one of the same port.
if [ "$host" = 127.0.0.1 ]; then run_dir="$cache/s3-run/$port"; else run_dir="$cache/s3-run/$host-$port"; fi
pid_file="$run_dir/versitygw.pid"
log_file="$run_dir/server.log"

say() { echo "s3.sh: $*" >&2; }
die() { say "$*"; exit 1; }

[[ $port =~ ^[0-9]+$ ]] || die "S3_PORT must be a port number (got: $port)"
[[ $bucket =~ ^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$ ]] || die "S3_BUCKET must be a valid bucket name: 3-63 of a-z 0-9 . - (got: $bucket)"

# One caller at a time per resource (a test run and a terminal may both call "up"); fd 9 must not
# leak into the server, which would then hold the lock for its whole life.
lock() {
  mkdir -p "$(dirname "$1")"
  command -v flock >/dev/null || return 0
  exec 9>"$1"
  flock -w 600 9 || die "another s3.sh holds $1; gave up waiting"
}

# Builds versitygw with the machine's Go, into a temporary folder renamed when complete, so an
# interrupted build counts as missing and a warm machine never runs Go.
build() {
  [ -x "$binary" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$versitygw_version" ] && return 0
  lock "$build_dir/.build.lock"
  [ -x "$binary" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$versitygw_version" ] && return 0
  command -v go >/dev/null || die "Go is needed to build versitygw $versitygw_version (https://go.dev/dl, or apt-get install golang)"
  say "building versitygw $versitygw_version with $(go env GOVERSION) (once; a minute or two)"
  local tmp="$build_dir/bin.tmp.$$" build_log="$build_dir/build.log"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  # Module and build caches of our own, writable (so "rm -rf .cache" works), the machine's Go only.
  if ! GOBIN="$tmp" GOMODCACHE="$build_dir/gomod" GOCACHE="$build_dir/gocache" GOFLAGS=-modcacherw GOTOOLCHAIN=local \
    nice -n 10 go install "github.com/versity/versitygw/cmd/versitygw@$versitygw_version" >"$build_log" 2>&1 ||
    [ ! -x "$tmp/versitygw" ]; then
    rm -rf "$tmp"
    tail -20 "$build_log" >&2
    die "go install of versitygw $versitygw_version failed (full log: $build_log)"
  fi
  echo "$versitygw_version" >"$tmp/.version"
  rm -rf "$build_dir/bin"
  mv "$tmp" "$build_dir/bin"
}

# The pid of this port's server, if that process is alive and really is it (a pid file can outlive
# its process and the pid be reused).
server_pid() {
  local pid
  [ -f "$pid_file" ] || return 1
  pid=$(cat "$pid_file")
  if [[ $pid =~ ^[0-9]+$ ]] && tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF "posix $run_dir/data"; then
    echo "$pid"
    return 0
  fi
  rm -f "$pid_file"
  return 1
}

# curl signs with SigV4 itself (every request here has an empty body, whose SHA-256 S3 wants in a
# header of its own); the credentials go in through a config on a pipe, not the command
# line (which every user can read in /proc).
empty_sha256=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
signed_curl() {
  curl --silent --show-error --max-time 5 -K <(printf 'user = "%s:%s"\n' "$(cat "$run_dir/access_key_id")" "$(cat "$run_dir/secret_access_key")") \
    --aws-sigv4 "aws:amz:$region:s3" -H "x-amz-content-sha256: $empty_sha256" "$@"
}

# True when an S3 server answers signed requests on the port with our credentials: ListBuckets.
s3_answers() {
  [ -f "$run_dir/secret_access_key" ] || return 1
  local code
  code=$(signed_curl -o /dev/null -w '%{http_code}' "http://$host:$port/" 2>/dev/null) || return 1
  [ "$code" = 200 ]
}

port_taken() { (exec 3<>"/dev/tcp/$host/$1") 2>/dev/null; }

# 20 bytes for the key id (as AWS's are), 40 for the secret, from the kernel's random source.
make_credentials() {
  [ -s "$run_dir/access_key_id" ] && [ -s "$run_dir/secret_access_key" ] && return 0
  (
    umask 077
    echo "KS$(head -c 4096 /dev/urandom | tr -dc 'A-Z0-9' | head -c 18)" >"$run_dir/access_key_id"
    head -c 4096 /dev/urandom | tr -dc 'A-Za-z0-9' | head -c 40 >"$run_dir/secret_access_key"
    echo >>"$run_dir/secret_access_key"
  )
  [ "$(wc -c <"$run_dir/access_key_id")" = 21 ] && [ "$(wc -c <"$run_dir/secret_access_key")" = 41 ] || die "could not make a 40-character secret in $run_dir"
}

write_env_file() {
  cat >"$run_dir/env" <<ENV
# written by scripts/s3.sh up; the secret is in $run_dir/secret_access_key
AWS_ENDPOINT_URL_S3=http://$host:$port
AWS_ACCESS_KEY_ID=$(cat "$run_dir/access_key_id")
AWS_REGION=$region
S3_BUCKET=$bucket
ENV
}

# CreateBucket, unless it exists (versitygw answers 409 BucketAlreadyOwnedByYou then).
make_bucket() {
  local code
  code=$(signed_curl -o "$run_dir/create-bucket.xml" -w '%{http_code}' -X PUT "http://$host:$port/$bucket") ||
    die "CreateBucket $bucket on http://$host:$port failed (curl)"
  case "$code" in
    200 | 409) ;;
    *) die "CreateBucket $bucket on http://$host:$port answered $code: $(cat "$run_dir/create-bucket.xml")" ;;
  esac
}

up() {
  [ $# -eq 0 ] || die "up takes no arguments (got: $*)"
  command -v curl >/dev/null || die "curl is needed (apt-get install curl)"
  build
  mkdir -p "$run_dir/data"
  touch "$run_dir/.kstream-s3-run"
  lock "$run_dir/.lock"
  make_credentials
  local pid started=$SECONDS
  if pid=$(server_pid); then
    local deadline=$((SECONDS + start_timeout))
    until s3_answers; do
      [ $SECONDS -lt $deadline ] || die "versitygw (pid $pid) runs but does not answer on http://$host:$port; see scripts/s3.sh logs"
      sleep 0.2
    done
    make_bucket
    say "already running: versitygw on http://$host:$port (pid $pid), bucket $bucket"
    return 0
  fi
  port_taken "$port" && die "port $port on $host is in use by something else; choose another S3_PORT"
  if [ -f "$log_file" ]; then mv -f "$log_file" "$run_dir/server.previous.log"; fi
  # The credentials reach the server through its environment, not its command line.
  ROOT_ACCESS_KEY="$(cat "$run_dir/access_key_id")" ROOT_SECRET_KEY="$(cat "$run_dir/secret_access_key")" \
    nohup "$binary" --port "$host:$port" --region "$region" posix "$run_dir/data" </dev/null >"$log_file" 2>&1 9>&- &
  pid=$!
  echo "$pid" >"$pid_file"
  local deadline=$((SECONDS + start_timeout))
  until s3_answers; do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$pid_file"
      tail -15 "$log_file" >&2
      die "versitygw exited during start-up (full log: $log_file)"
    fi
    if [ $SECONDS -ge $deadline ]; then
      kill "$pid" 2>/dev/null || true
      rm -f "$pid_file"
      tail -15 "$log_file" >&2
      die "versitygw did not answer on http://$host:$port within ${start_timeout}s (S3_START_TIMEOUT); stopped it"
    fi
    sleep 0.2
  done
  make_bucket
  write_env_file
  say "versitygw $versitygw_version is up on http://$host:$port in $((SECONDS - started))s (pid $pid), bucket $bucket, region $region"
  say "credentials: key id in $run_dir/access_key_id, secret in $run_dir/secret_access_key (env: $run_dir/env)"
}

down() {
  local purge=0
  case "${1:-}" in "") ;; --purge) purge=1 ;; *) die "down takes only --purge (got: $1)" ;; esac
  [ -d "$run_dir" ] || { say "not running"; return 0; }
  lock "$run_dir/.lock"
  local pid
  if pid=$(server_pid); then
    kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + 10))
    while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      say "warning: versitygw (pid $pid) did not stop within 10s; killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$pid_file"
    say "stopped (pid $pid)"
  else
    say "not running"
  fi
  if [ "$purge" = 1 ]; then
    # Only a folder this script made: KSTREAM_S3_CACHE may point anywhere.
    [ -f "$run_dir/.kstream-s3-run" ] || die "$run_dir was not made by s3.sh; not deleting it"
    rm -rf "$run_dir"
    say "deleted $run_dir"
  fi
}

status() {
  local pid
  if pid=$(server_pid); then
    if s3_answers; then
      echo "running: versitygw $versitygw_version on http://$host:$port, pid $pid, answers requests"
      echo "bucket:  $bucket (region $region); credentials in $run_dir"
      echo "data:    $run_dir/data"
      return 0
    fi
    echo "running: versitygw on http://$host:$port, pid $pid, does NOT answer signed requests (starting or stuck; see scripts/s3.sh logs)"
    exit 3
  fi
  echo "stopped: versitygw, http://$host:$port, data $run_dir/data"
  exit 3
}

logs() {
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
  build) build ;;
  up) up "$@" ;;
  down) down "$@" ;;
  status) status ;;
  logs) logs "$@" ;;
  help | -h | --help) usage ;;
  *) usage >&2; say "unknown command: $command"; exit 2 ;;
esac
