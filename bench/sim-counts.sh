#!/usr/bin/env bash
# The simulator's cost in counts instead of seconds, for comparing builds on a noisy machine (wall and CPU time
# of one build spread by +-30 % between identical runs here; instruction counts repeat to 0.03 %, cache misses
# to a few per cent):
#   bash bench/sim-counts.sh BEFORE_ROOT AFTER_ROOT [RECEIVERS] [SIMULATED_CACHES]
# Each ROOT is a checkout with a built dist/. Runs `node dist/sim/cli.js --receivers RECEIVERS --p 0.1 --seed 7`
# (default 200) under valgrind's cachegrind (`apt-get install valgrind`), with node --single-threaded so that
# the JIT's and GC's work is counted on one thread and in the same order every run, and prints per build:
# instructions executed, and with SIMULATED_CACHES=yes (the default; ~2x slower) the first-level instruction and
# data cache misses of cachegrind's model of this machine's caches. Two builds run at once (one per core).
# About 80 s per build at 200 receivers without the cache model, 6-7 min at 1000 with it.
set -euo pipefail
command -v valgrind >/dev/null || { echo "valgrind is not installed (apt-get install valgrind)" >&2; exit 2; }
before=$(cd "$1" && pwd); after=$(cd "$2" && pwd); receivers=${3:-200}; caches=${4:-yes}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
count() { # LABEL ROOT
  valgrind --tool=cachegrind --cache-sim="$caches" --cachegrind-out-file=/dev/null \
    node --single-threaded "$2/dist/sim/cli.js" --receivers "$receivers" --p 0.1 --seed 7 > "$tmp/$1.out" 2> "$tmp/$1.err"
}
count before "$before" & count after "$after" & wait
field() { awk -v k="$2" '$0 ~ k {gsub(",", "", $0); for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+$/) {print $i; exit}}' "$tmp/$1.err"; }
printf '%-28s %16s %16s %8s\n' "receivers $receivers" before after ratio
for row in "instructions| I +refs" "I1 misses| I1 +misses" "D1 misses| D1 +misses"; do
  label=${row%%|*}; key=${row#*|}
  b=$(field before "$key"); a=$(field after "$key")
  [ -n "$b" ] && [ -n "$a" ] && printf '%-28s %16s %16s %8.3f\n' "$label" "$b" "$a" "$(awk "BEGIN {print $a / $b}")"
done
grep -h '^events' "$tmp/before.out" "$tmp/after.out" | sed 's/^/  /'
