#!/usr/bin/env bash
# NVMe/TCP over Multipath TCP between two network namespaces joined by two veth links:
#
#   host netns  vh1 10.77.1.1 ---- vt1 10.77.1.2  target netns (nvmf-target)
#               vh2 10.77.2.1 ---- vt2 10.77.2.2
#
# The host's MPTCP path manager has a subflow endpoint on vh2 (`ip mptcp endpoint add
# 10.77.2.1 dev vh2 subflow`; a source route sends it over vh2 to the target's address
# on vt1), so every connection that starts on vh1 gains a second subflow over vh2.
# nvmf perf --mptcp -V writes and verifies a pattern while vh1 goes down and up again:
# the same connections (the target logs no new one, the host no reconnect) carry on
# over vh2 with 0 errors and 0 mismatches.  Then the fallbacks: a plain TCP host on the
# MPTCP port, an MPTCP host on a plain port; TLS over MPTCP with records in user space,
# and kernel records refused with the reason; last, with MPTCP off in a namespace
# (net.mptcp.enabled=0), a port and a host that ask for it warn and use plain TCP.  TAP output; skipped without root, network
# namespaces or MPTCP ("1..0 # SKIP" and exit 0, as test_ktls does: meson takes a TAP
# test's exit status 77 for an error, not a skip).
#
# Environment (set by meson): NVMF_TARGET, NVMF_CLI.
set -uo pipefail

target=${NVMF_TARGET:?NVMF_TARGET: the nvmf-target binary}
nvmf=${NVMF_CLI:?NVMF_CLI: the nvmf binary}
nqn='nqn.2014-08.org.nvmexpress:nvmf-tcp:mptcp-test'
hostnqn='nqn.2014-08.org.nvmexpress:uuid:0a3e4d5c-6b7a-4c8d-9e0f-1a2b3c4d5e6f'
H=nvmf-mp-h-$$
T=nvmf-mp-t-$$
# shellcheck source=netns.sh
. "$(dirname "$0")/netns.sh"

skip() {
	echo "1..0 # SKIP $*"
	exit 0
}

[ "$(id -u)" = 0 ] || skip "needs root (network namespaces)"
command -v ip >/dev/null || skip "no ip (iproute2)"
command -v ss >/dev/null || skip "no ss (iproute2)"

work=$(mktemp -d)
tgt_pid=''
perf_pid=''
cleanup() {
	# interrupted mid-run: perf would wait for its connections, now gone with the namespaces
	[ -n "$perf_pid" ] && kill -KILL "$perf_pid" 2>/dev/null
	if [ -n "$tgt_pid" ]; then
		kill "$tgt_pid" 2>/dev/null
		wait "$tgt_pid" 2>/dev/null
	fi
	netns_cleanup
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 143' TERM INT   # meson's timeout: the namespaces still go

netns_add "$H" "$T" || skip "cannot create network namespaces"
[ "$(ip netns exec "$H" sysctl -n net.mptcp.enabled 2>/dev/null)" = 1 ] ||
	skip "this kernel offers no MPTCP (net.mptcp.enabled)"
ip -n "$H" mptcp limits set subflows 2 add_addr_accepted 2 2>/dev/null ||
	skip "ip mptcp is not supported (iproute2 or kernel)"

# the two links, addresses only inside our namespaces
setup_net() {
	netns_link "$H" vh1 10.77.1.1 "$T" vt1 10.77.1.2 &&
	netns_link "$H" vh2 10.77.2.1 "$T" vt2 10.77.2.2 &&
	# what leaves from 10.77.2.1 takes vh2, also to the target's vt1 address
	ip -n "$H" rule add from 10.77.2.1 table 177 &&
	ip -n "$H" route add 10.77.1.0/24 via 10.77.2.2 dev vh2 table 177 &&
	ip -n "$T" mptcp limits set subflows 2 add_addr_accepted 2 &&
	ip -n "$H" mptcp endpoint add 10.77.2.1 dev vh2 subflow
}
if ! setup_net >"$work/net.log" 2>&1; then
	echo "1..1"
	echo "not ok 1 - network set-up failed"
	sed 's/^/# /' "$work/net.log"
	exit 1
fi

# One subsystem on three ports of the target's vt1 address: MPTCP, plain TCP, TLS + MPTCP.
truncate -s 64M "$work/ns.img"
key=$("$nvmf" gen-tls-key -m 1) || { echo "1..1"; echo "not ok 1 - nvmf gen-tls-key"; exit 1; }
(umask 077 && echo "$hostnqn $key" >"$work/tls.keys")
cat >"$work/config.json" <<EOF
{
 "hosts": [{"nqn": "$hostnqn"}],
 "ports": [
  {"portid": 1, "addr": {"trtype": "tcp", "adrfam": "ipv4", "traddr": "10.77.1.2",
   "trsvcid": "4420"}, "param": {"mptcp": "1"}, "subsystems": ["$nqn"]},
  {"portid": 2, "addr": {"trtype": "tcp", "adrfam": "ipv4", "traddr": "10.77.1.2",
   "trsvcid": "4421"}, "subsystems": ["$nqn"]},
  {"portid": 3, "addr": {"trtype": "tcp", "adrfam": "ipv4", "traddr": "10.77.1.2",
   "trsvcid": "4422", "tsas": "tls1.3"}, "param": {"mptcp": "1"}, "subsystems": ["$nqn"]}
 ],
 "subsystems": [
  {"nqn": "$nqn", "attr": {"allow_any_host": "1"},
   "namespaces": [{"nsid": 1, "enable": 1, "device": {"path": "$work/ns.img"}}]}
 ]
}
EOF
ip netns exec "$T" "$target" --config "$work/config.json" --tls-keys "$work/tls.keys" \
	--tls-record user --cpus 1 >"$work/target.log" 2>&1 &
tgt_pid=$!
for _ in $(seq 100); do
	[ "$(grep -c 'listening on' "$work/target.log")" = 3 ] && break
	kill -0 "$tgt_pid" 2>/dev/null || break
	sleep 0.1
done
if [ "$(grep -c 'listening on' "$work/target.log")" != 3 ]; then
	echo "1..1"
	echo "not ok 1 - nvmf-target did not start"
	sed 's/^/# /' "$work/target.log"
	exit 1
fi

n=0
failed=0
echo "1..10"
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() {
	n=$((n + 1)); failed=$((failed + 1))
	echo "not ok $n - $1"
	shift
	for f in "$@"; do sed 's/^/# /' "$f"; done
}
trid() { echo "trtype:tcp adrfam:ipv4 traddr:10.77.1.2 trsvcid:$1 subnqn:$nqn hostnqn:$hostnqn"; }
perf() { ip netns exec "$H" timeout 120 "$nvmf" perf "$@"; }
# established TCP sockets (MPTCP subflows included) of the host to a target port
subflows() { # PORT [SOURCE]
	ip netns exec "$H" ss -tnH state established "( dport = :$1 )" |
		awk -v src="${2:-}" 'src == "" || index($3, src ":") == 1 || index($3, src "%") == 1' |
		wc -l
}
# bytes the host's subflows from SOURCE moved both ways so far
path_bytes() { # SOURCE
	ip netns exec "$H" ss -tniH state established "( dport = :4420 )" | awk -v src="$1" '
		/^[0-9]/ || /^ *[0-9]/ { mine = index($3, src) == 1 }
		{ for (i = 1; i <= NF; i++) if (mine && ($i ~ /^bytes_(acked|received):/)) {
			split($i, kv, ":"); sum += kv[2] } }
		END { print sum + 0 }'
}

# ---- 1..4: one MPTCP association, two subflows each, a link down and up mid-run
# not through timeout(1): the clean-up kills nvmf perf itself
ip netns exec "$H" "$nvmf" perf -r "$(trid 4420)" --mptcp -q 16 -o 4096 -w randrw -M 50 -V \
	-t 12 >"$work/perf.out" 2>&1 &
perf_pid=$!
# admin and I/O queue: two subflows each, one of them over vh2
want=0
for _ in $(seq 50); do
	[ "$(subflows 4420)" = 4 ] && [ "$(subflows 4420 10.77.2.1)" = 2 ] && { want=1; break; }
	sleep 0.1
done
ip netns exec "$H" ss -tnM >"$work/ss-mptcp.txt" 2>&1
ip netns exec "$H" ss -tn "( dport = :4420 )" >>"$work/ss-mptcp.txt" 2>&1
if [ "$want" = 1 ]; then
	ok "two subflows per connection (vh1 and vh2): $(subflows 4420) TCP subflows for 2 MPTCP connections"
else
	notok "two subflows per connection: $(subflows 4420) subflows, $(subflows 4420 10.77.2.1) over vh2" \
		"$work/ss-mptcp.txt"
fi
sleep 2
ip -n "$H" link set vh1 down
sleep 0.5
b0=$(path_bytes 10.77.2.1)
sleep 3
b1=$(path_bytes 10.77.2.1)
ip netns exec "$H" ss -tni "( dport = :4420 )" >"$work/ss-down.txt" 2>&1
ip -n "$H" link set vh1 up
if [ "$b1" -gt $((b0 + 1048576)) ]; then
	ok "vh1 down: I/O goes on over vh2 ($(((b1 - b0) / 1048576)) MiB in 3 s)"
else
	notok "vh1 down: I/O goes on over vh2 (bytes over vh2: $b0 then $b1)" "$work/ss-down.txt"
fi
wait "$perf_pid"
rc=$?
perf_pid=''
if [ "$rc" = 0 ] && grep -q ' 0 mismatches' "$work/perf.out" &&
   grep -q 'MPTCP: 0 reconnects' "$work/perf.out" &&
   ! grep -q 'Verify: 0 reads checked' "$work/perf.out"; then
	# the slowest I/O is the one the failure held up: the failover time, bounded by TCP's RTO
	ok "perf -V over the link failure: $(grep -o 'Verify: [0-9]* reads checked, 0 mismatches' "$work/perf.out"), 0 errors, 0 reconnects, slowest I/O $(awk '/^Total/ { print int($NF / 1000) }' "$work/perf.out") ms"
else
	notok "perf -V over the link failure (exit $rc)" "$work/perf.out"
fi
conns=$(grep -c 'connected to port 1 over MPTCP' "$work/target.log")
closes=$(grep -c 'closing' "$work/target.log")
if [ "$conns" = 2 ] && [ "$closes" = 2 ] &&
   [ "$(grep -c 'closing (MPTCP, 2 subflows): connection closed by host' "$work/target.log")" = 2 ]; then
	ok "the same two connections throughout: the target saw no new connection, none closed early"
else
	notok "the same two connections throughout ($conns connected, $closes closed)" \
		"$work/target.log"
fi

# ---- 5..6: the fallbacks
mark=$(wc -l <"$work/target.log")
if perf -r "$(trid 4420)" -q 8 -o 4096 -w randrw -M 50 -V -t 1 >"$work/plain.out" 2>&1 &&
   tail -n +"$mark" "$work/target.log" | grep -q 'connected to port 1 over plain TCP (MPTCP fallback'; then
	ok "a plain TCP host on the MPTCP port is served (fallback)"
else
	notok "a plain TCP host on the MPTCP port is served" "$work/plain.out" "$work/target.log"
fi
if perf -r "$(trid 4421)" --mptcp -q 8 -o 4096 -w randrw -M 50 -V -t 1 >"$work/fb.out" 2>&1 &&
   grep -q 'subflows per I/O queue now: fallback-to-TCP' "$work/fb.out" &&
   grep -q 'does not speak MPTCP: plain TCP (fallback)' "$work/fb.out"; then
	ok "an MPTCP host on a plain TCP port is served (fallback)"
else
	notok "an MPTCP host on a plain TCP port is served" "$work/fb.out"
fi

# ---- 7..8: TLS over MPTCP
mark=$(wc -l <"$work/target.log")
if perf -r "$(trid 4422)" --mptcp --tls-key "$key" -q 8 -o 4096 -w randrw -M 50 -V -t 2 \
	>"$work/tls.out" 2>&1 && grep -qE 'subflows per I/O queue now: 2$' "$work/tls.out" &&
   tail -n +"$mark" "$work/target.log" | grep -q 'TLS 1.3 .*records in user'; then
	ok "TLS over MPTCP, records in user space: two subflows, data verified"
else
	notok "TLS over MPTCP, records in user space" "$work/tls.out" "$work/target.log"
fi
if ! perf -r "$(trid 4422)" --mptcp --tls-key "$key" --tls-record kernel -q 8 -o 4096 \
	-w randread -t 1 >"$work/ktls.out" 2>&1 &&
   grep -q 'kernel TLS does not run over MPTCP' "$work/ktls.out"; then
	ok "kernel TLS records over MPTCP refused, saying why"
else
	notok "kernel TLS records over MPTCP refused, saying why" "$work/ktls.out"
fi

# ---- 9: the target is still there and says nothing went wrong
if kill -0 "$tgt_pid" 2>/dev/null && ! grep -qiE 'AddressSanitizer|runtime error' "$work/target.log"; then
	ok "nvmf-target still running, no sanitizer report"
else
	notok "nvmf-target still running, no sanitizer report" "$work/target.log"
fi

# ---- 10: a kernel without MPTCP (off in the host namespace): warnings, plain TCP
kill "$tgt_pid" 2>/dev/null
wait "$tgt_pid" 2>/dev/null
tgt_pid=''
ip netns exec "$H" sysctl -qw net.mptcp.enabled=0
ip netns exec "$H" "$target" --ram 64M --mptcp --listen 127.0.0.1:4430 --cpus 1 \
	>"$work/nomp.log" 2>&1 &
tgt_pid=$!
for _ in $(seq 100); do
	grep -q 'listening on 127.0.0.1:4430' "$work/nomp.log" && break
	sleep 0.1
done
if grep -q 'param.mptcp: this kernel offers no MPTCP .*: the port takes plain TCP' "$work/nomp.log" &&
   grep -q 'listening on 127.0.0.1:4430 (port 1)$' "$work/nomp.log" &&
   ip netns exec "$H" timeout 60 "$nvmf" perf -r "trtype:tcp adrfam:ipv4 traddr:127.0.0.1 \
	trsvcid:4430 subnqn:nqn.2014-08.org.nvmexpress:nvmf-tcp:quickstart" --mptcp -q 4 \
	-o 4096 -w randread -t 1 >"$work/nomp.out" 2>&1 &&
   grep -q 'MPTCP asked but this kernel offers no MPTCP .*: connecting over plain TCP' "$work/nomp.out" &&
   grep -q 'subflows per I/O queue now: TCP$' "$work/nomp.out"; then
	ok "no MPTCP in the kernel: the port and the host say so and use plain TCP"
else
	notok "no MPTCP in the kernel: the port and the host say so and use plain TCP" \
		"$work/nomp.log" "$work/nomp.out"
fi
[ "$failed" = 0 ]
