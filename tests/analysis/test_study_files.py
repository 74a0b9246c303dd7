"""Every study file in config/ expands into valid experiments (`dnas sweep --list` parses and
validates each experiment's search and retrain settings), every paper table has a small
companion with the same grid keys, and zipped grid keys give ablation rows, not products."""
import configparser
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DNAS = os.environ.get("DNAS_BIN", "build/bin/dnas")
STUDIES = sorted(p for p in [*ROOT.glob("config/study_*.ini"), *ROOT.glob("config/paper/*table*.ini")]
                 if not p.stem.endswith(("_search", "_train")))


def listing(study, cwd=ROOT):
    return subprocess.run([str(Path(DNAS).resolve()), "sweep", "--config", str(study), "--list"], capture_output=True,
                          text=True, timeout=120, cwd=cwd)


def grid_keys(path):
    c = configparser.ConfigParser()
    c.read(path)
    return sorted(c["grid"].keys())


@pytest.mark.parametrize("study", STUDIES, ids=lambda p: p.stem)
def test_study_file_expands(study):
    p = listing(study)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.strip().splitlines()
    count = int(lines[-1].split()[0])
    assert count == len(lines) - 1 > 0


def test_every_paper_table_has_a_small_companion():
    tables = [p for p in ROOT.glob("config/paper/*table*.ini") if not p.stem.endswith("_small")]
    assert len(tables) == 14
    for t in tables:
        small = t.with_name(t.stem + "_small.ini")
        assert small.exists(), small
        assert grid_keys(t) == grid_keys(small), t.stem
        assert (ROOT / "jobs" / "paper_table.sbatch").exists()


def test_zipped_grid_keys_are_rows(tmp_path):
    search = ROOT / "config" / "paper" / "search_small.ini"
    train = ROOT / "config" / "paper" / "retrain_small.ini"
    study = tmp_path / "s.ini"
    study.write_text(f"[study]\nsearch_config = {search}\ntrain_config = {train}\n[grid]\n"
                     "search.method+itnas.tiep+itnas.transition = itnas+true+true itnas+false+false\n"
                     "search.seed = 0 1 2\n")
    p = listing(study)
    assert p.returncode == 0, p.stderr
    ids = p.stdout.strip().splitlines()[:-1]
    assert len(ids) == 6  # 2 rows x 3 seeds, not 2 x 2 x 2 x 3
    assert "itnas.tiep-false_itnas.transition-false_search.seed-2" in ids[-1]
    study.write_text(study.read_text().replace("itnas+false+false", "itnas+false"))
    bad = listing(study)
    assert bad.returncode != 0 and "needs one part per key" in bad.stderr
    # An invalid combination is refused before anything runs, naming the key.
    study.write_text(study.read_text().replace("itnas+false", "itnas+true+false"))
    bad = listing(study)
    assert bad.returncode != 0 and "itnas.tiep" in bad.stderr


def grid_rows(path):
    """The grid's rows as dicts of key -> value (zipped keys split, other keys listed as values)."""
    c = configparser.ConfigParser()
    c.read(path)
    rows = []
    for key, values in c["grid"].items():
        names = key.split("+")
        rows.append([dict(zip(names, v.split("+"))) for v in values.split()])
    return rows


@pytest.mark.parametrize("table", sorted(p for p in ROOT.glob("config/paper/*table*.ini")), ids=lambda p: p.stem)
def test_every_paper_table_has_random_baselines(table):
    methods = {r.get("search.method") for key in grid_rows(table) for r in key if "search.method" in r}
    assert "random" in methods, table.stem


def test_paper_tables_use_the_papers_settings():
    paper = ROOT / "config" / "paper"
    # SC Table 3: 7- and 9-node cells are 4 and 6 intermediates (steps = nodes - 3).
    rows = grid_rows(paper / "sc_table3.ini")[0]
    assert {(r["search.method"], r["supernet.steps"]) for r in rows} >= {
        ("darts_2nd", "4"), ("darts_2nd", "6"), ("milenas_sc", "6")}
    # SC Table 4: one search per run, its cells at epochs 20..50 (DARTS 2nd and w/o SC).
    rows = grid_rows(paper / "sc_table4.ini")[0]
    epochs = {(r["search.method"], r["sc.variant"], r["retrain.model.genotype_epoch"]) for r in rows}
    for e in ("20", "30", "40", "50"):
        assert ("darts_2nd", "stretchable", e) in epochs and ("darts_sc", "fixed2", e) in epochs
    # SC Table 5: input vs output edges for DARTS 2nd (derivation) and w/o SC (topology).
    rows = grid_rows(paper / "sc_table5.ini")[0]
    assert {(r["search.method"], r["search.derive_edges"], r["sc.perspective"]) for r in rows} >= {
        ("darts_2nd", "input", "output"), ("darts_2nd", "output", "output"),
        ("darts_sc", "input", "input"), ("darts_sc", "input", "output")}
    # EoiNAS: 160-epoch searches, lambda 0.5, its retrain protocol (batch 128, drop-path 0.3).
    rows = grid_rows(paper / "eoinas_table1.ini")[0]
    assert {r["search.epochs"] for r in rows if r["search.method"] in ("gdas", "eoinas")} == {"160"}
    rows = grid_rows(paper / "eoinas_table3.ini")
    assert {r["eoinas.lambda"] for r in rows[0] if r["search.method"] == "eoinas"} == {"0", "0.5"}
    assert rows[1] == [{"search.epochs": "160"}]
    retrain = configparser.ConfigParser(inline_comment_prefixes=("#",))
    retrain.read(paper / "retrain_cifar10_eoinas.ini")
    assert retrain["data"]["batch_size"] == "128" and retrain["model"]["drop_path"] == "0.3"
    # SC Table 2: MiLeNAS-SC searched on 3 % of ImageNet (7 nodes = steps 4, 8 cells, 32x32).
    rows = grid_rows(paper / "sc_table2.ini")[0]
    assert {(r["search.method"], r["supernet.steps"], r["supernet.layers"], r["data.dataset"], r["data.limit"],
             r["data.image_size"]) for r in rows} >= {("milenas_sc", "6", "12", "cifar10", "0", "0"),
                                                     ("milenas_sc", "4", "8", "imagenet", "38435", "32")}
    # ImageNet protocols: DARTS (x0.97 per epoch), PC-DARTS (batch 1024, lr 0.5, 5 warm-up epochs),
    # GDAS/EoiNAS (lr 0.1 linear, no warm-up); all 14 cells, C=48, streamed from the files.
    protocols = {"retrain_imagenet_darts.ini": ("128", "0.1", "exponential"),
                 "retrain_imagenet_pcdarts.ini": ("1024", "0.5", "linear_warmup"),
                 "retrain_imagenet_gdas.ini": ("128", "0.1", "linear_warmup")}
    for base, (batch, lr, schedule) in protocols.items():
        c = configparser.ConfigParser(inline_comment_prefixes=("#",))
        c.read(paper / base)
        assert (c["data"]["batch_size"], c["train"]["lr"], c["train"]["schedule"]) == (batch, lr, schedule), base
        assert (c["model"]["layers"], c["model"]["channels"], c["data"]["stream"]) == ("14", "48", "true"), base
    for base, warmup in (("retrain_imagenet_pcdarts.ini", "5"), ("retrain_imagenet_gdas.ini", "0")):
        c = configparser.ConfigParser(inline_comment_prefixes=("#",))
        c.read(paper / base)
        assert c["train"]["warmup_epochs"] == warmup, base
    # Cluster runs use the GPU of each rank.
    for base in ("search_cifar10.ini", "retrain_cifar10.ini", "retrain_cifar10_eoinas.ini", *protocols,
                 "retrain_tiny_imagenet.ini", "retrain_transfer_asap.ini"):
        c = configparser.ConfigParser(inline_comment_prefixes=("#",))
        c.read(paper / base)
        assert c["run"]["device"] == "cuda", base


def test_published_genotypes_follow_their_retrain_setting(tmp_path):
    """Order: each retrain setting's searches, then the published genotypes at that setting; a
    search epoch is no setting for a published genotype."""
    search = ROOT / "config" / "paper" / "search_small.ini"
    train = ROOT / "config" / "paper" / "retrain_small.ini"
    study = tmp_path / "s.ini"
    head = f"[study]\nsearch_config = {search}\ntrain_config = {train}\npublished = DARTS_V2\n[grid]\n"
    study.write_text(head + "search.seed = 0 1\nretrain.model.channels = 4 6\n")
    p = listing(study)
    assert p.returncode == 0, p.stderr
    ids = [line.split()[1] for line in p.stdout.strip().splitlines()[:-1]]
    assert ids == ["search.seed-0_retrain.model.channels-4", "search.seed-1_retrain.model.channels-4",
                   "genotype-DARTS_V2_retrain.model.channels-4",
                   "search.seed-0_retrain.model.channels-6", "search.seed-1_retrain.model.channels-6",
                   "genotype-DARTS_V2_retrain.model.channels-6"]
    # Ids are the grid values alone: a study extended by a seed keeps every earlier id.
    study.write_text(head + "search.seed = 0 1 2\nretrain.model.channels = 4 6\n")
    p = listing(study)
    assert p.returncode == 0, p.stderr
    extended = [line.split()[1] for line in p.stdout.strip().splitlines()[:-1]]
    assert len(extended) == 8 and set(ids) < set(extended)
    for bad_grid in ("search.seed = 0 1 1\n", "search.seed = 0\nretrain.model.channels = 4 4\n"):
        study.write_text(head + bad_grid)
        bad = listing(study)
        assert bad.returncode != 0 and "twice" in bad.stderr, bad.stderr
    study.write_text(head + "retrain.model.genotype_epoch = 1 2\n")
    p = listing(study)
    assert p.returncode == 0, p.stderr
    ids = [line.split()[1] for line in p.stdout.strip().splitlines()[:-1]]
    assert ids == ["retrain.model.genotype_epoch-1", "retrain.model.genotype_epoch-2", "genotype-DARTS_V2"]
    study.write_text(head.replace("[grid]", "eval_layers_from_search = true\n[grid]") + "retrain.model.layers = 5 8\n")
    bad = listing(study)
    assert bad.returncode != 0 and "eval_layers_from_search" in bad.stderr
