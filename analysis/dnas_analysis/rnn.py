"""Recurrent-cell runs (`dnas rnn`, results.h5 of kind "rnn") grouped by method into a table like
NASP Table 4: perplexities as mean ± std over seeds, search time, parameters."""
from collections import defaultdict
from pathlib import Path

import h5py
import numpy as np

from . import layout as L


def _text(v):
    return v.decode() if isinstance(v, bytes) else str(v)


def load_rnn_runs(paths):
    """One dict per finished results.h5 (a file or a run directory)."""
    runs = []
    for p in paths:
        p = Path(p)
        path = p / "results.h5" if p.is_dir() else p
        with h5py.File(path, "r") as f:
            L.check_format_version(f, path)
            if _text(f.attrs.get(L.PROVENANCE_KIND, "")) != L.PROVENANCE_KIND_RNN:
                raise ValueError(f"{path}: not a `dnas rnn` results file")
            if _text(f.attrs[L.PROVENANCE_STATUS]) != L.PROVENANCE_STATUS_FINISHED:
                continue
            run = {"path": path, "method": "retrain only", "search_seconds": 0.0, "search_valid_ppl": np.nan}
            if L.RNN_SEARCH_GROUP in f:
                s = f[L.RNN_SEARCH_GROUP]
                run.update(method=_text(s.attrs[L.RNN_METHOD]), search_seconds=float(s.attrs[L.RNN_SECONDS]),
                           search_valid_ppl=float(s[L.RNN_VALID_PPL][-1]))
            if L.RNN_RETRAIN_GROUP in f and L.RNN_TEST_PPL in f[L.RNN_RETRAIN_GROUP].attrs:
                r = f[L.RNN_RETRAIN_GROUP].attrs
                run.update(valid_ppl=float(r[L.RNN_BEST_VALID_PPL]), test_ppl=float(r[L.RNN_TEST_PPL]),
                           params=int(r[L.RNN_PARAMS]))
            runs.append(run)
    return runs


def _mean_std(values):
    v = np.asarray(values, dtype=float)
    return (float(v.mean()), float(v.std(ddof=1)) if v.size > 1 else 0.0) if v.size else (np.nan, 0.0)


def rnn_table(runs):
    """Rows per method: runs, search seconds, retrain valid/test perplexity (mean, std), params."""
    groups = defaultdict(list)
    for r in runs:
        groups[r["method"]].append(r)
    rows = []
    for method, rs in groups.items():
        retrained = [r for r in rs if "test_ppl" in r]
        rows.append({"method": method, "runs": len(rs),
                     "search_seconds": _mean_std([r["search_seconds"] for r in rs]),
                     "valid_ppl": _mean_std([r["valid_ppl"] for r in retrained]),
                     "test_ppl": _mean_std([r["test_ppl"] for r in retrained]),
                     "params": retrained[0]["params"] if retrained else 0})
    return rows


def markdown(rows):
    out = ["| Method | Runs | Search (s) | Valid ppl | Test ppl | Params (M) |", "|---|---|---|---|---|---|"]
    for r in rows:
        out.append(f"| {r['method']} | {r['runs']} | {r['search_seconds'][0]:.0f} | {r['valid_ppl'][0]:.1f} ± "
                   f"{r['valid_ppl'][1]:.1f} | {r['test_ppl'][0]:.1f} ± {r['test_ppl'][1]:.1f} | {r['params'] / 1e6:.2f} |")
    return "\n".join(out) + "\n"
