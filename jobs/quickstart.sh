#!/usr/bin/env bash
# The README's main job: install dependencies, build, and run a small real study on
# Fashion-MNIST under mpirun with 2 ranks (DARTS vs GDAS, two search seeds each, every searched
# cell retrained and tested, DARTS_V2 as the published reference); prints the results table.
# Run it again to reuse the finished experiments (they are skipped) or to resume interrupted ones.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
# OpenMPI refuses to run as root unless told; harmless for other users.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mpirun --oversubscribe -np 2 build/bin/dnas sweep --config config/study_quickstart.ini "$@"
