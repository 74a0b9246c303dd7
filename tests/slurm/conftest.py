"""A real one-host Slurm cluster (scripts/slurm_cluster.sh: munged, slurmctld and two emulated
slurmd nodes) for the job-script suite, and tiny studies on a tiny Fashion-MNIST-format set."""
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "common"))
from tiny_data import write_tiny_fmnist  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
DNAS = str(Path(os.environ.get("DNAS_BIN", ROOT / "build" / "bin" / "dnas")).resolve())
FINAL = ("COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY", "BOOT_FAIL", "DEADLINE")


def have_slurm():
    return os.geteuid() == 0 and all(shutil.which(t) for t in ("slurmctld", "slurmd", "sbatch", "munged"))


@pytest.fixture(scope="session")
def cluster():
    if not have_slurm():
        pytest.skip("needs root and Debian's slurmctld, slurmd, slurm-client and munge (scripts/install_deps.sh)")
    d = Path(tempfile.mkdtemp(prefix="dnas_slurm."))
    p = subprocess.run(["bash", str(ROOT / "scripts" / "slurm_cluster.sh"), "start", str(d), "2"],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    env = dict(os.environ, SLURM_CONF=str(d / "slurm.conf"), OMPI_MCA_btl="self,tcp", DNAS=DNAS,
               OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    yield Cluster(d, env)
    subprocess.run(["bash", str(ROOT / "scripts" / "slurm_cluster.sh"), "stop", str(d)], timeout=120)
    shutil.rmtree(d, ignore_errors=True)


class Cluster:
    def __init__(self, d, env):
        self.dir, self.env = d, env

    def sbatch(self, script_args, nodes, tasks_per_node, log, study=None, extra=()):
        """Submits a real jobs/ script (or --wrap) sized down to this cluster; returns the job id."""
        env = dict(self.env, **({"STUDY": str(study)} if study else {}))
        time = [] if any(e.startswith("--time") for e in extra) else ["--time=15"]
        cmd = ["sbatch", "--parsable", f"--nodes={nodes}", f"--ntasks-per-node={tasks_per_node}", "--cpus-per-task=1",
               "--gpus-per-node=0", *time, f"--output={log}", f"--chdir={ROOT}", *extra, *script_args]
        p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60)
        assert p.returncode == 0, p.stderr
        return p.stdout.strip().split(";")[0]

    def run(self, *args):
        return subprocess.run(list(args), capture_output=True, text=True, env=self.env, timeout=60)

    def state(self, job):
        out = self.run("scontrol", "show", "job", job).stdout
        for word in out.split():
            if word.startswith("JobState="):
                return word.split("=", 1)[1]
        return "UNKNOWN"

    def wait_state(self, job, states, limit):
        """Waits until the job is in one of `states`; a job stuck past `limit` seconds is a hang."""
        deadline = time.time() + limit
        while time.time() < deadline:
            s = self.state(job)
            if s in states:
                return s
            time.sleep(0.5)
        self.run("scancel", job)
        pytest.fail(f"hang: job {job} not in {states} after {limit} s (state {self.state(job)})")

    def wait_end(self, job, limit):
        return self.wait_state(job, FINAL, limit)

    def completions(self, job):
        """Final states jobcomp recorded for the job, in order (a requeue adds one line)."""
        path = self.dir / "jobcomp.txt"
        lines = path.read_text().splitlines() if path.exists() else []
        return [w.split("=", 1)[1] for line in lines if f"JobId={job} " in line
                for w in line.split() if w.startswith("JobState=")]


@pytest.fixture(scope="session")
def data_root(tmp_path_factory):
    return write_tiny_fmnist(tmp_path_factory.mktemp("fmnist"))


def write_study(tmp, data_root, name, seeds="0", epochs=1, ranks_per_experiment=1):
    """A tiny study: DARTS 1st order at the given search seeds, one eval seed."""
    (tmp / "search.ini").write_text(
        f"[supernet]\nchannels = 4\nlayers = 3\nsteps = 2\n[search]\nepochs = {epochs}\nsteps_per_epoch = 3\n"
        f"eval_batches = 1\n[data]\nbatch_size = 16\nroot = {data_root}\n[run]\nthreads = 1\nprogress = false\n")
    (tmp / "train.ini").write_text(
        "[model]\nchannels = 4\nlayers = 3\n[train]\nepochs = 1\nsteps_per_epoch = 2\n[data]\nbatch_size = 16\n"
        f"limit = 64\ntest_limit = 32\nroot = {data_root}\n[run]\nthreads = 1\nprogress = false\n")
    out = tmp / name
    study = tmp / f"{name}.ini"
    study.write_text(f"[study]\nname = {name}\nout_dir = {out}\nsearch_config = {tmp / 'search.ini'}\n"
                     f"train_config = {tmp / 'train.ini'}\neval_seeds = 0\nranks_per_experiment = {ranks_per_experiment}\n"
                     f"[grid]\nsearch.seed = {seeds}\n")
    return study, out
