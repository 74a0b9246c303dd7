#!/usr/bin/env python3
"""Turns plain-text files into a word-level corpus in the PTB file format (train.txt,
valid.txt, test.txt: one lower-cased sentence per line, numbers as N, rare words as <unk>),
for `dnas rnn` when PTB itself is not at hand.

    scripts/make_ptb_corpus.py --out corpus_dir [--vocab 10000] FILE...

Sentences end at . ! ? and blank lines; sentences with fewer than 3 words are dropped. Every
20th sentence goes to valid and the next one to test, so the split is deterministic."""
import argparse
import collections
import re
import sys
from pathlib import Path

WORD = re.compile(r"[a-z]+(?:'[a-z]+)?|\d+(?:[.,]\d+)*")
SENTENCE_END = re.compile(r"[.!?]+(?:\s|$)|\n\s*\n")


def sentences(text):
    for chunk in SENTENCE_END.split(text.lower()):
        words = ["N" if w[0].isdigit() else w for w in WORD.findall(chunk)]
        if len(words) >= 3:
            yield words


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--vocab", type=int, default=10000, help="vocabulary size including <unk> and N")
    ap.add_argument("files", nargs="+", type=Path)
    args = ap.parse_args()
    corpus = []
    for path in args.files:
        try:
            corpus.extend(sentences(path.read_text(encoding="utf-8", errors="replace")))
        except OSError as e:
            sys.exit(f"make_ptb_corpus: cannot read {path}: {e}")
    if not corpus:
        sys.exit("make_ptb_corpus: no sentences of 3+ words in the input files")
    counts = collections.Counter(w for s in corpus for w in s)
    keep = {w for w, _ in counts.most_common(args.vocab - 1)}
    splits = {"train": [], "valid": [], "test": []}
    for i, s in enumerate(corpus):
        split = "valid" if i % 20 == 0 else "test" if i % 20 == 1 else "train"
        splits[split].append(" ".join(w if w in keep else "<unk>" for w in s))
    args.out.mkdir(parents=True, exist_ok=True)
    for split, lines in splits.items():
        (args.out / f"{split}.txt").write_text("\n".join(lines) + "\n")
        print(f"{split}: {len(lines)} sentences, {sum(len(l.split()) + 1 for l in lines)} tokens")


if __name__ == "__main__":
    main()
