#!/usr/bin/env bash
# Before/after figures of a change, measured in one sitting with runs interleaved (so load drifts hit both):
#   bash bench/compare-builds.sh BEFORE_ROOT AFTER_ROOT [RUNS]
# Each ROOT is a checkout with a built dist/ (e.g. `git worktree add /tmp/before REV && (cd /tmp/before && npm ci)`).
# Prints the median of RUNS (default 5) for: the simulator at 50 receivers (wall, events/s) and at 1000
# receivers (wall); one loopback receiver at MSS 1000 (8 MiB, P=0: Mbit/s); 1 MiB / 3 receivers / MSS 500 /
# P=0.05 (process wall, both modes). Seeds are fixed and printed.
set -euo pipefail
before=$(cd "$1" && pwd); after=$(cd "$2" && pwd); runs=${3:-5}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
node --input-type=module -e "import { writeSeededFile } from '$after/dist/harness/files.js'; writeSeededFile('$tmp/1m', 1 << 20, 'compare-1m'); writeSeededFile('$tmp/8m', 8 << 20, 'compare-8m');"
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
port=47911
transfer() { # ROOT MODE FILE MSS P RECEIVERS -> wall seconds of the client process
  local root=$1 mode=$2 file=$3 mss=$4 p=$5 n=$6 pids=() i
  port=$((port + 1))
  for i in $(seq 2 $((n + 1))); do
    node "$root/dist/src/cli/server.js" --bind 127.0.0.$((100 + i)) --seed $i -q "$port" "$tmp/out$i" "$p" 2>/dev/null >/dev/null & pids+=($!)
  done
  sleep 0.4
  local hosts=(); for i in $(seq 2 $((n + 1))); do hosts+=(127.0.0.$((100 + i))); done
  local t0=$(date +%s.%N)
  node "$root/dist/src/cli/client.js" -q --mode "$mode" "${hosts[@]}" "$port" "$file" "$mss" >/dev/null
  local t1=$(date +%s.%N)
  wait "${pids[@]}"
  for i in $(seq 2 $((n + 1))); do cmp -s "$file" "$tmp/out$i" || { echo "copy $i differs" >&2; exit 1; }; done
  awk "BEGIN {print $t1 - $t0}"
}
for label in sim50-wall sim50-evs sim1000-wall one-mbps lock3 ind3; do for w in before after; do : > "$tmp/$label.$w"; done; done
for r in $(seq 1 "$runs"); do
  for w in before after; do
    root=${!w}
    node "$root/dist/sim/cli.js" --receivers 50 --p 0.1 --seed 7 > "$tmp/sim.txt"
    awk '/^wall/ {print $2}' "$tmp/sim.txt" >> "$tmp/sim50-wall.$w"
    awk '/^wall/ {print $4 * 1e6}' "$tmp/sim.txt" >> "$tmp/sim50-evs.$w"
    node "$root/dist/sim/cli.js" --receivers 1000 --p 0.1 --seed 7 | awk '/^wall/ {print $2}' >> "$tmp/sim1000-wall.$w"
    s=$(transfer "$root" independent "$tmp/8m" 1000 0 1); awk "BEGIN {print 8 * 8388608 / $s / 1e6}" >> "$tmp/one-mbps.$w"
    transfer "$root" lockstep "$tmp/1m" 500 0.05 3 >> "$tmp/lock3.$w"
    transfer "$root" independent "$tmp/1m" 500 0.05 3 >> "$tmp/ind3.$w"
  done
done
printf '%-34s %12s %12s\n' measure before after
for label in sim50-wall sim50-evs sim1000-wall one-mbps lock3 ind3; do
  printf '%-34s %12.3f %12.3f\n' "$label" "$(median < "$tmp/$label.before")" "$(median < "$tmp/$label.after")"
done
echo "runs $runs; machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
