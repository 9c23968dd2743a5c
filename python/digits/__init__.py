"""digits: handwritten-digit recognition in Rust, from Python.

- ``digits.keras``: the Keras API of the MNIST lab (Sequential, Dense, Conv2D, ... fit,
  predict, summary), trained by digits' engine. ``import digits as tf`` and the lab's
  ``tf.keras...``, ``tf.random.set_seed`` and ``tf.nn.softmax`` work.
- ``digits.read(picture)``: the number in a picture; ``digits.predict(pictures)``: one digit
  per picture, with its ten probabilities.
- ``digits.load_mnist(dir)``: MNIST as numpy arrays.
"""

from . import keras, nn, random
from ._digits import __version__, get_num_threads, set_num_threads
from .data import load_mnist, subset_from_mnist
from .reading import Reader, predict, read

__all__ = [
    "__version__",
    "keras",
    "nn",
    "random",
    "read",
    "predict",
    "Reader",
    "load_mnist",
    "subset_from_mnist",
    "set_num_threads",
    "get_num_threads",
]
