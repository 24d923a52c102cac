#!/usr/bin/env bash
# Guest side of test-mpath-ana.sh: libnvmf multipath (nvmf perf with two -r paths) against
# the Linux kernel's nvmet-tcp with ANA, the states set through configfs as admins do:
#   1. nvmet: brd /dev/ram0 as namespace 1, port 1 = 127.0.0.1:4420 and port 2 =
#      127.0.0.1:4421, both linked to the subsystem (two controllers, one namespace)
#   2. port 2's ANA group 1 non-optimized: round-robin puts every I/O on port 1 (optimized
#      first), perf shows port 2 "non-optimized" with 0 I/Os
#   3. perf -V running, port 1's group goes inaccessible: the ANA change event (and the
#      ANA statuses of commands in flight) move the I/O to port 2 - no error, no mismatch;
#      perf shows port 1 "inaccessible" and I/O on port 2
#   4. port 1 inaccessible at the start, optimized 2 s into the run: port 1 takes I/O again
#   5. nvmf connect to port 1, then to port 2: the second is a path of the first daemon, one
#      /dev/ublkbN; nvmf list shows both paths with their ANA states (and -o json PathOf);
#      fio randwrite (8 MiB/s) + crc32c verify on the device while port 1 goes inaccessible
#      and back; nvmf disconnect -d of the path leaves the device; the path again (connect
#      --iopolicy round-robin: nvmf list shows it), then disconnect -d of the FIRST
#      controller under fio verify: the path keeps the device; -n removes it
# nvmet must refuse none of our commands but reads and writes on the inaccessible path.
# Runs inside vm-run as root; exit 0 = pass.  NVMF_BIN: the nvmf tool.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

NVMF=${NVMF_BIN:-$top/build/src/tools/nvmf}
NQN=nqn.2024-01.io.nvmf-tcp:interop-mpath-ana
T1="trtype:tcp adrfam:ipv4 traddr:127.0.0.1 trsvcid:4420 subnqn:$NQN"
T2="trtype:tcp adrfam:ipv4 traddr:127.0.0.1 trsvcid:4421 subnqn:$NQN"
[ -x "$NVMF" ] || die "no nvmf tool at $NVMF (run scripts/build release)"

ana() { echo "$2" >"$NVMET/ports/$1/ana_groups/1/ana_state"; }

cleanup() {
	pkill -x nvmf 2>/dev/null || true
	knvmet_teardown 2>/dev/null || true
	modprobe -r brd 2>/dev/null || true
}
trap cleanup EXIT

# perf_paths TAG SECONDS: nvmf perf over both paths, round-robin, randrw with verify; its
# output in /tmp/perf-TAG.out and the log.  Exit 0 (no error, no mismatch) required.
perf_paths() {
	local tag=$1 t=$2 rc=0
	"$NVMF" perf -r "$T1" -r "$T2" --iopolicy round-robin -q 16 -o 4096 -w randrw -V \
		-t "$t" >/tmp/perf-"$tag".out 2>&1 || rc=$?
	sed "s/^/    perf $tag | /" /tmp/perf-"$tag".out >&2
	[ "$rc" -eq 0 ] || die "nvmf perf ($tag) exited $rc"
	grep -q ' 0 mismatches' /tmp/perf-"$tag".out || die "perf ($tag): mismatches"
}
# path_line TAG PORT: perf's line for the path on PORT
path_line() { grep "^Path 127.0.0.1:$2 " /tmp/perf-"$1".out; }
path_ios() { path_line "$1" "$2" | awk '{ print $5 }'; }

step "kernel $(uname -r), $(nproc) vCPUs, $("$NVMF" version)"
step "1. nvmet: /dev/ram0 as ns 1 of $NQN on ports 4420 and 4421"
brd_setup 64
knvmet_setup "$NQN" /dev/ram0 1 4420
p=$NVMET/ports/2
mkdir "$p"
echo tcp >"$p/addr_trtype"
echo ipv4 >"$p/addr_adrfam"
echo 127.0.0.1 >"$p/addr_traddr"
echo 4421 >"$p/addr_trsvcid"
ln -s "$NVMET/subsystems/$NQN" "$p/subsystems/$NQN"
wait_for 10 tcp_listening 4420 || die "no listener on 4420"
wait_for 10 tcp_listening 4421 || die "no listener on 4421"

step "2. port 2 non-optimized: every I/O on port 1"
ana 2 non-optimized
perf_paths nonopt 3
path_line nonopt 4421 | grep -q 'ANA non-optimized' || die "port 2 not shown non-optimized"
path_line nonopt 4420 | grep -q 'ANA optimized' || die "port 1 not shown optimized"
[ "$(path_ios nonopt 4421)" -eq 0 ] || die "I/O went to the non-optimized path"
[ "$(path_ios nonopt 4420)" -gt 0 ] || die "no I/O on the optimized path"

step "3. port 1 inaccessible under I/O: the I/O moves to port 2"
( sleep 2; ana 1 inaccessible ) &
perf_paths inacc 6
wait
path_line inacc 4420 | grep -q 'ANA inaccessible' || die "port 1 not shown inaccessible"
[ "$(path_ios inacc 4421)" -gt 0 ] || die "no I/O on port 2 after port 1 went inaccessible"
step "    port 1: $(path_ios inacc 4420) I/Os, port 2: $(path_ios inacc 4421) I/Os"

step "4. port 1 optimized again 2 s into a run: it takes I/O again"
( sleep 2; ana 1 optimized ) &
perf_paths back 6
wait
path_line back 4420 | grep -q 'ANA optimized' || die "port 1 not shown optimized"
[ "$(path_ios back 4420)" -gt 0 ] || die "no I/O on port 1 once optimized again"
step "    port 1: $(path_ios back 4420) I/Os, port 2: $(path_ios back 4421) I/Os"
# nvmet logs every command it refuses (6.12: without the status): reads and writes that
# reached port 1 while it was inaccessible (ANA status) are expected, nothing else
if dmesg | grep 'failed cmd' | grep -Ev 'opcode [12],' | grep -q .; then
	dmesg | grep 'failed cmd' | tail -5 >&2
	die "nvmet refused commands other than reads and writes on an inaccessible path"
fi
step "    nvmet refused $(dmesg | grep -c 'failed cmd') reads/writes on the inaccessible path"

step "5. nvmf connect to both ports: one /dev/ublkbN over two paths; fio verify across ANA changes"
modprobe ublk_drv || die "modprobe ublk_drv failed"
wait_for 5 test -c /dev/ublk-control || die "no /dev/ublk-control"
out=$("$NVMF" connect -t tcp -a 127.0.0.1 -s 4420 -n "$NQN" 2>&1) || die "connect 4420: $out"
step "    $out"
dev=$(grep -o '/dev/ublkb[0-9]*' <<<"$out" | head -n1)
[ -b "$dev" ] || die "no block device in: $out"
out=$("$NVMF" connect -t tcp -a 127.0.0.1 -s 4421 -n "$NQN" 2>&1) || die "connect 4421: $out"
step "    $out"
grep -q 'a path of nvmf0' <<<"$out" || die "the second address did not become a path"
[ "$(ls /dev/ublkb* | wc -l)" -eq 1 ] || die "block devices: $(ls /dev/ublkb*)"
list=$("$NVMF" list)
sed 's/^/    | /' <<<"$list" >&2
grep -q ' +- nvmf0 tcp traddr=127.0.0.1,trsvcid=4420 cntlid [0-9]* live optimized' <<<"$list" ||
	die "nvmf list: no optimized path on 4420"
grep -q ' +- nvmf1 tcp traddr=127.0.0.1,trsvcid=4421 cntlid [0-9]* live non-optimized' <<<"$list" ||
	die "nvmf list: no non-optimized path on 4421"
list=$("$NVMF" list -o json)
grep -Eq '"PathOf": ?"nvmf0"' <<<"$list" || die "nvmf list -o json: no PathOf"
rc=0
fio --name=mpath --filename="$dev" --rw=randwrite --bs=4k --iodepth=16 --size=48M --rate=8m \
	--direct=1 --ioengine=libaio --verify=crc32c --do_verify=1 >/tmp/fio-mpath.log 2>&1 &
fio_pid=$!
sleep 2
ana 1 inaccessible
step "    port 1 inaccessible under fio"
sleep 3
ana 1 optimized
step "    port 1 optimized again"
wait "$fio_pid" || rc=$?
grep -E 'err=|READ:|WRITE:' /tmp/fio-mpath.log | sed 's/^/    | /' >&2
[ "$rc" -eq 0 ] && grep -q 'err= 0' /tmp/fio-mpath.log || die "fio over the two paths: rc $rc"
! grep -Eq 'verify: bad|error' /tmp/fio-mpath.log || die "fio: verify errors"
grep 'ANA group' /run/nvmf/nvmf0.log | sed 's/^/    | /' >&2 || true
"$NVMF" disconnect -d nvmf1 || die "disconnect -d nvmf1"
[ ! -e /run/nvmf/nvmf1.json ] || die "nvmf1 still listed"
[ -b "$dev" ] || die "$dev went away with the path"
step "    -d nvmf1: the path went, $dev stayed"
"$NVMF" list -o json | grep -E '"(Controller|State)"' | sed 's/^/    before | /' >&2 || true
# the path back with another iopolicy, then the FIRST controller removed under fio: the path
# takes the device over (as a Linux namespace head outlives the controller it came with)
out=$("$NVMF" connect -t tcp -a 127.0.0.1 -s 4421 -n "$NQN" --iopolicy round-robin 2>&1) ||
	die "connect 4421 again: $out"
step "    $out"
if ! grep -q 'a path of nvmf0' <<<"$out"; then
	for f in /run/nvmf/*.json; do echo "--- $f"; grep -E '"(name|state|path_of|ublk|pid)"' "$f"; done >&2
	tail -n 15 /run/nvmf/nvmf0.log >&2
	die "4421 again did not become a path of nvmf0"
fi
list=$("$NVMF" list)
grep -q "^$NQN iopolicy=round-robin" <<<"$list" ||
	die "nvmf list: iopolicy not round-robin: $list"
rc=0
fio --name=handover --filename="$dev" --rw=randwrite --bs=4k --iodepth=16 --size=24M --rate=8m \
	--direct=1 --ioengine=libaio --verify=crc32c --do_verify=1 >/tmp/fio-handover.log 2>&1 &
fio_pid=$!
sleep 2
"$NVMF" disconnect -d nvmf0 || die "disconnect -d nvmf0"
[ ! -e /run/nvmf/nvmf0.json ] || die "nvmf0 still listed after disconnect -d nvmf0"
[ -b "$dev" ] || die "$dev went away with the first controller"
wait "$fio_pid" || rc=$?
grep -E 'err=|WRITE:' /tmp/fio-handover.log | sed 's/^/    | /' >&2
[ "$rc" -eq 0 ] && grep -q 'err= 0' /tmp/fio-handover.log || die "fio across the handover: rc $rc"
! grep -Eq 'verify: bad|error' /tmp/fio-handover.log || die "fio across the handover: verify errors"
list=$("$NVMF" list -o json)
grep -Eq '"Controller": ?"nvmf1"' <<<"$list" && ! grep -q PathOf <<<"$list" ||
	die "nvmf list -o json after the handover: $list"
step "    -d nvmf0 under fio: nvmf1 holds $dev, fio verified, 0 errors"
"$NVMF" disconnect -n "$NQN" | sed 's/^/    | /' >&2
wait_for 20 sh -c '! ls /dev/ublkb* >/dev/null 2>&1' || die "$dev still there after disconnect -n"
! grep -E ' (error): ' /run/nvmf/*.log 2>/dev/null || true
step "PASS"
