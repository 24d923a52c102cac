#!/usr/bin/env bash
# What the target's statistics cost on the I/O path: nvmf perf 4k random read at QD32 and
# QD1 against two nvmf-target binaries, A (without) and B (with), one reactor each on a RAM
# namespace, the same nvmf perf for both.  A and B alternate, the order flipping every
# round (A B, B A, ...): the machine may be loaded, so only ratios within a run mean
# anything.  Besides IOPS, the target's CPU time per I/O (all its threads' run time from
# /proc/PID/task/*/schedstat, over the I/Os done): on a loaded machine IOPS mostly measure
# the scheduler, CPU time per I/O the code.  Prints each run and the medians of B/A per
# workload.  bench/stats-count.c measures the counting alone.
#
# The targets run with --spin-us 0 (asleep whenever idle) unless -s says otherwise: a
# polling window would add the spinning to the CPU time, which depends on the arrival times.
#
# Usage: bench/stats-cost.sh [-t SECONDS] [-n ROUNDS] [-s SPIN_US] TARGET_A TARGET_B [NVMF]
#   (default 5 s, 3 rounds, spin 0; NVMF: build/src/tools/nvmf)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
secs=5 rounds=3 spin=0
while [ $# -gt 0 ]; do
	case $1 in
	-t) secs=${2:?}; shift 2 ;;
	-n) rounds=${2:?}; shift 2 ;;
	-s) spin=${2:?}; shift 2 ;;
	-h | --help) sed -n '2,/^set -euo/{/^#/s/^# \{0,1\}//p}' "$0"; exit 0 ;;
	*) break ;;
	esac
done
a=${1:?target A}
b=${2:?target B}
nvmf=${3:-$top/build/src/tools/nvmf}
nqn=nqn.2024-01.io.nvmf-tcp:stats-cost
work=$(mktemp -d)
pid=''
cleanup() {
	[ -z "$pid" ] || { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true; }
	rm -rf "$work"
}
trap cleanup EXIT
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
cpu_ns() {   # the run time of every thread of process $1, ns
	cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { printf "%d", s }'
}
# run TARGET QD: prints "IOPS MEAN_US CPU_NS_PER_IO" of one nvmf perf run
run() {
	local port p
	for _ in $(seq 5); do
		for _ in $(seq 50); do
			p=$((20000 + RANDOM % 20000))
			if port_free "$p"; then port=$p; break; fi
		done
		"$1" --ram 256M --nqn "$nqn" --listen "127.0.0.1:$port" --cpus 1 --spin-us "$spin" \
			>"$work/t.log" 2>&1 &
		pid=$!
		for _ in $(seq 100); do
			grep -q 'nvmf-target ready' "$work/t.log" && break
			kill -0 "$pid" 2>/dev/null || break   # the port was taken meanwhile: again
			sleep 0.1
		done
		grep -q 'nvmf-target ready' "$work/t.log" && kill -0 "$pid" 2>/dev/null && break
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		pid=''
	done
	[ -n "$pid" ] || { echo "stats-cost: the target does not start" >&2; cat "$work/t.log" >&2; exit 1; }
	c0=$(cpu_ns "$pid")
	"$nvmf" perf -r "traddr:127.0.0.1 trsvcid:$port subnqn:$nqn" -q "$2" -o 4096 \
		-w randread -t "$secs" >"$work/p.out" 2>&1
	c1=$(cpu_ns "$pid")
	kill "$pid"
	wait "$pid" 2>/dev/null || true
	pid=''
	if ! grep -q '^Total' "$work/p.out"; then
		echo "stats-cost: nvmf perf failed:" >&2
		tail -n 5 "$work/p.out" "$work/t.log" >&2
		exit 1
	fi
	awk -v c=$((c1 - c0)) -v t="$secs" '/^Total/ { printf "%s %s %.0f\n", $3, $5, c / ($3 * t) }' \
		"$work/p.out"
}
declare -A res cpu_res
for r in $(seq "$rounds"); do
	for qd in 32 1; do
		order="A B"
		[ $((r % 2)) = 0 ] && order="B A"
		for v in $order; do
			t=$a
			[ $v = B ] && t=$b
			read -r iops mean cpu <<<"$(run "$t" "$qd")" || true
			[ -n "$cpu" ] || exit 1   # run said why
			res[$v$qd$r]=$iops
			cpu_res[$v$qd$r]=$cpu
			echo "round $r QD$qd $v: IOPS $iops mean $mean us, target CPU $cpu ns/IO"
		done
	done
done
for qd in 32 1; do
	ratios=()
	for r in $(seq "$rounds"); do
		ratios+=("$(awk -v x="${res[B$qd$r]}" -v y="${res[A$qd$r]}" 'BEGIN { printf "%.4f", x / y }')")
	done
	med=$(printf '%s\n' "${ratios[@]}" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
	echo "QD$qd: B/A IOPS per round: ${ratios[*]}  median $med"
	ratios=()
	for r in $(seq "$rounds"); do
		ratios+=("$(awk -v x="${cpu_res[B$qd$r]}" -v y="${cpu_res[A$qd$r]}" 'BEGIN { printf "%.4f", x / y }')")
	done
	med=$(printf '%s\n' "${ratios[@]}" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
	echo "QD$qd: B/A target CPU per I/O per round: ${ratios[*]}  median $med"
done
