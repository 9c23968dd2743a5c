"""Data sets as numpy arrays."""

from __future__ import annotations

import os
from typing import Tuple, Union

import numpy as np

from . import _digits

PathLike = Union[str, "os.PathLike[str]"]


def load_mnist(
    dir: PathLike,
) -> Tuple[Tuple[np.ndarray, np.ndarray], Tuple[np.ndarray, np.ndarray]]:
    """MNIST from a folder of its four IDX files (``.gz`` or not), as Keras'
    ``mnist.load_data()`` gives it: ``(x_train, y_train), (x_test, y_test)``, images uint8
    (n, 28, 28), labels uint8 (n,). A missing or damaged file raises ValueError naming it."""
    return _digits.load_mnist(os.fspath(dir))


def subset_from_mnist(
    dir: PathLike, per_class: int = 500, seed: int = 0
) -> Tuple[np.ndarray, np.ndarray]:
    """The lab's 20x20 set built from MNIST (what ``digits data subset`` writes): X float32
    (10 * per_class, 400) in [0, 1], each image stored column by column
    (``X[i].reshape(20, 20).T`` is upright), y uint8 (10 * per_class, 1)."""
    return _digits.subset_from_mnist(os.fspath(dir), per_class, seed)
