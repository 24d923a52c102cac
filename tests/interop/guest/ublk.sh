#!/usr/bin/env bash
# Guest side of test-ublk.sh: the ublk bridge (src/ublk, driven by tests/interop/ublk-smoke.c)
# exposing a namespace of our nvmf-target, reached through libnvmf, as /dev/ublkbN:
#   1. RAM target (256 MiB) on 127.0.0.1:4420; modprobe ublk_drv; ublk_smoke with 2 I/O
#      queues: /dev/ublkbN appears with the namespace's size, block size, 2 hardware
#      queues, write cache + FUA, discard and write-zeroes limits
#   2. fio write + crc32c verify (libaio, direct=1): 4 KiB random, 128 KiB sequential
#   3. blkdiscard and blkdiscard -z read back zeroes; an fsync'ed and an O_DSYNC write
#      (Flush / FUA) read back
#   4. mkfs.ext4, mount, write a file, umount, mount again: the file is intact
#   5. SIGTERM in the middle of a stream of direct 1 MiB writes: ublk_smoke drains it,
#      removes the device and exits 0; a new ublk_smoke on the same target reads back every
#      write that had completed; an idle SIGTERM removes that one too; /dev/ublkbN and
#      /dev/ublkcN are gone; the kernel logged no I/O error and no warning; the bridge used
#      next to no CPU while idle
#   6. file target on port 4421, killed (SIGKILL) and restarted in the middle of a fio
#      write + verify job: libnvmf reconnects, the job completes with its data intact
#   7. the same target killed for good with ctrl_loss_tmo 3 s: I/O fails with EIO once the
#      controller is given up, and SIGTERM still removes the device cleanly
# Phases 6 and 7 use the ASan/UBSan ublk_smoke when the host passed one.
# Runs inside vm-run as root; exit 0 = pass. Environment (set by test-ublk.sh):
#   NVMF_TARGET      the release nvmf-target binary (default: build/ of this repository)
#   UBLK_SMOKE       the release ublk_smoke binary (default: build/ of this repository)
#   UBLK_SMOKE_SAN   an ASan/UBSan ublk_smoke (optional)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

TGT_BIN=${NVMF_TARGET:-$top/build/src/tools/nvmf-target}
SMOKE_BIN=${UBLK_SMOKE:-$top/build/tests/interop/ublk_smoke}
SMOKE_SAN=${UBLK_SMOKE_SAN:-}
NQN=nqn.2024-01.io.nvmf-tcp:interop-ublk
RAM_MIB=256
FILE_MIB=64
IMG=/tmp/ns.img
MNT=/tmp/mnt
# Sized to finish in seconds under TCG yet touch enough blocks to catch misplaced data.
FIO_SIZE=${FIO_SIZE:-24M}

[ -x "$TGT_BIN" ] || die "no nvmf-target at $TGT_BIN (run scripts/build release)"
[ -x "$SMOKE_BIN" ] || die "no ublk_smoke at $SMOKE_BIN (run scripts/build release)"
command -v mkfs.ext4 >/dev/null || die "mkfs.ext4 missing (Debian package e2fsprogs)"

# --- processes: the target and ublk_smoke --------------------------------------------------
TGT_PID='' TGT_LOG=''
SMK_PID='' SMK_LOG='' SMK_DEV=''

context() {
	local f
	for f in "$TGT_LOG" "$SMK_LOG"; do
		[ -n "$f" ] && [ -f "$f" ] || continue
		echo "    --- last lines of $f ---" >&2
		tail -n 30 "$f" | sed 's/^/    | /' >&2
	done
	dmesg | tail -n 20 | sed 's/^/    dmesg | /' >&2
}
xdie() { context; die "$@"; }

listening() {
	local hex
	hex=$(printf '%04X' "$1")
	grep -Eq "^ *[0-9]+: [0-9A-F]+:$hex [0-9A-F]+:0000 0A " /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# tgt_start PORT LOG ARGS...: nvmf-target in the background, listening on 127.0.0.1:PORT.
tgt_start() {
	local port=$1 n=200; shift
	TGT_LOG=$1; shift
	"$TGT_BIN" --listen "127.0.0.1:$port" --nqn "$NQN" --cpus 1 "$@" >>"$TGT_LOG" 2>&1 &
	TGT_PID=$!
	until listening "$port"; do
		kill -0 "$TGT_PID" 2>/dev/null || xdie "nvmf-target exited at start"
		n=$((n - 1))
		[ $n -gt 0 ] || xdie "nvmf-target not listening on $port after 20 s"
		sleep 0.1
	done
}

tgt_stop() {
	local rc=0
	[ -n "$TGT_PID" ] || return 0
	kill -TERM "$TGT_PID"
	wait "$TGT_PID" || rc=$?
	TGT_PID=''
	[ "$rc" -eq 0 ] || xdie "nvmf-target: exit status $rc after SIGTERM"
}

tgt_kill() {
	kill -KILL "$TGT_PID"
	wait "$TGT_PID" 2>/dev/null || true
	TGT_PID=''
}

# smk_start BINARY PORT LOG [ublk_smoke args...]: the bridge for namespace 1 of $NQN at
# 127.0.0.1:PORT; sets SMK_DEV once /dev/ublkbN exists.
smk_start() {
	local bin=$1 port=$2 n=300 id; shift 2
	SMK_LOG=$1; shift
	rm -f /tmp/ublk.ready
	"$bin" -a 127.0.0.1 -s "$port" -n "$NQN" --ready-file /tmp/ublk.ready "$@" \
		>>"$SMK_LOG" 2>&1 &
	SMK_PID=$!
	until [ -s /tmp/ublk.ready ]; do
		kill -0 "$SMK_PID" 2>/dev/null || { wait "$SMK_PID" || true; SMK_PID=''; xdie "ublk_smoke exited at start"; }
		n=$((n - 1))
		[ $n -gt 0 ] || xdie "ublk_smoke: no device after 30 s"
		sleep 0.1
	done
	id=$(cat /tmp/ublk.ready)
	SMK_DEV=/dev/ublkb$id
	wait_for 10 test -b "$SMK_DEV" || xdie "$SMK_DEV did not appear"
}

# smk_stop: SIGTERM; ublk_smoke must remove the device and exit 0 within 30 s with a log
# free of sanitizer reports; /dev/ublkbN and /dev/ublkcN must be gone.
smk_stop() {
	local pid=$SMK_PID rc=0 n=300 dev=$SMK_DEV
	kill -TERM "$pid"
	while kill -0 "$pid" 2>/dev/null; do
		n=$((n - 1))
		[ $n -gt 0 ] || { kill -KILL "$pid"; SMK_PID=''; xdie "ublk_smoke still running 30 s after SIGTERM"; }
		sleep 0.1
	done
	wait "$pid" || rc=$?
	SMK_PID=''
	[ "$rc" -eq 0 ] || xdie "ublk_smoke: exit status $rc after SIGTERM, want 0"
	! grep -Eq 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$SMK_LOG" ||
		xdie "ublk_smoke: sanitizer report in $SMK_LOG"
	grep -q "info: $dev: removed" "$SMK_LOG" || xdie "ublk_smoke: no '$dev: removed' in its log"
	[ ! -e "$dev" ] || xdie "$dev still exists after ublk_smoke exited"
	[ ! -e "/dev/ublkc${dev#/dev/ublkb}" ] || xdie "/dev/ublkc${dev#/dev/ublkb} still exists"
}

# kernel_clean MARK WHAT: no I/O error, warning or oops in the kernel log past line MARK.
kernel_clean() {
	local bad
	bad=$(dmesg | tail -n +$(($1 + 1)) | grep -Ei 'I/O error|WARNING:|Call Trace|BUG:|blk_update_request' || true)
	[ -z "$bad" ] || { echo "$bad" | sed 's/^/    dmesg: /' >&2; xdie "kernel log during $2 shows errors"; }
}
dmesg_mark() { dmesg | wc -l; }
# proc_ticks PID: user + system CPU time of PID (all its threads), in clock ticks.
proc_ticks() {
	local stat
	stat=$(cat "/proc/$1/stat") || return 1
	stat=${stat##*) }
	awk '{ print $12 + $13 }' <<<"$stat"
}

cleanup() {
	local rc=$?
	trap - EXIT
	umount "$MNT" 2>/dev/null || true
	[ -z "$SMK_PID" ] || { kill -TERM "$SMK_PID" 2>/dev/null; sleep 2; kill -KILL "$SMK_PID" 2>/dev/null || true; }
	[ -z "$TGT_PID" ] || kill -KILL "$TGT_PID" 2>/dev/null || true
	wait 2>/dev/null || true
	exit "$rc"
}
trap cleanup EXIT
set -E
trap 'rc=$?; [ "$BASH_SUBSHELL" -ne 0 ] || context; step "FAIL: line $LINENO: \"$BASH_COMMAND\" exited $rc"' ERR
cd /tmp

# shellcheck disable=SC2054  # fio's own comma lists
fio_common=(--direct=1 --ioengine=libaio --verify=crc32c --verify_fatal=1 --do_verify=1
	--randrepeat=1 --group_reporting --output-format=normal,terse --verify_state_save=0)
# fio_run NAME DEV [fio args]: exit 0, err=0, and every byte written was read back verified.
fio_run() {
	local name=$1 dev=$2 out terse f; shift 2
	out=$(fio --name="$name" --filename="$dev" "${fio_common[@]}" "$@" 2>&1) || {
		echo "$out" >&2
		xdie "fio $name failed on $dev"
	}
	terse=$(grep '^3;' <<<"$out" | tail -n1)
	[ -n "$terse" ] || { echo "$out" >&2; xdie "fio $name: no terse summary"; }
	IFS=';' read -r -a f <<<"$terse"
	[ "${f[4]}" = 0 ] || { echo "$out" >&2; xdie "fio $name: error ${f[4]}"; }
	[ "${f[46]}" -gt 0 ] && [ "${f[5]}" -eq "${f[46]}" ] ||
		xdie "fio $name: wrote ${f[46]} KiB but verified ${f[5]} KiB"
	step "    fio $name: wrote and verified $((f[46] / 1024)) MiB"
}

zeroes() {   # zeroes DEV OFFSET LENGTH (multiples of 4 KiB)
	cmp -s -n "$3" <(dd if="$1" bs=4096 skip=$(($2 / 4096)) count=$(($3 / 4096)) \
		iflag=direct status=none) /dev/zero
}
sysq() { cat "/sys/block/${SMK_DEV#/dev/}/queue/$1"; }

# --------------------------------------------------------------------------------------------
step "kernel $(uname -r), fio $(fio --version), $(nproc) vCPUs"
step "ublk_smoke: $SMOKE_BIN${SMOKE_SAN:+ (phases 6-7: $SMOKE_SAN)}"
modprobe ublk_drv || die "modprobe ublk_drv failed"
[ -c /dev/ublk-control ] || die "no /dev/ublk-control after modprobe ublk_drv"

step "1. RAM target ($RAM_MIB MiB), ublk_smoke with 2 I/O queues"
mark=$(dmesg_mark)
tgt_start 4420 /tmp/tgt-ram.log --ram ${RAM_MIB}M
smk_start "$SMOKE_BIN" 4420 /tmp/smoke-1.log -i 2 -Q 64
dev=$SMK_DEV
lsblk -o NAME,SIZE,TYPE,LOG-SEC,PHY-SEC,DISC-MAX,WSAME "$dev" | sed 's/^/    /' >&2
bytes=$(lsblk -bdno SIZE "$dev")
[ "$bytes" -eq $((RAM_MIB << 20)) ] || xdie "lsblk: $dev is $bytes bytes, want $((RAM_MIB << 20))"
[ "$(sysq logical_block_size)" -eq 512 ] || xdie "logical block size $(sysq logical_block_size), want 512"
[ "$(sysq write_cache)" = "write back" ] || xdie "write_cache '$(sysq write_cache)', want 'write back'"
[ "$(sysq fua)" -eq 1 ] || xdie "fua $(sysq fua), want 1"
[ "$(sysq discard_max_bytes)" -gt 0 ] || xdie "no discard"
[ "$(sysq write_zeroes_max_bytes)" -gt 0 ] || xdie "no write zeroes"
nq=$(find "/sys/block/${dev#/dev/}/mq" -mindepth 1 -maxdepth 1 -type d | wc -l)
[ "$nq" -eq 2 ] || xdie "$dev has $nq hardware queues, want 2"
step "    $dev: $bytes bytes, $nq queues of $(cat "/sys/block/${dev#/dev/}/mq/0/nr_tags"), max I/O $(sysq max_hw_sectors_kb) KiB, discard max $(($(sysq discard_max_bytes) >> 20)) MiB, write-zeroes max $(($(sysq write_zeroes_max_bytes) >> 10)) KiB"

step "2. fio write + verify on $dev"
fio_run rand4k "$dev" --rw=randwrite --bs=4k --iodepth=32 --size="$FIO_SIZE"
fio_run seq128k "$dev" --rw=write --bs=128k --iodepth=8 --size="$FIO_SIZE" --offset=64M
fio_run big1m "$dev" --rw=write --bs=1m --iodepth=4 --size="$FIO_SIZE" --offset=128M --numjobs=2 --offset_increment=32M

step "3. discard, write zeroes, flush, FUA"
dd if=/dev/urandom of=/tmp/pattern bs=1M count=4 status=none
dd if=/tmp/pattern of="$dev" bs=1M seek=200 oflag=direct conv=fsync status=none
blkdiscard -o $((200 << 20)) -l $((1 << 20)) "$dev"
zeroes "$dev" $((200 << 20)) $((1 << 20)) || xdie "discarded range does not read back as zeroes"
blkdiscard -z -o $((201 << 20)) -l $((1 << 20)) "$dev"
zeroes "$dev" $((201 << 20)) $((1 << 20)) || xdie "write-zeroed range does not read back as zeroes"
cmp -s -n $((2 << 20)) -i $((2 << 20)) <(dd if="$dev" bs=1M skip=200 count=4 iflag=direct status=none) /tmp/pattern ||
	xdie "data next to the discarded / zeroed ranges changed"
dd if=/tmp/pattern of="$dev" bs=64k seek=$((210 << 4)) oflag=direct,dsync status=none
cmp -s <(dd if="$dev" bs=1M skip=210 count=4 iflag=direct status=none) /tmp/pattern ||
	xdie "O_DSYNC (FUA) write does not read back"
step "    discard and write-zeroes read back zeroes; fsync'ed and O_DSYNC writes read back"

step "4. ext4: mkfs, mount, write a file, remount, read it back"
mkfs.ext4 -q -F "$dev"
mkdir -p "$MNT"
mount "$dev" "$MNT"
dd if=/dev/urandom of="$MNT/file" bs=1M count=8 status=none
sum=$(md5sum <"$MNT/file")
umount "$MNT"
mount "$dev" "$MNT"
[ "$(md5sum <"$MNT/file")" = "$sum" ] || xdie "the file changed across umount / mount"
umount "$MNT"
step "    8 MiB file intact across umount / mount ($(cut -c1-12 <<<"$sum"))"

step "5. SIGTERM under writes: every completed write survives; then an idle SIGTERM"
kernel_clean "$mark" "phases 1-4"
t0=$(proc_ticks "$SMK_PID")
sleep 3
t1=$(proc_ticks "$SMK_PID")
step "    idle for 3 s: ublk_smoke used $((t1 - t0)) clock ticks of CPU"
[ $((t1 - t0)) -le 30 ] || xdie "ublk_smoke burns CPU while idle ($((t1 - t0)) ticks in 3 s)"
dd if=/dev/urandom of=/tmp/stream bs=1M count=64 status=none
# One writer, one direct 1 MiB write after the other, so one is nearly always in flight
# when the stop comes; each write() returned only once the device completed it, and dd
# counts them ("N+0 records out") when the device goes away under it.
dd if=/tmp/stream of="$dev" bs=1M count=64 oflag=direct conv=notrunc,nocreat \
	2>/tmp/stream.err &
writer=$!
sleep 1.5
smk_stop
wait "$writer" || true
acked=$(sed -n 's/^\([0-9]*\)+[0-9]* records out$/\1/p' /tmp/stream.err)
[ -n "$acked" ] || { cat /tmp/stream.err >&2; xdie "no record count from the writer"; }
[ "$acked" -gt 0 ] || xdie "the writer completed nothing before the stop"
step "    ublk_smoke stopped after $acked of 64 writes completed ($(grep -m1 "^dd:" /tmp/stream.err || echo "no error"))"
smk_start "$SMOKE_BIN" 4420 /tmp/smoke-5.log -i 2 -Q 64
dev=$SMK_DEV
cmp -s <(dd if="$dev" bs=1M count="$acked" iflag=direct status=none) \
	<(dd if=/tmp/stream bs=1M count="$acked" status=none) ||
	xdie "writes completed before the stop did not all reach the target"
step "    all $acked completed writes read back through a new $dev"
mark=$(dmesg_mark)
smk_stop
kernel_clean "$mark" "the idle stop"
tgt_stop
step "    $dev removed, ublk_smoke exit 0, target exit 0, kernel log clean"

SMOKE2=${SMOKE_SAN:-$SMOKE_BIN}
step "6. file target ($FILE_MIB MiB) restarted under a fio write + verify job"
mark=$(dmesg_mark)
rm -f "$IMG"
tgt_start 4421 /tmp/tgt-file.log --file "$IMG" --size ${FILE_MIB}M
smk_start "$SMOKE2" 4421 /tmp/smoke-6.log -i 2 -Q 32 --reconnect-delay 1 --ctrl-loss-tmo 60
dev=$SMK_DEV
fio --name=reconnect --filename="$dev" "${fio_common[@]}" --rw=randwrite --bs=16k \
	--iodepth=16 --size=32M --rate=4m >/tmp/fio-reconnect.log 2>&1 &
fio_pid=$!
sleep 2
tgt_kill
step "    target killed (SIGKILL) with the job running"
sleep 2
tgt_start 4421 /tmp/tgt-file.log --file "$IMG"
step "    target restarted"
rc=0
wait "$fio_pid" || rc=$?
terse=$(grep '^3;' /tmp/fio-reconnect.log | tail -n1 || true)
IFS=';' read -r -a f <<<"$terse"
[ "$rc" -eq 0 ] && [ "${f[4]:-1}" = 0 ] && [ "${f[5]:-0}" -eq "${f[46]:-1}" ] ||
	{ cat /tmp/fio-reconnect.log >&2; xdie "fio across the target restart: rc $rc"; }
grep -q 'controller reconnecting' "$SMK_LOG" || xdie "ublk_smoke did not see the reconnect"
step "    fio across the restart: wrote and verified $((f[46] / 1024)) MiB; $(grep -c 'reconnect' "$SMK_LOG") reconnect log lines"
smk_stop
kernel_clean "$mark" "phase 6"
step "    $dev removed cleanly"

step "7. controller lost for good (ctrl_loss_tmo 3 s): EIO, then a clean removal"
smk_start "$SMOKE2" 4421 /tmp/smoke-7.log -i 1 --reconnect-delay 1 --ctrl-loss-tmo 3
dev=$SMK_DEV
dd if=/tmp/pattern of="$dev" bs=1M oflag=direct status=none
tgt_kill
wait_for 15 grep -q 'controller given up' "$SMK_LOG" || xdie "ublk_smoke never gave the controller up"
if dd if="$dev" of=/dev/null bs=4k count=1 iflag=direct status=none 2>/tmp/dd.err; then
	xdie "a read after the controller was given up succeeded"
fi
grep -q 'Input/output error' /tmp/dd.err || { cat /tmp/dd.err >&2; xdie "the read failed, but not with EIO"; }
step "    reads fail with EIO: $(head -n1 /tmp/dd.err)"
smk_stop
step "    $dev removed cleanly"
step "PASS"
