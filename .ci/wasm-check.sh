#!/usr/bin/env bash
# CI: rebuild tspod's WebAssembly core with Debian 12's toolchain and fail if the
# bytes differ from the committed wasm/dist. Run as root on Debian 12 with the npm
# dependencies installed. See wasm/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
# Debian's rustc 1.63 + wasm32 std, rust-lld, clang-14 for zstd's C decoder.
PACKAGES=(rustc cargo libstd-rust-dev-wasm32 lld-14 clang-14 llvm-14)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
# Debian's toolchain first: rustup's rustc (if any) has no wasm32 std and other codegen.
export PATH=/usr/bin:/bin:$PATH
if ! node wasm/build.mjs --check; then
  echo "wasm-check: FAILED: wasm/dist does not match a rebuild from wasm/ sources with Debian's toolchain." >&2
  echo "wasm-check: run 'npm run build:wasm' on Debian 12 and commit wasm/dist." >&2
  exit 1
fi
echo "wasm-check: OK"
