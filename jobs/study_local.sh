#!/usr/bin/env bash
# A study on a workstation: N ranks on this machine (default 2), threads split between them.
# Ctrl-C or `kill -USR1` checkpoints; run the same command again to resume.
set -euo pipefail
cd "$(dirname "$0")/.."
STUDY=${1:?usage: jobs/study_local.sh STUDY.ini [ranks]}
RANKS=${2:-2}
THREADS=$(( $(nproc) / RANKS > 0 ? $(nproc) / RANKS : 1 ))
export OMP_NUM_THREADS=$THREADS
mpirun --oversubscribe --allow-run-as-root -np "$RANKS" build/bin/dnas sweep --config "$STUDY" --study.threads="$THREADS"
