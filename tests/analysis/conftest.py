"""Shared fixtures: a tiny Fashion-MNIST-format dataset (IDX files) that a network can learn."""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "common"))
from tiny_data import write_idx, write_tiny_fmnist  # noqa: E402,F401


@pytest.fixture(scope="module")
def data_root(tmp_path_factory):
    return write_tiny_fmnist(tmp_path_factory.mktemp("fmnist"))
