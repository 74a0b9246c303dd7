"""End-to-end: `dnas rnn search` (with a retrain) and `dnas rnn train` on a generated corpus in
the PTB file format, and the results.h5 they write."""
import os
import random
import subprocess
from pathlib import Path

import h5py
import pytest

DNAS = os.environ.get("DNAS_BIN", "build/bin/dnas")
TINY = ["--model.hidden=12", "--search.epochs=2", "--search.batch_size=8", "--search.eval_batch_size=8",
        "--search.bptt=6", "--search.steps_per_epoch=3", "--search.eval_batches=2", "--retrain.hidden=12",
        "--retrain.batch_size=8", "--retrain.eval_batch_size=8", "--retrain.test_batch_size=8", "--retrain.bptt=6",
        "--retrain.steps_per_epoch=3", "--retrain.eval_batches=2", "--run.threads=1", "--run.progress=false"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    rng = random.Random(0)
    for split, n in (("train", 300), ("valid", 80), ("test", 80)):
        lines = [" ".join(f"w{rng.randrange(15)}" for _ in range(rng.randrange(3, 10))) for _ in range(n)]
        (root / f"ptb.{split}.txt").write_text("\n".join(lines) + "\n")
    return root


def run(*args):
    return subprocess.run([DNAS, "rnn", *args], capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize("method", ["darts_1st", "nasp"])
def test_search_then_retrain_writes_results(corpus, tmp_path, method):
    out = tmp_path / method
    p = run("search", f"--data.corpus={corpus}", f"--search.method={method}", "--retrain.epochs=2",
            f"--run.out_dir={out}", *TINY)
    assert p.returncode == 0, p.stderr
    assert f"| {method} |" in p.stdout
    with h5py.File(out / "results.h5", "r") as f:
        assert f.attrs["kind"] == "rnn" and f.attrs["status"] == "finished"
        assert f.attrs["vocab"] == 16  # w0..w14 and <eos>
        assert f"method = {method}" in f.attrs["config"]
        s = f["search"]
        # DARTS searches none + the 4 activations by default, NASP the 4 activations
        assert s["alphas"].shape == (2, 36, 4 if method == "nasp" else 5)
        assert s["valid_ppl"].shape == (2,) and (s["valid_ppl"][:] > 1).all()
        genotype = s.attrs["genotype"]
        assert genotype.startswith("Genotype(recurrent=[") and genotype.endswith("concat=range(1, 9))")
        assert s["genotypes"][-1].decode() == genotype
        if method == "nasp":
            assert (s["alphas"][:] >= 0).all() and (s["alphas"][:] <= 1).all()
        r = f["retrain"]
        assert r.attrs["genotype"] == genotype
        assert r["valid_ppl"].shape == (2,)
        assert 1 < r.attrs["test_ppl"] < 100
        assert r.attrs["params"] == 16 * 12 + 16 + 24 * 24 + 8 * 12 * 24


def test_train_published_cell_and_clear_errors(corpus, tmp_path):
    out = tmp_path / "train"
    p = run("train", f"--data.corpus={corpus}", "--retrain.genotype=DARTS_V2", "--retrain.epochs=1",
            f"--run.out_dir={out}", *TINY)
    assert p.returncode == 0, p.stderr
    with h5py.File(out / "results.h5", "r") as f:
        assert "search" not in f and f["retrain"].attrs["test_ppl"] > 1
    p = run("train", f"--data.corpus={corpus}", "--retrain.genotype=Genotype(recurrent=[('gelu', 0)], concat=range(1, 2))",
            "--retrain.epochs=1", f"--run.out_dir={tmp_path / 'bad'}", *TINY)
    assert p.returncode != 0 and "gelu" in p.stderr
    p = run("search", f"--data.corpus={tmp_path / 'missing'}", f"--run.out_dir={tmp_path / 'x'}", *TINY)
    assert p.returncode != 0 and "data.corpus" in p.stderr
    p = run("search", f"--data.corpus={corpus}", "--search.method=gdas", *TINY)
    assert p.returncode != 0 and "search.method" in p.stderr


def test_sigterm_keeps_the_finished_epochs(corpus, tmp_path):
    import signal
    import time
    out = tmp_path / "stopped"
    args = [a for a in TINY if not a.startswith("--search.epochs")]
    proc = subprocess.Popen([DNAS, "rnn", "search", f"--data.corpus={corpus}", "--search.epochs=400",
                             f"--run.out_dir={out}", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while not (out / "results.h5").exists() and time.time() < deadline:
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 75, err
    assert "--resume" in err
    with h5py.File(out / "results.h5", "r") as f:
        assert f.attrs["status"] == "interrupted"
        done = f["search/valid_ppl"].shape[0]
        assert 1 <= done < 400
    # --resume continues from the last finished epoch: the history up to there is kept.
    p = run("search", f"--data.corpus={corpus}", "--search.epochs=" + str(done + 1), f"--run.out_dir={out}", "--resume",
            *args)
    assert p.returncode == 0, p.stderr
    with h5py.File(out / "results.h5", "r") as f:
        assert f.attrs["status"] == "finished" and f["search/valid_ppl"].shape[0] == done + 1


def test_rnn_table_aggregates_seeds(corpus, tmp_path):
    import sys
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "analysis"))
    from dnas_analysis import rnn
    dirs = []
    for method in ("darts_1st", "nasp"):
        for seed in (1, 2):
            out = tmp_path / f"{method}_{seed}"
            p = run("search", f"--data.corpus={corpus}", f"--search.method={method}", f"--search.seed={seed}",
                    "--retrain.epochs=1", f"--run.out_dir={out}", *TINY)
            assert p.returncode == 0, p.stderr
            dirs.append(out)
    rows = {r["method"]: r for r in rnn.rnn_table(rnn.load_rnn_runs(dirs))}
    assert sorted(rows) == ["darts_1st", "nasp"]
    tests = []
    for d in dirs[2:]:
        with h5py.File(d / "results.h5", "r") as f:
            tests.append(f["retrain"].attrs["test_ppl"])
    assert rows["nasp"]["runs"] == 2
    assert rows["nasp"]["test_ppl"][0] == pytest.approx(sum(tests) / 2)
    assert rows["nasp"]["test_ppl"][1] == pytest.approx(abs(tests[0] - tests[1]) / 2 ** 0.5)
    table = subprocess.run([sys.executable, str(Path(__file__).resolve().parents[2] / "analysis" / "dnas_rnn_table.py"),
                            *map(str, dirs)], capture_output=True, text=True)
    assert table.returncode == 0 and "| nasp | 2 |" in table.stdout
