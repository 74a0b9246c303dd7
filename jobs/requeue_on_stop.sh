# Sourced by the Slurm job scripts. run_and_requeue CMD... runs CMD in the background, passes
# the batch shell's USR1 (Slurm's warning before the time limit, --signal=B:USR1@T) and TERM on
# to it, and waits until CMD has really exited: a trapped signal ends bash's `wait` at once,
# while dnas is still writing its checkpoint. When dnas exits with 75 (stopped with a
# checkpoint) the job is requeued, unless the stop came from TERM (scancel or a node going
# down); any other exit status ends the job with that status, so a crash never requeues forever.
run_and_requeue() {
  local pid code=0 term=0
  "$@" &
  pid=$!
  trap 'kill -USR1 "$pid" 2>/dev/null || true' USR1
  trap 'term=1; kill -TERM "$pid" 2>/dev/null || true' TERM
  while :; do
    code=0
    wait "$pid" || code=$?
    kill -0 "$pid" 2>/dev/null || break  # gone: $code is its exit status
  done
  trap - USR1 TERM
  if [ "$code" -eq 75 ] && [ "$term" -eq 0 ]; then
    local job=${SLURM_ARRAY_JOB_ID:+${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}}
    job=${job:-$SLURM_JOB_ID}
    echo "dnas: stopped with a checkpoint; requeueing job $job (it resumes where it stopped)" >&2
    scontrol requeue "$job"
  fi
  return "$code"
}
