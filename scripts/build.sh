#!/usr/bin/env bash
# Compiles kstream into one binary with its build facts baked in (what `kstream --version` prints):
# the version from package.json, the git commit ("unknown" outside a git checkout, "+dirty" when
# the work tree has uncommitted changes) and the build date (UTC). Bun's version is read at run time.
#
#   scripts/build.sh [OUTFILE] [bun build options…]     default OUTFILE: dist/kstream
#
# `bun run build` runs this; scripts/release.sh calls it once per --target.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
bun=${BUN:-$repo/node_modules/.bin/bun}
[[ -x $bun ]] || bun=$(command -v bun)
outfile=${1:-dist/kstream}
shift || true

version=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' package.json | head -1)
if commit=$(git -C "$repo" rev-parse --short=12 HEAD 2>/dev/null); then
  git -C "$repo" diff --quiet HEAD -- 2>/dev/null || commit="$commit+dirty"
else
  commit=unknown
fi
# SOURCE_DATE_EPOCH (reproducible builds) wins over the clock.
built=$(date -u ${SOURCE_DATE_EPOCH:+-d "@$SOURCE_DATE_EPOCH"} +%Y-%m-%dT%H:%M:%SZ)

# The clean and scan workers are entry points of their own: a compiled binary holds only what is listed here.
exec "$bun" build --compile --minify --sourcemap src/main.ts src/stream/clean-worker.ts src/input/scan-worker.ts --outfile "$outfile" \
  --define "KSTREAM_VERSION=\"$version\"" \
  --define "KSTREAM_COMMIT=\"$commit\"" \
  --define "KSTREAM_BUILT=\"$built\"" \
  "$@"
