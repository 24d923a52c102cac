#!/usr/bin/env bash
# Guest side of test-tls-linux.sh: TLS 1.3 with PSKs against Linux, both directions.
# tlshd (ktls-utils 1.0.0) and nvme-cli 2.13 run from the Debian 13 root in
# NVMF_DEBIAN13_ROOT (chroot); the kernel is the test bed's 6.12.
#   A. the kernel host against nvmf-target on a tls1.3 port (keys file entry "compat": the
#      derivation of nvme-cli 2.13's libnvme 1.13):
#      1 nvme connect --tls --tls-key (v1 identity), 2 I/O queues, fio verify; a capture of
#        a marker written to the device holds no cleartext; target records in the kernel
#      2 a v0 key put in .nvme by nvme check-tls-key -i, nvme connect --tls finds it;
#        target records in user space
#      3 nvme discover --tls: the log page's entries say sectype tls13
#      4 refused: a wrong key, a plaintext host; a SHA-384 key, which tlshd 1.0.0 binds with
#        SHA-256 (GnuTLS 3.8.9 lacks the calls that take the hash), is refused with a log
#        line that says so (and served, if a fixed tlshd makes a SHA-384 binder)
#   B. libnvmf against the kernel's nvmet (addr_tsas tls1.3) whose keys nvme-cli 2.13
#      inserted into .nvme: v1 and v0 identities, records in user space and in the kernel,
#      1 MiB written and read back, no cleartext in a capture; nvmf discover --tls shows
#      sectype tls13; nvmf perf --verify over TLS; refused: the spec's derivation where
#      the keyring holds compat keys, a wrong key, a plaintext host
# No key may appear in our tools' or the target's output.
# Runs inside vm-run as root; exit 0 = pass. NVMF_TARGET, NVMF_BIN, NVMF_DEBIAN13_ROOT
# come from test-tls-linux.sh.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

TGT_BIN=${NVMF_TARGET:-$top/build/src/tools/nvmf-target}
NVMF=${NVMF_BIN:-$top/build/src/tools/nvmf}
R=${NVMF_DEBIAN13_ROOT:?the Debian 13 root (test-tls-linux.sh sets it)}
NQN=nqn.2024-01.io.nvmf-tcp:interop-tls-linux
DNQN=nqn.2014-08.org.nvmexpress.discovery
HOSTNQN=nqn.2014-08.org.nvmexpress:uuid:3e1d5c7a-9b2f-4e68-a0c4-5d7f9e1b3a26
HOSTID=3e1d5c7a-9b2f-4e68-a0c4-5d7f9e1b3a26
TGT_PID='' TLSHD_PID='' TCPDUMP_PID='' TGT_LOG=/tmp/tlsl-target.log TLSHD_LOG=/tmp/tlshd.log
cd /tmp

tdie() {
	[ ! -f "$TGT_LOG" ] || tail -n 20 "$TGT_LOG" | sed 's/^/    target | /' >&2
	[ ! -f "$TLSHD_LOG" ] || tail -n 10 "$TLSHD_LOG" | sed 's/^/    tlshd | /' >&2
	dmesg | grep -v 'ELF header' | tail -n 10 | sed 's/^/    dmesg | /' >&2
	die "$@"
}
cleanup() {
	local rc=$?
	trap - EXIT
	nvme disconnect-all >/dev/null 2>&1 || true
	[ -z "$TCPDUMP_PID" ] || kill "$TCPDUMP_PID" 2>/dev/null || true
	[ -z "$TGT_PID" ] || { kill -KILL "$TGT_PID" 2>/dev/null; wait "$TGT_PID" 2>/dev/null; } || true
	[ -z "$TLSHD_PID" ] || kill "$TLSHD_PID" 2>/dev/null || true
	knvmet_teardown >/dev/null 2>&1 || true
	exit "$rc"
}
trap cleanup EXIT

[ -x "$R/usr/sbin/tlshd" ] && [ -x "$R/usr/sbin/nvme" ] || die "no tlshd / nvme in $R"
# The Debian 13 tools see this kernel through the usual mounts.
for m in proc sys dev; do mount --bind "/$m" "$R/$m"; done
mount -t tmpfs tmpfs "$R/tmp"
nvme13() { chroot "$R" nvme "$@"; }
keyctl13() { chroot "$R" keyctl "$@"; }

# The .nvme keyring exists once nvme-keyring is loaded (nvme-tcp and nvmet-tcp pull it in);
# tlshd links it at start, so it starts after them. kTLS needs the tls module.
modprobe nvme-tcp
modprobe nvmet-tcp
modprobe tls
grep -q ' keyring *\.nvme: ' /proc/keys || die "no .nvme keyring after loading nvme-tcp"
chroot "$R" tlshd -s >"$TLSHD_LOG" 2>&1 &
TLSHD_PID=$!
wait_for 10 grep -q 'Built from' "$TLSHD_LOG" || die "tlshd did not start: $(cat "$TLSHD_LOG")"
step "Debian 13 root: $(nvme13 version | head -n1), $(grep -o 'ktls-utils [0-9.]*' "$TLSHD_LOG"), tlshd pid $TLSHD_PID"

# new_key HMAC: an interchange key from our generator; kept for the no-secret-in-logs check
new_key() {
	local k
	k=$("$NVMF" gen-tls-key -m "$1") || die "nvmf gen-tls-key -m $1 failed"
	echo "$k" >>/tmp/tlsl-secrets
	echo "$k"
}
KEY=$(new_key 1)
head -c 1M < <(yes NVMF-TLS-LINUX-CLEARTEXT) >/tmp/pattern.bin

capture() {
	tcpdump -i lo -U -s 0 -B 16384 -w "$2" "tcp port $1" 2>/tmp/tcpdump.log &
	TCPDUMP_PID=$!
	wait_for 10 grep -q 'listening on' /tmp/tcpdump.log || die "tcpdump did not start"
}
capture_stop() {
	sleep 0.5
	kill -INT "$TCPDUMP_PID"
	wait "$TCPDUMP_PID" || true
	TCPDUMP_PID=''
}
# no_cleartext PCAP MIN: the capture moved at least MIN bytes and lacks the marker
no_cleartext() {
	local bytes
	bytes=$(stat -c %s "$1")
	[ "$bytes" -ge "$2" ] || tdie "$1 holds $bytes bytes, want >= $2"
	! grep -qa 'NVMF-TLS-LINUX-CLEARTEXT' "$1" || tdie "$1: the data is in the clear"
	echo "$bytes"
}

# ============================================================================================
step "A. the Linux host (nvme-tcp + tlshd) against nvmf-target"
truncate -s 64M /tmp/tlsl.img
cat >/tmp/tlsl-config.json <<JSON
{
  "hosts": [],
  "ports": [
    {"addr": {"adrfam": "ipv4", "traddr": "127.0.0.1", "treq": "required",
              "trsvcid": "4420", "trtype": "tcp", "tsas": "tls1.3"},
     "portid": 1, "referrals": [], "subsystems": ["$NQN"]}
  ],
  "subsystems": [
    {"allowed_hosts": [], "attr": {"allow_any_host": "1"},
     "namespaces": [{"enable": 1, "nsid": 1, "device": {"path": "/tmp/tlsl.img"}}],
     "nqn": "$NQN"}
  ]
}
JSON
keys_file() {
	echo "$HOSTNQN $1 compat" >/tmp/tlsl.keys
	chmod 600 /tmp/tlsl.keys
}
start_target() {
	"$TGT_BIN" --config /tmp/tlsl-config.json --tls-keys /tmp/tlsl.keys --tls-record "$1" \
		>>"$TGT_LOG" 2>&1 &
	TGT_PID=$!
	wait_for 20 tcp_listening 4420 || tdie "nvmf-target does not listen"
}
stop_target() {
	kill -TERM "$TGT_PID"
	wait "$TGT_PID" || tdie "nvmf-target exited $? after SIGTERM"
	TGT_PID=''
}
# log_since MARK: the target's log lines after line MARK
log_since() { tail -n +$(($1 + 1)) "$TGT_LOG"; }
khost() {
	nvme13 connect -t tcp -a 127.0.0.1 -s 4420 -n "$NQN" -q "$HOSTNQN" -I "$HOSTID" \
		--nr-io-queues 2 "$@" >/tmp/nvme.out 2>&1
}
kdev() {
	wait_for 10 nvme_ns_dev "$NQN" >/dev/null || tdie "no namespace block device for $NQN"
	nvme_ns_dev "$NQN"
}
kdown() {
	nvme13 disconnect -n "$NQN" >/dev/null || tdie "nvme disconnect failed"
	wait_for 10 nvme_gone "$NQN" || tdie "$NQN still connected after disconnect"
}

keys_file "$KEY"
: >"$TGT_LOG"
start_target kernel
mark=$(wc -l <"$TGT_LOG")
capture 4420 /tmp/tlsl-a1.pcap
khost --tls --tls-key "$KEY" || tdie "nvme connect --tls --tls-key: $(cat /tmp/nvme.out)"
dev=$(kdev)
dd if=/tmp/pattern.bin of="$dev" bs=1M seek=8 oflag=direct status=none || tdie "dd to $dev failed"
cmp -s /tmp/pattern.bin <(dd if="$dev" bs=1M skip=8 count=1 iflag=direct status=none) ||
	tdie "$dev: the marker did not read back"
capture_stop
rc=0
fio --name=tls-verify --filename="$dev" --ioengine=libaio --direct=1 --rw=randwrite --bs=4k \
	--iodepth=16 --size=16M --verify=crc32c --verify_fatal=1 --do_verify=1 \
	--verify_state_save=0 --output=/tmp/fio-a1.log >/dev/null 2>&1 || rc=$?
[ $rc -eq 0 ] && grep -q 'err= 0' /tmp/fio-a1.log || { cat /tmp/fio-a1.log >&2; tdie "fio verify over TLS failed"; }
kdown
n=$(log_since "$mark" | grep -c "identity 'NVMe1R01 $HOSTNQN $NQN .*records in kernel") || true
[ "$n" -ge 3 ] || tdie "want 3 TLS queues (admin + 2 I/O) with v1 identities and kernel records, found $n"
bytes=$(no_cleartext /tmp/tlsl-a1.pcap $((1 << 20)))
step "    nvme connect --tls --tls-key: $n queues NVMe1R01 (kTLS on the target), marker read back, fio verify; capture $bytes bytes, no cleartext"
stop_target

start_target user
mark=$(wc -l <"$TGT_LOG")
keyctl13 clear %:.nvme
nvme13 check-tls-key -d "$KEY" -n "$HOSTNQN" -c "$NQN" -I 0 -i >/tmp/nvme.out 2>&1 ||
	tdie "nvme check-tls-key -I 0 -i: $(cat /tmp/nvme.out)"
khost --tls || tdie "nvme connect --tls (v0 key in .nvme): $(cat /tmp/nvme.out)"
dev=$(kdev)
dd if=/tmp/pattern.bin of="$dev" bs=1M seek=4 oflag=direct status=none || tdie "dd to $dev failed"
cmp -s /tmp/pattern.bin <(dd if="$dev" bs=1M skip=4 count=1 iflag=direct status=none) ||
	tdie "$dev: the marker did not read back (v0)"
kdown
log_since "$mark" | grep -q "identity 'NVMe0R01 $HOSTNQN $NQN'.*records in user" ||
	tdie "the target did not log a v0 identity with records in user space"
step "    v0 key inserted by nvme check-tls-key -i, found by the kernel: marker read back (user records)"

nvme13 check-tls-key -d "$KEY" -n "$HOSTNQN" -c "$DNQN" -I 1 -i >/dev/null 2>&1 ||
	tdie "nvme check-tls-key for the discovery NQN failed"
nvme13 discover -t tcp -a 127.0.0.1 -s 4420 -q "$HOSTNQN" -I "$HOSTID" --tls >/tmp/disc.out 2>&1 ||
	tdie "nvme discover --tls: $(cat /tmp/disc.out)"
[ "$(grep -c '^sectype: *tls13' /tmp/disc.out)" -ge 1 ] && grep -q "^subnqn: *$NQN" /tmp/disc.out ||
	tdie "nvme discover --tls: no tls13 entry for $NQN: $(cat /tmp/disc.out)"
step "    nvme discover --tls: $(grep -c '^sectype: *tls13' /tmp/disc.out) entries with sectype tls13"

mark=$(wc -l <"$TGT_LOG")
wrong=$(new_key 1)
! khost --tls --tls-key "$wrong" || tdie "a wrong PSK was accepted"
log_since "$mark" | grep -q "the identity's hash or digest is not what the host's PSK gives" ||
	tdie "the target did not log the v1 digest mismatch"
! khost || tdie "a plaintext host was served on the TLS-required port"
log_since "$mark" | grep -q "plaintext ICReq on a port that requires TLS" ||
	tdie "the target did not log the plaintext host's refusal"
step "    wrong key (v1 digest mismatch) and plaintext host refused, each logged by name"

K384=$(new_key 2)
keys_file "$K384"
kill -HUP "$TGT_PID"
wait_for 10 grep -q 'configuration reloaded' "$TGT_LOG" || tdie "no reload after SIGHUP"
mark=$(wc -l <"$TGT_LOG")
if khost --tls --tls-key "$K384"; then
	dev=$(kdev)
	cmp -s /tmp/pattern.bin <(dd if="$dev" bs=1M skip=4 count=1 iflag=direct status=none) ||
		tdie "$dev: the marker did not read back (SHA-384)"
	kdown
	step "    SHA-384 key: served (this tlshd binds with SHA-384)"
else
	log_since "$mark" | grep -q "binder is not SHA-384" ||
		tdie "a SHA-384 key failed without the binder diagnosis: $(log_since "$mark" | tail -n 3)"
	step "    SHA-384 key: tlshd 1.0.0 binds it with SHA-256; refused, logged: $(log_since "$mark" | grep -o 'binder is not SHA-384')"
fi
stop_target
keyctl13 clear %:.nvme

# ============================================================================================
step "B. libnvmf (nvmf --tls) against the kernel's nvmet (addr_tsas tls1.3)"
brd_setup 64
knvmet_setup "$NQN" /dev/ram0 1 4430 tsas=tls1.3
[ "$(cat "$NVMET/ports/1/addr_treq")" = required ] || tdie "nvmet: treq $(cat "$NVMET/ports/1/addr_treq")"
for v in 1 0; do
	nvme13 check-tls-key -d "$KEY" -n "$HOSTNQN" -c "$NQN" -I "$v" -i >/dev/null 2>&1 ||
		tdie "nvme check-tls-key -I $v -i failed"
done
nvme13 check-tls-key -d "$KEY" -n "$HOSTNQN" -c "$DNQN" -I 1 -i >/dev/null 2>&1 ||
	tdie "nvme check-tls-key (discovery) failed"
step "    nvme check-tls-key -i: $(keyctl13 rlist %:.nvme | wc -w) keys in .nvme"
TRID=(-t tcp -a 127.0.0.1 -s 4430 -q "$HOSTNQN")
rw() {
	rm -f /tmp/back.bin
	"$NVMF" write "${TRID[@]}" -n "$NQN" --start-block 1024 -d /tmp/pattern.bin "$@" \
		>/tmp/nv.out 2>&1 || return 1
	"$NVMF" read "${TRID[@]}" -n "$NQN" --start-block 1024 -z 1048576 -d /tmp/back.bin "$@" \
		>>/tmp/nv.out 2>&1 || return 1
	cmp -s /tmp/pattern.bin /tmp/back.bin
}
capture 4430 /tmp/tlsl-b.pcap
for rec in user kernel; do
	for v in 1 0; do
		rw --tls --tls-key "$KEY" --tls-compat --tls-identity-version "$v" --tls-record "$rec" ||
			tdie "nvmf write/read (identity v$v, $rec records): $(cat /tmp/nv.out)"
	done
done
capture_stop
bytes=$(no_cleartext /tmp/tlsl-b.pcap $((8 << 20)))
step "    1 MiB written and read back, identities v1 and v0, records in user space and kernel; capture $bytes bytes, no cleartext"

"$NVMF" discover "${TRID[@]}" --tls --tls-key "$KEY" --tls-compat >/tmp/disc.out 2>&1 ||
	tdie "nvmf discover --tls: $(cat /tmp/disc.out)"
grep -q "^sectype: *tls13" /tmp/disc.out && grep -q "^subnqn: *$NQN" /tmp/disc.out ||
	tdie "nvmf discover --tls: no tls13 entry for $NQN: $(cat /tmp/disc.out)"
step "    nvmf discover --tls: nvmet's log page says sectype tls13"

"$NVMF" perf -r "trtype:tcp adrfam:ipv4 traddr:127.0.0.1 trsvcid:4430 subnqn:$NQN hostnqn:$HOSTNQN" \
	-q 16 -o 4096 -w randwrite -t 3 -P 2 -V --tls-key "$KEY" --tls-compat --tls-record kernel \
	>/tmp/perf.out 2>&1 || tdie "nvmf perf --tls-key against nvmet: $(tail -n 5 /tmp/perf.out)"
v=$(grep -E '^Verify: [0-9]+ reads checked, [0-9]+ mismatches' /tmp/perf.out) ||
	tdie "nvmf perf -V printed no Verify line: $(tail -n 5 /tmp/perf.out)"
read -r _ checked _ _ mism _ <<<"$v"
[ "$checked" -gt 0 ] && [ "$mism" -eq 0 ] || tdie "nvmf perf -V over TLS: $v"
step "    nvmf perf -V, 2 queue pairs, kTLS: $checked reads checked, 0 mismatches"

! rw --tls --tls-key "$KEY" || tdie "the spec's derivation was served where .nvme holds compat keys"
step "    the spec's (RFC) derivation refused where nvme-cli 2.13 put compat keys: $(head -n1 /tmp/nv.out)"
! rw --tls --tls-key "$wrong" --tls-compat || tdie "a wrong PSK was accepted by nvmet"
! rw || tdie "nvmet served a plaintext host on its TLS port"
step "    wrong key and plaintext host refused"

for f in "$TGT_LOG" /tmp/nv.out /tmp/perf.out /tmp/disc.out; do
	while read -r k; do
		! grep -qF "${k:16:40}" "$f" || tdie "a key appears in $f"
	done </tmp/tlsl-secrets
done
step "PASS"
