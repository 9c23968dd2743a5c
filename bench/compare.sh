#!/usr/bin/env bash
# Runs PyTorch (the reference programs in ../shared/baselines) and digits alternately, several
# times, on this machine, and prints medians and ratios. Usage: bench/compare.sh [RUNS]
# Also: the same with one core kept busy by a bounded busy loop (as a user's browser or compiler
# would), and, on a CPU with AVX-512, digits again on its AVX2 path (DIGITS_SIMD=avx2).
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
cargo build --release --quiet --example throughput --example cnn_throughput --bin digits
SIMD=$(target/release/examples/throughput --simd-level)
BUSY_PID=
trap '[ -n "$BUSY_PID" ] && kill "$BUSY_PID" 2>/dev/null || true' EXIT
# One core busy, for at most 15 minutes whatever happens to this script.
start_busy() { timeout 900 bash -c 'while :; do :; done' & BUSY_PID=$!; }
stop_busy() { kill "$BUSY_PID" 2>/dev/null || true; wait "$BUSY_PID" 2>/dev/null || true; BUSY_PID=; }
epochs_json() { # digits train epoch times as JSON: epochs_json OUT [train args]
    local out=$1; shift
    target/release/digits train --data-dir "$DATA_ROOT/mnist" --epochs 3 --history "$out" "$@" > /dev/null
}

for r in $(seq "$RUNS"); do
    echo "run $r/$RUNS: PyTorch" >&2
    "$REFVENV/bin/python" "$BASE/torch_mnist.py" --threads 1 --scaled --shuffle --loader tensor --epochs 3 --seed "$r" --out "$OUT/torch_$r.json" > /dev/null
    "$REFVENV/bin/python" "$BASE/torch_mnist.py" --threads 1 --scaled --shuffle --epochs 2 --seed "$r" --out "$OUT/torchdl_$r.json" > /dev/null
    "$REFVENV/bin/python" bench/torch_wide.py > "$OUT/torch_wide_$r.json"
    echo "run $r/$RUNS: digits" >&2
    target/release/examples/throughput "$DATA_ROOT/mnist" --epochs 3 > "$OUT/digits_$r.json"
    if [ "$SIMD" = Avx512 ]; then
        DIGITS_SIMD=avx2 target/release/examples/throughput "$DATA_ROOT/mnist" --epochs 3 --skip-wide > "$OUT/digitsavx2_$r.json"
    fi
    /usr/bin/time -f "%M" -o "$OUT/rss_$r.txt" target/release/digits train --data-dir "$DATA_ROOT/mnist" --epochs 1 > /dev/null
done

# The CNN (Keras' mnist_convnet), one epoch each: PyTorch on 1 and 2 threads, digits on 2.
for r in $(seq "$RUNS"); do
    echo "run $r/$RUNS: CNN" >&2
    for t in 1 2; do
        "$REFVENV/bin/python" "$BASE/torch_cnn.py" --threads "$t" --epochs 1 --seed "$r" --out "$OUT/torchcnn${t}_$r.json" > /dev/null
    done
    target/release/examples/cnn_throughput "$DATA_ROOT/mnist" --epochs 1 --threads 2 > "$OUT/digitscnn_$r.json"
done

for r in $(seq "$RUNS"); do
    echo "run $r/$RUNS with one core busy" >&2
    start_busy
    "$REFVENV/bin/python" "$BASE/torch_mnist.py" --threads 1 --scaled --shuffle --loader tensor --epochs 3 --seed "$r" --out "$OUT/busytorch_$r.json" > /dev/null
    epochs_json "$OUT/busy1_$r.json" --threads 1
    epochs_json "$OUT/busydefault_$r.json"
    "$REFVENV/bin/python" "$BASE/torch_cnn.py" --threads 2 --epochs 1 --seed "$r" --out "$OUT/busytorchcnn_$r.json" > /dev/null
    target/release/examples/cnn_throughput "$DATA_ROOT/mnist" --epochs 1 --threads 2 > "$OUT/busydigitscnn_$r.json"
    stop_busy
done

python3 - "$OUT" "$RUNS" "$SIMD" <<'PY'
import json, os, statistics, sys
out, runs, simd = sys.argv[1], int(sys.argv[2]), sys.argv[3]
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
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "unknown CPU")
print(f"\nCPU: {cpu}, {os.cpu_count()} cores")
print(f"{runs} alternating runs, medians; PyTorch {torch[0]['torch']} on 1 thread (--loader tensor unless said), digits SIMD {ours[0]['simd']}")
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
if simd == "Avx512":
    avx2 = load("digitsavx2")
    print("\ndigits on its AVX2 path (DIGITS_SIMD=avx2), same runs:")
    print("| measure | PyTorch | digits AVX2 | ratio |\n|---|---|---|---|")
    for name, key in [("train samples/s, 1 thread", "samples_per_s_threads1"), ("train samples/s, 2 threads", "samples_per_s_threads2"), ("inference, 10,000 images batched, images/s", "infer_full10000_img_per_s")]:
        t = t_sps if "train" in name else med([t["infer_full10000_img_per_s"] for t in torch])
        o = med([a[key] for a in avx2])
        print(f"| {name} | {t:,.0f} | {o:,.0f} | {o / t:.1f}x |")
    print(f"two threads / one thread (AVX2): {med([a['samples_per_s_threads2'] for a in avx2]) / med([a['samples_per_s_threads1'] for a in avx2]):.2f}x")
print(f"two threads / one thread ({simd}): {med([o['samples_per_s_threads2'] for o in ours]) / med([o['samples_per_s_threads1'] for o in ours]):.2f}x")
tc1, tc2, dc = load("torchcnn1"), load("torchcnn2"), load("digitscnn")
tc2_sps = med([t["samples_per_s"] for t in tc2])
dc_sps = med([d["samples_per_s"] for d in dc])
print("\nCNN (Keras mnist_convnet, 34,826 parameters, batch 128), one epoch:")
print("| measure | PyTorch | digits | ratio |\n|---|---|---|---|")
print(f"| train samples/s, PyTorch 1 thread vs digits 2 threads | {med([t['samples_per_s'] for t in tc1]):,.0f} | {dc_sps:,.0f} | {dc_sps / med([t['samples_per_s'] for t in tc1]):.1f}x |")
print(f"| train samples/s, both 2 threads | {tc2_sps:,.0f} | {dc_sps:,.0f} | {dc_sps / tc2_sps:.1f}x |")
tci = med([t["infer_10000_img_per_s"] for t in tc2])
dci = med([d["infer_10000_img_per_s"] for d in dc])
print(f"| inference, 10,000 test images, images/s (2 threads) | {tci:,.0f} | {dci:,.0f} | {dci / tci:.1f}x |")
print(f"| test accuracy after 1 epoch | {med([t['final_test_accuracy'] for t in tc2]):.4f} | {med([d['test_accuracy'] for d in dc]):.4f} | - |")
gf = med([d["train_gflops"] for d in dc])
print(f"digits CNN training: {gf:.1f} useful GFLOP/s, {gf / (2 * gemm):.0%} of two cores' large-SGEMM rate")
# One core busy: epoch seconds (median over runs of each run's median epoch).
epoch = lambda h: statistics.median(h["epoch_seconds"])
b1 = med([epoch(h) for h in load("busy1")])
bd = med([epoch(h) for h in load("busydefault")])
bt = med([t["median_epoch_train_s"] for t in load("busytorch")])
print("\nwith one core busy (a busy loop), epoch seconds, medians:")
print("| measure | seconds | PyTorch / this |\n|---|---|---|")
print(f"| PyTorch, 1 thread | {bt:.3f} | 1.0x |")
print(f"| digits --threads 1 | {b1:.3f} | {bt / b1:.1f}x |")
print(f"| digits default threads | {bd:.3f} | {bt / bd:.1f}x |")
print(f"default / --threads 1: {bd / b1:.2f} (at most 1.1 wanted)")
btc = med([t["samples_per_s"] for t in load("busytorchcnn")])
bdc = med([d["samples_per_s"] for d in load("busydigitscnn")])
print(f"CNN with one core busy, train samples/s on 2 threads: PyTorch {btc:,.0f}, digits {bdc:,.0f} ({bdc / btc:.1f}x)")
print(f"test accuracy after 3 epochs: PyTorch {med([t['final_test_acc'] for t in torch]):.4f}, digits {med([o['test_accuracy_threads2'] for o in ours]):.4f}")
PY
