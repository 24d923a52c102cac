#!/usr/bin/env bash
# Guest side of test-ana.sh: the kernel host's native multipath over two paths of our
# nvmf-target, with fio write+verify running in a loop throughout (iopolicy round-robin, so
# both paths carry I/O when each change comes):
#   1. one target, ports 127.0.0.1:4420 and 127.0.0.2:4420 (config.json, ANA group 1
#      optimized on both): two controllers, one /dev/nvmeXnY, sysfs ana_state optimized
#   2. SIGHUP: group 1 inaccessible on 127.0.0.2 -> the host shows it (ANA change event),
#      I/O goes on through 127.0.0.1; SIGHUP back to optimized; non-optimized shown too
#   3. SIGHUP without port 127.0.0.1: its controller is torn down, the host reconnects in
#      vain, I/O goes on through 127.0.0.2; SIGHUP with it again: the path comes back live
#   4. two targets on one file (cntlid 1..99 on 127.0.0.1, 100..199 on 127.0.0.2): one
#      device; SIGKILL the first, I/O goes on through the second; restart it: live again
#   5. every fio pass exited 0 with err=0 and verified what it wrote; the kernel logged no
#      I/O error; every SIGTERM-ed target exited 0
# Runs inside vm-run as root; exit 0 = pass. NVMF_TARGET: the nvmf-target binary.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

TGT_BIN=${NVMF_TARGET:-$top/build/src/tools/nvmf-target}
NQN=nqn.2024-01.io.nvmf-tcp:interop-ana
IMG=/tmp/ana.img
IMG_MIB=64
ADDR1=127.0.0.1 ADDR2=127.0.0.2
# One fio pass: small enough for a pass every few seconds under TCG.
FIO_SIZE=${FIO_SIZE:-2M}

[ -x "$TGT_BIN" ] || die "no nvmf-target at $TGT_BIN (run scripts/build release)"

# --- target processes: slot 1 and slot 2 ------------------------------------------------------
declare -A PID LOG

tgt_context() {
	local s
	for s in 1 2; do
		[ -n "${LOG[$s]:-}" ] && [ -f "${LOG[$s]}" ] || continue
		echo "    --- last lines of ${LOG[$s]} ---" >&2
		tail -n 30 "${LOG[$s]}" | sed 's/^/    | /' >&2
	done
}
tdie() { tgt_context; die "$@"; }

# tgt_start SLOT CONFIG ADDR...: nvmf-target --config CONFIG, waits for "listening" on each
# ADDR:4420 (a restart appends to the same log).
tgt_start() {
	local slot=$1 cfg=$2 a n mark; shift 2
	LOG[$slot]=/tmp/tgt$slot.log
	touch "${LOG[$slot]}"
	mark=$(wc -l <"${LOG[$slot]}")
	"$TGT_BIN" --config "$cfg" --cpus 1 >>"${LOG[$slot]}" 2>&1 &
	PID[$slot]=$!
	for a in "$@"; do
		n=200
		until tail -n +$((mark + 1)) "${LOG[$slot]}" | grep -q "listening on $a:4420 "; do
			kill -0 "${PID[$slot]}" 2>/dev/null || tdie "target $slot exited at start"
			n=$((n - 1))
			[ $n -gt 0 ] || tdie "target $slot not listening on $a:4420 after 20 s"
			sleep 0.1
		done
	done
	step "    target $slot: pid ${PID[$slot]} on $*"
}

# tgt_stop SLOT: SIGTERM, exit 0 within 15 s.
tgt_stop() {
	local slot=$1 pid=${PID[$1]} rc=0 n=150
	kill -TERM "$pid"
	while kill -0 "$pid" 2>/dev/null; do
		n=$((n - 1))
		[ $n -gt 0 ] || { kill -KILL "$pid"; tdie "target $slot still running 15 s after SIGTERM"; }
		sleep 0.1
	done
	wait "$pid" || rc=$?
	PID[$slot]=''
	[ "$rc" -eq 0 ] || tdie "target $slot: exit status $rc after SIGTERM"
	step "    target $slot: SIGTERM -> exit 0"
}

# reloads SLOT: how many reloads target SLOT has logged.
reloads() { grep -c 'configuration reloaded' "${LOG[$1]}" || true; }
reloaded_past() { [ "$(reloads "$1")" -gt "$2" ]; }
# reload SLOT: SIGHUP, wait for the target to have applied it.
reload() {
	local slot=$1 before
	before=$(reloads "$slot")
	kill -HUP "${PID[$slot]}"
	wait_for 10 reloaded_past "$slot" "$before" ||
		tdie "target $slot: no 'configuration reloaded' after SIGHUP"
}

# write_config FILE CNTLID_MIN CNTLID_MAX "PORTID ADDR STATE" ...: one port per argument,
# listening on ADDR:4420 with ANA group 1 in STATE; the namespace in group 1. A port keeps
# its id across edits (a port whose id or address changes is a new port).
write_config() {
	local f=$1 cmin=$2 cmax=$3 sep='' id addr state; shift 3
	{
		echo '{ "hosts": [], "ports": ['
		for p in "$@"; do
			read -r id addr state <<<"$p"
			printf '%s{"portid": %d, "addr": {"adrfam": "ipv4", "traddr": "%s", "treq": "not specified", "trsvcid": "4420", "trtype": "tcp"},\n' "$sep" "$id" "$addr"
			printf '  "ana_groups": [{"ana": {"state": "%s"}, "grpid": 1}], "referrals": [], "subsystems": ["%s"]}\n' "$state" "$NQN"
			sep=','
		done
		cat <<EOF
], "subsystems": [{"nqn": "$NQN", "allowed_hosts": [],
  "attr": {"allow_any_host": "1", "cntlid_min": "$cmin", "cntlid_max": "$cmax"},
  "namespaces": [{"nsid": 1, "enable": 1, "ana": {"grpid": "1"}, "ana_grpid": 1,
                  "device": {"path": "$IMG", "nguid": "00000000-0000-0000-0000-000000000000"}}]}]}
EOF
	} >"$f"
}

# --- the host side --------------------------------------------------------------------------
# ctrl_of ADDR: the controller (nvmeX) of $NQN connected to ADDR.
ctrl_of() {
	local c
	for c in /sys/class/nvme/nvme*; do
		[ "$(cat "$c/subsysnqn" 2>/dev/null)" = "$NQN" ] || continue
		grep -q "traddr=$1," "$c/address" 2>/dev/null || continue
		echo "${c##*/}"
		return 0
	done
	return 1
}
# ana_state_is ADDR STATE: the path through ADDR shows ANA state STATE in sysfs.
ana_state_is() {
	local c
	c=$(ctrl_of "$1") || return 1
	[ "$(cat /sys/class/nvme/"$c"/nvme*c*n1/ana_state 2>/dev/null)" = "$2" ]
}
# ctrl_state_is ADDR STATE: the controller through ADDR is STATE (live, connecting, ...).
ctrl_state_is() {
	local c
	c=$(ctrl_of "$1") || return 1
	[ "$(cat /sys/class/nvme/"$c"/state)" = "$2" ]
}
connect() {
	nvme connect -t tcp -a "$1" -s 4420 -n "$NQN" --reconnect-delay=1 --ctrl-loss-tmo=120 >&2 ||
		tdie "nvme connect -a $1 failed"
	wait_for 10 ctrl_state_is "$1" live || tdie "controller to $1 not live"
}
# round_robin: spread I/O over every usable path (the default numa policy would keep it on
# one), so each state change and each lost path meets commands in flight.
round_robin() {
	local s
	for s in /sys/class/nvme-subsystem/*; do
		[ "$(cat "$s/subsysnqn" 2>/dev/null)" = "$NQN" ] || continue
		echo round-robin >"$s/iopolicy"
		[ "$(cat "$s/iopolicy")" = round-robin ] || tdie "iopolicy round-robin not taken"
	done
}
# one_device: exactly one block device for $NQN, printed.
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
	[ ${#devs[@]} -eq 1 ] && [ -b "${devs[0]}" ] ||
		tdie "want one block device for $NQN, have: ${devs[*]}"
	[ $ctrls -eq 2 ] || tdie "want two controllers in the subsystem of $NQN, have $ctrls"
	echo "${devs[0]}"
}
show_paths() {
	local out
	out=$(nvme list-subsys "$DEV" 2>&1) || tdie "nvme list-subsys failed: $out"
	sed 's/^/    /' <<<"$out" >&2
	LIST_SUBSYS=$out
}

# --- fio in a loop ------------------------------------------------------------------------
# Each pass writes FIO_SIZE at random with crc32c and reads it all back verified; passes
# run until /tmp/fio-stop appears. Results: one line per pass in /tmp/fio-passes.
fio_loop() {
	local i=0 out terse f rc
	set +e
	trap - ERR
	while [ ! -e /tmp/fio-stop ]; do
		i=$((i + 1))
		rc=0
		out=$(fio --name=mp$i --filename="$DEV" --direct=1 --ioengine=libaio --rw=randwrite \
			--bs=4k --iodepth=8 --size="$FIO_SIZE" --offset=$(((i % 8) * 4))M \
			--verify=crc32c --verify_fatal=1 --do_verify=1 --randrepeat=0 \
			--verify_state_save=0 --output-format=terse 2>&1) || rc=$?
		terse=$(grep '^3;' <<<"$out" | tail -n1)
		f=()
		IFS=';' read -r -a f <<<"$terse"
		echo "pass $i rc=$rc err=${f[4]:-?} read_kb=${f[5]:-0} write_kb=${f[46]:-0}" >>/tmp/fio-passes
		[ "$rc" -eq 0 ] || echo "$out" >>/tmp/fio-failed
	done
}
fio_start() {
	rm -f /tmp/fio-stop /tmp/fio-passes /tmp/fio-failed
	fio_loop &
	FIO_PID=$!
}
passes() { [ -f /tmp/fio-passes ] && wc -l </tmp/fio-passes || echo 0; }
# fio_more N: wait until N more fio passes have finished (I/O through the current paths).
fio_more() {
	local want=$(($(passes) + $1)) n=600
	while [ "$(passes)" -lt "$want" ]; do
		n=$((n - 1))
		[ $n -gt 0 ] || tdie "fio made no progress in 60 s (passes: $(passes))"
		sleep 0.1
	done
}
fio_stop() {
	local bad
	touch /tmp/fio-stop
	wait "$FIO_PID"
	sed 's/^/    fio /' /tmp/fio-passes >&2
	[ ! -s /tmp/fio-failed ] || { cat /tmp/fio-failed >&2; tdie "a fio pass failed"; }
	bad=$(grep -vE 'rc=0 err=0 ' /tmp/fio-passes || true)
	[ -z "$bad" ] || tdie "fio passes with errors: $bad"
	bad=$(awk '{ split($5, r, "="); split($6, w, "="); if (r[2] != w[2] || w[2] == 0) print }' /tmp/fio-passes)
	[ -z "$bad" ] || tdie "fio passes that did not verify what they wrote: $bad"
	step "    fio: $(passes) passes of $FIO_SIZE written and verified, 0 errors"
}

cleanup() {
	local rc=$? s
	trap - EXIT
	touch /tmp/fio-stop
	nvme disconnect -n "$NQN" >/dev/null 2>&1 || true
	for s in 1 2; do
		[ -n "${PID[$s]:-}" ] || continue
		kill -KILL "${PID[$s]}" 2>/dev/null || true
	done
	exit "$rc"
}
trap cleanup EXIT
set -E
trap 'rc=$?; [ "$BASH_SUBSHELL" -ne 0 ] || tgt_context; step "FAIL: line $LINENO: \"$BASH_COMMAND\" exited $rc"' ERR
cd /tmp
modprobe nvme-tcp
[ "$(cat /sys/module/nvme_core/parameters/multipath 2>/dev/null)" = Y ] ||
	die "native NVMe multipath is off in this kernel (nvme_core.multipath)"
truncate -s ${IMG_MIB}M "$IMG"

# --- 1. one target, two ports ---------------------------------------------------------------
step "1. one target on $ADDR1 and $ADDR2 (ANA group 1 optimized on both), two connects"
write_config /tmp/one.json 1 65519 "1 $ADDR1 optimized" "2 $ADDR2 optimized"
tgt_start 1 /tmp/one.json $ADDR1 $ADDR2
connect $ADDR1
connect $ADDR2
DEV=$(one_device)
round_robin
wait_for 10 ana_state_is $ADDR1 optimized || tdie "path $ADDR1 not optimized"
wait_for 10 ana_state_is $ADDR2 optimized || tdie "path $ADDR2 not optimized"
step "    one device $DEV over $(ctrl_of $ADDR1) ($ADDR1) and $(ctrl_of $ADDR2) ($ADDR2), both optimized"
show_paths
grep -Eq "traddr=$ADDR1,.* live optimized" <<<"$LIST_SUBSYS" &&
	grep -Eq "traddr=$ADDR2,.* live optimized" <<<"$LIST_SUBSYS" ||
	tdie "nvme list-subsys does not show both paths live optimized"
fio_start
fio_more 1

# --- 2. ANA states by SIGHUP --------------------------------------------------------------------
step "2. SIGHUP: group 1 inaccessible on $ADDR2"
write_config /tmp/one.json 1 65519 "1 $ADDR1 optimized" "2 $ADDR2 inaccessible"
reload 1
wait_for 10 ana_state_is $ADDR2 inaccessible || tdie "the host does not show $ADDR2 inaccessible"
show_paths
grep -Eq "traddr=$ADDR2,.* live inaccessible" <<<"$LIST_SUBSYS" ||
	tdie "nvme list-subsys does not show $ADDR2 inaccessible"
fio_more 1
step "    SIGHUP: $ADDR2 non-optimized"
write_config /tmp/one.json 1 65519 "1 $ADDR1 optimized" "2 $ADDR2 non-optimized"
reload 1
wait_for 10 ana_state_is $ADDR2 non-optimized || tdie "the host does not show $ADDR2 non-optimized"
step "    SIGHUP: $ADDR1 inaccessible, $ADDR2 optimized (I/O moves to $ADDR2)"
write_config /tmp/one.json 1 65519 "1 $ADDR1 inaccessible" "2 $ADDR2 optimized"
reload 1
wait_for 10 ana_state_is $ADDR1 inaccessible || tdie "the host does not show $ADDR1 inaccessible"
wait_for 10 ana_state_is $ADDR2 optimized || tdie "the host does not show $ADDR2 optimized"
fio_more 1
step "    SIGHUP: both optimized again"
write_config /tmp/one.json 1 65519 "1 $ADDR1 optimized" "2 $ADDR2 optimized"
reload 1
wait_for 10 ana_state_is $ADDR1 optimized || tdie "the host does not show $ADDR1 optimized again"
show_paths

# --- 3. a port removed and added back -----------------------------------------------------------
step "3. SIGHUP without the port on $ADDR1"
write_config /tmp/one.json 1 65519 "2 $ADDR2 optimized"
reload 1
wait_for 10 eval '! ctrl_state_is $ADDR1 live' || tdie "the controller to $ADDR1 stayed live"
grep -q 'its port was removed' "${LOG[1]}" || tdie "the target did not tear the controller down"
step "    path $ADDR1: $(cat /sys/class/nvme/"$(ctrl_of $ADDR1)"/state); I/O through $ADDR2"
fio_more 1
step "    SIGHUP with the port on $ADDR1 again"
write_config /tmp/one.json 1 65519 "1 $ADDR1 optimized" "2 $ADDR2 optimized"
reload 1
wait_for 20 ctrl_state_is $ADDR1 live || tdie "the controller to $ADDR1 did not reconnect"
wait_for 10 ana_state_is $ADDR1 optimized || tdie "path $ADDR1 not optimized after the reconnect"
step "    path $ADDR1 live and optimized again"
fio_more 1
fio_stop
show_paths
nvme disconnect -n "$NQN" >&2 || tdie "nvme disconnect failed"
wait_for 10 nvme_gone "$NQN" || tdie "$NQN still connected"
tgt_stop 1

# --- 4. two processes, one file ---------------------------------------------------------------
step "4. two targets on $IMG: cntlid 1..99 on $ADDR1, 100..199 on $ADDR2"
write_config /tmp/p1.json 1 99 "1 $ADDR1 optimized"
write_config /tmp/p2.json 100 199 "2 $ADDR2 optimized"
tgt_start 1 /tmp/p1.json $ADDR1
tgt_start 2 /tmp/p2.json $ADDR2
connect $ADDR1
connect $ADDR2
DEV=$(one_device)
round_robin
c1=$(cat /sys/class/nvme/"$(ctrl_of $ADDR1)"/cntlid)
c2=$(cat /sys/class/nvme/"$(ctrl_of $ADDR2)"/cntlid)
[ "$c1" -ge 1 ] && [ "$c1" -le 99 ] && [ "$c2" -ge 100 ] && [ "$c2" -le 199 ] ||
	tdie "controller IDs $c1 / $c2 outside the configured ranges"
wait_for 10 ana_state_is $ADDR1 optimized && wait_for 10 ana_state_is $ADDR2 optimized ||
	tdie "paths not optimized"
step "    one device $DEV, controllers $c1 and $c2"
show_paths
fio_start
fio_more 1
step "    SIGKILL target 1"
kill -KILL "${PID[1]}"
wait "${PID[1]}" 2>/dev/null || true
PID[1]=''
wait_for 15 eval '! ctrl_state_is $ADDR1 live' || tdie "the controller to $ADDR1 stayed live"
fio_more 1
step "    restart target 1"
tgt_start 1 /tmp/p1.json $ADDR1
wait_for 20 ctrl_state_is $ADDR1 live || tdie "the controller to $ADDR1 did not reconnect"
wait_for 10 ana_state_is $ADDR1 optimized || tdie "path $ADDR1 not optimized after the restart"
fio_more 1
fio_stop
nvme disconnect -n "$NQN" >&2 || tdie "nvme disconnect failed"
wait_for 10 nvme_gone "$NQN" || tdie "$NQN still connected"
tgt_stop 1
tgt_stop 2

# --- 5. the kernel's view ----------------------------------------------------------------------
step "kernel log of the nvme host (dmesg)"
klog=$(dmesg | grep -iE 'nvme|I/O error' || true)
sed 's/^/    /' <<<"$klog" >&2
bad=$(grep -iE 'I/O error|Buffer I/O|blk_update_request|critical' <<<"$klog" || true)
[ -z "$bad" ] || die "the kernel logged I/O errors:"$'\n'"$bad"
for s in 1 2; do
	! grep -Eq 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "${LOG[$s]}" ||
		tdie "target $s: sanitizer report in its log"
done
step "PASS"
