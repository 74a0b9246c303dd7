"""The fault suite: what a hostile or unlucky user does on one host, and what must happen —
a clean error naming the file or key, a recorded failure, or a checkpoint; never a crash, a
hang (every run has a timeout) or lost results."""
import fcntl
import os
import shutil
import signal
import socket
import subprocess
import time

import h5py
import numpy as np
import pytest

from conftest import DNAS, MPI_ENV, run

HAVE_MPI = shutil.which("mpirun") is not None


def status(path):
    with h5py.File(path, "r") as f:
        return f.attrs["status"], f.attrs["error"]


def experiment_files(out):
    return sorted(p for p in out.glob("*.h5") if p.name != "summary.h5")


# -- non-finite values --------------------------------------------------------------------------

@pytest.mark.parametrize("key", ["search.w_lr", "search.arch_lr"])
def test_infinite_setting_is_refused(configs, record, key):
    r = run(["search", "--config", configs["search"], f"--{key}=inf", "--run.out_dir", configs["tmp"] / "s"])
    record(f"`--{key}=inf`", r)
    assert r.code == 2 and key in r.err and "finite" in r.err
    assert not (configs["tmp"] / "s" / "results.h5").exists()


def test_diverging_search_is_a_recorded_failure(configs, record):
    out = configs["tmp"] / "s"
    r = run(["search", "--config", configs["search"], "--search.w_lr=1e9", "--search.w_grad_clip=0",
             "--search.epochs=3", "--run.out_dir", out])
    record("search diverges (`search.w_lr=1e9`, max-pool in the cell)", r)
    assert r.code == 2, r.err  # was SIGSEGV/SIGBUS/abort in the max-pool backward
    st, err = status(out / "results.h5")
    assert st == "failed" and "not finite" in err


def test_diverging_retrain_is_a_recorded_failure(configs, record):
    out = configs["tmp"] / "t"
    r = run(["train", "--config", configs["train"], "--train.lr=1e9", "--train.grad_clip=0",
             "--train.epochs=3", "--run.out_dir", out])
    record("retrain diverges (`train.lr=1e9`)", r)
    assert r.code == 2, r.err
    st, err = status(out / "results.h5")
    assert st == "failed" and "not finite" in err


def test_nan_in_a_checkpoint_is_a_recorded_failure(configs, record):
    out = configs["tmp"] / "s"
    first = run(["search", "--config", configs["search"], "--run.stop_after_steps=1", "--run.out_dir", out])
    assert first.code == 75, first.err
    with h5py.File(out / "checkpoint.h5", "r+") as f:
        names = []
        f["tensors/model"].visititems(lambda n, o: names.append(n) if isinstance(o, h5py.Dataset) else None)
        weights = [n for n in names if n.endswith("weight") and f["tensors/model"][n].dtype == np.float32]
        data = f["tensors/model"][weights[0]]
        data[...] = np.nan
    r = run(["search", "--config", out / "config.ini", "--resume"])
    record("NaN written into a checkpoint, then `--resume`", r)
    assert r.code == 2, r.err
    assert status(out / "results.h5")[0] == "failed"


def test_a_diverging_grid_point_fails_alone(configs, record):
    study = configs["study"]
    study.write_text(study.read_text().replace("search.seed = 0 1", "search.seed = 0\nsearch.w_lr = 0.025 1e9"))
    configs["search"].write_text(configs["search"].read_text().replace("epochs = 1", "epochs = 3"))
    r = run(["sweep", "--config", study], timeout=300)
    record("one grid point of a sweep diverges", r)
    assert r.code == 1 and "1 finished, 1 failed" in r.text
    states = sorted(status(p)[0] for p in experiment_files(configs["study_dir"]))
    assert states == ["failed", "finished"]


# -- studies whose grid changes -----------------------------------------------------------------

def test_adding_and_removing_seeds_keeps_the_report_right(configs, record):
    study, out = configs["study"], configs["study_dir"]
    study.write_text(study.read_text().replace("search.seed = 0 1", "search.seed = 0"))
    assert run(["sweep", "--config", study], timeout=300).code == 0
    study.write_text(study.read_text().replace("search.seed = 0", "search.seed = 0 1"))
    r = run(["sweep", "--config", study], timeout=300)
    record("a seed added to a finished study", r)
    assert r.code == 0 and "1 finished, 0 failed, 1 skipped" in r.text
    assert "2/2 (2 search x 1 eval seeds)" in r.out  # both seeds, each once
    study.write_text(study.read_text().replace("search.seed = 0 1", "search.seed = 1"))
    r = run(["sweep", "--config", study], timeout=300)
    assert r.code == 0 and "1/1 (1 search x 1 eval seeds)" in r.out and "left out" in r.err and "search.seed-0.h5" in r.err
    report = run(["report", out])
    assert report.code == 0 and "1/1 (1 search x 1 eval seeds)" in report.out


def test_files_named_by_an_earlier_version_are_adopted(configs):
    study, out = configs["study"], configs["study_dir"]
    study.write_text(study.read_text().replace("search.seed = 0 1", "search.seed = 0"))
    assert run(["sweep", "--config", study], timeout=300).code == 0
    (out / "search.seed-0.h5").rename(out / "e000_search.seed-0.h5")  # ids once carried their index
    (out / "search.seed-0").rename(out / "e000_search.seed-0")
    r = run(["sweep", "--config", study], timeout=120)
    assert r.code == 0 and "0 finished, 0 failed, 1 skipped" in r.text
    assert (out / "search.seed-0.h5").exists() and (out / "search.seed-0").is_dir()
    assert not (out / "e000_search.seed-0.h5").exists()


def test_finished_experiment_with_other_settings_is_refused(configs, record):
    study = configs["study"]
    study.write_text(study.read_text().replace("search.seed = 0 1", "search.seed = 0"))
    assert run(["sweep", "--config", study], timeout=300).code == 0
    configs["search"].write_text(configs["search"].read_text().replace("steps_per_epoch = 2", "steps_per_epoch = 3"))
    r = run(["sweep", "--config", study], timeout=120)
    record("a finished study rerun with a changed setting", r)
    assert r.code == 2 and "search.steps_per_epoch: '2' -> '3'" in r.err and "search.seed-0.h5" in r.err


def test_corrupt_experiment_file_is_logged_and_rerun(configs, record):
    study, out = configs["study"], configs["study_dir"]
    study.write_text(study.read_text().replace("search.seed = 0 1", "search.seed = 0"))
    out.mkdir()
    (out / "search.seed-0.h5").write_bytes(b"not hdf5" * 10)
    r = run(["sweep", "--config", study], timeout=300)
    record("a corrupt experiment file in the study", r)
    assert r.code == 0 and "damaged" in r.text and status(out / "search.seed-0.h5")[0] == "finished"


# -- directories in use or full -----------------------------------------------------------------

def test_fresh_run_into_a_used_directory_is_refused(configs, record):
    out = configs["tmp"] / "s"
    args = ["search", "--config", configs["search"], "--run.out_dir", out]
    assert run(args).code == 0
    before = (out / "results.h5").read_bytes()
    r = run(args)
    record("a fresh search into a directory holding finished results", r)
    assert r.code == 2 and "earlier run (checkpoint.h5)" in r.err and "--overwrite" in r.err
    assert (out / "results.h5").read_bytes() == before
    assert run(args + ["--overwrite"]).code == 0


def test_directory_held_by_another_run_is_refused(configs, record):
    out = configs["tmp"] / "s"
    out.mkdir()
    with open(out / ".dnas.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        held.write("host elsewhere pid 4242\n")
        held.flush()
        r = run(["search", "--config", configs["search"], "--run.out_dir", out])
        study = run(["sweep", "--config", configs["study"], "--study.out_dir", out])
    record("two runs in one directory at once (search, sweep)", r)
    assert r.code == 2 and "another dnas search is running" in r.err and "pid 4242" in r.err
    assert study.code == 2 and "another dnas sweep is running" in study.err


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small tmpfs needs root")
def test_full_disk_is_a_clean_error(configs, record, tmp_path):
    mnt = tmp_path / "small"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=96k", "tmpfs", str(mnt)]).returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        r = run(["search", "--config", configs["search"], "--run.out_dir", mnt / "s"])
    finally:
        subprocess.run(["umount", str(mnt)])
    record("the disk fills up during a search", r)
    assert r.code == 2, r.err  # not 139 from HDF5's exit handler
    assert "space" in r.err or "write" in r.err


# -- interruption -------------------------------------------------------------------------------

def test_ctrl_c_checkpoints_and_the_printed_resume_command_works(configs, record):
    out = configs["tmp"] / "s"
    cmd = [DNAS, "search", "--config", str(configs["search"]), "--search.epochs=40", "--run.out_dir", str(out)]
    start = time.time()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while not (out / "config.ini").exists():  # written when the run starts
        assert time.time() < deadline and p.poll() is None
        time.sleep(0.05)
    time.sleep(1.0)
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=120)
    record("Ctrl-C during a standalone search", "stopped with a checkpoint (exit 75)" if p.returncode == 75
           else f"exit {p.returncode}", time.time() - start)
    assert p.returncode == 75, err
    assert status(out / "results.h5")[0] == "interrupted"
    r = run(["search", "--config", out / "config.ini", "--resume"])
    assert r.code == 0, r.err
    assert status(out / "results.h5")[0] == "finished"


# -- bad command lines --------------------------------------------------------------------------

def test_bad_command_lines_are_refused(configs, record, tmp_path):
    big_genotype = tmp_path / "big.ini"
    big_genotype.write_text("[model]\ngenotype = " + "x" * 5_000_000 + "\n")
    cases = [
        (["search", "--config", tmp_path], "is a directory"),
        (["sweep", "--config", configs["study"], "--only", "-1"], "--only -1"),
        (["search", "--config", configs["search"], "--search.seed=-1"], "search.seed"),
        (["train", "--config", big_genotype, "--run.out_dir", tmp_path / "t"], "characters"),
        (["search", "--resume", "--overwrite"], "exclude each other"),
    ]
    seconds = 0.0
    for args, needle in cases:
        r = run(args, timeout=60)
        seconds += r.seconds
        assert r.code == 2 and needle in r.err, (args[:3], r.err[:500])
        assert len(r.err) < 2000  # never echoes a 5 MB value
    record("`--config DIR`, `--only -1`, `seed=-1`, a 5 MB genotype, `--resume --overwrite`",
           "clean failure, nothing lost", seconds)


def test_more_threads_than_cores_is_warned(configs, tmp_path):
    r = run(["search", "--config", configs["search"], f"--run.threads={os.cpu_count() + 1}",
             "--search.steps_per_epoch=1", "--run.out_dir", tmp_path / "s"])
    assert r.code == 0 and "compete" in r.text


def test_slurm_step_without_mpi_wiring_is_refused(configs, record):
    r = run(["sweep", "--config", configs["study"]], env={"SLURM_STEP_NUM_TASKS": "4"})
    record("a Slurm step of 4 tasks started without PMIx (4 one-rank worlds)", r)
    assert r.code == 2 and "--mpi=pmix" in r.err
    assert not configs["study_dir"].exists() or not experiment_files(configs["study_dir"])


# -- several ranks ------------------------------------------------------------------------------

@pytest.mark.skipif(not HAVE_MPI, reason="OpenMPI not installed")
@pytest.mark.parametrize("ranks_per_experiment", [1, 2])
def test_record_write_failure_on_one_rank_ends_the_job(configs, record, ranks_per_experiment):
    study, out = configs["study"], configs["study_dir"]
    study.write_text(study.read_text().replace("[study]\n", f"[study]\nranks_per_experiment = {ranks_per_experiment}\n"))
    (out / "search.seed-0.h5").mkdir(parents=True)  # the record cannot be written there
    r = run(["sweep", "--config", study], timeout=180, mpi_ranks=2)
    record(f"an experiment record cannot be written (2 ranks, groups of {ranks_per_experiment})", r)
    assert r.code != 0 and r.code < 128
    assert "rank" in r.err and socket.gethostname() in r.err and "search.seed-0.h5" in r.err


@pytest.mark.skipif(not HAVE_MPI, reason="OpenMPI not installed")
def test_stop_while_other_ranks_are_out_of_work(configs, record):
    study = configs["study"]
    study.write_text(study.read_text().replace("search.seed = 0 1", "search.seed = 0"))
    configs["search"].write_text(configs["search"].read_text() + "stop_after_steps = 1\n")
    r = run(["sweep", "--config", study], timeout=180, mpi_ranks=2)
    record("a stop while the other rank has run out of work (2 ranks, 1 experiment)", r)
    assert r.code == 75, r.err
    configs["search"].write_text(configs["search"].read_text().replace("stop_after_steps = 1\n", ""))
    again = run(["sweep", "--config", study], timeout=300, mpi_ranks=2)
    assert again.code == 0 and "1 finished, 0 failed, 0 skipped" in again.text


@pytest.mark.skipif(not HAVE_MPI, reason="OpenMPI not installed")
def test_kill_9_of_one_rank_ends_the_job_and_a_rerun_completes(configs, record):
    study, out = configs["study"], configs["study_dir"]
    configs["search"].write_text(configs["search"].read_text().replace("epochs = 1", "epochs = 30"))
    cmd = ["mpirun", "--oversubscribe", "-np", "2", DNAS, "sweep", "--config", str(study)]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=dict(os.environ, **MPI_ENV), start_new_session=True)
    deadline = time.time() + 60
    ranks = []
    while len(ranks) < 2:
        assert time.time() < deadline and p.poll() is None
        ps = subprocess.run(["pgrep", "-f", f"{DNAS} sweep --config {study}"], capture_output=True, text=True)
        ranks = [int(x) for x in ps.stdout.split() if int(x) != p.pid]
        time.sleep(0.2)
    time.sleep(3.0)
    killed = time.time()
    os.kill(ranks[-1], signal.SIGKILL)
    try:
        p.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        pytest.fail("hang: the job did not end after one rank was killed")
    ended = time.time() - killed
    record("`kill -9` of one rank mid-experiment (job ends, rerun completes)", "clean failure, nothing lost", ended)
    assert p.returncode != 0 and ended < 60
    configs["search"].write_text(configs["search"].read_text().replace("epochs = 30", "epochs = 1"))
    again = run(["sweep", "--config", study], timeout=300, mpi_ranks=2)
    assert again.code == 0, again.err
    assert all(status(f)[0] == "finished" for f in experiment_files(out)) and len(experiment_files(out)) == 2
