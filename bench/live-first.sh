#!/usr/bin/env bash
# Live data before backlog (docs/BENCHMARKS.md): with Kafka down, build a backlog of BACKLOG_EVENTS in an intake's
# WAL; start a steady live load; bring Kafka back; while the backlog lane drains, measure the WAL->Kafka latency of
# live events (the intake's holdfast_forwarder_wal_to_kafka_latency_seconds{lane="live"} histogram, receipt at the
# intake to Kafka's ack) and the backlog drain rate.
#
#   bench/live-first.sh                    # BACKLOG_EVENTS=2200000 LIVE_RATE=50 (batches/s per live agent)
set -euo pipefail
cd "$(dirname "$0")/.."
BACKLOG_EVENTS=${BACKLOG_EVENTS:-2200000}
LIVE_AGENTS=${LIVE_AGENTS:-2}
LIVE_RATE=${LIVE_RATE:-50}
LIVE_BATCH=${LIVE_BATCH:-100}
KAFKA_PORT=${KAFKA_PORT:-29092}
GRPC_PORT=${GRPC_PORT:-24318}
HTTP_PORT=${HTTP_PORT:-28081}
OUT=${OUT:-bench-results/live-first-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$OUT"
./holdfast --version >/dev/null

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
start_kafka() {
  ./holdfast kafka --data "$OUT/kafka" --port "$KAFKA_PORT" >> "$OUT/kafka.log" 2>&1 &
  kafka_pid=$!; pids+=("$kafka_pid")
  until grep -q "kafka ready" "$OUT/kafka.log" 2>/dev/null && [ "$(grep -c 'kafka ready' "$OUT/kafka.log")" -ge "$1" ]; do sleep 0.2; done
}
metric() { curl -s "http://127.0.0.1:$HTTP_PORT/metrics" | awk -v m="$1" '$1 == m {print $2}'; }

start_kafka 1
./holdfast intake --data "$OUT/data" --grpc-port "$GRPC_PORT" --http-port "$HTTP_PORT" --durability fsync \
  --kafka "127.0.0.1:$KAFKA_PORT" --topic live-first > "$OUT/intake.log" 2>&1 &
pids+=($!)
until curl -sf "http://127.0.0.1:$HTTP_PORT/readyz" >/dev/null; do sleep 0.2; done

kill -9 "$kafka_pid"; wait "$kafka_pid" 2>/dev/null || true
echo "Kafka down; building a backlog of $BACKLOG_EVENTS events" >&2
./holdfast bench ingest --target "127.0.0.1:$GRPC_PORT" --agents 4 --batch 1000 --agent-prefix backlog \
  --batches $((BACKLOG_EVENTS / 4000)) > "$OUT/backlog-ingest.txt" 2>/dev/null
./holdfast bench ingest --target "127.0.0.1:$GRPC_PORT" --agents "$LIVE_AGENTS" --batch "$LIVE_BATCH" \
  --rate "$LIVE_RATE" --duration 600 --agent-prefix live > "$OUT/live-ingest.txt" 2>/dev/null &
live_pid=$!; pids+=("$live_pid")
sleep 3
curl -s "http://127.0.0.1:$HTTP_PORT/metrics" > "$OUT/metrics-before.txt"
start_kafka 2
t0=$(date +%s.%N)
echo "Kafka back; draining" >&2
target=$(awk -v n="$BACKLOG_EVENTS" 'BEGIN{print n}')
while :; do
  sent=$(metric 'holdfast_forwarder_sent_events_total{lane="backlog"}'); sent=${sent:-0}
  lag=$(metric 'holdfast_forwarder_lag_records{lane="backlog"}'); lag=${lag:-1}
  now=$(date +%s.%N)
  printf '%6.1f s  backlog sent %12.0f  backlog lag %s\n' "$(echo "$now - $t0" | bc)" "$sent" "$lag" >&2
  if awk -v s="$sent" -v t="$target" -v l="$lag" 'BEGIN{exit !(s >= t && l == 0)}'; then break; fi
  if awk -v a="$now" -v b="$t0" 'BEGIN{exit !(a - b > 300)}'; then echo "drain did not finish in 300 s" >&2; break; fi
  sleep 1
done
t1=$(date +%s.%N)
curl -s "http://127.0.0.1:$HTTP_PORT/metrics" > "$OUT/metrics-after.txt"
kill "$live_pid" 2>/dev/null || true

python3 - "$OUT" "$t0" "$t1" <<'PY'
import re, sys
out, t0, t1 = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
def read(name):
    vals = {}
    for line in open(f"{out}/{name}"):
        m = re.match(r'(\S+?)(\{[^}]*\})? (\S+)$', line.strip())
        if m: vals[(m.group(1), m.group(2) or "")] = float(m.group(3))
    return vals
a, b = read("metrics-before.txt"), read("metrics-after.txt")
def buckets(lane):
    out = []
    for (name, labels), v in b.items():
        if name == "holdfast_forwarder_wal_to_kafka_latency_seconds_bucket" and f'lane="{lane}"' in labels:
            le = re.search(r'le="([^"]+)"', labels).group(1)
            out.append((float("inf") if le == "+Inf" else float(le), v - a.get((name, labels), 0.0)))
    return sorted(out)
def quantile(bs, q):
    total = bs[-1][1]
    for le, c in bs:
        if c >= q * total: return le, total
    return float("inf"), total
live = buckets("live")
p50, n = quantile(live, 0.50); p99, _ = quantile(live, 0.99); p999, _ = quantile(live, 0.999)
sent = lambda lane: b.get(("holdfast_forwarder_sent_events_total", f'{{lane="{lane}"}}'), 0) - a.get(("holdfast_forwarder_sent_events_total", f'{{lane="{lane}"}}'), 0)
secs = t1 - t0
print(f"drain: {sent('backlog'):,.0f} backlog events in {secs:.1f} s = {sent('backlog')/secs:,.0f} events/s, "
      f"while the live lane forwarded {sent('live'):,.0f} events ({sent('live')/secs:,.0f}/s)")
print(f"live WAL->Kafka latency during the drain ({n:.0f} batches; histogram bucket upper bounds): "
      f"p50 <= {p50*1000:.0f} ms, p99 <= {p99*1000:.0f} ms, p99.9 <= {p999*1000:.0f} ms")
PY
