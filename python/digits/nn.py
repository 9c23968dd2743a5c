"""``tf.nn.softmax``: probabilities from logits, along the last axis."""

from __future__ import annotations

import numpy as np


def softmax(logits, axis: int = -1) -> np.ndarray:
    """exp(z) / sum(exp(z)), computed stably (the largest logit subtracted first)."""
    z = np.asarray(logits, dtype=np.float64 if np.asarray(logits).dtype == np.float64 else np.float32)
    z = z - z.max(axis=axis, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)
