#!/usr/bin/env bash
# Shipper benchmark behind docs/BENCHMARKS.md ("Shipper (node agent)"): a file-heavy workload (bench/fileload.c:
# create/write/close/rename/unlink in a watched directory, plus NOISE open/write/close of a file outside it per
# iteration) run bare, under the Holdfast shipper, and under inotifywait, fatrace and bpftrace watching the same
# tree, and under "empty-probe" (two eBPF programs that do nothing on the probe's own hooks: the floor any
# syscall-hook watcher pays). Configurations are interleaved within each round (the order rotates from round to
# round), several rounds; throughput and the workload's own CPU time are reported as ratios to the bare run of the
# same round, and the table shows medians.
#
#   bench/shipper.sh                                  # ROUNDS=5 ITERATIONS=50000 NOISE=10
#   ROUNDS=3 CONFIGS="bare holdfast" bench/shipper.sh
#   BASELINE=/path/to/other/checkout CONFIGS="bare holdfast baseline" bench/shipper.sh   # this build vs another
#
# Needs root (eBPF, fanotify). Installs the peers (inotify-tools fatrace bpftrace) when missing and mounts tracefs.
# Results: bench-results/shipper-<timestamp>/ (runs.jsonl: one JSON line per run; summary.md: the table).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-5}
ITERATIONS=${ITERATIONS:-50000}
NOISE=${NOISE:-10}
CONFIGS=${CONFIGS:-"bare holdfast empty-probe inotifywait fatrace bpftrace"}
# configuration "baseline": the shipper of another checkout (e.g. a git worktree of an earlier commit), run the same way
BASELINE=${BASELINE:-}
GRPC_PORT=${GRPC_PORT:-34317}
HTTP_PORT=${HTTP_PORT:-38080}
SHIPPER_METRICS_PORT=${SHIPPER_METRICS_PORT:-39090}
# Extra JVM flags for the shipper; empty = the launcher's own shipper defaults (small heap, serial GC), as users run it.
SHIPPER_JAVA_OPTS=${SHIPPER_JAVA_OPTS:-}
SETTLE_MAX=${SETTLE_MAX:-120} # seconds to wait for a watcher to finish after the workload
OUT=${OUT:-bench-results/shipper-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$OUT"
OUT=$(realpath "$OUT")
# short path: bpftrace (0.17) refuses string literals over 64 bytes; /tmp is on the same filesystem as the checkout
TREE=${TREE:-/tmp/hf-shipbench-$$}
WATCH="$TREE/watched"  # the watched tree
NOISE_DIR="$TREE/noise" # outside it
RUNS="$OUT/runs.jsonl"
: > "$RUNS"

[ "$(id -u)" = 0 ] || { echo "shipper.sh: needs root (eBPF, fanotify)" >&2; exit 1; }
. bench/lib.sh # for ports_free: this script has configurations, not the A/B sides of bench_init
BENCH_NAME=shipper
ports_free "$GRPC_PORT" "$HTTP_PORT" "$SHIPPER_METRICS_PORT"
missing=
command -v inotifywait >/dev/null || missing="$missing inotify-tools"
command -v fatrace >/dev/null || missing="$missing fatrace"
command -v bpftrace >/dev/null || missing="$missing bpftrace"
if [ -n "$missing" ]; then
  echo "installing$missing" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y $missing >&2
fi
[ -e /sys/kernel/tracing/events ] || mount -t tracefs nodev /sys/kernel/tracing
ulimit -l unlimited 2>/dev/null || true # bpftrace asks for it (this kernel charges BPF memory to the cgroup anyway)

gcc -O2 -Wall -o "$OUT/fileload" bench/fileload.c
if [[ " $CONFIGS " == *" empty-probe "* ]]; then
  clang -O2 -g -target bpf -I"/usr/include/$(gcc -dumpmachine)" -c bench/emptyprobe.bpf.c -o "$OUT/emptyprobe.bpf.o"
  gcc -O2 -Wall -o "$OUT/emptyprobe" bench/emptyprobe.c -lbpf
fi
./holdfast --version >/dev/null # builds on first use
if [[ " $CONFIGS " == *" baseline "* ]]; then
  [ -x "$BASELINE/holdfast" ] || { echo "shipper.sh: configuration baseline needs BASELINE=<checkout with ./holdfast>" >&2; exit 2; }
  "$BASELINE/holdfast" --version >/dev/null
fi
CLK_TCK=$(getconf CLK_TCK)
if [[ " $CONFIGS " == *" holdfast "* ]] && ! ./holdfast --help 2>/dev/null | grep -q "^  shipper "; then
  echo "shipper.sh: this build has no 'holdfast shipper' command; measuring the other configurations only" >&2
  CONFIGS=$(echo " $CONFIGS " | sed 's/ holdfast / /')
fi

now() { date +%s.%N; }
cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; } # utime + stime
hwm_kib() { awk '/^VmHWM/ {print $2}' "/proc/$1/status"; }
metrics() { curl -sf "http://127.0.0.1:$1/metrics" || true; }
# sum of a metric over all its label sets (or one exact series when NAME carries labels)
metric_sum() { awk -v n="$1" '$1 == n || index($1, n "{") == 1 {s += $2} END {printf "%.0f", s + 0}'; }

intake_pid=
wpid=
cleanup() {
  for p in $wpid $intake_pid; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$TREE"
}
trap cleanup EXIT

# one intake for the whole benchmark; the shipper's events are also counted here (WAL appended events)
./holdfast intake --kafka none --data "$OUT/intake-data" --grpc-port "$GRPC_PORT" --http-port "$HTTP_PORT" \
  > "$OUT/intake.log" 2>&1 &
intake_pid=$!
for _ in $(seq 600); do curl -sf "http://127.0.0.1:$HTTP_PORT/readyz" >/dev/null && break; sleep 0.1; done
curl -sf "http://127.0.0.1:$HTTP_PORT/readyz" >/dev/null || { echo "intake did not become ready" >&2; exit 1; }

# bpftrace: in-kernel prefix predicate on the path of open/openat (O_CREAT), rename*, unlink*; the fds it opened are
# tracked in a map so the first write (MODIFY) and the close after a write (CLOSE_WRITE) are printed too: one line
# per watched operation, 5 per iteration, like the shipper. Paths are compared as the user passed them (no
# resolution of relative paths, no d_path walk), and rename/unlink are printed at syscall entry (no success check).
bpftrace_script() {
  local p="$WATCH/" n=$((${#WATCH} + 1))
  cat <<EOF
tracepoint:syscalls:sys_enter_openat /(args->flags & 64) && strncmp(str(args->filename), "$p", $n) == 0/ { @cr[tid] = 1; }
tracepoint:syscalls:sys_enter_open /(args->flags & 64) && strncmp(str(args->filename), "$p", $n) == 0/ { @cr[tid] = 1; }
tracepoint:syscalls:sys_exit_openat,tracepoint:syscalls:sys_exit_open /@cr[tid]/ {
  if (args->ret >= 0) { @fds[pid, args->ret] = 1; printf("CREATE pid=%d fd=%d\n", pid, args->ret); }
  delete(@cr[tid]);
}
tracepoint:syscalls:sys_enter_write /@fds[pid, args->fd] == 1/ { @fds[pid, args->fd] = 2; printf("MODIFY pid=%d fd=%d\n", pid, args->fd); }
tracepoint:syscalls:sys_enter_close /@fds[pid, args->fd]/ {
  if (@fds[pid, args->fd] == 2) { printf("CLOSE_WRITE pid=%d fd=%d\n", pid, args->fd); }
  delete(@fds[pid, args->fd]);
}
tracepoint:syscalls:sys_enter_rename /strncmp(str(args->oldname), "$p", $n) == 0/ { printf("RENAME %s %s\n", str(args->oldname), str(args->newname)); }
tracepoint:syscalls:sys_enter_renameat,tracepoint:syscalls:sys_enter_renameat2 /strncmp(str(args->oldname), "$p", $n) == 0/ { printf("RENAME %s %s\n", str(args->oldname), str(args->newname)); }
tracepoint:syscalls:sys_enter_unlink /strncmp(str(args->pathname), "$p", $n) == 0/ { printf("UNLINK %s\n", str(args->pathname)); }
tracepoint:syscalls:sys_enter_unlinkat /strncmp(str(args->pathname), "$p", $n) == 0/ { printf("UNLINK %s\n", str(args->pathname)); }
END { clear(@cr); clear(@fds); }
EOF
}

# wait until FILE has stopped growing for 1 s (the watcher has written everything it will write); GREW_AT is the
# time it last grew (the end of the watcher's work, without the second of waiting)
settle_file() {
  local file=$1 last=-1 same=0 size
  GREW_AT=$(now)
  for _ in $(seq $((SETTLE_MAX * 5))); do
    size=$(stat -c %s "$file" 2>/dev/null || echo 0)
    if [ "$size" = "$last" ]; then same=$((same + 1)); [ "$same" -ge 5 ] && return 0; else same=0; last=$size; GREW_AT=$(now); fi
    sleep 0.2
  done
}

# bpftrace stops on SIGINT (its Ctrl-C) and can sit through a SIGTERM; anything still running after 10 s is killed
stop_watcher() { # config pid
  local sig=TERM
  [ "$1" = bpftrace ] && sig=INT
  kill -"$sig" "$2" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$2" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$2" 2>/dev/null || true
  wait "$2" 2>/dev/null || true
}

run() { # config round
  local cfg=$1 round=$2 tag="$1-r$2" out="$OUT/$1-r$2.out" ready=1
  local expected=$((ITERATIONS * 5))
  rm -rf "$TREE"
  mkdir -p "$WATCH" "$NOISE_DIR"
  wpid=
  case $cfg in
    bare) ;;
    holdfast|baseline)
      local launcher=./holdfast
      [ "$cfg" = baseline ] && launcher="$BASELINE/holdfast"
      HOLDFAST_JAVA_OPTS="$SHIPPER_JAVA_OPTS" "$launcher" shipper --intake "127.0.0.1:$GRPC_PORT" --watch "$WATCH/" \
        --spool "$OUT/spool-$tag" --metrics-port "$SHIPPER_METRICS_PORT" --source ebpf > "$out" 2>&1 &
      wpid=$!
      ready=0
      for _ in $(seq 600); do
        metrics "$SHIPPER_METRICS_PORT" | grep -q '^holdfast_shipper_source_total' && { ready=1; break; }
        kill -0 "$wpid" 2>/dev/null || break
        sleep 0.1
      done
      ;;
    empty-probe)
      "$OUT/emptyprobe" "$OUT/emptyprobe.bpf.o" > "$out" 2>&1 &
      wpid=$!
      ready=0
      for _ in $(seq 100); do grep -q '^attached' "$out" 2>/dev/null && { ready=1; break; }; sleep 0.1; done
      ;;
    inotifywait)
      inotifywait -m -r -q -e create,modify,close_write,moved_from,moved_to,delete --format '%e %w%f' \
        -o "$out" "$WATCH" 2> "$out.err" &
      wpid=$!
      # -q hides "Watches established."; an inotify watch on one directory is in place once the process runs
      sleep 1
      ;;
    fatrace)
      # fanotify marks the whole mount of the current directory (-c); it cannot be limited to a subtree in the
      # kernel, so it reports the noise and everything else on this filesystem too
      (cd "$TREE" && exec fatrace -c -o "$out") 2> "$out.err" &
      wpid=$!
      sleep 1
      ;;
    bpftrace)
      bpftrace_script > "$OUT/watch.bt"
      bpftrace -o "$out" "$OUT/watch.bt" 2> "$out.err" &
      wpid=$!
      ready=0
      for _ in $(seq 600); do grep -q '^Attaching' "$out" 2>/dev/null && { ready=1; break; }; sleep 0.1; done
      ;;
  esac
  [ "$ready" = 1 ] || { echo "$tag: watcher did not start, see $out" >&2; return 1; }

  local ticks0=0 wal0 t0 t1 tdone
  [ -z "$wpid" ] || ticks0=$(cpu_ticks "$wpid")
  wal0=$(metrics "$HTTP_PORT" | metric_sum holdfast_wal_appended_events_total)
  t0=$(now)
  "$OUT/fileload" "$WATCH" "$NOISE_DIR" --iterations "$ITERATIONS" --noise "$NOISE" > "$OUT/load-$tag.json"
  t1=$(now)

  local captured=0 drained=0 dropped=0 kdropped=0 pending=0 wal=0 ticks1=0 hwm=0 lost=0
  tdone=$t1
  case $cfg in
    holdfast|baseline)
      # complete when the spool is empty and every expected event is acknowledged; otherwise when acknowledged
      # has not moved for 3 s with the spool empty (or SETTLE_MAX)
      local last=-1 still=0 m
      for _ in $(seq $((SETTLE_MAX * 10))); do
        m=$(metrics "$SHIPPER_METRICS_PORT")
        captured=$(metric_sum holdfast_shipper_acknowledged_events_total <<< "$m")
        pending=$(metric_sum holdfast_shipper_spool_pending_events <<< "$m")
        if [ "$captured" != "$last" ]; then last=$captured; still=0; tdone=$(now); else still=$((still + 1)); fi
        [ "$pending" = 0 ] && [ "$captured" -ge "$expected" ] && break
        [ "$pending" = 0 ] && [ "$still" -ge 30 ] && break
        sleep 0.1
      done
      sleep 0.5 # one more look: nothing beyond the expected count may arrive
      m=$(metrics "$SHIPPER_METRICS_PORT")
      echo "$m" > "$OUT/metrics-$tag.txt"
      captured=$(metric_sum holdfast_shipper_acknowledged_events_total <<< "$m")
      drained=$(metric_sum holdfast_shipper_drained_events_total <<< "$m")
      dropped=$(metric_sum holdfast_shipper_dropped_events_total <<< "$m")
      kdropped=$(metric_sum 'holdfast_shipper_source_total{counter="dropped"}' <<< "$m")
      pending=$(metric_sum holdfast_shipper_spool_pending_events <<< "$m")
      wal=$(( $(metrics "$HTTP_PORT" | metric_sum holdfast_wal_appended_events_total) - wal0 ))
      ;;
    inotifywait|bpftrace)
      settle_file "$out"
      tdone=$GREW_AT
      ;;
    fatrace)
      # fatrace sees the whole filesystem (other processes too), so its output never stops growing: write a marker
      # file after the workload and wait for it (fanotify queues events in order)
      echo end > "$NOISE_DIR/end-marker-$tag"
      for _ in $(seq $((SETTLE_MAX * 10))); do grep -q "end-marker-$tag" "$out" && break; sleep 0.1; done
      tdone=$(now)
      ;;
  esac
  if [ -n "$wpid" ]; then
    ticks1=$(cpu_ticks "$wpid")
    hwm=$(hwm_kib "$wpid")
    stop_watcher "$cfg" "$wpid"
    wpid=
  fi
  case $cfg in
    inotifywait) captured=$(grep -c " $WATCH/" "$out" || true); lost=$(grep -c Q_OVERFLOW "$out" || true); expected=$((ITERATIONS * 6)) ;;
    # fanotify reports create/delete/move on the directory and merges events; the file's own events carry the
    # path of the fd when fatrace reads it, "(deleted)" once unlinked: lines are counted, not matched 1:1
    fatrace) captured=$(grep '^fileload(' "$out" | grep -c -e " $WATCH" -e '(deleted)' || true); expected=0 ;;
    bpftrace) captured=$(grep -c -E '^(CREATE|MODIFY|CLOSE_WRITE|RENAME|UNLINK) ' "$out" || true)
              lost=$(cat "$out" "$out.err" | { grep -oE 'Lost [0-9]+' || true; } | awk '{s += $2} END {print s + 0}') ;;
    bare|empty-probe) expected=0 ;;
  esac
  python3 - "$cfg" "$round" "$OUT/load-$tag.json" "$t0" "$t1" "$tdone" "$((ticks1 - ticks0))" "$CLK_TCK" "${hwm:-0}" \
    "$expected" "$captured" "$drained" "$dropped" "$kdropped" "$pending" "$wal" "$lost" >> "$RUNS" <<'PY'
import json, sys
a = sys.argv[1:]
load = json.load(open(a[2]))
t0, t1, tdone = float(a[3]), float(a[4]), float(a[5])
cpu = int(a[6]) / int(a[7])
window = max(tdone, t1) - t0
print(json.dumps({
    "config": a[0], "round": int(a[1]), "iterations": load["iterations"], "elapsed_s": load["elapsed_s"],
    "workload_cpu_s": load["cpu_s"],
    "watched_ops_per_s": load["watched_ops_per_s"], "iterations_per_s": load["iterations_per_s"],
    "window_s": round(window, 3), "cpu_s": round(cpu, 3), "cpu_pct": round(100 * cpu / window, 1),
    "rss_peak_mib": round(int(a[8]) / 1024, 1), "expected": int(a[9]), "captured": int(a[10]),
    "drained": int(a[11]), "dropped": int(a[12]), "kernel_dropped": int(a[13]), "spool_pending": int(a[14]),
    "wal_appended": int(a[15]), "lost": int(a[16]),
    "drained_per_s": round(int(a[11]) / window, 1) if int(a[11]) else 0}))
PY
  tail -1 "$RUNS" >&2
  rm -rf "$TREE" "$OUT/spool-$tag"
}

read -r -a cfgs <<< "$CONFIGS"
for round in $(seq "$ROUNDS"); do
  n=${#cfgs[@]}
  for i in $(seq 0 $((n - 1))); do
    run "${cfgs[$(( (i + round - 1) % n ))]}" "$round"
  done
done

python3 - "$RUNS" "$ITERATIONS" "$NOISE" "$ROUNDS" <<'PY' | tee "$OUT/summary.md"
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
med = statistics.median
bare = {r["round"]: r["watched_ops_per_s"] for r in runs if r["config"] == "bare"}
bare_cpu = {r["round"]: r["workload_cpu_s"] for r in runs if r["config"] == "bare"}
order = ["bare", "holdfast", "baseline", "empty-probe", "inotifywait", "fatrace", "bpftrace"]
cfgs = sorted({r["config"] for r in runs}, key=lambda c: order.index(c) if c in order else 99)
print(f"{sys.argv[2]} iterations x (create, write, close, rename, unlink) in the watched dir + {sys.argv[3]} noise "
      f"open/write/close outside it per iteration; {sys.argv[4]} rounds, medians\n")
print("| configuration | watched ops/s | ratio to bare (min–max) | workload CPU ratio (min–max) | events expected | captured | drops | CPU s | CPU % of one core | peak RSS MiB | events/s drained | runs |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|")
for c in cfgs:
    rs = [r for r in runs if r["config"] == c]
    ratios = [r["watched_ops_per_s"] / bare[r["round"]] for r in rs if r["round"] in bare]
    ratio = f"{med(ratios):.2f} ({min(ratios):.2f}–{max(ratios):.2f})" if ratios else "-"
    # bare's CPU time over this configuration's: how much longer the workload itself ran on a CPU (the watcher's
    # in-kernel work is charged to it), apart from any time it waited for a CPU the watcher was using
    cpu_ratios = [bare_cpu[r["round"]] / r["workload_cpu_s"] for r in rs if r["round"] in bare_cpu]
    cpu_ratio = f"{med(cpu_ratios):.2f} ({min(cpu_ratios):.2f}–{max(cpu_ratios):.2f})" if cpu_ratios else "-"
    if c == "bare":
        print(f"| bare | {med(r['watched_ops_per_s'] for r in rs):,.0f} | 1.00 | 1.00 | - | - | - | - | - | - | - | {len(rs)} |")
        continue
    exp = med(r["expected"] for r in rs)
    exp = f"{exp:,.0f}" if exp else "n/a"
    capt = [r["captured"] for r in rs]
    capt_s = f"{med(capt):,.0f}" + ("" if min(capt) == max(capt) else f" ({min(capt):,}–{max(capt):,})")
    drops = [r["dropped"] + r["kernel_dropped"] + r["lost"] for r in rs]
    drops_s = f"{max(drops):,} (max)"
    drained = f"{med(r['drained_per_s'] for r in rs):,.0f}" if c in ("holdfast", "baseline") else "-"
    print(f"| {c} | {med(r['watched_ops_per_s'] for r in rs):,.0f} | {ratio} | {cpu_ratio} | {exp} | {capt_s} | {drops_s} | "
          f"{med(r['cpu_s'] for r in rs):.2f} | {med(r['cpu_pct'] for r in rs):.0f} | "
          f"{med(r['rss_peak_mib'] for r in rs):.0f} (max {max(r['rss_peak_mib'] for r in rs):.0f}) | {drained} | {len(rs)} |")
PY
echo "raw runs: $RUNS" >&2
