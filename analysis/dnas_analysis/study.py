"""Reading a study: experiment files (kind "experiment") and the summary.h5 of `dnas report`."""
from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np

from . import layout as L


def _text(value):
    return value.decode() if isinstance(value, bytes) else str(value)


@dataclass
class Experiment:
    path: Path
    method: str
    status: str
    grid: dict = field(default_factory=dict)
    test_acc: np.ndarray = field(default_factory=lambda: np.zeros(0))
    parameters: float = 0.0
    multiply_adds: float = 0.0
    gpu_days: float = 0.0
    genotype: str = ""
    protocol: str = ""

    @property
    def test_error(self):
        """Test error % per eval seed."""
        return 100.0 * (1.0 - self.test_acc)

    LAYER_KEYS = ("retrain.model.layers", "supernet.layers", "model.layers")

    def layers(self):
        """The layer count the grid varies (the x axis of error-vs-layers): the retrained network's
        when the grid sets it, else the supernet's (Stretchable Cells retrain with as many)."""
        for key in self.LAYER_KEYS:
            if key in self.grid:
                return int(self.grid[key])
        return None

    def series(self, varying):
        """The grid values other than seeds and layer counts among `varying` keys: one curve each."""
        return tuple((k, self.grid[k]) for k in sorted(varying)
                     if k in self.grid and "seed" not in k and k not in self.LAYER_KEYS and k != "search.method")


def current_ids(study_dir):
    """The ids of the study's current grid in grid order (its experiments.txt, written by
    `dnas sweep`), or None."""
    manifest = Path(study_dir) / "experiments.txt"
    if not manifest.exists():
        return None
    return [line.strip() for line in manifest.read_text().splitlines() if line.strip() and not line.startswith("#")]


def load_experiments(study_dir):
    """Every experiment file of a study directory that belongs to its current grid, in name
    order; other HDF5 files, and experiments of grid values since removed, are skipped."""
    out = []
    ids = current_ids(study_dir)
    for path in sorted(Path(study_dir).glob("*.h5")):
        with h5py.File(path, "r") as f:
            L.check_format_version(f, path)
            if _text(f.attrs.get(L.PROVENANCE_KIND, "")) != L.PROVENANCE_KIND_EXPERIMENT:
                continue
            if ids is not None and _text(f.attrs.get(L.EXPERIMENT_ID, "")) not in ids:
                continue
            a = f.attrs
            grid_prefix = L.EXPERIMENT_GRID_PREFIX
            out.append(Experiment(
                path=path, method=_text(a[L.EXPERIMENT_METHOD]), status=_text(a[L.PROVENANCE_STATUS]),
                grid={k[len(grid_prefix):]: _text(v) for k, v in a.items() if k.startswith(grid_prefix)},
                test_acc=f[L.EXPERIMENT_TEST_ACC][:] if L.EXPERIMENT_TEST_ACC in f else np.zeros(0),
                parameters=float(a.get(L.EXPERIMENT_PARAMETERS, 0)),
                multiply_adds=float(a.get(L.EXPERIMENT_MULTIPLY_ADDS, 0)),
                gpu_days=float(a.get(L.EXPERIMENT_SEARCH_GPU_DAYS, 0)), genotype=_text(a.get(L.EXPERIMENT_GENOTYPE, "")),
                protocol=_text(a.get(L.EXPERIMENT_PROTOCOL, ""))))
    if not out:
        raise FileNotFoundError(f"no experiment files (*.h5 of kind 'experiment') in {study_dir}")
    if ids is not None:
        out.sort(key=lambda e: ids.index(e.path.stem) if e.path.stem in ids else len(ids))
    return out


def load_summary(path):
    """The rows of summary.h5 (`dnas report`/`dnas sweep`) as dicts, one per table row."""
    with h5py.File(path, "r") as f:
        L.check_format_version(f, path)
        if L.SUMMARY_TABLE not in f:
            raise ValueError(f"{path}: no {L.SUMMARY_TABLE} group; is this a summary.h5 written by `dnas report`?")
        t = f[L.SUMMARY_TABLE]
        names = [_text(g) for g in t[L.SUMMARY_GROUP_COLUMN][:]]
        texts = {k for k in t.keys() if t[k].dtype.kind in "SOU"}  # group, protocol, *_verdict
        columns = {k: t[k][:] for k in t.keys() if k not in texts}
        words = {k: [_text(x) for x in t[k][:]] for k in texts if k != L.SUMMARY_GROUP_COLUMN}
        protocol = words.pop(L.SUMMARY_PROTOCOL, [""] * len(names))
        title = _text(t.attrs.get(L.SUMMARY_TITLE, ""))
    rows = []
    for i, name in enumerate(names):
        row = {k: float(v[i]) for k, v in columns.items()}
        row.update({k: v[i] for k, v in words.items()})
        row.update(group=name, protocol=protocol[i])
        rows.append(row)
    return title, rows


def search_curve(path):
    """Per-epoch search curve of one experiment file: validation accuracy % and, when the method
    keeps a discrete architecture (NASP's discrete_<cell> tensors), how many edges of both cells
    changed their op or were dropped or added since the previous epoch (None otherwise)."""
    arch = f"{L.SEARCH_GROUP}/{L.SEARCH_ARCH}/{L.SEARCH_ARCH_DISCRETE_PREFIX}"
    with h5py.File(path, "r") as f:
        L.check_format_version(f, path)
        val_acc = 100.0 * f[f"{L.SEARCH_GROUP}/{L.SEARCH_METRICS}/{L.SEARCH_METRIC_VAL_ACC}"][:]
        changes = None
        if f"{arch}normal" in f:
            changes = np.zeros(len(val_acc), dtype=int)
            for cell in ("normal", "reduce"):
                chosen = f[f"{arch}{cell}"][:] != 0  # [epochs, E, O]
                changes[1:] += (chosen[1:] != chosen[:-1]).any(axis=2).sum(axis=1)
    return val_acc, changes
