"""analysis/ on the files of a real (tiny) study: DARTS, NASP, DARTS-SC (cells with any number of
inputs per node) and both random baselines at two layer counts, two search seeds and two eval
seeds, searched, retrained and reported by the dnas binary."""
import os
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest
from scipy import stats as scipy_stats

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "analysis"))
from dnas_analysis import cells, figures, study, tables  # noqa: E402

DNAS = os.environ.get("DNAS_BIN", "build/bin/dnas")
DARTS7 = ["max_pool_3x3", "avg_pool_3x3", "skip_connect", "sep_conv_3x3", "sep_conv_5x5", "dil_conv_3x3",
          "dil_conv_5x5"]


@pytest.fixture(scope="module")
def tiny_study(data_root, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("study")
    (tmp / "search.ini").write_text(
        "[supernet]\nchannels = 4\nsteps = 2\nop_set = darts7\n[search]\nepochs = 2\nsteps_per_epoch = 2\neval_batches = 1\n"
        f"[random]\ncandidates = 4\neval_batches = 1\n[data]\nbatch_size = 16\nlimit = 64\nroot = {data_root}\n"
        "[run]\nthreads = 1\nprogress = false\n")
    (tmp / "train.ini").write_text(
        "[model]\nchannels = 4\nlayers = 3\n[train]\nepochs = 1\nsteps_per_epoch = 2\n[data]\nbatch_size = 16\n"
        f"limit = 64\ntest_limit = 32\nroot = {data_root}\n[run]\nthreads = 1\nprogress = false\n")
    out = tmp / "out"
    (tmp / "study.ini").write_text(
        f"[study]\nname = tiny comparison\nout_dir = {out}\nsearch_config = {tmp / 'search.ini'}\n"
        f"train_config = {tmp / 'train.ini'}\neval_seeds = 0 1\n"
        "[grid]\nsearch.method = darts_1st nasp darts_sc random random_ws\nsupernet.layers = 3 4\nsearch.seed = 0 1\n")
    p = subprocess.run([DNAS, "sweep", "--config", str(tmp / "study.ini")], capture_output=True, text=True, timeout=900)
    assert p.returncode == 0, p.stderr
    return out


def per_seed_means(experiments):
    """{(method, layers): [mean error % over the eval seeds, one per search seed]}."""
    out = {}
    for e in experiments:
        out.setdefault((e.method, e.layers()), []).append(float(np.mean(e.test_error)))
    return out


def test_tables_match_the_experiment_files(tiny_study):
    title, rows = study.load_summary(tiny_study / "summary.h5")
    assert title == "tiny comparison"
    experiments = study.load_experiments(tiny_study)
    assert len(experiments) == 20 and all(e.status == "finished" for e in experiments)
    assert all(e.test_acc.shape == (2,) for e in experiments)
    by_group = {r["group"]: r for r in rows}
    err = per_seed_means(experiments)
    for (method, layers), seeds in err.items():
        row = by_group[f"{method}, supernet.layers={layers}"]
        assert row["error_mean"] == pytest.approx(np.mean(seeds), abs=1e-9)
        assert row["error_std_search_seeds"] == pytest.approx(np.std(seeds, ddof=1), abs=1e-9)
        base = np.mean(err[("random", layers)])
        assert row["vs_random"] == pytest.approx(100 * (base - np.mean(seeds)) / base, abs=1e-6)
        if method != "random" and np.std(seeds) + np.std(err[("random", layers)]) > 0:
            welch = scipy_stats.ttest_ind(seeds, err[("random", layers)], equal_var=False)
            assert row["vs_random_p"] == pytest.approx(welch.pvalue, rel=1e-4)
            assert row["vs_random_diff"] == pytest.approx(np.mean(seeds) - np.mean(err[("random", layers)]), abs=1e-6)
        assert "fashion_mnist; search 2 ep L" in row["protocol"] and "final-epoch" in row["protocol"]
        assert row["runs"] == 2 and row["finished"] == 2
    # Two search seeds and two eval seeds: both spreads are measured, not placeholders.
    assert any(r["error_std_search_seeds"] > 0 for r in rows) and any(r["error_std_eval_seeds"] > 0 for r in rows)
    md = tables.markdown(rows, title)
    assert md.startswith("### tiny comparison") and md.count("\n| ") == 11  # header + 10 rows
    assert f"| darts_1st, supernet.layers=3 | {by_group['darts_1st, supernet.layers=3']['error_mean']:.2f} ±" in md
    tex = tables.latex(rows, title)
    assert "darts\\_1st" in tex and "$\\pm$" in tex and tex.rstrip().endswith("\\end{tabular}")


def test_random_baseline_trains_nothing_and_random_ws_trains_the_supernet(tiny_study):
    for e in study.load_experiments(tiny_study):
        with h5py.File(e.path, "r") as f:
            epochs = f["search"].attrs["epochs"]
        assert epochs == (0 if e.method == "random" else 2), e.method


def test_arch_weights_are_softmax_or_raw_nasp_alphas(tiny_study):
    darts = next(tiny_study.glob("*darts_1st*layers-3*.h5"))
    w, ops = figures.arch_weights(darts, "normal")
    assert ops == DARTS7 and w.shape == (2, 5, 7)  # 2 epochs, 2 steps -> 5 edges
    np.testing.assert_allclose(w.sum(-1), 1.0, atol=1e-6)
    nasp = next(tiny_study.glob("*nasp*layers-3*.h5"))
    w, _ = figures.arch_weights(nasp, "reduce")
    with h5py.File(nasp, "r") as f:
        np.testing.assert_array_equal(w, f["search/arch/alpha_reduce"][:])
    assert w.min() >= 0 and w.max() <= 1


def test_error_vs_layers_means_each_search_seed(tiny_study):
    experiments = study.load_experiments(tiny_study)
    data = figures.error_vs_layers(experiments)
    assert sorted(data) == ["darts_1st", "darts_sc", "nasp", "random", "random_ws"]
    err = per_seed_means(experiments)
    for method, (layers, mean, std) in data.items():
        assert layers == [3, 4]
        assert mean == [pytest.approx(np.mean(err[(method, n)])) for n in layers]
        assert std == [pytest.approx(np.std(err[(method, n)], ddof=1)) for n in layers]


def test_error_vs_layers_keeps_other_grid_values_apart(tiny_study):
    experiments = study.load_experiments(tiny_study)
    for e in experiments:  # as if the study also varied the cell's node count
        e.grid["supernet.steps"] = "2" if e.grid["search.seed"] == "0" else "3"
    data = figures.error_vs_layers(experiments)
    assert "nasp, supernet.steps=2" in data and "nasp, supernet.steps=3" in data
    layers, _, std = data["nasp, supernet.steps=2"]
    assert layers == [3, 4] and std == [0.0, 0.0]  # one search seed per curve point


def test_cell_graph_has_one_edge_per_gene_and_concat(tiny_study):
    experiments = study.load_experiments(tiny_study)
    darts = next(x for x in experiments if x.method == "darts_1st")
    nodes, concat = cells.parse_genotype(darts.genotype)["normal"]
    assert [len(n) for n in nodes] == [2, 2] and concat == [2, 3]
    for e in experiments:  # stretchable cells: any number of inputs per node, dropped nodes
        for nodes, concat in cells.parse_genotype(e.genotype).values():
            source = cells.cell_graph(nodes, concat).source
            assert source.count("->") == sum(len(n) for n in nodes) + len(concat)
            for node in nodes:
                for op, _ in node:
                    assert f"label={op}" in source
    flat = cells.parse_genotype("Genotype(normal=[('sep_conv_3x3', 0), ('skip_connect', 1)], normal_concat=[2], "
                                "reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1)], reduce_concat=range(2, 3))")
    nested = cells.parse_genotype("Genotype(normal=[[('sep_conv_3x3', 0)], [], [('dil_conv_3x3', 1), "
                                  "('skip_connect', 0), ('avg_pool_3x3', 2)]], normal_concat=[2, 4], "
                                  "reduce=[[('max_pool_3x3', 1)], [('skip_connect', 2)], [('sep_conv_5x5', 3)]], "
                                  "reduce_concat=[2, 3, 4])")
    assert flat["reduce"] == ([[("max_pool_3x3", 0), ("max_pool_3x3", 1)]], [2])
    assert nested["normal"] == ([[("sep_conv_3x3", 0)], [], [("dil_conv_3x3", 1), ("skip_connect", 0),
                                                              ("avg_pool_3x3", 2)]], [2, 4])
    assert cells.cell_graph(*nested["normal"]).source.count("->") == 4 + 2


def test_figures_command_writes_every_output(tiny_study, tmp_path):
    p = subprocess.run([sys.executable, str(ROOT / "analysis" / "dnas_figures.py"), str(tiny_study), "--out",
                        str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    for name in ("table.md", "table.tex", "error_vs_layers.png", "search_curves.png"):
        assert (tmp_path / name).stat().st_size > 0, name
    assert (tmp_path / "error_vs_layers.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # darts_1st, nasp and darts_sc (op alphas) at 2 layer counts x 2 seeds; every cell drawn
    assert len(list(tmp_path.glob("alphas_*_normal.png"))) == 12
    assert len(list((tmp_path / "cells").glob("*.gv"))) == 40  # 20 experiments x 2 cells
    missing = subprocess.run([sys.executable, str(ROOT / "analysis" / "dnas_figures.py"), str(tmp_path)],
                             capture_output=True, text=True)
    assert missing.returncode != 0 and "summary.h5" in missing.stderr


def test_search_curves_read_the_search_metrics_and_count_discrete_changes(tiny_study):
    for e in study.load_experiments(tiny_study):
        if e.method == "random":
            continue
        acc, changes = study.search_curve(e.path)
        with h5py.File(e.path, "r") as f:
            np.testing.assert_allclose(acc, 100 * f["search/metrics/val_acc"][:])
            if e.method != "nasp":
                assert changes is None
                continue
            # Independently: an edge changed when its selected op (argmax of the non-zero entry,
            # -1 for a dropped edge) differs between consecutive epochs.
            expected = np.zeros(len(acc), dtype=int)
            for cell in ("normal", "reduce"):
                d = f[f"search/arch/discrete_{cell}"][:]
                op = np.where((d != 0).any(axis=2), np.abs(d).argmax(axis=2), -1)
                expected[1:] += (op[1:] != op[:-1]).sum(axis=1)
        np.testing.assert_array_equal(changes, expected)
        assert changes[0] == 0
