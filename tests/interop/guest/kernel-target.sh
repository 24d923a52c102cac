#!/usr/bin/env bash
# Guest side of test-kernel-target.sh: proves the test bed with the kernel's own NVMe/TCP
# target (nvmet-tcp over brd) and host (nvme-tcp via nvme-cli), set up as admins do:
# configfs, nvme discover, nvme connect, lsblk, fio write+verify, a second connection with
# header+data digests (which needs crc32c loaded on demand), disconnect and teardown.
# Runs inside vm-run as root; exit 0 = pass.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

NQN=nqn.2024-01.io.nvmf-tcp:kernel-target
DISK_MIB=256
# Sized to finish in seconds under TCG yet touch enough blocks to catch misplaced data.
FIO_SIZE=${FIO_SIZE:-32M}

fio_common=(--direct=1 --ioengine=libaio --bs=4k --iodepth=16
	--size="$FIO_SIZE" --verify=crc32c --verify_fatal=1 --randrepeat=1 --group_reporting
	# fio would otherwise drop *-verify.state files into the caller's directory (the repo).
	--verify_state_save=0)
fio_run() {   # fio_run NAME DEV [extra fio args]: fio, its summary lines on stderr
	local name=$1 dev=$2 out; shift 2
	out=$(fio --name="$name" --filename="$dev" "${fio_common[@]}" "$@" 2>&1) || {
		echo "$out" >&2
		die "fio $name failed on $dev"
	}
	grep -E '^ +(read|write):|err=' <<<"$out" | sed "s/^/    fio $name: /" >&2
	grep -q 'err= 0' <<<"$out" || { echo "$out" >&2; die "fio $name reported an error"; }
}

cleanup() {
	local rc=$?
	trap - EXIT
	# Best effort, so a failure above still leaves a clean guest log.
	nvme disconnect -n "$NQN" >/dev/null 2>&1 || true
	knvmet_teardown 2>/dev/null || true
	modprobe -r brd 2>/dev/null || true
	exit "$rc"
}
trap cleanup EXIT
cd /tmp   # the guest's own tmpfs: nothing this test writes lands in the caller's directory

step "kernel $(uname -r), nvme-cli $(nvme version | awk 'NR==1{print $3}'), fio $(fio --version)"
! lsmod | grep -q '^crc32c' || die "crc32c already loaded: the digest step would prove nothing"

step "brd: /dev/ram0 of $DISK_MIB MiB"
brd_setup "$DISK_MIB"

step "nvmet-tcp: subsystem $NQN, ns 1 = /dev/ram0, port 1 = tcp 127.0.0.1:4420"
knvmet_setup "$NQN" /dev/ram0 1 4420
grep -q "^$NQN\$" <(ls "$NVMET/ports/1/subsystems") || die "port 1 does not list the subsystem"

step "modprobe nvme-tcp (the host transport; provides /dev/nvme-fabrics)"
modprobe nvme-tcp
wait_for 5 test -c /dev/nvme-fabrics || die "/dev/nvme-fabrics did not appear"

step "nvme discover -t tcp -a 127.0.0.1 -s 4420"
disc=$(nvme discover -t tcp -a 127.0.0.1 -s 4420) || die "nvme discover failed"
sed 's/^/    /' <<<"$disc" >&2
grep -Eq "subnqn: +$NQN\$" <<<"$disc" || die "discovery log lacks $NQN"
grep -Eq 'trsvcid: +4420' <<<"$disc" || die "discovery log lacks trsvcid 4420"

step "nvme connect -t tcp -a 127.0.0.1 -s 4420 -n $NQN"
dev=$(khost_connect "$NQN")
step "connected: $dev"
lsblk -o NAME,SIZE,TYPE,TRAN "$dev" | sed 's/^/    /' >&2
size=$(lsblk -bdno SIZE "$dev")
[ "$size" -eq $((DISK_MIB * 1024 * 1024)) ] || die "$dev is $size bytes, want $((DISK_MIB << 20))"
grep -qx tcp /sys/class/nvme/*/transport || die "no tcp controller in /sys/class/nvme"
subnqn=$(nvme id-ctrl "$dev" | sed -n 's/^subnqn *: *//p')
[ "$subnqn" = "$NQN" ] || die "id-ctrl subnqn '$subnqn' != $NQN"

step "fio 4k randwrite QD16 $FIO_SIZE + crc32c verify (no digests)"
fio_run write-verify "$dev" --rw=randwrite

step "nvme disconnect -n $NQN"
khost_disconnect "$NQN"

step "nvme connect -g -G (header + data digests: crc32c must autoload)"
dev=$(khost_connect "$NQN" -g -G)
step "connected: $dev"
lsmod | grep -q '^crc32c' || die "crc32c is not loaded after a digest connect"
lsmod | grep '^crc32c' | sed 's/^/    loaded: /' >&2

step "fio verify-only over digests: the data written before the reconnect reads back intact"
fio_run write-verify "$dev" --rw=randwrite --verify_only=1
step "fio 4k randwrite + verify over digests"
fio_run digest-write "$dev" --rw=randwrite --offset=128M --size=8M

step "nvme disconnect -n $NQN"
khost_disconnect "$NQN"
[ -z "$(ls /sys/class/nvme/ 2>/dev/null)" ] || die "controllers left: $(ls /sys/class/nvme/)"

step "teardown: configfs, nvmet, brd"
knvmet_teardown
[ -z "$(ls "$NVMET/ports" "$NVMET/subsystems" 2>/dev/null)" ] || die "configfs not empty"
modprobe -r brd
! lsmod | grep -Eq '^(nvmet|nvmet_tcp|brd) ' || die "modules still loaded"
step "PASS"
