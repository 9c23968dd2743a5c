"""``keras.utils.to_categorical``."""

from __future__ import annotations

from typing import Optional

import numpy as np


def to_categorical(y, num_classes: Optional[int] = None, dtype: str = "float32") -> np.ndarray:
    y = np.asarray(y, dtype=np.int64).reshape(-1)
    if y.size and y.min() < 0:
        raise ValueError(f"labels must be non-negative, got {y.min()}")
    n = int(num_classes if num_classes is not None else (y.max() + 1 if y.size else 0))
    if y.size and y.max() >= n:
        raise ValueError(f"label {y.max()} does not fit in {n} classes")
    out = np.zeros((y.size, n), dtype=dtype)
    out[np.arange(y.size), y] = 1
    return out
