"""Optimizers: Adam, as the tutorials use (the engine's update is PyTorch's formulation)."""

from __future__ import annotations

import math


class Adam:
    def __init__(self, learning_rate: float = 0.001, name: str = "adam") -> None:
        lr = float(learning_rate)
        if not (math.isfinite(lr) and lr > 0):
            raise ValueError(f"the learning rate must be a positive number, not {learning_rate!r}")
        self.learning_rate = lr
        self.name = name


def get(identifier) -> Adam:
    if isinstance(identifier, Adam):
        return identifier
    if isinstance(identifier, str) and identifier.lower() == "adam":
        return Adam()
    raise ValueError(f"unsupported optimizer {identifier!r}: the engine trains with Adam")
