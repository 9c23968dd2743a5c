#!/usr/bin/env bash
# What /metrics costs `digits serve`: alternates servers with and without metrics (--no-metrics)
# under examples/loadtest.rs and prints each run's requests/s, the server's CPU time per request
# (steadier than requests/s on a busy machine: other processes take cores, not cycles per
# request) and the medians.
#   bash bench/metrics_cost.sh [ROUNDS=6] [SECONDS=5] [CONNECTIONS=32]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-6} secs=${2:-5} conns=${3:-32}
cargo build --release --quiet --bin digits --example loadtest
port=18931
declare -a with without cpu_with cpu_without
tick=$(getconf CLK_TCK)
run() { # $1: extra serve flags; prints "requests/s cpu-microseconds-per-request"
    target/release/digits serve --addr 127.0.0.1:$port $1 >/dev/null 2>&1 &
    local pid=$!
    for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/healthz" && break; sleep 0.1; done
    local out n rps ticks
    out=$(target/release/examples/loadtest --addr 127.0.0.1:$port --connections "$conns" --seconds "$secs")
    n=$(sed -n 's/^\([0-9]*\) predictions.*/\1/p' <<<"$out")
    rps=$(sed -n 's/.*: \([0-9]*\) requests\/s.*/\1/p' <<<"$out")
    ticks=$(awk '{print $14 + $15}' "/proc/$pid/stat")
    kill -TERM $pid; wait $pid || true
    echo "$rps $(awk "BEGIN {printf \"%.1f\", 1e6 * $ticks / $tick / $n}")"
}
for r in $(seq "$rounds"); do
    read -r a ca <<<"$(run "")"; read -r b cb <<<"$(run "--no-metrics")"
    with+=("$a"); without+=("$b"); cpu_with+=("$ca"); cpu_without+=("$cb")
    echo "round $r: with metrics $a/s ($ca us CPU/request), without $b/s ($cb us CPU/request)"
done
median() { printf '%s\n' "$@" | sort -n | awk '{v[NR]=$1} END {print (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'; }
pct() { awk "BEGIN {printf \"%+.1f\", 100*($1-$2)/$2}"; }
mw=$(median "${with[@]}"); mo=$(median "${without[@]}")
cw=$(median "${cpu_with[@]}"); co=$(median "${cpu_without[@]}")
echo "median requests/s: with metrics $mw, without $mo ($(pct "$mw" "$mo")%)"
echo "median server CPU us/request: with metrics $cw, without $co ($(pct "$cw" "$co")%)"
echo "load average: $(cat /proc/loadavg)"
