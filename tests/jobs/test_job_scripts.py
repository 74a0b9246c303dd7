"""The Slurm job scripts' signal handling, run in bash with stand-ins for srun, scontrol and
dnas: a USR1 to the batch shell reaches dnas, the script waits for dnas to finish its checkpoint
and requeues the job only on exit 75; a crash, a success or a TERM (scancel) never requeues."""
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

FAKE_DNAS = """#!/usr/bin/env bash
# Stands in for dnas: on USR1 it "checkpoints" for a while, then exits with $EXIT_ON_STOP.
trap 'sleep 1; echo checkpointed >> "$LOG"; exit "${EXIT_ON_STOP:-75}"' USR1
trap 'echo terminated >> "$LOG"; exit 75' TERM
echo "started $*" >> "$LOG"
for _ in $(seq 100); do sleep 0.03; done
echo finished >> "$LOG"
exit "${EXIT_ON_FINISH:-0}"
"""
FAKE_SRUN = """#!/usr/bin/env bash
# Stands in for srun: drops its own options and runs the command (one task).
echo "srun $*" >> "$LOG"
while [[ "$1" == --* ]]; do shift; done
"$@" &
child=$!
trap 'kill -USR1 $child' USR1
trap 'kill -TERM $child' TERM
while :; do code=0; wait $child || code=$?; kill -0 $child 2>/dev/null || break; done
exit $code
"""
FAKE_SCONTROL = """#!/usr/bin/env bash
echo "scontrol $*" >> "$LOG"
"""


@pytest.fixture
def slurm_env(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, text in (("dnas", FAKE_DNAS), ("srun", FAKE_SRUN), ("scontrol", FAKE_SCONTROL)):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    log = tmp_path / "log"
    env = dict(os.environ, PATH=f"{bin_dir}:{os.environ['PATH']}", LOG=str(log), DNAS=str(bin_dir / "dnas"),
               SLURM_JOB_ID="123", SLURM_CPUS_PER_TASK="1", SLURM_ARRAY_JOB_ID="120", SLURM_ARRAY_TASK_ID="3")
    return env, log


def run_script(script, env, sig=None, extra_env=None):
    env = dict(env, **(extra_env or {}))
    if script != "study_array.sbatch":
        env.pop("SLURM_ARRAY_JOB_ID")
    p = subprocess.Popen(["bash", str(ROOT / "jobs" / script)], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    if sig is not None:
        deadline = time.time() + 10
        while "started" not in Path(env["LOG"]).read_text() if Path(env["LOG"]).exists() else True:
            assert time.time() < deadline, "the fake dnas never started"
            time.sleep(0.05)
        time.sleep(0.2)
        p.send_signal(sig)
    out, err = p.communicate(timeout=30)
    return p.returncode, Path(env["LOG"]).read_text().splitlines(), err


@pytest.mark.parametrize("script", ["study_single_node.sbatch", "study_multi_node.sbatch", "study_array.sbatch"])
def test_usr1_waits_for_the_checkpoint_then_requeues(slurm_env, script):
    env, _ = slurm_env
    code, log, err = run_script(script, env, signal.SIGUSR1)
    assert code == 75, err
    # the requeue comes after dnas wrote its checkpoint, never before
    assert log.index("checkpointed") < next(i for i, line in enumerate(log) if line.startswith("scontrol requeue"))
    job = "120_3" if script == "study_array.sbatch" else "123"
    assert f"scontrol requeue {job}" in log
    if script != "study_array.sbatch":
        assert any(line.startswith("srun --mpi=pmix") for line in log)  # one MPI world over the tasks


@pytest.mark.parametrize("exit_code", [1, 2, 139])
def test_a_failure_after_usr1_is_not_requeued(slurm_env, exit_code):
    env, _ = slurm_env
    code, log, err = run_script("study_single_node.sbatch", env, signal.SIGUSR1, {"EXIT_ON_STOP": str(exit_code)})
    assert code == exit_code
    assert not any(line.startswith("scontrol") for line in log)


def test_a_crash_or_success_is_not_requeued(slurm_env):
    env, _ = slurm_env
    code, log, _ = run_script("study_array.sbatch", env, None, {"EXIT_ON_FINISH": "139"})
    assert code == 139 and "finished" in log and not any(line.startswith("scontrol") for line in log)
    Path(env["LOG"]).unlink()
    code, log, _ = run_script("study_multi_node.sbatch", env)
    assert code == 0 and not any(line.startswith("scontrol") for line in log)


def test_scancel_term_stops_without_requeue(slurm_env):
    env, _ = slurm_env
    code, log, _ = run_script("study_single_node.sbatch", env, signal.SIGTERM)
    assert code == 75 and "terminated" in log
    assert not any(line.startswith("scontrol") for line in log)


def test_scripts_append_to_their_log_on_requeue():
    for script in ("study_single_node.sbatch", "study_multi_node.sbatch", "study_array.sbatch"):
        text = (ROOT / "jobs" / script).read_text()
        assert "#SBATCH --open-mode=append" in text and "#SBATCH --requeue" in text, script
