#!/usr/bin/env bash
# Guest side of test-rpc.sh: a Linux host (nvme-cli + nvme-tcp) uses a subsystem that a
# control plane built on nvmf-target over SPDK's JSON-RPC, the way it drives SPDK's nvmf_tgt
# with scripts/rpc.py: SPDK's method names and parameters, sent by nvmfctl's raw "call" (a
# C client: python under TCG, reading its modules over 9p, took ~20 s per call), then the
# same changes in nvmfctl's own words:
#   1. nvmf-target started with only an RPC socket: no port, no subsystem
#   2. nvmf_create_transport, bdev_malloc_create, bdev_uring_create (a file),
#      nvmf_create_subsystem (serial, model, hosts checked), add_host, add_ns, add_listener
#   3. the host discovers it; a host NQN not added is refused; the allowed one connects:
#      serial / model from the RPC, fio write + verify on the RAM namespace
#   4. changed live with nvmfctl's verbs: "ns add" of the file as nsid 2 appears on the
#      host (namespace AEN), its data written; "ns remove" of nsid 1 disappears;
#      get_controllers / get_qpairs show the host; "port add" 4421 is discoverable
#   5. save_config; the host disconnects; "subsystem remove" takes it apart (its ports
#      stop listening), the target stops cleanly
#   6. restarted with -c SAVED (SPDK's JSON config): the subsystem is back on both ports,
#      the host reconnects, nsid 2 holds the data written in step 4
# Runs inside vm-run as root; exit 0 = pass. NVMF_TARGET: the nvmf-target binary.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
# shellcheck source=tgt.sh
. "$here/tgt.sh"

TGT_BIN=${NVMF_TARGET:-$top/build/src/tools/nvmf-target}
[ -x "$TGT_BIN" ] || die "no nvmf-target at $TGT_BIN (run scripts/build release)"
SOCK=/tmp/nvmf-rpc.sock
NQN=nqn.2016-06.io.spdk:cnode1
HOSTNQN=nqn.2014-08.org.nvmexpress:uuid:2b0f8c7e-51d4-4c3e-9a2e-6f1d0c9b7a11
HOSTID=2b0f8c7e-51d4-4c3e-9a2e-6f1d0c9b7a11
OTHER=nqn.2014-08.org.nvmexpress:uuid:9e3d6a10-0c5b-4f7e-8d21-3a4b5c6d7e8f
SERIAL=SPDK00000000000001
MODEL="nvmf-tcp rpc interop"
IMG=/tmp/vol.img
SAVED=/tmp/saved-config.json

CTL=${NVMFCTL:-$top/build/src/tools/nvmfctl}
[ -x "$CTL" ] || die "no nvmfctl at $CTL (run scripts/build release)"
rpc() { # METHOD [PARAMS]: as rpc.py would send it
	local m=$1; shift
	case $m in
	save_config) "$CTL" -s "$SOCK" save ;;
	*) "$CTL" -s "$SOCK" call "$m" "$@" ;;
	esac
}
ctl() { "$CTL" -s "$SOCK" "$@"; }
listener() { # PORT: listen_address as rpc.py's nvmf_subsystem_add_listener sends it
	printf '{"nqn": "%s", "listen_address": {"trtype": "TCP", "adrfam": "IPv4", "traddr": "127.0.0.1", "trsvcid": "%s"}}' "$NQN" "$1"
}
rpc_up() { [ -S "$SOCK" ] && rpc spdk_get_version >/dev/null 2>&1; }
# start NAME ARGS...: the target with the RPC socket; waits until the socket answers
start() {
	local name=$1; shift
	rm -f "$SOCK"
	tgt_start "$name" "" "$TGT_BIN" -r "$SOCK" --cpus 1 "$@"
	wait_for 20 rpc_up || tdie "$name: RPC socket $SOCK does not answer"
}
kconnect() { # PORT HOSTNQN HOSTID
	nvme connect -t tcp -a 127.0.0.1 -s "$1" -n "$NQN" --hostnqn "$2" --hostid "$3" >&2
}
# ns_dev NSID: the host's block device of namespace NSID of $NQN
ns_dev() {
	local s d
	for s in /sys/class/nvme-subsystem/*; do
		[ "$(cat "$s/subsysnqn" 2>/dev/null)" = "$NQN" ] || continue
		for d in "$s"/nvme*n*; do
			[ -e "$d/nsid" ] && [ "$(cat "$d/nsid")" = "$1" ] && [ -b "/dev/${d##*/}" ] &&
				{ echo "/dev/${d##*/}"; return 0; }
		done
	done
	return 1
}
ns_gone() { ! ns_dev "$1" >/dev/null; }
port_closed() { ! tcp_listening "$1"; }
discovered() { # PORT: the discovery log of PORT lists $NQN
	nvme discover -t tcp -a 127.0.0.1 -s "$1" --hostnqn "$HOSTNQN" --hostid "$HOSTID" 2>/dev/null |
		grep -q "subnqn: *$NQN"
}

tgt_guard "$NQN"
cd /tmp
modprobe nvme-tcp

# --- 1. a target managed over RPC -----------------------------------------------------------
step "1. nvmf-target with only an RPC socket"
start rpc1
grep -q "waiting for JSON-RPC calls on $SOCK" "$TGT_LOG" || tdie "no 'waiting for JSON-RPC' line"
[ "$(rpc nvmf_get_subsystems | jq '[.[] | select(.subtype == "NVMe")] | length')" = 0 ] ||
	tdie "a target started without configuration has subsystems"
step "    $(rpc spdk_get_version | jq -r .version)"

# --- 2. build a subsystem -------------------------------------------------------------------
step "2. build $NQN over JSON-RPC"
truncate -s 64M "$IMG"
rpc nvmf_create_transport '{"trtype": "TCP"}' >/dev/null
rpc bdev_malloc_create '{"name": "Malloc0", "num_blocks": 131072, "block_size": 512}' >/dev/null
rpc bdev_uring_create "{\"name\": \"File0\", \"filename\": \"$IMG\", \"block_size\": 512}" >/dev/null
rpc nvmf_create_subsystem "{\"nqn\": \"$NQN\", \"serial_number\": \"$SERIAL\", \"model_number\": \"$MODEL\", \"allow_any_host\": false}" >/dev/null
rpc nvmf_subsystem_add_host "{\"nqn\": \"$NQN\", \"host\": \"$HOSTNQN\"}" >/dev/null
rpc nvmf_subsystem_add_ns "{\"nqn\": \"$NQN\", \"namespace\": {\"bdev_name\": \"Malloc0\", \"nsid\": 1}}" >/dev/null
rpc nvmf_subsystem_add_listener "$(listener 4420)" >/dev/null
wait_for 10 tcp_listening 4420 || tdie "no listener on 4420 after nvmf_subsystem_add_listener"
# a wrong call is an RPC error, not a change
if rpc nvmf_subsystem_add_ns "{\"nqn\": \"$NQN\", \"namespace\": {\"bdev_name\": \"NoSuchBdev\"}}" 2>/tmp/err.txt; then
	tdie "add_ns of a bdev that does not exist succeeded"
fi
step "    unknown bdev refused: $(cat /tmp/err.txt)"

# --- 3. the Linux host uses it --------------------------------------------------------------
step "3. the Linux host discovers and connects"
wait_for 10 discovered 4420 || tdie "nvme discover does not list $NQN"
if nvme connect -t tcp -a 127.0.0.1 -s 4420 -n "$NQN" --hostnqn "$OTHER" >/dev/null 2>&1 &&
	wait_for 3 ns_dev 1 >/dev/null; then
	tdie "a host NQN that was never added connected"
fi
nvme disconnect -n "$NQN" >/dev/null 2>&1 || true
step "    host $OTHER refused: $(dmesg | sed -n '/[Cc]onnect.*\(fail\|error\|invalid\)/{s/^\[[^]]*\] //;p;q}')"
dmesg -C   # from here on the kernel host must log no problem (checked at the end)
kconnect 4420 "$HOSTNQN" "$HOSTID"
wait_for 15 ns_dev 1 >/dev/null || tdie "no block device for nsid 1"
dev1=$(ns_dev 1)
ctrl=$(nvme_ctrl_name "$NQN")
[ "$(nvme id-ctrl "/dev/$ctrl" -o json | jq -r '.sn, .mn' | sed 's/ *$//' | paste -sd'|')" = "$SERIAL|$MODEL" ] ||
	tdie "id-ctrl serial/model are not what nvmf_create_subsystem set"
[ "$(blockdev --getsize64 "$dev1")" = $((64 << 20)) ] || tdie "$dev1 is not 64 MiB"
fio_run rpc-ram "$dev1" --rw=randwrite --bs=4k --size=16M --iodepth=8

# --- 4. changed live -----------------------------------------------------------------------
step "4. changed live: add nsid 2, remove nsid 1, a second port"
ctl ns add "$NQN" File0 --nsid 2 >/dev/null
wait_for 15 ns_dev 2 >/dev/null || tdie "nsid 2 added over RPC did not appear on the host"
dev2=$(ns_dev 2)
head -c $((8 << 20)) /dev/urandom >/tmp/pattern
dd if=/tmp/pattern of="$dev2" bs=1M oflag=direct status=none
sum=$(md5sum </tmp/pattern | cut -d' ' -f1)
step "    $dev2 (nsid 2) appeared; 8 MiB written, md5 $sum"
ctl ns remove "$NQN" 1
wait_for 15 ns_gone 1 || tdie "nsid 1 removed over RPC is still on the host"
step "    nsid 1 gone from the host"
hosts=$(rpc nvmf_subsystem_get_controllers "{\"nqn\": \"$NQN\"}" |
	jq -r '[.[].hostnqn] | join(" ")')
[ "$hosts" = "$HOSTNQN" ] || tdie "get_controllers shows '$hosts', want the one host"
nq=$(rpc nvmf_subsystem_get_qpairs "{\"nqn\": \"$NQN\"}" | jq length)
[ "$nq" -ge 2 ] || tdie "get_qpairs shows $nq queues, want the admin and I/O queues"
step "    get_controllers: $hosts; get_qpairs: $nq"
ctl port add "$NQN" 127.0.0.1:4421
wait_for 10 discovered 4421 || tdie "the listener added live (4421) is not discoverable"

# --- 5. saved, taken apart ------------------------------------------------------------------
step "5. save_config, disconnect, delete the subsystem"
rpc save_config >"$SAVED"
jq -e '.subsystems | length > 0' "$SAVED" >/dev/null || tdie "save_config wrote no JSON"
nvme disconnect -n "$NQN" >&2
wait_for 10 ns_gone 2 || tdie "still connected after nvme disconnect"
ctl subsystem remove "$NQN"
# its listeners went with it (as in SPDK, where listeners belong to subsystems)
wait_for 10 port_closed 4420 && wait_for 10 port_closed 4421 ||
	tdie "the removed subsystem's ports still listen"
tgt_stop

# --- 6. restored from the saved configuration -----------------------------------------------
step "6. restart with -c $SAVED"
start rpc2 -c "$SAVED"
wait_for 10 discovered 4420 || tdie "the restored subsystem is not discoverable on 4420"
wait_for 10 discovered 4421 || tdie "the restored subsystem is not discoverable on 4421"
kconnect 4421 "$HOSTNQN" "$HOSTID"
wait_for 15 ns_dev 2 >/dev/null || tdie "no nsid 2 after the restore"
ns_gone 1 || tdie "nsid 1 (removed before save_config) is back"
got=$(dd if="$(ns_dev 2)" bs=1M count=8 iflag=direct status=none | md5sum | cut -d' ' -f1)
[ "$got" = "$sum" ] || tdie "nsid 2 reads back md5 $got, want $sum"
step "    nsid 2 holds the data written before the restart (md5 $got)"
nvme disconnect -n "$NQN" >&2
wait_for 10 ns_gone 2 || tdie "still connected after nvme disconnect"
tgt_stop
klog=$(dmesg | grep -iE 'nvme' || true)
sed 's/^/    dmesg: /' <<<"$klog" >&2
bad=$(grep -iE 'error|fail|timeout|timed out|reset|invalid|warn' <<<"$klog" || true)
[ -z "$bad" ] || die "the kernel host logged problems:"$'\n'"$bad"
step "PASS"
