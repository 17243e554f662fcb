#!/usr/bin/env bash
# WAL start-up benchmark behind docs/BENCHMARKS.md ("WAL recovery"): how long Wal.open takes on a WAL of a given
# shape, for this checkout and a baseline checkout, on copies of the same WAL, interleaved over several rounds, with
# and without the sequence checkpoint (the no-checkpoint case replays every record). Prints a Markdown table of
# medians. The page cache is warm (the WAL was just written or read); a cold cache after a reboot costs more.
#
#   BASELINE=/path/to/other/checkout bench/recovery.sh       # that checkout must have been built (mvn package)
#   RECORDS=2000000 BYTES=200 ROUNDS=5 BASELINE=... bench/recovery.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-5}
RECORDS=${RECORDS:-1000000}
BYTES=${BYTES:-200}
BASELINE=${BASELINE:?set BASELINE to another built checkout to compare with}
OUT=${OUT:-bench-results/recovery-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
FLAGS=$(sed -n 's:.*<holdfast.jvm.flags>\(.*\)</holdfast.jvm.flags>.*:\1:p' pom.xml)

classpath() { # the wal module's classes and dependencies of a checkout
  (cd "$1" && mvn -q -o -pl wal dependency:build-classpath -Dmdep.outputFile="$OUT/cp-$2.txt" >/dev/null)
  echo "$1/wal/target/classes:$(cat "$OUT/cp-$2.txt")"
}
declare -A CP=([current]="$(classpath "$PWD" current)" [baseline]="$(classpath "$BASELINE" baseline)")
run() { java $FLAGS -Xmx2g -cp "${CP[$1]}" bench/RecoveryBench.java "${@:2}" 2>>"$OUT/stderr.log"; }

run current generate "$OUT/wal" "$RECORDS" "$BYTES"
for cfg in current baseline; do
  rm -rf "$OUT/wal-$cfg"; cp -r "$OUT/wal" "$OUT/wal-$cfg"
  run "$cfg" open "$OUT/wal-$cfg" --no-checkpoint >/dev/null # each writes its own checkpoint format once
done
for round in $(seq "$ROUNDS"); do
  for mode in checkpoint no-checkpoint; do
    for cfg in current baseline; do
      arg=; [ "$mode" = no-checkpoint ] && arg=--no-checkpoint
      echo "$cfg $mode $(run "$cfg" open "$OUT/wal-$cfg" $arg)" | tee -a "$OUT/results.txt"
    done
  done
done
size=$(du -sb "$OUT/wal" | cut -f1)
echo
echo "WAL: $RECORDS records of $BYTES payload bytes ($((size / 1048576)) MiB on disk), $ROUNDS rounds, medians:"
echo
echo "| checkout | start | Wal.open ms | recovery ms |"
echo "|---|---|---|---|"
for mode in checkpoint no-checkpoint; do
  for cfg in current baseline; do
    awk -v c="$cfg" -v m="$mode" '$1==c && $2==m {print $3, $4}' "$OUT/results.txt" | sort -n | \
      awk -v c="$cfg" -v m="$mode" '{o[NR]=$1; r[NR]=$2} END {i=int((NR+1)/2); printf "| %s | %s | %d | %d |\n", c, m, o[i], r[i]}'
  done
done
