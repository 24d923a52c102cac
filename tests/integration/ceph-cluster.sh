#!/usr/bin/env bash
# A throw-away single-node Ceph cluster for the RBD tests: one monitor and one OSD on
# 127.0.0.1, everything (configuration, keys, monitor store, logs, sockets) under DIR.  The
# OSD keeps its objects in memory (memstore): nothing to format, up in seconds, gone with
# the process.  No manager daemon: monitors create the pools' placement groups themselves,
# and RBD I/O does not go through a manager.  Nothing outside DIR is touched; every command
# of the tests takes -c DIR/ceph.conf.
#
#   ceph-cluster.sh start DIR   bootstrap and start; prints nothing, exits 0 once the OSD
#                               is up and pool "rbd" is usable
#   ceph-cluster.sh stop DIR    stop the daemons of DIR (their pid files), keep DIR
#
# Environment: CEPH_PORT, the monitor's port (default: a free one in 20000-31999, as the
# other tests' ports).
set -euo pipefail

cmd=${1:-}
dir=${2:-}
if [ -z "$cmd" ] || [ -z "$dir" ]; then
	echo "usage: $0 start|stop DIR" >&2
	exit 2
fi

stop_daemons() {
	local pidf pid
	for pidf in "$dir"/run/*.pid; do
		[ -f "$pidf" ] || continue
		pid=$(cat "$pidf")
		# only a process that is still the daemon we started (pid files outlive them)
		if [ -n "$pid" ] && grep -q '^ceph-' "/proc/$pid/comm" 2>/dev/null; then
			kill "$pid" 2>/dev/null || true
		fi
	done
	for pidf in "$dir"/run/*.pid; do
		[ -f "$pidf" ] || continue
		pid=$(cat "$pidf")
		for _ in $(seq 100); do
			grep -q '^ceph-' "/proc/$pid/comm" 2>/dev/null || break
			sleep 0.1
		done
		if grep -q '^ceph-' "/proc/$pid/comm" 2>/dev/null; then
			kill -9 "$pid" 2>/dev/null || true
		fi
		rm -f "$pidf"
	done
}

if [ "$cmd" = stop ]; then
	stop_daemons
	exit 0
fi
if [ "$cmd" != start ]; then
	echo "$0: unknown command $cmd" >&2
	exit 2
fi

for prog in ceph ceph-mon ceph-osd ceph-authtool monmaptool; do
	if ! command -v "$prog" >/dev/null; then
		echo "$0: $prog is not installed (scripts/install-deps installs ceph-mon," \
			"ceph-osd, ceph-common)" >&2
		exit 1
	fi
done

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
mkdir -p "$dir/run" "$dir/log" "$dir/mon" "$dir/osd"

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
port=${CEPH_PORT:-}
if [ -z "$port" ]; then
	for _ in $(seq 50); do
		p=$((20000 + RANDOM % 12000))
		if port_free "$p"; then port=$p; break; fi
	done
fi
[ -n "$port" ] || { echo "$0: no free port" >&2; exit 1; }

fsid=$(cat /proc/sys/kernel/random/uuid)
conf=$dir/ceph.conf
cat >"$conf" <<EOF
[global]
fsid = $fsid
mon host = v2:127.0.0.1:$port
public addr = 127.0.0.1
ms bind msgr1 = false
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
auth allow insecure global id reclaim = false
run dir = $dir/run
pid file = $dir/run/\$name.pid
log file = $dir/log/\$name.log
crash dir = $dir/log
keyring = $dir/keyring
osd pool default size = 1
osd pool default min size = 1
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon warn on pool no redundancy = false
mon data avail warn = 1
mon data avail crit = 0
# a client that cannot reach the monitor gives up instead of retrying for 5 minutes
client mount timeout = 15

[mon]
# daemons only: clients (the tests' rbd, nvmf-target) would fight over one socket name
admin socket = $dir/run/\$name.asok
mon data = $dir/mon/\$cluster-\$id

[osd]
admin socket = $dir/run/\$name.asok
osd data = $dir/osd/\$cluster-\$id
keyring = $dir/osd/\$cluster-\$id/keyring
osd objectstore = memstore
memstore device bytes = 1073741824
osd max object name len = 460
osd max object namespace len = 64
# one core is shared by every test: fewer threads, no scrubbing
osd op num shards = 1
osd op num threads per shard = 2
osd scrub begin hour = 0
osd scrub end hour = 0
EOF

# keys: the monitor's, and client.admin's (the tests' client)
ceph-authtool --create-keyring "$dir/keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
ceph-authtool "$dir/keyring" --gen-key -n client.admin --cap mon 'allow *' \
	--cap osd 'allow *' --cap mgr 'allow *' >/dev/null
monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$port]" "$dir/monmap" >/dev/null
ceph-mon -c "$conf" --mkfs -i a --monmap "$dir/monmap" --keyring "$dir/keyring" \
	>"$dir/log/mkfs-mon.out" 2>&1
ceph-mon -c "$conf" -i a 2>>"$dir/log/mon.a.stderr"

fail() {
	echo "$0: $*" >&2
	tail -n 20 "$dir"/log/*.log >&2 2>/dev/null || true
	stop_daemons
	exit 1
}

osd_uuid=$(cat /proc/sys/kernel/random/uuid)
osd_key=$(ceph-authtool --gen-print-key)
echo "{\"cephx_secret\": \"$osd_key\"}" >"$dir/osd-new.json"
osd_id=$(timeout 60 ceph -c "$conf" --connect-timeout 30 osd new "$osd_uuid" -i "$dir/osd-new.json") ||
	fail "the monitor did not answer (ceph osd new)"
mkdir -p "$dir/osd/ceph-$osd_id"
ceph-authtool --create-keyring "$dir/osd/ceph-$osd_id/keyring" --name "osd.$osd_id" \
	--add-key "$osd_key" >/dev/null
ceph-osd -c "$conf" -i "$osd_id" --mkfs --osd-uuid "$osd_uuid" --key "$osd_key" \
	>"$dir/log/mkfs-osd.out" 2>&1 || fail "ceph-osd --mkfs failed"
ceph-osd -c "$conf" -i "$osd_id" 2>>"$dir/log/osd.$osd_id.stderr"

for _ in $(seq 300); do
	if timeout 10 ceph -c "$conf" osd dump 2>/dev/null | grep -q "^osd\.$osd_id up"; then
		break
	fi
	sleep 0.2
done
timeout 10 ceph -c "$conf" osd dump 2>/dev/null | grep -q "^osd\.$osd_id up" ||
	fail "osd.$osd_id did not come up"
timeout 60 ceph -c "$conf" osd pool create rbd 8 8 >/dev/null 2>&1 || fail "pool create failed"
timeout 60 rbd -c "$conf" pool init rbd || fail "rbd pool init failed"
