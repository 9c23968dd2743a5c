#!/usr/bin/env bash
# Trains the number reader built into the binary (assets/default-reader.safetensors): the line
# model of `digits train-reader` (vision::line::reader::DEFAULT_LAYERS, 136,015 parameters) on
# numbers composed on the fly from MNIST's training digits (never its test set, never the shared
# numbers folder), in two runs of 500-step epochs, batches of 32 lines, Adam easing down along a
# cosine: 26 epochs from scratch at 1.5e-3, then 36 epochs from those weights at 1e-3.
# About 40 minutes on the 2-core project machine (20-45 s per epoch).
#
# The built-in file came from this recipe with two differences that change its bits, not its
# kind: the first run was stopped after epoch 26 of a 36-epoch schedule (its rate had not yet
# eased all the way down) and its lines were normalised before box sides and printed lines were
# left out of the writing's box (vision::line::normalize); the second run had today's code.
#     bash scripts/train_reader.sh [MNIST_DIR] [OUT]
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:-../shared/data/mnist}
OUT=${2:-target/builtin/reader.safetensors}
FIRST="$(dirname "$OUT")/reader-first.safetensors"
mkdir -p "$(dirname "$OUT")"
cargo build --release --quiet --bin digits
time target/release/digits train-reader --mnist-dir "$DATA" --epochs 26 --steps 500 --lr 1.5e-3 \
    --seed 0 --validation 500 --save "$FIRST"
time target/release/digits train-reader --mnist-dir "$DATA" --epochs 36 --steps 500 --lr 1e-3 \
    --seed 3 --validation 500 --init-from "$FIRST" --save "$OUT"
echo "trained $OUT; copy it to assets/default-reader.safetensors to build it in"
