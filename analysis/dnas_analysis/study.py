"""Reading a study: experiment files (kind "experiment") and the summary.h5 of `dnas report`."""
from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np


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
            if _text(f.attrs.get("kind", "")) != "experiment":
                continue
            if ids is not None and _text(f.attrs.get("id", "")) not in ids:
                continue
            a = f.attrs
            out.append(Experiment(
                path=path, method=_text(a["method"]), status=_text(a["status"]),
                grid={k[5:]: _text(v) for k, v in a.items() if k.startswith("grid.")},
                test_acc=f["test_acc"][:] if "test_acc" in f else np.zeros(0),
                parameters=float(a.get("parameters", 0)), multiply_adds=float(a.get("multiply_adds", 0)),
                gpu_days=float(a.get("search_gpu_days", 0)), genotype=_text(a.get("genotype", "")),
                protocol=_text(a.get("protocol", ""))))
    if not out:
        raise FileNotFoundError(f"no experiment files (*.h5 of kind 'experiment') in {study_dir}")
    if ids is not None:
        out.sort(key=lambda e: ids.index(e.path.stem) if e.path.stem in ids else len(ids))
    return out


def load_summary(path):
    """The rows of summary.h5 (`dnas report`/`dnas sweep`) as dicts, one per table row."""
    with h5py.File(path, "r") as f:
        if "table" not in f:
            raise ValueError(f"{path}: no /table group; is this a summary.h5 written by `dnas report`?")
        t = f["table"]
        names = [_text(g) for g in t["group"][:]]
        texts = {k for k in t.keys() if t[k].dtype.kind in "SOU"}  # group, protocol, *_verdict
        columns = {k: t[k][:] for k in t.keys() if k not in texts}
        words = {k: [_text(x) for x in t[k][:]] for k in texts if k != "group"}
        protocol = words.pop("protocol", [""] * len(names))
        title = _text(t.attrs.get("title", ""))
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
    with h5py.File(path, "r") as f:
        val_acc = 100.0 * f["search/metrics/val_acc"][:]
        changes = None
        if "search/arch/discrete_normal" in f:
            changes = np.zeros(len(val_acc), dtype=int)
            for cell in ("normal", "reduce"):
                chosen = f[f"search/arch/discrete_{cell}"][:] != 0  # [epochs, E, O]
                changes[1:] += (chosen[1:] != chosen[:-1]).any(axis=2).sum(axis=1)
    return val_acc, changes
