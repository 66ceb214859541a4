#!/usr/bin/env bash
# Release builds: kstream cross-compiled for every platform it ships on, each packed as
# dist/release/kstream-<version>-<os>-<arch>.tar.gz (one folder holding the binary, the source maps
# of its three entry points, kstream.map, clean-worker.js.map and scan-worker.js.map, and the README), with
# dist/release/SHA256SUMS over the archives (check with
# `cd dist/release && sha256sum -c SHA256SUMS`).
#
#   scripts/release.sh                      all four targets
#   scripts/release.sh linux-x64 …          only these (linux-x64 linux-arm64 darwin-x64 darwin-arm64)
#   RELEASE_DIR=DIR scripts/release.sh …    write the archives to DIR instead of dist/release
#
# Bun builds another platform's binary from that platform's Bun runtime, which it fetches the first
# time from the npm registry (package @oven/bun-<os>-<arch>) and keeps under ~/.bun/install/cache.
# Where the registry cannot be reached, set BUN_RUNTIMES to a folder holding those runtimes as
# <folder>/bun-<os>-<arch>/bin/bun (e.g. unpacked from `npm pack @oven/bun-darwin-aarch64@<bun version>`)
# and they are used instead (bun build --compile-executable-path). A target that cannot be built
# is named with the reason and the script exits 1; the others are still packed.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
bun=${BUN:-$repo/node_modules/.bin/bun}
version=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' package.json | head -1)
out=${RELEASE_DIR:-dist/release}
all_targets=(linux-x64 linux-arm64 darwin-x64 darwin-arm64)
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=("${all_targets[@]}")

# kstream's names (Node's os-arch) -> Bun's --target names and its npm runtime packages.
bun_target() {
  case $1 in
    linux-x64) echo bun-linux-x64 ;;
    linux-arm64) echo bun-linux-arm64 ;;
    darwin-x64) echo bun-darwin-x64 ;;
    darwin-arm64) echo bun-darwin-arm64 ;;
    *) return 1 ;;
  esac
}
runtime_package() { case $1 in *-arm64) echo "bun-${1%-arm64}-aarch64" ;; *) echo "bun-$1" ;; esac; }

mkdir -p "$out"
rm -f "$out/SHA256SUMS"
built=()
failed=()
for target in "${targets[@]}"; do
  if ! bt=$(bun_target "$target"); then
    failed+=("$target: not a release target (choose from ${all_targets[*]})")
    continue
  fi
  name="kstream-$version-$target"
  stage=$(mktemp -d)
  extra=()
  runtime="${BUN_RUNTIMES:-}/$(runtime_package "$target")/bin/bun"
  [[ -n ${BUN_RUNTIMES:-} && -x $runtime ]] && extra+=("--compile-executable-path=$runtime")
  echo "== $name (--target=$bt)"
  if log=$(bash scripts/build.sh "$stage/$name/kstream" "--target=$bt" "${extra[@]}" 2>&1); then
    cp README.md "$stage/$name/"
    # Owner, group and mtime fixed so the same binary packs to the same archive.
    tar -C "$stage" --owner=0 --group=0 --numeric-owner --mtime=@0 --sort=name -czf "$out/$name.tar.gz" "$name"
    built+=("$name.tar.gz")
  else
    failed+=("$target: bun build --target=$bt failed: $(printf '%s' "$log" | grep -v '^\s*$' | tail -1)")
  fi
  rm -rf "$stage"
done

if [[ ${#built[@]} -gt 0 ]]; then
  (cd "$out" && sha256sum "${built[@]}" > SHA256SUMS)
  echo "== $out"
  (cd "$out" && ls -l "${built[@]}" SHA256SUMS)
fi
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "release.sh: could not build ${#failed[@]} of ${#targets[@]} targets:" >&2
  printf '  %s\n' "${failed[@]}" >&2
  exit 1
fi
