"""Losses: the engine trains with softmax cross-entropy on integer labels (one-hot labels are
taken too, for CategoricalCrossentropy)."""

from __future__ import annotations


class SparseCategoricalCrossentropy:
    """Cross-entropy on integer labels. ``from_logits=True``: the last layer is linear (the
    lab); False: it ends in softmax (Keras' mnist_convnet)."""

    one_hot = False

    def __init__(self, from_logits: bool = False, name: str = "sparse_categorical_crossentropy"):
        self.from_logits = bool(from_logits)
        self.name = name


class CategoricalCrossentropy(SparseCategoricalCrossentropy):
    """Cross-entropy on one-hot labels (n, classes)."""

    one_hot = True

    def __init__(self, from_logits: bool = False, name: str = "categorical_crossentropy"):
        super().__init__(from_logits, name)


def get(identifier) -> SparseCategoricalCrossentropy:
    if isinstance(identifier, SparseCategoricalCrossentropy):
        return identifier
    if isinstance(identifier, str):
        by_name = {
            "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
            "categorical_crossentropy": CategoricalCrossentropy,
        }
        if identifier in by_name:
            return by_name[identifier]()
    raise ValueError(
        f"unsupported loss {identifier!r}: the engine trains with "
        "SparseCategoricalCrossentropy or CategoricalCrossentropy"
    )
