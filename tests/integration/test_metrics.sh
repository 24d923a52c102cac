#!/usr/bin/env bash
# nvmf-target --metrics: the Prometheus text on GET /metrics, parsed by the Prometheus
# project's own parser (python3-prometheus-client), holds exactly the I/O the test did
# (reads and writes of known sizes, a Get Log Page the target refuses), histograms
# included, after the
# controllers that did it are gone; GET /stats is the same as JSON; other requests get
# 404 / 405; a bad --metrics address stops the start; `nvmf stats` shows the totals and,
# under load, the rates.  TAP output.
# Environment (set by meson): NVMF_TARGET, NVMF_CLI, PROM_CHECK.
set -u
target=${NVMF_TARGET:?}
cli=${NVMF_CLI:?}
check=${PROM_CHECK:?}
py=/usr/bin/python3     # Debian's: python3-prometheus-client is installed for it
nqn=nqn.2024-01.io.nvmf-tcp:metrics
echo "1..9"
# shellcheck source=tap.sh
. "$(dirname "$0")/tap.sh"
# http METHOD PATH OUT: the whole answer (status line, headers, body) into OUT
http() {
	exec 3<>"/dev/tcp/127.0.0.1/$mport" || return 1
	printf '%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' "$1" "$2" >&3
	cat <&3 >"$3"
	exec 3<&-
}
body() { sed '1,/^\r$/d' "$1"; }

port=$(free_port)
mport=$(free_port)

# 1: a bad --metrics address: the target does not start, and says why
"$target" --ram 1M --listen "127.0.0.1:$port" --cpus 1 --metrics nowhere >"$work/bad.log" 2>&1
rc=$?
[ "$rc" != 0 ] && grep -q -- '--metrics nowhere' "$work/bad.log"
result $? "a bad --metrics address is refused (exit $rc)" "$work/bad.log"

"$target" --ram 32M --nqn "$nqn" --listen "127.0.0.1:$port" --cpus 2 \
	--metrics "127.0.0.1:$mport" >"$work/target.log" 2>&1 &
tgt_pid=$!
for _ in $(seq 100); do grep -q 'nvmf-target ready' "$work/target.log" && break; sleep 0.1; done
conn=(-t tcp -a 127.0.0.1 -s "$port" -n "$nqn")

# the I/O: 5 reads of 4 KiB, 1 write of 8 KiB, a vendor log page the target does not have
# (Log Page Invalid: SCT 1, SC 0x09); each its own controller
: >"$work/io.log"
for i in 1 2 3 4 5; do
	"$cli" read "${conn[@]}" --start-block $((i * 8)) -z 4096 -d "$work/r$i" >>"$work/io.log" 2>&1
done
head -c 8192 /dev/urandom >"$work/w"
"$cli" write "${conn[@]}" --start-block 64 -z 8192 -d "$work/w" >>"$work/io.log" 2>&1
"$cli" get-log "${conn[@]}" --log-id=0xc0 --log-len=512 >>"$work/io.log" 2>&1
oor=$?
reads_ok=1
for i in 1 2 3 4 5; do [ "$(stat -c %s "$work/r$i" 2>/dev/null)" = 4096 ] || reads_ok=0; done
# 2: the I/O itself went as planned (the checks below count it)
[ "$reads_ok" = 1 ] && [ "$oor" != 0 ]
result $? "5 reads of 4 KiB, 1 write of 8 KiB, 1 refused Get Log Page (exit $oor)" "$work/io.log"

# 3: /metrics parsed by prometheus_client: the namespace's and subsystem's counters
http GET /metrics "$work/m.http"
body "$work/m.http" >"$work/m.txt"
ns="subsystem=$nqn,namespace=1"
sub="subsystem=$nqn"
"$py" "$check" "$work/m.txt" \
	"nvmf_target_namespace_commands_total $ns,opcode=read 5 ;" \
	"nvmf_target_namespace_commands_total $ns,opcode=write 1 ;" \
	"nvmf_target_namespace_bytes_total $ns,opcode=read $((5 * 4096)) ;" \
	"nvmf_target_namespace_bytes_total $ns,opcode=write 8192 ;" \
	"nvmf_target_subsystem_commands_total $sub,opcode=read 5 ;" \
	"nvmf_target_subsystem_bytes_total $sub,opcode=read $((5 * 4096)) ;" \
	"nvmf_target_subsystem_bytes_total $sub,opcode=write 8192 ;" \
	"nvmf_target_subsystem_errors_total $sub,sct=0x1,sc=0x09 1" 2>"$work/3.err"
result $? "/metrics: namespace and subsystem counters match the I/O" "$work/3.err"

# 4: histograms: read count 5, write 1; cumulative, +Inf = _count
"$py" "$check" "$work/m.txt" \
	"nvmf_target_namespace_latency_seconds $ns,opcode=read hist:5 ;" \
	"nvmf_target_namespace_latency_seconds $ns,opcode=write hist:1 ;" \
	"nvmf_target_subsystem_latency_seconds $sub,opcode=read hist:5 ;" \
	"nvmf_target_subsystem_latency_seconds $sub,opcode=write hist:1" 2>"$work/4.err"
result $? "/metrics: latency histograms count the reads and the write" "$work/4.err"

# 5: reactors and connections
"$py" "$check" "$work/m.txt" \
	"nvmf_target_reactor_busy_seconds_total reactor=0 >0 ;" \
	"nvmf_target_reactor_idle_seconds_total reactor=1 >0 ;" \
	"nvmf_target_reactor_wakeups_total reactor=0 >0 ;" \
	"nvmf_target_termreqs_sent_total - 0 ;" \
	"nvmf_target_digest_errors_total digest=data 0 ;" \
	"nvmf_target_uptime_seconds - >0" 2>"$work/5.err"
result $? "/metrics: reactor busy/idle seconds and wake-ups, connection counters" "$work/5.err"

# 6: GET /stats is the JSON; a live controller shows up with its queues
http GET /stats "$work/s.http"
body "$work/s.http" >"$work/s.json"
"$py" - "$work/s.json" >"$work/6.err" 2>&1 <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
io = s["subsystems"][0]["namespaces"][0]["io"]
assert io["commands"]["read"] == 5, io["commands"]
assert io["bytes"]["write"] == 8192, io["bytes"]
assert sum(c for _, c in io["latency"]["read"]["buckets"]) == 5
err = s["subsystems"][0]["io"]["errors"]
assert err == [{"sct": 1, "sc": 9, "count": 1}], err
assert len(s["reactors"]) == 2
PY
result $? "/stats: the same figures as JSON" "$work/6.err"

# 7: anything else: 404, 405
http GET /nope "$work/404.http"
http POST /metrics "$work/405.http"
head -1 "$work/404.http" | grep -q '^HTTP/1.1 404' && head -1 "$work/405.http" | grep -q '^HTTP/1.1 405'
result $? "other paths 404, other methods 405" "$work/404.http" "$work/405.http"

# 8: nvmf stats, one shot: the totals of the subsystem and its namespace, the reactors
"$cli" stats --metrics "http://127.0.0.1:$mport" --interval 0.2 >"$work/8.out" 2>&1
rc=$?
[ "$rc" = 0 ] &&
	grep -Eq "^$nqn +([0-9.-]+ +){6}5 +1$" "$work/8.out" &&
	grep -Eq '^  ns 1 +([0-9.-]+ +){6}5 +1$' "$work/8.out" &&
	grep -Eq '^0 +[0-9.]+ +[0-9.]+ +[0-9]+$' "$work/8.out" &&
	grep -Eq '^1 +[0-9.]+ +[0-9.]+ +[0-9]+$' "$work/8.out"
result $? "nvmf stats: totals per subsystem and namespace, reactor lines" "$work/8.out"

# 9: nvmf stats under load: reads per second and their mean latency on the namespace
"$cli" perf -r "traddr:127.0.0.1 trsvcid:$port subnqn:$nqn" -q 4 -o 4096 -w randread -t 4 \
	--no-poll >"$work/perf.out" 2>&1 &
perf_pid=$!
sleep 1.5
"$cli" stats --metrics "http://127.0.0.1:$mport" >"$work/9.out" 2>&1
rc=$?
wait "$perf_pid"
perf_pid=''
[ "$rc" = 0 ] && awk '$1 == "ns" && $2 == "1" && $3 > 0 && $7 > 0 { ok = 1 } END { exit !ok }' \
	"$work/9.out"
result $? "nvmf stats under nvmf perf: read IOPS and latency on ns 1" "$work/9.out" "$work/perf.out"
exit $((failed > 0))
