#!/usr/bin/env bash
# libnvmf multipath over two network links: a host network namespace and a target network
# namespace joined by two veth pairs (10.88.1.0/24, 10.88.2.0/24), one nvmf-target
# listening on both addresses, `nvmf perf -V` with two -r paths (round-robin) while link 1
# is set down, then up again: no I/O error, no mismatch, the longest wait between two
# completions (the failover time: link down to I/O completing on the other path; goal 1 s,
# about 0.45-0.65 s measured: libnvmf's stall detection, 500 ms) within 1.5 s (slack for a
# loaded machine), and path 1 back (reconnected) at the end.  Needs root (network namespaces); exits 77
# (skipped) without.  Everything it creates is removed on exit.
#
# Environment (set by meson): NVMF_TARGET, NVMF_CLI.
set -uo pipefail

target=${NVMF_TARGET:?NVMF_TARGET: the nvmf-target binary}
cli=${NVMF_CLI:?NVMF_CLI: the nvmf binary}
nqn=nqn.2024-01.io.nvmf-tcp.test:netns
hns=nvmfmp-h-$$
tns=nvmfmp-t-$$
work=$(mktemp -d)
tgt_pid=

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; [ -f "$work/target.log" ] && tail -20 "$work/target.log"; exit 1; }

# shellcheck source=netns.sh
. "$(dirname "$0")/netns.sh"
cleanup() {
	[ -n "$tgt_pid" ] && kill "$tgt_pid" 2>/dev/null && wait "$tgt_pid" 2>/dev/null
	netns_cleanup
	rm -rf "$work"
}
trap cleanup EXIT

[ "$(id -u)" = 0 ] || skip "not root"
command -v ip >/dev/null || skip "no ip (iproute2)"
netns_add "$hns" "$tns" || skip "cannot create network namespaces"
netns_link "$hns" h1 10.88.1.1 "$tns" t1 10.88.1.2 || skip "no veth"
netns_link "$hns" h2 10.88.2.1 "$tns" t2 10.88.2.2 || fail "veth 2"

truncate -s 32M "$work/ns.img"
cat >"$work/config.json" <<EOF
{"hosts": [], "ports": [
 {"portid": 1, "addr": {"trtype": "tcp", "adrfam": "ipv4", "traddr": "10.88.1.2",
  "trsvcid": "4420"}, "subsystems": ["$nqn"]},
 {"portid": 2, "addr": {"trtype": "tcp", "adrfam": "ipv4", "traddr": "10.88.2.2",
  "trsvcid": "4420"}, "subsystems": ["$nqn"]}],
 "subsystems": [{"nqn": "$nqn", "attr": {"allow_any_host": "1"},
  "namespaces": [{"nsid": 1, "enable": 1, "device": {"path": "$work/ns.img",
   "uuid": "3b3e8f0a-9d1c-4c55-8a51-7f3e2d1c0b9a"}}]}]}
EOF
ip netns exec "$tns" "$target" --config "$work/config.json" --cpus 1 2>"$work/target.log" &
tgt_pid=$!
for _ in $(seq 50); do
	ip netns exec "$tns" ss -ltn 2>/dev/null | grep -q '10.88.2.2:4420' && break
	sleep 0.1
done
ip netns exec "$tns" ss -ltn | grep -q '10.88.2.2:4420' || fail "the target does not listen"

# reconnect-delay 2: path 1 is back within the run; failover itself uses no timeout of it
ip netns exec "$hns" "$cli" perf \
	-r "trtype:tcp traddr:10.88.1.2 trsvcid:4420 subnqn:$nqn" \
	-r "trtype:tcp traddr:10.88.2.2 trsvcid:4420 subnqn:$nqn" \
	--iopolicy round-robin --reconnect-delay 2 -q 32 -o 4096 -w randrw -V -t 12 \
	>"$work/perf.out" 2>&1 &
perf_pid=$!
start=$EPOCHREALTIME
sleep 3
ip -n "$hns" link set h1 down
echo "link 1 down $(awk -v s="$start" -v n="$EPOCHREALTIME" 'BEGIN { printf "%.3f", n - s }') s after perf started"
sleep 3
ip -n "$hns" link set h1 up
echo "link 1 up $(awk -v s="$start" -v n="$EPOCHREALTIME" 'BEGIN { printf "%.3f", n - s }') s after perf started"
wait "$perf_pid"
rc=$?
cat "$work/perf.out"
[ "$rc" = 0 ] || fail "nvmf perf exited with $rc"
grep -q ' 0 mismatches' "$work/perf.out" || fail "mismatches"
grep -q 'I/O errors' "$work/perf.out" && fail "I/O errors"
gap=$(sed -n 's/^Longest wait between two completions: \([0-9.]*\) ms.*/\1/p' "$work/perf.out")
[ -n "$gap" ] || fail "no failover figure"
echo "failover (longest wait between completions): $gap ms"
awk -v g="$gap" 'BEGIN { exit !(g < 1500) }' || fail "failover took $gap ms (goal 1000)"
grep -q '^Path 10.88.1.2:4420 .* live, ANA optimized, [1-9][0-9]* reconnects' "$work/perf.out" ||
	fail "path 1 did not come back"
echo "PASS"
