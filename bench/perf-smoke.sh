#!/usr/bin/env bash
# `nvmf perf` against our own target on loopback: the figures the project tracks (4k randread
# QD1 latency and QD32 IOPS, 4k randwrite QD32, 128k seqread QD16, digests at QD32,
# event-driven --no-poll against busy-poll), then the --verify runs, which must find no
# mismatch, and one that a second, non-verifying writer corrupts on purpose, which must fail.
#
# The target runs on core 0 (taskset, --cpus 1), perf on core 1 (-c 0x2): on a 2-core machine
# each side has a core of its own.  Any other load on the machine (builds, qemu) skews the
# figures: look at `uptime` first.
#
# Usage: bench/perf-smoke.sh [--time S] [--port P] [--json DIR] [--target-poll] [--no-verify]
#   --time S        seconds per run (default 5)
#   --port P        port of the target it starts (default 4499)
#   --json DIR      keep each run's `nvmf perf --json` output in DIR
#   --target-poll   start the target with --poll (busy-polling reactors)
#   --no-verify     only the figures
# Environment: PERF (default: build/src/tools/nvmf perf), TARGET (build/src/tools/nvmf-target),
#   TGT_CPU (0), PERF_MASK (0x2).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)

time_s=5 port=4499 jsondir='' tgt_poll='' verify=1
while [ $# -gt 0 ]; do
	case $1 in
	--time) time_s=${2:?}; shift 2 ;;
	--port) port=${2:?}; shift 2 ;;
	--json) jsondir=${2:?}; shift 2 ;;
	--target-poll) tgt_poll=--poll; shift ;;
	--no-verify) verify=0; shift ;;
	-h | --help) sed -n '2,/^set -euo/{/^#/s/^# \{0,1\}//p}' "$0"; exit 0 ;;
	*) echo "perf-smoke: unknown option $1" >&2; exit 2 ;;
	esac
done

read -r -a perf <<<"${PERF:-$top/build/src/tools/nvmf perf}"
target=${TARGET:-$top/build/src/tools/nvmf-target}
tgt_cpu=${TGT_CPU:-0}
mask=${PERF_MASK:-0x2}
nqn=nqn.2014-08.org.nvmexpress:nvmf-tcp:quickstart
trid="trtype:tcp adrfam:ipv4 traddr:127.0.0.1 trsvcid:$port subnqn:$nqn"

[ -x "${perf[0]}" ] || { echo "perf-smoke: ${perf[0]} is not built (PERF=...)" >&2; exit 2; }
[ -x "$target" ] || { echo "perf-smoke: $target is not built (TARGET=...)" >&2; exit 2; }

work=$(mktemp -d)
tgt_pid=''
cleanup() {
	[ -n "$tgt_pid" ] && kill "$tgt_pid" 2>/dev/null && wait "$tgt_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

taskset -c "$tgt_cpu" "$target" --ram 1G --listen "127.0.0.1:$port" --cpus 1 $tgt_poll \
	>"$work/target.log" 2>&1 &
tgt_pid=$!
for _ in $(seq 50); do
	grep -q 'listening on' "$work/target.log" 2>/dev/null && break
	sleep 0.1
done
grep -q 'listening on' "$work/target.log" || { cat "$work/target.log" >&2; exit 1; }

echo "load: $(uptime | sed 's/.*load average/load average/')"
printf '%-28s %11s %10s %9s %9s %9s %9s\n' run IOPS MiB/s mean_us p50_us p99_us p999_us
failed=0

# run NAME PERF-ARGS...: one perf run, one line of figures
run() {
	local name=$1 out="$work/$1.json"
	shift
	if ! "${perf[@]}" -r "$trid" -t "$time_s" -c "$mask" --json "$out" "$@" \
		>"$work/$name.txt" 2>&1; then
		echo "$name: FAILED" >&2
		cat "$work/$name.txt" >&2
		failed=$((failed + 1))
		return 0
	fi
	[ -n "$jsondir" ] && mkdir -p "$jsondir" && cp "$out" "$jsondir/$name.json"
	python3 - "$name" "$out" <<'EOF'
import json, sys
t = json.load(open(sys.argv[2]))["total"]
l = t["lat_us"]
print("%-28s %11.0f %10.1f %9.2f %9.2f %9.2f %9.2f" %
      (sys.argv[1], t["iops"], t["mibps"], l["mean"], l["p50"], l["p99"], l["p999"]))
EOF
}

run randread-4k-qd1 -q 1 -o 4096 -w randread
run randread-4k-qd32 -q 32 -o 4096 -w randread
run randwrite-4k-qd32 -q 32 -o 4096 -w randwrite
run read-128k-qd16 -q 16 -o 131072 -w read
run randread-4k-qd32-digests -q 32 -o 4096 -w randread -H -I
run randwrite-4k-qd32-digests -q 32 -o 4096 -w randwrite -H -I
run randread-4k-qd1-nopoll -q 1 -o 4096 -w randread --no-poll
run randread-4k-qd32-nopoll -q 32 -o 4096 -w randread --no-poll

if [ "$verify" = 1 ]; then
	echo
	for v in "randrw -M 50" "randwrite" "randread" "rw -M 70 -o 16384" "write -o 131072 -q 8"; do
		name="verify-${v%% *}"
		# shellcheck disable=SC2086  # $v holds several arguments
		if "${perf[@]}" -r "$trid" -t 2 -c "$mask" -q 16 -o 4096 -V -H -I -w $v \
			>"$work/$name.txt" 2>&1; then
			echo "$name: ok, $(grep '^Verify:' "$work/$name.txt" | tail -1)"
		else
			echo "$name: FAILED" >&2
			cat "$work/$name.txt" >&2
			failed=$((failed + 1))
		fi
	done
	# a second writer overwrites the verifier's blocks: it must report mismatches and fail
	"${perf[@]}" -r "$trid" -t 3 -c "$mask" -q 16 -o 4096 -V -w randrw >"$work/neg.txt" 2>&1 &
	vpid=$!
	sleep 1
	"${perf[@]}" -r "$trid" -t 1 -c "$mask" -q 16 -o 4096 -w randwrite >/dev/null 2>&1 || true
	if wait "$vpid"; then
		echo "verify-negative: FAILED (a corrupting writer went unnoticed)" >&2
		failed=$((failed + 1))
	else
		echo "verify-negative: ok, $(grep '^Verify:' "$work/neg.txt" | tail -1)"
	fi
fi

[ "$failed" = 0 ] || { echo "perf-smoke: $failed run(s) failed" >&2; exit 1; }
