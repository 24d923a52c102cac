#!/usr/bin/env bash
# Guest side of test-tls.sh: libnvmf (`nvmf --tls`) against nvmf-target on a TLS 1.3 port
# in the test bed's kernel, which has the tls module, so both record paths run end to end:
#   for records made in user space (OpenSSL) and in the kernel (kTLS) on both ends:
#   1 MiB of a marker pattern written and read back over TLS (v1 and v0 identities); the
#   target logs the identity and record path; a capture of port 4420 holds neither the
#   pattern nor Connect's data (the subsystem NQN in its NUL-padded field; the NQNs alone
#   are in the clear by design: TLS 1.3 sends the PSK identity unencrypted)
#   control: the same over a plaintext port is visible in its capture (the check can fail)
#   a wrong key and a plaintext host on the TLS port are refused; nvmf perf over TLS (kTLS)
# Runs inside vm-run as root; exit 0 = pass. NVMF_TARGET, NVMF_BIN from test-tls.sh.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

TGT_BIN=${NVMF_TARGET:-$top/build/src/tools/nvmf-target}
NVMF=${NVMF_BIN:-$top/build/src/tools/nvmf}
NQN=nqn.2024-01.io.nvmf-tcp:interop-tls
HOSTNQN=nqn.2014-08.org.nvmexpress:uuid:7d2c9a10-3b4e-4f5a-8c6d-1e2f3a4b5c6d
TGT_PID='' TCPDUMP_PID='' TGT_LOG=/tmp/tls-target.log
cd /tmp

tdie() {
	[ -f "$TGT_LOG" ] && tail -n 20 "$TGT_LOG" | sed 's/^/    | /' >&2
	die "$@"
}
cleanup() {
	local rc=$?
	trap - EXIT
	[ -z "$TCPDUMP_PID" ] || kill "$TCPDUMP_PID" 2>/dev/null || true
	[ -z "$TGT_PID" ] || { kill -KILL "$TGT_PID" 2>/dev/null; wait "$TGT_PID" 2>/dev/null; } || true
	exit "$rc"
}
trap cleanup EXIT

modprobe tls
grep -qw '^tls' /proc/modules || die "no tls module in the guest kernel"
KEY=$("$NVMF" gen-tls-key -m 1) || die "nvmf gen-tls-key failed"
echo "$HOSTNQN $KEY" >/tmp/tls.keys
chmod 600 /tmp/tls.keys
truncate -s 64M /tmp/tls.img
cat >/tmp/tls-config.json <<JSON
{
  "hosts": [],
  "ports": [
    {"addr": {"adrfam": "ipv4", "traddr": "127.0.0.1", "treq": "required",
              "trsvcid": "4420", "trtype": "tcp", "tsas": "tls1.3"},
     "portid": 1, "referrals": [], "subsystems": ["$NQN"]},
    {"addr": {"adrfam": "ipv4", "traddr": "127.0.0.1", "treq": "not specified",
              "trsvcid": "4421", "trtype": "tcp", "tsas": "none"},
     "portid": 2, "referrals": [], "subsystems": ["$NQN"]}
  ],
  "subsystems": [
    {"allowed_hosts": [], "attr": {"allow_any_host": "1"},
     "namespaces": [{"enable": 1, "nsid": 1, "device": {"path": "/tmp/tls.img"}}],
     "nqn": "$NQN"}
  ]
}
JSON
# a pattern no random or encrypted stream holds by chance: a marker repeated over 1 MiB
head -c 1M < <(yes NVMF-TLS-CLEARTEXT-MARKER) >/tmp/pattern.bin

# capture PORT FILE: tcpdump on lo for PORT into FILE, running until capture_stop.
capture() {
	tcpdump -i lo -U -s 0 -w "$2" "tcp port $1" 2>/tmp/tcpdump.log &
	TCPDUMP_PID=$!
	wait_for 10 grep -q 'listening on' /tmp/tcpdump.log || die "tcpdump did not start"
}
capture_stop() {
	sleep 0.5
	kill -INT "$TCPDUMP_PID"
	wait "$TCPDUMP_PID" || true
	TCPDUMP_PID=''
}
# connect_data_in FILE: FILE holds the subsystem NQN as Connect's data carries it, NUL padded.
connect_data_in() {
	python3 -c 'import sys; sys.exit(0 if (sys.argv[2].encode() + bytes(32)) in open(sys.argv[1], "rb").read() else 1)' "$1" "$NQN"
}
# rw PORT ARGS...: the pattern written at LBA 2048 and read back, compared.
rw() {
	local port=$1; shift
	rm -f /tmp/back.bin
	"$NVMF" write -t tcp -a 127.0.0.1 -s "$port" -n "$NQN" -q "$HOSTNQN" --start-block 2048 \
		-d /tmp/pattern.bin "$@" >/tmp/nv.out 2>&1 || return 1
	"$NVMF" read -t tcp -a 127.0.0.1 -s "$port" -n "$NQN" -q "$HOSTNQN" --start-block 2048 \
		-z 1048576 -d /tmp/back.bin "$@" >>/tmp/nv.out 2>&1 || return 1
	cmp -s /tmp/pattern.bin /tmp/back.bin
}
start_target() {
	"$TGT_BIN" --config /tmp/tls-config.json --tls-keys /tmp/tls.keys --tls-record "$1" \
		>"$TGT_LOG" 2>&1 &
	TGT_PID=$!
	wait_for 20 tcp_listening 4421 || tdie "nvmf-target does not listen"
	wait_for 5 tcp_listening 4420 || tdie "nvmf-target does not listen on the TLS port"
}
stop_target() {
	kill -TERM "$TGT_PID"
	wait "$TGT_PID" || tdie "nvmf-target exited $? after SIGTERM"
	TGT_PID=''
}

for rec in user kernel; do
	step "records in $rec space on both ends"
	start_target "$rec"
	capture 4420 "/tmp/tls-$rec.pcap"
	mark=$(wc -l <"$TGT_LOG")
	rw 4420 --tls --tls-key "$KEY" --tls-record "$rec" ||
		tdie "TLS write/read ($rec records): $(cat /tmp/nv.out)"
	rw 4420 --tls --tls-key "$KEY" --tls-record "$rec" --tls-identity-version 0 ||
		tdie "TLS write/read, v0 identity ($rec records): $(cat /tmp/nv.out)"
	capture_stop
	tail -n +$((mark + 1)) "$TGT_LOG" | grep -q "identity 'NVMe1R01 $HOSTNQN $NQN .*records in $rec" ||
		tdie "the target did not log a v1 identity with records in $rec"
	tail -n +$((mark + 1)) "$TGT_LOG" | grep -q "identity 'NVMe0R01 $HOSTNQN $NQN'.*records in $rec" ||
		tdie "the target did not log a v0 identity with records in $rec"
	bytes=$(stat -c %s "/tmp/tls-$rec.pcap")
	[ "$bytes" -gt $((2 << 20)) ] || tdie "the capture holds $bytes bytes: 2 MiB moved both ways"
	! grep -qa 'NVMF-TLS-CLEARTEXT-MARKER' "/tmp/tls-$rec.pcap" || tdie "the data is in the clear on the TLS port"
	! connect_data_in "/tmp/tls-$rec.pcap" || tdie "Connect's data is in the clear on the TLS port"
	step "    v1 and v0 identities: 1 MiB written and read back; capture of $bytes bytes has no cleartext"
	stop_target
done

step "control and refusals"
start_target auto
capture 4421 /tmp/plain.pcap
rw 4421 || tdie "plaintext write/read: $(cat /tmp/nv.out)"
capture_stop
grep -qa 'NVMF-TLS-CLEARTEXT-MARKER' /tmp/plain.pcap || tdie "the plaintext capture lacks the pattern: the check above proves nothing"
connect_data_in /tmp/plain.pcap || tdie "the plaintext capture lacks Connect's data"
step "    plaintext port: the pattern and Connect's data are visible in its capture"
wrong=$("$NVMF" gen-tls-key -m 1)
! rw 4420 --tls --tls-key "$wrong" || tdie "a wrong PSK was accepted"
step "    wrong PSK refused: $(grep -m1 -i 'tls' /tmp/nv.out)"
! rw 4420 || tdie "a plaintext host was served on the TLS-required port"
step "    plaintext host on the TLS port refused: $(head -n1 /tmp/nv.out)"
# nvmf perf over TLS: 2 I/O queues, each its own handshake, records in the kernel
"$NVMF" perf -r "trtype:tcp adrfam:ipv4 traddr:127.0.0.1 trsvcid:4420 subnqn:$NQN hostnqn:$HOSTNQN" \
	-q 16 -o 4096 -w randread -t 2 -P 2 --tls-key "$KEY" --tls-record kernel >/tmp/perf.out 2>&1 ||
	tdie "nvmf perf --tls-key: $(tail -n 5 /tmp/perf.out)"
iops=$(awk '$1 == "Total" && $2 == ":" { print $3 }' /tmp/perf.out)
awk -v v="${iops:-0}" 'BEGIN { exit !(v > 0) }' || tdie "nvmf perf over TLS: Total IOPS '${iops:-}'"
step "    nvmf perf --tls-key --tls-record kernel, 2 queue pairs: $iops IOPS (TCG: behaviour only)"
! grep -rqF "${KEY:16:40}" "$TGT_LOG" /tmp/nv.out /tmp/perf.out || tdie "the key appears in a log"
stop_target
step "PASS"
