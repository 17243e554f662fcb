#!/usr/bin/env bash
# Peers side by side (docs/BENCHMARKS.md, issue 15 goal 6): the same 200-byte events, acknowledged after a durable write
# where the peer can do so, on this machine, every configuration in every round (the order rotates by one each round),
# medians and ranges of events/s acknowledged. Prints a Markdown table; raw results in bench-results/peers-<time>/.
#
#   bench/peers.sh                              # ROUNDS=3 DURATION=15
#   ROUNDS=5 DURATION=30 CONFIGS="holdfast-fsync kafka-flush1" bench/peers.sh
#
# Configurations (each started fresh, on loopback, ports 31000-31999):
#   holdfast-fsync, holdfast-written  `holdfast intake --kafka none` (the intake alone, no forwarding), loaded by
#                                     `holdfast bench ingest` (4 agents, window 8, batches of 500), as bench/ingest.sh
#   holdfast-fsync-fwd, holdfast-written-fwd
#                                     the same intake forwarding every event to a Kafka broker process (broker defaults)
#   kafka-default, kafka-flush1       Kafka's own ProducerPerformance (kafka-tools, Kafka's version in pom.xml; acks=all)
#                                     straight to a single broker (Holdfast's EmbeddedKafka, the broker `holdfast kafka`
#                                     runs, 4 partitions), as is and with log.flush.interval.messages=1
#   rsyslog-da, rsyslog-disk, rsyslog-disk-cp1
#                                     4 rsyslogd senders (imfile over a file of 200-byte lines -> omrelp) -> one
#                                     rsyslogd receiver (imrelp, main queue: disk-assisted with syncqueuefiles; pure disk
#                                     queue with syncqueuefiles; the same with checkpointInterval=1) -> omfile
#   syslog-ng                         loggen (4 TCP connections, --size 200) -> syslog-ng, network() source, flow control,
#                                     file() destination with a reliable disk buffer
# rsyslog, rsyslog-relp and syslog-ng-core come from Debian's packages. The two loggers conflict in dpkg (both are the
# system-log-daemon): whichever apt-get cannot install is unpacked with dpkg-deb under bench-results/peer-tools/ (its
# libraries installed by apt-get) and run from there; nothing is started as a service.
#   REPORT=bench-results/peers-<time> bench/peers.sh   # only print the table of an earlier run
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-15}
# seconds of full load before the measured window, in every configuration: the JVMs' JIT takes about half a minute
# to settle on two shared cores (as bench/ingest.sh's WARMUP)
WARMUP=${WARMUP:-20}
CONFIGS=${CONFIGS:-"holdfast-fsync holdfast-written holdfast-fsync-fwd holdfast-written-fwd kafka-default kafka-flush1 rsyslog-da rsyslog-disk rsyslog-disk-cp1 syslog-ng"}
AGENTS=4 WINDOW=8 BATCH=500 EVENT_BYTES=200
# producer batching comparable to Holdfast's: a batch of ~500 records of 200 B, up to 5 ms to fill it
KAFKA_PRODUCER_PROPS=${KAFKA_PRODUCER_PROPS:-"acks=all linger.ms=5 batch.size=105000 compression.type=none"}
# lines per rsyslog sender file: enough for 20k lines/s per sender over the run (a run that reads a file to its end is
# flagged)
RS_LINES=${RS_LINES:-$((20000 * (WARMUP + DURATION + 8)))}
GRPC_PORT=31317 HTTP_PORT=31380 KAFKA_PORT=31092 KAFKA_CONTROLLER_PORT=31093 RELP_PORT=31601 SNG_PORT=31701
OUT=${REPORT:-${OUT:-bench-results/peers-$(date -u +%Y%m%dT%H%M%SZ)}}
TOOLS=$(pwd)/bench-results/peer-tools
mkdir -p "$OUT" "$TOOLS"
OUT=$(cd "$OUT" && pwd)
./holdfast --version >/dev/null # builds on first use
JVM_OPTS=$(cat cli/target/jvm.options)
KAFKA_VERSION=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' pom.xml)

pids=()
# SIGTERM, then SIGKILL after 10 s; only processes this script started
stop() { local p q keep=(); for p in "$@"; do kill "$p" 2>/dev/null || true; done
  for p in "$@"; do for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  for q in "${pids[@]}"; do case " $* " in *" $q "*) ;; *) keep+=("$q") ;; esac; done; pids=("${keep[@]}"); }
cleanup() { [ ${#pids[@]} -eq 0 ] || stop "${pids[@]}"; }
trap cleanup EXIT
wait_for() { local what=$1; shift; for _ in $(seq 600); do "$@" && return 0; sleep 0.1; done; echo "peers.sh: $what not ready in 60 s" >&2; return 1; }
now() { date +%s.%N; }
# CPU time (user + system, all threads) of processes, in clock ticks; and cores used between two samples
TICK=$(getconf CLK_TCK)
ticks() { local p t=0 v; for p in "$@"; do [ -n "$p" ] || continue; v=$(sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null | awk '{print $12 + $13}'); t=$((t + ${v:-0})); done; echo "$t"; }
cores() { python3 -c "import sys; print(round(($2 - $1) / $TICK / ($4 - $3), 2))"; } # ticks0 ticks1 t0 t1
record() { echo "$1" >> "$OUT/runs.jsonl"; }

report() {
python3 - "$OUT" "$(cat "$OUT/configs.txt")" <<'PY' | tee "$OUT/table.md"
import json, statistics, sys
out, order = sys.argv[1], sys.argv[2].split()
runs = {}
for l in open(f"{out}/runs.jsonl"):
    r = json.loads(l)
    runs.setdefault(r["config"], []).append(r["result"])
what = {
 "holdfast-fsync": ("Holdfast intake, forwarding off", "fsync: WAL msync'ed before the ack"),
 "holdfast-written": ("Holdfast intake, forwarding off", "written: WAL in the page cache before the ack"),
 "holdfast-fsync-fwd": ("Holdfast intake forwarding to a Kafka broker process", "fsync (as above); Kafka gets it after the ack"),
 "holdfast-written-fwd": ("Holdfast intake forwarding to a Kafka broker process", "written (as above); Kafka gets it after the ack"),
 "kafka-default": ("Kafka producer → broker, broker defaults", "written: acks=all, one broker: log appended (page cache)"),
 "kafka-flush1": ("Kafka producer → broker, log.flush.interval.messages=1", "fsync: log flushed on every append before the ack"),
 "rsyslog-da": ("rsyslog RELP → disk-assisted queue (syncqueuefiles on)", "memory: RELP 200 OK after enqueue in memory; disk only when the queue overflows"),
 "rsyslog-disk": ("rsyslog RELP → disk queue (syncqueuefiles on)", "fsync of the queue file per message; queue bookkeeping checkpointed only at shutdown"),
 "rsyslog-disk-cp1": ("rsyslog RELP → disk queue (syncqueuefiles on, checkpointInterval 1)", "fsync: queue file and bookkeeping per message"),
 "syslog-ng": ("syslog-ng, loggen over TCP → reliable disk buffer", "none to the sender (TCP only); written to the disk buffer, no fsync"),
}
base = {"fsync": "holdfast-fsync", "written": "holdfast-written"}
equal = {"kafka-flush1": "holdfast-fsync", "rsyslog-disk": "holdfast-fsync", "rsyslog-disk-cp1": "holdfast-fsync",
         "kafka-default": "holdfast-written"}
med = statistics.median
def fmt(x, f):
    return "-" if x is None else format(x, f)
def eps(c):
    v = [r["eps"] for r in runs.get(c, []) if r]
    return v
print("| configuration | durability when the sender gets its ack | events/s acknowledged (median) | range | MB/s (200 B payload) | Holdfast at equal durability ÷ this | server CPU, cores | server CPU µs/event | load generator CPU, cores | runs |")
print("|---|---|---|---|---|---|---|---|---|---|")
def cpu(c, key):
    v = [r[key] for r in runs.get(c, []) if r and r.get(key) is not None]
    return med(v) if v else None
for c in order:
    v = eps(c)
    if not v:
        print(f"| {what[c][0]} | {what[c][1]} | failed | | | | | | | 0 |"); continue
    failed = sum(1 for r in runs[c] if not r or not r.get("ok"))
    ratio = "-"
    if c in equal and eps(equal[c]):
        ratio = f"{med(eps(equal[c])) / med(v):.2f}"
    elif c in ("rsyslog-da", "syslog-ng") and eps("holdfast-written"):
        ratio = f"{med(eps('holdfast-written')) / med(v):.2f} (Holdfast written; no equal level)"
    print(f"| {what[c][0]} (`{c}`) | {what[c][1]} | {med(v):,.0f} | {min(v):,.0f}–{max(v):,.0f} | {med(v) * 200 / 1e6:.1f} | "
          f"{ratio} | {fmt(cpu(c, 'serverCores'), '.2f')} | "
          f"{fmt(cpu(c, 'serverCores') and 1e6 * cpu(c, 'serverCores') / med(v), '.1f')} | {fmt(cpu(c, 'generatorCores'), '.2f')} | "
          f"{len(v)}{f' ({failed} flagged)' if failed else ''} |")
for c in ("holdfast-fsync-fwd", "holdfast-written-fwd"):
    fwd = [r for r in runs.get(c, []) if r and r.get("sentToKafka") is not None]
    if fwd:
        print(f"\n{c}: sent to Kafka by the end of each run, of all events acknowledged: "
              + ", ".join(f"{r['sentToKafka'] / r['acked']:.0%}" for r in fwd))
PY
}
if [ -n "${REPORT:-}" ]; then OUT=$REPORT; report; exit 0; fi

# --- the peers' software -------------------------------------------------------------------------------------------
# unpack Debian packages under $TOOLS/root (libraries they need installed by apt-get)
unpack_debs() {
  local deps
  deps=$(apt-cache depends --no-recommends --no-suggests --no-conflicts --no-breaks --no-replaces --no-enhances "$@" \
    | awk '$1 ~ /Depends:/ && $2 !~ /^</ {print $2}' | sort -u | grep -vxF -e rsyslog -e syslog-ng-core $(printf -- '-e %s ' "$@") || true)
  # only those missing: installing one that is present would upgrade it (and what depends on it) on this machine
  deps=$(for p in $deps; do dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'install ok installed' || echo "$p"; done)
  # shellcheck disable=SC2086
  [ -z "$deps" ] || apt_install $deps
  mkdir -p "$TOOLS/debs" && chmod 777 "$TOOLS/debs"
  (cd "$TOOLS/debs" && apt-get download "$@" >&2)
  for p in "$@"; do dpkg-deb -x "$(ls -t "$TOOLS/debs/${p}"_*.deb | head -1)" "$TOOLS/root"; done
}
# --no-remove: never let apt make room by removing a package (rsyslog and syslog-ng-core conflict)
apt_install() { DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-remove --no-install-recommends "$@" >&2; }
need_apt_update() { [ -n "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -print -quit 2>/dev/null)" ] || apt-get update -q >&2; }

setup_syslog_ng() {
  SNG_ENV=(); SNG_BIN=syslog-ng; SNG_CTL=syslog-ng-ctl; LOGGEN=loggen; SNG_MODS=()
  command -v syslog-ng >/dev/null && command -v loggen >/dev/null && return 0
  if [ ! -x "$TOOLS/root/usr/sbin/syslog-ng" ]; then
    need_apt_update
    apt_install syslog-ng-core && return 0 || echo "peers.sh: syslog-ng-core not installable here (rsyslog installed?); unpacking it" >&2
    unpack_debs syslog-ng-core
  fi
  local r=$TOOLS/root/usr
  SNG_ENV=(env "SYSLOGNG_PREFIX=$r" "LD_LIBRARY_PATH=$r/lib/syslog-ng")
  SNG_BIN=$r/sbin/syslog-ng; SNG_CTL=$r/sbin/syslog-ng-ctl; LOGGEN=$r/bin/loggen
  SNG_MODS=(--module-path "$(ls -d "$r"/lib/syslog-ng/3.* | head -1)")
}
setup_rsyslog() {
  RSYSLOGD=rsyslogd; RS_MODS=$(dirname "$(ls /usr/lib/*/rsyslog/imrelp.so 2>/dev/null | head -1)")
  command -v rsyslogd >/dev/null && [ -f "$RS_MODS/imrelp.so" ] && return 0
  if [ ! -x "$TOOLS/root/usr/sbin/rsyslogd" ] || ! ls "$TOOLS"/root/usr/lib/*/rsyslog/imrelp.so >/dev/null 2>&1; then
    need_apt_update
    if apt_install rsyslog rsyslog-relp; then
      RS_MODS=$(dirname "$(ls /usr/lib/*/rsyslog/imrelp.so | head -1)"); return 0
    fi
    echo "peers.sh: rsyslog not installable here (syslog-ng-core installed: both are the system-log-daemon); unpacking it" >&2
    unpack_debs rsyslog rsyslog-relp
  fi
  RSYSLOGD=$TOOLS/root/usr/sbin/rsyslogd; RS_MODS=$(dirname "$(ls "$TOOLS"/root/usr/lib/*/rsyslog/imrelp.so | head -1)")
}
setup_kafka_tools() {
  local pom=$TOOLS/kafka-tools-$KAFKA_VERSION
  if [ ! -s "$pom/classpath.txt" ]; then
    mkdir -p "$pom"
    cat > "$pom/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
  <groupId>bench</groupId><artifactId>peers-kafka-tools</artifactId><version>0</version><packaging>pom</packaging>
  <dependencies><dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId>
    <version>$KAFKA_VERSION</version></dependency></dependencies>
</project>
EOF
    (cd "$pom" && mvn -q -B dependency:build-classpath -Dmdep.outputFile=classpath.txt >&2)
  fi
  KAFKA_TOOLS_CP=$(cat "$pom/classpath.txt")
}
case " $CONFIGS " in *" syslog-ng "*) setup_syslog_ng ;; esac
case " $CONFIGS " in *" rsyslog-"*) setup_rsyslog ;; esac
case " $CONFIGS " in *" kafka-"*) setup_kafka_tools ;; esac
case " $CONFIGS " in *" rsyslog-"*)
  for i in $(seq "$AGENTS"); do # one file per sender: "<agent><9-digit seq>" and filler, 200 bytes and a newline
    [ -f "$TOOLS/load-$i.txt" ] && [ "$(wc -l < "$TOOLS/load-$i.txt")" -ge "$RS_LINES" ] && continue
    python3 -c "import sys
with open(sys.argv[2], 'w') as o:
    for n in range(int(sys.argv[3])): o.write('%s%09d%s' % (sys.argv[1], n, 'x' * 190) + '\n')" "$i" "$TOOLS/load-$i.txt" "$RS_LINES"
  done ;;
esac

# --- one run per configuration -------------------------------------------------------------------------------------
kafka_pid=
start_kafka() { # $1: log file; more args: --prop KEY=VALUE
  local log=$1; shift
  rm -rf "$OUT/kafka"
  # shellcheck disable=SC2086
  java $JVM_OPTS -cp cli/target/holdfast.jar dev.holdfast.forwarder.kafka.EmbeddedKafka --data "$OUT/kafka" \
    --port "$KAFKA_PORT" --node-id 1 --controller-port "$KAFKA_CONTROLLER_PORT" \
    --voters "1@127.0.0.1:$KAFKA_CONTROLLER_PORT" --cluster-id cGVlcnMtYmVuY2gtaGYxMQ --prop num.partitions=4 "$@" \
    > "$log" 2>&1 &
  kafka_pid=$!; pids+=("$kafka_pid")
  wait_for kafka grep -q "kafka ready" "$log"
}
stop_kafka() { stop "$kafka_pid"; kafka_pid=; rm -rf "$OUT/kafka"; }

run_holdfast() { # $1 tag, $2 durability, $3 kafka (none | bootstrap)
  local tag=$1 data=$OUT/data
  rm -rf "$data"
  ./holdfast intake --data "$data" --grpc-port "$GRPC_PORT" --http-port "$HTTP_PORT" --otlp-http-port 0 \
    --durability "$2" --kafka "$3" > "$OUT/intake-$tag.log" 2>&1 &
  local pid=$!; pids+=("$pid")
  wait_for intake curl -sf "http://127.0.0.1:$HTTP_PORT/readyz" -o /dev/null
  ./holdfast bench ingest --target "127.0.0.1:$GRPC_PORT" --agents "$AGENTS" --window "$WINDOW" --batch "$BATCH" \
    --event-bytes "$EVENT_BYTES" --warmup "$WARMUP" --duration "$DURATION" --report-json "$OUT/ingest-$tag.json" \
    > "$OUT/ingest-$tag.txt" 2>/dev/null &
  local gen=$!; pids+=("$gen")
  # CPU inside the measured window (the generator's JVM starts, then warms up for WARMUP s)
  sleep $((WARMUP + 1)); local t0 s0 g0 t1 s1 g1; t0=$(now); s0=$(ticks "$pid" "${kafka_pid:-}"); g0=$(ticks "$gen")
  sleep $((DURATION - 1)); t1=$(now); s1=$(ticks "$pid" "${kafka_pid:-}"); g1=$(ticks "$gen")
  wait "$gen" || true
  curl -s "http://127.0.0.1:$HTTP_PORT/metrics" > "$OUT/metrics-$tag.txt"
  stop "$gen" "$pid"; rm -rf "$data"
  SERVER_CORES=$(cores "$s0" "$s1" "$t0" "$t1") GEN_CORES=$(cores "$g0" "$g1" "$t0" "$t1") \
  python3 - "$OUT/ingest-$tag.json" "$OUT/metrics-$tag.txt" <<'PY' > "$result" || true
import json, os, re, sys
r = json.load(open(sys.argv[1]))
cpu = {"serverCores": float(os.environ["SERVER_CORES"]), "generatorCores": float(os.environ["GEN_CORES"])}
sent = re.findall(r'^holdfast_forwarder_sent_events_total\{lane="\w+"\} (\S+)', open(sys.argv[2]).read(), re.M)
print(json.dumps({"eps": r["eventsPerSecond"], "p50": r["latencyP50Ms"], "p99": r["latencyP99Ms"],
                  "ok": r["exitCode"] == 0 and r["unacknowledged"] == 0, "acked": r["totalEventsAcked"],
                  "sentToKafka": sum(float(x) for x in sent) if sent else None, **cpu}))
PY
}

run_kafka() { # $1 tag, more args: broker --prop
  local tag=$1; shift
  start_kafka "$OUT/kafka-$tag.log" "$@"
  # ProducerPerformance reports acknowledged records every 5 s; the windows of the warm-up (at least the first, with
  # the start-up) are not counted
  # shellcheck disable=SC2086
  java -cp "$KAFKA_TOOLS_CP" org.apache.kafka.tools.ProducerPerformance \
    --topic peers --num-records 1000000000 --record-size "$EVENT_BYTES" --throughput -1 \
    --producer-props "bootstrap.servers=127.0.0.1:$KAFKA_PORT" $KAFKA_PRODUCER_PROPS > "$OUT/producer-$tag.txt" 2>&1 &
  local gen=$!; pids+=("$gen")
  sleep $((WARMUP > 5 ? WARMUP : 5)); local t0 s0 g0 t1 s1 g1; t0=$(now); s0=$(ticks "$kafka_pid"); g0=$(ticks "$gen")
  sleep "$DURATION"; t1=$(now); s1=$(ticks "$kafka_pid"); g1=$(ticks "$gen")
  sleep 3; stop "$gen"
  stop_kafka
  SERVER_CORES=$(cores "$s0" "$s1" "$t0" "$t1") GEN_CORES=$(cores "$g0" "$g1" "$t0" "$t1") \
  python3 - "$OUT/producer-$tag.txt" "$WARMUP" <<'PY' > "$result" || true
import json, os, re, sys
w = [(int(n), float(r), float(a)) for n, r, a in re.findall(
    r"^(\d+) records sent, ([\d.]+) records/sec \([\d.]+ MB/sec\), ([\d.]+) ms avg latency", open(sys.argv[1]).read(), re.M)]
w = w[max(1, -(-int(sys.argv[2]) // 5)):]  # the 5 s windows that began within the warm-up are not counted
n = sum(x[0] for x in w); t = sum(x[0] / x[1] for x in w if x[1] > 0)
print(json.dumps({"eps": n / t if t else 0, "ok": len(w) >= 2, "windows": len(w),
                  "avgLatencyMs": sum(x[0] * x[2] for x in w) / n if n else None,
                  "serverCores": float(os.environ["SERVER_CORES"]), "generatorCores": float(os.environ["GEN_CORES"])}))
PY
}

run_rsyslog() { # $1 tag, $2 main_queue parameters
  local tag=$1 d=$OUT/rsyslog
  rm -rf "$d"; mkdir -p "$d/rx"
  cat > "$d/rx.conf" <<EOF
global(workDirectory="$d/rx")
module(load="$RS_MODS/impstats.so" interval="1" format="json" log.file="$d/rx-stats.json" log.syslog="off")
module(load="$RS_MODS/imrelp.so")
main_queue($2 queue.filename="mainq" queue.saveOnShutdown="on" queue.maxDiskSpace="8g")
input(type="imrelp" address="127.0.0.1" port="$RELP_PORT")
template(name="msgonly" type="string" string="%msg%\n")
action(type="omfile" file="$d/out.log" template="msgonly")
EOF
  cp "$d/rx.conf" "$OUT/rsyslog-$tag-rx.conf"
  "$RSYSLOGD" -n -f "$d/rx.conf" -M "$RS_MODS" -i "$d/rx.pid" > "$OUT/rsyslog-$tag-rx.log" 2>&1 &
  local rx=$!; pids+=("$rx")
  wait_for rsyslog-receiver bash -c "exec 3<>/dev/tcp/127.0.0.1/$RELP_PORT" 2>/dev/null
  local tx=() i
  for i in $(seq "$AGENTS"); do
    mkdir -p "$d/tx$i"
    # RELP's default window (128) stalls this link at ~1k messages/s; 4096 let one connection reach ~55k/s
    cat > "$d/tx$i.conf" <<EOF
global(workDirectory="$d/tx$i")
module(load="$RS_MODS/imfile.so" mode="inotify")
module(load="$RS_MODS/omrelp.so")
main_queue(queue.type="LinkedList" queue.size="100000")
input(type="imfile" file="$TOOLS/load-$i.txt" tag="load$i")
action(type="omrelp" target="127.0.0.1" port="$RELP_PORT" windowSize="4096")
EOF
    "$RSYSLOGD" -n -f "$d/tx$i.conf" -M "$RS_MODS" -i "$d/tx$i.pid" > "$OUT/rsyslog-$tag-tx$i.log" 2>&1 &
    tx+=($!); pids+=($!)
  done
  sleep $((WARMUP + 1)); local t0 s0 g0 t1 s1 g1; t0=$(now); s0=$(ticks "$rx"); g0=$(ticks "${tx[@]}")
  sleep "$DURATION"; t1=$(now); s1=$(ticks "$rx"); g1=$(ticks "${tx[@]}")
  stop "${tx[@]}"; stop "$rx"
  cp "$d/rx-stats.json" "$OUT/rsyslog-$tag-stats.json"
  local spilled; spilled=$(find "$d/rx" -name 'mainq.0*' | wc -l)
  rm -rf "$d"
  # "main Q" enqueued: messages imrelp submitted, each then answered 200 OK; one sample per second
  SERVER_CORES=$(cores "$s0" "$s1" "$t0" "$t1") GEN_CORES=$(cores "$g0" "$g1" "$t0" "$t1") \
  python3 - "$OUT/rsyslog-$tag-stats.json" "$WARMUP" "$DURATION" "$spilled" "$((AGENTS * RS_LINES))" <<'PY' > "$result" || true
import json, os, sys
q = [json.loads(l.split(": ", 1)[1]) for l in open(sys.argv[1]) if '"name": "main Q"' in l]
e = [x["enqueued"] for x in q]
start = next(i for i, v in enumerate(e) if v > 0)  # the first second with traffic
a = start + int(sys.argv[2]); b = min(a + int(sys.argv[3]), len(e) - 1)
print(json.dumps({"eps": (e[b] - e[a]) / (b - a), "ok": b - a >= 3 and e[-1] < int(sys.argv[5]), "seconds": b - a,
                  "maxQueue": max(x["maxqsize"] for x in q), "queueFilesOnDisk": int(sys.argv[4]),
                  "serverCores": float(os.environ["SERVER_CORES"]), "generatorCores": float(os.environ["GEN_CORES"])}))
PY
}

run_syslog_ng() { # $1 tag
  local tag=$1 d=$OUT/syslog-ng
  rm -rf "$d"; mkdir -p "$d/buf"
  cat > "$d/syslog-ng.conf" <<EOF
@version: 3.38
options { stats-freq(0); use-dns(no); keep-hostname(yes); time-reopen(1); };
source s_load { network(ip("127.0.0.1") port($SNG_PORT) transport("tcp") max-connections(16) log-iw-size(40000)
                        flags(no-parse)); };
destination d_file { file("$d/out.log" template("\$MSG\n")
                          disk-buffer(reliable(yes) dir("$d/buf") disk-buf-size(4294967296))); };
log { source(s_load); destination(d_file); flags(flow-control); };
EOF
  cp "$d/syslog-ng.conf" "$OUT/syslog-ng-$tag.conf"
  "${SNG_ENV[@]}" "$SNG_BIN" -F "${SNG_MODS[@]}" -f "$d/syslog-ng.conf" -p "$d/pid" -c "$d/ctl" -R "$d/persist" \
    > "$OUT/syslog-ng-$tag.log" 2>&1 &
  local sng=$!; pids+=("$sng")
  wait_for syslog-ng bash -c "exec 3<>/dev/tcp/127.0.0.1/$SNG_PORT" 2>/dev/null
  processed() { "${SNG_ENV[@]}" "$SNG_CTL" stats -c "$d/ctl" | awk -F';' '$1 == "source" && $2 == "s_load" {print $6}'; }
  "${SNG_ENV[@]}" "$LOGGEN" -i -S --size "$EVENT_BYTES" --rate 100000000 --interval $((DURATION + WARMUP + 1)) \
    --active-connections "$AGENTS" 127.0.0.1 "$SNG_PORT" > "$OUT/loggen-$tag.txt" 2>&1 &
  local lg=$!; pids+=("$lg")
  sleep "$WARMUP"; local t0 n0 t1 n1 s0 s1 g0 g1; t0=$(now); n0=$(processed); s0=$(ticks "$sng"); g0=$(ticks "$lg")
  sleep "$DURATION"; t1=$(now); n1=$(processed); s1=$(ticks "$sng"); g1=$(ticks "$lg")
  wait "$lg" || true; stop "$sng"
  rm -rf "$d"
  python3 -c "import json,sys; print(json.dumps({'eps': ($n1 - $n0) / ($t1 - $t0), 'ok': $n1 > $n0,
    'serverCores': $(cores "$s0" "$s1" "$t0" "$t1"), 'generatorCores': $(cores "$g0" "$g1" "$t0" "$t1")}))" > "$result" || true
}

run_config() { # $1 config, $2 round
  local c=$1 tag="$1-r$2" r
  echo "round $2: $c" >&2
  result=$OUT/result-$tag.json
  case $c in
    holdfast-fsync) run_holdfast "$tag" fsync none ;;
    holdfast-written) run_holdfast "$tag" written none ;;
    holdfast-fsync-fwd) start_kafka "$OUT/kafka-$tag.log"; run_holdfast "$tag" fsync "127.0.0.1:$KAFKA_PORT"; stop_kafka ;;
    holdfast-written-fwd) start_kafka "$OUT/kafka-$tag.log"; run_holdfast "$tag" written "127.0.0.1:$KAFKA_PORT"; stop_kafka ;;
    kafka-default) run_kafka "$tag" ;;
    kafka-flush1) run_kafka "$tag" --prop log.flush.interval.messages=1 ;;
    rsyslog-da) run_rsyslog "$tag" 'queue.type="LinkedList" queue.syncqueuefiles="on"' ;;
    rsyslog-disk) run_rsyslog "$tag" 'queue.type="Disk" queue.syncqueuefiles="on"' ;;
    rsyslog-disk-cp1) run_rsyslog "$tag" 'queue.type="Disk" queue.syncqueuefiles="on" queue.checkpointInterval="1"' ;;
    syslog-ng) run_syslog_ng "$tag" ;;
    *) echo "peers.sh: unknown configuration $c" >&2; exit 2 ;;
  esac
  r=$(cat "$result" 2>/dev/null || true)
  echo "  $r" >&2
  record "{\"config\": \"$c\", \"round\": $2, \"result\": ${r:-null}}"
}

{ echo "machine: $(nproc) CPUs, $(lscpu | sed -n 's/^Model name: *//p'), kernel $(uname -r), $(java -version 2>&1 | head -1)"
  echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"; } > "$OUT/machine.txt"
echo "$CONFIGS" > "$OUT/configs.txt"
read -r -a configs <<< "$CONFIGS"
n=${#configs[@]}
for round in $(seq "$ROUNDS"); do
  for k in $(seq 0 $((n - 1))); do run_config "${configs[$(((k + round - 1) % n))]}" "$round"; done
done

echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT/machine.txt"
report
echo "raw results: $OUT" >&2
