#!/usr/bin/env bash
# What background population of the RAM namespace gives the write path: 4 KiB randwrite
# QD32 (`nvmf perf`, core 1) against a new `nvmf-target --ram SIZE --cpus 1` (core 0) each
# run, in three modes:
#   fill   the default: populated by a background thread after start; measured once the
#          log says the namespace is resident
#   fill0  the default, measured at once after start (population and writes together)
#   lazy   --ram-lazy, the behaviour before: every first write to a page faults it in
# Runs are paired and alternate their order (ABBA, fill against lazy and fill0 against
# lazy); the report is the median of the pairs' IOPS ratios with its range.  The
# namespace is new for every run: on a namespace already written there is nothing to fault.
#
# Usage: bench/ram-fill-ab.sh [PAIRS [SECONDS [SIZE]]]   (default 8 pairs of 5 s, 512M)
# Uses the release build (scripts/build release).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
pairs=${1:-8} secs=${2:-5} size=${3:-512M}
target=$top/build/src/tools/nvmf-target
nvmf=$top/build/src/tools/nvmf
nqn=nqn.2014-08.org.nvmexpress:nvmf-tcp:quickstart
for f in "$target" "$nvmf"; do
	[ -x "$f" ] || { echo "ram-fill-ab: $f is not built (scripts/build release)" >&2; exit 2; }
done
port=${BENCH_PORT:-4490}
while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
work=$(mktemp -d)
tpid=''
cleanup() {
	[ -z "$tpid" ] || { kill "$tpid" 2>/dev/null; wait "$tpid" 2>/dev/null || true; }
	rm -rf "$work"
}
trap cleanup EXIT

run() { # MODE -> IOPS on stdout
	local mode=$1 extra=() t0
	[ "$mode" = lazy ] && extra=(--ram-lazy)
	: >"$work/tgt.log"
	taskset -c 0 "$target" --ram "$size" --cpus 1 --listen "127.0.0.1:$port" "${extra[@]}" \
		>>"$work/tgt.log" 2>&1 &
	tpid=$!
	for _ in $(seq 100); do grep -q 'listening on' "$work/tgt.log" && break; sleep 0.1; done
	if [ "$mode" = fill ]; then
		t0=$(date +%s)
		until grep -q 'namespace is resident' "$work/tgt.log"; do
			[ $(($(date +%s) - t0)) -lt 120 ] || { echo "ram-fill-ab: not resident" >&2; break; }
			sleep 0.1
		done
	fi
	taskset -c 1 "$nvmf" perf -r "trtype:tcp adrfam:ipv4 traddr:127.0.0.1 trsvcid:$port subnqn:$nqn" \
		-c 0x2 -q 32 -o 4096 -w randwrite -t "$secs" --json "$work/out.json" >"$work/perf.txt" 2>&1
	kill "$tpid"
	wait "$tpid" 2>/dev/null || true
	tpid=''
	python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["total"]["iops"])' "$work/out.json"
}

echo "ram-fill-ab: $pairs pairs of $secs s, --ram $size, load $(cut -d' ' -f1 /proc/loadavg)" >&2
declare -a r_fill r_fill0
for ((k = 0; k < pairs; k++)); do
	for a in fill fill0; do
		if [ $((k % 2)) = 0 ]; then
			x=$(run "$a") y=$(run lazy)
		else
			y=$(run lazy) x=$(run "$a")
		fi
		r=$(awk -v x="$x" -v y="$y" 'BEGIN { printf "%.4f", x / y }')
		echo "  pair $((k + 1)) $a ${x%.*} lazy ${y%.*} IOPS: $r" >&2
		if [ "$a" = fill ]; then r_fill+=("$r"); else r_fill0+=("$r"); fi
	done
done
summary() { # NAME RATIOS...
	local n=$1
	shift
	printf '%s\n' "$@" | sort -g | awk -v n="$n" '{ v[NR] = $1 } END {
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%-34s median %.2f, range %.2f-%.2f (%d pairs)\n", n, m, v[1], v[NR], NR }'
}
echo "4k randwrite QD32, IOPS ratio against --ram-lazy (fresh namespace each run):"
summary "default, resident / lazy" "${r_fill[@]}"
summary "default, at once after start / lazy" "${r_fill0[@]}"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
