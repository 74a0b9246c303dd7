#!/usr/bin/env bash
# The README's main job: install dependencies, build, and run a small real DARTS search on
# Fashion-MNIST (a few minutes on 2 cores after the build); prints the per-epoch results table.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
build/bin/dnas search --config config/quickstart.ini "$@"
