"""Layers: Dense, Conv2D, MaxPooling2D, Flatten, Dropout, and ``Input`` for the input shape.

A layer describes itself to the engine (``_spec``); once its model is built, ``name``,
``get_weights`` and ``set_weights`` reach the engine's weights (Keras' layouts: Dense W
(in, out), b (out,); Conv2D W (k, k, in_channels, filters), b (filters,))."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from . import activations


class Input:
    """The input of a model: ``Input(shape=(400,))`` or ``Input(shape=(28, 28, 1))``."""

    def __init__(self, shape: Sequence[int], name: Optional[str] = None, **kwargs: Any) -> None:
        _no_extra("Input", kwargs)
        shape = tuple(shape)
        if not shape or not all(isinstance(d, (int, np.integer)) and d > 0 for d in shape):
            raise ValueError(f"the input shape must be positive integers, not {shape!r}")
        self.shape: Tuple[Optional[int], ...] = (None,) + tuple(int(d) for d in shape)
        self.name = name


InputLayer = Input


def _no_extra(what: str, kwargs: Dict[str, Any]) -> None:
    if kwargs:
        raise ValueError(f"{what}: unsupported arguments {sorted(kwargs)}")


def _pair(v: Any, what: str) -> int:
    """A square size given as n or (n, n)."""
    if isinstance(v, (int, np.integer)):
        return int(v)
    t = tuple(v)
    if len(t) != 2 or t[0] != t[1]:
        raise ValueError(f"{what} must be square (n or (n, n)), not {v!r}")
    return int(t[0])


class Layer:
    """What every layer has: a name, its model once built, and its weights."""

    _kind = "layer"

    def __init__(self, name: Optional[str], input_shape: Optional[Sequence[int]]) -> None:
        self._name = name
        self._input_shape = None if input_shape is None else tuple(input_shape)
        self._model: Any = None
        self._index = -1

    @property
    def name(self) -> str:
        if self._model is not None and self._model._native is not None:
            return self._model._layer_info()[self._index][0]
        return self._name or self._kind

    @property
    def output_shape(self) -> Tuple[Optional[int], ...]:
        self._need_model()
        return (None,) + tuple(self._model._layer_info()[self._index][2])

    def count_params(self) -> int:
        self._need_model()
        return self._model._layer_info()[self._index][3]

    def _need_model(self) -> None:
        if self._model is None:
            raise ValueError(f"layer {self.name} belongs to no model yet")

    def get_weights(self) -> List[np.ndarray]:
        """``[W, b]`` as numpy arrays (copies), ``[]`` for a layer without weights (builds the
        model if it has its input shape)."""
        self._need_model()
        return self._model._get_layer_weights(self._index)

    @property
    def weights(self) -> List[np.ndarray]:
        return self.get_weights()

    def set_weights(self, weights: Sequence[Any]) -> None:
        """Replaces ``[W, b]``; each must have the shape ``get_weights`` gives."""
        self._need_model()
        self._model._set_layer_weights(self._index, weights)

    def _spec(self) -> Dict[str, Any]:
        raise NotImplementedError

    def _with_name(self, spec: Dict[str, Any]) -> Dict[str, Any]:
        if self._name is not None:
            spec["name"] = self._name
        return spec

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}>"


class Dense(Layer):
    """Fully connected: ``Dense(25, activation="relu", name="L1")`` (or ``activation=relu``).
    ``softmax`` is taken on the last layer (the model then outputs probabilities)."""

    _kind = "dense"

    def __init__(
        self,
        units: int,
        activation: Any = None,
        name: Optional[str] = None,
        input_shape: Optional[Sequence[int]] = None,
        input_dim: Optional[int] = None,
        **kwargs: Any,
    ) -> None:
        _no_extra("Dense", kwargs)
        if not isinstance(units, (int, np.integer)) or units < 1:
            raise ValueError(f"Dense: units must be a positive integer, not {units!r}")
        if input_dim is not None:
            input_shape = (input_dim,)
        super().__init__(name, input_shape)
        self.units = int(units)
        self.activation = activations.get(activation)

    def _spec(self) -> Dict[str, Any]:
        act = self.activation.__name__
        return self._with_name(
            {"type": "dense", "units": self.units, "activation": "linear" if act == "softmax" else act}
        )


class Conv2D(Layer):
    """``Conv2D(32, kernel_size=(3, 3), activation="relu")``: stride 1, odd square kernel,
    padding "valid" or "same"."""

    _kind = "conv2d"

    def __init__(
        self,
        filters: int,
        kernel_size: Any,
        strides: Any = (1, 1),
        padding: str = "valid",
        activation: Any = None,
        name: Optional[str] = None,
        input_shape: Optional[Sequence[int]] = None,
        **kwargs: Any,
    ) -> None:
        _no_extra("Conv2D", kwargs)
        super().__init__(name, input_shape)
        if not isinstance(filters, (int, np.integer)) or filters < 1:
            raise ValueError(f"Conv2D: filters must be a positive integer, not {filters!r}")
        self.filters = int(filters)
        self.kernel_size = _pair(kernel_size, "Conv2D kernel_size")
        if self.kernel_size < 1 or self.kernel_size % 2 == 0:
            raise ValueError(f"Conv2D: the engine takes odd kernels, not {kernel_size!r}")
        if _pair(strides, "Conv2D strides") != 1:
            raise ValueError(f"Conv2D: the engine takes stride 1, not {strides!r}")
        if padding not in ("valid", "same"):
            raise ValueError(f'Conv2D: padding must be "valid" or "same", not {padding!r}')
        self.padding = padding
        self.activation = activations.get(activation)
        if self.activation.__name__ == "softmax":
            raise ValueError("Conv2D: softmax is taken only on the last Dense layer")

    def _spec(self) -> Dict[str, Any]:
        return self._with_name(
            {
                "type": "conv2d",
                "filters": self.filters,
                "kernel": self.kernel_size,
                "padding": self.padding,
                "activation": self.activation.__name__,
            }
        )


class MaxPooling2D(Layer):
    """2x2 max pooling, stride 2."""

    _kind = "max_pooling2d"

    def __init__(
        self,
        pool_size: Any = (2, 2),
        strides: Any = None,
        padding: str = "valid",
        name: Optional[str] = None,
        **kwargs: Any,
    ) -> None:
        _no_extra("MaxPooling2D", kwargs)
        super().__init__(name, None)
        if _pair(pool_size, "MaxPooling2D pool_size") != 2:
            raise ValueError(f"MaxPooling2D: the engine pools 2x2, not {pool_size!r}")
        if strides is not None and _pair(strides, "MaxPooling2D strides") != 2:
            raise ValueError(f"MaxPooling2D: the engine pools with stride 2, not {strides!r}")
        if padding != "valid":
            raise ValueError('MaxPooling2D: the engine pools with padding "valid"')

    def _spec(self) -> Dict[str, Any]:
        return self._with_name({"type": "maxpool2d"})


class Flatten(Layer):
    _kind = "flatten"

    def __init__(
        self, name: Optional[str] = None, input_shape: Optional[Sequence[int]] = None, **kwargs: Any
    ) -> None:
        _no_extra("Flatten", kwargs)
        super().__init__(name, input_shape)

    def _spec(self) -> Dict[str, Any]:
        return self._with_name({"type": "flatten"})


class Dropout(Layer):
    """Zeroes each value with probability ``rate`` while training."""

    _kind = "dropout"

    def __init__(self, rate: float, name: Optional[str] = None, **kwargs: Any) -> None:
        _no_extra("Dropout", kwargs)
        super().__init__(name, None)
        if not 0 <= float(rate) < 1:
            raise ValueError(f"Dropout: the rate must be in [0, 1), not {rate!r}")
        self.rate = float(rate)

    def _spec(self) -> Dict[str, Any]:
        return self._with_name({"type": "dropout", "rate": self.rate})


def from_spec(spec: Dict[str, Any]) -> Layer:
    """The layer of an engine spec entry (a loaded model's)."""
    kind, name = spec["type"], spec.get("name")
    if kind == "dense":
        return Dense(spec["units"], spec["activation"], name=name)
    if kind == "conv2d":
        return Conv2D(
            spec["filters"], spec["kernel"], padding=spec.get("padding", "valid"),
            activation=spec["activation"], name=name,
        )
    if kind == "maxpool2d":
        return MaxPooling2D(name=name)
    if kind == "flatten":
        return Flatten(name=name)
    if kind == "dropout":
        return Dropout(spec["rate"], name=name)
    raise ValueError(f"unknown layer type {kind!r}")
