#!/usr/bin/env bash
# Where an ack's latency goes at a moderate, fixed load (issue 15, goal 2; docs/BENCHMARKS.md "Ack latency at moderate
# load"). The intake runs alone (bench/intake-wal-only.yaml), `fsync`, once per JVM variant in every round, in turn;
# the load generator is the same JVM every time. Per run it records:
#   - the generator's ack latency (send -> ack, HdrHistogram), after a warm-up;
#   - the intake's own view over the same window (the difference of two /metrics scrapes): receipt -> ack
#     (holdfast_intake_ack_latency_seconds), and per group commit the WAL's queue wait, append and msync, and its
#     checkpoints (holdfast_wal_{queue_wait,append_duration,sync_wait,sync_duration,checkpoint_duration}_seconds);
#   - the longest GC pause in each JVM during the window (-Xlog:gc), and the intake's peak RSS (VmHWM);
# and draws each variant's ack-latency distribution, one plot per batch size (bench/latency-plot.py: latency-b*.svg).
#
#   bench/ack-latency.sh                               # 3 rounds, 500 and 1000 events per batch at 40 batches/s/agent
#   WARMUP=20 bench/ack-latency.sh                     # the intake's first minute, while the JIT still compiles
#   VARIANTS="g1= g1-10ms=-XX:MaxGCPauseMillis=10 zgc25=/usr/lib/jvm/temurin-25-jdk-amd64:-XX:+UseZGC" bench/ack-latency.sh
#
#   VARIANTS="before=@/path/to/other/checkout this=" bench/ack-latency.sh                  # another build's intake
#   SCHEDULES="together stagger" bench/ack-latency.sh   # the agents' batches at once (default) and spread out, in turn
#   GENERATORS="before=/path/to/other/checkout this=." VARIANTS="this=" bench/ack-latency.sh   # another build's generator
#
# A variant is NAME=[JAVA_HOME:]JVM_FLAGS for the intake only (HOLDFAST_JAVA_OPTS, read after the launcher's own),
# or NAME=@CHECKOUT: that checkout's intake (its ./holdfast), with its own defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-30}
# At this load the JIT (C2) is still compiling the intake's paths 20-60 s after its start, and each compilation holds
# a vCPU for milliseconds that the sync thread then waits for; 90 s measures the intake at its steady state
# (docs/BENCHMARKS.md, "The p99 at moderate load was the JIT's first minute")
WARMUP=${WARMUP:-90}
RATE=${RATE:-40}
AGENTS=4 # the load is AGENTS x RATE batches a second: the plots' titles name it
BATCHES=${BATCHES:-"500 1000"}
VARIANTS=${VARIANTS:-"g1= g1-10ms=-XX:MaxGCPauseMillis=10"}
# how the generator's agents send: "together" (every agent at the same instant, 40 times a second: bursts) or
# "stagger" (--stagger: agent i a quarter of an interval after agent i-1, as independent agents would); each schedule
# runs with every variant in every round, and the table names it after the variant ("this@stagger")
SCHEDULES=${SCHEDULES:-together}
# which checkout's load generator measures (NAME=CHECKOUT, "." is this one); with more than one, each runs with every
# variant and schedule in every round, and the table names it after the variant ("this+before")
GENERATORS=${GENERATORS:-this=.}
GRPC_PORT=${GRPC_PORT:-24717}
HTTP_PORT=${HTTP_PORT:-28780}
. bench/lib.sh
bench_init ack-latency "$GRPC_PORT" "$HTTP_PORT" # the variants name their own checkouts; BASELINE is not used here

intake_pid=
stop_intake() { if [ -n "$intake_pid" ]; then kill "$intake_pid" 2>/dev/null || true; wait "$intake_pid" 2>/dev/null || true; fi; intake_pid=; }
trap stop_intake EXIT

for round in $(seq "$ROUNDS"); do
  for batch in $BATCHES; do
    for variant in $VARIANTS; do
      for schedule in $SCHEDULES; do
        for generator in $GENERATORS; do
          name=${variant%%=*}; spec=${variant#*=}
          generator_name=${generator%%=*}; generator_checkout=${generator#*=}
          schedule_flag=
          case "$schedule" in
            together) ;;
            stagger) schedule_flag=--stagger ;;
            *) echo "SCHEDULES: unknown schedule '$schedule' (together, stagger)" >&2; exit 2 ;;
          esac
          [ "$SCHEDULES" = together ] || name="$name@$schedule"
          [ "$GENERATORS" = this=. ] || name="$name+$generator_name"
          java_home=; flags=$spec; launcher=./holdfast
          case "$spec" in
            @*) launcher=${spec#@}/holdfast; flags= ;;
            /*:*) java_home=${spec%%:*}; flags=${spec#*:} ;;
          esac
          run="$OUT/$name-b$batch-r$round"
          mkdir -p "$run"
          echo "round $round: batch $batch, $name" >&2
          (
            [ -z "$java_home" ] || export PATH="$java_home/bin:$PATH"
            export HOLDFAST_JAVA_OPTS="$flags -Xlog:gc*:file=$run/intake-gc.log:uptime"
            exec "$launcher" intake --config "$PWD/bench/intake-wal-only.yaml" --data "$run/data" --grpc-port "$GRPC_PORT" \
              --http-port "$HTTP_PORT" --durability fsync > "$run/intake.log" 2>&1
          ) &
          intake_pid=$!
          wait_ready "$intake_pid" "$HTTP_PORT" "$run/intake.log" 0.1
          # the intake's window starts a little after the generator's warm-up ends (its JVM takes 1-2 s to start):
          # better a window that misses a few seconds of the measured load than one that includes the warm-up
          ( sleep $((WARMUP + 3)); curl -s "http://127.0.0.1:$HTTP_PORT/metrics" > "$run/metrics-start.txt" ) &
          HOLDFAST_JAVA_OPTS="-Xlog:gc*:file=$run/generator-gc.log:uptime" "$generator_checkout/holdfast" bench ingest \
            --target "127.0.0.1:$GRPC_PORT" --agents "$AGENTS" --window 8 --batch "$batch" --event-bytes 200 \
            --warmup "$WARMUP" --duration "$DURATION" --rate "$RATE" $schedule_flag --report-json "$run/report.json" > "$run/generator.txt" 2>&1
          curl -s "http://127.0.0.1:$HTTP_PORT/metrics" > "$run/metrics-end.txt"
          # the subshell exec'd the launcher, which exec'd the JVM: this is the intake's own process
          grep VmHWM "/proc/$intake_pid/status" > "$run/vmhwm.txt" || true
          stop_intake
          rm -rf "$run/data"
        done
      done
    done
  done
done

python3 - "$OUT" "$WARMUP" <<'PY'
import glob, json, os, re, statistics, sys
out, warmup = sys.argv[1], float(sys.argv[2])
med = statistics.median

def buckets(path, name):
    counts = {}
    for m in re.finditer(r'^%s_bucket\{[^}]*le="([^"]+)"\} (\S+)' % name, open(path).read(), re.M):
        le = float("inf") if m.group(1) == "+Inf" else float(m.group(1))
        counts[le] = counts.get(le, 0) + float(m.group(2))
    return counts

def quantiles_ms(run, name):
    """p50/p99/p99.9 (upper bucket bounds, ms) of what a histogram recorded between the two scrapes"""
    end, start = buckets(f"{run}/metrics-end.txt", name), buckets(f"{run}/metrics-start.txt", name)
    window = sorted((le, n - start.get(le, 0)) for le, n in end.items())
    total = window[-1][1] if window else 0
    return [next((le * 1000 for le, n in window if n >= q * total), float("nan")) for q in (0.5, 0.99, 0.999)]

def longest_pause_ms(log):
    """the longest GC pause after the warm-up (uptime > WARMUP + a few seconds of start-up)"""
    pauses = [float(m.group(2)) for m in re.finditer(r"^\[(\d+\.\d+)s\].*Pause.* (\d+\.\d+)ms$", open(log).read(), re.M)
              if float(m.group(1)) > warmup + 3]
    return max(pauses, default=0.0)

rows = {}
for run in sorted(glob.glob(f"{out}/*-b*-r*")):
    name, batch, _ = re.match(r".*/(.+)-b(\d+)-r(\d+)$", run).groups()
    r = json.load(open(f"{run}/report.json"))
    hwm = open(f"{run}/vmhwm.txt").read().split() if os.path.exists(f"{run}/vmhwm.txt") else []
    rows.setdefault((int(batch), name), []).append(dict(
        eps=r["eventsPerSecond"], p50=r["latencyP50Ms"], p99=r["latencyP99Ms"], p999=r["latencyP999Ms"],
        intake=quantiles_ms(run, "holdfast_intake_ack_latency_seconds"),
        sync=quantiles_ms(run, "holdfast_wal_sync_duration_seconds"),
        wait=quantiles_ms(run, "holdfast_wal_queue_wait_seconds"),
        append=quantiles_ms(run, "holdfast_wal_append_duration_seconds"),
        syncwait=quantiles_ms(run, "holdfast_wal_sync_wait_seconds"),
        checkpoint=quantiles_ms(run, "holdfast_wal_checkpoint_duration_seconds"),
        gc=longest_pause_ms(f"{run}/intake-gc.log"), gcgen=longest_pause_ms(f"{run}/generator-gc.log"),
        rss=int(hwm[1]) / 1024 if hwm else float("nan"), ok=r["exitCode"] == 0 and r["unacknowledged"] == 0))
print("| batch | intake JVM | events/s | ack p50 ms | p99 | p99.9 | intake p50 | p99 | p99.9 | msync p50 | p99 | "
      "queue wait p99 | append p99 | sync wait p99 | checkpoint p99 | longest GC pause: intake | generator | intake peak RSS MiB | runs |")
print("|" + "---|" * 19)
for (batch, name), rs in sorted(rows.items()):
    m = lambda f: med(f(x) for x in rs)
    spread = lambda k: "%.1f (%s)" % (m(lambda x: x[k]), ", ".join("%.1f" % x[k] for x in rs))
    print(f"| {batch} | {name} | {m(lambda x: x['eps']):,.0f} | {spread('p50')} | {spread('p99')} | {spread('p999')} | "
          f"{m(lambda x: x['intake'][0]):.1f} | {m(lambda x: x['intake'][1]):.1f} | {m(lambda x: x['intake'][2]):.1f} | "
          f"{m(lambda x: x['sync'][0]):.1f} | {m(lambda x: x['sync'][1]):.1f} | {m(lambda x: x['wait'][1]):.1f} | "
          f"{m(lambda x: x['append'][1]):.1f} | {m(lambda x: x['syncwait'][1]):.1f} | {m(lambda x: x['checkpoint'][1]):.1f} | {m(lambda x: x['gc']):.1f} | "
          f"{m(lambda x: x['gcgen']):.1f} | {m(lambda x: x['rss']):.0f} | {len(rs)}{'' if all(x['ok'] for x in rs) else ' (FAILED)'} |")
PY

# the distributions behind the table, one plot per batch size: each variant's round with the median p99 (of two, the higher)
for batch in $BATCHES; do
  series=()
  for run_dir in "$OUT"/*-b"$batch"-r1; do
    name=$(basename "$run_dir"); name=${name%-b"$batch"-r1}
    series+=("$name=$(ls "$OUT/$name-b$batch"-r*/report.json | paste -sd, -)")
  done
  python3 bench/latency-plot.py "$OUT/latency-b$batch.svg" \
    "ack latency, $((batch * RATE * AGENTS / 1000))k events/s, fsync, $WARMUP s warm-up (median-p99 round of $ROUNDS)" "${series[@]}"
  echo "latency distribution: $OUT/latency-b$batch.svg" >&2
done
