# Shared by the benchmark scripts that compare this build with another (BASELINE=<checkout>) in interleaved rounds:
# the output directory, the two builds, the order they take in each round, and the wait for an intake's /readyz.
# Source it after `cd` to the checkout's top; `bench_init NAME PORT...` first.

# bench_init NAME PORT...: refuses to start while something listens on a port the script will use (ports_free); sets
# OUT (bench-results/NAME-<time> unless given; made, and absolute, because a BASELINE launcher runs from its own
# checkout) and SIDES ("this", or "baseline this" when BASELINE names a checkout); builds both.
bench_init() {
  BENCH_NAME=$1
  shift
  ports_free "$@"
  BASELINE=${BASELINE:-}
  OUT=${OUT:-bench-results/$BENCH_NAME-$(date -u +%Y%m%dT%H%M%SZ)}
  mkdir -p "$OUT"
  OUT=$(cd "$OUT" && pwd)
  SIDES=this
  if [ -n "$BASELINE" ]; then
    [ -x "$BASELINE/holdfast" ] || { echo "$BENCH_NAME.sh: BASELINE must be a checkout with ./holdfast" >&2; exit 2; }
    "$BASELINE/holdfast" --version >/dev/null
    SIDES="baseline this"
  fi
  ./holdfast --version >/dev/null # builds on first use
}

# bench_order ROUND: the sides in that round's order. They take turns going first, so that neither always runs right
# after the other (on the pages it just read, or while its writes are still being written back).
bench_order() {
  if [ $(($1 % 2)) -eq 0 ]; then
    echo "$SIDES" | awk '{for (i = NF; i > 0; i--) printf "%s%s", $i, (i > 1 ? " " : "")}'
  else
    echo "$SIDES"
  fi
}

# bench_launcher SIDE: the ./holdfast that side runs.
bench_launcher() {
  if [ "$1" = baseline ]; then echo "$BASELINE/holdfast"; else echo ./holdfast; fi
}

now_ms() { date +%s%3N; }

# ports_free PORT...: exits naming the first port something already listens on. An intake left there by an earlier
# run would answer /readyz and take the load in place of the build being measured.
ports_free() {
  local p
  for p in "$@"; do
    if [ -n "$(ss -Hltn "sport = :$p")" ]; then
      echo "$BENCH_NAME.sh: port $p is already in use: $(ss -Hltnp "sport = :$p" | head -1)" >&2
      exit 2
    fi
  done
}

# wait_ready PID HTTP_PORT LOG [POLL_SECONDS]: until the intake answers /readyz 200; exits naming LOG if it died.
wait_ready() {
  until curl -sf -o /dev/null "http://127.0.0.1:$2/readyz"; do
    kill -0 "$1" 2>/dev/null || { echo "$BENCH_NAME.sh: the intake exited; see $3" >&2; exit 1; }
    sleep "${4:-0.01}"
  done
}

# median_ms LABEL NOUN: the median and range of the millisecond figures on stdin, one per line.
median_ms() {
  sort -n | awk -v s="$1" -v noun="$2" \
    '{v[NR]=$1} END {printf "%s: median %d ms, range %d-%d ms over %d %s\n", s, v[int((NR+1)/2)], v[1], v[NR], NR, noun}'
}
