#!/usr/bin/env python3
"""Tiny copies of the datasets of the paper tables, in their real file formats, made from
Fashion-MNIST, for the `_small` companions in config/paper/ (they read data/small/<name>).

    /usr/bin/python3 scripts/make_small_datasets.py [--out data/small] [--fmnist DIR] [--force]

Writes under OUT (training images from Fashion-MNIST's training set, test images from its test
set; the same files on every run):
  imagenet/{train,val}/<wnid>/*.JPEG   10 classes (n0310000k), 40 + 10 per class; RGB, 80x64,
                                       64x80 or 96x72, so resize, random-resized crop and centre
                                       crop have pixels to work on
  cinic10/{train,valid,test}/<class>/*.png   CINIC-10's class names, 30 + 10 + 10 per class, 32x32
  tiny_imagenet/  wnids.txt (200 wnids), words.txt, train/<wnid>/images/<wnid>_<i>.JPEG (2 per
                  class) + train/<wnid>/<wnid>_boxes.txt, val/images/val_<i>.JPEG (100) +
                  val/val_annotations.txt; 64x64. Class = Fashion-MNIST label x one of 20 colours.
  svhn/{train,test}_32x32.mat   X uint8 [32, 32, 3, N], y uint8 [N, 1], 10 standing for digit 0
                                (the Fashion-MNIST label); 400 + 100 images
  cifar100/{train,test}.bin     CIFAR-100 binary records (coarse label, fine label, 3072 bytes of
                                R, G, B planes); fine = Fashion-MNIST label x 10 colours, coarse =
                                fine // 5; 400 + 100 images, plus the two label-name files
  wikitext2/wiki.{train,valid,test}.tokens   a made-up encyclopedia in WikiText's token format
                                (" = Title = " headings, blank lines, @-@ @,@ @.@ splits, words
                                seen fewer than 3 times in train written as <unk>); about 22k /
                                2k / 2k tokens

Every image is a Fashion-MNIST image coloured (foreground and background colours) and resized;
its label is its Fashion-MNIST class (for tiny_imagenet and cifar100 together with its colour).
The files exercise the readers and loaders, not the papers' accuracies. Existing dataset
folders are left alone unless --force is given (then they are replaced).
"""
import argparse
import gzip
import random
import shutil
import struct
import sys
from pathlib import Path

import numpy as np

try:
    from PIL import Image
    import scipy.io
except ImportError as e:
    sys.exit(f"make_small_datasets.py needs PIL and scipy ({e}); install python3-pil python3-scipy "
             f"(scripts/install_deps.sh) and run it with /usr/bin/python3")

SEED = 20240611                    # every choice below comes from generators seeded with this
IMAGENET_PER_CLASS = (40, 10)      # train, val
IMAGENET_SIZES = [(80, 64), (64, 80), (96, 72)]  # (width, height), cycled
CINIC_PER_CLASS = (30, 10, 10)     # train, valid, test
CINIC_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
TINY_CLASSES, TINY_TRAIN_PER_CLASS, TINY_VAL = 200, 2, 100
SVHN_COUNTS = (400, 100)
CIFAR100_PER_CLASS = (4, 1)
WIKI_ARTICLES = (40, 4, 4)         # train, valid, test
WIKI_MIN_COUNT = 3                 # rarer training words become <unk>, as in WikiText


# --- Fashion-MNIST ---------------------------------------------------------------------------

def read_idx(root, stem):
    path = root / stem
    if path.exists():
        raw = path.read_bytes()
    elif path.with_name(stem + ".gz").exists():
        raw = gzip.open(path.with_name(stem + ".gz")).read()
    else:
        sys.exit(f"make_small_datasets: {path} (or .gz) not found; install dataset-fashion-mnist or pass --fmnist DIR")
    magic, n = struct.unpack(">II", raw[:8])
    if magic == 0x803:
        h, w = struct.unpack(">II", raw[8:16])
        return np.frombuffer(raw[16:], np.uint8).reshape(n, h, w)
    if magic == 0x801:
        return np.frombuffer(raw[8:], np.uint8)
    sys.exit(f"make_small_datasets: {path} is not an IDX image or label file (magic {magic:#x})")


class Source:
    """Fashion-MNIST images drawn without repetition, per label, in a seeded order."""

    def __init__(self, images, labels, seed):
        rng = np.random.default_rng(seed)
        self.images = images
        self.queues = {k: list(rng.permutation(np.flatnonzero(labels == k))) for k in range(10)}

    def take(self, label):
        return self.images[self.queues[label].pop()]


def load_fmnist(root):
    train = Source(read_idx(root, "train-images-idx3-ubyte"), read_idx(root, "train-labels-idx1-ubyte"), SEED)
    test = Source(read_idx(root, "t10k-images-idx3-ubyte"), read_idx(root, "t10k-labels-idx1-ubyte"), SEED + 1)
    return train, test


# --- colouring --------------------------------------------------------------------------------

def hue_colour(hue, value=1.0):
    """An RGB triple in [0, 1] of a fully saturated hue in [0, 1)."""
    h = (hue % 1.0) * 6
    x = 1 - abs(h % 2 - 1)
    rgb = [(1, x, 0), (x, 1, 0), (0, 1, x), (0, x, 1), (x, 0, 1), (1, 0, x)][int(h) % 6]
    return np.array(rgb) * value


def coloured(gray, fg, bg, width, height):
    """A 28x28 gray image as RGB (background bg, foreground fg), resized to width x height."""
    g = gray.astype(np.float64)[..., None] / 255.0
    rgb = bg * (1 - g) + fg * g
    image = Image.fromarray(np.clip(rgb * 255 + 0.5, 0, 255).astype(np.uint8), "RGB")
    return image if (width, height) == (28, 28) else image.resize((width, height), Image.BICUBIC)


def random_colours(rng):
    """Foreground and background colours that say nothing about the class."""
    fg = 0.55 + 0.45 * rng.random(3)
    bg = 0.25 * rng.random(3)
    return fg, bg


def class_colours(tint, tints, rng):
    """Colours that carry part of the class (tiny_imagenet, cifar100): hue `tint` of `tints`."""
    fg = hue_colour(tint / tints) * (0.8 + 0.2 * rng.random())
    bg = 0.15 * rng.random(3)
    return fg, bg


def padded32(image28):
    """28x28 RGB -> 32x32 with a 2-pixel border of the image's corner colour."""
    arr = np.asarray(image28)
    out = np.empty((32, 32, 3), np.uint8)
    out[:] = arr[0, 0]
    out[2:30, 2:30] = arr
    return out


# --- image datasets ---------------------------------------------------------------------------

def write_imagenet(out, train, test):
    rng = np.random.default_rng(SEED + 10)
    wnids = [f"n0310000{k}" for k in range(10)]
    count = 0
    for split, source, per_class in (("train", train, IMAGENET_PER_CLASS[0]), ("val", test, IMAGENET_PER_CLASS[1])):
        for label, wnid in enumerate(wnids):
            folder = out / "imagenet" / split / wnid
            folder.mkdir(parents=True)
            for i in range(per_class):
                w, h = IMAGENET_SIZES[(label + i) % len(IMAGENET_SIZES)]
                image = coloured(source.take(label), *random_colours(rng), w, h)
                image.save(folder / f"{wnid}_{split}_{i:04d}.JPEG", "JPEG", quality=90)
                count += 1
    return count


def write_cinic(out, train, test):
    rng = np.random.default_rng(SEED + 20)
    count = 0
    for split, source, per_class in zip(("train", "valid", "test"), (train, train, test), CINIC_PER_CLASS):
        for label, name in enumerate(CINIC_CLASSES):
            folder = out / "cinic10" / split / name
            folder.mkdir(parents=True)
            for i in range(per_class):
                image = padded32(coloured(source.take(label), *random_colours(rng), 28, 28))
                Image.fromarray(image, "RGB").save(folder / f"small-{split}-{name}-{i:04d}.png")
                count += 1
    return count


def write_tiny_imagenet(out, train, test):
    rng = np.random.default_rng(SEED + 30)
    root = out / "tiny_imagenet"
    tints = TINY_CLASSES // 10
    wnids = [f"n{4100000 + 37 * k:08d}" for k in range(TINY_CLASSES)]
    order = list(range(TINY_CLASSES))
    random.Random(SEED).shuffle(order)  # wnids.txt is not sorted in the real download either
    root.mkdir(parents=True)
    (root / "wnids.txt").write_text("".join(wnids[k] + "\n" for k in order))
    (root / "words.txt").write_text("".join(f"{w}\tsmall class {k} (Fashion-MNIST label {k % 10}, colour {k // 10})\n"
                                            for k, w in enumerate(wnids)))
    count = 0
    for k, wnid in enumerate(wnids):
        folder = root / "train" / wnid / "images"
        folder.mkdir(parents=True)
        boxes = []
        for i in range(TINY_TRAIN_PER_CLASS):
            name = f"{wnid}_{i}.JPEG"
            coloured(train.take(k % 10), *class_colours(k // 10, tints, rng), 64, 64).save(folder / name, "JPEG",
                                                                                            quality=90)
            boxes.append(f"{name}\t4\t4\t59\t59\n")
            count += 1
        (root / "train" / wnid / f"{wnid}_boxes.txt").write_text("".join(boxes))
    (root / "val" / "images").mkdir(parents=True)
    notes = []
    for i in range(TINY_VAL):
        k = (i * 97) % TINY_CLASSES  # 100 distinct classes
        name = f"val_{i}.JPEG"
        coloured(test.take(k % 10), *class_colours(k // 10, tints, rng), 64, 64).save(root / "val" / "images" / name,
                                                                                      "JPEG", quality=90)
        notes.append(f"{name}\t{wnids[k]}\t4\t4\t59\t59\n")
        count += 1
    (root / "val" / "val_annotations.txt").write_text("".join(notes))
    return count


def fixed_mat_header(path):
    """SciPy writes the time into the MAT header's 116 text bytes; a fixed text keeps files identical."""
    raw = bytearray(path.read_bytes())
    raw[:116] = b"MATLAB 5.0 MAT-file, written by dnas scripts/make_small_datasets.py".ljust(116)
    path.write_bytes(bytes(raw))


def write_svhn(out, train, test):
    rng = np.random.default_rng(SEED + 40)
    folder = out / "svhn"
    folder.mkdir(parents=True)
    count = 0
    for name, source, n in (("train", train, SVHN_COUNTS[0]), ("test", test, SVHN_COUNTS[1])):
        x = np.zeros((32, 32, 3, n), np.uint8)  # MATLAB's X(row, column, channel, image)
        y = np.zeros((n, 1), np.uint8)
        for j in range(n):
            label = j % 10
            x[..., j] = padded32(coloured(source.take(label), *random_colours(rng), 28, 28))
            y[j, 0] = 10 if label == 0 else label  # SVHN writes digit 0 as 10
        path = folder / f"{name}_32x32.mat"
        scipy.io.savemat(path, {"X": x, "y": y}, format="5")
        fixed_mat_header(path)
        count += n
    return count


def write_cifar100(out, train, test):
    rng = np.random.default_rng(SEED + 50)
    folder = out / "cifar100"
    folder.mkdir(parents=True)
    count = 0
    for name, source, per_class in (("train", train, CIFAR100_PER_CLASS[0]), ("test", test, CIFAR100_PER_CLASS[1])):
        records = []
        for i in range(per_class):
            for fine in range(100):
                image = padded32(coloured(source.take(fine // 10), *class_colours(fine % 10, 10, rng), 28, 28))
                planes = image.transpose(2, 0, 1).tobytes()  # R plane, G plane, B plane, each row-major
                records.append(bytes([fine // 5, fine]) + planes)
        order = list(range(len(records)))
        random.Random(SEED + len(name)).shuffle(order)
        (folder / f"{name}.bin").write_bytes(b"".join(records[j] for j in order))
        count += len(records)
    (folder / "fine_label_names.txt").write_text("".join(f"fmnist{k // 10}_colour{k % 10}\n" for k in range(100)))
    (folder / "coarse_label_names.txt").write_text("".join(f"group{k}\n" for k in range(20)))
    return count


# --- WikiText-format corpus -------------------------------------------------------------------

ITEMS = ["coat", "dress", "shirt", "sandal", "sneaker", "boot", "bag", "trouser", "pullover", "jacket", "scarf",
         "glove", "hat", "belt", "cloak", "vest", "skirt", "tunic", "shawl", "slipper"]
ADJECTIVES = ["light", "heavy", "warm", "plain", "bright", "dark", "narrow", "wide", "soft", "rough", "formal",
              "simple", "elegant", "durable", "cheap", "expensive", "popular", "rare", "modern", "traditional"]
MATERIALS = ["wool", "cotton", "linen", "silk", "leather", "canvas", "felt", "velvet", "denim", "tweed"]
PARTS = ["collar", "sleeve", "pocket", "button", "seam", "lining", "strap", "buckle", "hem", "heel", "sole", "cuff"]
COLOURS = ["red", "blue", "green", "black", "white", "grey", "brown", "yellow", "purple", "orange"]
ORGS = ["company", "guild", "workshop", "factory", "society", "museum", "academy", "house"]
SECTIONS = ["History", "Design", "Production", "Reception", "Variants", "Legacy"]
SUBSECTIONS = ["Early years", "Later models", "Materials", "Sales", "Criticism", "Influence"]
SYLLABLES = ["ka", "ro", "mi", "ten", "val", "sor", "lin", "de", "mar", "bel", "tor", "an", "vi", "gu", "rel",
             "os", "ne", "pha", "dun", "ira"]


def proper_name(r):
    return "".join(r.choice(SYLLABLES) for _ in range(r.randint(2, 3))).capitalize()


def number_tokens(value):
    """12400 -> '12 @,@ 400' (WikiText splits thousands separators and decimal points)."""
    text = f"{value:,}"
    return text.replace(",", " @,@ ")


def decimal_tokens(r):
    return f"{r.randint(1, 9)} @.@ {r.randint(0, 9)}"


def plural(word):
    return word + ("es" if word.endswith(("s", "sh", "ch")) else "s")


def sentence(r, subject):
    """One sentence, tokens separated by single spaces, ending with ' .'"""
    item, item2 = r.sample(ITEMS, 2)
    adj, adj2 = r.sample(ADJECTIVES, 2)
    part, part2 = r.sample(PARTS, 2)
    colour, colour2 = r.sample(COLOURS, 2)
    year = r.randint(1850, 2015)
    templates = [
        f"The {subject} is a {adj} {item} first made in {proper_name(r)} in {year} .",
        f"It was designed by {proper_name(r)} {proper_name(r)} , who later joined the {proper_name(r)} {r.choice(ORGS)} .",
        f"The {item} has a {r.choice(MATERIALS)} {part} and {r.randint(2, 9)} {plural(part2)} .",
        f"In {year} the {r.choice(ORGS)} sold {number_tokens(r.randint(1000, 90000))} of them , a record at the time .",
        f"Critics described the {subject} as {adj} but {adj2} .",
        f"A second version , the {proper_name(r)} {item} , followed in {year + r.randint(1, 9)} with a {adj} {part} .",
        f"According to {proper_name(r)} , the {part} was \" too {adj} for everyday use \" .",
        f"It is {r.randint(20, 140)} cm long and weighs {decimal_tokens(r)} kg .",
        f"The {subject} was sold in {colour} and {colour2} , and later in {r.choice(COLOURS)} .",
        f"It remains one of the best @-@ known {plural(item)} of the {year // 10 * 10}s .",
        f"Its {part} is sewn from {r.choice(MATERIALS)} , which makes it {adj} in {r.choice(['winter', 'summer'])} .",
        f"The {r.choice(ORGS)} of {proper_name(r)} kept {r.randint(2, 40)} examples of the {subject} .",
        f"( The name comes from the {adj} {part} of an older {item2} . )",
    ]
    return r.choice(templates)


def article(r):
    """Lines of one article: title, lead, sections with paragraphs (WikiText's layout)."""
    subject = f"{proper_name(r)} {r.choice(ITEMS)}"
    lines = [" ", f" = {subject} = ", " "]

    def paragraph():
        return " " + " ".join(sentence(r, subject) for _ in range(r.randint(3, 7))) + " "

    lines += [paragraph(), " "]
    for section in r.sample(SECTIONS, r.randint(2, 4)):
        lines += [f" = = {section} = = ", " "]
        for _ in range(r.randint(1, 3)):
            lines += [paragraph(), " "]
        if r.random() < 0.3:
            lines += [f" = = = {r.choice(SUBSECTIONS)} = = = ", " ", paragraph(), " "]
    return lines


def write_wikitext(out, train=None, test=None):  # no images: the text is generated
    r = random.Random(SEED)
    splits = {name: [line for _ in range(n) for line in article(r)]
              for name, n in zip(("train", "valid", "test"), WIKI_ARTICLES)}
    counts = {}
    for line in splits["train"]:
        for w in line.split():
            counts[w] = counts.get(w, 0) + 1
    known = {w for w, c in counts.items() if c >= WIKI_MIN_COUNT}
    folder = out / "wikitext2"
    folder.mkdir(parents=True)
    tokens = 0
    for name, lines in splits.items():
        text = []
        for line in lines:
            words = [w if w in known else "<unk>" for w in line.split()]
            tokens += len(words)
            text.append(" " + " ".join(words) + " " if words else " ")
        (folder / f"wiki.{name}.tokens").write_text("\n".join(text) + "\n", encoding="utf-8")
    return tokens


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path("data/small"), help="output folder (default data/small)")
    ap.add_argument("--fmnist", type=Path, default=Path("/usr/share/datasets/fashion-mnist"),
                    help="Fashion-MNIST IDX files, possibly gzipped")
    ap.add_argument("--force", action="store_true", help="replace dataset folders that already exist")
    args = ap.parse_args()
    writers = [("imagenet", write_imagenet, "images"), ("cinic10", write_cinic, "images"),
               ("tiny_imagenet", write_tiny_imagenet, "images"), ("svhn", write_svhn, "images"),
               ("cifar100", write_cifar100, "images"), ("wikitext2", write_wikitext, "tokens")]
    existing = [name for name, _, _ in writers if (args.out / name).exists()]
    if existing and not args.force:
        sys.exit(f"make_small_datasets: {', '.join(str(args.out / n) for n in existing)} already exist; "
                 f"pass --force to replace them")
    for name in existing:
        shutil.rmtree(args.out / name)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, write, unit in writers:  # each dataset draws from fresh sources: adding one changes no other
        train, test = load_fmnist(args.fmnist) if unit == "images" else (None, None)
        print(f"{args.out / name}: {write(args.out, train, test)} {unit}")


if __name__ == "__main__":
    main()
