#!/usr/bin/env bash
# Builds the Python package (python/) once, in release mode, into the virtual environment
# target/pyvenv, and runs its pytest suite. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=target/pyvenv
PY_PACKAGES="maturin>=1.5,<2 numpy pytest pillow"
PY_CHECK="import maturin, numpy, pytest, PIL"
if [ ! -x $VENV/bin/python ] || ! $VENV/bin/python -c "$PY_CHECK" 2>/dev/null; then
    echo "setting up $VENV with $PY_PACKAGES"
    python3 -m venv $VENV
    $VENV/bin/pip install --quiet $PY_PACKAGES
fi
# Ray Data for the Ray example's test (tests/test_ray.py skips without it); DIGITS_SKIP_RAY=1
# leaves it out (it is large: see README, "Python").
if [ "${DIGITS_SKIP_RAY:-}" != 1 ] && ! $VENV/bin/python -c "import ray.data" 2>/dev/null; then
    echo "installing ray[data] into $VENV"
    $VENV/bin/pip install --quiet "ray[data]"
fi

if [ -z "${DIGITS_MNIST_DIR:-}" ] && [ -d ../shared/data/mnist ]; then
    export DIGITS_MNIST_DIR="$PWD/../shared/data/mnist"
fi

# The same target folder as the main crate, so its compiled dependencies are shared.
CARGO_TARGET_DIR="$PWD/target" VIRTUAL_ENV="$PWD/$VENV" \
    $VENV/bin/maturin develop --release --quiet -m python/Cargo.toml
# Exit code 5 (no tests collected) is a failure like any other.
$VENV/bin/python -m pytest -q python/tests "$@"
