#!/usr/bin/env bash
# The probe's own cost in the kernel (docs/BENCHMARKS.md): run time per call of the shipper's two BPF programs
# (hf_sys_enter, hf_sys_exit) from the kernel's BPF statistics (kernel.bpf_stats_enabled), while bench/fileload.c
# runs in a watched directory. With BASELINE=<checkout>, that checkout's shipper takes its turn in every round.
#
#   bench/probe-cost.sh                                   # ROUNDS=3 ITERATIONS=50000 NOISE=10
#   BASELINE=/path/to/other/checkout bench/probe-cost.sh
#
# Needs root. The shipper spools (its intake address is closed): the probe's work is the same either way. Calls
# count every syscall of every process while the statistics are on, not only the workload's.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
ITERATIONS=${ITERATIONS:-50000}
NOISE=${NOISE:-10}
METRICS_PORT=${METRICS_PORT:-19464}
. bench/lib.sh
bench_init probe-cost "$METRICS_PORT"
gcc -O2 -Wall -o "$OUT/fileload" bench/fileload.c
sysctl -q -w kernel.bpf_stats_enabled=1
trap 'sysctl -q -w kernel.bpf_stats_enabled=0' EXIT

for round in $(seq "$ROUNDS"); do
  for side in $(bench_order "$round"); do
    launcher=$(bench_launcher "$side")
    tree="$OUT/tree"
    rm -rf "$tree"
    mkdir -p "$tree/watch" "$tree/noise" "$tree/spool"
    "$launcher" shipper --intake 127.0.0.1:1 --watch "$tree/watch/" --spool "$tree/spool" \
      --metrics-port "$METRICS_PORT" --source ebpf --status-interval 0 > "$OUT/shipper-$side-r$round.log" 2>&1 &
    pid=$!
    for _ in $(seq 300); do
      curl -sf "localhost:$METRICS_PORT/metrics" 2>/dev/null | grep -q '^holdfast_shipper_source_total' && break
      sleep 0.1
    done
    before=$(bpftool prog show -j)
    "$OUT/fileload" "$tree/watch" "$tree/noise" --iterations "$ITERATIONS" --noise "$NOISE" > /dev/null
    after=$(bpftool prog show -j)
    python3 - "$before" "$after" "$side" "$round" "$ITERATIONS" <<'PY' | tee -a "$OUT/results.txt"
import json, sys
before = {p["id"]: p for p in json.loads(sys.argv[1])}
parts = []
total_ns = 0
for p in json.loads(sys.argv[2]):
    b = before.get(p["id"])
    if b is None or not p.get("name", "").startswith("hf_sys_"):
        continue
    calls = p.get("run_cnt", 0) - b.get("run_cnt", 0)
    if calls > 0:
        ns = p["run_time_ns"] - b.get("run_time_ns", 0)
        total_ns += ns
        parts.append(f'{p["name"]} {ns / calls:.0f} ns/call ({calls} calls)')
# per iteration: both programs' time over the workload's iterations (other processes' syscalls included)
print(f"round {sys.argv[4]} {sys.argv[3]}: " + "; ".join(parts) + f"; {total_ns / int(sys.argv[5]) / 1000:.2f} µs/iteration")
PY
    kill "$pid"
    wait "$pid" 2>/dev/null || true
  done
done
echo "results: $OUT/results.txt"
