"""The Keras API of the MNIST tutorials, trained by digits' engine: ``tf.keras.Input``,
``models.Sequential``, ``layers.Dense`` (Conv2D, MaxPooling2D, Flatten, Dropout), ``losses``,
``optimizers.Adam``, ``models.load_model``."""

from . import activations, layers, losses, models, optimizers, utils
from .layers import Input
from .models import Sequential

__all__ = [
    "activations",
    "layers",
    "losses",
    "models",
    "optimizers",
    "utils",
    "Input",
    "Sequential",
]
