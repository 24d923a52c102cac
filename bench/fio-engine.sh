#!/usr/bin/env bash
# fio with the libnvmf engine (build/src/fio/libnvmf-fio.so) against an NVMe/TCP target:
# runs the job files of bench/fio/ (4k randread QD1 and QD32, 4k randwrite QD32, 128k
# seqread QD16) and prints one line of figures per job: IOPS, MiB/s and the completion
# latency (submission to completion, as fio counts it for async engines) mean and
# percentiles.
#
# Against a running target:   bench/fio-engine.sh --addr 10.0.0.2 --port 4420 --nqn NQN
# Against our own, started here on loopback (nvmf-target --ram 1G on core TGT_CPU, 1
# reactor):                   bench/fio-engine.sh --start-target
# fio itself runs on core FIO_CPU (taskset): on a 2-core machine each side has a core.
#
# Usage: bench/fio-engine.sh [--start-target] [--addr A] [--port P] [--nqn NQN] [--ns N]
#                            [--time S] [--target-poll] [--json DIR] [--only NAME] [-- FIO-ARGS]
#   --start-target  start build/src/tools/nvmf-target (TARGET=...) on 127.0.0.1
#   --addr A        target address (default 127.0.0.1)
#   --port P        target port (default 4420; 4498 with --start-target)
#   --nqn NQN       subsystem NQN, plain colons (default: the quick-start NQN)
#   --ns N          namespace ID (default 1)
#   --time S        seconds per job after 1 s of ramp (default 5)
#   --target-poll   --start-target with --poll (busy-polling reactor)
#   --json DIR      keep fio's JSON output of each job in DIR
#   --only NAME     run only bench/fio/NAME.fio
#   -- FIO-ARGS     passed to every fio run (e.g. --hdgst=1 --ddgst=1 --busy_poll=0)
# Environment: ENGINE (build/src/fio/libnvmf-fio.so), TARGET (build/src/tools/nvmf-target),
#   FIO (fio), TGT_CPU (0), FIO_CPU (1).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)

start=0 addr=127.0.0.1 port='' nqn=nqn.2014-08.org.nvmexpress:nvmf-tcp:quickstart ns=1
time_s=5 tgt_poll='' jsondir='' only='' extra=()
while [ $# -gt 0 ]; do
	case $1 in
	--start-target) start=1; shift ;;
	--addr) addr=${2:?}; shift 2 ;;
	--port) port=${2:?}; shift 2 ;;
	--nqn) nqn=${2:?}; shift 2 ;;
	--ns) ns=${2:?}; shift 2 ;;
	--time) time_s=${2:?}; shift 2 ;;
	--target-poll) tgt_poll=--poll; shift ;;
	--json) jsondir=${2:?}; shift 2 ;;
	--only) only=${2:?}; shift 2 ;;
	--) shift; extra=("$@"); break ;;
	-h | --help) sed -n '2,/^set -euo/{/^#/s/^# \{0,1\}//p}' "$0"; exit 0 ;;
	*) echo "fio-engine: unknown option $1" >&2; exit 2 ;;
	esac
done
[ -n "$port" ] || { [ "$start" = 1 ] && port=4498 || port=4420; }

engine=${ENGINE:-$top/build/src/fio/libnvmf-fio.so}
target=${TARGET:-$top/build/src/tools/nvmf-target}
fio=${FIO:-fio}
tgt_cpu=${TGT_CPU:-0}
fio_cpu=${FIO_CPU:-1}
[ -f "$engine" ] || { echo "fio-engine: $engine is not built (scripts/build release; ENGINE=...)" >&2; exit 2; }
command -v "$fio" >/dev/null || { echo "fio-engine: $fio not found" >&2; exit 2; }

work=$(mktemp -d)
tgt_pid=''
cleanup() {
	if [ -n "$tgt_pid" ]; then
		kill "$tgt_pid" 2>/dev/null || true
		wait "$tgt_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

if [ "$start" = 1 ]; then
	[ -x "$target" ] || { echo "fio-engine: $target is not built (TARGET=...)" >&2; exit 2; }
	taskset -c "$tgt_cpu" "$target" --ram 1G --listen "$addr:$port" --cpus 1 $tgt_poll \
		>"$work/target.log" 2>&1 &
	tgt_pid=$!
	for _ in $(seq 50); do
		grep -q 'listening on' "$work/target.log" 2>/dev/null && break
		sleep 0.1
	done
	grep -q 'listening on' "$work/target.log" || { cat "$work/target.log" >&2; exit 1; }
fi

# fio splits filename= at ':': the NQN's (and an IPv6 address's) colons are escaped
adrfam=ipv4
case $addr in *:*) adrfam=ipv6 ;; esac
export NVMF_FIO_ENGINE=$engine
export NVMF_FIO_TRID="trtype=tcp adrfam=$adrfam traddr=${addr//:/\\:} trsvcid=$port subnqn=${nqn//:/\\:} ns=$ns"
export NVMF_FIO_RUNTIME=$time_s

echo "load: $(uptime | sed 's/.*load average/load average/')"
echo "target: $addr:$port $nqn ns $ns${extra[*]:+, fio ${extra[*]}}"
printf '%-22s %11s %10s %9s %9s %9s %9s\n' job IOPS MiB/s mean_us p50_us p99_us p999_us
failed=0
for job in "$top"/bench/fio/*.fio; do
	name=$(basename "$job" .fio)
	[ -z "$only" ] || [ "$only" = "$name" ] || continue
	out=$work/$name.json
	if ! taskset -c "$fio_cpu" "$fio" --output-format=json --output="$out" "${extra[@]}" \
		"$job" >"$work/$name.txt" 2>&1; then
		echo "$name: FAILED" >&2
		cat "$work/$name.txt" "$out" >&2 2>/dev/null || true
		failed=$((failed + 1))
		continue
	fi
	[ -n "$jsondir" ] && mkdir -p "$jsondir" && cp "$out" "$jsondir/$name.json"
	python3 - "$name" "$out" <<'EOF'
import json, sys
with open(sys.argv[2]) as f:
    text = f.read()
j = json.loads(text[text.index("{"):])   # fio may print notes before the JSON
iops = bw = 0.0
lat = None
for job in j["jobs"]:
    for d in ("read", "write"):
        s = job[d]
        if s["total_ios"]:
            iops += s["iops"]
            bw += s["bw_bytes"] / 1048576.0
            lat = lat or s["clat_ns"]
pct = (lat or {}).get("percentile", {})
us = lambda v: v / 1000.0
print("%-22s %11.0f %10.1f %9.2f %9.2f %9.2f %9.2f" % (
    sys.argv[1], iops, bw, us(lat["mean"]) if lat else 0,
    us(pct.get("50.000000", 0)), us(pct.get("99.000000", 0)), us(pct.get("99.900000", 0))))
EOF
done
[ "$failed" = 0 ] || { echo "fio-engine: $failed job(s) failed" >&2; exit 1; }
