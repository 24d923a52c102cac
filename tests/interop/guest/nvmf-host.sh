#!/usr/bin/env bash
# Guest side of test-nvmf-host.sh: our user-space host (the `nvmf` tool: libnvmf, and ublk
# for block devices) against the Linux kernel's nvmet-tcp target, set up as admins do it
# (brd RAM disk, configfs, port 4420, any host allowed):
#   1. nvmet-tcp up: /dev/ram0 (prefilled: brd allocates on first write) as namespace 1 of
#      the subsystem, port 1 = tcp 127.0.0.1:4420
#   2. nvmf discover lists the subsystem (normal output, and -o json that parses)
#   3. nvmf id-ctrl: model "Linux" and the subnqn; nvmf id-ns: nsze x block size = the disk
#   4. nvmf write of 1 MiB of random data, nvmf read back: equal, and equal to what
#      /dev/ram0 holds at that LBA; again with header + data digests (-g -G)
#   5. nvmf perf: 4 KiB randread QD32 10 s (IOPS > 0, a Total line); randwrite --verify;
#      randread with digests (-H -I). The outputs go to the log (TCG: behaviour only)
#   6. nvmf connect -g -G: /dev/ublkbN with the disk's size, in nvmf list; fio 4 KiB
#      randwrite + crc32c verify; nvmf disconnect: the device goes, the daemon exits 0,
#      its log has no error, the kernel log no I/O error
#   7. (NVMF_HOST_RECONNECT=0 skips it) connected with -l 30 -c 1, a fio write + verify job
#      running: the subsystem is taken off the nvmet port for 3 s (nvmet drops the
#      controller, the listener goes) and put back: the daemon reconnects, the job
#      completes with its data verified, and the daemon still exits 0 on disconnect; nvmet
#      refused none of the commands of the new association (none before CC.EN)
# Throughout, nvmet must log no refused command ("failed cmd") of our host.
# Every step is timed; a failure prints the daemon's log and the kernel log's tail. The
# cleanup (also on failure) disconnects the daemons, tears nvmet down and unloads brd and
# ublk_drv; the run ends with no nvmf process left.
# Runs inside vm-run as root; exit 0 = pass. Environment (set by test-nvmf-host.sh):
#   NVMF_BIN             the nvmf tool (default: build/ of this repository)
#   NVMF_HOST_RECONNECT  0: skip step 7 (default 1)
#   NVMF_PERF_TIME       seconds of the main perf run (default 10)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

NVMF=${NVMF_BIN:-$top/build/src/tools/nvmf}
NQN=nqn.2024-01.io.nvmf-tcp:interop-nvmf-host
DISK_MIB=256
RECONNECT=${NVMF_HOST_RECONNECT:-1}
PERF_TIME=${NVMF_PERF_TIME:-10}
RUN=${NVMF_RUN_DIR:-/run/nvmf}
PY=python3
[ ! -x /usr/bin/python3 ] || PY=/usr/bin/python3
TRID="trtype:tcp adrfam:ipv4 traddr:127.0.0.1 trsvcid:4420 subnqn:$NQN"
FAB=(-t tcp -a 127.0.0.1 -s 4420)

[ -x "$NVMF" ] || die "no nvmf tool at $NVMF (run scripts/build release)"

# --- timing: each step's wall time, summed up at the end ---------------------------------
PH_NAME='' PH_T0=0 TIMES=()
phase_end() {
	local ms
	[ -n "$PH_NAME" ] || return 0
	ms=$(($(date +%s%3N) - PH_T0))
	TIMES+=("$(printf '%4d.%01ds  %s' $((ms / 1000)) $((ms % 1000 / 100)) "$PH_NAME")")
	PH_NAME=''
}
phase() {
	phase_end
	PH_NAME=$1 PH_T0=$(date +%s%3N)
	step "$*"
}

# --- failure context ------------------------------------------------------------------------
LAST_OUT=''   # output of the last nvmf command run through nv
context() {
	local f
	if [ -n "$LAST_OUT" ]; then
		echo "    --- output of the last nvmf command ---" >&2
		tail -n 30 <<<"$LAST_OUT" | sed 's/^/    | /' >&2
	fi
	for f in "$RUN"/*.log /tmp/connect-*.out /tmp/fio-*.log; do
		[ -f "$f" ] || continue
		echo "    --- last lines of $f ---" >&2
		tail -n 25 "$f" | sed 's/^/    | /' >&2
	done
	echo "    --- kernel log (tail) ---" >&2
	dmesg | tail -n 25 | sed 's/^/    | /' >&2
}
xdie() { context; die "$@"; }

# nv VERB ARGS...: the nvmf tool; its stdout+stderr in $LAST_OUT; dies with both on failure.
nv() {
	local rc=0
	LAST_OUT=$("$NVMF" "$@" 2>&1) || rc=$?
	[ "$rc" -eq 0 ] || xdie "nvmf $* exited $rc"
}
# nv_out VERB ARGS...: like nv but stdout only in $LAST_OUT (stderr shown on failure).
nv_out() {
	local rc=0
	LAST_OUT=$("$NVMF" "$@" 2>/tmp/nv.err) || rc=$?
	[ "$rc" -eq 0 ] || { cat /tmp/nv.err >&2; xdie "nvmf $* exited $rc"; }
}
indent() { sed 's/^/    | /' >&2; }
idfield() { sed -n "s/^$2 *: *//p" <<<"$1" | head -n1 | sed 's/ *$//'; }

dmesg_mark() { dmesg | wc -l; }
# nvmet_clean MARK: nvmet refused none of our host's commands past line MARK ("failed
# cmd": nvmet_req_init said no, e.g. an admin command before CC.EN); an error there is a
# host bug, even when the host recovers from it.
nvmet_clean() {
	local bad
	bad=$(dmesg | tail -n +$(($1 + 1)) |
		grep -Ei 'CC\.EN == 0|nvmet_tcp: failed cmd|nvmet.*(unexpected|unsupported|unhandled|invalid)' || true)
	[ -z "$bad" ] || { echo "$bad" | indent; xdie "nvmet refused commands of our host (see the kernel log lines above)"; }
}
# kernel_clean MARK WHAT: no I/O error, ublk / block error, warning or oops past line MARK.
kernel_clean() {
	local bad
	bad=$(dmesg | tail -n +$(($1 + 1)) |
		grep -Ei 'I/O error|blk_update_request|critical (medium|target) error|ublk.*(error|fail)|WARNING:|Call Trace|BUG:' || true)
	[ -z "$bad" ] || { echo "$bad" | indent; xdie "kernel log during $2 shows errors"; }
}

# proc_gone PID: PID has exited (a zombie waiting for its parent counts as gone).
proc_gone() {
	local st
	st=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
	st=${st##*) }
	[ "${st:0:1}" = Z ]
}

# --- the connect daemons, each under a sub-reaper that records its exit status ---------------
REAPERS=() FIO_PIDS=()
CONN_DEV='' CONN_PID='' CONN_LOG='' CONN_STATUS=''

# conn_up TAG [connect flags...]: nvmf connect to $NQN; sets CONN_DEV (/dev/ublkbN),
# CONN_PID (the daemon), CONN_LOG (its log), CONN_STATUS (the reaper's status file).
conn_up() {
	local tag=$1 out=/tmp/connect-$1.out rc; shift
	CONN_STATUS=/tmp/connect-$tag.status
	: >"$CONN_STATUS"
	reap_run "$CONN_STATUS" "$NVMF" connect "${FAB[@]}" -n "$NQN" "$@" >"$out" 2>&1 &
	REAPERS+=($!)
	wait_for 200 grep -q '^cmd ' "$CONN_STATUS" || xdie "nvmf connect $* did not return within 200 s"
	rc=$(sed -n 's/^cmd //p' "$CONN_STATUS")
	sed 's/^/    connect: /' "$out" >&2
	[ "$rc" -eq 0 ] || xdie "nvmf connect $* exited $rc"
	CONN_DEV=$(grep -oE '/dev/ublkb[0-9]+' "$out" | head -n1)
	[ -n "$CONN_DEV" ] || xdie "nvmf connect printed no /dev/ublkbN"
	wait_for 10 test -b "$CONN_DEV" || xdie "$CONN_DEV is not a block device"
	nv_out list -o json
	CONN_PID=$("$PY" -c '
import json, sys
for c in json.loads(sys.argv[1])["Controllers"]:
    if c["SubsystemNQN"] == sys.argv[2]:
        print(c["Pid"], c["Log"])
' "$LAST_OUT" "$NQN")
	CONN_LOG=${CONN_PID#* }
	CONN_PID=${CONN_PID%% *}
	[ -n "$CONN_PID" ] && kill -0 "$CONN_PID" || xdie "nvmf list -o json names no live daemon for $NQN"
	[ -f "$CONN_LOG" ] || xdie "the daemon's log $CONN_LOG does not exist"
}

# conn_state: the State `nvmf list -o json` gives the controller of $NQN (live, reconnecting).
conn_state() {
	"$NVMF" list -o json | "$PY" -c '
import json, sys
print(" ".join(c["State"] for c in json.load(sys.stdin)["Controllers"] if c["SubsystemNQN"] == sys.argv[1]))
' "$NQN"
}
conn_state_is() { [ "$(conn_state)" = "$1" ]; }

# daemon_threads PID: where each thread of PID is: state, wait channel, system call (number
# and arguments, "running" in user space) and kernel stack; then its open files.
daemon_threads() {
	local t f files=''
	for t in /proc/"$1"/task/*; do
		[ -d "$t" ] || continue
		echo "    thread ${t##*/} ($(cat "$t/comm" 2>/dev/null)), state $(awk '{print $3}' "$t/stat" 2>/dev/null), wchan $(cat "$t/wchan" 2>/dev/null), syscall $(cat "$t/syscall" 2>/dev/null):"
		sed 's/^/      /' "$t/stack" 2>/dev/null || true
	done
	for f in /proc/"$1"/fd/*; do
		[ -e "$f" ] && files+=" ${f##*/}:$(readlink "$f" 2>/dev/null)"
	done
	echo "    open files:$files"
}

# conn_down: nvmf disconnect -n; the device and its char device go, the daemon exits 0
# (as its reaper saw it) and logged its clean disconnect.
conn_down() {
	local dev=$CONN_DEV rc=0 n
	LAST_OUT=$("$NVMF" disconnect -n "$NQN" 2>&1) || rc=$?
	if [ "$rc" -ne 0 ]; then
		# A daemon that logged "disconnected" yet did not end has been seen once in ~10
		# runs: show where each of its threads is (the time to hold against the daemon
		# log's), then whether it ends at all, and when.
		echo "$LAST_OUT" | indent
		step "    daemon $CONN_PID at $(date -u +%T.%3N) (UTC, as its log):"
		daemon_threads "$CONN_PID" >&2
		for n in $(seq 1 60); do
			proc_gone "$CONN_PID" && break
			sleep 1
			[ $((n % 20)) -ne 0 ] || { step "    still there after $n s more:"; daemon_threads "$CONN_PID" >&2; }
		done
		if proc_gone "$CONN_PID"; then
			step "    daemon $CONN_PID ended about $n s after the 30 s disconnect gave up"
		else
			step "    daemon $CONN_PID still there 60 s after the 30 s disconnect gave up"
		fi
		xdie "nvmf disconnect -n $NQN exited $rc"
	fi
	echo "$LAST_OUT" | sed 's/^/    disconnect: /' >&2
	grep -q "disconnected 1 controller" <<<"$LAST_OUT" || xdie "disconnect did not report 1 controller"
	wait_for 10 test ! -e "$dev" || xdie "$dev still exists after nvmf disconnect"
	[ ! -e "/dev/ublkc${dev#/dev/ublkb}" ] || xdie "/dev/ublkc${dev#/dev/ublkb} still exists"
	wait_for 10 grep -q "^$CONN_PID " "$CONN_STATUS" || xdie "daemon $CONN_PID: no exit status"
	rc=$(sed -n "s/^$CONN_PID //p" "$CONN_STATUS")
	[ "$rc" -eq 0 ] || xdie "daemon $CONN_PID exited $rc, want 0"
	grep -q ': disconnected$' "$CONN_LOG" || xdie "no 'disconnected' in $CONN_LOG"
	step "    $dev gone, daemon $CONN_PID exited 0 ($(grep -c . "$CONN_LOG") log lines)"
}

# shellcheck disable=SC2054  # fio's own comma lists
fio_common=(--ioengine=libaio --direct=1 --verify=crc32c --verify_fatal=1 --do_verify=1
	--verify_state_save=0 --randrepeat=1 --group_reporting --output-format=normal,terse)
# fio_check NAME LOG RC: fio exited 0, reported no error, and verified all it wrote.
fio_check() {
	local name=$1 log=$2 rc=$3 terse f
	terse=$(grep '^3;' "$log" | tail -n1 || true)
	IFS=';' read -r -a f <<<"$terse"
	if [ "$rc" -ne 0 ] || [ "${f[4]:-1}" != 0 ] || [ "${f[46]:-0}" -le 0 ] ||
		[ "${f[5]:-0}" -ne "${f[46]:-1}" ]; then
		grep -v '^3;' "$log" | indent
		xdie "fio $name: exit $rc, error ${f[4]:-?}, wrote ${f[46]:-?} KiB, verified ${f[5]:-?} KiB"
	fi
	grep -E '^ +(read|write): ' "$log" | sed "s/^ */    fio $name: /" >&2
	step "    fio $name: wrote and verified $((f[46] / 1024)) MiB"
}

cleanup() {
	local rc=$? p
	trap - EXIT ERR
	set +e
	phase_end
	for p in "${FIO_PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
	"$NVMF" disconnect-all >/dev/null 2>&1
	for p in "${REAPERS[@]}"; do
		wait_for 5 proc_gone "$p" || kill -KILL "$p" 2>/dev/null
	done
	wait 2>/dev/null
	knvmet_teardown 2>/dev/null
	modprobe -r brd 2>/dev/null
	modprobe -r ublk_drv 2>/dev/null
	if [ "$rc" -eq 0 ] && pgrep -x nvmf >/dev/null; then
		pgrep -ax nvmf | indent
		step "FAIL: nvmf processes left behind"
		rc=1
	fi
	exit "$rc"
}
trap cleanup EXIT
set -E
trap 'rc=$?; [ "$BASH_SUBSHELL" -ne 0 ] || context; step "FAIL: line $LINENO: \"$BASH_COMMAND\" exited $rc"' ERR
cd /tmp   # the guest's tmpfs: fio and friends write nothing into the caller's directory

step "kernel $(uname -r), $(nproc) vCPUs ($VM_RUN_ACCEL), $("$NVMF" version), fio $(fio --version)"

# ============================================================================================
phase "1. nvmet-tcp: brd /dev/ram0 $DISK_MIB MiB (prefilled), $NQN ns 1, port 1 tcp 127.0.0.1:4420"
brd_setup "$DISK_MIB"
brd_prefill
DISK_BYTES=$(blockdev --getsize64 /dev/ram0)
[ "$DISK_BYTES" -eq $((DISK_MIB << 20)) ] || die "/dev/ram0 is $DISK_BYTES bytes"
knvmet_setup "$NQN" /dev/ram0 1 4420
wait_for 10 tcp_listening 4420 || xdie "nvmet-tcp does not listen on 4420"
NVMET_MARK=$(dmesg_mark)
[ "$(cat "$NVMET/subsystems/$NQN/attr_allow_any_host")" = 1 ] || xdie "allow_any_host is not set"

# ============================================================================================
phase "2. nvmf discover -t tcp -a 127.0.0.1 -s 4420 (normal, then -o json)"
nv_out discover "${FAB[@]}"
indent <<<"$LAST_OUT"
grep -Eq "^subnqn: +$NQN\$" <<<"$LAST_OUT" || xdie "discovery log lacks subnqn $NQN"
grep -Eq '^subtype: +nvme subsystem$' <<<"$LAST_OUT" || xdie "no 'nvme subsystem' entry"
grep -Eq '^trsvcid: +4420$' <<<"$LAST_OUT" || xdie "discovery log lacks trsvcid 4420"
grep -Eq '^traddr: +127\.0\.0\.1$' <<<"$LAST_OUT" || xdie "discovery log lacks traddr 127.0.0.1"
nv_out discover "${FAB[@]}" -o json
recs=$("$PY" -c '
import json, sys
log = json.loads(sys.argv[1])
hits = [r for r in log["records"] if r["subnqn"] == sys.argv[2] and r["trtype"] == "tcp"
        and r["trsvcid"] == "4420" and r["traddr"] == "127.0.0.1"
        and r["subtype"] == "nvme subsystem"]
print(len(log["records"]), len(hits), log["genctr"])
' "$LAST_OUT" "$NQN") || xdie "discover -o json does not parse (python3 json)"
read -r nrec nhit genctr <<<"$recs"
[ "$nhit" -eq 1 ] || xdie "discover -o json: $nhit records of $NQN at tcp 127.0.0.1:4420, want 1"
step "    json: $nrec records, genctr $genctr, one for $NQN"

# ============================================================================================
phase "3. nvmf id-ctrl / id-ns against nvmet"
nv_out id-ctrl "${FAB[@]}" -n "$NQN"
mn=$(idfield "$LAST_OUT" mn) subnqn=$(idfield "$LAST_OUT" subnqn)
sn=$(idfield "$LAST_OUT" sn) fr=$(idfield "$LAST_OUT" fr) mdts=$(idfield "$LAST_OUT" mdts)
step "    id-ctrl: mn '$mn', sn '$sn', fr '$fr', mdts $mdts, subnqn $subnqn"
[ "$mn" = Linux ] || { indent <<<"$LAST_OUT"; xdie "id-ctrl mn '$mn', want 'Linux' (nvmet's default model)"; }
[ "$subnqn" = "$NQN" ] || { indent <<<"$LAST_OUT"; xdie "id-ctrl subnqn '$subnqn', want $NQN"; }
[ "$fr" = "$(uname -r | cut -c1-8)" ] || step "    (note: fr '$fr' is not the kernel release's first 8 characters)"
nv_out id-ctrl "${FAB[@]}" -n "$NQN" -o json
"$PY" -c '
import json, sys
id = json.loads(sys.argv[1])
assert id["mn"].strip() == "Linux" and id["subnqn"] == sys.argv[2], (id["mn"], id["subnqn"])
' "$LAST_OUT" "$NQN" || xdie "id-ctrl -o json: no parse, or mn / subnqn wrong"
nv_out id-ns "${FAB[@]}" -n "$NQN" --namespace-id 1
nsze=$(idfield "$LAST_OUT" nsze)
lbads=$(sed -n 's/^lbaf *[0-9]* : .*lbads:\([0-9]*\) .*(in use)/\1/p' <<<"$LAST_OUT")
[ -n "$nsze" ] && [ -n "$lbads" ] || { indent <<<"$LAST_OUT"; xdie "id-ns: no nsze or in-use LBA format"; }
BS=$((1 << lbads))
step "    id-ns 1: nsze $nsze blocks of $BS bytes = $((nsze * BS)) bytes (/dev/ram0: $DISK_BYTES)"
[ $((nsze * BS)) -eq "$DISK_BYTES" ] || { indent <<<"$LAST_OUT"; xdie "id-ns nsze x block size != the RAM disk's size"; }

# ============================================================================================
phase "4. nvmf write / read of 1 MiB: plain, then with header + data digests (-g -G)"
# rw_check LBA FLAGS...: write 1 MiB of random data at LBA, read it back, compare it, and
# compare what /dev/ram0 itself holds there (the data landed where the LBA says).
rw_check() {
	local lba=$1; shift
	head -c 1M /dev/urandom >/tmp/w.bin
	rm -f /tmp/r.bin
	nv write "${FAB[@]}" -n "$NQN" --start-block "$lba" -d /tmp/w.bin "$@"
	grep -q '^write: Success' <<<"$LAST_OUT" || xdie "nvmf write said: $LAST_OUT"
	nv read "${FAB[@]}" -n "$NQN" --start-block "$lba" -z 1048576 -d /tmp/r.bin "$@"
	grep -q '^read: Success' <<<"$LAST_OUT" || xdie "nvmf read said: $LAST_OUT"
	cmp /tmp/w.bin /tmp/r.bin >&2 || xdie "nvmf read ${*:+($*) }at LBA $lba differs from what nvmf write wrote"
	cmp <(dd if=/dev/ram0 bs=4096 skip=$((lba * BS / 4096)) count=256 iflag=direct status=none) /tmp/w.bin >&2 ||
		xdie "/dev/ram0 at LBA $lba does not hold what nvmf write ${*:+($*) }wrote"
	step "    LBA $lba${*:+ ($*)}: 1 MiB written, read back equal, /dev/ram0 holds it"
}
rw_check 4096
rw_check 12288 -g -G

# ============================================================================================
# perf_run TAG LABEL ARGS...: nvmf perf, its whole output into the log (and
# /tmp/perf-TAG.out); exit 0, a Total line, IOPS > 0.
perf_run() {
	local tag=$1 label=$2 rc=0 iops; shift 2
	step "    nvmf perf $*"
	"$NVMF" perf "$@" >/tmp/perf-"$tag".out 2>&1 || rc=$?
	sed "s/^/    perf $tag | /" /tmp/perf-"$tag".out >&2
	[ "$rc" -eq 0 ] || xdie "nvmf perf ($tag) exited $rc"
	iops=$(awk '$1 == "Total" && $2 == ":" { print $3 }' /tmp/perf-"$tag".out)
	[ -n "$iops" ] || xdie "nvmf perf ($tag): no Total line"
	awk -v v="$iops" 'BEGIN { exit !(v > 0) }' || xdie "nvmf perf ($tag): Total IOPS $iops"
	PERF_SUMMARY+=("$(printf '%-30s %12s IOPS  %s' "$label" "$iops" \
		"$(awk '$1 == "Total" { printf "%s MiB/s, avg %s us, min %s, max %s", $4, $5, $6, $7 }' /tmp/perf-"$tag".out)")")
}
PERF_SUMMARY=()
phase "5. nvmf perf against nvmet (TCG figures: behaviour only)"
perf_run randread "randread 4k QD32 ${PERF_TIME}s" -r "$TRID" -q 32 -o 4096 -w randread -t "$PERF_TIME"
perf_run verify "randwrite 4k QD16 3s -V" -r "$TRID" -q 16 -o 4096 -w randwrite -t 3 -V
v=$(grep -E '^Verify: [0-9]+ reads checked, [0-9]+ mismatches' /tmp/perf-verify.out) ||
	xdie "perf --verify printed no Verify line"
read -r _ checked _ _ mism _ <<<"$v"
[ "$checked" -gt 0 ] && [ "$mism" -eq 0 ] || xdie "perf --verify: $checked reads checked, $mism mismatches"
perf_run digests "randread 4k QD32 3s -H -I" -r "$TRID" -q 32 -o 4096 -w randread -t 3 -H -I

# ============================================================================================
phase "6. nvmf connect -g -G: /dev/ublkbN, nvmf list, fio write + verify, nvmf disconnect"
modprobe ublk_drv || xdie "modprobe ublk_drv failed"
wait_for 5 test -c /dev/ublk-control || xdie "no /dev/ublk-control"
mark=$(dmesg_mark)
conn_up plain -g -G
dev=$CONN_DEV
lsblk -o NAME,SIZE,TYPE,LOG-SEC,MIN-IO "$dev" | indent
size=$(lsblk -bdno SIZE "$dev")
[ "$size" -eq "$DISK_BYTES" ] || xdie "lsblk: $dev is $size bytes, want $DISK_BYTES (the RAM disk)"
nv_out list
indent <<<"$LAST_OUT"
grep -Eq "^$dev +/dev/ublkc${dev#/dev/ublkb} .* Linux " <<<"$LAST_OUT" || xdie "nvmf list does not show $dev"
conn_state_is live || xdie "nvmf list: state '$(conn_state)', want live"
step "    $dev: $size bytes, state live; daemon $CONN_PID, log $CONN_LOG"
rc=0
fio --name=ublk-verify --filename="$dev" "${fio_common[@]}" --rw=randwrite --bs=4k \
	--iodepth=16 --size=32M >/tmp/fio-verify.log 2>&1 || rc=$?
fio_check ublk-verify /tmp/fio-verify.log "$rc"
conn_down
indent <"$CONN_LOG"
bad=$(grep -E ' (error|warn): ' "$CONN_LOG" || true)
[ -z "$bad" ] || { indent <<<"$bad"; xdie "the daemon logged errors or warnings"; }
kernel_clean "$mark" "step 6"
nvmet_clean "$NVMET_MARK"   # steps 2-6

# ============================================================================================
if [ "$RECONNECT" = 1 ]; then
	phase "7. reconnect: the subsystem off the nvmet port for 3 s under a fio write + verify job"
	mark=$(dmesg_mark)
	conn_up reconnect -l 30 -c 1
	dev=$CONN_DEV
	fio --name=reconnect --filename="$dev" "${fio_common[@]}" --rw=randwrite --bs=16k \
		--iodepth=16 --size=16M --rate=2m >/tmp/fio-reconnect.log 2>&1 &
	fio_pid=$!
	FIO_PIDS+=("$fio_pid")
	sleep 2
	kill -0 "$fio_pid" 2>/dev/null || xdie "fio ended before the outage"
	knvmet_port_unlink "$NQN" 1
	step "    port 1 unlinked from $NQN (listener down: $(tcp_listening 4420 && echo no || echo yes))"
	sleep 3
	wait_for 10 grep -q 'controller reconnecting' "$CONN_LOG" || xdie "the daemon did not notice the outage"
	wait_for 5 conn_state_is reconnecting || xdie "nvmf list: state '$(conn_state)' during the outage, want reconnecting"
	knvmet_port_link "$NQN" 1
	step "    port 1 linked again"
	wait_for 60 grep -q 'controller live again' "$CONN_LOG" || xdie "no 'controller live again' within 60 s"
	wait_for 5 conn_state_is live || xdie "nvmf list: state '$(conn_state)' after the reconnect, want live"
	step "    daemon: $(grep -m1 'controller live again' "$CONN_LOG"); nvmf list: live"
	rc=0
	wait "$fio_pid" || rc=$?
	FIO_PIDS=()
	fio_check reconnect /tmp/fio-reconnect.log "$rc"
	grep -E 'reconnect|live again' "$CONN_LOG" | indent
	bad=$(grep -E ' error: ' "$CONN_LOG" || true)
	[ -z "$bad" ] || { indent <<<"$bad"; xdie "the daemon logged errors across the reconnect"; }
	conn_down
	dmesg | tail -n +$((mark + 1)) | grep -E 'nvmet' | sed 's/^/    dmesg | /' >&2 || true
	kernel_clean "$mark" "step 7"
	nvmet_clean "$mark"
else
	step "7. reconnect: skipped (NVMF_HOST_RECONNECT=$RECONNECT)"
fi

# ============================================================================================
phase "teardown: nvmet configfs, brd, ublk_drv; no nvmf process left"
nvmet_clean "$NVMET_MARK"
[ -z "$(ls "$RUN"/*.json 2>/dev/null)" ] || xdie "state files left: $(ls "$RUN"/*.json)"
for p in "${REAPERS[@]}"; do
	wait_for 10 proc_gone "$p" || xdie "sub-reaper $p still running: a process it adopted is left"
	wait "$p" || xdie "sub-reaper $p exited $?"
done
REAPERS=()
! pgrep -ax nvmf >&2 || xdie "nvmf processes left"
knvmet_teardown
[ -z "$(ls "$NVMET/ports" "$NVMET/subsystems" 2>/dev/null)" ] || die "configfs not empty"
modprobe -r brd
modprobe -r ublk_drv
! lsmod | grep -Eq '^(nvmet|nvmet_tcp|brd|ublk_drv) ' || die "modules still loaded"
phase_end

step "perf (TCG: behaviour only):"
printf '    %s\n' "${PERF_SUMMARY[@]}" >&2
step "step times:"
printf '    %s\n' "${TIMES[@]}" >&2
step "PASS"
