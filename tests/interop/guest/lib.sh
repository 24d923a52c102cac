# Guest-side helpers (sourced inside vm-run's guest): a brd RAM disk, the kernel's nvmet
# target configured through configfs the way admins do, the kernel host's connect /
# find-the-device / disconnect, and timed step logging. Callers use bash, set -euo pipefail.
# shellcheck shell=bash

# These scripts load modules and rewrite configfs: never on the host by mistake.
[ -n "${VM_RUN_KERNEL:-}" ] || { echo "${0##*/}: run me through tests/interop/vm-run" >&2; exit 2; }

NVMET=/sys/kernel/config/nvmet
T0=$(date +%s%3N)

# step MSG: progress line on stderr with the guest's elapsed time, so slow steps show up.
step() {
	local ms=$(($(date +%s%3N) - T0))
	printf '[%3d.%03ds] %s\n' $((ms / 1000)) $((ms % 1000)) "$*" >&2
}
die() { step "FAIL: $*"; exit 1; }

# wait_for SECONDS CMD...: polls CMD every 0.1 s until it succeeds.
wait_for() {
	local n=$(($1 * 10)); shift
	while ! "$@" 2>/dev/null; do
		n=$((n - 1))
		[ $n -gt 0 ] || return 1
		sleep 0.1
	done
}

# brd_setup MIB: one RAM disk /dev/ram0 of MIB MiB.
brd_setup() {
	modprobe brd rd_nr=1 rd_size=$(($1 * 1024)) max_part=0
	wait_for 5 test -b /dev/ram0 || die "/dev/ram0 did not appear"
}

# brd_prefill: brd allocates pages on first write and serves reads of untouched pages as
# zeros without I/O; write the whole disk once so reads measure real work.
brd_prefill() {
	local mib=$(($(blockdev --getsize64 /dev/ram0) >> 20))
	dd if=/dev/zero of=/dev/ram0 bs=1M count="$mib" oflag=direct status=none
}

# knvmet_setup NQN DEVICE [PORTID] [TRSVCID] [ATTR=VALUE...]: nvmet-tcp exporting DEVICE
# as namespace 1 of subsystem NQN (any host allowed) on 127.0.0.1:TRSVCID; each ATTR=VALUE
# is written to the port's addr_ATTR before the port is enabled (tsas=tls1.3, say).
knvmet_setup() {
	local nqn=$1 dev=$2 portid=${3:-1} svc=${4:-4420} a
	local s=$NVMET/subsystems/$nqn p=$NVMET/ports/$portid
	shift $(($# < 4 ? $# : 4))
	modprobe nvmet-tcp
	mkdir "$s"
	echo 1 >"$s/attr_allow_any_host"
	mkdir "$s/namespaces/1"
	echo -n "$dev" >"$s/namespaces/1/device_path"
	echo 1 >"$s/namespaces/1/enable"
	mkdir "$p"
	echo tcp >"$p/addr_trtype"
	echo ipv4 >"$p/addr_adrfam"
	echo 127.0.0.1 >"$p/addr_traddr"
	echo "$svc" >"$p/addr_trsvcid"
	for a in "$@"; do
		echo "${a#*=}" >"$p/addr_${a%%=*}"
	done
	# Linking the subsystem enables the port: the listener starts here.
	ln -s "$s" "$p/subsystems/$nqn"
}

# knvmet_teardown: undo every port, subsystem and namespace (reverse order), unload nvmet.
knvmet_teardown() {
	local p l s ns
	[ -d "$NVMET" ] || return 0
	for p in "$NVMET"/ports/*/; do
		[ -d "$p" ] || continue
		for l in "$p"subsystems/*; do [ -L "$l" ] && rm "$l"; done
		rmdir "$p"
	done
	for s in "$NVMET"/subsystems/*/; do
		[ -d "$s" ] || continue
		for ns in "$s"namespaces/*/; do
			[ -d "$ns" ] || continue
			echo 0 >"$ns/enable"
			rmdir "$ns"
		done
		rmdir "$s"
	done
	modprobe -r nvmet-tcp nvmet
}

# nvme_ns_dev NQN: prints /dev/nvmeXnY of the connected subsystem NQN (nvme connect of
# nvme-cli 2.3 prints nothing on success); fails if none.
nvme_ns_dev() {
	local s ns
	for s in /sys/class/nvme-subsystem/*; do
		[ "$(cat "$s/subsysnqn" 2>/dev/null)" = "$1" ] || continue
		for ns in "$s"/nvme*; do
			ns=${ns##*/}
			if [[ $ns =~ ^nvme[0-9]+n[0-9]+$ ]] && [ -b "/dev/$ns" ]; then
				echo "/dev/$ns"
				return 0
			fi
		done
	done
	return 1
}

# khost_connect NQN [nvme connect flags...]: kernel host connect to 127.0.0.1:4420; prints
# the namespace's block device once it shows up.
khost_connect() {
	local nqn=$1 dev; shift
	nvme connect -t tcp -a 127.0.0.1 -s 4420 -n "$nqn" "$@" >&2 || die "nvme connect $* failed"
	wait_for 10 nvme_ns_dev "$nqn" >/dev/null || die "no namespace block device for $nqn"
	dev=$(nvme_ns_dev "$nqn")
	echo "$dev"
}

nvme_gone() { ! nvme_ns_dev "$1" >/dev/null; }

# khost_disconnect NQN: disconnect and wait until the controller is gone.
khost_disconnect() {
	nvme disconnect -n "$1" >&2 || die "nvme disconnect -n $1 failed"
	wait_for 10 nvme_gone "$1" || die "$1 still connected after disconnect"
}

# khost_connect_port PORT NQN [nvme connect flags...]: khost_connect to 127.0.0.1:PORT.
khost_connect_port() {
	local port=$1 nqn=$2 dev; shift 2
	nvme connect -t tcp -a 127.0.0.1 -s "$port" -n "$nqn" "$@" >&2 ||
		die "nvme connect -s $port -n $nqn $* failed"
	wait_for 10 nvme_ns_dev "$nqn" >/dev/null || die "no namespace block device for $nqn"
	dev=$(nvme_ns_dev "$nqn")
	echo "$dev"
}

# nvme_ctrl_name NQN: prints the controller (nvmeX) of the connected subsystem NQN. With
# native multipath the block device's nvme<A>n<B> names the subsystem instance, not the
# controller, so the controller comes from the subsystem's sysfs directory.
nvme_ctrl_name() {
	local s c
	for s in /sys/class/nvme-subsystem/*; do
		[ "$(cat "$s/subsysnqn" 2>/dev/null)" = "$1" ] || continue
		for c in "$s"/nvme*; do
			c=${c##*/}
			if [[ $c =~ ^nvme[0-9]+$ ]]; then
				echo "$c"
				return 0
			fi
		done
	done
	return 1
}

# tcp_listening PORT: something listens on TCP PORT (any address, IPv4 or IPv6).
tcp_listening() {
	local hex
	hex=$(printf '%04X' "$1")
	grep -Eq "^ *[0-9]+: [0-9A-F]+:$hex [0-9A-F]+:0000 0A " /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# proc_cpu_ticks PID: user + system CPU time of process PID (all its threads), in clock ticks.
proc_cpu_ticks() {
	local stat
	stat=$(cat "/proc/$1/stat") || return 1
	stat=${stat##*) }   # past "pid (comm) ": field 3 (state) onwards
	awk '{ print $12 + $13 }' <<<"$stat"   # utime, stime: fields 14 and 15
}

# read_is_zero DEV OFFSET LENGTH: the LENGTH bytes at OFFSET of DEV read back as zeroes
# (O_DIRECT: from the device, not the page cache). OFFSET and LENGTH: multiples of 4 KiB.
read_is_zero() {
	local dev=$1 off=$2 len=$3
	cmp -s -n "$len" <(dd if="$dev" bs=4096 skip=$((off / 4096)) count=$((len / 4096)) \
		iflag=direct status=none) /dev/zero
}

# knvmet_port_unlink NQN [PORTID] / knvmet_port_link NQN [PORTID]: take subsystem NQN off
# port PORTID (its last subsystem: the listener stops, and nvmet deletes the controllers
# connected through that port), or put it back (the listener starts again).
knvmet_port_unlink() {
	rm "$NVMET/ports/${2:-1}/subsystems/$1"
}
knvmet_port_link() {
	ln -s "$NVMET/subsystems/$1" "$NVMET/ports/${2:-1}/subsystems/$1"
}

# reap_run STATUS CMD [ARGS...]: runs CMD under a python3 sub-reaper
# (prctl(PR_SET_CHILD_SUBREAPER)), which adopts whatever CMD leaves behind (a daemon whose
# parent exited) and appends each exit status to the file STATUS as it happens: "cmd RC"
# for CMD itself, then "PID RC" for every adopted process (RC: exit code, 128+N for signal
# N). Returns once no process is left; CMD's stdio is the caller's. Run it in the
# background to learn a daemon's real exit status (`nvmf connect`'s daemon, say).
reap_run() {
	local st=$1 py=python3; shift
	[ ! -x /usr/bin/python3 ] || py=/usr/bin/python3
	"$py" -c '
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(36, 1, 0, 0, 0):  # PR_SET_CHILD_SUBREAPER
    sys.exit("reap_run: prctl: " + os.strerror(ctypes.get_errno()))
st = open(sys.argv[1], "a", buffering=1)
cmd = os.fork()
if cmd == 0:
    try:
        os.execvp(sys.argv[2], sys.argv[2:])
    except OSError as e:
        print("reap_run: %s: %s" % (sys.argv[2], e.strerror), file=sys.stderr)
    os._exit(127)
while True:
    try:
        pid, ws = os.wait()
    except ChildProcessError:
        break
    rc = os.waitstatus_to_exitcode(ws)
    st.write("%s %d\n" % ("cmd" if pid == cmd else pid, 128 - rc if rc < 0 else rc))
' "$st" "$@"
}
