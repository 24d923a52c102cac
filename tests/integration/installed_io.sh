#!/usr/bin/env bash
# The installed programs against each other: an installed nvmf-target (file namespace on
# 127.0.0.1, a free port) and the installed nvmf, which loads the installed libnvmf
# (LD_LIBRARY_PATH=LIBDIR): discover, id-ctrl, write 1 MiB, read it back and compare,
# then SIGTERM and a clean exit.  Used by test_install.sh (meson install) and test_deb.sh
# (the .debs unpacked).  Exit 0 when all of it worked; what happened goes to stdout.
#
# usage: installed_io.sh TARGET NVMF LIBDIR WORKDIR
set -u
target=$1 cli=$2 libdir=$3 work=$4
nqn=nqn.2014-08.org.nvmexpress:nvmf-tcp:quickstart
export LD_LIBRARY_PATH=$libdir
mkdir -p "$work"

# a port nothing listens on, below the ephemeral range (an outgoing connection's local port
# there would make bind fail); the start is retried on another port if it was taken after all
read -r eph_lo _ </proc/sys/net/ipv4/ip_local_port_range
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
pick_port() {
	for _ in $(seq 50); do
		p=$((10000 + RANDOM % (eph_lo > 11000 ? eph_lo - 10000 : 1000)))
		if port_free "$p"; then echo "$p"; return; fi
	done
}

lib=$(ldd "$cli" | awk '/libnvmf\.so/ { print $3 }')
echo "nvmf loads $lib"
case $lib in
"$libdir"/*) ;;
*) echo "nvmf does not load the installed libnvmf"; exit 1 ;;
esac

pid=''
trap '[ -z "$pid" ] || { kill -KILL $pid 2>/dev/null; wait $pid 2>/dev/null; }' EXIT
for _ in 1 2 3; do
	port=$(pick_port)
	[ -n "$port" ] || { echo "no free port"; exit 1; }
	"$target" --file "$work/ns.img" --size 64M --listen "127.0.0.1:$port" --cpus 1 \
		>"$work/target.log" 2>&1 &
	pid=$!
	for _ in $(seq 300); do
		grep -q 'nvmf-target ready' "$work/target.log" && break
		kill -0 $pid 2>/dev/null || break
		sleep 0.1
	done
	grep -q 'Address already in use' "$work/target.log" || break
	wait $pid
	pid=''
done
fail() {
	echo "$1"
	sed 's/^/target: /' "$work/target.log"
	exit 1
}
grep -q 'nvmf-target ready' "$work/target.log" || fail "the installed target did not start"
conn=(-t tcp -a 127.0.0.1 -s "$port")
out=$("$cli" discover "${conn[@]}" 2>&1) || fail "nvmf discover: $out"
grep -q "$nqn" <<<"$out" || fail "nvmf discover does not list $nqn: $out"
out=$("$cli" id-ctrl "${conn[@]}" -n "$nqn" 2>&1) || fail "nvmf id-ctrl: $out"
grep -Eq '^(mn|subnqn) ' <<<"$out" || fail "nvmf id-ctrl printed no identify data: $out"
echo "id-ctrl: $(grep -E '^(mn|sn|fr) ' <<<"$out" | tr -s ' ' | paste -sd ';')"
head -c 1M /dev/urandom >"$work/pattern"
out=$("$cli" write "${conn[@]}" -n "$nqn" --start-block 8 -d "$work/pattern" 2>&1) ||
	fail "nvmf write: $out"
out=$("$cli" read "${conn[@]}" -n "$nqn" --start-block 8 -z 1048576 -d "$work/back" 2>&1) ||
	fail "nvmf read: $out"
cmp -s "$work/pattern" "$work/back" || fail "the data read back differs from what was written"
echo "wrote 1 MiB at block 8 and read it back"
kill -TERM $pid
wait $pid
rc=$?
trap - EXIT
[ $rc -eq 0 ] || fail "the installed target exited with $rc at SIGTERM"
echo "the target stopped cleanly"
