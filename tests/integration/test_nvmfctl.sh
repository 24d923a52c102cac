#!/usr/bin/env bash
# nvmfctl against a live nvmf-target that has only its JSON-RPC socket: a subsystem built
# with it (bdevs, namespaces implicit and explicit, a host, IPv4 and IPv6 ports) serves
# the project's host tool nvmf; its controllers and queues, ANA state (as the host's ANA
# log shows it), listings in both formats (-o json parsed), removals, save; errors exit
# non-zero with the RPC's message.  TAP output.
# Environment (set by meson): NVMF_TARGET, NVMF_CLI, NVMFCTL.
set -u
target=${NVMF_TARGET:?}
cli=${NVMF_CLI:?}
ctlbin=${NVMFCTL:?}
py=/usr/bin/python3
nqn=nqn.2024-01.io.nvmf-tcp:ctl
host=nqn.2014-08.org.nvmexpress:uuid:6c0b6a1e-2f7b-4a4c-9d51-0f1c2b3a4d5e
other=nqn.2014-08.org.nvmexpress:uuid:00000000-0000-4000-8000-000000000001
echo "1..15"
# shellcheck source=tap.sh
. "$(dirname "$0")/tap.sh"
sock=$work/rpc.sock
ctl() { "$ctlbin" -s "$sock" "$@"; }
# json FILE PYTHON-EXPR...: each expression (over j, the parsed file) must hold
json() {
	local f=$1
	shift
	"$py" - "$f" "$@" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
for e in sys.argv[2:]:
    assert eval(e), "%s: %s" % (e, json.dumps(j)[:2000])
PY
}
port=$(free_port)
conn=(-t tcp -a 127.0.0.1 -s "$port" -n "$nqn" -q "$host")
v6=0
ip -6 addr show dev lo 2>/dev/null | grep -q '::1' && v6=1

"$target" -r "$sock" --cpus 2 >"$work/target.log" 2>&1 &
tgt_pid=$!
for _ in $(seq 100); do ctl stats >/dev/null 2>&1 && break; sleep 0.1; done

# 1: built from nothing over the socket
truncate -s 8M "$work/f.img"
{
	ctl subsystem add "$nqn" --serial CTL0001 --model ctl-test --ana-reporting &&
	ctl bdev add-ram ram0 16M &&
	ctl ns add "$nqn" ram0 --nsid 1 &&
	ctl ns add "$nqn" --file "$work/f.img" --nsid 2 &&
	ctl host add "$nqn" "$host" &&
	ctl port add "$nqn" "127.0.0.1:$port" &&
	{ [ "$v6" = 0 ] || ctl port add "$nqn" "[::1]:$port"; }
} >"$work/1.log" 2>&1
result $? "subsystem, bdev, namespaces (explicit bdev and --file), host, ports added" \
	"$work/1.log" "$work/target.log"

# 2: the host uses both namespaces; what it wrote is in the file behind namespace 2
head -c 8192 /dev/urandom >"$work/w"
{
	"$cli" write "${conn[@]}" --namespace-id 1 --start-block 8 -z 8192 -d "$work/w" &&
	"$cli" read "${conn[@]}" --namespace-id 1 --start-block 8 -z 8192 -d "$work/r1" &&
	"$cli" write "${conn[@]}" --namespace-id 2 --start-block 1 -z 8192 -d "$work/w" &&
	"$cli" read "${conn[@]}" --namespace-id 2 --start-block 1 -z 8192 -d "$work/r2" &&
	cmp "$work/w" "$work/r1" && cmp "$work/w" "$work/r2" &&
	bs=$("$py" -c 'import json,sys; print([b for b in json.load(sys.stdin) if b["name"]=="File0"][0]["block_size"])' \
		< <(ctl -o json bdev list)) &&
	cmp -n 8192 -i "$bs:0" "$work/f.img" "$work/w"
} >"$work/2.log" 2>&1
result $? "nvmf writes and reads both namespaces; the file holds the data" "$work/2.log"

# 3: a host not admitted is refused; allow-any on lets it in, off again shuts it out
"$cli" read -t tcp -a 127.0.0.1 -s "$port" -n "$nqn" -q "$other" -z 512 -d "$work/o" \
	>"$work/3.log" 2>&1
r1=$?
ctl host allow-any "$nqn" on >>"$work/3.log" 2>&1
"$cli" read -t tcp -a 127.0.0.1 -s "$port" -n "$nqn" -q "$other" -z 512 -d "$work/o" \
	>>"$work/3.log" 2>&1
r2=$?
ctl host allow-any "$nqn" off >>"$work/3.log" 2>&1
[ "$r1" != 0 ] && [ "$r2" = 0 ]
result $? "host list enforced (refused $r1, then admitted with allow-any on $r2)" "$work/3.log"

# 4: controllers and qpairs while a host is connected (nvmf perf, 2 queue pairs); polled
# until perf's controller is up with both queues (connect under a loaded ASan target)
"$cli" perf -r "trtype:tcp adrfam:ipv4 traddr:127.0.0.1 trsvcid:$port subnqn:$nqn hostnqn:$host" \
	-q 4 -o 4096 -w randread -t 8 -P 2 >"$work/perf.log" 2>&1 &
perf_pid=$!
got=1
for _ in $(seq 70); do
	if ctl -o json controllers "$nqn" >"$work/ctrls.json" 2>>"$work/4.log" &&
	   json "$work/ctrls.json" 'len(j) == 1' 'j[0]["num_io_qpairs"] == 2' 2>/dev/null &&
	   ctl -o json qpairs "$nqn" >"$work/qp.json" 2>>"$work/4.log" &&
	   json "$work/qp.json" 'sorted(q["qid"] for q in j) == [0, 1, 2]' 2>/dev/null; then
		got=0
		break
	fi
	sleep 0.1
done
if [ $got = 0 ]; then
	json "$work/qp.json" "all(q[\"hostnqn\"] == \"$host\" for q in j)" \
		'len(set(q["cntlid"] for q in j)) == 1' >>"$work/4.log" 2>&1 &&
	ctl controllers "$nqn" >"$work/ctrls.txt" 2>>"$work/4.log" &&
	grep -q "^CNTLID  *HOSTNQN" "$work/ctrls.txt" && grep -q " $host  .* 2$" "$work/ctrls.txt" &&
	ctl qpairs "$nqn" >"$work/qp.txt" 2>>"$work/4.log" &&
	[ "$(grep -c "127.0.0.1:$port  *$host$" "$work/qp.txt")" = 3 ]
	got=$?
fi
wait "$perf_pid"
perf_rc=$?
perf_pid=''
[ $got = 0 ] && [ $perf_rc = 0 ]
result $? "controllers and qpairs of a connected host, tables and JSON (perf exit $perf_rc)" \
	"$work/4.log" "$work/ctrls.json" "$work/qp.json" "$work/ctrls.txt" "$work/qp.txt" \
	"$work/perf.log"

# 5: stats: SPDK's poll groups carry the I/O done; our detail names the subsystem
ctl -o json stats >"$work/stats.json" 2>"$work/5.log" &&
json "$work/stats.json" 'j["tick_rate"] > 0' 'len(j["poll_groups"]) == 2' \
	'sum(g["completed_nvme_io"] for g in j["poll_groups"]) >= 4' \
	"[s[\"nqn\"] for s in j[\"subsystems\"]] == [\"$nqn\"]" \
	'j["subsystems"][0]["io"]["commands"]["write"] >= 2' >>"$work/5.log" 2>&1 &&
ctl stats >"$work/stats.txt" 2>>"$work/5.log" && grep -q "^nvmf_tgt_poll_group_001" "$work/stats.txt" &&
grep -q "^$nqn" "$work/stats.txt"
result $? "stats, JSON and tables" "$work/5.log" "$work/stats.txt"

# 6: ANA: the listener's state changes, in the RPC's view and in the host's ANA log
ctl ana-state "$nqn" "127.0.0.1:$port" non_optimized >"$work/6.log" 2>&1 &&
ctl -o json port list "$nqn" >"$work/ports.json" 2>>"$work/6.log" &&
json "$work/ports.json" \
	"[l[\"ana_states\"][0][\"ana_state\"] for l in j if l[\"address\"][\"traddr\"] == \"127.0.0.1\"] == [\"non_optimized\"]" \
	>>"$work/6.log" 2>&1 &&
ctl port list "$nqn" >"$work/ports.txt" 2>>"$work/6.log" &&
grep -q "^127.0.0.1:$port  *IPv4  *1:non_optimized" "$work/ports.txt" &&
"$cli" get-log "${conn[@]}" --log-id=0x0c --log-len=64 -b >"$work/ana.bin" 2>>"$work/6.log" &&
[ "$(od -An -tu1 -j32 -N1 "$work/ana.bin" | tr -d ' ')" = 2 ]
result $? "ana-state non_optimized: port list and the host's ANA log (state 2) show it" \
	"$work/6.log" "$work/ports.txt"

# 7: the listings, both formats
{
	ctl subsystem list >"$work/subs.txt" &&
	grep -q "^$nqn  *NVMe  *CTL0001  *ctl-test  *$host  *1:ram0,2:File0  " "$work/subs.txt" &&
	ctl -o json subsystem list "$nqn" >"$work/subs.json" &&
	json "$work/subs.json" 'len(j) == 1' 'j[0]["serial_number"] == "CTL0001"' \
		'[(n["nsid"], n["bdev_name"]) for n in j[0]["namespaces"]] == [(1, "ram0"), (2, "File0")]' \
		"[h[\"nqn\"] for h in j[0][\"hosts\"]] == [\"$host\"]" \
		"len(j[0][\"listen_addresses\"]) == 1 + $v6" &&
	ctl ns list "$nqn" | grep -q "^2  *File0  *1 " &&
	ctl -o json bdev list >"$work/bdevs.json" &&
	json "$work/bdevs.json" 'sorted(b["name"] for b in j) == ["File0", "ram0"]' \
		'[b["num_blocks"] * b["block_size"] for b in j if b["name"] == "ram0"] == [16 << 20]' &&
	ctl bdev list | grep -q "^File0  *URING bdev  *8388608 .*yes  *$work/f.img$" &&
	ctl host list "$nqn" | grep -qx "$host"
} >"$work/7.log" 2>&1
result $? "subsystem, ns, bdev, host, port lists: tables and -o json" "$work/7.log" \
	"$work/subs.txt"

# 8: IPv6 listener served and listed as [::1]:PORT
if [ "$v6" = 1 ]; then
	"$cli" read -t tcp -a ::1 -s "$port" -n "$nqn" -q "$host" --namespace-id 1 \
		--start-block 8 -z 8192 -d "$work/r6" >"$work/8.log" 2>&1 &&
	cmp "$work/w" "$work/r6" >>"$work/8.log" 2>&1 &&
	ctl port list "$nqn" | grep -q "^\[::1\]:$port  *IPv6 "
	result $? "the [::1]:$port port serves and lists" "$work/8.log"
else
	n=$((n + 1)); echo "ok $n - # SKIP no IPv6 loopback"
fi

# 9: removals: gone from the lists, and from the host's view
{
	ctl ns remove "$nqn" 2 &&
	ctl bdev remove File0 &&
	{ [ "$v6" = 0 ] || ctl port remove "$nqn" "[::1]:$port"; } &&
	ctl host remove "$nqn" "$host" &&
	ctl -o json subsystem list "$nqn" >"$work/subs2.json" &&
	json "$work/subs2.json" '[n["nsid"] for n in j[0]["namespaces"]] == [1]' \
		'j[0]["hosts"] == []' 'len(j[0]["listen_addresses"]) == 1' &&
	ctl -o json bdev list >"$work/bdevs2.json" &&
	json "$work/bdevs2.json" '[b["name"] for b in j] == ["ram0"]' &&
	! "$cli" read "${conn[@]}" -z 512 -d "$work/o"
} >"$work/9.log" 2>&1
result $? "ns, bdev, port, host removed: gone from the lists; the host is refused" "$work/9.log"

# 10: save: SPDK's JSON config of what is left
ctl save >"$work/save.json" 2>"$work/10.log" &&
json "$work/save.json" \
	"[c[\"params\"][\"nqn\"] for s in j[\"subsystems\"] if s[\"subsystem\"] == \"nvmf\" for c in s[\"config\"] if c[\"method\"] == \"nvmf_create_subsystem\"] == [\"$nqn\"]" \
	"[c[\"params\"][\"name\"] for s in j[\"subsystems\"] if s[\"subsystem\"] == \"bdev\" for c in s[\"config\"] if c[\"method\"] == \"bdev_malloc_create\"] == [\"ram0\"]" \
	>>"$work/10.log" 2>&1
result $? "save prints save_config's JSON" "$work/10.log"

# 11: an unknown NQN: exit 1, the method, the target's message and code on stderr
ctl ns add nqn.2024-01.io.nvmf-tcp:nope ram0 >"$work/11.out" 2>"$work/11.err"
rc=$?
[ $rc = 1 ] && [ ! -s "$work/11.out" ] &&
grep -q "^nvmfctl: nvmf_subsystem_add_ns: .*nqn.2024-01.io.nvmf-tcp:nope.* (code -32602)$" "$work/11.err" &&
# a bdev made for a namespace that could not be added is not left behind
! ctl ns add nqn.2024-01.io.nvmf-tcp:nope --ram 1M >>"$work/11.out" 2>>"$work/11.err" &&
ctl -o json bdev list >"$work/bdevs3.json" 2>>"$work/11.err" &&
json "$work/bdevs3.json" '[b["name"] for b in j] == ["ram0"]' >>"$work/11.err" 2>&1
result $? "unknown NQN: exit $rc, RPC error on stderr; no bdev left behind" "$work/11.err"

# 12: bad addresses are refused before any call: exit 2 with what is wrong
bad=0
for a in 300.1.1.1:4420 127.0.0.1 127.0.0.1:0 127.0.0.1:70000 ::1:4420 '[::1]' 'x:y'; do
	ctl port add "$nqn" "$a" >"$work/12.out" 2>"$work/12.err"
	rc=$?
	if [ $rc != 2 ] || ! grep -Eq "^nvmfctl port add: .*(address|port)" "$work/12.err"; then
		echo "# '$a': exit $rc: $(cat "$work/12.err")"
		bad=1
	fi
done
ctl -o json port list "$nqn" >"$work/ports2.json" 2>&1 && json "$work/ports2.json" 'len(j) == 1' ||
	bad=1
result $bad "bad addresses: exit 2 with a message, nothing added"

# 13: other errors: no target on the socket, an unknown command, a bad size
r1=0 r2=0 r3=0
"$ctlbin" -s "$work/none.sock" subsystem list >/dev/null 2>"$work/13.err" || r1=$?
ctl frobnicate >/dev/null 2>>"$work/13.err" || r2=$?
ctl bdev add-ram x 12Q >/dev/null 2>>"$work/13.err" || r3=$?
[ $r1 = 1 ] && [ $r2 = 2 ] && [ $r3 = 2 ] &&
grep -q "^nvmfctl: nvmf_get_subsystems: cannot talk to nvmf-target on $work/none.sock" "$work/13.err"
result $? "no target: exit $r1; unknown command: exit $r2; bad size: exit $r3" "$work/13.err"

# 14: call: any method by its SPDK name, the result as JSON; a bad PARAMS-JSON is usage
r1=0 r2=0
{
	ctl call nvmf_get_subsystems >"$work/call.json" &&
	json "$work/call.json" "\"$nqn\" in [s[\"nqn\"] for s in j]" &&
	ctl call nvmf_subsystem_get_listeners "{\"nqn\": \"$nqn\"}" >"$work/call2.json" &&
	json "$work/call2.json" 'len(j) >= 1'
} >"$work/14.log" 2>&1
ok=$?
ctl call nvmf_get_subsystems '[1]' >/dev/null 2>>"$work/14.log" || r1=$?
ctl call no_such_method >/dev/null 2>>"$work/14.log" || r2=$?
[ $ok = 0 ] && [ $r1 = 2 ] && [ $r2 = 1 ] && grep -q "^nvmfctl: no_such_method: " "$work/14.log"
result $? "call: results as JSON; bad params exit $r1, unknown method exit $r2" "$work/14.log"

# 15: the subsystem removed: gone, and its port serves nothing
{
	ctl subsystem remove "$nqn" &&
	ctl -o json subsystem list >"$work/subs3.json" &&
	json "$work/subs3.json" "\"$nqn\" not in [s[\"nqn\"] for s in j]" &&
	! ctl subsystem list "$nqn" &&
	! "$cli" read -t tcp -a 127.0.0.1 -s "$port" -n "$nqn" -q "$host" -z 512 -d "$work/o"
} >"$work/15.log" 2>&1
result $? "subsystem remove: gone from the list, no host gets in" "$work/15.log" "$work/target.log"
exit $((failed != 0))
