#!/usr/bin/env bash
# Restart benchmark behind docs/BENCHMARKS.md ("Restart after SIGKILL"): fills a WAL to SIZE_GB at full rate, then
# RESTARTS times: start the intake on it, time exec -> /readyz 200, write at full rate again for LOAD_S seconds and
# SIGKILL the intake mid-write. With BASELINE=<checkout>, the other build's intake restarts on the same WAL in turn
# with this one's, every round (the WAL format is the same), so both see the same sizes and the same torn tails.
#
#   bench/restart.sh                                   # 20 GB, 5 restarts
#   SIZE_GB=5 RESTARTS=3 BASELINE=/path/to/checkout bench/restart.sh
#
# The forwarder is off (nothing is deleted, the WAL only grows). A restart after a crash of the process, not of the
# machine; even so, little of the WAL is in the page cache since 2026-12-04 (the writer keeps 256 MiB behind it there),
# so the start reads what it walks from the disk. Prints one line per restart and a Markdown table.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_GB=${SIZE_GB:-20}
RESTARTS=${RESTARTS:-5}
LOAD_S=${LOAD_S:-8}
AGENTS=${AGENTS:-4}
WINDOW=${WINDOW:-8}
GRPC_PORT=${GRPC_PORT:-24517}
HTTP_PORT=${HTTP_PORT:-28280}
. bench/lib.sh
bench_init restart "$GRPC_PORT" "$HTTP_PORT"
cat > "$OUT/intake.yaml" <<EOF
wal:
  maxBytes: $((SIZE_GB * 2 + 8))GiB
forwarder:
  enabled: false
EOF
DATA="$OUT/data"

intake_pid= load_pid=
cleanup() {
  [ -n "$load_pid" ] && kill "$load_pid" 2>/dev/null || true
  [ -n "$intake_pid" ] && kill -9 "$intake_pid" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap cleanup EXIT

start_intake() { # $1 launcher, $2 log; sets READY_MS: from exec to /readyz 200 (not in a subshell: sets intake_pid)
  local t0; t0=$(now_ms)
  "$1" intake --config "$OUT/intake.yaml" --data "$DATA" --grpc-port "$GRPC_PORT" --http-port "$HTTP_PORT" \
    --otlp-http-port 0 --durability fsync > "$2" 2>&1 &
  intake_pid=$!
  wait_ready "$intake_pid" "$HTTP_PORT" "$2"
  READY_MS=$(( $(now_ms) - t0 ))
}
load() { # full rate until killed
  ./holdfast bench ingest --target "127.0.0.1:$GRPC_PORT" --agents "$AGENTS" --window "$WINDOW" --batch 500 \
    --event-bytes 200 --duration "$1" > "$OUT/load-$2.txt" 2>&1 &
  load_pid=$!
}
kill_mid_write() {
  kill -9 "$intake_pid"; wait "$intake_pid" 2>/dev/null || true; intake_pid=
  kill "$load_pid" 2>/dev/null || true; wait "$load_pid" 2>/dev/null || true; load_pid=
}
wal_gb() { wal_bytes | awk '{printf "%.1f", $1 / 1e9}'; }

wal_bytes() { du -sb "$DATA/wal" 2>/dev/null | cut -f1 || echo 0; }
if [ "$(wal_bytes)" -lt $((SIZE_GB * 1000000000)) ]; then # an OUT= of an earlier run keeps its WAL
  echo "filling the WAL to $SIZE_GB GB at full rate (fsync)..." >&2
  start_intake ./holdfast "$OUT/intake-fill.log"
  load 100000 fill
  while [ "$(wal_bytes)" -lt $((SIZE_GB * 1000000000)) ]; do sleep 2; done
  kill_mid_write
fi
echo "WAL: $(wal_gb) GB" >&2

for round in $(seq "$RESTARTS"); do
  for side in $(bench_order "$round"); do
    launcher=$(bench_launcher "$side")
    size=$(wal_gb)
    # how much of the WAL the page cache still holds: a restart reads headers from memory or from the disk
    cached=$(fincore --bytes --noheadings --output RES "$DATA"/wal/*.cq4 2>/dev/null | awk '{s += $1} END {printf "%.1f", s / 1e9}')
    start_intake "$launcher" "$OUT/intake-$side-r$round.log"
    # /readyz can answer before the launcher's "listening" line, which carries the recovery figures, is written
    for _ in $(seq 50); do grep -q 'recovery="' "$OUT/intake-$side-r$round.log" && break; sleep 0.04; done
    recovery=$(sed -n 's/.*recovery="\([^"]*\)".*/\1/p' "$OUT/intake-$side-r$round.log")
    echo "round $round $side: WAL $size GB ($cached GB cached), ready after $READY_MS ms ($recovery)" |
      tee -a "$OUT/results.txt" >&2
    load "$LOAD_S" "$side-r$round"
    sleep $((LOAD_S - 2))
    kill_mid_write
  done
done

echo
echo "| build | restart | WAL GB | of it in page cache GB | exec -> /readyz ms | recovery |"
echo "|---|---|---|---|---|---|"
sed -n 's/^round \([0-9]*\) \([a-z]*\): WAL \([0-9.]*\) GB (\([0-9.]*\) GB cached), ready after \([0-9]*\) ms (\(.*\))$/| \2 | \1 | \3 | \4 | \5 | \6 |/p' \
  "$OUT/results.txt"
for side in $SIDES; do
  echo
  sed -n "s/^round [0-9]* $side: .* ready after \([0-9]*\) ms.*/\1/p" "$OUT/results.txt" | median_ms "$side" restarts
done
