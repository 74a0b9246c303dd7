"""The tiny datasets of scripts/make_small_datasets.py run end to end through the companions'
retrain bases (ImageNet and Tiny ImageNet streamed, CINIC-10, SVHN and CIFAR-100 in memory), the
ImageNet-subset search of SC Table 2, and the WikiText-2 retrain: each reads what the files hold
(image counts, classes, a streaming log with the data wait) and records top-1 and top-5."""
import os
import subprocess
import sys
from pathlib import Path

import h5py
import pytest

ROOT = Path(__file__).resolve().parents[2]
DNAS = str(Path(os.environ.get("DNAS_BIN", "build/bin/dnas")).resolve())
PAPER = ROOT / "config" / "paper"
TEST_IMAGES = 20


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    out = tmp_path_factory.mktemp("small")
    p = subprocess.run([sys.executable, str(ROOT / "scripts" / "make_small_datasets.py"), "--out", str(out)],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    return out


def run(*args, cwd):
    return subprocess.run([DNAS, *args], capture_output=True, text=True, timeout=600, cwd=cwd)


# (retrain base, dataset, root folder, train images, classes, streamed)
BASES = [("retrain_imagenet_darts_small.ini", "imagenet", "imagenet", 400, 10, True),
         ("retrain_imagenet_pcdarts_small.ini", "imagenet", "imagenet", 400, 10, True),
         ("retrain_imagenet_gdas_small.ini", "imagenet", "imagenet", 400, 10, True),
         ("retrain_tiny_imagenet_small.ini", "tiny_imagenet", "tiny_imagenet", 400, 200, True),
         ("retrain_small.ini", "cinic10", "cinic10", 300, 10, False),
         ("retrain_small.ini", "svhn", "svhn", 400, 10, False),
         ("retrain_small.ini", "cifar100", "cifar100", 400, 100, False)]


@pytest.mark.parametrize("base,dataset,folder,train_images,classes,streamed", BASES,
                         ids=[f"{b[0][:-4]}-{b[1]}" for b in BASES])
def test_companion_retrain_bases_run_on_the_small_data(small, tmp_path, base, dataset, folder, train_images, classes,
                                                       streamed):
    out = tmp_path / "run"
    p = run("train", "--config", str(PAPER / base), f"--data.dataset={dataset}", f"--data.root={small / folder}",
            "--data.limit=0", "--train.epochs=1", "--train.steps_per_epoch=2", f"--data.test_limit={TEST_IMAGES}",
            "--model.genotype=DARTS_V2", f"--run.out_dir={out}", cwd=ROOT)
    assert p.returncode == 0, p.stderr[-3000:]
    log = p.stdout + p.stderr
    assert f"({train_images} train / 0 val / {TEST_IMAGES} test images)" in log, log[-2000:]
    assert ("streaming " + dataset in log) == streamed
    assert ("data: the steps waited" in log) == streamed
    with h5py.File(out / "results.h5", "r") as f:
        top1, top5 = f["train"].attrs["test_acc"], f["train"].attrs["test_top5_acc"]
        assert len(f["train/metrics/data_wait"][()]) == 1
    # Accuracies over 20 images are multiples of 1/20; top-5 is at least top-1 (all with <= 5 classes).
    for acc in (top1, top5):
        assert abs(acc * TEST_IMAGES - round(acc * TEST_IMAGES)) < 1e-6
    assert top1 <= top5 <= 1.0
    assert (top5 == 1.0) if classes <= 5 else True


def test_imagenet_subset_search_splits_three_ways(small, tmp_path):
    # SC Table 2's search on a subset of ImageNet at 32x32: MiLeNAS-SC splits it into D_tr, D_val_alpha
    # and D_val_beta of equal size.
    out = tmp_path / "search"
    p = run("search", "--config", str(PAPER / "search_small.ini"), "--search.method=milenas_sc", "--supernet.steps=4",
            "--data.dataset=imagenet", f"--data.root={small / 'imagenet'}", "--data.limit=90", "--data.image_size=32",
            "--search.epochs=1", "--search.steps_per_epoch=2", "--search.eval_batches=1", f"--run.out_dir={out}",
            cwd=ROOT)
    assert p.returncode == 0, p.stderr[-3000:]
    assert "on imagenet (30 train / 30 val images)" in p.stdout + p.stderr
    assert (out / "genotype.txt").read_text().startswith("Genotype(")


def test_wikitext2_companion_reads_the_wikitext_format(small, tmp_path):
    out = tmp_path / "wt2"
    p = run("rnn", "train", "--config", str(PAPER / "nasp_wikitext2_small.ini"), f"--data.corpus={small / 'wikitext2'}",
            "--retrain.genotype=DARTS_V2", "--retrain.epochs=1", "--retrain.steps_per_epoch=3", f"--run.out_dir={out}",
            cwd=ROOT)
    assert p.returncode == 0, p.stderr[-3000:]
    tokens = (small / "wikitext2" / "wiki.train.tokens").read_text().split("\n")
    vocabulary = {w for split in ("train", "valid", "test")
                  for line in (small / "wikitext2" / f"wiki.{split}.tokens").read_text().split("\n")
                  for w in line.split() + ["<eos>"]}
    assert f"vocabulary {len(vocabulary)}" in p.stdout + p.stderr, (p.stdout + p.stderr)[-2000:]
    assert len(tokens) > 100
