#!/usr/bin/env bash
# Idle start benchmark behind docs/BENCHMARKS.md ("Start-up"): an intake on an empty WAL, timed from exec to
# /readyz 200, ROUNDS times; with BASELINE=<checkout>, that build's intake starts in turn with this one's every round
# (the order alternating), so both see the same machine. This is the part of every restart that does not depend on
# the WAL (bench/restart.sh measures the rest). Prints one line per start, with the intake's own "starting N ms after
# JVM start" and recovery lines, and the medians.
#
#   bench/start.sh
#   ROUNDS=10 BASELINE=/path/to/checkout bench/start.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-7}
GRPC_PORT=${GRPC_PORT:-24617}
HTTP_PORT=${HTTP_PORT:-28680}
. bench/lib.sh
bench_init start "$GRPC_PORT" "$HTTP_PORT"

intake_pid=
cleanup() {
  [ -n "$intake_pid" ] && kill -9 "$intake_pid" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap cleanup EXIT

for round in $(seq "$ROUNDS"); do
  for side in $(bench_order "$round"); do
    launcher=$(bench_launcher "$side")
    data="$OUT/data-$side-r$round" log="$OUT/intake-$side-r$round.log"
    t0=$(now_ms)
    "$launcher" intake --data "$data" --kafka none --grpc-port "$GRPC_PORT" --http-port "$HTTP_PORT" \
      --otlp-http-port 0 --durability fsync > "$log" 2>&1 &
    intake_pid=$!
    wait_ready "$intake_pid" "$HTTP_PORT" "$log" 0.005
    ready=$(( $(now_ms) - t0 ))
    kill "$intake_pid"; wait "$intake_pid" 2>/dev/null || true; intake_pid=
    jvm=$(sed -n 's/.*starting \([0-9]*\) ms after JVM start.*/\1/p' "$log" | head -1)
    recovered=$(sed -n 's/.*recovered in \([0-9]*\) ms.*/\1/p' "$log" | head -1)
    echo "round $round $side: ready after $ready ms (intake code from $jvm ms after JVM start, WAL recovered in $recovered ms)" |
      tee -a "$OUT/results.txt" >&2
    rm -rf "$data"
  done
done

for side in $SIDES; do
  sed -n "s/^round [0-9]* $side: ready after \([0-9]*\) ms.*/\1/p" "$OUT/results.txt" | median_ms "$side" starts
done
