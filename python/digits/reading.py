"""Reading digits from pictures: a path, PNG/JPEG/BMP/TIFF/WebP bytes, a PIL image or a numpy
array (grey or RGB, any size), one or a batch; a batch is read on all the threads allowed
(``digits.set_num_threads``), the GIL released."""

from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from . import _digits

Picture = Any  # str | os.PathLike | bytes | PIL.Image.Image | numpy.ndarray
PathLike = Union[str, "os.PathLike[str]"]


def _is_single(pictures: Any) -> bool:
    """One picture, or a batch of them (a list or tuple; a numpy array is one picture)."""
    return not isinstance(pictures, (list, tuple))


def _to_native(picture: Picture, k: int) -> Any:
    """What the native reader takes: a path (str), bytes, or a uint8 array (h, w[, 3|4])."""
    if isinstance(picture, (str, os.PathLike)):
        return os.fspath(picture)
    if isinstance(picture, (bytes, bytearray, memoryview)):
        return bytes(picture)
    if _is_pil(picture):
        return _from_pil(picture)
    if isinstance(picture, np.ndarray):
        return _from_array(picture, k)
    raise ValueError(
        f"picture {k}: expected a path, PNG/JPEG/BMP/TIFF/WebP bytes, a PIL image or a numpy "
        f"array, got {type(picture).__name__}"
    )


def _is_pil(obj: Any) -> bool:
    return type(obj).__module__.startswith("PIL.") and hasattr(obj, "convert")


def _from_pil(img: Any) -> np.ndarray:
    from PIL import ImageOps

    # A file read by path is turned upright by its EXIF orientation; so is a PIL image.
    img = ImageOps.exif_transpose(img)
    if img.mode not in ("L", "RGB", "RGBA"):
        has_alpha = "A" in img.mode or "transparency" in img.info
        img = img.convert("RGBA" if has_alpha else "RGB")
    return np.asarray(img)


def _from_array(a: np.ndarray, k: int) -> np.ndarray:
    """uint8 as is; bool as 0/255; floats in [0, 1] and integers in 0..255 scaled to uint8."""
    if a.dtype == np.uint8:
        return a
    if a.dtype == np.bool_:
        return a.astype(np.uint8) * 255
    if a.dtype.kind == "f":
        if not np.isfinite(a).all():
            raise ValueError(f"picture {k}: the array holds NaN or infinity")
        if a.size and (a.min() < 0 or a.max() > 1):
            raise ValueError(
                f"picture {k}: a float array must hold grey levels in [0, 1], "
                f"got values from {a.min()} to {a.max()}"
            )
        return np.rint(a * 255).astype(np.uint8)
    if a.dtype.kind in "iu":
        if a.size and (a.min() < 0 or a.max() > 255):
            raise ValueError(
                f"picture {k}: an integer array must hold levels 0..255, "
                f"got values from {a.min()} to {a.max()}"
            )
        return a.astype(np.uint8)
    raise ValueError(f"picture {k}: cannot read an array of {a.dtype}")


class Reader:
    """What reads pictures; load it once and reuse it (e.g. once per Ray worker).

    ``model``: None for the built-in readers, the ones ``digits read`` and ``digits predict``
    use: the line reader (trained with CTC on whole numbers; where it is unsure, checked by the
    digit model reading the ink cut into digits) for ``read``, the digit model for
    ``predict``. Or a digits checkpoint (.safetensors): a line model (``read`` only) or a digit
    model of 28x28 inputs (``read`` cuts the ink into digits and classifies each; ``predict``).
    ``segment=True`` with no model reads numbers with the built-in digit model, cutting the ink
    into digits (``digits read --segment``).
    """

    def __init__(self, model: Optional[PathLike] = None, segment: bool = False) -> None:
        self._native = _digits.Reader(None if model is None else os.fspath(model), segment)

    def read(
        self,
        pictures: Union[Picture, Sequence[Picture]],
        errors: str = "raise",
        min_confidence: Optional[float] = None,
        digits: Union[None, int, str, Tuple[int, int]] = None,
    ):
        """The number in each picture, as ``digits read --json`` gives it:
        ``{"text": "12051990", "formatted": "12/05/1990", "confidence": p,
        "digits": [{"digit", "probability", "box": [x, y, w, h]}, ...]}``: ``text`` the digits
        alone, ``formatted`` with the separators read (``.`` ``,`` ``/`` ``-``), ``confidence``
        how sure the reader is of the whole number (for the built-in reader, calibrated: the
        chance that the number is right; text "" and confidence 0 for a blank picture). One picture gives a dict, a list gives a list.
        A picture of several numbers (a date above a phone number, numbers far apart on a
        line) gives the one holding the most ink, and ``"numbers"``: each one's reading, line
        by line from the top.
        ``errors="raise"``: a picture that cannot be read raises ValueError naming it;
        ``"report"``: its entry is ``{"error": message}``.
        ``min_confidence=p`` (the reject option, ``digits read --min-confidence``): each
        reading (and each of its ``"numbers"``) also says ``"accepted"``: whether its confidence
        is at least p; the others are the ones to check by hand.
        ``digits=5`` (or ``(4, 8)``, ``"4-8"``; ``digits read --digits``): each number has that
        many digits (a zip code, a phone number; separators are not counted): the best reading
        that fits is given, and one that still does not fit has confidence 0. Told one count,
        the built-in reader's confidence is calibrated for readings told their length."""
        level = _level(min_confidence)
        count = _digit_count(digits)
        native = self._native.read_batch
        readings = self._run(lambda items: native(items, count), pictures, errors)
        return _mark(readings, level, lambda r: r["confidence"])

    def predict(
        self,
        pictures: Union[Picture, Sequence[Picture]],
        errors: str = "raise",
        second_opinion: bool = False,
        min_confidence: Optional[float] = None,
    ):
        """The single digit in each picture, as ``digits predict --json`` gives it:
        ``{"digit": 7, "probabilities": [ten floats]}``. One picture gives a dict, a list a list.
        ``second_opinion=True``: the built-in line model reads each picture too, and the digit
        and probabilities are both models' together (``digits predict --second-opinion``).
        ``min_confidence=p``: each answer also says ``"accepted"``: whether the digit's
        probability is at least p (``digits predict --min-confidence``)."""
        level = _level(min_confidence)
        native = self._native.predict_batch
        answers = self._run(lambda items: native(items, second_opinion), pictures, errors)
        return _mark(answers, level, lambda a: a["probabilities"][a["digit"]])

    @staticmethod
    def _run(native, pictures, errors: str):
        if errors not in ("raise", "report"):
            raise ValueError(f'errors must be "raise" or "report", not {errors!r}')
        single = _is_single(pictures)
        batch = [pictures] if single else list(pictures)
        results = native([_to_native(p, k) for k, p in enumerate(batch)])
        out: List[Dict[str, Any]] = []
        for ok, text in results:
            if ok:
                out.append(json.loads(text))
            elif errors == "raise":
                raise ValueError(text)
            else:
                out.append({"error": text})
        return out[0] if single else out


def _digit_count(digits: Union[None, int, str, Tuple[int, int]]) -> Optional[str]:
    """``read``'s ``digits`` as the native reader takes it: "5" or "4-8" (checked there)."""
    if digits is None or isinstance(digits, str):
        return digits
    if isinstance(digits, tuple) and len(digits) == 2:
        return f"{int(digits[0])}-{int(digits[1])}"
    if isinstance(digits, int) and not isinstance(digits, bool):
        return str(digits)
    raise ValueError(
        f"digits: {digits!r} is not a number of digits (5, (4, 8) or \"4-8\")"
    )


def _level(min_confidence: Optional[float]) -> Optional[float]:
    """The reject option's level, checked: None, or a probability in [0, 1]."""
    if min_confidence is None:
        return None
    try:
        level = float(min_confidence)
    except (TypeError, ValueError):
        raise ValueError(
            f"min_confidence: {min_confidence!r} is not a number (a probability between 0 and 1)"
        ) from None
    if not 0.0 <= level <= 1.0:  # NaN too
        raise ValueError(f"min_confidence: {level} is not a probability (between 0 and 1)")
    return level


def _mark(answers, level: Optional[float], confidence):
    """``answers`` (one dict or a list) with ``"accepted"`` added where read, at ``level``."""
    if level is None:
        return answers
    for a in [answers] if isinstance(answers, dict) else answers:
        if "error" not in a:
            a["accepted"] = confidence(a) >= level
            for number in a.get("numbers", []):
                number["accepted"] = confidence(number) >= level
    return answers


_default: Optional[Reader] = None


def _default_reader() -> Reader:
    global _default
    if _default is None:
        _default = Reader()
    return _default


def read(
    pictures: Union[Picture, Sequence[Picture]],
    errors: str = "raise",
    min_confidence: Optional[float] = None,
    digits: Union[None, int, str, Tuple[int, int]] = None,
):
    """``Reader().read`` with the built-in model (loaded once)."""
    return _default_reader().read(pictures, errors, min_confidence, digits)


def predict(
    pictures: Union[Picture, Sequence[Picture]],
    errors: str = "raise",
    second_opinion: bool = False,
    min_confidence: Optional[float] = None,
):
    """``Reader().predict`` with the built-in model (loaded once)."""
    return _default_reader().predict(pictures, errors, second_opinion, min_confidence)
