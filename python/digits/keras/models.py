"""``Sequential``: Keras' model, trained by digits' engine; ``load_model``."""

from __future__ import annotations

import json
import math
import os
import sys
import time
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from .. import _digits, random
from . import losses, optimizers
from .layers import Input, Layer, from_spec

PathLike = Union[str, "os.PathLike[str]"]


class History:
    """What ``fit`` returns: ``history.history["loss"]`` (and ``val_loss``, ``val_accuracy``
    with validation data), one value per epoch."""

    def __init__(self, history: Dict[str, List[float]], epochs: int, params: Dict[str, Any]) -> None:
        self.history = history
        self.epoch = list(range(epochs))
        self.params = params


class Sequential:
    """A stack of layers: ``Sequential([Input(shape=(400,)), Dense(25, activation="relu",
    name="L1"), ...], name="my_model")``."""

    def __init__(self, layers: Optional[Sequence[Any]] = None, name: Optional[str] = None) -> None:
        self.name = name or "sequential"
        self._layers: List[Layer] = []
        self._input_shape: Optional[Tuple[int, ...]] = None
        self._native: Any = None
        self._info: Optional[list] = None
        self._softmax = False
        self._loss: Optional[losses.SparseCategoricalCrossentropy] = None
        self._optimizer: Optional[optimizers.Adam] = None
        self._metrics: List[str] = []
        for layer in layers or []:
            self.add(layer)

    # -- building -------------------------------------------------------------------------

    def add(self, layer: Any) -> None:
        if self._native is not None:
            raise ValueError("the model is already built: add layers before fitting or predicting")
        if isinstance(layer, Input):
            if self._layers or self._input_shape is not None:
                raise ValueError("Input must come first, once")
            self._input_shape = tuple(layer.shape[1:])  # type: ignore[arg-type]
            return
        if not isinstance(layer, Layer):
            raise ValueError(f"not a layer: {layer!r}")
        if layer._model is not None:
            raise ValueError(f"layer {layer.name} already belongs to a model")
        if not self._layers and self._input_shape is None and layer._input_shape is not None:
            self._input_shape = layer._input_shape
        layer._model, layer._index = self, len(self._layers)
        self._layers.append(layer)

    def build(self, input_shape: Optional[Sequence[Optional[int]]] = None) -> None:
        """Creates the weights (drawn from the seed of ``tf.random.set_seed``)."""
        if self._native is not None:
            return
        if input_shape is not None:
            shape = tuple(input_shape)
            self._input_shape = tuple(int(d) for d in (shape[1:] if shape and shape[0] is None else shape))
        if self._input_shape is None:
            raise ValueError(
                "the model has no input shape yet: start it with tf.keras.Input(shape=...) or fit it"
            )
        if not self._layers:
            raise ValueError("the model has no layers")
        specs = [l._spec() for l in self._layers]
        last = self._layers[-1]
        self._softmax = getattr(getattr(last, "activation", None), "__name__", "") == "softmax"
        for l in self._layers[:-1]:
            if getattr(getattr(l, "activation", None), "__name__", "") == "softmax":
                raise ValueError(f"layer {l.name}: softmax is taken only on the last layer")
        if any(s["type"] in ("conv2d", "maxpool2d") for s in specs):
            s = self._input_shape
            if not (len(s) == 3 and s[0] == s[1] and s[2] == 1) and not (len(s) == 2 and s[0] == s[1]):
                raise ValueError(
                    f"convolutions take square one-channel images (h, h, 1), not input shape {s}"
                )
        spec = {"input_dim": int(np.prod(self._input_shape)), "layers": specs}
        self._native = _digits.Model(json.dumps(spec), random.next_seed())
        self._attach()

    def _attach(self) -> None:
        self._info = self._native.layer_info()
        for k, layer in enumerate(self._layers):
            layer._model, layer._index = self, k

    def _layer_info(self) -> list:
        self._built()
        assert self._info is not None
        return self._info

    def _built(self) -> Any:
        if self._native is None:
            self.build()
        return self._native

    @property
    def layers(self) -> List[Layer]:
        return list(self._layers)

    @property
    def input_shape(self) -> Tuple[Optional[int], ...]:
        if self._input_shape is None:
            raise ValueError("the model has no input shape yet")
        return (None,) + self._input_shape

    def summary(self, print_fn: Any = None) -> None:
        """Prints Keras' table (names, output shapes, parameter counts) to sys.stdout."""
        text = self._built().summary().replace('Model: "sequential"', f'Model: "{self.name}"', 1)
        if print_fn is not None:
            print_fn(text.rstrip("\n"))
        else:
            sys.stdout.write(text)
            sys.stdout.flush()

    def count_params(self) -> int:
        self._built()
        return sum(info[3] for info in self._layer_info())

    # -- weights ---------------------------------------------------------------------------

    def _weight_shapes(self, k: int) -> Tuple[Tuple[int, ...], Tuple[int, ...]]:
        info = self._layer_info()
        in_shape = tuple(info[k - 1][2]) if k > 0 else self._engine_input_shape()
        layer = self._layers[k]
        if hasattr(layer, "filters"):
            return (layer.kernel_size, layer.kernel_size, in_shape[-1], layer.filters), (layer.filters,)
        if hasattr(layer, "units"):
            return (int(np.prod(in_shape)), layer.units), (layer.units,)
        return (), ()

    def _engine_input_shape(self) -> Tuple[int, ...]:
        """The input as the first layer sees it: square one-channel images for convolutions."""
        s = self._input_shape or ()
        if len(s) == 2:
            return (s[0], s[1], 1)
        if len(s) == 1 and any(hasattr(l, "filters") for l in self._layers):
            side = math.isqrt(s[0])
            return (side, side, 1)
        return s

    def _get_layer_weights(self, k: int) -> List[np.ndarray]:
        w, b = self._built().get_weights(k)
        if w.size == 0:
            return []
        ws, bs = self._weight_shapes(k)
        return [w.reshape(ws), b.reshape(bs)]

    def _set_layer_weights(self, k: int, weights: Sequence[Any]) -> None:
        native = self._built()
        ws, bs = self._weight_shapes(k)
        name = self._layers[k].name
        if not ws:
            if len(weights):
                raise ValueError(f"layer {name} has no weights")
            return
        if len(weights) != 2:
            raise ValueError(f"layer {name} takes [W, b], got {len(weights)} arrays")
        w, b = (np.asarray(a) for a in weights)
        for what, a, shape in (("W", w, ws), ("b", b, bs)):
            if a.shape != shape:
                raise ValueError(f"layer {name}: {what} must have shape {shape}, not {a.shape}")
            if a.dtype.kind not in "fiu":
                raise ValueError(f"layer {name}: {what} must be numbers, not {a.dtype}")
        native.set_weights(
            k,
            np.ascontiguousarray(w, dtype=np.float32).reshape(-1),
            np.ascontiguousarray(b, dtype=np.float32).reshape(-1),
        )

    def get_weights(self) -> List[np.ndarray]:
        return [a for k in range(len(self._layers)) for a in self._layers[k].get_weights()]

    def set_weights(self, weights: Sequence[Any]) -> None:
        weights = list(weights)
        for layer in self._layers:
            n = len(layer.get_weights())
            layer.set_weights(weights[:n])
            weights = weights[n:]
        if weights:
            raise ValueError(f"{len(weights)} arrays more than the model has weights")

    # -- training --------------------------------------------------------------------------

    def compile(
        self,
        optimizer: Any = "adam",
        loss: Any = None,
        metrics: Optional[Sequence[str]] = None,
        **kwargs: Any,
    ) -> None:
        if kwargs:
            raise ValueError(f"compile: unsupported arguments {sorted(kwargs)}")
        self._optimizer = optimizers.get(optimizer)
        self._loss = losses.get(loss if loss is not None else "sparse_categorical_crossentropy")
        self._metrics = [str(m) for m in (metrics or [])]
        for m in self._metrics:
            if m not in ("accuracy", "acc", "sparse_categorical_accuracy", "categorical_accuracy"):
                raise ValueError(f"unsupported metric {m!r}: the engine reports accuracy")
        if self._native is not None:
            self._native.reset_optimizer()

    def _check_loss(self) -> None:
        assert self._loss is not None
        if self._loss.from_logits and self._softmax:
            raise ValueError("the loss takes logits (from_logits=True) but the last layer is softmax")
        if not self._loss.from_logits and not self._softmax:
            raise ValueError(
                "the loss takes probabilities (from_logits=False) but the last layer has no softmax: "
                "use SparseCategoricalCrossentropy(from_logits=True) or activation='softmax'"
            )

    def _x(self, x: Any, what: str = "x") -> np.ndarray:
        """x as the engine reads it: float32 (n, features), C order; copied only when its
        dtype or layout needs it."""
        a = np.asarray(x)
        if a.dtype.kind not in "fiub":
            raise ValueError(f"{what} must be numbers, not {a.dtype}")
        if a.ndim < 2:
            raise ValueError(f"{what} must be (examples, features...), not shape {a.shape}")
        if a.shape[0] == 0:
            raise ValueError(f"{what} holds no examples")
        if self._native is None and self._input_shape is None:
            self.build(a.shape)
        native = self._built()
        features = int(np.prod(a.shape[1:]))
        if features != native.input_dim:
            raise ValueError(
                f"{what} has shape {a.shape} ({features} values per example) but the model's "
                f"input is {self.input_shape} ({native.input_dim} values)"
            )
        return np.ascontiguousarray(a.reshape(a.shape[0], features), dtype=np.float32)

    def _y(self, y: Any, n: int, what: str = "y") -> np.ndarray:
        """Labels as uint8 (n,): integers of shape (n,) or (n, 1), or one-hot (n, classes)
        for CategoricalCrossentropy."""
        classes = self._built().output_dim
        a = np.asarray(y)
        if a.dtype.kind not in "fiub":
            raise ValueError(f"{what} must be numbers, not {a.dtype}")
        if self._loss is not None and self._loss.one_hot:
            if a.ndim != 2 or a.shape[1] != classes:
                raise ValueError(f"{what} must be one-hot (examples, {classes}), not shape {a.shape}")
            a = a.argmax(axis=1)
        elif a.ndim == 2 and a.shape[1] == 1:
            a = a[:, 0]
        if a.ndim != 1:
            raise ValueError(f"{what} must be labels of shape (examples,) or (examples, 1), not {a.shape}")
        if a.shape[0] != n:
            raise ValueError(f"{what} has {a.shape[0]} labels for {n} examples")
        if a.dtype.kind == "f":
            if not np.isfinite(a).all():
                raise ValueError(f"{what} holds NaN or infinity")
            if (a != np.round(a)).any():
                raise ValueError(f"{what} holds non-integer labels such as {a[a != np.round(a)][0]}")
        low, high = a.min(), a.max()
        if low < 0 or high >= classes:
            bad = low if low < 0 else high
            raise ValueError(
                f"{what} holds label {bad:g} but the model has {classes} outputs (labels 0..{classes - 1})"
            )
        return a.astype(np.uint8)

    def fit(
        self,
        x: Any = None,
        y: Any = None,
        batch_size: Optional[int] = None,
        epochs: int = 1,
        verbose: Union[str, int] = "auto",
        validation_split: float = 0.0,
        validation_data: Optional[Tuple[Any, Any]] = None,
        shuffle: bool = True,
        **kwargs: Any,
    ) -> History:
        """Trains for ``epochs`` epochs (continuing from earlier fits, as Keras does) and prints
        one line per epoch to sys.stdout. Ctrl-C stops it after the current step and raises
        KeyboardInterrupt; the model keeps the weights it reached."""
        if kwargs:
            raise ValueError(f"fit: unsupported arguments {sorted(kwargs)}")
        if self._loss is None or self._optimizer is None:
            raise RuntimeError("You must call `compile()` before using the model")
        if x is None or y is None:
            raise ValueError("fit needs x and y")
        if not isinstance(epochs, (int, np.integer)) or epochs < 0:
            raise ValueError(f"epochs must be a non-negative integer, not {epochs!r}")
        batch_size = 32 if batch_size is None else batch_size
        if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, not {batch_size!r}")
        xs = self._x(x)
        self._check_loss()
        ys = self._y(y, xs.shape[0])
        if not 0 <= validation_split < 1:
            raise ValueError(f"validation_split must be in [0, 1), not {validation_split}")
        validation = None
        if validation_data is not None:
            if len(validation_data) != 2:
                raise ValueError("validation_data must be (x, y)")
            vx = self._x(validation_data[0], "validation x")
            validation = (vx, self._y(validation_data[1], vx.shape[0], "validation y"))
        elif validation_split > 0:
            # Keras takes the last examples, before shuffling.
            cut = int(xs.shape[0] * (1 - validation_split))
            if cut == 0 or cut == xs.shape[0]:
                raise ValueError(f"validation_split {validation_split} leaves no training or no validation examples")
            validation = (xs[cut:], ys[cut:])
            xs, ys = xs[:cut], ys[:cut]
        level = {"auto": 1, 0: 0, 1: 1, 2: 2}.get(verbose)  # type: ignore[call-overload]
        if level is None:
            raise ValueError(f"verbose must be 'auto', 0, 1 or 2, not {verbose!r}")
        assert self._optimizer is not None
        history = self._native.fit(
            xs, ys, int(epochs), int(batch_size), self._optimizer.learning_rate,
            bool(shuffle), level, validation,
        )
        steps = math.ceil(xs.shape[0] / batch_size)
        return History(history, int(epochs), {"verbose": level, "epochs": int(epochs), "steps": steps})

    def predict(self, x: Any, batch_size: Optional[int] = None, verbose: Union[str, int] = "auto") -> np.ndarray:
        """The last layer's outputs (logits, or probabilities when it ends in softmax), float32
        (n, classes). A C-contiguous float32 x is read in place."""
        started = time.perf_counter()
        xs = self._x(x)
        out = self._native.predict(xs)
        if self._softmax:
            out = _softmax(out)
        if verbose in ("auto", 1):
            steps = math.ceil(xs.shape[0] / (batch_size or 32))
            took = time.perf_counter() - started
            sys.stdout.write(
                f"{steps}/{steps} [{'=' * 30}] - {took:.0f}s {took / steps * 1e3:.0f}ms/step\n"
            )
            sys.stdout.flush()
        return out

    def evaluate(self, x: Any, y: Any, batch_size: Optional[int] = None, verbose: Union[str, int] = "auto"):
        """The mean loss, and the accuracy when compiled with ``metrics=["accuracy"]``."""
        if self._loss is None:
            raise RuntimeError("You must call `compile()` before using the model")
        xs = self._x(x)
        ys = self._y(y, xs.shape[0]).astype(np.int64)
        out = self._native.predict(xs).astype(np.float64)
        p = _softmax(out)  # logits, or the logits of the softmax layer
        loss = float(-np.log(np.maximum(p[np.arange(len(ys)), ys], 1e-12)).mean())
        accuracy = float((p.argmax(axis=1) == ys).mean())
        if verbose in ("auto", 1):
            sys.stdout.write(f"loss: {loss:.4f}" + (f" - accuracy: {accuracy:.4f}" if self._metrics else "") + "\n")
        return [loss, accuracy] if self._metrics else loss

    # -- files -----------------------------------------------------------------------------

    def save(self, path: PathLike) -> None:
        """Writes a digits safetensors checkpoint (architecture and weights; PyTorch reads it
        as a state dict)."""
        self._built().save(os.fspath(path))


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)


def load_model(path: PathLike) -> Sequential:
    """A model saved by ``model.save`` (or ``digits train``): its layers and weights. Compile
    it before fitting it further."""
    native = _digits.Model.load(os.fspath(path))
    spec = json.loads(native.spec_json())
    model = Sequential([from_spec(s) for s in spec["layers"]])
    model._input_shape = (spec["input_dim"],)
    model._native = native
    model._attach()
    return model
