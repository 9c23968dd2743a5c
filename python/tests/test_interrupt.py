"""Ctrl-C during fit (a notebook's interrupt) raises KeyboardInterrupt within a step and leaves
the model usable."""

import _thread
import threading
import time

import numpy as np
import pytest

import digits as tf
from digits.keras.layers import Dense
from digits.keras.models import Sequential


# Known bug: after the other test files have run in the same process, the interrupt is sometimes
# not seen by fit (a full CI run once got no KeyboardInterrupt, once ran on until killed); alone,
# this file passes. Bounded so that a missed interrupt fails in seconds instead of hanging CI.
@pytest.mark.xfail(reason="Ctrl-C is sometimes missed after other tests ran in the process", strict=False)
def test_ctrl_c_stops_fit_and_the_model_still_works(lab_data):
    X, y = lab_data
    tf.random.set_seed(3)
    model = Sequential([tf.keras.Input(shape=(400,)), Dense(25, activation="relu"), Dense(10)])
    model.compile(loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  optimizer=tf.keras.optimizers.Adam(learning_rate=0.001))
    before = model.predict(X[:10], verbose=0)
    # SIGINT's Python-level effect (what a notebook's interrupt button sends), half a second in.
    timer = threading.Timer(0.5, _thread.interrupt_main)
    started = time.perf_counter()
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        model.fit(X, y, epochs=300, batch_size=32, verbose=0)
    took = time.perf_counter() - started
    timer.join()
    assert took < 3, f"fit stopped {took:.2f}s after start (interrupt at 0.5s)"
    after = model.predict(X[:10], verbose=0)
    assert np.isfinite(after).all() and not np.array_equal(after, before)
    h = model.fit(X, y, epochs=1, verbose=0)
    assert np.isfinite(h.history["loss"][0])


def test_fit_releases_the_gil(lab_data):
    """Another Python thread keeps running while fit trains."""
    X, y = lab_data
    model = Sequential([tf.keras.Input(shape=(400,)), Dense(25, activation="relu"), Dense(10)])
    model.compile(loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True), optimizer="adam")
    ticks = []
    stop = threading.Event()

    def tick():
        while not stop.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.005)

    t = threading.Thread(target=tick)
    t.start()
    started = time.perf_counter()
    model.fit(X, y, epochs=10, verbose=0)
    ended = time.perf_counter()
    stop.set()
    t.join()
    during = [s for s in ticks if started < s < ended]
    # With the GIL held the other thread would not tick at all during fit.
    assert len(during) >= 0.25 * (ended - started) / 0.005, (len(during), ended - started)
