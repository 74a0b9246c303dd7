#!/usr/bin/env python3
"""Search curves of a study's experiments side by side (NASP Fig. 3 style): validation accuracy
per epoch and, for NASP, the number of edges whose discrete op changed since the previous epoch.

    python3 analysis/dnas_search_curves.py STUDY_DIR"""
import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from dnas_analysis import study  # noqa: E402


def markdown(study_dir):
    experiments = study.load_experiments(study_dir)
    curves = [study.search_curve(e.path) for e in experiments]
    epochs = max(len(acc) for acc, _ in curves)
    lines = ["| epoch | " + " | ".join(e.path.stem for e in experiments) + " |",
             "|---" * (len(experiments) + 1) + "|"]
    for k in range(epochs):
        cells = []
        for acc, changes in curves:
            cell = f"{acc[k]:.1f}" if k < len(acc) else ""
            if changes is not None and k < len(acc):
                cell += f" ({changes[k]})"
            cells.append(cell)
        lines.append(f"| {k + 1} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("study_dir", type=Path)
    args = ap.parse_args(argv)
    try:
        print(markdown(args.study_dir), end="")
    except (OSError, KeyError, FileNotFoundError) as e:
        sys.exit(f"dnas_search_curves: {e}")


if __name__ == "__main__":
    main()
