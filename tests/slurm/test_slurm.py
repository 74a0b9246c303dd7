"""The real jobs/ scripts under a real Slurm (two emulated nodes on this host), each job bounded
by a timeout so that a hang fails: multi-node data-parallel studies equal plain mpirun, a USR1
before the time limit checkpoints and requeues until the study completes with results equal to
an uninterrupted run, a lost rank or a failing leader write ends the job instead of hanging it,
and a step launched without PMIx wiring is refused."""
import os
import signal
import subprocess
import time

import h5py
import numpy as np
import pytest

from conftest import DNAS, ROOT, write_study


def results(out):
    """{id: (status, genotype, test accuracies)} of a study's experiment files."""
    table = {}
    for path in sorted(out.glob("*.h5")):
        if path.name == "summary.h5":
            continue
        with h5py.File(path, "r") as f:
            table[path.stem] = (f.attrs["status"], f.attrs["genotype"],
                                tuple(f["test_acc"][:]) if "test_acc" in f else ())
    return table


def mpirun_reference(cluster, study, tmp, ranks):
    """The same study run with plain mpirun into another directory."""
    ref = tmp / "reference.ini"
    ref.write_text(study.read_text().replace(f"out_dir = {tmp / study.stem}", f"out_dir = {tmp / 'reference'}"))
    p = subprocess.run(["mpirun", "--oversubscribe", "-np", str(ranks), DNAS, "sweep", "--config", str(ref)],
                       capture_output=True, text=True, timeout=600, env=cluster.env)
    assert p.returncode == 0, p.stderr
    return results(tmp / "reference")


def wait_for(predicate, limit, what):
    deadline = time.time() + limit
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    pytest.fail(f"hang: {what} after {limit} s")


def test_two_node_data_parallel_study_equals_mpirun(cluster, data_root, tmp_path):
    study, out = write_study(tmp_path, data_root, "dp", seeds="0 1", ranks_per_experiment=2)
    log = tmp_path / "job.log"
    job = cluster.sbatch([str(ROOT / "jobs" / "study_multi_node.sbatch")], 2, 2, log, study)
    assert cluster.wait_end(job, 300) == "COMPLETED", log.read_text()[-3000:]
    text = log.read_text()
    assert "in groups of 2" in text and "2 finished, 0 failed, 0 skipped" in text
    ours = results(out)
    assert len(ours) == 2 and all(s == "finished" for s, _, _ in ours.values())
    assert ours == mpirun_reference(cluster, study, tmp_path, 4)  # same genotypes and accuracies


def test_usr1_checkpoints_requeues_and_completes_while_a_rank_is_idle(cluster, data_root, tmp_path):
    # One experiment on two ranks: rank 1 runs out of work at once and waits while rank 0 is
    # stopped; both must exit 75, and the requeued job must resume and finish the experiment.
    study, out = write_study(tmp_path, data_root, "requeue", seeds="0", epochs=40)
    log = tmp_path / "job.log"
    job = cluster.sbatch([str(ROOT / "jobs" / "study_single_node.sbatch")], 1, 2, log, study)
    cluster.wait_state(job, ("RUNNING",), 120)
    wait_for(lambda: any((out / "searches").glob("*/checkpoint.h5")) if (out / "searches").exists() else False,
             180, "no checkpoint of the first epoch")
    assert cluster.run("scancel", "--signal=USR1", "--batch", job).returncode == 0
    assert cluster.wait_end(job, 400) == "COMPLETED", log.read_text()[-3000:]
    text = log.read_text()
    assert "requeueing job" in text and text.count("sweep: study") == 2  # the log was appended
    assert "stop requested" in text
    ours = results(out)
    assert list(ours.values())[0][0] == "finished" and len(ours) == 1
    assert ours == mpirun_reference(cluster, study, tmp_path, 2)  # bit-identical to an uninterrupted run


def test_array_task_requeues_on_usr1(cluster, data_root, tmp_path):
    study, out = write_study(tmp_path, data_root, "array", seeds="0 1", epochs=40)
    log = tmp_path / "job_%a.log"
    job = cluster.sbatch([str(ROOT / "jobs" / "study_array.sbatch")], 1, 1, log, study, extra=["--array=0-1", "--gpus=0"])
    first = f"{job}_0"
    cluster.wait_state(first, ("RUNNING",), 120)
    wait_for(lambda: any((out / "searches").glob("*/checkpoint.h5")) if (out / "searches").exists() else False,
             180, "no checkpoint of the first epoch")
    assert cluster.run("scancel", "--signal=USR1", "--batch", first).returncode == 0
    for task in (first, f"{job}_1"):
        assert cluster.wait_end(task, 400) == "COMPLETED", task
    assert "requeueing job" in (tmp_path / "job_0.log").read_text()
    ours = results(out)
    assert len(ours) == 2 and all(s == "finished" for s, _, _ in ours.values())
    assert ours == mpirun_reference(cluster, study, tmp_path, 2)


def test_a_real_time_limit_with_signal_requeues_until_the_study_completes(cluster, data_root, tmp_path):
    # A 1-minute limit with the warning 45 s before it: Slurm checks limits about every 30 s, so
    # the USR1 arrives 15-45 s into each run; a search of over a minute needs several runs.
    study, out = write_study(tmp_path, data_root, "limit", seeds="0", epochs=120)
    log = tmp_path / "job.log"
    job = cluster.sbatch([str(ROOT / "jobs" / "study_single_node.sbatch")], 1, 1, log, study,
                         extra=["--time=1", "--signal=B:USR1@45"])
    assert cluster.wait_end(job, 600) == "COMPLETED", log.read_text()[-3000:]
    text = log.read_text()
    assert "requeueing job" in text and "stop requested" in text
    assert "TIMEOUT" not in cluster.completions(job)  # stopped by the warning, never by the limit
    ours = results(out)
    assert list(ours.values())[0][0] == "finished" and len(ours) == 1
    assert ours == mpirun_reference(cluster, study, tmp_path, 1)


def test_kill_9_of_one_rank_ends_the_job_and_a_resubmission_completes(cluster, data_root, tmp_path):
    study, out = write_study(tmp_path, data_root, "kill", seeds="0 1", epochs=40)
    log = tmp_path / "job.log"
    job = cluster.sbatch([str(ROOT / "jobs" / "study_multi_node.sbatch")], 2, 1, log, study)
    cluster.wait_state(job, ("RUNNING",), 120)
    pids = []

    def ranks_running():
        pids[:] = [int(p) for p in subprocess.run(["pgrep", "-f", f"^{DNAS} sweep --config {study}"],
                                                    capture_output=True, text=True).stdout.split()]
        return len(pids) >= 2
    wait_for(ranks_running, 120, "the two ranks never started")
    time.sleep(2)
    killed = time.time()
    os.kill(pids[-1], signal.SIGKILL)
    state = cluster.wait_end(job, 120)
    ended = time.time() - killed
    assert state != "COMPLETED" and ended < 60, (state, ended)
    again = cluster.sbatch([str(ROOT / "jobs" / "study_multi_node.sbatch")], 2, 1, tmp_path / "again.log", study)
    assert cluster.wait_end(again, 400) == "COMPLETED", (tmp_path / "again.log").read_text()[-3000:]
    ours = results(out)
    assert len(ours) == 2 and all(s == "finished" for s, _, _ in ours.values())


def test_a_failing_leader_write_ends_the_job_with_one_clear_line(cluster, data_root, tmp_path):
    study, out = write_study(tmp_path, data_root, "write", seeds="0", ranks_per_experiment=2)
    (out / "search.seed-0.h5").mkdir(parents=True)  # the experiment record cannot be written
    log = tmp_path / "job.log"
    job = cluster.sbatch([str(ROOT / "jobs" / "study_multi_node.sbatch")], 2, 1, log, study)
    assert cluster.wait_end(job, 300) == "FAILED"
    text = log.read_text()
    assert "dnas: rank 0 on" in text and "search.seed-0.h5" in text
    assert "requeueing" not in text
    searches = list((out / "searches").glob("*/results.h5"))
    assert len(searches) == 1
    with h5py.File(searches[0], "r") as f:  # the finished search is intact
        assert f.attrs["status"] == "finished"


def test_a_step_without_pmix_is_refused(cluster, data_root, tmp_path):
    study, out = write_study(tmp_path, data_root, "nopmix", seeds="0 1")
    log = tmp_path / "job.log"
    job = cluster.sbatch(["--wrap", f"srun --mpi=none {DNAS} sweep --config {study}"], 1, 2, log)
    assert cluster.wait_end(job, 120) == "FAILED"
    assert "--mpi=pmix" in log.read_text()
    assert not list(out.glob("*.h5")) if out.exists() else True
