"""model.fit from Python against the digits CLI and PyTorch, in the same run, and digits.read
on a batch. Prints a table; the binding keeps the engine's speed when the Python/PyTorch ratio
matches the CLI/PyTorch ratio.

    target/pyvenv/bin/python bench/python_fit.py --torch-python TORCHVENV/bin/python [--runs 3]

Needs the package installed (scripts/test_python.sh does it), target/release/digits
(cargo build --release) and a Python with torch for the PyTorch side.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import digits
from digits.keras.layers import Dense
from digits.keras.models import Sequential

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "python" / "tests"))
from conftest import number_picture  # noqa: E402


def python_fit(X, y, batch_size, epochs):
    digits.random.set_seed(0)
    model = Sequential([digits.keras.Input(shape=(X.shape[1],)), Dense(25, activation="relu"),
                        Dense(15, activation="relu"), Dense(10)])
    model.compile(loss=digits.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  optimizer=digits.keras.optimizers.Adam(learning_rate=0.001))
    started = time.perf_counter()
    model.fit(X, y, batch_size=batch_size, epochs=epochs, verbose=0)
    return time.perf_counter() - started


def cli_fit(cli, dataset, data_dir, batch_size, epochs, work):
    """The CLI's training time: the sum of its epochs' seconds (the history file's)."""
    history = Path(work) / "history.json"
    subprocess.run([cli, "train", "--dataset", dataset, "--data-dir", str(data_dir), "--epochs",
                    str(epochs), "--batch-size", str(batch_size), "--history", str(history)],
                   check=True, stdout=subprocess.DEVNULL)
    return sum(json.loads(history.read_text())["epoch_seconds"])


def torch_fit(torch_python, x_path, y_path, batch_size, epochs):
    out = subprocess.run([torch_python, str(ROOT / "bench" / "torch_fit.py"), str(x_path), str(y_path),
                          "--batch-size", str(batch_size), "--epochs", str(epochs)],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout)["seconds"]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--torch-python", required=True)
    p.add_argument("--mnist", default=str(ROOT.parent / "shared" / "data" / "mnist"))
    p.add_argument("--cli", default=str(ROOT / "target" / "release" / "digits"))
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--mnist-epochs", type=int, default=3)
    args = p.parse_args()
    work = tempfile.mkdtemp()
    lab_dir = Path(work) / "digits5000"
    subprocess.run([args.cli, "data", "subset", "--mnist-dir", args.mnist, "--out", str(lab_dir)],
                   check=True, stdout=subprocess.DEVNULL)
    X, y = digits.subset_from_mnist(args.mnist)
    (x_train, y_train), (x_test, _) = digits.load_mnist(args.mnist)
    Xm = x_train.reshape(len(x_train), -1).astype(np.float32) / 255
    np.save(Path(work) / "mx.npy", Xm)
    np.save(Path(work) / "my.npy", y_train)
    keys = ("lab_py", "lab_py0", "lab_cli", "lab_torch", "mnist_py", "mnist_py0", "mnist_cli", "mnist_torch")
    results = {k: [] for k in keys}
    for r in range(args.runs):
        print(f"run {r + 1}/{args.runs}", file=sys.stderr)
        results["lab_torch"].append(torch_fit(args.torch_python, lab_dir / "X.npy", lab_dir / "y.npy", 32, 40))
        results["lab_cli"].append(cli_fit(args.cli, "digits5000", lab_dir, 32, 40, work))
        results["lab_py"].append(python_fit(X, y, 32, 40))
        # fit's fixed cost (checking and copying X once), which the CLI's epoch times leave out.
        results["lab_py0"].append(python_fit(X, y, 32, 0))
        e = args.mnist_epochs
        results["mnist_torch"].append(torch_fit(args.torch_python, Path(work) / "mx.npy", Path(work) / "my.npy", 64, e))
        results["mnist_cli"].append(cli_fit(args.cli, "mnist", args.mnist, 64, e, work))
        results["mnist_py"].append(python_fit(Xm, y_train, 64, e))
        results["mnist_py0"].append(python_fit(Xm, y_train, 64, 0))
    med = {k: statistics.median(v) for k, v in results.items()}
    print(f"median of {args.runs} runs, seconds of training (lower is better)")
    print("Python: model.fit's wall time; in brackets without its fixed cost (a fit of 0 epochs)")
    print(f"{'':44}{'PyTorch':>9}{'CLI':>9}{'Python':>9}{'(epochs)':>9}{'torch/CLI':>11}{'torch/Py':>10}{'(epochs)':>9}")
    for name, key in [("lab: 400-25-15-10, 5,000 images, b32, 40 ep", "lab"),
                      (f"tutorial: 784-25-15-10, MNIST, b64, {args.mnist_epochs} ep", "mnist")]:
        t, c, py = med[f"{key}_torch"], med[f"{key}_cli"], med[f"{key}_py"]
        ep = py - med[f"{key}_py0"]
        print(f"{name:44}{t:9.2f}{c:9.2f}{py:9.2f}{ep:9.2f}{t / c:10.1f}x{t / py:9.1f}x{t / ep:8.1f}x")

    # digits.read on a batch of 3-digit pictures, and digits.predict on single digits.
    pictures = [number_picture(((None, None), (x_test, None)), [k, k + 1, k + 2]) for k in range(0, 600, 3)]
    singles = [255 - x for x in x_test[:2000]]
    digits.read(pictures[:4])
    for label, fn, batch in [("digits.read, 3-digit pictures", digits.read, pictures),
                             ("digits.predict, 28x28 digits", digits.predict, singles)]:
        times = []
        for _ in range(args.runs):
            started = time.perf_counter()
            fn(batch)
            times.append(time.perf_counter() - started)
        print(f"{label}: {len(batch) / statistics.median(times):,.0f} pictures/s "
              f"({digits.get_num_threads()} threads)")
    print(json.dumps(results), file=sys.stderr)


if __name__ == "__main__":
    main()
