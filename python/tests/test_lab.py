"""The Keras lab's cells, with `import digits as tf` in place of TensorFlow's imports."""

import numpy as np
import pytest

import digits as tf
from digits.keras.activations import linear, relu, sigmoid  # noqa: F401 (the lab imports them)
from digits.keras.layers import Dense
from digits.keras.models import Sequential


def lab_model():
    tf.random.set_seed(1234)
    return Sequential(
        [
            tf.keras.Input(shape=(400,)),
            Dense(25, activation="relu", name="L1"),
            Dense(15, activation=relu, name="L2"),
            Dense(10, activation="linear", name="L3"),
        ],
        name="my_model",
    )


def compiled(model):
    model.compile(
        loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        optimizer=tf.keras.optimizers.Adam(learning_rate=0.001),
    )
    return model


def test_the_lab_cells(lab_data, capsys):
    X, y = lab_data
    assert X.shape == (5000, 400) and y.shape == (5000, 1)
    model = lab_model()
    model.summary()
    summary = capsys.readouterr().out
    rows = [" ".join(line.split()) for line in summary.splitlines()]
    assert rows[0] == 'Model: "my_model"'
    for row in ["L1 (Dense) (None, 25) 10,025", "L2 (Dense) (None, 15) 390",
                "L3 (Dense) (None, 10) 160", "Total params: 10,575"]:
        assert row in rows, summary

    [layer1, layer2, layer3] = model.layers
    W1, b1 = layer1.get_weights()
    W2, b2 = layer2.get_weights()
    W3, b3 = layer3.get_weights()
    assert (W1.shape, b1.shape, W2.shape, b2.shape, W3.shape, b3.shape) == (
        (400, 25), (25,), (25, 15), (15,), (15, 10), (10,))
    assert layer1.name == "L1"

    compiled(model)
    history = model.fit(X, y, epochs=40)
    out = capsys.readouterr().out
    assert "Epoch 1/40" in out and "Epoch 40/40" in out and "157/157 [" in out
    loss = history.history["loss"]
    assert len(loss) == 40
    assert loss[-1] < loss[0] / 10 and loss[-1] < loss[10] < loss[1]

    image_of_two = X[1015]
    prediction = model.predict(image_of_two.reshape(1, 400))
    assert prediction.shape == (1, 10) and prediction.dtype == np.float32
    p = tf.nn.softmax(prediction)
    assert abs(p.sum() - 1) < 1e-5 and np.argmax(p) == y[1015, 0] == 2

    yhat = np.argmax(model.predict(X), axis=1)
    errors = int((yhat != y[:, 0]).sum())
    assert errors <= 30, f"{errors} of 5000 training images wrong after 40 epochs"


def test_layouts_and_dtypes_train_alike(lab_data):
    """float64 or float32, C or Fortran order, y (m,) or (m, 1): the same training."""
    X, y = lab_data
    X, y = X[:1000], y[:1000]
    losses = []
    for xs, ys in [(X, y), (np.asfortranarray(X.astype(np.float64)), y[:, 0].astype(np.int64))]:
        model = compiled(lab_model())
        losses.append(model.fit(xs, ys, epochs=2, verbose=0).history["loss"])
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-6)


def test_weights_save_and_load(lab_data, tmp_path):
    X, y = lab_data
    model = compiled(lab_model())
    model.fit(X[:500], y[:500], epochs=1, verbose=0)
    before = model.predict(X[:50], verbose=0)

    W, b = model.layers[2].get_weights()
    model.layers[2].set_weights([np.zeros_like(W), np.arange(10, dtype=np.float64)])
    assert (np.argmax(model.predict(X[:5], verbose=0), axis=1) == 9).all()
    model.layers[2].set_weights([W, b])
    np.testing.assert_array_equal(model.predict(X[:50], verbose=0), before)

    path = tmp_path / "lab.safetensors"
    model.save(path)
    loaded = tf.keras.models.load_model(path)
    np.testing.assert_array_equal(loaded.predict(X[:50], verbose=0), before)
    assert [l.name for l in loaded.layers] == ["L1", "L2", "L3"]
    for a, b2 in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b2)
    # A loaded model trains on after compile.
    compiled(loaded).fit(X[:500], y[:500], epochs=1, verbose=0)


def test_validation_batch_size_and_shuffle(lab_data, capsys):
    X, y = lab_data
    model = compiled(lab_model())
    h = model.fit(X[:4000], y[:4000], epochs=2, batch_size=100, shuffle=False,
                  validation_data=(X[4000:], y[4000:]), verbose=2)
    out = capsys.readouterr().out
    assert "40/40 - " in out and "val_accuracy" in out
    assert len(h.history["val_loss"]) == 2 and 0 <= h.history["val_accuracy"][-1] <= 1
    h = model.fit(X, y, epochs=1, validation_split=0.2, verbose=0)
    assert capsys.readouterr().out == ""
    assert len(h.history["val_accuracy"]) == 1


def test_keras_mnist_convnet(mnist, capsys):
    """Keras' mnist_convnet example, cut to 2,000 images and one epoch."""
    from digits import keras

    (x_train, y_train), (x_test, y_test) = mnist
    x = np.expand_dims(x_train[:2000].astype("float32") / 255, -1)
    y = keras.utils.to_categorical(y_train[:2000], 10)
    tf.random.set_seed(0)
    model = keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        keras.layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
        keras.layers.MaxPooling2D(pool_size=(2, 2)),
        keras.layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
        keras.layers.MaxPooling2D(pool_size=(2, 2)),
        keras.layers.Flatten(),
        keras.layers.Dropout(0.5),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.summary()
    assert "Total params: 34,826" in capsys.readouterr().out
    assert model.layers[0].get_weights()[0].shape == (3, 3, 1, 32)
    assert model.layers[2].get_weights()[0].shape == (3, 3, 32, 64)
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    h = model.fit(x, y, batch_size=128, epochs=2, verbose=0)
    assert h.history["loss"][1] < h.history["loss"][0]
    p = model.predict(np.expand_dims(x_test[:500], -1) / 255.0, verbose=0)
    np.testing.assert_allclose(p.sum(axis=1), 1, rtol=1e-5)
    loss, accuracy = model.evaluate(np.expand_dims(x_test[:500], -1) / 255.0,
                                    keras.utils.to_categorical(y_test[:500], 10), verbose=0)
    assert accuracy > 0.7, accuracy
