#!/usr/bin/env python3
"""Tables and figures of a dnas study directory (after `dnas sweep`):

    python3 analysis/dnas_figures.py STUDY_DIR [--out DIR]

writes table.md and table.tex (from summary.h5), error_vs_layers.png, search_curves.png, and
per experiment with architecture weights alphas_<id>_<cell>.png and cells/<id>_<cell>.gv (.pdf
when graphviz's `dot` is installed)."""
import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from dnas_analysis import cells, figures, study, tables  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("study_dir", type=Path)
    ap.add_argument("--out", type=Path, help="output directory (default: STUDY_DIR/figures)")
    args = ap.parse_args(argv)
    out = args.out or args.study_dir / "figures"
    (out / "cells").mkdir(parents=True, exist_ok=True)
    summary = args.study_dir / "summary.h5"
    if not summary.exists():
        sys.exit(f"{summary} not found: run `dnas report {args.study_dir}` (or the sweep) first")
    title, rows = study.load_summary(summary)
    (out / "table.md").write_text(tables.markdown(rows, title))
    (out / "table.tex").write_text(tables.latex(rows, title))
    experiments = study.load_experiments(args.study_dir)
    figures.plot_error_vs_layers(experiments, out / "error_vs_layers.png")
    searched = [e.path for e in experiments if e.status == "finished" and not e.method.startswith("published")]
    figures.plot_search_curves(searched, out / "search_curves.png")
    for e in experiments:
        if e.status != "finished":
            continue
        for cell in ("normal", "reduce"):
            try:
                figures.plot_arch_weights(e.path, out / f"alphas_{e.path.stem}_{cell}.png", cell)
            except KeyError:
                pass  # published genotypes and methods without per-edge alphas
        try:
            parsed = cells.parse_genotype(e.genotype)
        except ValueError as err:
            print(f"dnas_figures: {e.path.name}: cell not drawn ({err})", file=sys.stderr)
            continue
        for cell, (nodes, concat) in parsed.items():
            cells.render(cells.cell_graph(nodes, concat, f"{e.path.stem}_{cell}"), out / "cells" / f"{e.path.stem}_{cell}")
    print(f"tables and figures in {out}")


if __name__ == "__main__":
    main()
