#!/usr/bin/env bash
# What a second path gives: nvmf perf against nvmf-target between two network namespaces
# joined by two veth links, each shaped to RATE (tc tbf, both ways: veths alone are as fast
# as the CPU, so without a limit a second path has nothing to add). The target has one port
# on each link (both MPTCP listeners, which plain TCP hosts reach as plain TCP).
#
#   host netns  vh1 10.77.1.1 ---- vt1 10.77.1.2  target netns
#               vh2 10.77.2.1 ---- vt2 10.77.2.2
#
# Variants, run in turn in every round (A B C D A B C D ...), medians reported:
#   tcp      plain TCP: one path
#   rr2      libnvmf multipath, iopolicy round-robin: one controller on each link (the
#            NVMe way: two TCP connections per queue, commands alternate between them)
#   mptcp1   MPTCP, no endpoint: one subflow, one path (what MPTCP costs there)
#   mptcp2   MPTCP with a subflow endpoint on vh2: two subflows, two paths
# Workloads: 128k sequential read QD16 (bandwidth) and 4k random read QD32.
# Needs root (network namespaces) and a kernel with MPTCP; the release build (build/).
#
# Usage: bench/paths.sh [-t SECONDS] [-n ROUNDS] [-r RATE]   (default 5, 3, 200mbit)
#   -r none: unshaped links, so the CPU is the limit (2 cores: what the second path costs)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
secs=5 rounds=3 rate=200mbit
while [ $# -gt 0 ]; do
	case $1 in
	-t) secs=${2:?}; shift 2 ;;
	-n) rounds=${2:?}; shift 2 ;;
	-r) rate=${2:?}; shift 2 ;;
	-h | --help) sed -n '2,/^set -euo/{/^#/s/^# \{0,1\}//p}' "$0"; exit 0 ;;
	*) echo "paths: unknown option $1" >&2; exit 2 ;;
	esac
done
target=$top/build/src/tools/nvmf-target
nvmf=$top/build/src/tools/nvmf
[ -x "$target" ] && [ -x "$nvmf" ] || { echo "paths: build first (scripts/build release)" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "paths: needs root (network namespaces)" >&2; exit 2; }
nqn=nqn.2014-08.org.nvmexpress:nvmf-tcp:quickstart
H=nvmf-mpb-h-$$
T=nvmf-mpb-t-$$
work=$(mktemp -d)
tgt_pid='' shm=''
cleanup() {
	[ -n "$tgt_pid" ] && { kill "$tgt_pid" 2>/dev/null; wait "$tgt_pid" 2>/dev/null; }
	ip netns del "$H" 2>/dev/null
	ip netns del "$T" 2>/dev/null
	rm -rf "$work"
	[ -n "$shm" ] && rm -f "$shm"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip netns add "$H"
ip netns add "$T"
have_mptcp=1
[ "$(ip netns exec "$H" sysctl -n net.mptcp.enabled 2>/dev/null)" = 1 ] ||
	{ echo "paths: this kernel offers no MPTCP: only the tcp and rr2 variants" >&2; have_mptcp=0; }
ip -n "$H" link set lo up
ip -n "$T" link set lo up
for i in 1 2; do
	ip link add "vh$i" netns "$H" type veth peer name "vt$i" netns "$T"
	ip -n "$H" addr add "10.77.$i.1/24" dev "vh$i"
	ip -n "$T" addr add "10.77.$i.2/24" dev "vt$i"
	ip -n "$H" link set "vh$i" up
	ip -n "$T" link set "vt$i" up
	ip -n "$H" link set "vh$i" gso_max_size 65536 2>/dev/null || true
	[ "$rate" = none ] && continue
	tc -n "$H" qdisc add dev "vh$i" root tbf rate "$rate" burst 256kb latency 100ms
	tc -n "$T" qdisc add dev "vt$i" root tbf rate "$rate" burst 256kb latency 100ms
done
# what leaves from 10.77.2.1 takes vh2, also to the target's vt1 address
ip -n "$H" rule add from 10.77.2.1 table 177
ip -n "$H" route add 10.77.1.0/24 via 10.77.2.2 dev vh2 table 177
if [ "$have_mptcp" = 1 ]; then
	ip -n "$H" mptcp limits set subflows 2 add_addr_accepted 2
	ip -n "$T" mptcp limits set subflows 2 add_addr_accepted 2
fi

# one subsystem on a port per link; the namespace a 512 MiB file in memory (tmpfs: a
# config's namespaces are files or devices)
shm=$(mktemp -p /dev/shm nvmf-paths.XXXXXX)
truncate -s 512M "$shm"
mptcp_param=
[ "$have_mptcp" = 1 ] && mptcp_param=', "param": {"mptcp": "1"}'
port_json() { # PORTID ADDR
	echo "{\"portid\": $1, \"addr\": {\"trtype\": \"tcp\", \"adrfam\": \"ipv4\",
	 \"traddr\": \"$2\", \"trsvcid\": \"4420\"}$mptcp_param, \"subsystems\": [\"$nqn\"]}"
}
cat >"$work/config.json" <<EOF
{"hosts": [], "ports": [$(port_json 1 10.77.1.2), $(port_json 2 10.77.2.2)],
 "subsystems": [{"nqn": "$nqn", "attr": {"allow_any_host": "1"},
  "namespaces": [{"nsid": 1, "enable": 1,
   "device": {"path": "$shm", "uuid": "5d0c7c1e-8b7e-4f0e-9a43-2c58f1e0b7a1"}}]}]}
EOF
ip netns exec "$T" taskset -c 0 "$target" --config "$work/config.json" --cpus 1 \
	>"$work/target.log" 2>&1 &
tgt_pid=$!
for _ in $(seq 100); do
	ip netns exec "$T" ss -ltn 2>/dev/null | grep -q '10.77.2.2:4420' && break
	sleep 0.1
done
ip netns exec "$T" ss -ltn | grep -q '10.77.2.2:4420' ||
	{ echo "paths: the target does not listen:" >&2; tail -5 "$work/target.log" >&2; exit 1; }
trid1="trtype:tcp adrfam:ipv4 traddr:10.77.1.2 trsvcid:4420 subnqn:$nqn"
trid2="trtype:tcp adrfam:ipv4 traddr:10.77.2.2 trsvcid:4420 subnqn:$nqn"
perf() { ip netns exec "$H" taskset -c 1 timeout 120 "$nvmf" perf -c 0x2 "$@"; }
# fill the namespace: reads then copy real memory
perf -r "$trid1" -q 16 -o 131072 -w write -t $((secs * 2)) >/dev/null 2>&1 || true

run() { # VARIANT WORKLOAD-ARGS... -> "MiB/s IOPS subflows"
	local v=$1 extra=()
	shift
	ip -n "$H" mptcp endpoint flush
	case $v in
	tcp) extra=(-r "$trid1") ;;
	rr2) extra=(-r "$trid1" -r "$trid2" --iopolicy round-robin) ;;
	mptcp1) extra=(-r "$trid1" --mptcp) ;;
	mptcp2) extra=(-r "$trid1" --mptcp); ip -n "$H" mptcp endpoint add 10.77.2.1 dev vh2 subflow ;;
	esac
	perf "$@" -t "$secs" "${extra[@]}" --json "$work/r.json" >"$work/r.txt" 2>&1 ||
		{ echo "paths: $v $* failed:" >&2; tail -5 "$work/r.txt" >&2; echo "0 0 -"; return; }
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); t=d["total"]
sf=d.get("paths", {}).get("mptcp_subflows", ["-"])
print("%.1f %.0f %s" % (t["mibps"], t["iops"], sf[0]))' "$work/r.json"
}

workloads=("sr128k-qd16|-q 16 -o 131072 -w read" "rr4k-qd32|-q 32 -o 4096 -w randread")
variants=(tcp rr2)
[ "$have_mptcp" = 1 ] && variants+=(mptcp1 mptcp2)
echo "Two veth links of $rate each: $rounds rounds of ${secs}s, load $(cut -d' ' -f1 /proc/loadavg)"
declare -A res
for ((r = 1; r <= rounds; r++)); do
	for w in "${workloads[@]}"; do
		IFS='|' read -r wid wargs <<<"$w"
		for v in "${variants[@]}"; do
			read -r -a a <<<"$wargs"
			out=$(run "$v" "${a[@]}")
			res[$wid.$v]+="$out;"
			echo "  round $r $wid $v: ${out% *} MiB/s+IOPS, subflows ${out##* }"
		done
	done
done
for w in "${workloads[@]}"; do
	wid=${w%%|*}
	python3 - "$wid" "${res[$wid.tcp]}" "${res[$wid.rr2]}" "${res[$wid.mptcp1]:-}" \
		"${res[$wid.mptcp2]:-}" <<'EOF'
import statistics, sys
wid = sys.argv[1]
def med(s, i):
    v = [float(x.split()[i]) for x in s.split(";") if x.strip()]
    return statistics.median(v) if v else 0
t, rr, m1, m2 = (med(s, 0) for s in sys.argv[2:6])
ti, rri, m1i, m2i = (med(s, 1) for s in sys.argv[2:6])
r = lambda a, b: "%.2f" % (a / b) if b else "-"
print("%s: TCP one path %.1f MiB/s (%.0f IOPS); multipath round-robin 2 paths %.1f MiB/s "
      "(%.0f IOPS), %s x one path" % (wid, t, ti, rr, rri, r(rr, t)))
if m1:
    print("%s: MPTCP 1 path %.1f MiB/s (%.0f IOPS), MPTCP 2 paths %.1f MiB/s (%.0f IOPS); "
          "MPTCP 1 path / TCP %s, 2 paths / 1 path %s, 2 paths / TCP %s"
          % (wid, m1, m1i, m2, m2i, r(m1, t), r(m2, m1), r(m2, t)))
EOF
done
