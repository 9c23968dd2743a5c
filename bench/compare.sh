#!/usr/bin/env bash
# Runs PyTorch (the reference programs in ../shared/baselines) and digits alternately, several
# times, on this machine, and prints medians and ratios. Usage: bench/compare.sh [RUNS]
#   REFVENV   the Python environment with torch (created here if missing; about 2 minutes)
#   DATA_ROOT the folder holding mnist/ (default ../shared/data)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-3}
REFVENV=${REFVENV:-$HOME/refvenv}
export DATA_ROOT=${DATA_ROOT:-$PWD/../shared/data}
BASE=${BASELINES:-$PWD/../shared/baselines}
OUT=$(mktemp -d)

if ! "$REFVENV/bin/python" -c "import torch" 2>/dev/null; then
    python3 -m venv "$REFVENV"
    "$REFVENV/bin/pip" install --quiet numpy torch
fi
cargo build --release --quiet --example throughput --bin digits

for r in $(seq "$RUNS"); do
    echo "run $r/$RUNS: PyTorch" >&2
    "$REFVENV/bin/python" "$BASE/torch_mnist.py" --threads 1 --scaled --shuffle --loader tensor --epochs 3 --seed "$r" --out "$OUT/torch_$r.json" > /dev/null
    "$REFVENV/bin/python" "$BASE/torch_mnist.py" --threads 1 --scaled --shuffle --epochs 2 --seed "$r" --out "$OUT/torchdl_$r.json" > /dev/null
    "$REFVENV/bin/python" bench/torch_wide.py > "$OUT/torch_wide_$r.json"
    echo "run $r/$RUNS: digits" >&2
    target/release/examples/throughput "$DATA_ROOT/mnist" --epochs 3 > "$OUT/digits_$r.json"
    /usr/bin/time -f "%M" -o "$OUT/rss_$r.txt" target/release/digits train --data-dir "$DATA_ROOT/mnist" --epochs 1 > /dev/null
done

python3 - "$OUT" "$RUNS" <<'PY'
import json, os, statistics, sys
out, runs = sys.argv[1], int(sys.argv[2])
load = lambda name: [json.load(open(os.path.join(out, f"{name}_{r}.json"))) for r in range(1, runs + 1)]
torch, torchdl, wide, ours = load("torch"), load("torchdl"), load("torch_wide"), load("digits")
rss = [int(open(os.path.join(out, f"rss_{r}.txt")).read().split()[-1]) / 1024 for r in range(1, runs + 1)]
med = lambda xs: statistics.median([x for x in xs if x is not None]) if any(x is not None for x in xs) else None
t_sps = med([t["samples_per_s"] for t in torch])
rows = [
    ("train samples/s, 784-25-15-10 b64, 1 thread", t_sps, med([o["samples_per_s_threads1"] for o in ours])),
    ("train samples/s, 784-25-15-10 b64, 2 threads", t_sps, med([o["samples_per_s_threads2"] for o in ours])),
    ("epoch seconds (PyTorch 1 thread vs digits 2 threads)", med([t["median_epoch_train_s"] for t in torch]), med([o["epoch_s_threads2"] for o in ours])),
    ("epoch seconds, PyTorch with its DataLoader (the tutorial's loop)", med([t["median_epoch_train_s"] for t in torchdl]), med([o["epoch_s_threads2"] for o in ours])),
    ("inference, 1 image, microseconds", med([t["predict_1img_median_ms"] * 1e3 for t in torch]), med([o["predict_1img_median_us"] for o in ours])),
    ("inference, 10,000 images batched, images/s", med([t["infer_full10000_img_per_s"] for t in torch]), med([o["infer_full10000_img_per_s"] for o in ours])),
    ("784-128-64-10: training seconds to 0.97 test accuracy", med([w["wide_seconds_to_097"] for w in wide]), med([o["wide_seconds_to_097"] for o in ours])),
]
flops = 81550
sps2 = med([o["samples_per_s_threads2"] for o in ours])
print(f"\n{runs} alternating runs, medians; PyTorch {torch[0]['torch']} on 1 thread (--loader tensor unless said), digits SIMD {ours[0]['simd']}")
print(f"| measure | PyTorch | digits | ratio |\n|---|---|---|---|")
for name, t, o in rows:
    if t is None or o is None:
        print(f"| {name} | {t} | {o} | - |")
        continue
    lower_better = "seconds" in name
    ratio = t / o if lower_better else o / t
    fmt = (lambda v: f"{v:,.3f}") if max(t, o) < 10 else (lambda v: f"{v:,.1f}") if max(t, o) < 1000 else (lambda v: f"{v:,.0f}")
    print(f"| {name} | {fmt(t)} | {fmt(o)} | {ratio:.1f}x |")
print(f"| peak memory of `digits train`, MB | - | {med(rss):.0f} | - |")
gemm = med([o["sgemm_768_gflops_1thread"] for o in ours])
useful = sps2 * flops / 1e9
print(f"\nuseful GFLOP/s of digits training on 2 threads: {useful:.2f} ({flops} FLOP per sample); "
      f"large SGEMM (768^3, matrixmultiply) on 1 thread: {gemm:.1f} GFLOP/s, x2 cores = {2 * gemm:.1f}; "
      f"fraction: {useful / (2 * gemm):.1%}")
print(f"test accuracy after 3 epochs: PyTorch {med([t['final_test_acc'] for t in torch]):.4f}, digits {med([o['test_accuracy_threads2'] for o in ours]):.4f}")
PY
