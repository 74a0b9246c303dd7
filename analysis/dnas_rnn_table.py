#!/usr/bin/env python3
"""Table of `dnas rnn` runs (NASP Table 4 style): perplexity mean ± std over seeds per method.

    python3 analysis/dnas_rnn_table.py runs/rnn_small/*"""
import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from dnas_analysis import rnn  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("runs", nargs="+", type=Path, help="run directories or results.h5 files")
    args = ap.parse_args(argv)
    try:
        runs = rnn.load_rnn_runs(args.runs)
    except (OSError, ValueError) as e:
        sys.exit(f"dnas_rnn_table: {e}")
    print(rnn.markdown(rnn.rnn_table(runs)), end="")


if __name__ == "__main__":
    main()
