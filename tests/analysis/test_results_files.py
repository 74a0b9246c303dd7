"""End-to-end: the dnas binary searches, retrains and resumes on a tiny generated dataset, and
every file it writes (results.h5, checkpoint.h5) is readable with h5py."""
import os
import shutil
import subprocess

import h5py
import numpy as np
import pytest

DNAS = os.environ.get("DNAS_BIN", "build/bin/dnas")
TINY_SEARCH = ["--supernet.channels=4", "--supernet.layers=3", "--supernet.steps=2", "--search.epochs=2",
               "--search.steps_per_epoch=2", "--data.batch_size=16", "--data.limit=64", "--search.eval_batches=1",
               "--run.threads=1", "--run.progress=false"]
TINY_TRAIN = ["--model.channels=4", "--model.layers=3", "--train.epochs=2", "--train.steps_per_epoch=2",
              "--data.batch_size=16", "--data.limit=64", "--data.test_limit=32", "--run.threads=1",
              "--run.progress=false"]


def run(*args):
    return subprocess.run([DNAS, *args], capture_output=True, text=True, timeout=600)


def test_search_results_file(data_root, tmp_path):
    out = tmp_path / "search"
    p = run("search", f"--data.root={data_root}", f"--run.out_dir={out}", *TINY_SEARCH)
    assert p.returncode == 0, p.stderr
    with h5py.File(out / "results.h5", "r") as f:
        assert f.attrs["format"] == "dnas-results-1"
        assert f.attrs["status"] == "finished"
        assert "[search]" in f.attrs["config"] and "method = darts_1st" in f.attrs["config"]
        s = f["search"]
        assert s["metrics/val_acc"].shape == (2,)
        assert np.all((s["metrics/val_acc"][:] >= 0) & (s["metrics/val_acc"][:] <= 1))
        edges = 5  # 2 intermediate nodes
        assert s["arch/alpha_normal"].shape == (2, edges, 8)
        genotypes = s["genotypes"][:].astype(str)
        assert len(genotypes) == 2 and genotypes[-1] == s.attrs["genotype"]
        assert len(s.attrs["genotype_hash"]) == 16
    with h5py.File(out / "checkpoint.h5", "r") as f:
        assert f.attrs["kind"] == "search"
        assert "tensors/model/stem.0.weight" in f
        assert f["tensors/method/alpha_normal"].shape == (edges, 8)
    assert (out / "genotype.txt").read_text().strip() == genotypes[-1]


def test_train_resume_and_results_file(data_root, tmp_path):
    search = tmp_path / "search"
    assert run("search", f"--data.root={data_root}", f"--run.out_dir={search}", *TINY_SEARCH).returncode == 0
    out = tmp_path / "train"
    common = ["train", f"--data.root={data_root}", f"--model.genotype={search}", f"--run.out_dir={out}", *TINY_TRAIN]
    p = run(*common, "--run.stop_after_steps=3")
    assert p.returncode == 75, p.stderr  # interrupted: checkpointed, requeue with --resume
    with h5py.File(out / "results.h5", "r") as f:
        assert f.attrs["status"] == "interrupted"
    p = run(*common, "--resume")
    assert p.returncode == 0, p.stderr
    with h5py.File(out / "results.h5", "r") as f:
        assert f.attrs["status"] == "finished"
        t = f["train"]
        assert t["metrics/train_loss"].shape == (2,)
        assert 0.0 <= t.attrs["test_acc"] <= 1.0
        assert t.attrs["parameters"] < t.attrs["parameters_with_aux"]
        assert t.attrs["genotype"] == (search / "genotype.txt").read_text().strip()


def test_bad_checkpoint_is_refused_without_damage(data_root, tmp_path):
    out = tmp_path / "train"
    common = ["train", f"--data.root={data_root}", "--model.genotype=DARTS_V2", f"--run.out_dir={out}", *TINY_TRAIN]
    assert run(*common).returncode == 0
    before = (out / "checkpoint.h5").read_bytes()
    p = run(*common, "--train.seed=5", "--resume")
    assert p.returncode == 2 and "other settings" in p.stderr and "checkpoint.h5" in p.stderr
    assert (out / "checkpoint.h5").read_bytes() == before


def experiment_files(out):
    return sorted(p for p in out.glob("*.h5") if p.name != "summary.h5")


def write_tiny_study(data_root, tmp_path):
    (tmp_path / "search.ini").write_text(
        "[supernet]\nchannels = 4\nlayers = 3\nsteps = 2\n[search]\nepochs = 1\nsteps_per_epoch = 2\n"
        "eval_batches = 1\n[data]\nbatch_size = 16\nlimit = 64\n"
        f"root = {data_root}\n[run]\nthreads = 1\nprogress = false\n")
    (tmp_path / "train.ini").write_text(
        "[model]\nchannels = 4\nlayers = 3\n[train]\nepochs = 1\nsteps_per_epoch = 2\n[data]\nbatch_size = 16\n"
        f"limit = 64\ntest_limit = 32\nroot = {data_root}\n[run]\nthreads = 1\nprogress = false\n")
    out = tmp_path / "study"
    (tmp_path / "study.ini").write_text(
        f"[study]\nname = tiny\nout_dir = {out}\nsearch_config = {tmp_path / 'search.ini'}\n"
        f"train_config = {tmp_path / 'train.ini'}\neval_seeds = 0 1\npublished = DARTS_V2\n"
        "[grid]\nsearch.method = darts_1st gdas\nsearch.seed = 0 1\n")
    return out


def test_sweep_report_and_rerun(data_root, tmp_path):
    out = write_tiny_study(data_root, tmp_path)
    p = run("sweep", "--config", str(tmp_path / "study.ini"))
    assert p.returncode == 0, p.stderr
    assert "| darts_1st |" in p.stdout and "| gdas |" in p.stdout and "published DARTS_V2" in p.stdout
    files = sorted(out.glob("*.h5"))
    experiments = [f for f in files if f.name != "summary.h5"]
    assert len(experiments) == 5
    for path in experiments:
        with h5py.File(path, "r") as f:
            assert f.attrs["kind"] == "experiment" and f.attrs["status"] == "finished"
            assert f["test_acc"].shape == (2,)
            assert f.attrs["parameters"] > 0 and f.attrs["multiply_adds"] > 0
            if f.attrs["method"] != "published DARTS_V2":
                assert f["search/arch/alpha_normal"].shape[0] == 1
                assert f.attrs["search_gpu_days"] > 0
    with h5py.File(out / "summary.h5", "r") as f:
        groups = [g.decode() for g in f["table/group"][:]]
        assert groups == ["darts_1st", "gdas", "published DARTS_V2"]
        assert np.all(f["table/finished"][:] == [2, 2, 1])
    # A second run skips every finished experiment and prints the same table.
    again = run("sweep", "--config", str(tmp_path / "study.ini"))
    assert again.returncode == 0 and "5 skipped" in again.stdout + again.stderr
    for fmt in ("csv", "tex"):
        r = run("report", str(out), "--format", fmt, "--table", "tiny")
        assert r.returncode == 0 and "darts" in r.stdout


@pytest.mark.skipif(shutil.which("mpirun") is None, reason="OpenMPI not installed")
def test_sweep_under_mpirun_splits_the_experiments(data_root, tmp_path):
    out = write_tiny_study(data_root, tmp_path)
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    p = subprocess.run(["mpirun", "--oversubscribe", "-np", "2", DNAS, "sweep", "--config", str(tmp_path / "study.ini")],
                       capture_output=True, text=True, timeout=600, env=env)
    assert p.returncode == 0, p.stderr
    assert p.stdout.count("| gdas |") == 1  # rank 0 prints the table once
    # Totals over both ranks: each experiment ran exactly once (no rank re-ran or skipped one).
    assert "5 finished, 0 failed, 0 skipped" in p.stdout + p.stderr
    finished = 0
    for path in experiment_files(out):
        with h5py.File(path, "r") as f:
            finished += f.attrs["status"] == "finished"
    assert finished == 5


@pytest.mark.skipif(shutil.which("mpirun") is None, reason="OpenMPI not installed")
def test_four_ranks_in_groups_of_two_run_each_experiment_data_parallel(data_root, tmp_path):
    out = write_tiny_study(data_root, tmp_path)
    study = tmp_path / "study.ini"
    study.write_text(study.read_text().replace("[study]\n", "[study]\nranks_per_experiment = 2\n")
                     .replace("search.seed = 0 1", "search.seed = 0").replace("eval_seeds = 0 1", "eval_seeds = 0"))
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    p = subprocess.run(["mpirun", "--oversubscribe", "-np", "4", DNAS, "sweep", "--config", str(study)],
                       capture_output=True, text=True, timeout=600, env=env)
    assert p.returncode == 0, p.stderr
    assert "in groups of 2" in p.stdout + p.stderr
    # Three experiments, each counted once although two ranks ran it.
    assert "3 finished, 0 failed, 0 skipped" in p.stdout + p.stderr
    assert p.stdout.count("| gdas |") == 1
    for path in experiment_files(out):
        with h5py.File(path, "r") as f:
            assert f.attrs["status"] == "finished"
            assert f.attrs["devices"] == 2  # search cost counts both ranks
            if f.attrs["method"] != "published DARTS_V2":
                assert f.attrs["search_gpu_days"] == pytest.approx(f.attrs["search_seconds"] * 2 / 86400)
    # A group of 3 cannot split 4 ranks: a clear error, not a hang.
    study.write_text(study.read_text().replace("ranks_per_experiment = 2", "ranks_per_experiment = 3"))
    bad = subprocess.run(["mpirun", "--oversubscribe", "-np", "4", DNAS, "sweep", "--config", str(study)],
                         capture_output=True, text=True, timeout=120, env=env)
    assert bad.returncode != 0
    assert "study.ranks_per_experiment" in bad.stderr + bad.stdout


@pytest.mark.skipif(shutil.which("mpirun") is None, reason="OpenMPI not installed")
def test_experiments_that_differ_in_retrain_keys_share_one_search(data_root, tmp_path):
    out = write_tiny_study(data_root, tmp_path)
    study = tmp_path / "study.ini"
    # Two cells of one search (after epoch 1 and 2), each retrained at two depths; the zipped key
    # mixes a search and a retrain key. Two ranks take experiments of the same search at once.
    study.write_text(study.read_text().replace("published = DARTS_V2\n", "").replace("eval_seeds = 0 1", "eval_seeds = 0")
                     .replace("search.method = darts_1st gdas\nsearch.seed = 0 1\n",
                              "retrain.model.genotype_epoch = 1 2\nsearch.method+retrain.model.layers = "
                              "darts_1st+3 darts_1st+4\n"))
    (tmp_path / "search.ini").write_text((tmp_path / "search.ini").read_text().replace("epochs = 1", "epochs = 2"))
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    p = subprocess.run(["mpirun", "--oversubscribe", "-np", "2", DNAS, "sweep", "--config", str(study)],
                       capture_output=True, text=True, timeout=600, env=env)
    assert p.returncode == 0, p.stderr
    assert "4 finished, 0 failed, 0 skipped" in p.stdout + p.stderr
    searches = [d for d in (out / "searches").iterdir() if d.is_dir()]
    assert len(searches) == 1  # one search for the four experiments
    with h5py.File(searches[0] / "results.h5", "r") as f:
        per_epoch = list(f["search/genotypes"][:].astype(str))
    assert len(per_epoch) == 2
    seconds = set()
    for path in experiment_files(out):
        with h5py.File(path, "r") as f:
            assert f.attrs["status"] == "finished"
            epoch, layers = int(f.attrs["grid.retrain.model.genotype_epoch"]), int(f.attrs["grid.retrain.model.layers"])
            assert f["train/seed0"].attrs["genotype"] == per_epoch[epoch - 1]
            assert f"retrain 1 ep L{layers} C4 cell@ep{epoch}" in f.attrs["protocol"]
            seconds.add(round(float(f.attrs["search_seconds"]), 6))
    assert len(seconds) == 1  # every row reports the cost of the one search that made its cell
    # Rerun with another thread count and a new depth: the settings that cannot change a search's
    # results do not name it, so the new experiments reuse the finished search.
    (tmp_path / "search.ini").write_text((tmp_path / "search.ini").read_text().replace("threads = 1", "threads = 2"))
    study.write_text(study.read_text().replace("darts_1st+3 darts_1st+4", "darts_1st+3 darts_1st+4 darts_1st+5"))
    p = subprocess.run([DNAS, "sweep", "--config", str(study)], capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    # ids are the grid values: only the two depth-5 rows are new
    assert "2 finished, 0 failed, 4 skipped" in p.stdout + p.stderr
    assert (p.stdout + p.stderr).count("reuses the finished search") == 2
    assert len([d for d in (out / "searches").iterdir() if d.is_dir()]) == 1
