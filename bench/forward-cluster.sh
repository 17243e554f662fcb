#!/usr/bin/env bash
# Forwarder vs a plain idempotent producer on a real 3-broker KRaft cluster (docs/BENCHMARKS.md, "Forwarding to a
# 3-broker cluster"): starts `holdfast kafka --cluster 3` (each broker its own process), runs `holdfast bench
# forward` against it (topics of 3 partitions, replication factor 3, min.insync.replicas 2, acks=all, both sides
# writing to topics created beforehand the same way; rounds interleaved, median ratio printed), then stops the
# cluster.
#
#   bench/forward-cluster.sh                       # 2,000,000 events, 5 rounds
#   EVENTS=1000000 ROUNDS=3 PORT=19300 bench/forward-cluster.sh
set -euo pipefail
cd "$(dirname "$0")/.."
EVENTS=${EVENTS:-2000000}
ROUNDS=${ROUNDS:-5}
PORT=${PORT:-19300}
OUT=${OUT:-bench-results/forward-cluster-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

./holdfast kafka --cluster 3 --port "$PORT" --data "$OUT/kafka" >"$OUT/kafka.out" 2>&1 &
KAFKA=$!
trap 'kill -TERM $KAFKA 2>/dev/null; wait $KAFKA 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do
  grep -q '^kafka ready' "$OUT/kafka.out" && break
  kill -0 $KAFKA 2>/dev/null || { cat "$OUT/kafka.out" >&2; exit 1; }
  sleep 1
done
cat "$OUT/kafka.out"
BOOTSTRAP=$(sed -n 's/^kafka ready bootstrap=//p' "$OUT/kafka.out")
[ -n "$BOOTSTRAP" ] || { echo "the cluster did not get ready" >&2; exit 1; }
./holdfast bench forward --bootstrap "$BOOTSTRAP" --dir "$OUT/scratch" --events "$EVENTS" --rounds "$ROUNDS" \
  2>"$OUT/bench.stderr" | tee "$OUT/result.txt"
