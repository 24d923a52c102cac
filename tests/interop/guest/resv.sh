#!/usr/bin/env bash
# Guest side of test-resv.sh: NVMe reservations of our nvmf-target driven by the Linux kernel
# host and nvme-cli 2.3's resv-* commands, from two hosts: one guest connects twice to the
# same subsystem (through its two ports) with two host NQNs and host IDs (nvme connect
# --hostnqn/--hostid), so the target sees two hosts with one controller each, and the
# kernel's native multipath puts both under one subsystem.
#
# Which host a command comes from: nvme-cli given the controller's char device (/dev/nvmeX
# with --namespace-id) sends the I/O command through that controller (the kernel's
# NVME_IOCTL_IO_CMD on a controller with one namespace), whatever native multipath does
# with the block device. So every step names the controller of host A or host B.
#   1. id-ctrl ONCS has reservations, id-ns RESCAP all types + IEKEY + PTPL
#   2. A and B register; A acquires Write Exclusive; resv-report --eds (binary) from B shows
#      the type, two registrants and A as holder
#   3. B's write is refused with Reservation Conflict; B's read and A's write pass
#   4. B preempts and aborts A: A's writes are refused; A's Reservation Notification log
#      (get-log 0x80) says "registration preempted" for namespace 1
#   5. A registers again; B releases: A's log says "reservation released"
#   6. B clears: A's log says "reservation preempted"; the report shows no registrant
#   7. the kernel logged no nvme reset or timeout; the target stops cleanly (exit 0)
# Runs inside vm-run as root; exit 0 = pass. NVMF_TARGET: the nvmf-target binary.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

TGT_BIN=${NVMF_TARGET:-$top/build/src/tools/nvmf-target}
NQN=nqn.2024-01.io.nvmf-tcp:interop-resv
HOSTNQN_A=nqn.2014-08.org.nvmexpress:uuid:a1a1a1a1-0000-4000-8000-0000000000a1
HOSTID_A=a1a1a1a1-0000-4000-8000-0000000000a1
HOSTNQN_B=nqn.2014-08.org.nvmexpress:uuid:b2b2b2b2-0000-4000-8000-0000000000b2
HOSTID_B=b2b2b2b2-0000-4000-8000-0000000000b2
IMG=/tmp/resv.img
CFG=/tmp/resv.json
TGT_LOG=/tmp/resv-target.log
TGT_PID=''

[ -x "$TGT_BIN" ] || die "no nvmf-target at $TGT_BIN (run scripts/build release)"

tdie() {
	echo "    --- last lines of $TGT_LOG ---" >&2
	tail -n 30 "$TGT_LOG" | sed 's/^/    | /' >&2 || true
	die "$@"
}

cleanup() {
	local rc=$?
	trap - EXIT
	nvme disconnect -n "$NQN" >/dev/null 2>&1 || true
	[ -z "$TGT_PID" ] || kill -KILL "$TGT_PID" 2>/dev/null || true
	exit "$rc"
}
trap cleanup EXIT

# ctrl_of HOSTNQN: the controller (nvmeX) this guest connected to $NQN as HOSTNQN.
ctrl_of() {
	local c
	for c in /sys/class/nvme/nvme*; do
		[ "$(cat "$c/subsysnqn" 2>/dev/null)" = "$NQN" ] || continue
		[ "$(cat "$c/hostnqn" 2>/dev/null)" = "$1" ] || continue
		echo "${c##*/}"
		return 0
	done
	return 1
}

# report_field CTRL OFFSET LEN: bytes of the extended Reservation Status (unsigned LE).
report_field() {
	nvme resv-report "/dev/$1" --namespace-id=1 --eds --raw-binary >/tmp/report.bin ||
		tdie "resv-report through $1 failed"
	od -An -tu1 -j "$2" -N "$3" /tmp/report.bin | awk '{ v = 0; for (i = NF; i >= 1; i--) v = v * 256 + $i; print v }'
}

# notice_type CTRL: the type of the oldest Reservation Notification log entry (0 = empty).
notice_type() {
	nvme get-log "/dev/$1" --log-id=0x80 --log-len=64 --raw-binary >/tmp/notice.bin ||
		tdie "get-log 0x80 through $1 failed"
	od -An -tu1 -j 8 -N 1 /tmp/notice.bin | tr -d ' '
}

# write_via CTRL: one 512-byte Write of LBA 0 through controller CTRL; prints nvme-cli's
# output, fails as nvme-cli does.
write_via() {
	nvme io-passthru "/dev/$1" --namespace-id=1 --opcode=0x01 --data-len=512 --write \
		--input-file=/tmp/blk --cdw10=0 --cdw11=0 --cdw12=0 2>&1
}
read_via() {
	nvme io-passthru "/dev/$1" --namespace-id=1 --opcode=0x02 --data-len=512 --read \
		--cdw10=0 --cdw11=0 --cdw12=0 >/dev/null 2>&1
}

# expect_conflict CTRL: a write through CTRL fails with Reservation Conflict.
expect_conflict() {
	local out
	if out=$(write_via "$1"); then
		tdie "write through $1 succeeded, want Reservation Conflict"
	fi
	grep -qi "conflict" <<<"$out" || tdie "write through $1: $out (want Reservation Conflict)"
}

# --- target -------------------------------------------------------------------------------
truncate -s 64M "$IMG"
head -c 512 /dev/urandom >/tmp/blk
cat >"$CFG" <<EOF
{ "hosts": [],
  "ports": [ { "portid": 1, "addr": { "trtype": "tcp", "adrfam": "ipv4", "traddr": "127.0.0.1",
                "trsvcid": "4420", "treq": "not specified" },
               "referrals": [], "subsystems": [ "$NQN" ] },
             { "portid": 2, "addr": { "trtype": "tcp", "adrfam": "ipv4", "traddr": "127.0.0.2",
                "trsvcid": "4420", "treq": "not specified" },
               "referrals": [], "subsystems": [ "$NQN" ] } ],
  "subsystems": [ { "nqn": "$NQN", "allowed_hosts": [], "attr": { "allow_any_host": "1" },
      "namespaces": [ { "nsid": 1, "enable": 1, "resv": { "enable": "1" },
                        "device": { "path": "$IMG", "block_size": 512 } } ] } ] }
EOF
"$TGT_BIN" --config "$CFG" >"$TGT_LOG" 2>&1 &
TGT_PID=$!
wait_for 20 grep -q "listening on 127.0.0.2:4420" "$TGT_LOG" || tdie "target not listening on both ports"
step "target up (pid $TGT_PID)"

# --- two hosts ----------------------------------------------------------------------------
modprobe nvme-tcp
nvme connect -t tcp -a 127.0.0.1 -s 4420 -n "$NQN" --hostnqn="$HOSTNQN_A" --hostid="$HOSTID_A" >&2 ||
	tdie "connect as host A failed"
# Host B through the second port: nvme-cli 2.3 calls a second connect to the same address
# and subsystem "already connected" whatever the host NQN (even with --duplicate-connect)
nvme connect -t tcp -a 127.0.0.2 -s 4420 -n "$NQN" --hostnqn="$HOSTNQN_B" --hostid="$HOSTID_B" >&2 ||
	tdie "connect as host B failed"
wait_for 10 ctrl_of "$HOSTNQN_A" >/dev/null || tdie "no controller for host A"
wait_for 10 ctrl_of "$HOSTNQN_B" >/dev/null || tdie "no controller for host B"
A=$(ctrl_of "$HOSTNQN_A")
B=$(ctrl_of "$HOSTNQN_B")
[ "$A" != "$B" ] || tdie "one controller for both hosts"
[ "$(cat /sys/class/nvme/"$A"/hostid)" = "$HOSTID_A" ] || tdie "$A: host ID $(cat /sys/class/nvme/"$A"/hostid)"
step "host A: $A, host B: $B"

# 1. Identify
# raw structures read with od: python3 would take most of a minute to start under TCG
nvme id-ctrl "/dev/$A" --raw-binary >/tmp/id-ctrl.bin || tdie "id-ctrl failed"
oncs=$(od -An -tu2 -j 520 -N 2 /tmp/id-ctrl.bin | tr -d ' ')
[ $((oncs & 0x20)) -ne 0 ] || tdie "ONCS $oncs: no reservations"
nvme id-ns "/dev/$A" --namespace-id=1 --raw-binary >/tmp/id-ns.bin || tdie "id-ns failed"
rescap=$(od -An -tu1 -j 31 -N 1 /tmp/id-ns.bin | tr -d ' ')
[ "$rescap" -eq 255 ] || tdie "RESCAP $rescap, want 255 (all types, IEKEY, PTPL)"
step "1. ONCS $oncs, RESCAP $rescap"

# 2. register, acquire, report
nvme resv-register "/dev/$A" --namespace-id=1 --nrkey=0xa1 --rrega=0 >&2 || tdie "A: register failed"
nvme resv-register "/dev/$B" --namespace-id=1 --nrkey=0xb2 --rrega=0 >&2 || tdie "B: register failed"
nvme resv-acquire "/dev/$A" --namespace-id=1 --crkey=0xa1 --rtype=1 --racqa=0 >&2 || tdie "A: acquire failed"
! nvme resv-acquire "/dev/$B" --namespace-id=1 --crkey=0xb2 --rtype=1 --racqa=0 >/dev/null 2>&1 ||
	tdie "B acquired a reservation A holds"
[ "$(report_field "$B" 4 1)" -eq 1 ] || tdie "report: type $(report_field "$B" 4 1), want 1"
[ "$(report_field "$B" 5 2)" -eq 2 ] || tdie "report: $(report_field "$B" 5 2) registrants, want 2"
# the registrant entries (64 bytes each after the 64-byte header): A's is the holder
for i in 0 1; do
	key=$(report_field "$B" $((64 + 64 * i + 8)) 8)
	holder=$(report_field "$B" $((64 + 64 * i + 2)) 1)
	case $key in
	161) [ "$holder" -eq 1 ] || tdie "report: A (key 0xa1) is not the holder" ;;
	178) [ "$holder" -eq 0 ] || tdie "report: B (key 0xb2) shown as holder" ;;
	*) tdie "report: unexpected key $key" ;;
	esac
done
step "2. A and B registered, A holds Write Exclusive (resv-report --eds agrees)"

# 3. conflicts
expect_conflict "$B"
read_via "$B" || tdie "B's read refused under Write Exclusive"
write_via "$A" >/dev/null || tdie "A's write (the holder) refused"
step "3. B's write: Reservation Conflict; B's read and A's write pass"

# 4. preempt and abort
[ "$(notice_type "$A")" -eq 0 ] || tdie "A's notification log not empty before the preempt"
nvme resv-acquire "/dev/$B" --namespace-id=1 --crkey=0xb2 --prkey=0xa1 --rtype=1 --racqa=2 >&2 ||
	tdie "B: preempt and abort failed"
expect_conflict "$A"
write_via "$B" >/dev/null || tdie "B's write (the new holder) refused"
[ "$(report_field "$A" 5 2)" -eq 1 ] || tdie "report after preempt: $(report_field "$A" 5 2) registrants, want 1"
[ "$(notice_type "$A")" -eq 1 ] || tdie "A's notification: $(notice_type "$A"), want 1 (registration preempted)"
[ "$(notice_type "$B")" -eq 0 ] || tdie "B got a notification of its own preempt"
step "4. B preempted and aborted A: A's writes refused, A told (registration preempted)"

# 5. release (Write Exclusive - Registrants Only, so the other registrant is told)
nvme resv-register "/dev/$A" --namespace-id=1 --nrkey=0xa1 --rrega=0 >&2 || tdie "A: register again failed"
nvme resv-acquire "/dev/$B" --namespace-id=1 --crkey=0xb2 --prkey=0xb2 --rtype=3 --racqa=1 >&2 ||
	tdie "B: change to Write Exclusive - Registrants Only failed"
[ "$(notice_type "$A")" -eq 2 ] || tdie "A's notification after the type change: want 2 (released)"
write_via "$A" >/dev/null || tdie "A (a registrant) refused under Registrants Only"
nvme resv-release "/dev/$B" --namespace-id=1 --crkey=0xb2 --rtype=3 --rrela=0 >&2 || tdie "B: release failed"
[ "$(notice_type "$A")" -eq 2 ] || tdie "A's notification after the release: want 2 (released)"
[ "$(report_field "$A" 4 1)" -eq 0 ] || tdie "a reservation is left after the release"
step "5. B released: A told (reservation released)"

# 6. clear
nvme resv-acquire "/dev/$B" --namespace-id=1 --crkey=0xb2 --rtype=2 --racqa=0 >&2 || tdie "B: acquire EA failed"
nvme resv-release "/dev/$B" --namespace-id=1 --crkey=0xb2 --rrela=1 >&2 || tdie "B: clear failed"
[ "$(notice_type "$A")" -eq 3 ] || tdie "A's notification after the clear: want 3 (preempted)"
[ "$(report_field "$B" 5 2)" -eq 0 ] || tdie "registrants left after the clear"
write_via "$A" >/dev/null || tdie "A's write refused after the clear"
step "6. B cleared: A told (reservation preempted), nobody registered"

# 7. clean end
nvme disconnect -n "$NQN" >&2 || tdie "disconnect failed"
! dmesg | grep -Eq 'nvme[0-9]+: (I/O .* timeout|resetting controller)' ||
	tdie "the kernel reset a controller: $(dmesg | grep -E 'nvme[0-9]+: ' | tail -5)"
kill -TERM "$TGT_PID"
rc=0
wait "$TGT_PID" || rc=$?
TGT_PID=''
[ "$rc" -eq 0 ] || tdie "target exit status $rc after SIGTERM"
grep -q 'preempt and abort' "$TGT_LOG" || tdie "the target did not log the preempt and abort"
step "7. disconnected, no controller reset, target exit 0"
step "PASS"
