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
    assert len(tables) == 8
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
