#!/usr/bin/env bash
# Guest side of test-nvmf-target.sh: the Linux kernel host (nvme-cli + nvme-tcp) against our
# user-space nvmf-target running in the same guest, used the way admins use nvmet:
#   1. quick-start RAM target (256 MiB), listening on 127.0.0.1:4420
#   2. nvme discover shows the subsystem
#   3. nvme connect; the namespace's block device, nvme list, lsblk size, id-ctrl serial /
#      model / subnqn, id-ns nsze; the target's idle CPU while connected (printed only)
#   4. fio 4 KiB randwrite and 128 KiB sequential write, both with crc32c verify
#   5. blkdiscard reads back zeroes, nvme flush, nvme write-zeroes -s 0 -c 7 (exactly 8 LBAs)
#   6. nvme disconnect: the device goes away, the target releases the controller
#   7. reconnect with header + data digests and -i 2: 2 I/O queues, old data intact, fio
#   8. file backend: data and namespace UUID survive a SIGTERM + restart of the target
#   9. nvmetcli-style config.json with two ports (4420, 8009) linking one subsystem with a
#      configured serial, model and UUID: discovery on 8009, connect through 8009 (the ASan
#      build when the host passed one)
#  10. the kernel logged no nvme error, timeout or reset during the whole run
# Every target run ends with SIGTERM: exit status 0, no sanitizer report in its log.
# Runs inside vm-run as root; exit 0 = pass. Environment (set by test-nvmf-target.sh):
#   NVMF_TARGET      the release nvmf-target binary (default: build/ of this repository)
#   NVMF_TARGET_SAN  an ASan/UBSan nvmf-target for the config-file run (optional)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

TGT_BIN=${NVMF_TARGET:-$top/build/src/tools/nvmf-target}
TGT_SAN=${NVMF_TARGET_SAN:-}
NQN=nqn.2024-01.io.nvmf-tcp:interop-quickstart
CFG_NQN=nqn.2024-01.io.nvmf-tcp:interop-config
CFG_SERIAL=NVMFTCP-CFG-0001
CFG_MODEL="nvmf-tcp interop"
CFG_UUID=3f1c5e2a-9b7d-4c11-8e6f-2a4b6c8d0e12
RAM_MIB=256
FILE_MIB=64
IMG=/tmp/ns.img
# Sized to finish in seconds under TCG yet touch enough blocks to catch misplaced data.
FIO_SIZE=${FIO_SIZE:-32M}

[ -x "$TGT_BIN" ] || die "no nvmf-target at $TGT_BIN (run scripts/build release)"

# --- the target process: tgt_start / tgt_stop / tdie / log_has (tgt.sh) ---------------
# shellcheck source=tgt.sh
. "$here/tgt.sh"

tgt_guard "$NQN" "$CFG_NQN"
# A command that fails outside any check ends the script through set -e (tgt_guard's trap).
cd /tmp   # the guest's own tmpfs: nothing this test writes lands in the caller's directory

# --- helpers for the checks ----------------------------------------------------------------
# fio_common, fio_run: tgt.sh

# idfield TEXT NAME: value of "NAME : value" in nvme id-ctrl / id-ns text output, trimmed.
idfield() { sed -n "s/^$2 *: *//p" <<<"$1" | head -n1 | sed 's/ *$//'; }

# expected_serial NQN: the serial the target derives when none is configured (tgt.c:
# FNV-1a 64 of the NQN, 16 hex digits). Bash arithmetic wraps at 64 bits like uint64_t.
expected_serial() {
	local s=$1 h=-3750763034362895579 i c   # 0xcbf29ce484222325
	for ((i = 0; i < ${#s}; i++)); do
		printf -v c '%d' "'${s:i:1}"
		h=$(((h ^ c) * 0x100000001b3))
	done
	printf '%016x' "$h"
}

# check_identify DEV CTRL SIZE SERIAL MODEL NQN: nvme list, lsblk, id-ctrl, id-ns agree.
check_identify() {
	local dev=$1 ctrl=$2 size=$3 serial=$4 model=$5 nqn=$6 idc idn list bytes lbs nsze ncap
	list=$(nvme list) || tdie "nvme list failed"
	sed 's/^/    /' <<<"$list" >&2
	grep -q "^$dev " <<<"$list" || tdie "nvme list does not show $dev"
	grep "^$dev " <<<"$list" | grep -q "$serial" || tdie "nvme list: $dev lacks serial $serial"
	grep "^$dev " <<<"$list" | grep -q "$model" || tdie "nvme list: $dev lacks model '$model'"
	lsblk -o NAME,SIZE,TYPE,TRAN,MODEL "$dev" | sed 's/^/    /' >&2
	bytes=$(lsblk -bdno SIZE "$dev")
	[ "$bytes" -eq "$size" ] || tdie "lsblk: $dev is $bytes bytes, want $size"

	idc=$(nvme id-ctrl "/dev/$ctrl") || tdie "nvme id-ctrl /dev/$ctrl failed"
	[ "$(idfield "$idc" sn)" = "$serial" ] || tdie "id-ctrl sn '$(idfield "$idc" sn)', want '$serial'"
	[ "$(idfield "$idc" mn)" = "$model" ] || tdie "id-ctrl mn '$(idfield "$idc" mn)', want '$model'"
	[ "$(idfield "$idc" subnqn)" = "$nqn" ] || tdie "id-ctrl subnqn '$(idfield "$idc" subnqn)', want $nqn"
	step "    id-ctrl /dev/$ctrl: sn '$(idfield "$idc" sn)', mn '$(idfield "$idc" mn)', fr '$(idfield "$idc" fr)', cntlid $(idfield "$idc" cntlid), oncs $(idfield "$idc" oncs), mdts $(idfield "$idc" mdts)"

	idn=$(nvme id-ns "$dev") || tdie "nvme id-ns $dev failed"
	lbs=$(cat "/sys/block/${dev#/dev/}/queue/logical_block_size")
	nsze=$(idfield "$idn" nsze) ncap=$(idfield "$idn" ncap)
	[ $((nsze)) -eq $((size / lbs)) ] || tdie "id-ns nsze $nsze, want $((size / lbs)) blocks of $lbs"
	[ $((ncap)) -eq $((size / lbs)) ] || tdie "id-ns ncap $ncap, want $((size / lbs))"
	grep -Eq "lbads:$(awk -v b="$lbs" 'BEGIN{print log(b)/log(2)}') .*in use" <<<"$idn" ||
		tdie "id-ns: the LBA format in use is not $lbs bytes: $(grep 'in use' <<<"$idn")"
	step "    id-ns $dev: nsze $nsze = $((nsze * lbs >> 20)) MiB of $lbs-byte blocks, $(grep 'in use' <<<"$idn" | sed 's/  */ /g')"
}

# ns_uuid DEV: the namespace UUID the kernel read (Namespace Identification Descriptors).
ns_uuid() { cat "/sys/block/${1#/dev/}/uuid"; }

# --------------------------------------------------------------------------------------------
step "kernel $(uname -r), nvme-cli $(nvme version | awk 'NR==1{print $3}'), fio $(fio --version), $(nproc) vCPUs"
step "target: $TGT_BIN${TGT_SAN:+ (config run: $TGT_SAN)}"
modprobe nvme-tcp
wait_for 5 test -c /dev/nvme-fabrics || die "/dev/nvme-fabrics did not appear"

# --- 1. start -------------------------------------------------------------------------------
step "1. start nvmf-target --ram ${RAM_MIB}M --listen 127.0.0.1:4420 --nqn $NQN"
tgt_start ram "4420" "$TGT_BIN" --ram "${RAM_MIB}M" --listen 127.0.0.1:4420 --nqn "$NQN" -v
serial=$(expected_serial "$NQN")

# --- 2. discovery ---------------------------------------------------------------------------
step "2. nvme discover -t tcp -a 127.0.0.1 -s 4420"
disc=$(nvme discover -t tcp -a 127.0.0.1 -s 4420) || tdie "nvme discover failed"
sed 's/^/    /' <<<"$disc" >&2
grep -Eq "subnqn: +$NQN\$" <<<"$disc" || tdie "discovery log lacks $NQN"
grep -Eq 'trsvcid: +4420' <<<"$disc" || tdie "discovery log lacks trsvcid 4420"
grep -Eq 'subtype: +nvme subsystem' <<<"$disc" || tdie "discovery log has no NVM subsystem entry"
grep -Eq 'traddr: +127\.0\.0\.1' <<<"$disc" || tdie "discovery log lacks traddr 127.0.0.1"
[ -z "$(ls /sys/class/nvme/ 2>/dev/null)" ] || tdie "controllers left after discover: $(ls /sys/class/nvme/)"

# --- 3. connect + identify ------------------------------------------------------------------
step "3. nvme connect -t tcp -a 127.0.0.1 -s 4420 -n $NQN"
dev=$(khost_connect "$NQN")
ctrl=$(nvme_ctrl_name "$NQN") || tdie "no controller for $NQN in sysfs"
step "    connected: $dev (controller $ctrl, $(cat "/sys/class/nvme/$ctrl/transport") $(cat "/sys/class/nvme/$ctrl/address"), queue_count $(cat "/sys/class/nvme/$ctrl/queue_count"))"
[ "$(cat "/sys/class/nvme/$ctrl/state")" = live ] || tdie "$ctrl state $(cat "/sys/class/nvme/$ctrl/state")"
check_identify "$dev" "$ctrl" $((RAM_MIB << 20)) "$serial" Linux "$NQN"
default_qc=$(cat "/sys/class/nvme/$ctrl/queue_count")
[ "$default_qc" -eq $(($(nproc) + 1)) ] ||
	tdie "queue_count $default_qc after a default connect, want admin + one per vCPU = $(($(nproc) + 1))"

step "    idle CPU of the target while connected (informational)"
sleep 1   # let the connect's own work (identify, partition scan) settle
t0=$(proc_cpu_ticks "$TGT_PID"); sleep 3; t1=$(proc_cpu_ticks "$TGT_PID")
step "    idle CPU: $((t1 - t0)) ticks in 3 s (CLK_TCK $(getconf CLK_TCK), ${VM_RUN_ACCEL:-?}, $(ls "/proc/$TGT_PID/task" | wc -l) threads)"

# --- 4. fio ---------------------------------------------------------------------------------
step "4. fio 4k randwrite QD16 $FIO_SIZE + crc32c verify"
fio_run rand4k "$dev" --rw=randwrite --bs=4k --iodepth=16 --size="$FIO_SIZE"
step "    fio 128k sequential write QD16 $FIO_SIZE at +$FIO_SIZE + crc32c verify"
fio_run seq128k "$dev" --rw=write --bs=128k --iodepth=16 --size="$FIO_SIZE" --offset="$FIO_SIZE"

# --- 5. discard, flush, write zeroes --------------------------------------------------------
step "5. blkdiscard -o 1M -l 4M $dev (RAM: deallocated blocks read as zeroes)"
echo "    discard_max_bytes $(cat "/sys/block/${dev#/dev/}/queue/discard_max_bytes"), write_zeroes_max_bytes $(cat "/sys/block/${dev#/dev/}/queue/write_zeroes_max_bytes")" >&2
! read_is_zero "$dev" $((1 << 20)) $((4 << 20)) || tdie "1M..5M already zero before the discard: the check would prove nothing"
blkdiscard -o $((1 << 20)) -l $((4 << 20)) "$dev" || tdie "blkdiscard failed"
read_is_zero "$dev" $((1 << 20)) $((4 << 20)) || tdie "1M..5M does not read back as zeroes after blkdiscard"
! read_is_zero "$dev" $((5 << 20)) 4096 || tdie "the 4 KiB after the discarded range was zeroed too"
! read_is_zero "$dev" $(((1 << 20) - 4096)) 4096 || tdie "the 4 KiB before the discarded range was zeroed"

step "    nvme flush $dev"
nvme flush "$dev" >&2 || tdie "nvme flush $dev failed"

lbs=$(cat "/sys/block/${dev#/dev/}/queue/logical_block_size")
step "    nvme write-zeroes $dev -s 0 -c 7 (8 blocks of $lbs bytes)"
! read_is_zero "$dev" 0 $((8 * lbs)) || tdie "LBAs 0-7 already zero: the check would prove nothing"
nvme write-zeroes "$dev" -s 0 -c 7 >&2 || tdie "nvme write-zeroes failed"
read_is_zero "$dev" 0 $((8 * lbs)) || tdie "LBAs 0-7 do not read back as zeroes after write-zeroes"
! read_is_zero "$dev" $((8 * lbs)) "$lbs" || tdie "LBA 8 was zeroed too (NLB is 0's based: -c 7 is 8 blocks)"

# --- 6. disconnect --------------------------------------------------------------------------
step "6. nvme disconnect -n $NQN"
mark=$(wc -l <"$TGT_LOG")
khost_disconnect "$NQN"
[ -z "$(ls /sys/class/nvme/ 2>/dev/null)" ] || tdie "controllers left: $(ls /sys/class/nvme/)"
[ ! -e "$dev" ] || tdie "$dev still exists after disconnect"
wait_for 5 log_has "$mark" 'controller released' ||
	tdie "the target did not release the controller after the disconnect"

# --- 7. digests, 2 I/O queues ---------------------------------------------------------------
step "7. nvme connect -g -G -i 2 (header + data digests, 2 I/O queues)"
mark=$(wc -l <"$TGT_LOG")
dev=$(khost_connect "$NQN" -g -G -i 2)
ctrl=$(nvme_ctrl_name "$NQN") || tdie "no controller for $NQN in sysfs"
qc=$(cat "/sys/class/nvme/$ctrl/queue_count")
step "    connected: $dev (controller $ctrl, queue_count $qc)"
[ "$qc" -eq 3 ] || tdie "queue_count $qc, want 3 (admin + 2 I/O queues)"
since=$(log_since "$mark")
grep -E 'ICReq|queue [0-9]+ connected' <<<"$since" | sed 's/^[0-9T:.Z-]* /    target: /' >&2 || true
[ "$(grep -c 'ICReq: hpda 0, digests header data' <<<"$since")" -eq 3 ] ||
	tdie "the target did not see header + data digests on 3 connections"
grep -q 'I/O queue 2 connected' <<<"$since" || tdie "the target log shows no I/O queue 2"
! grep -q 'I/O queue 3 connected' <<<"$since" || tdie "the target log shows an I/O queue 3"

step "    fio verify-only over digests: the 128k data written before the reconnect is intact"
fio_run seq128k "$dev" --rw=write --bs=128k --iodepth=16 --size="$FIO_SIZE" --offset="$FIO_SIZE" --verify_only=1
step "    fio 4k randwrite QD16 8M + verify over digests"
fio_run digest4k "$dev" --rw=randwrite --bs=4k --iodepth=16 --size=8M --offset=128M
step "    nvme disconnect -n $NQN"
khost_disconnect "$NQN"
grep -Eq 'digest error|protocol error' "$TGT_LOG" && tdie "the target logged digest / protocol errors"

step "    stop the RAM target (SIGTERM)"
tgt_stop

# --- 8. file backend across a restart -------------------------------------------------------
step "8. nvmf-target --file $IMG --size ${FILE_MIB}M: data and UUID survive a restart"
rm -f "$IMG"
tgt_start file1 "4420" "$TGT_BIN" --file "$IMG" --size "${FILE_MIB}M" --listen 127.0.0.1:4420 --nqn "$NQN"
[ "$(stat -c %s "$IMG")" -eq $((FILE_MIB << 20)) ] || tdie "$IMG is $(stat -c %s "$IMG") bytes, want ${FILE_MIB} MiB"
dev=$(khost_connect "$NQN")
ctrl=$(nvme_ctrl_name "$NQN") || tdie "no controller for $NQN in sysfs"
check_identify "$dev" "$ctrl" $((FILE_MIB << 20)) "$serial" Linux "$NQN"
uuid1=$(ns_uuid "$dev")
descs1=$(nvme ns-descs "$dev") || tdie "nvme ns-descs $dev failed"
sed 's/^/    /' <<<"$descs1" >&2
grep -q "uuid *: *$uuid1" <<<"$descs1" || tdie "ns-descs lacks the UUID $uuid1 of sysfs"
[ "$uuid1" != 00000000-0000-0000-0000-000000000000 ] || tdie "namespace UUID is zero"
# 4 MiB at 8 MiB and the last 1 MiB of the namespace (catches a wrong size / offset).
head -c $((4 << 20)) /dev/urandom >/tmp/pat-a
head -c $((1 << 20)) /dev/urandom >/tmp/pat-b
dd if=/tmp/pat-a of="$dev" bs=1M seek=8 oflag=direct conv=fsync status=none || tdie "dd pattern A failed"
dd if=/tmp/pat-b of="$dev" bs=1M seek=$((FILE_MIB - 1)) oflag=direct conv=fsync status=none || tdie "dd pattern B failed"
step "    wrote 4 MiB at 8 MiB and 1 MiB at $((FILE_MIB - 1)) MiB (uuid $uuid1); disconnect, SIGTERM"
khost_disconnect "$NQN"
tgt_stop
cmp -n $((4 << 20)) /tmp/pat-a <(dd if="$IMG" bs=1M skip=8 count=4 status=none) ||
	die "$IMG does not hold pattern A at 8 MiB after the target stopped"
cmp /tmp/pat-b <(dd if="$IMG" bs=1M skip=$((FILE_MIB - 1)) status=none) ||
	die "$IMG does not hold pattern B in its last MiB after the target stopped"

step "    restart on the same file, reconnect, read back"
tgt_start file2 "4420" "$TGT_BIN" --file "$IMG" --listen 127.0.0.1:4420 --nqn "$NQN"
dev=$(khost_connect "$NQN")
[ "$(lsblk -bdno SIZE "$dev")" -eq $((FILE_MIB << 20)) ] || tdie "after the restart $dev is $(lsblk -bdno SIZE "$dev") bytes"
uuid2=$(ns_uuid "$dev")
[ "$uuid2" = "$uuid1" ] || tdie "namespace UUID changed across the restart: $uuid1 -> $uuid2"
cmp /tmp/pat-a <(dd if="$dev" bs=1M skip=8 count=4 iflag=direct status=none) ||
	tdie "pattern A differs after the restart"
cmp /tmp/pat-b <(dd if="$dev" bs=1M skip=$((FILE_MIB - 1)) count=1 iflag=direct status=none) ||
	tdie "pattern B differs after the restart"
step "    data intact, UUID $uuid2 unchanged; disconnect, SIGTERM"
khost_disconnect "$NQN"
tgt_stop

# --- 9. config.json with two ports ----------------------------------------------------------
cfg_bin=$TGT_BIN
[ -z "$TGT_SAN" ] || cfg_bin=$TGT_SAN
step "9. nvmetcli-style config.json: ports 4420 + 8009 -> $CFG_NQN ($IMG, uuid $CFG_UUID)${TGT_SAN:+, ASan build}"
cat >/tmp/config.json <<EOF
{
  "hosts": [],
  "ports": [
    {
      "addr": {"adrfam": "ipv4", "traddr": "127.0.0.1", "treq": "not specified",
               "trsvcid": "4420", "trtype": "tcp"},
      "ana_groups": [{"ana": {"state": "optimized"}, "grpid": 1}],
      "param": {"inline_data_size": "16384", "pi_enable": "0"},
      "portid": 1,
      "referrals": [],
      "subsystems": ["$CFG_NQN"]
    },
    {
      "addr": {"adrfam": "ipv4", "traddr": "127.0.0.1", "treq": "not specified",
               "trsvcid": "8009", "trtype": "tcp"},
      "ana_groups": [{"ana": {"state": "optimized"}, "grpid": 1}],
      "param": {"inline_data_size": "16384", "pi_enable": "0"},
      "portid": 2,
      "referrals": [],
      "subsystems": ["$CFG_NQN"]
    }
  ],
  "subsystems": [
    {
      "allowed_hosts": [],
      "attr": {"allow_any_host": "1", "cntlid_max": "65519", "cntlid_min": "1",
               "model": "$CFG_MODEL", "pi_enable": "0", "qid_max": "128",
               "serial": "$CFG_SERIAL", "version": "1.3"},
      "namespaces": [
        {"ana_grpid": 1, "enable": 1, "nsid": 1,
         "device": {"nguid": "00000000-0000-0000-0000-000000000000", "path": "$IMG",
                    "uuid": "$CFG_UUID"}}
      ],
      "nqn": "$CFG_NQN"
    }
  ]
}
EOF
tgt_start config "4420 8009" "$cfg_bin" --config /tmp/config.json
for port in 8009 4420; do
	step "    nvme discover -t tcp -a 127.0.0.1 -s $port"
	disc=$(nvme discover -t tcp -a 127.0.0.1 -s "$port") || tdie "nvme discover -s $port failed"
	sed 's/^/    /' <<<"$disc" >&2
	grep -Eq "subnqn: +$CFG_NQN\$" <<<"$disc" || tdie "discovery log on $port lacks $CFG_NQN"
	grep -Eq "trsvcid: +$port\$" <<<"$disc" || tdie "discovery log on $port lacks trsvcid $port"
	! grep -Eq "subnqn: +$NQN\$" <<<"$disc" || tdie "discovery log on $port lists $NQN, not configured"
done
step "    nvme connect -s 8009 -n $CFG_NQN"
dev=$(khost_connect_port 8009 "$CFG_NQN")
ctrl=$(nvme_ctrl_name "$CFG_NQN") || tdie "no controller for $CFG_NQN in sysfs"
grep -q 'trsvcid=8009' "/sys/class/nvme/$ctrl/address" || tdie "$ctrl address $(cat "/sys/class/nvme/$ctrl/address")"
check_identify "$dev" "$ctrl" $((FILE_MIB << 20)) "$CFG_SERIAL" "$CFG_MODEL" "$CFG_NQN"
uuid3=$(ns_uuid "$dev")
[ "$uuid3" = "$CFG_UUID" ] || tdie "namespace UUID $uuid3, want the configured $CFG_UUID"
cmp /tmp/pat-a <(dd if="$dev" bs=1M skip=8 count=4 iflag=direct status=none) ||
	tdie "pattern A differs when the file is served from config.json"
fio_run cfg4k "$dev" --rw=randwrite --bs=4k --iodepth=16 --size=8M --offset=16M
step "    data of the quick-start runs intact, UUID and serial/model as configured; disconnect"
khost_disconnect "$CFG_NQN"
[ -z "$(ls /sys/class/nvme/ 2>/dev/null)" ] || tdie "controllers left: $(ls /sys/class/nvme/)"
step "    stop the config target (SIGTERM)"
tgt_stop
! tcp_listening 4420 && ! tcp_listening 8009 || die "something still listens on 4420 / 8009"

# The kernel host's view of the whole run: any error, timeout or reset it logged about our
# target fails the test (the blkdiscard / write-zeroes above must not have produced any).
step "kernel log of the nvme host (dmesg)"
klog=$(dmesg | grep -iE 'nvme' || true)
sed 's/^/    /' <<<"$klog" >&2
bad=$(grep -iE 'error|fail|timeout|timed out|reset|invalid|unsupported|warn' <<<"$klog" || true)
[ -z "$bad" ] || die "the kernel host logged problems:"$'\n'"$bad"
step "PASS"
