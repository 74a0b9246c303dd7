#!/usr/bin/env bash
# shellcheck disable=SC2015,SC2016,SC2317 # functions run via step(); job scripts expand later
# Smoke test of scripts/slurm_cluster.sh: starts a 2-node cluster in a temp dir, runs a
# batch job, a pmix srun step, an MPI hello (if mpicc exists) and a USR1 -> requeue cycle,
# then stops the cluster and checks that nothing is left running. Prints PASS/FAIL and the
# elapsed seconds per step; exits non-zero if any step failed. Keeps the dir on failure.
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
D=$(mktemp -d /tmp/slurm_smoke.XXXXXX)
FAILED=0
STOPPED=0

# Stops the cluster on any exit; removes the temp dir only if everything passed.
cleanup() {
  ((STOPPED)) || "$HERE/slurm_cluster.sh" stop "$D" >/dev/null 2>&1
  if ((FAILED)); then echo "kept $D for inspection"; else rm -rf "$D"; fi
}
trap cleanup EXIT

# Runs step function $2 under name $1; prints PASS/FAIL with its wall time.
step() {
  local name=$1 t0 t1 rc
  shift
  t0=$(date +%s.%N)
  "$@"
  rc=$?
  t1=$(date +%s.%N)
  if ((rc == 0)); then
    awk -v n="$name" -v a="$t0" -v b="$t1" 'BEGIN { printf "PASS %-10s %6.2f s\n", n, b - a }'
  else
    awk -v n="$name" -v a="$t0" -v b="$t1" 'BEGIN { printf "FAIL %-10s %6.2f s\n", n, b - a }'
    FAILED=1
  fi
  return $rc
}

# Fails with message $1 and shows file $2 (if given).
fail() { echo "  $1" >&2; [ -z "${2:-}" ] || sed 's/^/  | /' "$2" >&2; return 1; }

# Polls command "$@" every 0.5 s until it succeeds or $1 seconds pass.
wait_for() {
  local limit=$1 t0=$SECONDS
  shift
  until "$@"; do ((SECONDS - t0 < limit)) || return 1; sleep 0.5; done
}

# Prints the state of job $1 (kept by slurmctld for MinJobAge after it ends).
job_state() { scontrol show job "$1" | grep -o 'JobState=[A-Z_]*' | cut -d= -f2; }

# Submits sbatch "$@" and waits (60 s max) for the job to end; fails unless COMPLETED.
# Polls every 0.5 s: `sbatch --wait` polls at 2 s, 10 s, 42 s... which is coarse.
run_job() {
  local id state
  id=$(sbatch --parsable "$@") || return 1
  wait_for 60 eval '[[ "$(job_state '"$id"')" =~ ^(COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY)$ ]]'
  state=$(job_state "$id")
  [ "$state" = COMPLETED ] || { echo "  job $id ended $state" >&2; return 1; }
}

start_cluster() {
  "$HERE/slurm_cluster.sh" start "$D" 2 >/dev/null || return 1
  # shellcheck disable=SC1091
  source "$D/env.sh"
}

# (a) Single batch job: prints the host and its node list.
job_hostname() {
  timeout 60 sbatch --wait -Q -o "$D/a.out" --wrap 'hostname; echo $SLURM_JOB_NODELIST' ||
    fail "sbatch failed" "$D/a.out" || return 1
  grep -qx "$(hostname)" "$D/a.out" && grep -qx 'n[12]' "$D/a.out" || fail "unexpected output" "$D/a.out"
}

# (b) 2-node, 4-task job whose srun --mpi=pmix step reports PMIx rank == Slurm proc id.
job_pmix() {
  run_job -N2 -n4 -o "$D/b.out" \
    --wrap "srun --mpi=pmix bash -c 'echo rank \$PMIX_RANK \$SLURM_PROCID \$SLURMD_NODENAME'" ||
    fail "sbatch failed" "$D/b.out" || return 1
  local i
  for i in 0 1 2 3; do grep -q "^rank $i $i n[12]\$" "$D/b.out" || fail "rank $i missing" "$D/b.out" || return 1; done
  grep -q ' n1$' "$D/b.out" && grep -q ' n2$' "$D/b.out" || fail "not on both nodes" "$D/b.out"
}

# (b') Same shape, running a compiled MPI hello that prints MPI_Comm_size.
job_mpi() {
  cat >"$D/hello.c" <<'EOF'
#include <mpi.h>
#include <stdio.h>
int main(int argc, char **argv) {
  int rank, size;
  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  printf("rank %d of %d\n", rank, size);
  MPI_Finalize();
  return 0;
}
EOF
  mpicc -o "$D/hello" "$D/hello.c" || fail "mpicc failed" || return 1
  # TCP between the emulated nodes (they share a host, shared memory transport is not used).
  OMPI_MCA_btl=self,tcp run_job -N2 -n4 -o "$D/mpi.out" --wrap "srun --mpi=pmix $D/hello" || fail "job failed" "$D/mpi.out" || return 1
  [ "$(grep -c '^rank [0-3] of 4$' "$D/mpi.out")" -eq 4 ] || fail "world size is not 4" "$D/mpi.out"
}

# (c) Requeue cycle: run 1 waits for USR1 then requeues itself; run 2 exits 0.
job_requeue() {
  cat >"$D/requeue.sh" <<EOF
#!/bin/bash
#SBATCH --requeue --open-mode=append -o $D/c.out -J requeue
if [ -e $D/c.first ]; then
  echo "second run restart=\$SLURM_RESTART_COUNT"; touch $D/c.done; exit 0
fi
touch $D/c.first
trap 'echo "got USR1"; scontrol requeue \$SLURM_JOB_ID; sleep 60' USR1
echo "first run waiting for USR1"
sleep 120 & wait \$!
echo "no USR1 received"; exit 1
EOF
  local id
  id=$(sbatch --parsable "$D/requeue.sh") || fail "sbatch failed" || return 1
  # The trap is in place once the first run has printed its line.
  wait_for 30 grep -q 'waiting for USR1' "$D/c.out" 2>/dev/null || fail "first run did not start" || return 1
  scancel --signal=USR1 --batch "$id" || fail "scancel failed" || return 1
  wait_for 90 eval '[ "$(job_state '"$id"')" = COMPLETED ]' ||
    fail "job not COMPLETED after 90 s: $(job_state "$id")" "$D/c.out" || return 1
  grep -q 'got USR1' "$D/c.out" && grep -q 'second run restart=1' "$D/c.out" ||
    fail "log lacks one of the two runs" "$D/c.out" || return 1
  grep "JobId=$id " "$D/jobcomp.txt" | tail -n1 | grep -q 'JobState=COMPLETED' ||
    fail "jobcomp does not show COMPLETED" "$D/jobcomp.txt"
}

# Stops the cluster and checks no process or listening socket of it survives.
stop_cluster() {
  STOPPED=1
  "$HERE/slurm_cluster.sh" stop "$D" || return 1
  local left
  # Any process with its cwd or an open file under DIR belongs to the cluster.
  left=$(find /proc/[0-9]*/cwd /proc/[0-9]*/fd -maxdepth 1 -lname "$D*" 2>/dev/null | cut -d/ -f3 | sort -u)
  [ -z "$left" ] || fail "processes left: $left" || return 1
  ! ss -Hxl | grep -qF "$D" || fail "sockets left under $D"
}

step start start_cluster || exit 1
step hostname job_hostname
step pmix job_pmix
if command -v mpicc >/dev/null; then step mpi job_mpi; else echo "SKIP mpi (no mpicc)"; fi
step requeue job_requeue
step stop stop_cluster
exit $FAILED
