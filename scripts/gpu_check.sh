#!/usr/bin/env bash
# The GPU check, for a machine with a GPU: builds dnas against a CUDA libtorch into build-gpu/,
# then runs, each with a time limit, and prints one pass/fail table:
#   - the GPU tests (ctest label gpu): every search method and the retrain on the GPU against
#     the same run on the CPU, a resumed GPU search, NCCL collectives of every dtype on one rank;
#   - one short search per method on cuda (DARTS 1st/2nd, MiLeNAS, GDAS, EoiNAS, ITNAS, SC, NASP);
#   - a short retrain on cuda, in fp32, bf16 and fp16 (run.precision), and a bf16 DARTS 2nd search;
#   - `dnas bench --device cuda` (search and retrain steps; search steps again in bf16);
#   - a 2-rank data-parallel search (NCCL across two processes; skipped with one GPU).
# Usage: scripts/gpu_check.sh /path/to/libtorch   (a cxx11-ABI CUDA build; DNAS_SKIP_DEPS=1 to skip apt)
# Takes a few minutes after the build.
set -uo pipefail
cd "$(dirname "$0")/.."
TORCH_ROOT=${1:?usage: scripts/gpu_check.sh /path/to/libtorch (a CUDA build)}
BUILD_DIR=${BUILD_DIR:-build-gpu}
export BUILD_DIR
bash scripts/build.sh -DTorch_DIR="$TORCH_ROOT/share/cmake/Torch" || { echo "gpu check: build failed"; exit 1; }
DNAS=$BUILD_DIR/bin/dnas
OUT=$(mktemp -d "${TMPDIR:-/tmp}/dnas_gpu_check.XXXXXX")
declare -a ROWS
status=0

check() {  # check NAME TIMEOUT CMD...: runs CMD with a time limit, records pass/fail and seconds
  local name=$1 limit=$2
  shift 2
  local start=$SECONDS code=0
  timeout "$limit" "$@" >"$OUT/$name.log" 2>&1 || code=$?
  local result=pass
  [ "$code" -eq 0 ] || { result="FAIL (exit $code, log $OUT/$name.log)"; status=1; }
  [ "$code" -eq 124 ] && result="FAIL (timed out after ${limit}s, log $OUT/$name.log)"
  ROWS+=("| $name | $result | $((SECONDS - start)) |")
}

nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader >"$OUT/gpus.txt" 2>&1 || true
GPUS=$(grep -c . "$OUT/gpus.txt" || echo 0)

check gpu_tests 900 ctest --test-dir "$BUILD_DIR" -L gpu --output-on-failure
SEARCH=(--supernet.channels=8 --supernet.layers=5 --search.epochs=2 --search.steps_per_epoch=10
        --data.limit=2000 --run.device=cuda --run.progress=false)
for method in darts_1st darts_2nd milenas gdas eoinas itnas darts_sc milenas_sc nasp; do
  extra=()
  [ "$method" = nasp ] && extra=(--supernet.op_set=nasp7)
  check "search_$method" 600 "$DNAS" search --config config/quickstart.ini --search.method="$method" \
    "${SEARCH[@]}" "${extra[@]}" --run.out_dir="$OUT/search_$method"
done
check retrain 600 "$DNAS" train --config config/retrain_fmnist.ini --run.device=cuda --train.epochs=1 \
  --train.steps_per_epoch=20 --data.test_limit=1000 --run.progress=false --run.out_dir="$OUT/retrain"
for precision in bf16 fp16; do  # autocast on the GPU; fp16 with dynamic loss scaling
  check "retrain_$precision" 600 "$DNAS" train --config config/retrain_fmnist.ini --run.device=cuda \
    --run.precision="$precision" --train.epochs=1 --train.steps_per_epoch=20 --data.test_limit=1000 \
    --run.progress=false --run.out_dir="$OUT/retrain_$precision"
done
check search_darts_2nd_bf16 600 "$DNAS" search --config config/quickstart.ini --search.method=darts_2nd \
  --run.precision=bf16 "${SEARCH[@]}" --run.out_dir="$OUT/search_darts_2nd_bf16"
check bench 600 "$DNAS" bench --device cuda --shapes small --modes weight,darts_1st,darts_2nd,retrain
check bench_bf16 600 "$DNAS" bench --device cuda --precision bf16 --shapes small --modes weight,darts_1st,darts_2nd
if [ "$GPUS" -ge 2 ]; then
  check data_parallel_2_ranks 600 mpirun --allow-run-as-root -np 2 "$DNAS" search --config config/quickstart.ini \
    "${SEARCH[@]}" --run.out_dir="$OUT/dp"
else
  ROWS+=("| data_parallel_2_ranks | skipped (one GPU) | 0 |")
fi

echo
echo "GPU check on $(hostname): $(tr '\n' ';' <"$OUT/gpus.txt")"
echo "| check | result | seconds |"
echo "|---|---|---|"
printf '%s\n' "${ROWS[@]}"
echo "logs: $OUT"
exit $status
