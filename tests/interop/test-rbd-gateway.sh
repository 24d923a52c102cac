#!/usr/bin/env bash
# Interop test: an RBD gateway pair (README "An RBD gateway pair") in front of the Linux
# kernel host's native NVMe multipath.  On this machine: a throw-away Ceph cluster
# (tests/integration/ceph-cluster.sh), one image, and two nvmf-target gateways serving it
# (one NQN, NGUID and UUID, cntlid 1..1000 and 1001..2000, gateway=1; ANA group 1
# optimized on A, inaccessible on B), both listening on the host end of the test bed's
# tap (vm-run --net), so the kernel host reaches them over a real TCP path.  In the guest
# (guest/rbd-gateway.sh): nvme connect to both, one /dev/nvmeXnY with two paths, fio
# randwrite + crc32c verify on it.  While fio writes, this script kills gateway A
# (SIGKILL) and promotes B over JSON-RPC (nvmfctl ana-state, SPDK's
# nvmf_subsystem_listener_set_ana_state), as ceph-nvmeof's monitor would: B fences A's
# client, takes the image's lock and reports optimized; the kernel moves the I/O to B.
# Passes when fio completes with 0 errors and verifies what it wrote, the guest's kernel
# log shows A's path failing and B's turning optimized and no I/O error, B fenced A once,
# and `rbd export` of the image has the bytes the guest read back through the device.
# Host and guest meet through marker files in a directory of the repository (read-write
# in the guest over 9p): gateways-up (host), io-running (guest), killed and promoted
# (host), guest.md5 and figures (guest).
# Needs root (the tap), qemu, and Ceph's ceph-mon, ceph-osd, ceph-common (scripts/deps/
# test.txt): exit 77 without them.  Exit 0 = pass, else fail.  Uses build/ (release).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
skip() { echo "skip: $*" >&2; exit 77; }
command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 missing"
for p in ceph ceph-mon ceph-osd ceph-authtool monmaptool rbd; do
	command -v "$p" >/dev/null || skip "$p missing (Ceph: scripts/install-deps)"
done
[ "$(id -u)" -eq 0 ] || skip "vm-run --net creates a tap device: needs root"
[ -c /dev/net/tun ] || skip "no /dev/net/tun"

NVMF_TARGET=$top/build/src/tools/nvmf-target
NVMFCTL=$top/build/src/tools/nvmfctl
if [ ! -x "$NVMF_TARGET" ] || [ ! -x "$NVMFCTL" ]; then
	echo "test-rbd-gateway: $NVMF_TARGET or $NVMFCTL missing: scripts/build release" >&2
	"$top/scripts/build" release
fi

T0=$(date +%s%3N)
say() {
	local ms=$(($(date +%s%3N) - T0))
	printf 'host [%3d.%03ds] %s\n' $((ms / 1000)) $((ms % 1000)) "$*" >&2
}

NQN=nqn.2024-01.io.nvmf-tcp:interop-rbd-gw
UUID=5b1e0c9a-3f6d-4c2b-8e7a-9d0f1a2b3c4d
NGUID=e1f2a3b4-c5d6-4e7f-8091-a2b3c4d5e6f7
IMG_MB=64

# The cluster (unix sockets: a short path) and the gateways' files in /tmp; the markers
# in the repository, which the guest sees read-write.
ceph=$(mktemp -d /tmp/nvmf-rbdgw-XXXXXX)
mkdir -p "$top/build"
share=$(mktemp -d "$top/build/interop-rbdgw.XXXXXX")
chmod 755 "$share"
vm_pid='' a_pid='' b_pid='' ok=0
gw_logs() {
	local g
	for g in a b; do
		[ -s "$ceph/$g.log" ] || continue
		echo "    --- last lines of gateway ${g^^}'s log ---" >&2
		tail -n 25 "$ceph/$g.log" | sed 's/^/    | /' >&2
	done
}
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	[ "$rc" -eq 0 ] && [ $ok -eq 1 ] || gw_logs
	# vm-run's own exit removes the guest and the tap.
	[ -z "$vm_pid" ] || kill -TERM "$vm_pid" 2>/dev/null || true
	[ -z "$a_pid" ] || kill -KILL "$a_pid" 2>/dev/null || true
	[ -z "$b_pid" ] || kill -KILL "$b_pid" 2>/dev/null || true
	wait 2>/dev/null || true
	"$top/tests/integration/ceph-cluster.sh" stop "$ceph" 2>/dev/null || true
	rm -rf "$ceph" "$share"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
die() { say "FAIL: $*"; exit 1; }

# A point-to-point pair of the test bed's own (10.251.N.1 host, .2 guest): private, and
# not in use by another vm-run on the machine (vm-run refuses one that is).
net=''
for _ in $(seq 50); do
	n=$((RANDOM % 256))
	if ! ip -o -4 addr show | grep -Fqw -e "10.251.$n.1" -e "10.251.$n.2"; then
		net=10.251.$n.1/10.251.$n.2
		break
	fi
done
[ -n "$net" ] || die "no free address pair in 10.251.0.0/16"
HOST=${net%/*}
# Two ports of the free range of the tests (20000-31999), free on any address.
port_free() { [ -z "$(ss -Htan "sport = :$1")" ]; }
PA='' PB=''
for _ in $(seq 100); do
	p=$((20000 + RANDOM % 12000))
	port_free "$p" || continue
	if [ -z "$PA" ]; then PA=$p; elif [ "$p" != "$PA" ]; then PB=$p; break; fi
done
[ -n "$PB" ] || die "no free ports"

say "Ceph cluster in $ceph"
"$top/tests/integration/ceph-cluster.sh" start "$ceph" || die "the Ceph cluster did not start"
conf=$ceph/ceph.conf keyring=$ceph/keyring
timeout 60 rbd -c "$conf" create rbd/gw --size "$IMG_MB" || die "rbd create failed"

# write_cfg FILE PORT STATE CNTLID_MIN: one gateway's config.json (the README's shape).
write_cfg() {
	cat >"$1" <<EOF
{"ports": [{"portid": 1, "addr": {"trtype": "tcp", "adrfam": "ipv4",
   "traddr": "$HOST", "trsvcid": "$2"},
   "ana_groups": [{"grpid": 1, "ana": {"state": "$3"}}],
   "subsystems": ["$NQN"]}],
 "subsystems": [{"nqn": "$NQN", "attr": {"allow_any_host": "1",
   "serial": "RBDGWKERN01", "cntlid_min": "$4", "cntlid_max": "$(($4 + 999))"},
   "namespaces": [{"nsid": 1, "enable": 1, "ana_grpid": 1, "device": {
     "path": "rbd:rbd/gw?conf=$conf&keyring=$keyring&timeout=10&gateway=1",
     "uuid": "$UUID", "nguid": "$NGUID"}}]}]}
EOF
}
write_cfg "$ceph/a.json" "$PA" optimized 1
write_cfg "$ceph/b.json" "$PB" inaccessible 1001

# The guest boots while the gateways start (they need the tap's address first).
export RBDGW_SHARE=$share RBDGW_NQN=$NQN RBDGW_PORT_A=$PA RBDGW_PORT_B=$PB RBDGW_IMG_MB=$IMG_MB
say "guest: vm-run --net $net (gateway A $HOST:$PA, B $HOST:$PB)"
"$here/vm-run" --timeout 900 --net "$net" -- "$here/guest/rbd-gateway.sh" &
vm_pid=$!

vm_alive() { kill -0 "$vm_pid" 2>/dev/null || die "the guest ended early (see its output above)"; }
# wait_until SECONDS WHAT CMD...: polls CMD every 0.1 s while the guest runs.
wait_until() {
	local n=$(($1 * 10)) what=$2; shift 2
	until "$@" 2>/dev/null; do
		vm_alive
		n=$((n - 1))
		[ $n -gt 0 ] || die "timed out waiting for $what"
		sleep 0.1
	done
}
has_addr() { ip -o -4 addr show | grep -Fqw "inet $HOST"; }
wait_until 120 "the tap's address $HOST" has_addr

# gw_start NAME CONFIG PORT [ARGS...]: a gateway in the background, until it listens.
gw_start() {
	local g=$1 cfg=$2 port=$3 pid; shift 3
	"$NVMF_TARGET" --config "$cfg" --cpus 1 "$@" >"$ceph/$g.log" 2>&1 &
	pid=$!
	eval "${g}_pid=$pid"
	wait_until 60 "gateway ${g^^} listening" grep -q "listening on $HOST:$port " "$ceph/$g.log"
	kill -0 "$pid" || die "gateway ${g^^} exited"
}
gw_start a "$ceph/a.json" "$PA"
wait_until 60 "gateway A taking the image's lock" \
	grep -q "this gateway holds the image's exclusive lock" "$ceph/a.log"
gw_start b "$ceph/b.json" "$PB" -r "$ceph/b.sock"
say "gateways up: A (pid $a_pid, optimized, holds the lock), B (pid $b_pid, inaccessible)"
echo "$HOST" >"$share/gateways-up"

wait_until 600 "the guest's fio to run" test -e "$share/io-running"
{
	kill -KILL "$a_pid"
	t_kill=$(date +%s%3N)
	wait "$a_pid" || true
} 2>/dev/null   # bash's "Killed" notice
a_pid=''
: >"$share/killed"
say "gateway A killed (SIGKILL) under the guest's writes; promoting B over JSON-RPC"
out=$("$NVMFCTL" -s "$ceph/b.sock" ana-state "$NQN" "$HOST:$PB" optimized --anagrpid 1 2>&1) ||
	die "nvmfctl ana-state: $out"
t_prom=$(date +%s%3N)
: >"$share/promoted"
say "B promoted: the RPC returned $(((t_prom - t_kill) / 1000)).$(printf %03d $(((t_prom - t_kill) % 1000))) s after the kill"
[ "$(grep -c 'fenced the previous lock holder' "$ceph/b.log")" -eq 1 ] ||
	die "gateway B did not fence A exactly once"
grep -q "this gateway holds the image's exclusive lock" "$ceph/b.log" ||
	die "gateway B does not hold the image's lock after the promotion"

rc=0
wait "$vm_pid" || rc=$?
vm_pid=''
[ "$rc" -eq 0 ] || die "the guest side failed (exit $rc)"

# The image as Ceph has it: the bytes the guest read back through the device.
timeout 120 rbd -c "$conf" export rbd/gw "$ceph/export.img" >/dev/null 2>&1 || die "rbd export failed"
read -r mib want <"$share/guest.md5" || die "the guest left no checksum"
have=$(head -c $((mib << 20)) "$ceph/export.img" | md5sum | cut -d' ' -f1)
[ "$have" = "$want" ] || die "rbd export: the first $mib MiB differ from what the guest read ($have != $want)"
say "rbd export: the first $mib MiB are what the guest wrote and read back (md5 $have)"

kill -TERM "$b_pid"
rc=0
wait "$b_pid" || rc=$?
b_pid=''
[ "$rc" -eq 0 ] || die "gateway B: exit status $rc after SIGTERM"
! grep -Eq 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$ceph/b.log" ||
	die "gateway B: sanitizer report in its log"
sed 's/^/host figures | /' "$share/figures" >&2
say "PASS (kill to promotion returned $((t_prom - t_kill)) ms)"
ok=1
