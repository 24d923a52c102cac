#!/usr/bin/env bash
# Guest side of test-passthru.sh: our nvmf-target exports the guest's local NVMe controller
# (qemu's emulated one, vm-run --nvme) as a passthrough subsystem (config.json "passthru"),
# and the Linux kernel host in the same guest uses it over NVMe/TCP on 127.0.0.1:
#   1. the nvme module binds the local controller: /dev/nvme0, /dev/nvme0n1, /dev/ng0n1
#   2. nvmf-target starts from an nvmetcli-style config.json with a passthru section
#   3. nvme connect; Identify Controller over the fabric is the drive's, adjusted: its
#      serial, model and version, our subsystem NQN, a fabric CNTLID, MDTS no larger than the drive's
#      or ours, SGLs and capsule sizes of the TCP port, MSDBD 1; Identify Namespace: the
#      drive's size and LBA format, no metadata
#   4. data: a pattern written through the fabric reads back through the fabric and through
#      the local /dev/nvme0n1 (it is on the drive), in 128 KiB and in MDTS-sized commands;
#      fio write + crc32c verify
#   5. admin commands the target refuses with Invalid Opcode (DNR): Format NVM, Set Features
#      Interrupt Coalescing, Sanitize; the drive's data is untouched and the association
#      stays up (Set Features Host Behavior, refused with Invalid Field, never gets here: the
#      local kernel does not let user space send it)
#   6. nvme disconnect, then SIGTERM: exit 0, no sanitizer report
# Runs inside vm-run as root; exit 0 = pass, 77 = skip. Environment (test-passthru.sh):
#   NVMF_TARGET   the nvmf-target binary (default: build/ of this repository)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

TGT_BIN=${NVMF_TARGET:-$top/build/src/tools/nvmf-target}
NQN=nqn.2024-01.io.nvmf-tcp:interop-passthru
PORT=4420
# shellcheck source=tgt.sh
. "$here/tgt.sh"
TGT_LOG=/tmp/pt-target.log TGT_NAME=passthru
[ -x "$TGT_BIN" ] || die "no nvmf-target at $TGT_BIN"

tgt_guard "$NQN"
cd /tmp

# --- 1. the local drive ------------------------------------------------------------------
step "1. local NVMe controller"
modprobe nvme
wait_for 20 test -c /dev/nvme0 || die "/dev/nvme0 did not appear (vm-run --nvme?)"
wait_for 20 test -b /dev/nvme0n1 || die "/dev/nvme0n1 did not appear"
if ! wait_for 5 test -c /dev/ng0n1; then
	step "skip: no generic namespace device /dev/ng0n1 (kernel $(uname -r) older than 5.19?)"
	exit 77
fi
LOCAL_SN=$(nvme id-ctrl /dev/nvme0 -o json | jq -r .sn | sed 's/ *$//')
LOCAL_MDTS=$(nvme id-ctrl /dev/nvme0 -o json | jq -r .mdts)
LOCAL_SUBNQN=$(nvme id-ctrl /dev/nvme0 -o json | jq -r .subnqn)
LOCAL_VER=$(nvme id-ctrl /dev/nvme0 -o json | jq -r .ver)
LOCAL_NSZE=$(nvme id-ns /dev/nvme0n1 -o json | jq -r .nsze)
LOCAL_BYTES=$(blockdev --getsize64 /dev/nvme0n1)
step "    /dev/nvme0: sn '$LOCAL_SN', mdts $LOCAL_MDTS, subnqn $LOCAL_SUBNQN; nvme0n1 nsze $LOCAL_NSZE ($LOCAL_BYTES bytes)"
[ "$LOCAL_SN" = nvmftcp-pt0 ] || die "the local drive's serial is '$LOCAL_SN', want nvmftcp-pt0 (vm-run's)"

# --- 2. the target -----------------------------------------------------------------------
step "2. nvmf-target with a passthru subsystem"
cat >/tmp/pt.json <<EOF
{
  "hosts": [],
  "ports": [
    { "addr": { "adrfam": "ipv4", "traddr": "127.0.0.1", "treq": "not specified",
                "trsvcid": "$PORT", "trtype": "tcp" },
      "portid": 1, "referrals": [], "subsystems": [ "$NQN" ] }
  ],
  "subsystems": [
    { "allowed_hosts": [],
      "attr": { "allow_any_host": "1" },
      "namespaces": [],
      "nqn": "$NQN",
      "passthru": [ { "admin_timeout": 0, "clear_ids": 1, "device": { "path": "/dev/nvme0" },
                      "enable": 1, "io_timeout": 0 } ] }
  ]
}
EOF
"$TGT_BIN" --config /tmp/pt.json >"$TGT_LOG" 2>&1 &
TGT_PID=$!
n=200
until tcp_listening "$PORT"; do
	kill -0 "$TGT_PID" 2>/dev/null || { wait "$TGT_PID" || true; TGT_PID=''; tdie "target exited at start"; }
	n=$((n - 1))
	[ $n -gt 0 ] || tdie "target not listening on $PORT after 20 s"
	sleep 0.1
done
grep -q "passthrough of /dev/nvme0, 1 namespace(s)" "$TGT_LOG" || tdie "no passthrough line in the target log"
step "    $(grep -m1 'passthrough of' "$TGT_LOG" | sed 's/^[0-9T:.Z-]* info: //')"

# --- 3. connect, Identify ---------------------------------------------------------------
step "3. nvme connect, id-ctrl, id-ns"
modprobe nvme-tcp
DEV=$(khost_connect "$NQN")
CTRL=$(nvme_ctrl_name "$NQN")
[ "$CTRL" != nvme0 ] || die "the fabric controller is nvme0, the local drive's name"
step "    fabric controller /dev/$CTRL, namespace $DEV"
nvme id-ctrl "/dev/$CTRL" -o json >/tmp/idc.json
jqv() { jq -r "$1" /tmp/idc.json; }
[ "$(jqv .subnqn)" = "$NQN" ] || die "id-ctrl subnqn $(jqv .subnqn), want $NQN"
[ "$(jqv .sn | sed 's/ *$//')" = "$LOCAL_SN" ] || die "id-ctrl sn '$(jqv .sn)', want the drive's '$LOCAL_SN'"
cntlid=$(jqv .cntlid)
[ "$cntlid" -ge 1 ] && [ "$cntlid" -le 65519 ] || die "id-ctrl cntlid $cntlid, want 1..65519 (ours)"
mdts=$(jqv .mdts)
[ "$mdts" -ge 1 ] && [ "$mdts" -le 8 ] || die "id-ctrl mdts $mdts, want 1..8"
[ "$LOCAL_MDTS" -eq 0 ] || [ "$mdts" -le "$LOCAL_MDTS" ] || die "id-ctrl mdts $mdts above the drive's $LOCAL_MDTS"
[ "$(jqv .msdbd)" -eq 1 ] || die "id-ctrl msdbd $(jqv .msdbd), want 1"
[ "$(jqv .ioccsz)" -eq $(((64 + 16384) / 16)) ] || die "id-ctrl ioccsz $(jqv .ioccsz), want 1028 (64 B + 16 KiB in-capsule)"
[ "$(jqv .iorcsz)" -eq 1 ] || die "id-ctrl iorcsz $(jqv .iorcsz), want 1"
[ $(($(jqv .sgls) & 0x100003)) -eq $((0x100001)) ] || die "id-ctrl sgls $(jqv .sgls): want SGLs + offsets"
[ "$(jqv .hmpre)" -eq 0 ] || die "id-ctrl hmpre $(jqv .hmpre), want 0"
[ $(($(jqv .oncs) & 0x20)) -eq 0 ] || die "id-ctrl oncs $(jqv .oncs) offers reservations"
[ "$(jqv .kas)" -ne 0 ] || die "id-ctrl kas 0: keep-alive not ours"
# the drive's version (nvmet's rule, at least 1.2.1); the VS property has the same source
# (nvme-cli 2.3's show-regs cannot read properties over a fabric)
want_ver=$((LOCAL_VER < 0x10201 ? 0x10201 : LOCAL_VER))
[ "$(jqv .ver)" -eq "$want_ver" ] || die "id-ctrl ver $(jqv .ver), want $want_ver (the drive's)"
step "    id-ctrl: sn '$LOCAL_SN' and ver $(printf %#x "$want_ver") (drive's), subnqn ours, cntlid $cntlid, mdts $mdts (drive $LOCAL_MDTS), ioccsz $(jqv .ioccsz), msdbd 1, kas $(jqv .kas)"
nvme id-ns "$DEV" -o json >/tmp/idn.json
[ "$(jq -r .nsze /tmp/idn.json)" = "$LOCAL_NSZE" ] || die "id-ns nsze $(jq -r .nsze /tmp/idn.json), want $LOCAL_NSZE"
[ "$(jq -r .mc /tmp/idn.json)" -eq 0 ] || die "id-ns mc $(jq -r .mc /tmp/idn.json), want 0"
[ "$(jq -r .dps /tmp/idn.json)" -eq 0 ] || die "id-ns dps $(jq -r .dps /tmp/idn.json), want 0"
[ "$(blockdev --getsize64 "$DEV")" = "$LOCAL_BYTES" ] || die "$DEV size differs from the drive's"
step "    id-ns: nsze $LOCAL_NSZE, mc 0, dps 0; $DEV is $LOCAL_BYTES bytes"

# --- 4. data ------------------------------------------------------------------------------
step "4. data through the fabric lands on the drive"
head -c $((4 << 20)) /dev/urandom >/tmp/pattern
dd if=/tmp/pattern of="$DEV" bs=128k seek=8 oflag=direct conv=fsync status=none
dd if="$DEV" of=/tmp/back.fabric bs=128k skip=8 count=32 iflag=direct status=none
cmp /tmp/pattern /tmp/back.fabric || die "read back through the fabric differs"
dd if=/dev/nvme0n1 of=/tmp/back.local bs=128k skip=8 count=32 iflag=direct status=none
cmp /tmp/pattern /tmp/back.local || die "the local /dev/nvme0n1 does not hold what was written through the fabric"
step "    4 MiB at 1 MiB: written via $DEV, identical via $DEV and via /dev/nvme0n1"
# transfers of the whole MDTS: several of the target's 128 KiB buffers in one NVMe command
# (the vectored io_uring command)
big=$((4096 << mdts))
head -c $((4 * big)) /dev/urandom >/tmp/pattern.big
dd if=/tmp/pattern.big of="$DEV" bs="$big" seek=$(((16 << 20) / big)) oflag=direct conv=fsync status=none
dd if=/dev/nvme0n1 of=/tmp/back.big bs="$big" skip=$(((16 << 20) / big)) count=4 iflag=direct status=none
cmp /tmp/pattern.big /tmp/back.big || die "$big-byte writes through the fabric are not on the drive"
dd if="$DEV" of=/tmp/back.big bs="$big" skip=$(((16 << 20) / big)) count=4 iflag=direct status=none
cmp /tmp/pattern.big /tmp/back.big || die "$big-byte reads through the fabric differ"
step "    4 x $((big >> 10)) KiB (MDTS) at 16 MiB: on the drive, read back through the fabric"
fio --name=pt --filename="$DEV" --direct=1 --ioengine=libaio --rw=randwrite --bsrange=4k-128k \
	--iodepth=8 --size=4M --offset=8M --verify=crc32c --verify_fatal=1 --do_verify=1 \
	--randrepeat=1 --verify_state_save=0 --output=/tmp/fio.out >/dev/null ||
	{ cat /tmp/fio.out >&2; die "fio write+verify through the fabric failed"; }
grep -q 'err= 0' /tmp/fio.out || { cat /tmp/fio.out >&2; die "fio reported errors"; }
step "    fio randwrite 4-128 KiB, qd 8, 4 MiB, crc32c verify: ok"

# --- 5. refused admin commands -------------------------------------------------------------
step "5. refused admin commands"
# expect_status WANT CMD...: CMD must fail with NVMe status WANT (nvme-cli prints it in hex)
expect_status() {
	local want=$1 out; shift
	if out=$("$@" 2>&1); then die "'$*' succeeded, want status $want"; fi
	grep -qi "($want)" <<<"$out" || die "'$*': '$out', want status $want"
}
expect_status 0x4001 nvme format "/dev/$CTRL" -n 1 --force
expect_status 0x4001 nvme set-feature "/dev/$CTRL" -f 8 -v 0
# Sanitize (block erase): forwarded, it would wipe the drive (the data check below)
expect_status 0x4001 nvme admin-passthru "/dev/$CTRL" --opcode=0x84 --cdw10=0x2
dd if=/dev/nvme0n1 of=/tmp/back.local bs=128k skip=8 count=32 iflag=direct status=none
cmp /tmp/pattern /tmp/back.local || die "the drive's data changed after the refused commands"
nvme id-ctrl "/dev/$CTRL" >/dev/null || die "the association is gone after the refused commands"
step "    Format NVM, Set Features IRQ Coalescing, Sanitize: 0x4001 (Invalid Opcode, DNR); data intact"

# --- 6. stop ------------------------------------------------------------------------------
step "6. disconnect, stop"
khost_disconnect "$NQN"
kill -TERM "$TGT_PID"
rc=0
wait "$TGT_PID" || rc=$?
TGT_PID=''
[ "$rc" -eq 0 ] || tdie "target exit status $rc after SIGTERM, want 0"
! grep -Eq 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$TGT_LOG" ||
	tdie "sanitizer report in the target log"
grep -E ' (warn|error|err): ' "$TGT_LOG" | sed 's/^/    target log: /' >&2 || true
# refused commands may be logged as errors; a timeout or a reset would be a failure
if dmesg | grep -Ei 'nvme.*(timeout|resetting|reconnecting)' >&2; then
	die "the kernel timed out or reset an nvme controller"
fi
step "PASS"
