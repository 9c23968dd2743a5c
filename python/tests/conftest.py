"""Shared fixtures: MNIST (DIGITS_MNIST_DIR, or ../shared/data/mnist beside the checkout) and the
lab's 20x20 set built from it, once per session."""

import os
from pathlib import Path

import numpy as np
import pytest

import digits

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    env = os.environ.get("DIGITS_MNIST_DIR")
    d = Path(env) if env else ROOT.parent / "shared" / "data" / "mnist"
    if not d.is_dir():
        pytest.fail(f"MNIST not found at {d}: set DIGITS_MNIST_DIR (scripts/test.sh does)")
    return d


@pytest.fixture(scope="session")
def lab_data(mnist_dir):
    """X float32 (5000, 400), y uint8 (5000, 1): what `digits data subset` builds."""
    return digits.subset_from_mnist(mnist_dir)


@pytest.fixture(scope="session")
def mnist(mnist_dir):
    return digits.load_mnist(mnist_dir)


def number_picture(mnist, indices, gap=6):
    """A picture of the test digits `indices` side by side, dark ink on white paper, uint8."""
    (_, _), (x_test, _) = mnist
    parts = []
    for i in indices:
        parts += [x_test[i], np.zeros((28, gap), np.uint8)]
    ink = np.concatenate([np.zeros((28, 10), np.uint8)] + parts + [np.zeros((28, 10), np.uint8)], axis=1)
    ink = np.pad(ink, ((12, 12), (0, 0)))
    return 255 - ink
