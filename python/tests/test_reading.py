"""digits.read / digits.predict on a path, bytes, a PIL image and a numpy array."""

import io

import numpy as np
import pytest
from PIL import Image

import digits
from conftest import number_picture


def test_every_form_of_a_picture_reads_the_same(mnist, tmp_path):
    (_, _), (_, y_test) = mnist
    picture = number_picture(mnist, [0, 1, 2])
    path = tmp_path / "number.png"
    Image.fromarray(picture).save(path)
    rgb = np.repeat(picture[:, :, None], 3, axis=2)
    forms = [path, str(path), path.read_bytes(), Image.open(path), picture, rgb,
             Image.fromarray(rgb), picture.astype(np.float64) / 255]
    readings = digits.read(forms)
    assert readings[0]["text"] == "".join(str(d) for d in y_test[:3]), readings[0]
    for r in readings[1:]:
        assert r == readings[0]
    r = readings[0]
    assert set(r) == {"text", "formatted", "digits", "confidence"}
    assert r["formatted"] == r["text"]
    assert [set(d) for d in r["digits"]] == [{"digit", "probability", "box"}] * 3
    assert 0 < r["confidence"] <= 1
    assert all(d["probability"] > 0.5 for d in r["digits"]), r
    assert digits.read(path) == r  # one picture: one dict


def test_a_picture_of_two_numbers_reads_each(mnist):
    (_, _), (_, y_test) = mnist
    top, below = number_picture(mnist, [0, 1]), number_picture(mnist, [2, 3, 4])
    width = below.shape[1]
    top = np.pad(top, ((0, 0), (0, width - top.shape[1])), constant_values=255)
    picture = np.concatenate([top, below])
    want = ["".join(str(d) for d in y_test[k]) for k in ([0, 1], [2, 3, 4])]
    r = digits.read(picture, min_confidence=0.0)
    assert [n["text"] for n in r["numbers"]] == want, r
    assert all(n["accepted"] for n in r["numbers"])
    # The number: the line holding the most ink; its boxes in the whole picture's pixels.
    assert r["text"] == want[1] and r["digits"] == r["numbers"][1]["digits"]
    assert all(d["box"][1] >= top.shape[0] - 12 for d in r["digits"]), r
    assert "numbers" not in digits.read(below)
    # Far apart on one line (a gap of over twice their height): each, left to right.
    gap = np.full((below.shape[0], 150), 255, np.uint8)
    apart = np.concatenate([number_picture(mnist, [0, 1]), gap, below], axis=1)
    r = digits.read(apart)
    assert [n["text"] for n in r["numbers"]] == want, r
    assert r["text"] == want[1] and all(d["box"][0] > 150 for d in r["digits"]), r


def test_the_segmenting_reader_reads_the_same_number(mnist):
    (_, _), (_, y_test) = mnist
    picture = number_picture(mnist, [0, 1, 2])
    r = digits.Reader(segment=True).read(picture)
    assert r["text"] == "".join(str(d) for d in y_test[:3]), r
    # Its confidence: the chance, by the digit model, that every digit is right.
    assert r["confidence"] == pytest.approx(np.prod([d["probability"] for d in r["digits"]]), rel=1e-5)


def test_predict_single_digits(mnist):
    (_, _), (x_test, y_test) = mnist
    pictures = [255 - x for x in x_test[:50]]
    out = digits.predict(pictures)
    assert len(out) == 50 and len(out[0]["probabilities"]) == 10
    right = sum(o["digit"] == y for o, y in zip(out, y_test[:50]))
    assert right >= 45, right
    buf = io.BytesIO()
    Image.fromarray(pictures[0]).save(buf, format="PNG")
    assert digits.predict(buf.getvalue()) == out[0]


def test_predict_with_the_line_models_second_opinion(mnist, tmp_path):
    (_, _), (x_test, y_test) = mnist
    pictures = [255 - x for x in x_test[:20]]
    alone = digits.predict(pictures)
    both = digits.predict(pictures, second_opinion=True)
    right = sum(o["digit"] == y for o, y in zip(both, y_test[:20]))
    assert right >= 18, right
    for a, b in zip(alone, both):
        assert sum(b["probabilities"]) == pytest.approx(1.0, abs=1e-4)
        assert b["digit"] == int(np.argmax(b["probabilities"]))
    assert any(a["probabilities"] != b["probabilities"] for a, b in zip(alone, both))
    # As `digits predict --second-opinion --json` gives it for the same file.
    path = tmp_path / "digit.png"
    Image.fromarray(pictures[0]).save(path)
    assert digits.predict(path, second_opinion=True) == both[0]
    assert digits.Reader().predict(str(path), second_opinion=True) == both[0]


def test_answers_say_whether_they_reach_the_level_asked_for(mnist):
    (_, _), (x_test, _) = mnist
    pictures = [255 - x for x in x_test[:20]]
    answers = digits.predict(pictures)
    assert all("accepted" not in a for a in answers)
    sure = sorted(a["probabilities"][a["digit"]] for a in answers)
    level = (sure[9] + sure[10]) / 2  # between the 10 least sure and the 10 surest
    marked = digits.predict(pictures, min_confidence=level)
    assert [m["accepted"] for m in marked] == [
        a["probabilities"][a["digit"]] >= level for a in answers]
    assert sum(m["accepted"] for m in marked) == 10
    # Numbers: by their confidence; a picture that cannot be read stays an error.
    number = number_picture(mnist, [0, 1, 2])
    reading = digits.read(number)
    c = reading["confidence"]
    assert digits.read(number, min_confidence=c)["accepted"] is True
    if c < 1:
        assert digits.Reader().read(number, min_confidence=min(1.0, c + 1e-3))["accepted"] is False
    out = digits.read([number, b"not a picture"], errors="report", min_confidence=0.0)
    assert out[0]["accepted"] is True and set(out[1]) == {"error"}
    for bad in (1.5, -0.1, float("nan"), "high"):
        with pytest.raises(ValueError, match="min_confidence"):
            digits.read(number, min_confidence=bad)
        with pytest.raises(ValueError, match="min_confidence"):
            digits.predict(pictures[0], min_confidence=bad)


def test_a_number_of_known_length_reads_as_that_many_digits(mnist):
    (_, _), (_, y_test) = mnist
    number = number_picture(mnist, [0, 1, 2])
    untold = digits.read(number)
    want = "".join(str(d) for d in y_test[:3])
    # A range tells less and reads as untold; one count reads the same number, its confidence
    # mapped by the told calibration (fitted apart: held to a count, a reading is right more
    # often at each confidence as the rules make it).
    for count in ((2, 4), "2-4"):
        assert digits.read(number, digits=count) == untold, count
    told = digits.read(number, digits=3)
    assert digits.read(number, digits="3") == told
    without = lambda r: {k: v for k, v in r.items() if k != "confidence"}
    assert without(told) == without(untold), told
    assert 0 < told["confidence"] <= 1 and told["confidence"] != untold["confidence"], told
    # Told four digits: the best four-digit reading, or confidence 0.
    four = digits.read(number, digits=4)
    assert len(four["text"]) == 4 or four["confidence"] == 0, four
    assert four["text"] != want and four["confidence"] < untold["confidence"], four
    for bad in (0, "x", (5, 4), 2.5, True):
        with pytest.raises(ValueError, match="digits"):
            digits.read(number, digits=bad)


def test_threads_can_be_capped(mnist):
    picture = number_picture(mnist, [3, 4])
    try:
        digits.set_num_threads(1)
        assert digits.get_num_threads() == 1
        one = digits.read([picture] * 4)
    finally:
        digits.set_num_threads(None)
    assert digits.read([picture] * 4) == one
    with pytest.raises(ValueError):
        digits.set_num_threads(0)


def test_load_mnist(mnist):
    (x_train, y_train), (x_test, y_test) = mnist
    assert x_train.shape == (60000, 28, 28) and x_train.dtype == np.uint8
    assert y_train.shape == (60000,) and x_test.shape == (10000, 28, 28) and y_test.shape == (10000,)
    assert y_train.max() == 9 and x_train.max() == 255
