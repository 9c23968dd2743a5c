"""``tf.random.set_seed``: the seed models are built and shuffled with."""

from __future__ import annotations

import os
from typing import Optional

_seed: Optional[int] = None
_drawn = 0


def set_seed(seed: int) -> None:
    """Makes the weights of the models built from now on (and their shuffling) reproducible."""
    global _seed, _drawn
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"the seed must be a non-negative integer, not {seed!r}")
    _seed, _drawn = seed, 0


def next_seed() -> int:
    """The seed of the next model: the global seed for the first model built after set_seed,
    then the seed plus a count (as TensorFlow draws a new op seed each time); random when no
    seed was set."""
    global _drawn
    if _seed is None:
        return int.from_bytes(os.urandom(8), "little") >> 1
    seed = _seed + _drawn
    _drawn += 1
    return seed
