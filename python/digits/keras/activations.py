"""Activations: pass one (or its name) to a layer, or call it on an array."""

from __future__ import annotations

from typing import Any, Callable, Optional, Union

import numpy as np

from .. import nn


def linear(x):
    return np.asarray(x)


def relu(x):
    return np.maximum(np.asarray(x), 0)


def sigmoid(x):
    return 1 / (1 + np.exp(-np.asarray(x)))


def softmax(x, axis: int = -1):
    return nn.softmax(x, axis)


NAMES = {"linear": linear, "relu": relu, "sigmoid": sigmoid, "softmax": softmax}


def name_of(activation: Union[None, str, Callable[..., Any]]) -> str:
    """The activation's name ("linear" for None); ValueError for one the engine lacks."""
    if activation is None:
        return "linear"
    if isinstance(activation, str):
        name = activation.lower()
    else:
        name = getattr(activation, "__name__", "")
    if name not in NAMES:
        raise ValueError(
            f"unknown activation {activation!r}: the engine has {', '.join(NAMES)} "
            "(softmax on the last layer only)"
        )
    return name


def get(identifier: Optional[str]) -> Callable[..., Any]:
    return NAMES[name_of(identifier)]
