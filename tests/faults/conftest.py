"""The fault suite's harness: a tiny dataset and configs, dnas runs bounded by a timeout (a hang
fails the test instead of the suite), and the table of fault -> outcome that README shows
(written to $DNAS_FAULT_TABLE and printed at the end)."""
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "common"))
from tiny_data import write_tiny_fmnist  # noqa: E402

DNAS = str(Path(os.environ.get("DNAS_BIN", "build/bin/dnas")).resolve())
MPI_ENV = {"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1", "OMP_NUM_THREADS": "1"}
ROWS = []


class Run:
    def __init__(self, code, out, err, seconds):
        self.code, self.out, self.err, self.seconds = code, out, err, seconds

    @property
    def text(self):
        return self.out + self.err


def run(args, timeout=120, env=None, mpi_ranks=0):
    """Runs dnas (under `mpirun -np mpi_ranks` when > 0); a run past `timeout` is a hang."""
    cmd = ([  "mpirun", "--oversubscribe", "-np", str(mpi_ranks)] if mpi_ranks else []) + [DNAS] + [str(a) for a in args]
    start = time.time()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                           env=dict(os.environ, **MPI_ENV, **(env or {})))
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"hang: {' '.join(cmd)} ran past {timeout} s\n{e.stderr}")
    return Run(p.returncode, p.stdout, p.stderr, time.time() - start)


def outcome(r):
    if r.code == 0:
        return "completed"
    if r.code in (1, 2, 75):
        return "clean failure, nothing lost" if r.code != 75 else "stopped with a checkpoint (exit 75)"
    return f"crash (exit {r.code})"


@pytest.fixture
def record(request):
    """record(fault, run_or_outcome, seconds=None): one row of the fault table."""
    def add(fault, r, seconds=None):
        if isinstance(r, Run):
            ROWS.append((fault, outcome(r), r.seconds))
        else:
            ROWS.append((fault, r, seconds or 0.0))
    return add


def pytest_sessionfinish(session, exitstatus):
    if not ROWS:
        return
    lines = ["| fault | outcome | time (s) |", "|---|---|---|"]
    lines += [f"| {f} | {o} | {s:.1f} |" for f, o, s in ROWS]
    table = "\n".join(lines) + "\n"
    path = os.environ.get("DNAS_FAULT_TABLE")
    if path:
        Path(path).write_text(table)
    print("\n" + table)


@pytest.fixture(scope="module")
def data_root(tmp_path_factory):
    return write_tiny_fmnist(tmp_path_factory.mktemp("fmnist"))


@pytest.fixture
def configs(data_root, tmp_path):
    """A tiny search config, a tiny retrain config and a study of both (2 search seeds)."""
    search = tmp_path / "search.ini"
    search.write_text(
        "[supernet]\nchannels = 4\nlayers = 3\nsteps = 2\n[search]\nepochs = 1\nsteps_per_epoch = 2\n"
        f"eval_batches = 1\n[data]\nbatch_size = 16\nlimit = 64\nroot = {data_root}\n"
        "[run]\nthreads = 1\nprogress = false\n")
    train = tmp_path / "train.ini"
    train.write_text(
        "[model]\nchannels = 4\nlayers = 3\n[train]\nepochs = 1\nsteps_per_epoch = 2\n[data]\nbatch_size = 16\n"
        f"limit = 64\ntest_limit = 32\nroot = {data_root}\n[run]\nthreads = 1\nprogress = false\n")
    study = tmp_path / "study.ini"
    study.write_text(f"[study]\nname = tiny\nout_dir = {tmp_path / 'study'}\nsearch_config = {search}\n"
                     f"train_config = {train}\neval_seeds = 0\n[grid]\nsearch.seed = 0 1\n")
    return {"search": search, "train": train, "study": study, "study_dir": tmp_path / "study", "tmp": tmp_path}
