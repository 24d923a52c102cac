#!/usr/bin/env bash
# Guest side of test-faults.sh: the Linux kernel host (nvme-tcp, nvme-cli) against our
# nvmf-target over a veth link whose two ends get tc netem faults:
#
#   guest root netns  vh 10.77.5.1 ---- vt 10.77.5.2  netns nvmf-ft (nvmf-target --ram)
#
# The kernel host stays in the root namespace (its reconnect work runs in a kworker, which
# opens sockets there).  nvme connect -k 5 -c 1 -l 30 (keep-alive timeout 5 s, reconnect
# delay 1 s, ctrl_loss_tmo 30 s; -k 2 for the outages); fio (libaio, direct) writes and verifies
# with crc32c (verify_backlog) on the namespace while, one after the other in one fio run:
#   1. netem 1 % loss        2. netem 50 ms +- 10 ms delay
#   3. netem reordering      4. netem 2 % duplication
# then in a second run:
#   5. the link down 5 s     6. the target SIGSTOPped 5 s (stops reading and answering)
# and last 7. the link down 8 s after a reconnect as nvme connect -l 2: the kernel gives
# up, fio gets an I/O error and ends.
# Asserted: fio err=0 and reads verified in both runs (one bad block fails fio); writes
# complete again after each fault; no reconnect under netem; after 5 and 6 the kernel
# reconnected ("Successfully reconnected" in dmesg) and the controller is live; in 7 the
# controller is deleted and fio sees an I/O error, no verify error.  Printed, not asserted:
# throughput under each fault, time from its end to the first completion.
# The host's other half - a host that stops reading - cannot be modelled with the kernel
# host (its receive path is in the kernel, not in the stopped process): the libnvmf test
# (tests/integration/test_faults_netns.sh) covers it.
# Runs inside vm-run as root; exit 0 = pass.  Environment: NVMF_TARGET (release build).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

TGT_BIN=${NVMF_TARGET:-$top/build/src/tools/nvmf-target}
NQN=nqn.2024-01.io.nvmf-tcp:interop-faults
T=nvmf-ft
HA=10.77.5.1
TA=10.77.5.2

[ -x "$TGT_BIN" ] || die "no nvmf-target at $TGT_BIN (run scripts/build release)"
TGT_PID='' FIO_PID=''
cleanup() {
	local rc=$?
	trap - EXIT
	[ -z "$FIO_PID" ] || kill -KILL "$FIO_PID" 2>/dev/null || true
	[ -z "$TGT_PID" ] || kill -CONT "$TGT_PID" 2>/dev/null || true
	nvme disconnect -n "$NQN" >/dev/null 2>&1 || true
	[ -z "$TGT_PID" ] || { kill -TERM "$TGT_PID" 2>/dev/null; wait "$TGT_PID" 2>/dev/null; } || true
	ip netns del "$T" 2>/dev/null || true
	exit "$rc"
}
trap cleanup EXIT
cd /tmp

step "kernel $(uname -r), nvme-cli $(nvme version | awk 'NR==1{print $3}'), fio $(fio --version), $(nproc) vCPUs"
modprobe nvme-tcp
modprobe veth
modprobe sch_netem || die "no sch_netem module in the guest kernel"
wait_for 5 test -c /dev/nvme-fabrics || die "/dev/nvme-fabrics did not appear"

ip netns add "$T"
ip link add vh type veth peer name vt netns "$T"
ip addr add "$HA/24" dev vh
ip -n "$T" addr add "$TA/24" dev vt
ip link set vh up
ip -n "$T" link set vt up
ip -n "$T" link set lo up
tc qdisc replace dev vh root netem delay 0ms || die "tc qdisc netem does not work"
tc qdisc del dev vh root

ip netns exec "$T" "$TGT_BIN" --ram 128M --listen "$TA:4420" --nqn "$NQN" --cpus 1 \
	>/tmp/target.log 2>&1 &
TGT_PID=$!
wait_for 20 grep -q 'listening on' /tmp/target.log || { cat /tmp/target.log >&2; die "the target did not start"; }

# connect: prints the block device
connect() { # nvme connect flags...
	nvme connect -t tcp -a "$TA" -s 4420 -n "$NQN" "$@" >&2 || die "nvme connect $* failed"
	wait_for 10 nvme_ns_dev "$NQN" >/dev/null || die "no namespace block device for $NQN"
	nvme_ns_dev "$NQN"
}
ctrl_state() { cat "/sys/class/nvme/$(nvme_ctrl_name "$NQN")/state" 2>/dev/null || echo gone; }
reconnects() { dmesg | grep -c 'Successfully reconnected' || true; }
now_ms() { date +%s%3N; }
netem() { # ARGS (none: remove) - on both ends, each shapes its egress
	if [ $# -eq 0 ]; then
		tc qdisc del dev vh root 2>/dev/null || true
		tc -n "$T" qdisc del dev vt root 2>/dev/null || true
	else
		tc qdisc replace dev vh root netem "$@" && tc -n "$T" qdisc replace dev vt root netem "$@"
	fi
}

# fio_start NAME DEV OFFSET: 4 KiB random writes at QD16 in 16 MiB at OFFSET, verified,
# clat logged per I/O with Unix-epoch ms, until fio_stop (RUNTIME s at most); returns once
# it completes writes.  norandommap + io_size: no pass ends (fio would reopen the device);
# serialize_overlap: never two writes to one block in flight (their order is the device's).
fio_start() {
	local name=$1 dev=$2 off=$3
	rm -f "/tmp/$name"_clat.*.log
	fio --name="$name" --filename="$dev" --direct=1 --ioengine=libaio --rw=randwrite --bs=4k \
		--iodepth=16 --offset="$off" --size=16M --norandommap=1 --io_size=64g \
		--serialize_overlap=1 --verify=crc32c --verify_backlog=64 --verify_fatal=1 \
		--do_verify=1 --verify_state_save=0 --time_based=1 --runtime="${RUNTIME:-120}" \
		--write_lat_log="/tmp/$name" --log_unix_epoch=1 \
		>"/tmp/$name.out" 2>&1 &
	FIO_PID=$!
	flowing "$dev" 64 60
	sleep 1
}
# flowing DEV N SECONDS: DEV completed N more writes (field 5 of its stat) within SECONDS
flowing() {
	local w0 n=$(($3 * 10)) st=/sys/block/${1#/dev/}/stat
	w0=$(awk '{ print $5 }' "$st")
	while [ "$(awk '{ print $5 }' "$st")" -lt $((w0 + $2)) ]; do
		kill -0 "$FIO_PID" 2>/dev/null || return 1
		n=$((n - 1))
		[ $n -gt 0 ] || return 1
		sleep 0.1
	done
}
# fio_stop NAME: SIGINT (fio ends its jobs and reports; exit 128 then means fine)
fio_stop() {
	local rc=0
	kill -INT "$FIO_PID" 2>/dev/null || true
	wait "$FIO_PID" || rc=$?
	FIO_PID=''
	if [ "$rc" = 128 ] && grep -q 'terminating on signal 2' "/tmp/$1.out"; then rc=0; fi
	return "$rc"
}
fio_end() { # fio's exit status
	local rc=0
	wait "$FIO_PID" || rc=$?
	FIO_PID=''
	return "$rc"
}
fio_ok() { # NAME RC: exit 0, err=0, reads verified
	local reads
	reads=$(sed -n 's/.*issued rwts: total=\([0-9]*\),.*/\1/p' "/tmp/$1.out")
	[ "$2" = 0 ] && grep -q 'err= 0' "/tmp/$1.out" && [ "${reads:-0}" -gt 0 ]
}
verified() { sed -n 's/.*issued rwts: total=\([0-9]*\),.*/\1/p' "/tmp/$1.out"; }
rate() { # NAME FROM TO: MiB/s written, verify reads/s in [FROM, TO)
	awk -F', ' -v a="$2" -v b="$3" '$1 >= a && $1 < b { if ($3 == 1) w += $4; else r++ }
		END { s = (b - a) / 1000; printf "%.2f MiB/s written, %.0f verify reads/s", w / 1048576 / s, r / s }' \
		"/tmp/$1"_clat.*.log
}
resume() { # NAME AT: ms from AT to the first completion ("none")
	awk -F', ' -v t="$2" '$1 >= t { print $1 - t " ms"; f = 1; exit } END { if (!f) print "none" }' \
		"/tmp/$1"_clat.*.log
}
show_fail() { # NAME
	sed 's/^/    fio: /' "/tmp/$1.out" >&2
	dmesg | grep -i nvme | tail -20 | sed 's/^/    dmesg: /' >&2
	tail -20 /tmp/target.log | sed 's/^/    target: /' >&2
}

# KATO 5 s (the kernel's default) under netem: 2 s is tight for a loaded TCG guest, and
# these phases must not reconnect
step "connect: nvme connect -k 5 -c 1 -l 30 (KATO 5 s, reconnect delay 1 s, ctrl_loss_tmo 30 s)"
dev=$(connect -k 5 -c 1 -l 30)
step "    $dev, controller $(nvme_ctrl_name "$NQN") $(ctrl_state)"

# fault NUM WHAT DOWN-CMD UP-CMD [RECONNECT]: the fault for SECS (default 4) s under the fio
# run NAME; then I/O must flow again (128 writes within 30 s) - and, with RECONNECT, the
# kernel must have reconnected (else it must not have).  The window goes to /tmp/NAME.win.
fault() {
	local num=$1 what=$2 down=$3 up=$4 want=${5:-0} r0 t_on t_off
	r0=$(reconnects)
	t_on=$(now_ms)
	eval "$down" || die "$num. $what: could not set the fault"
	sleep "${SECS:-4}"
	eval "$up"
	t_off=$(now_ms)
	flowing "$dev" 128 30 || { fio_stop "$name" || true; show_fail "$name"; die "$num. $what: no I/O after the fault"; }
	if [ "$want" = reconnect ]; then
		[ "$(reconnects)" -gt "$r0" ] || { show_fail "$name"; die "$num. $what: the kernel host did not reconnect"; }
		[ "$(ctrl_state)" = live ] || { show_fail "$name"; die "$num. $what: controller $(ctrl_state)"; }
	else
		[ "$(reconnects)" = "$r0" ] || { show_fail "$name"; die "$num. $what: the kernel host reconnected"; }
	fi
	echo "$num|$what|$t_on|$t_off|$(($(reconnects) - r0))" >>"/tmp/$name.win"
	sleep 1
}
# report NAME: fio ended well; each fault's throughput, reconnects and time to resume
report() {
	local rc=0 num what t_on t_off rec
	fio_stop "$name" || rc=$?
	fio_ok "$name" "$rc" || { show_fail "$name"; die "fio failed (exit $rc)"; }
	step "    fio: 0 errors, $(verified "$name") verified reads over all of them"
	while IFS='|' read -r num what t_on t_off rec; do
		step "    $num. $what: $rec reconnect(s); under the fault $(rate "$name" "$t_on" "$t_off"); first completion $(resume "$name" "$t_off") after it"
	done <"/tmp/$name.win"
}

name=netem
step "1-4. netem faults on both ends, 4 s each, in one fio run (no reconnect allowed)"
fio_start "$name" "$dev" 0
fault 1 "1 % loss both ways" "netem loss 1%" netem
fault 2 "50 ms +- 10 ms delay both ways" "netem delay 50ms 10ms" netem
fault 3 "reordering (25 % of packets 10 ms ahead of the rest)" "netem delay 10ms reorder 25%" netem
fault 4 "2 % duplicated packets both ways" "netem duplicate 2%" netem
report

step "reconnect: nvme connect -k 2 -c 1 -l 30 (KATO 2 s: shorter than the outages)"
khost_disconnect "$NQN"
dev=$(connect -k 2 -c 1 -l 30)
name=outage
step "5-6. outages of 5 s in one fio run (the kernel must reconnect, no I/O error)"
fio_start "$name" "$dev" 32M
SECS=5 fault 5 "link down 5 s" "ip link set vh down" "ip link set vh up" reconnect
SECS=5 fault 6 "the target stops reading (SIGSTOP 5 s)" 'kill -STOP $TGT_PID' 'kill -CONT $TGT_PID' reconnect
report
dmesg | grep -iE 'nvme.*(keep-alive|keep alive|error recovery|reconnect)' | tail -6 | sed 's/^/    dmesg: /' >&2 || true

step "7. ctrl_loss_tmo 2 s (nvme connect -l 2), the link down until fio ends: the kernel gives up, fio gets an I/O error"
khost_disconnect "$NQN"
dev=$(connect -k 2 -c 1 -l 2)
name=lost
RUNTIME=30 fio_start "$name" "$dev" 112M
t_on=$(now_ms)
ip link set vh down
wait_for 20 sh -c "! kill -0 $FIO_PID" || true
t_end=$(now_ms)
ip link set vh up
if kill -0 "$FIO_PID" 2>/dev/null; then
	show_fail "$name"
	die "fio still running $((t_end - t_on)) ms after the link went down (ctrl_loss_tmo 2 s)"
fi
rc=0
fio_end "$name" || rc=$?
[ "$rc" != 0 ] || { show_fail "$name"; die "fio exited 0 although the controller was lost"; }
! grep -qiE 'verify failed|bad magic|verify: bad' "/tmp/$name.out" || { show_fail "$name"; die "a verify error, not an I/O error"; }
grep -qE 'err= *(5|19|6)[^0-9]|Input/output error|No such device' "/tmp/$name.out" ||
	{ show_fail "$name"; die "fio failed without an I/O error"; }
step "    fio ended $((t_end - t_on)) ms after the link went down: $(grep -Eo 'error=[A-Za-z /]+' "/tmp/$name.out" | head -n1); controller $(ctrl_state)"
dmesg | grep -iE 'nvme' | tail -3 | sed 's/^/    dmesg: /' >&2 || true

kill -0 "$TGT_PID" || die "the target died"
kill -TERM "$TGT_PID"
rc=0
wait "$TGT_PID" || rc=$?
TGT_PID=''
[ "$rc" = 0 ] || { tail -20 /tmp/target.log >&2; die "the target exited $rc after SIGTERM"; }
step "PASS"
