#!/usr/bin/env bash
# Installs what kstream's scripts need and is missing, and says what it cannot install. Idempotent
# and quiet on a machine that has everything. Used by scripts/test.sh and scripts/quickstart.sh.
#   needs (not installed here): Node.js + npm, Java 17+, Maven
#   installs: node_modules from package-lock.json (Bun comes from npm), kcat (Debian), Kafka's jars
set -euo pipefail
cd "$(dirname "$0")/.."

say() { echo "setup: $*" >&2; }
missing() { say "$1"; exit 1; }

command -v node >/dev/null || missing "Node.js is needed (https://nodejs.org or your package manager)"
command -v npm >/dev/null || missing "npm is needed (it comes with Node.js)"
command -v java >/dev/null || missing "Java 17 or newer is needed (e.g. apt-get install openjdk-17-jre-headless)"
java_major=$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1)
[ "${java_major:-0}" -ge 17 ] || missing "Java 17 or newer is needed (found ${java_major:-unknown})"
command -v mvn >/dev/null || missing "Maven is needed to fetch Kafka from Maven Central (e.g. apt-get install maven)"

# Dependencies, exactly as locked. A stamp newer than the lockfile means they are in place.
stamp=node_modules/.kstream-installed
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ] || [ ! -x node_modules/.bin/bun ]; then
  say "installing dependencies (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
  touch "$stamp"
fi
if ! node_modules/.bin/bun --version >/dev/null 2>&1; then
  # npm may skip bun's install script; it places the platform binary where bin/bun.exe points.
  (cd node_modules/bun && node install.js >/dev/null) || missing "Bun did not install from npm (node_modules/bun)"
fi

if ! command -v kcat >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing kcat (Debian package)"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq kcat; } >/dev/null 2>&1 ||
      missing "apt-get could not install kcat"
  else
    missing "kcat is needed by the tests: apt-get install kcat (as root)"
  fi
fi

bash scripts/kafka.sh fetch
