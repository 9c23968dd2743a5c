#!/usr/bin/env bash
# Runs the test suite: installs what the tests use besides Rust, finds MNIST, runs cargo test.
set -euo pipefail
cd "$(dirname "$0")/.."

# TensorBoard's own reader checks our event files (tests/tensorboard.rs); onnx's checker and
# ONNX Runtime check the exported ONNX models (tests/export_onnx.rs).
PY_PACKAGES="tensorboard onnx onnxruntime numpy"
PY_CHECK="import tensorboard, onnx, onnxruntime, numpy"
if [ -z "${DIGITS_PYTHON:-}" ]; then
    if python3 -c "$PY_CHECK" 2>/dev/null; then
        export DIGITS_PYTHON=python3
    else
        if [ ! -x target/pyenv/bin/python ] || ! target/pyenv/bin/python -c "$PY_CHECK" 2>/dev/null; then
            echo "setting up target/pyenv with $PY_PACKAGES"
            python3 -m venv target/pyenv
            target/pyenv/bin/pip install --quiet $PY_PACKAGES
        fi
        export DIGITS_PYTHON="$PWD/target/pyenv/bin/python"
    fi
fi

# MNIST: $DIGITS_MNIST_DIR, ../shared/data/mnist, or data/mnist (downloaded if missing).
if [ -z "${DIGITS_MNIST_DIR:-}" ]; then
    if [ -d ../shared/data/mnist ]; then
        export DIGITS_MNIST_DIR="$PWD/../shared/data/mnist"
    else
        export DIGITS_MNIST_DIR="$PWD/data/mnist"
        cargo run --release --quiet -- data download --dir "$DIGITS_MNIST_DIR"
    fi
fi

# The drawing page and the static site of `digits export --web` (with onnxruntime-web) are
# tested in real headless Chromium, driven by playwright-core (no browser download: it uses
# Debian's chromium). DIGITS_SKIP_BROWSER_TESTS=1 skips them.
if [ "${DIGITS_SKIP_BROWSER_TESTS:-}" != 1 ]; then
    if ! command -v chromium >/dev/null; then
        if [ "$(id -u)" = 0 ]; then
            apt-get update -qq && apt-get install -y -qq chromium >/dev/null
        else
            echo "the browser test needs chromium: sudo apt-get install chromium (or set DIGITS_SKIP_BROWSER_TESTS=1)" >&2
        fi
    fi
    [ -d tests/e2e/node_modules/playwright-core ] && [ -d tests/e2e/node_modules/onnxruntime-web ] || (cd tests/e2e && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --silent)
fi

cargo test "$@"

# The Python package (python/): built once, in release mode, into target/pyvenv, then its pytest
# suite (the Keras lab's cells, bad inputs, reading, Ctrl-C, the Ray example). Skipped when
# arguments were given to cargo test (a chosen Rust test) or DIGITS_SKIP_PYTHON_TESTS=1.
if [ $# -eq 0 ] && [ "${DIGITS_SKIP_PYTHON_TESTS:-}" != 1 ]; then
    bash scripts/test_python.sh
fi
