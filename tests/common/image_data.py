"""Test data for the image and SVHN readers, made from real Fashion-MNIST images, with PIL's own
decoding of every file as the independent reference.

usage: image_data.py OUT_DIR [FMNIST_DIR]

Writes under OUT_DIR:
  codec/<name>            JPEG and PNG files of several kinds (RGB, gray, CMYK, alpha, palette,
                          16-bit, progressive, odd sizes, 72x96 for DCT scaling)
  codec/<name>.rgb        PIL's Image.open(f).convert('RGB') pixels, [H, W, 3] uint8
  codec/<name>.draft<S>.rgb  PIL's draft('RGB', (W // S, H // S)) decode (JPEG DCT scaling)
  codec/manifest.txt      "<name> <height> <width>" for every reference (draft files included)
  imagenet/{train,val}/<class>/*.JPEG (+ a README.txt that readers must ignore); classes are
                          created out of sorted order
  imagenet_ref<S>/...     torchvision Resize(S) + CenterCrop(S) of each file with PIL, raw RGB
  cinic10/{train,valid,test}/<class>/*.png  10 classes, 32x32
  tiny/                   Tiny ImageNet layout: wnids.txt (200 wnids, unsorted), train/<wnid>/
                          images/*.JPEG + <wnid>_boxes.txt, val/images/*.JPEG, val/val_annotations.txt
  svhn/{train,test,extra}_32x32.mat  X uint8 [32, 32, 3, N] (Fortran order), y [N, 1] (double for
                          train/extra, uint8 for test); image n channel k is Fashion-MNIST train
                          image <first> + 3 n + k, zero-padded by 2 pixels; y = n % 10 + 1
  svhn/sources.txt        "<file> <first>" for the three files
  svhn/bad_*.mat          wrong shape, missing y, wrong count, label out of range, X double
The Fashion-MNIST files come from FMNIST_DIR (default /usr/share/datasets/fashion-mnist).
"""
import gzip
import io
import os
import struct
import sys
import zlib

import numpy as np

try:
    from PIL import Image
    import scipy.io
except ImportError as e:  # the C++ test prints this and fails
    sys.exit(f"image_data.py needs PIL and scipy ({e}); run scripts/install_deps.sh "
             f"(python3-pil python3-scipy) and use /usr/bin/python3")

IMAGENET_REF_SIZE = 24  # the C++ test loads imagenet with data.image_size = 24


def read_fmnist(root, count=600):
    path = os.path.join(root, "train-images-idx3-ubyte")
    raw = open(path, "rb").read() if os.path.exists(path) else gzip.open(path + ".gz").read()
    magic, n, h, w = struct.unpack(">IIII", raw[:16])
    assert magic == 0x803 and h == 28 and w == 28, path
    return np.frombuffer(raw[16:16 + count * 784], np.uint8).reshape(count, 28, 28)


def rgb_image(fm, first, height, width):
    """Three Fashion-MNIST images as R, G, B, resized to height x width."""
    arr = np.stack([fm[first], fm[first + 1], fm[first + 2]], axis=-1)
    return Image.fromarray(arr, "RGB").resize((width, height), Image.BICUBIC)


def png_bytes(arr, color_type, depth):
    """A minimal PNG writer for what PIL cannot write (16-bit RGB and gray)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    h, w = arr.shape[:2]
    dtype = ">u2" if depth == 16 else "u1"
    raw = b"".join(b"\0" + arr[y].astype(dtype).tobytes() for y in range(h))
    ihdr = struct.pack(">IIBBBBB", w, h, depth, color_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


class Manifest:
    def __init__(self, directory):
        self.dir = directory
        self.lines = []

    def reference(self, name, image):
        rgb = np.asarray(image.convert("RGB"))
        open(os.path.join(self.dir, name + ".rgb"), "wb").write(rgb.tobytes())
        self.lines.append(f"{name} {rgb.shape[0]} {rgb.shape[1]}")

    def add(self, name, data):
        """Writes the file (an Image saved by PIL, or bytes) and PIL's decoding of it."""
        path = os.path.join(self.dir, name)
        open(path, "wb").write(data)
        self.reference(name, Image.open(path))

    def save(self):
        open(os.path.join(self.dir, "manifest.txt"), "w").write("\n".join(self.lines) + "\n")


def encode(image, fmt, **options):
    buf = io.BytesIO()
    image.save(buf, fmt, **options)
    return buf.getvalue()


def write_codec(out, fm):
    d = os.path.join(out, "codec")
    os.makedirs(d)
    m = Manifest(d)
    rgb = rgb_image(fm, 0, 40, 56)
    m.add("rgb420.jpg", encode(rgb, "JPEG", quality=90))
    m.add("rgb444.jpg", encode(rgb, "JPEG", quality=95, subsampling=0))
    m.add("progressive.jpg", encode(rgb, "JPEG", quality=85, progressive=True))
    m.add("odd.jpg", encode(rgb_image(fm, 3, 27, 35), "JPEG", quality=90))
    m.add("gray.jpg", encode(Image.fromarray(fm[6]).resize((42, 42), Image.BICUBIC), "JPEG", quality=90))
    m.add("cmyk.jpg", encode(rgb_image(fm, 9, 32, 48).convert("CMYK"), "JPEG", quality=90))
    big = rgb_image(fm, 12, 72, 96)
    m.add("big.jpg", encode(big, "JPEG", quality=92))
    for s in (2, 4, 8):
        image = Image.open(os.path.join(d, "big.jpg"))
        image.draft("RGB", (96 // s, 72 // s))
        assert image.size == (96 // s, 72 // s), image.size
        m.reference(f"big.jpg.draft{s}", image)
    m.add("rgb.png", encode(rgb, "PNG"))
    alpha = Image.fromarray(fm[15])
    rgba = rgb.resize((28, 28)).convert("RGBA")
    rgba.putalpha(alpha)
    m.add("rgba.png", encode(rgba, "PNG"))
    la = Image.fromarray(fm[16]).convert("LA")
    la.putalpha(alpha)
    m.add("la.png", encode(la, "PNG"))
    m.add("gray.png", encode(Image.fromarray(fm[17]), "PNG"))
    m.add("bilevel.png", encode(Image.fromarray(fm[18]).convert("1"), "PNG"))
    palette = rgb.convert("P", palette=Image.ADAPTIVE, colors=40)
    m.add("palette.png", encode(palette, "PNG"))
    m.add("palette_trns.png", encode(palette, "PNG", transparency=3))
    wide = np.stack([fm[19], fm[20], fm[21]], -1).astype(np.uint16) * 257 + np.arange(28, dtype=np.uint16)[:, None]
    m.add("rgb16.png", png_bytes(wide, 2, 16))
    m.add("gray16.png", png_bytes(fm[22].astype(np.uint16) * 3, 0, 16))  # values up to 765: PIL clips at 255
    m.save()


def write_class_folders(out, fm, name, classes, per_split, size, ext):
    """out/name/<split>/<class>/*.ext; image i of a class is Fashion-MNIST triple `first`."""
    first = 30
    for split, count in per_split.items():
        for k, cls in enumerate(classes):
            folder = os.path.join(out, name, split, cls)
            os.makedirs(folder)
            for i in range(count):
                h, w = size(k, i)
                image = rgb_image(fm, first, h, w)
                first += 3
                path = os.path.join(folder, f"{cls}_{i}.{ext}")
                image.save(path, quality=90) if ext.lower() in ("jpeg", "jpg") else image.save(path)
                yield split, cls, path


def write_imagenet(out, fm):
    sizes = [(40, 56), (56, 40), (33, 47), (30, 30)]
    files = list(write_class_folders(out, fm, "imagenet", ["n03", "n01", "n02"], {"train": 3, "val": 1},
                                     lambda k, i: sizes[(k + i) % 4], "JPEG"))
    open(os.path.join(out, "imagenet", "train", "n01", "README.txt"), "w").write("not an image\n")
    s = IMAGENET_REF_SIZE
    for split, cls, path in files:
        image = Image.open(path).convert("RGB")
        w, h = image.size
        oh, ow = (int(s * h / w), s) if w <= h else (s, int(s * w / h))  # torchvision Resize(s)
        image = image.resize((ow, oh), Image.BILINEAR)
        top, left = int(round((oh - s) / 2.0)), int(round((ow - s) / 2.0))  # CenterCrop(s)
        image = image.crop((left, top, left + s, top + s))
        ref = os.path.join(out, f"imagenet_ref{s}", split, cls)
        os.makedirs(ref, exist_ok=True)
        open(os.path.join(ref, os.path.basename(path) + ".rgb"), "wb").write(np.asarray(image).tobytes())


def write_cinic(out, fm):
    classes = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    list(write_class_folders(out, fm, "cinic10", classes[::-1], {"train": 2, "valid": 1, "test": 1},
                             lambda k, i: (32, 32), "png"))


def write_tiny(out, fm):
    root = os.path.join(out, "tiny")
    wnids = [f"n{(k * 7919) % 1000:08d}" for k in range(200)]  # distinct, not sorted
    os.makedirs(os.path.join(root, "val", "images"))
    open(os.path.join(root, "wnids.txt"), "w").write("\n".join(wnids) + "\n")
    for k, wnid in enumerate(wnids):
        folder = os.path.join(root, "train", wnid, "images")
        os.makedirs(folder)
        open(os.path.join(root, "train", wnid, f"{wnid}_boxes.txt"), "w").write(f"{wnid}_0.JPEG\t0\t0\t63\t63\n")
        rgb_image(fm, k % 190, 64, 64).save(os.path.join(folder, f"{wnid}_0.JPEG"), quality=90)
    lines = []
    for i in range(12):
        wnid = wnids[(i * 37) % 200]
        rgb_image(fm, 3 * i, 64, 64).save(os.path.join(root, "val", "images", f"val_{i}.JPEG"), quality=90)
        lines.append(f"val_{i}.JPEG\t{wnid}\t1\t2\t60\t61")
    open(os.path.join(root, "val", "val_annotations.txt"), "w").write("\n".join(lines) + "\n")


def svhn_arrays(fm, first, n):
    x = np.zeros((32, 32, 3, n), np.uint8)  # MATLAB's X(row, column, channel, image)
    for i in range(n):
        for k in range(3):
            x[2:30, 2:30, k, i] = fm[first + 3 * i + k]
    y = (np.arange(n) % 10 + 1).reshape(n, 1)
    return x, y


def write_svhn(out, fm):
    d = os.path.join(out, "svhn")
    os.makedirs(d)
    sources = []
    for name, first, n, ytype in (("train", 100, 12, np.float64), ("test", 200, 5, np.uint8),
                                  ("extra", 300, 3, np.float64)):
        x, y = svhn_arrays(fm, first, n)
        scipy.io.savemat(os.path.join(d, f"{name}_32x32.mat"), {"X": x, "y": y.astype(ytype)}, format="5",
                         do_compression=name == "extra")
        sources.append(f"{name}_32x32.mat {first}")
    open(os.path.join(d, "sources.txt"), "w").write("\n".join(sources) + "\n")
    x, y = svhn_arrays(fm, 100, 4)
    bad = {
        "bad_shape": {"X": x[:, :, :1, :], "y": y.astype(np.float64)},
        "bad_missing_y": {"X": x},
        "bad_count": {"X": x, "y": y[:3].astype(np.float64)},
        "bad_label": {"X": x, "y": np.array([[1], [11], [2], [3]], np.float64)},
        "bad_x_double": {"X": x.astype(np.float64), "y": y.astype(np.float64)},
    }
    for name, variables in bad.items():
        scipy.io.savemat(os.path.join(d, name + ".mat"), variables, format="5")
    open(os.path.join(d, "bad_not_mat.mat"), "wb").write(b"this is not a MATLAB file\n" * 10)


def main():
    out = sys.argv[1]
    fm = read_fmnist(sys.argv[2] if len(sys.argv) > 2 else "/usr/share/datasets/fashion-mnist")
    os.makedirs(out, exist_ok=True)
    write_codec(out, fm)
    write_imagenet(out, fm)
    write_cinic(out, fm)
    write_tiny(out, fm)
    write_svhn(out, fm)


if __name__ == "__main__":
    main()
