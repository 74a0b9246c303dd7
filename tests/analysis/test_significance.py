"""`dnas report`'s significance columns against SciPy's Welch t-test on the same per-seed errors."""
import csv
import io
import os
import subprocess

import h5py
import numpy as np
import pytest

stats = pytest.importorskip("scipy.stats")
DNAS = os.environ.get("DNAS_BIN", "build/bin/dnas")


def write_experiment(path, method, seed, acc):
    with h5py.File(path, "w") as f:
        for k, v in (("kind", "experiment"), ("status", "finished"), ("error", ""), ("method", method),
                     ("id", path.stem), ("grid.search.method", method), ("grid.search.seed", str(seed))):
            f.attrs[k] = v
        f["test_acc"] = np.asarray(acc, dtype=np.float64)


def test_welch_columns_match_scipy(tmp_path):
    # Per search seed: the mean error over two eval seeds.
    rng = np.random.default_rng(3)
    acc = {"darts_1st": rng.uniform(0.70, 0.80, (4, 2)), "gdas": rng.uniform(0.74, 0.84, (3, 2)),
           "random": rng.uniform(0.60, 0.80, (6, 2))}
    for method, seeds in acc.items():
        for s, a in enumerate(seeds):
            write_experiment(tmp_path / f"{method}_{s}.h5", method, s, a)
    p = subprocess.run([DNAS, "report", str(tmp_path), "--format", "csv", "--baseline", "darts_1st"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    rows = {r["method"]: r for r in csv.DictReader(io.StringIO(p.stdout))}
    err = {m: 100 * (1 - a).mean(axis=1) for m, a in acc.items()}
    for method, base, col in (("gdas", "darts_1st", "vs_baseline"), ("gdas", "random", "vs_random"),
                              ("darts_1st", "random", "vs_random")):
        expected = stats.ttest_ind(err[method], err[base], equal_var=False)
        assert float(rows[method][f"{col}_p"]) == pytest.approx(expected.pvalue, rel=1e-4)
        assert float(rows[method][f"{col}_diff"]) == pytest.approx(err[method].mean() - err[base].mean(), abs=1e-5)
        verdict = rows[method][f"{col}_verdict"]
        assert verdict == ("within noise" if expected.pvalue >= 0.05 else
                           "better" if expected.statistic < 0 else "worse")
    assert rows["darts_1st"]["vs_baseline_p"] == ""  # the baseline itself
    assert int(rows["gdas"]["search_seeds"]) == 3 and int(rows["gdas"]["eval_seeds"]) == 2
    md = subprocess.run([DNAS, "report", str(tmp_path), "--baseline", "darts_1st"], capture_output=True, text=True,
                        timeout=60)
    assert "(baseline)" in md.stdout and "p = " in md.stdout
