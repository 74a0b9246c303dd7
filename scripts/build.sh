#!/usr/bin/env bash
# Installs the dependencies (unless DNAS_SKIP_DEPS=1) and builds dnas into build/ with Ninja.
# Extra arguments go to cmake, e.g. -DTorch_DIR=/opt/libtorch-cuda/share/cmake/Torch.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "${DNAS_SKIP_DEPS:-0}" = 1 ] || bash scripts/install_deps.sh
BUILD_DIR=${BUILD_DIR:-build}
JOBS=${JOBS:-$(nproc)}
if [ ! -f "$BUILD_DIR/build.ninja" ] || [ $# -gt 0 ]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release "$@"
fi
start=$(date +%s)
ninja -C "$BUILD_DIR" -j "$JOBS"
echo "build: $(( $(date +%s) - start )) s"
