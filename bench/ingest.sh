#!/usr/bin/env bash
# Ingest benchmark behind docs/BENCHMARKS.md: `holdfast bench ingest` (its own process) against a separately started
# intake, for both durability levels and two batch sizes, interleaved over several rounds, with the disk's own
# sequential write+fdatasync throughput measured in every round as the baseline. Prints a Markdown table of medians.
#
#   bench/ingest.sh                       # defaults: 3 rounds x 15 s per configuration
#   ROUNDS=5 DURATION=30 bench/ingest.sh
#   WARMUP=2 bench/ingest.sh              # seconds not measured at the start of each run (default 20)
#   BASELINE=/path/to/other/checkout DURABILITIES=fsync bench/ingest.sh   # this build vs another, interleaved
#   INTAKE_CONFIG=bench/intake-wal-only.yaml bench/ingest.sh  # the intake alone: no embedded broker, no forwarding
#
# Each run also records the CPU time both processes (intake and load generator) used over the measured window,
# from /proc/PID/stat (the intake's counting its embedded broker's, a child process since 2026-12-02): cores used and
# microseconds per acknowledged event; and the peak RSS (VmHWM) of the intake and of its embedded broker (goal 3 of
# the performance issue; docs/ARCHITECTURE.md, "Memory").
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-15}
# seconds of the load at the start of each run that are not measured (bench ingest --warmup): on two shared cores the
# JIT takes about half a minute to settle (docs/BENCHMARKS.md, "Where the intake's CPU goes"); the generator's own
# default was 2
WARMUP=${WARMUP:-20}
AGENTS=${AGENTS:-4}
WINDOW=${WINDOW:-8}
EVENT_BYTES=${EVENT_BYTES:-200}
BATCHES=${BATCHES:-"500 1000"}
# "max": every agent keeps WINDOW batches in flight (throughput); a number: new batches per second per agent
# (latency at a known, moderate load)
LOADS=${LOADS:-"max 40"}
DURABILITIES=${DURABILITIES:-"written fsync"}
# an intake config file (both builds read the same one); empty = the default intake (embedded broker, forwarding on)
INTAKE_CONFIG=${INTAKE_CONFIG:-}
[ -z "$INTAKE_CONFIG" ] || INTAKE_CONFIG=$(cd "$(dirname "$INTAKE_CONFIG")" && pwd)/$(basename "$INTAKE_CONFIG")
GRPC_PORT=${GRPC_PORT:-24317}
HTTP_PORT=${HTTP_PORT:-28080}
# BASELINE=<checkout>: that checkout's intake runs in turn with this one's in every round (the load generator is
# always this one's)
. bench/lib.sh
bench_init ingest "$GRPC_PORT" "$HTTP_PORT"

# peak resident set of a process in MiB (0 if there is none)
peak_mib() {
  if [ -r "/proc/$1/status" ]; then awk '/^VmHWM:/ { v = $2 } END { printf "%.0f\n", v / 1024 }' "/proc/$1/status"; else echo 0; fi
}

# CPU seconds (user + system) a process has used so far
cpu_seconds() { awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) / hz }' "/proc/$1/stat" 2>/dev/null || echo 0; }

intake_pid=
stop_intake() { if [ -n "$intake_pid" ]; then kill "$intake_pid" 2>/dev/null || true; wait "$intake_pid" 2>/dev/null || true; fi; intake_pid=; }
trap stop_intake EXIT

for round in $(seq "$ROUNDS"); do
  ./holdfast bench disk --dir "$OUT/disk" --report-json "$OUT/disk-r$round.json" >&2
  for load in $LOADS; do
  for batch in $BATCHES; do
    for durability in $DURABILITIES; do
    for side in $(bench_order "$round"); do
      tag="$side-$durability-b$batch-$load-r$round"
      launcher=$(bench_launcher "$side")
      rate=0; [ "$load" = max ] || rate=$load
      data="$OUT/data"
      rm -rf "$data"
      "$launcher" intake ${INTAKE_CONFIG:+--config "$INTAKE_CONFIG"} --data "$data" --grpc-port "$GRPC_PORT" \
        --http-port "$HTTP_PORT" --durability "$durability" > "$OUT/intake-$tag.log" 2>&1 &
      intake_pid=$!
      wait_ready "$intake_pid" "$HTTP_PORT" "$OUT/intake-$tag.log" 0.1
      echo "round $round: batch $batch, $durability, load $load, $side" >&2
      ./holdfast bench ingest --target "127.0.0.1:$GRPC_PORT" --agents "$AGENTS" --window "$WINDOW" \
        --batch "$batch" --event-bytes "$EVENT_BYTES" --warmup "$WARMUP" --duration "$DURATION" --rate "$rate" \
        --report-json "$OUT/ingest-$tag.json" > "$OUT/ingest-$tag.txt" 2>/dev/null &
      gen_pid=$! # the launcher execs the JVM: this is the generator's own process
      sleep "$WARMUP"
      broker_pid=$(pgrep -P "$intake_pid" | head -1 || true) # the embedded broker, a child process (builds since 2026-12-02)
      i0=$(cpu_seconds "$intake_pid"); g0=$(cpu_seconds "$gen_pid"); b0=$(cpu_seconds "${broker_pid:-0}")
      sleep "$DURATION"
      i1=$(cpu_seconds "$intake_pid"); g1=$(cpu_seconds "$gen_pid"); b1=$(cpu_seconds "${broker_pid:-0}")
      wait "$gen_pid" || true
      echo "{\"intakeCpuSeconds\": $(awk "BEGIN { print $i1 - $i0 }"), \"generatorCpuSeconds\": $(awk "BEGIN { print $g1 - $g0 }"), \"brokerCpuSeconds\": $(awk "BEGIN { print $b1 - $b0 }"), \"seconds\": $DURATION}" \
        > "$OUT/cpu-$tag.json"
      curl -s "http://127.0.0.1:$HTTP_PORT/metrics" > "$OUT/metrics-$tag.txt"
      echo "{\"intakePeakRssMib\": $(peak_mib "$intake_pid"), \"brokerPeakRssMib\": $(peak_mib "${broker_pid:-0}")}" \
        > "$OUT/mem-$tag.json"
      stop_intake
      rm -rf "$data"
    done
    done
  done
  done
done

python3 - "$OUT" <<'PY'
import glob, json, os, re, statistics, sys
out = sys.argv[1]
med = statistics.median
disk = med(json.load(open(f))["megabytesPerSecond"] for f in glob.glob(f"{out}/disk-r*.json"))
rows = {}
for f in sorted(glob.glob(f"{out}/ingest-*-r*.json")):
    m = re.match(r".*/ingest-(\w+)-(\w+)-b(\d+)-(\w+)-r\d+\.json", f)
    r = json.load(open(f))
    r["round"] = re.search(r"-r(\d+)\.json$", f).group(1)
    rows.setdefault((m.group(4), m.group(3), m.group(2), m.group(1)), []).append(r)
def syncs(load, durability, batch, side):
    vals = []
    for f in glob.glob(f"{out}/metrics-{side}-{durability}-b{batch}-{load}-r*.txt"):
        t = open(f).read()
        b = re.search(r"^holdfast_wal_appended_batches_total (\S+)", t, re.M)
        s = re.search(r"^holdfast_wal_sync_duration_seconds_count (\S+)", t, re.M)
        if b and s and float(s.group(1)) > 0:
            vals.append(float(b.group(1)) / float(s.group(1)))
    return f"{med(vals):.1f}" if vals else "-"
print(f"disk baseline (sequential 1 MiB write + fdatasync, median of rounds): {disk:.1f} MB/s\n")
def cpu(load, durability, batch, side, rs):
    """median cores used by the intake (with its embedded broker, in-process or a child) and the generator over the
    measured window, and the intake's us per event"""
    vals = []
    for r in rs:
        f = f"{out}/cpu-{side}-{durability}-b{batch}-{load}-r{r['round']}.json"
        if os.path.exists(f):
            c = json.load(open(f))
            intake = c["intakeCpuSeconds"] + c.get("brokerCpuSeconds", 0)
            vals.append((intake / c["seconds"], c["generatorCpuSeconds"] / c["seconds"],
                         1e6 * intake / c["seconds"] / r["eventsPerSecond"]))
    if not vals:
        return "- | - | -"
    return " | ".join(f"{med(v[i] for v in vals):.{p}f}" for i, p in ((0, 2), (1, 2), (2, 2)))
def mem(load, durability, batch, side, rs):
    """median and largest peak RSS of the intake, and median of its embedded broker's (- when it has none)"""
    vals = []
    for r in rs:
        f = f"{out}/mem-{side}-{durability}-b{batch}-{load}-r{r['round']}.json"
        if os.path.exists(f):
            vals.append(json.load(open(f)))
    if not vals:
        return "- | -"
    intake = [v["intakePeakRssMib"] for v in vals]
    broker = [v["brokerPeakRssMib"] for v in vals if v["brokerPeakRssMib"] > 0]
    return f"{med(intake):.0f} (max {max(intake)}) | " + (f"{med(broker):.0f}" if broker else "-")
print("| load | durability | batch | build | events/s | MB/s (payload) | ratio to disk | ack p50 ms | p99 ms | p99.9 ms | batches per sync | intake (+ broker) cores | generator cores | intake (+ broker) us/event | intake peak RSS MiB | broker peak RSS MiB | runs |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
order = lambda kv: (kv[0][0] != "max", int(kv[0][1]), kv[0][2] != "written", kv[0][3] != "baseline")
for (load, batch, durability, side), rs in sorted(rows.items(), key=order):
    label = "max (window %d)" % rs[0]["window"] if load == "max" else "%s batches/s/agent" % load
    eps = med(r["eventsPerSecond"] for r in rs)
    mbs = med(r["payloadMegabytesPerSecond"] for r in rs)
    ok = all(r["exitCode"] == 0 and r["unacknowledged"] == 0 for r in rs)
    print(f"| {label} | {durability} | {batch} | {side} | {eps:,.0f} | {mbs:.1f} | {mbs / disk:.2f} | "
          f"{med(r['latencyP50Ms'] for r in rs):.1f} | {med(r['latencyP99Ms'] for r in rs):.1f} | "
          f"{med(r['latencyP999Ms'] for r in rs):.1f} | {syncs(load, durability, batch, side)} | "
          f"{cpu(load, durability, batch, side, rs)} | {mem(load, durability, batch, side, rs)} | "
          f"{len(rs)}{'' if ok else ' (FAILED)'} |")
PY
