"""Golden run: short runs of every search method, a retrain, a recurrent search with its retrain
and a small study, compared bit for bit with the values recorded before the structural refactor
(golden_cpu.json). Every dataset and attribute of the results and checkpoint files is digested
(SHA-256 of the raw bytes for arrays, the value itself for scalars and text), except wall-clock
times and provenance. New datasets may appear; a recorded one that changed or went missing fails.

The values depend on the CPU's instruction set (oneDNN and MKL pick kernels by it): the file
records the capability it was made on, and another capability skips with the reason.
Record anew (only when numbers are meant to change): DNAS_RECORD_GOLDEN=1 pytest tests/golden."""
import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "common"))
from tiny_data import write_tiny_fmnist  # noqa: E402

DNAS = os.environ.get("DNAS_BIN", "build/bin/dnas")
GOLDEN = Path(__file__).with_name("golden_cpu.json")
RECORD = os.environ.get("DNAS_RECORD_GOLDEN") == "1"
# Wall-clock values, provenance and the settings text (which gains keys over time).
NOT_COMPARED = re.compile(r"seconds|time|host|config|version|date|gpu_days|efficiency|command|provenance|threads"
                          r"|ranks|devices|started|written|busy|wall|origin|corpus|root|out_dir|revision"
                          r"|(^|/)history$", re.I)  # a checkpoint's history table holds epoch times
# name -> the settings of that run beyond SEARCH
METHODS = {m: [f"--search.method={m}"] for m in ["darts_1st", "darts_2nd", "milenas", "gdas", "itnas", "eoinas",
                                                  "darts_sc", "milenas_sc", "random", "random_ws"]}
METHODS["nasp"] = ["--search.method=nasp", "--supernet.op_set=nasp7"]
METHODS["nasp_standard"] = ["--search.method=nasp", "--supernet.op_set=nasp12", "--nasp.variant=standard"]
# The supernet runs channels-last by default; NCHW gives the same numbers for these runs except
# where full convolutions (nasp12) pick another oneDNN kernel.
METHODS["nasp_standard_nchw"] = METHODS["nasp_standard"] + ["--supernet.channels_last=false"]
SEARCH = ["--supernet.channels=4", "--supernet.layers=3", "--supernet.steps=2", "--search.epochs=2",
          "--search.steps_per_epoch=3", "--data.batch_size=16", "--data.limit=96", "--search.eval_batches=2",
          "--eoinas.warmup_epochs=1", "--eoinas.prune_every=1", "--random.candidates=3", "--random.eval_batches=1",
          "--run.threads=1", "--run.progress=false"]
TRAIN = ["--model.channels=4", "--model.layers=3", "--model.auxiliary=true", "--model.drop_path=0.2",
         "--train.epochs=2", "--train.steps_per_epoch=3", "--data.batch_size=16", "--data.limit=96",
         "--data.val_portion=0.25", "--train.select=best_val", "--data.cutout=6", "--data.test_limit=32",
         "--run.threads=1", "--run.progress=false"]
RNN = ["--model.hidden=12", "--search.epochs=2", "--search.batch_size=8", "--search.eval_batch_size=8",
       "--search.bptt=6", "--search.steps_per_epoch=3", "--search.eval_batches=2", "--retrain.hidden=12",
       "--retrain.batch_size=8", "--retrain.eval_batch_size=8", "--retrain.test_batch_size=8", "--retrain.bptt=6",
       "--retrain.steps_per_epoch=3", "--retrain.eval_batches=2", "--retrain.epochs=2", "--run.threads=1",
       "--run.progress=false"]


def run(*args, cwd=None):
    p = subprocess.run([str(Path(DNAS).resolve()), *args], capture_output=True, text=True, timeout=600, cwd=cwd)
    assert p.returncode == 0, f"dnas {' '.join(args[:2])}: {p.stderr[-3000:]}"
    return p


def value_digest(v):
    if isinstance(v, bytes):
        return v.decode()
    if isinstance(v, (str, int, np.integer, bool, np.bool_)):
        return str(v)
    if isinstance(v, (float, np.floating)):
        return float(v).hex()
    a = np.asarray(v)
    if a.dtype.kind in "OSU":
        return hashlib.sha256("\n".join(x.decode() if isinstance(x, bytes) else str(x)
                                        for x in a.ravel()).encode()).hexdigest()
    return f"{a.dtype.str}{list(a.shape)}:" + hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()


def file_digest(path, label, depth=None):
    """name -> digest for every dataset and attribute; with `depth`, the datasets below each group
    of that depth (e.g. a checkpoint's tensors/model) share one digest."""
    out, groups = {}, {}
    with h5py.File(path, "r") as f:
        def add(name, obj):
            if NOT_COMPARED.search(name):
                return
            if isinstance(obj, h5py.Dataset):
                if depth is None:
                    out[f"{label}:{name}"] = value_digest(obj[()])
                else:
                    group = "/".join(name.split("/")[:depth])
                    groups.setdefault(group, []).append(name + "=" + value_digest(obj[()]))
            for key, v in obj.attrs.items():
                if not NOT_COMPARED.search(key):
                    out[f"{label}:{name}@{key}"] = value_digest(v)
        add("", f)
        f.visititems(add)
    for group, items in groups.items():
        out[f"{label}:{group}/*"] = hashlib.sha256("\n".join(sorted(items)).encode()).hexdigest()
    return out


def text_digest(path, label):
    return {f"{label}": path.read_text()}


def cpu_capability():
    """The instruction-set extensions that decide which kernels oneDNN and MKL run."""
    flags = set(re.search(r"^flags\s*:(.*)$", Path("/proc/cpuinfo").read_text(), re.M).group(1).split())
    return " ".join(f for f in ("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile", "amx_bf16")
                    if f in flags) or "baseline"


@pytest.fixture(scope="module")
def data_root(tmp_path_factory):
    return write_tiny_fmnist(tmp_path_factory.mktemp("fmnist"))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    rng = np.random.default_rng(0)
    for split, n in (("train", 300), ("valid", 80), ("test", 80)):
        lines = [" ".join(f"w{w}" for w in rng.integers(0, 15, rng.integers(3, 10))) for _ in range(n)]
        (root / f"ptb.{split}.txt").write_text("\n".join(lines) + "\n")
    return root


def golden_digests(data_root, corpus, tmp):
    d = {}
    for method, settings in METHODS.items():
        out = tmp / f"search_{method}"
        run("search", f"--data.root={data_root}", *settings, f"--run.out_dir={out}", *SEARCH)
        d.update(file_digest(out / "results.h5", f"search.{method}.results"))
        if (out / "checkpoint.h5").exists():  # `random` trains no supernet
            d.update(file_digest(out / "checkpoint.h5", f"search.{method}.checkpoint", depth=2))
        d.update(text_digest(out / "genotype.txt", f"search.{method}.genotype"))
    out = tmp / "train"
    run("train", f"--data.root={data_root}", f"--model.genotype={tmp / 'search_darts_1st'}", f"--run.out_dir={out}",
        *TRAIN)
    d.update(file_digest(out / "results.h5", "train.results"))
    d.update(file_digest(out / "checkpoint.h5", "train.checkpoint", depth=2))
    for method in ("darts_1st", "darts_2nd", "nasp"):
        out = tmp / f"rnn_{method}"
        run("rnn", "search", f"--data.corpus={corpus}", f"--search.method={method}", f"--run.out_dir={out}", *RNN)
        d.update(file_digest(out / "results.h5", f"rnn.{method}.results"))
    study = tmp / "study"
    study.mkdir()
    (study / "search.ini").write_text(
        "[supernet]\nchannels = 4\nlayers = 3\nsteps = 2\n[search]\nepochs = 2\nsteps_per_epoch = 2\n"
        f"eval_batches = 1\n[data]\nbatch_size = 16\nlimit = 64\nroot = {data_root}\n"
        "[run]\nthreads = 1\nprogress = false\n")
    (study / "train.ini").write_text(
        "[model]\nchannels = 4\nlayers = 3\n[train]\nepochs = 2\nsteps_per_epoch = 2\n[data]\nbatch_size = 16\n"
        f"limit = 64\ntest_limit = 32\nroot = {data_root}\n[run]\nthreads = 1\nprogress = false\n")
    (study / "study.ini").write_text(
        f"[study]\nname = golden\nout_dir = {study / 'out'}\nsearch_config = {study / 'search.ini'}\n"
        f"train_config = {study / 'train.ini'}\neval_seeds = 0 1\npublished = DARTS_V2\n"
        "[grid]\nsearch.method = darts_1st gdas\nsearch.seed = 0 1\n")
    run("sweep", "--config", str(study / "study.ini"))
    for path in sorted((study / "out").glob("*.h5")):
        if path.name != "summary.h5":
            d.update(file_digest(path, f"study.{path.stem}"))
    return d


def test_numbers_match_the_golden_run(data_root, corpus, tmp_path):
    capability = cpu_capability()
    if RECORD:
        first = golden_digests(data_root, corpus, tmp_path / "a")
        again = golden_digests(data_root, corpus, tmp_path / "b")
        unstable = sorted(k for k in first if first[k] != again.get(k))
        assert not unstable, f"values that differ between two identical runs: {unstable}"
        GOLDEN.write_text(json.dumps({"cpu_capability": capability, "digests": first}, indent=1, sort_keys=True) + "\n")
        return
    golden = json.loads(GOLDEN.read_text())
    if golden["cpu_capability"] != capability:
        pytest.skip(f"golden values were recorded on a {golden['cpu_capability']} CPU, this one is {capability}")
    now = golden_digests(data_root, corpus, tmp_path)
    missing = sorted(k for k in golden["digests"] if k not in now)
    changed = sorted(k for k in golden["digests"] if k in now and now[k] != golden["digests"][k])
    assert not missing, f"{len(missing)} recorded values are no longer written: {missing[:20]}"
    assert not changed, f"{len(changed)} values differ from the golden run, first: " + "; ".join(
        f"{k}: {golden['digests'][k][:80]!r} -> {now[k][:80]!r}" for k in changed[:8])
