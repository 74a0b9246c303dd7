"""Figures: architecture weights per edge over the search (as NASP Fig. 4), search curves, and
test error against layer count (as Stretchable Cells Fig. 4). Each function returns the data it
plotted, so tests can check the numbers."""
from collections import defaultdict

import h5py
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from . import layout as L  # noqa: E402

SOFTMAX_FREE = {"nasp"}  # methods whose alphas are used as they are (box [0, 1], no softmax)


def _softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def arch_weights(path, cell="normal", group=L.SEARCH_GROUP):
    """[epochs, edges, ops] weights of a results/experiment file and the op names: softmax of the
    alphas (raw alphas for NASP)."""
    with h5py.File(path, "r") as f:
        L.check_format_version(f, path)
        s = f[group]
        name = f"{L.SEARCH_ARCH}/{L.SEARCH_ARCH_ALPHA_PREFIX}{cell}"
        if name not in s:
            raise KeyError(f"{path}: no {group}/{name} (this method keeps no per-edge alphas)")
        alpha = s[name][:].astype(np.float64)
        method = s.attrs[L.SEARCH_METHOD]
        method = method.decode() if isinstance(method, bytes) else str(method)
        ops_key = {"normal": L.SEARCH_OPS_NORMAL, "reduce": L.SEARCH_OPS_REDUCE}[cell]
        ops = [o.decode() for o in s[ops_key][:]] if ops_key in s else [f"op{k}" for k in range(alpha.shape[-1])]
    return (alpha if method in SOFTMAX_FREE else _softmax(alpha)), ops


def plot_arch_weights(path, out_png, cell="normal"):
    w, ops = arch_weights(path, cell)
    epochs, edges, _ = w.shape
    cols = min(edges, 7)
    rows = (edges + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(2.2 * cols, 1.9 * rows), sharex=True, sharey=True, squeeze=False)
    x = np.arange(1, epochs + 1)
    for e in range(edges):
        ax = axes[e // cols][e % cols]
        for k, op in enumerate(ops):
            ax.plot(x, w[:, e, k], label=op, marker="o" if epochs < 3 else None)
        ax.set_title(f"edge {e}", fontsize=8)
    for e in range(edges, rows * cols):
        axes[e // cols][e % cols].axis("off")
    axes[0][0].legend(fontsize=6, loc="best")
    fig.supxlabel("epoch")
    fig.supylabel("weight")
    fig.tight_layout()
    fig.savefig(out_png, dpi=90)
    plt.close(fig)
    return w, ops


def _save(fig, ax, out_png, xlabel, ylabel, legend):
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if legend:
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out_png, dpi=90)
    plt.close(fig)


def plot_search_curves(paths, out_png, metric="val_acc"):
    """One line per results/experiment file: search/metrics/<metric> per epoch."""
    curves = {}
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for p in paths:
        name = f"{L.SEARCH_GROUP}/{L.SEARCH_METRICS}/{metric}"
        with h5py.File(p, "r") as f:
            L.check_format_version(f, p)
            if name not in f:
                continue
            y = f[name][:]
        curves[str(p)] = y
        ax.plot(np.arange(1, len(y) + 1), y, label=p.stem if hasattr(p, "stem") else str(p))
    _save(fig, ax, out_png, "epoch", metric, bool(curves))
    return curves


def error_vs_layers(experiments):
    """{curve: (layers, mean error %, std over search seeds)} from finished experiments whose grid
    sets a layer count (as Stretchable Cells Fig. 4); each search seed counts once (the mean over
    its eval seeds). A curve is a method plus the other grid values that vary in the study
    (e.g. "darts_2nd, supernet.steps=6"), so different cells are never averaged together."""
    varying = {k for k in {k for e in experiments for k in e.grid}
               if len({e.grid.get(k) for e in experiments}) > 1}
    per = defaultdict(lambda: defaultdict(list))
    for e in experiments:
        if e.status == "finished" and e.test_acc.size and e.layers() is not None:
            name = ", ".join([e.method] + [f"{k}={v}" for k, v in e.series(varying)])
            per[name][e.layers()].append(float(np.mean(e.test_error)))
    out = {}
    for name, by_layers in per.items():
        layers = sorted(by_layers)
        errs = [by_layers[n] for n in layers]
        out[name] = (layers, [float(np.mean(v)) for v in errs],
                     [float(np.std(v, ddof=1)) if len(v) > 1 else 0.0 for v in errs])
    return out


def plot_error_vs_layers(experiments, out_png):
    data = error_vs_layers(experiments)
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for method, (layers, mean, std) in sorted(data.items()):
        ax.errorbar(layers, mean, yerr=std, marker="o", capsize=3, label=method)
    _save(fig, ax, out_png, "layers", "test error (%)", bool(data))
    return data
