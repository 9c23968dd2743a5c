"""What cannot be taken raises ValueError saying what is wrong, never a crash."""

import numpy as np
import pytest

import digits as tf
from digits.keras.layers import Conv2D, Dense, Dropout, MaxPooling2D
from digits.keras.models import Sequential


@pytest.fixture
def model():
    tf.random.set_seed(1)
    m = Sequential([tf.keras.Input(shape=(4,)), Dense(3, activation="relu"), Dense(2)])
    m.compile(loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
              optimizer=tf.keras.optimizers.Adam(learning_rate=0.01))
    return m


X = np.ones((6, 4), np.float32)
Y = np.array([0, 1, 0, 1, 0, 1])


def with_nan():
    x = X.copy()
    x[2, 3] = np.nan
    return x


@pytest.mark.parametrize(
    "x, y, message",
    [
        (np.ones((6, 5)), Y, "5 values per example"),
        (np.ones(6), Y, "shape (6,)"),
        (np.ones((0, 4)), Y[:0], "no examples"),
        (np.array([["a"] * 4] * 6), Y, "must be numbers"),
        (with_nan(), Y, "example 2"),
        (X, np.array([0, 1, 0, 1, 0, 2]), "label 2"),
        (X, np.array([0, 1, 0, -1, 0, 1]), "label -1"),
        (X, np.array([0, 1, 0.5, 1, 0, 1]), "non-integer"),
        (X, np.array([0, 1, np.nan, 1, 0, 1]), "NaN"),
        (X, Y[:5], "5 labels for 6 examples"),
        (X, np.zeros((6, 2)), "(examples, 1)"),
    ],
)
def test_bad_training_data(model, x, y, message):
    with pytest.raises(ValueError, match=None) as e:
        model.fit(x, y, epochs=1, verbose=0)
    assert message in str(e.value), str(e.value)
    # The model is still usable afterwards.
    assert model.predict(X, verbose=0).shape == (6, 2)


def test_bad_fit_arguments(model):
    for kwargs, message in [
        ({"batch_size": 0}, "batch_size"),
        ({"epochs": -1}, "epochs"),
        ({"verbose": 3}, "verbose"),
        ({"validation_data": (np.ones((2, 3)), [0, 1])}, "validation x"),
        ({"validation_split": 1.5}, "validation_split"),
        ({"class_weight": {0: 1}}, "class_weight"),
    ]:
        with pytest.raises(ValueError) as e:
            model.fit(X, Y, **{"epochs": 1, "verbose": 0, **kwargs})
        assert message in str(e.value), (kwargs, str(e.value))


def test_bad_predict_input(model):
    for x, message in [(np.ones((2, 3)), "3 values per example"), (with_nan(), "NaN"),
                       (np.full((1, 4), np.inf), "inf")]:
        with pytest.raises(ValueError) as e:
            model.predict(x, verbose=0)
        assert message in str(e.value), str(e.value)


def test_bad_layers_and_compile():
    with pytest.raises(ValueError, match="unknown activation"):
        Dense(3, activation="tanh")
    with pytest.raises(ValueError, match="units"):
        Dense(0)
    with pytest.raises(ValueError, match="odd kernels"):
        Conv2D(8, 2)
    with pytest.raises(ValueError, match="2x2"):
        MaxPooling2D(pool_size=3)
    with pytest.raises(ValueError, match="rate"):
        Dropout(1.5)
    with pytest.raises(ValueError, match="learning rate"):
        tf.keras.optimizers.Adam(learning_rate=-1)
    m = Sequential([tf.keras.Input(shape=(4,)), Dense(3, activation="softmax"), Dense(2)])
    with pytest.raises(ValueError, match="last layer"):
        m.summary()
    m = Sequential([tf.keras.Input(shape=(28, 28, 3)), Conv2D(4, 3), Dense(2)])
    with pytest.raises(ValueError, match="one-channel"):
        m.summary()
    m = Sequential([tf.keras.Input(shape=(4,)), Dense(2)])
    with pytest.raises(ValueError, match="unsupported loss"):
        m.compile(loss="mse", optimizer="adam")
    with pytest.raises(ValueError, match="Adam"):
        m.compile(loss="sparse_categorical_crossentropy", optimizer="sgd")
    m.compile(loss="sparse_categorical_crossentropy", optimizer="adam")
    with pytest.raises(ValueError, match="from_logits"):
        m.fit(X, Y, verbose=0)
    with pytest.raises(RuntimeError, match="compile"):
        Sequential([tf.keras.Input(shape=(4,)), Dense(2)]).fit(X, Y)


def test_bad_weights(model):
    W, b = model.layers[0].get_weights()
    for weights, message in [([W.T, b], "shape"), ([W], "[W, b]"), ([W, np.full_like(b, np.nan)], "finite")]:
        with pytest.raises(ValueError) as e:
            model.layers[0].set_weights(weights)
        assert message in str(e.value), str(e.value)


def test_bad_files(tmp_path, mnist_dir):
    with pytest.raises(ValueError, match="missing.safetensors"):
        tf.keras.models.load_model(tmp_path / "missing.safetensors")
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="junk.safetensors"):
        tf.keras.models.load_model(junk)
    with pytest.raises(ValueError, match="nowhere"):
        tf.load_mnist(tmp_path / "nowhere")
    with pytest.raises(ValueError, match="junk.safetensors"):
        tf.Reader(junk)


def test_bad_pictures(tmp_path):
    cases = [
        (b"not a picture", "picture 0"),
        (tmp_path / "missing.png", "missing.png"),
        (np.zeros((0, 5), np.uint8), "empty"),
        (np.zeros((4, 4, 2), np.uint8), "shape"),
        (np.full((8, 8), 2.0), "[0, 1]"),
        (np.full((8, 8), np.nan), "NaN"),
        (np.full((8, 8), 300), "0..255"),
        (12, "int"),
    ]
    for picture, message in cases:
        with pytest.raises(ValueError) as e:
            tf.read(picture)
        assert message in str(e.value), (picture, str(e.value))
    # A batch reports the broken picture by name and reads the others.
    out = tf.read([b"junk", np.full((40, 40), 255, np.uint8)], errors="report")
    assert "error" in out[0] and out[1]["text"] == ""
