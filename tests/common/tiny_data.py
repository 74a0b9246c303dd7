"""A tiny Fashion-MNIST-format dataset (IDX files) that a network can learn: each class has a
bright square at its own place."""
import struct

import numpy as np


def write_idx(path, array, magic):
    with open(path, "wb") as f:
        f.write(struct.pack(">I", magic))
        for d in array.shape:
            f.write(struct.pack(">I", d))
        f.write(array.astype(np.uint8).tobytes())


def write_tiny_fmnist(root, train=96, test=32):
    rng = np.random.default_rng(0)
    for prefix, n in (("train", train), ("t10k", test)):
        labels = rng.integers(0, 10, n)
        images = rng.integers(0, 60, (n, 28, 28))
        for i, k in enumerate(labels):
            r, c = 3 + (k // 5) * 14, 2 + (k % 5) * 5
            images[i, r:r + 6, c:c + 6] = 220
        write_idx(root / f"{prefix}-images-idx3-ubyte", images, 0x803)
        write_idx(root / f"{prefix}-labels-idx1-ubyte", labels, 0x801)
    return root
