#!/usr/bin/env bash
# Guest side of test-rbd-gateway.sh: the Linux kernel host (nvme-cli, nvme-tcp, native
# multipath) in front of an RBD gateway pair running on the machine, reached over vm-run's
# tap (VM_RUN_NET_HOST):
#   1. once the host wrote gateways-up: nvme connect to gateway A and gateway B (ports
#      RBDGW_PORT_A/B): one /dev/nvmeXnY, two paths, A optimized and B inaccessible
#   2. fio randwrite (every 4 KiB block of the first FIO_MIB MiB once, crc32c) and read
#      back verified; once writes complete, io-running tells the host, which kills A and
#      promotes B (killed, promoted); the writes stall, then go on through B
#   3. fio exited 0, err=0, verified; writes completed after the kill; B's path optimized
#      and A's not live; the kernel log shows A's controller failing, B's ANA group 1
#      optimized (nvme_core's debug message, switched on here) and no I/O error
#   4. the md5 of the written region read back through the device goes to guest.md5 (the
#      host compares it with `rbd export`); the stall and its timing go to figures
# Runs inside vm-run as root (vm-run --net); exit 0 = pass.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

SHARE=${RBDGW_SHARE:?} NQN=${RBDGW_NQN:?} PA=${RBDGW_PORT_A:?} PB=${RBDGW_PORT_B:?}
HOST=${VM_RUN_NET_HOST:?run through vm-run --net}
HOSTNQN=nqn.2014-08.org.nvmexpress:uuid:6a1c2b3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d
HOSTID=6a1c2b3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d
FIO_MIB=16

# ctrl_of PORT: the controller (nvmeX) of $NQN connected to $HOST:PORT.
ctrl_of() {
	local c
	for c in /sys/class/nvme/nvme*; do
		[ "$(cat "$c/subsysnqn" 2>/dev/null)" = "$NQN" ] || continue
		grep -q "traddr=$HOST,trsvcid=$1" "$c/address" 2>/dev/null || continue
		echo "${c##*/}"
		return 0
	done
	return 1
}
ana_state_is() {
	local c
	c=$(ctrl_of "$1") || return 1
	[ "$(cat /sys/class/nvme/"$c"/nvme*c*n1/ana_state 2>/dev/null)" = "$2" ]
}
ctrl_state() {
	local c
	c=$(ctrl_of "$1") || { echo gone; return 0; }
	cat /sys/class/nvme/"$c"/state
}
ctrl_live() { [ "$(ctrl_state "$1")" = live ]; }
connect() {
	# reconnect every second for 10 minutes (longer than the test): A's reconnects fail
	# (refused) for the rest of the test, B's path carries the I/O meanwhile.  A killed gateway is seen at once (the
	# connection is reset); keep-alive 15 s rather than 5: a TCG guest on a loaded machine
	# can miss a 5 s keep-alive and reset a healthy path (harmless, but noise)
	nvme connect -t tcp -a "$HOST" -s "$1" -n "$NQN" --hostnqn="$HOSTNQN" --hostid="$HOSTID" \
		--reconnect-delay=1 --ctrl-loss-tmo=600 --keep-alive-tmo=15 >&2 || die "nvme connect $HOST:$1 failed"
	wait_for 60 ctrl_live "$1" || die "controller to $HOST:$1 not live"
}
one_device() {
	local d devs=() ctrls=0
	for d in /sys/class/nvme-subsystem/*/nvme*; do
		[ "$(cat "${d%/*}/subsysnqn" 2>/dev/null)" = "$NQN" ] || continue
		if [[ ${d##*/} =~ ^nvme[0-9]+n[0-9]+$ ]]; then
			devs+=("/dev/${d##*/}")
		elif [[ ${d##*/} =~ ^nvme[0-9]+$ ]]; then
			ctrls=$((ctrls + 1))
		fi
	done
	[ ${#devs[@]} -eq 1 ] && [ -b "${devs[0]}" ] || die "want one block device for $NQN, have: ${devs[*]}"
	[ $ctrls -eq 2 ] || die "want two controllers in the subsystem of $NQN, have $ctrls"
	echo "${devs[0]}"
}
writes_done() { awk '{ print $5 }' "/sys/block/${DEV#/dev/}/stat"; }

cleanup() {
	local rc=$?
	trap - EXIT
	[ -z "${MON_PID:-}" ] || kill "$MON_PID" 2>/dev/null || true
	[ -z "${FIO_PID:-}" ] || kill "$FIO_PID" 2>/dev/null || true
	if [ "$rc" -ne 0 ]; then
		dmesg | grep -iE 'nvme|I/O error' | tail -n 30 | sed 's/^/    dmesg | /' >&2 || true
		[ ! -s /tmp/fio.log ] || sed 's/^/    fio | /' /tmp/fio.log >&2
	fi
	nvme disconnect -n "$NQN" >/dev/null 2>&1 || true
	exit "$rc"
}
trap cleanup EXIT

modprobe nvme-tcp
[ "$(cat /sys/module/nvme_core/parameters/multipath 2>/dev/null)" = Y ] ||
	die "native NVMe multipath is off in this kernel (nvme_core.multipath)"
# The kernel logs a path's ANA state change at debug level only: switch that message on.
mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
echo 'func nvme_update_ana_state +p' >/sys/kernel/debug/dynamic_debug/control ||
	die "cannot switch on nvme_update_ana_state's debug message"

step "1. waiting for the gateways on $HOST ($(ip -o -4 addr show | awk '$2 != "lo" { print $2, $4 }'))"
wait_for 240 test -e "$SHARE/gateways-up" || die "the host did not start the gateways"
connect "$PA"
connect "$PB"
DEV=$(one_device)
A=$(ctrl_of "$PA") B=$(ctrl_of "$PB")
wait_for 30 ana_state_is "$PA" optimized || die "path A ($A) not optimized"
wait_for 30 ana_state_is "$PB" inaccessible || die "path B ($B) not inaccessible"
step "    one device $DEV: $A (A, cntlid $(cat /sys/class/nvme/"$A"/cntlid)) optimized, $B (B, cntlid $(cat /sys/class/nvme/"$B"/cntlid)) inaccessible"
nvme list-subsys "$DEV" 2>&1 | sed 's/^/    | /' >&2 || true
dmesg_mark=$(dmesg | wc -l)
# the stall is measured in the head device's write count: its I/O statistics on
echo 1 >"/sys/block/${DEV#/dev/}/queue/iostats"

step "2. fio: ${FIO_MIB} MiB randwrite + crc32c verify on $DEV; gateway A killed under it"
# Writes completed on the device, sampled every 0.1 s in the kernel log's clock (uptime, in
# ms; builtins only, so the sampling stays cheap under TCG): the failover shows in them.
(
	statf=/sys/block/${DEV#/dev/}/stat
	while :; do
		read -r up _ </proc/uptime
		read -r -a st <"$statf"
		echo "${up/./}0 ${st[4]}"
		sleep 0.1
	done
) >/tmp/samples &
MON_PID=$!
w0=$(writes_done)
fio --name=gw --filename="$DEV" --direct=1 --ioengine=libaio --rw=randwrite --bs=4k \
	--iodepth=8 --size=${FIO_MIB}M --rate=2m --verify=crc32c --verify_fatal=1 --do_verify=1 \
	--randrepeat=0 --verify_state_save=0 --output=/tmp/fio.log &
FIO_PID=$!
wrote_1m() { [ $(($(writes_done) - w0)) -ge 256 ]; }
wait_for 300 wrote_1m || die "fio did not write 1 MiB through A in 300 s"
: >"$SHARE/io-running"
step "    1 MiB written through A: the host kills A"
wait_for 120 test -e "$SHARE/killed" || die "the host did not kill gateway A"
w_seen=$(writes_done)
step "    A killed ($w_seen writes done); waiting for B's promotion"
wait_for 120 test -e "$SHARE/promoted" || die "the host did not promote gateway B"
wait_for 120 ana_state_is "$PB" optimized || die "path B ($B) not optimized after the promotion"
step "    the kernel sees B optimized; A's controller: $(ctrl_state "$PA")"
rc=0
wait "$FIO_PID" || rc=$?
FIO_PID=''
kill "$MON_PID"
wait "$MON_PID" 2>/dev/null || true
MON_PID=''
grep -E 'err=|WRITE:|READ:|verify' /tmp/fio.log | sed 's/^/    fio | /' >&2
[ "$rc" -eq 0 ] || die "fio exited $rc"
grep -q 'err= 0' /tmp/fio.log || die "fio reported errors"
! grep -Eq 'verify: bad|error' /tmp/fio.log || die "fio: verify errors"
w_end=$(writes_done)
[ "$w_end" -gt "$w_seen" ] || die "no write completed after A was killed: the failover was not under I/O"

step "3. the paths and the kernel log"
[ "$(ctrl_state "$PA")" != live ] || die "the controller to the killed gateway A is live"
ana_state_is "$PB" optimized || die "path B not optimized"
nvme list-subsys "$DEV" 2>&1 | sed 's/^/    | /' >&2 || true
klog=$(dmesg | tail -n +$((dmesg_mark + 1)) | grep -iE 'nvme|I/O error|blk_' || true)
# A's reconnect attempts (one a second, refused) and the requeued I/O are counted, not shown
grep -vE 'failed to connect socket|Failed reconnect attempt|Reconnecting in|requeuing I/O' <<<"$klog" |
	sed 's/^/    dmesg | /' >&2 || true
step "    dmesg: $(grep -c 'requeuing I/O' <<<"$klog" || true) 'no usable path - requeuing I/O', $(grep -c 'Failed reconnect attempt' <<<"$klog" || true) failed reconnects of $A"
bad=$(grep -iE 'I/O error|Buffer I/O|blk_update_request|critical|failed to (write|read)' <<<"$klog" || true)
[ -z "$bad" ] || die "the kernel logged I/O errors:"$'\n'"$bad"
grep -Eq "$B: ANA group 1: optimized" <<<"$klog" || die "no 'ANA group 1: optimized' from $B in the kernel log"
grep -Eq "$A: .*(error recovery|[Rr]econnect|failed to connect)" <<<"$klog" ||
	die "the kernel log shows no failure of $A"

step "4. checksum of the written region, figures"
sum=$(dd if="$DEV" bs=1M count=$FIO_MIB iflag=direct status=none | md5sum | cut -d' ' -f1)
echo "$FIO_MIB $sum" >"$SHARE/guest.md5"
# The failover in the kernel log's clock: from A's error recovery (the kill: the last one
# before B's group turned optimized) to B's group optimized, and to the first write that
# completed after it (through B: A is gone, nothing of A's completes once its recovery
# started), the stall measured from the last write completed through A.
kms() { sed -n 's/^\[ *\([0-9]*\)\.\([0-9]\{3\}\).*/\1\2/p' | sed 's/^0*\([0-9]\)/\1/'; }
k_opt=$(grep -F "$B: ANA group 1: optimized" <<<"$klog" | tail -n1 | kms)
k_err=$(awk -v a="$A: starting error recovery" -v b="$B: ANA group 1: optimized" '
	index($0, a) { l = $0 } index($0, b) { o = l } END { print o }' <<<"$klog" | kms)
[ -n "$k_err" ] && [ -n "$k_opt" ] || die "no error recovery of $A before $B's group turned optimized"
read -r t_last t_first < <(awk -v k="$k_err" '
	$1 >= k && wk == "" { wk = $2 }
	wk == "" { if ($2 > pw) { pw = $2; pt = $1 } }
	wk != "" && $2 > wk { first = $1; exit }
	END { printf "%.0f %.0f\n", pt, first }' /tmp/samples)
{
	echo "writes: $w_seen completed before the kill, $((w_end - w_seen)) after (4 KiB each)"
	echo "kernel log: $A's error recovery (the kill) -> $B's ANA group 1 optimized: $((k_opt - k_err)) ms"
	[ "$t_first" -eq 0 ] || {
		echo "$A's error recovery -> first write completed through $B: $((t_first - k_err)) ms"
		echo "write stall (last completion through A -> first through B): $((t_first - t_last)) ms"
	}
	echo "A's controller at the end: $(ctrl_state "$PA")"
} >"$SHARE/figures"
sed 's/^/    /' "$SHARE/figures" >&2
nvme disconnect -n "$NQN" >&2 || die "nvme disconnect failed"
wait_for 20 nvme_gone "$NQN" || die "$NQN still connected"
step "PASS"
