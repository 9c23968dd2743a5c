#!/usr/bin/env bash
# Trains the model built into the binary (assets/default-cnn.safetensors): the Keras convnet with a
# second 64-filter convolution and a Dense 128 layer, 20 epochs on augmented MNIST (`--augment`:
# distortions; with `--scans 0.5` half of them scanned as box-filling black-and-white digits; with
# `--allographs 0.15` 15% of the 1s, 4s, 7s and 9s replaced by ones drawn in shapes MNIST hardly
# has; with `--underlines 0.4` 40% given a bar under or over them, as a ruled line leaves where
# writing touches it; 15 epochs at Adam 1e-3, 3 at 1e-4, 2 at 3e-5), one epoch on the plain
# images at 3e-5, and a last augmented one at 1e-5 (the plain epoch alone leaves the box scans
# under 0.99).
# 7 minutes 41 s on the 2-core Xeon with the convolutions' AVX-512 tile (18-21 s per epoch);
# about 12-15 minutes on 2 quiet cores with the AVX2 tile (11-14 were measured for a recipe of
# one epoch fewer). The weights are the same on any number of threads
# and on AVX2 or AVX-512.
#     bash scripts/train_builtin.sh [MNIST_DIR] [OUT] [SEED]
# (SEED 1 by default, the built-in model's.)
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:-../shared/data/mnist}
OUT=${2:-target/builtin/cnn.safetensors}
SEED=${3:-1}
mkdir -p "$(dirname "$OUT")"
cargo build --release --quiet --bin digits
train() { target/release/digits train --arch cnn --layers c32k3,p2,c64k3s,c64k3,p2,flatten,128,drop0.5 \
    --seed "$SEED" --data-dir "$DATA" --save "$OUT" "$@"; }
augmented=(--augment --scans 0.5 --allographs 0.15 --underlines 0.4)
train "${augmented[@]}" --epochs 15
train "${augmented[@]}" --epochs 18 --lr 0.0001 --resume "$OUT"
train "${augmented[@]}" --epochs 20 --lr 0.00003 --resume "$OUT"
train --epochs 21 --lr 0.00003 --resume "$OUT"
train "${augmented[@]}" --epochs 22 --lr 0.00001 --resume "$OUT"
echo "trained $OUT; copy it to assets/default-cnn.safetensors to build it in"
