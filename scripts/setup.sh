#!/usr/bin/env bash
# Installs what kstream's scripts need and is missing, and says plainly what it cannot install.
# Idempotent, and silent on a machine that has everything. Used by scripts/test.sh and
# scripts/quickstart.sh; run it (bash scripts/setup.sh) or source it (it then returns its status
# and leaves the caller's shell options and directory alone).
#   needs, not installed here: Node.js + npm, Java 17+, Maven
#   installs: node_modules from package-lock.json (Bun comes from npm as a dev dependency),
#             kcat (Debian package, when run as root), Kafka's jars (scripts/kafka.sh fetch)
#   installs: prometheus_client, pyarrow, duckdb and duckdb-ext-httpfs (PyPI) into .cache/python,
#             for the tests' Prometheus format check, second Parquet reader and DuckDB over S3
#   builds:   versitygw, the tests' S3 server, with the machine's Go (scripts/s3.sh build; cached
#             under .cache/s3/), when Go is present

# The body runs in a subshell, so "exit" and "set -e" stay inside it even when sourced.
kstream_setup() (
  set -euo pipefail
  cd "$(dirname "${BASH_SOURCE[0]}")/.."

  say() { echo "setup: $*" >&2; }
  missing() { say "$1"; exit 1; }

  command -v node >/dev/null || missing "Node.js is needed (https://nodejs.org, or: apt-get install nodejs npm)"
  command -v npm >/dev/null || missing "npm is needed (it comes with Node.js; apt-get install npm)"
  command -v java >/dev/null || missing "Java 17 or newer is needed (e.g. apt-get install openjdk-17-jre-headless)"
  # "17.0.15", "21", or "1.8.0_392" (Java 8 reports its major version as 1.8)
  local java_major
  java_major=$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1)
  [ "${java_major:-0}" -ge 17 ] || missing "Java 17 or newer is needed (found: $(java -version 2>&1 | head -1))"
  command -v mvn >/dev/null || missing "Maven is needed to fetch Kafka from Maven Central (e.g. apt-get install maven)"

  # Dependencies exactly as locked. They are current when this script last installed this very
  # package-lock.json (the stamp holds its checksum: a git checkout that only touches the file's
  # time does not reinstall), or when npm's own record of the tree (node_modules/.package-lock.json)
  # is newer than package-lock.json (someone ran npm install). npm ci replaces node_modules, so it
  # must not run needlessly while others use the checkout.
  local stamp=node_modules/.kstream-installed lock_sum
  lock_sum=$(cksum <package-lock.json)
  if [ "$(cat "$stamp" 2>/dev/null)" != "$lock_sum" ]; then
    if [ -f node_modules/.package-lock.json ] && [ ! package-lock.json -nt node_modules/.package-lock.json ]; then
      echo "$lock_sum" >"$stamp"
    else
      say "installing dependencies (npm ci)"
      local npm_log
      npm_log=$(mktemp)
      if ! npm ci --no-audit --no-fund --loglevel=error >"$npm_log" 2>&1; then
        tail -30 "$npm_log" >&2
        rm -f "$npm_log"
        missing "npm ci failed"
      fi
      rm -f "$npm_log"
      echo "$lock_sum" >"$stamp"
    fi
  fi
  if ! node_modules/.bin/bun --version >/dev/null 2>&1; then
    # npm skips install scripts with --ignore-scripts (or that setting in .npmrc); then bin/bun.exe
    # is a placeholder. Bun's own install script puts the platform's binary there.
    say "installing Bun's binary (node_modules/bun/install.js)"
    (cd node_modules/bun && node install.js >/dev/null 2>&1) || true
    node_modules/.bin/bun --version >/dev/null 2>&1 ||
      missing "Bun did not install from npm: node_modules/.bin/bun does not run (try: rm -rf node_modules && npm ci)"
  fi

  if ! command -v kcat >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      say "installing kcat (Debian package)"
      { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq kcat; } >/dev/null 2>&1 ||
        missing "apt-get could not install kcat; install it yourself (it is kafkacat on older releases)"
    else
      missing "kcat is needed by the tests and benchmarks: sudo apt-get install kcat (or brew install kcat)"
    fi
  fi

  # The tests check `metrics --prometheus` with the Prometheus project's own Python parser
  # (prometheus_client), in a virtualenv of our own so the machine's Python stays untouched.
  local venv=.cache/python prom_version=0.26.0
  if ! "$venv/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('prometheus_client') != '$prom_version')" 2>/dev/null; then
    command -v python3 >/dev/null || missing "Python 3 is needed by the tests (the Prometheus format check): apt-get install python3 python3-venv"
    say "installing prometheus_client $prom_version (PyPI) into $venv"
    { python3 -m venv "$venv" && "$venv/bin/pip" install -q --disable-pip-version-check "prometheus_client==$prom_version"; } >/dev/null 2>&1 ||
      missing "could not install prometheus_client into $venv (python3 -m venv needs the python3-venv package on Debian)"
  fi

  # pyarrow is the tests' second Parquet reader beside DuckDB, for every codec kstream writes and
  # for Parquet on S3 (DuckDB's httpfs cannot be installed offline). Checked without importing
  # pyarrow, which takes a second.
  local pyarrow_version=26.0.1
  if ! "$venv/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('pyarrow') != '$pyarrow_version')" 2>/dev/null; then
    say "installing pyarrow $pyarrow_version (PyPI) into $venv"
    "$venv/bin/pip" install -q --disable-pip-version-check "pyarrow==$pyarrow_version" >/dev/null 2>&1 ||
      missing "could not install pyarrow $pyarrow_version into $venv"
  fi

  # DuckDB over S3 for the tests of Parquet on S3: DuckDB's own extension server is out of reach
  # here, so httpfs comes from PyPI (duckdb-ext-httpfs, built for exactly this DuckDB version).
  local duckdb_version=1.4.4 httpfs_version=1.4.4.20260205
  if ! "$venv/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('duckdb') != '$duckdb_version' or m.version('duckdb-ext-httpfs') != '$httpfs_version')" 2>/dev/null; then
    say "installing duckdb $duckdb_version and duckdb-ext-httpfs $httpfs_version (PyPI) into $venv"
    "$venv/bin/pip" install -q --disable-pip-version-check "duckdb==$duckdb_version" "duckdb-ext-httpfs==$httpfs_version" >/dev/null 2>&1 ||
      missing "could not install duckdb $duckdb_version with duckdb-ext-httpfs into $venv"
  fi

  bash scripts/kafka.sh fetch
  # The S3 tests' server. Without Go they fail with s3.sh's message saying so; the rest still runs.
  if command -v go >/dev/null; then bash scripts/s3.sh build; else say "Go not found: scripts/s3.sh cannot build the S3 test server (https://go.dev/dl)"; fi
)

kstream_setup
