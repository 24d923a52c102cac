#!/usr/bin/env bash
# Faults on a real network path, under fio verify through libnvmf (the fio engine):
#
#   host netns  vh 10.77.5.1 ---- vt 10.77.5.2  target netns (nvmf-target --ram)
#
# The faults come from tc netem when the kernel has sch_netem, else from tunem (tunem.c:
# the same faults in a user-space forwarder; vh and vt are then its TUN devices).
# Two fio jobs (4 KiB QD16 and 128 KiB QD4: inline data, R2T + H2CData, multi-PDU
# C2HData), each its own controller with kato=2 s, reconnect_delay=1 s, write a random
# pattern and read it back (crc32c, verify_backlog) while, one after the other:
#   - in one fio run, netem on both veth ends for 4 s each: 1 % loss; 50 ms +- 10 ms
#     delay; reordering; duplication
#   - in a second run, outages of 5 s: the link down (ip link set vh down) and back; a peer
#     that stops reading: the target SIGSTOPped (its socket buffers fill, the kernel still
#     ACKs: only keep-alive can tell), then the host (fio) SIGSTOPped
#   - the link down with ctrl_loss_tmo=2: the controller is given up, fio gets an I/O
#     error (and no verify error), and ends
# Asserted: fio exits 0 with err=0 (verify_fatal: one corrupted block fails it) and
# verified reads; both jobs complete I/O after the fault ends; no reconnect under netem
# (keep-alive must not expire on a slow or lossy path); after an outage longer than KATO
# the host reconnects (keep-alive expiry logged, 'reconnected') with no I/O error reaching
# fio.  Printed, never asserted: throughput during each fault and the time from the end of
# an outage to the first completion.  TAP output; skipped without root or network
# namespaces ("1..0 # SKIP", exit 0: meson takes a TAP test's 77 for an error).
#
# Environment (set by meson): NVMF_TARGET, NVMF_FIO_ENGINE (empty when the engine was not
# built: then the test fails), FIO (default: fio on PATH).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=netns.sh
. "$here/netns.sh"

target=${NVMF_TARGET:?NVMF_TARGET: the nvmf-target binary}
engine=${NVMF_FIO_ENGINE:-}
fio=${FIO:-fio}
nqn='nqn.2014-08.org.nvmexpress:nvmf-tcp:faults'
H=nvmf-fh-$$
T=nvmf-ft-$$
HA=10.77.5.1
TA=10.77.5.2

skip() {
	echo "1..0 # SKIP $*"
	exit 0
}
bail() {
	echo "1..1"
	echo "not ok 1 - $1"
	shift
	for f in "$@"; do sed 's/^/# /' "$f"; done
	exit 1
}

[ "$(id -u)" = 0 ] || skip "needs root (network namespaces)"
command -v ip >/dev/null || skip "no ip (iproute2)"
command -v tc >/dev/null || skip "no tc (iproute2)"
if [ -z "$engine" ] || [ ! -f "$engine" ]; then
	bail "the fio engine was not built (see the warning of scripts/build)"
fi
command -v "$fio" >/dev/null || bail "$fio is not installed (scripts/install-deps)"

work=$(mktemp -d)
tgt_pid=''
fio_pid=''
fio_rc=0
tunem_pid=''
cleanup() {
	# a stopped process cannot die of SIGTERM: continue it first
	if [ -n "$fio_pid" ]; then
		kill -CONT "$fio_pid" 2>/dev/null
		kill -KILL "$fio_pid" 2>/dev/null
		wait "$fio_pid" 2>/dev/null
	fi
	if [ -n "$tgt_pid" ]; then
		kill -CONT "$tgt_pid" 2>/dev/null
		kill "$tgt_pid" 2>/dev/null
		wait "$tgt_pid" 2>/dev/null
	fi
	if [ -n "$tunem_pid" ]; then
		exec 7>&-
		kill "$tunem_pid" 2>/dev/null
		wait "$tunem_pid" 2>/dev/null
	fi
	netns_cleanup
	if [ -n "${KEEP_WORK:-}" ]; then echo "# kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 143' TERM INT   # meson's timeout: the namespaces still go

netns_add "$H" "$T" || skip "cannot create network namespaces"
# netem when the kernel has it; else tunem, the same faults in a user-space forwarder
# between two TUN devices (the link then is tunem, not a veth: a few more copies per packet)
how=netem
ip netns add "$H-probe" 2>/dev/null && NETNS_MADE+=("$H-probe")
ip -n "$H-probe" link add name p0 type veth peer name p1 2>/dev/null
tc -n "$H-probe" qdisc replace dev p0 root netem delay 0ms 2>/dev/null || how=tunem
ip netns del "$H-probe" 2>/dev/null
if [ "$how" = netem ]; then
	netns_link "$H" vh "$HA" "$T" vt "$TA" >"$work/net.log" 2>&1 ||
		bail "network set-up failed" "$work/net.log"
else
	[ -x "${NVMF_TUNEM:-}" ] || skip "no netem qdisc (sch_netem) and no tunem (NVMF_TUNEM)"
	mkfifo "$work/tunem.ctl"
	"$NVMF_TUNEM" "$H" vh "$T" vt <"$work/tunem.ctl" >"$work/tunem.out" 2>&1 &
	tunem_pid=$!
	exec 7>"$work/tunem.ctl"
	for _ in $(seq 50); do
		grep -q ready "$work/tunem.out" && break
		sleep 0.1
	done
	{ grep -q ready "$work/tunem.out" &&
	  ip -n "$H" addr add "$HA/24" dev vh && ip -n "$T" addr add "$TA/24" dev vt &&
	  ip -n "$H" link set vh up && ip -n "$T" link set vt up; } >"$work/net.log" 2>&1 ||
		bail "network set-up (tunem) failed" "$work/tunem.out" "$work/net.log"
fi
echo "# faults applied by $how"

ip netns exec "$T" "$target" --ram 64M --nqn "$nqn" --listen "$TA:4420" --cpus 1 \
	>"$work/target.log" 2>&1 &
tgt_pid=$!
for _ in $(seq 300); do
	grep -q 'listening on' "$work/target.log" && break
	kill -0 "$tgt_pid" 2>/dev/null || break
	sleep 0.1
done
grep -q 'listening on' "$work/target.log" || bail "nvmf-target did not start" "$work/target.log"

# The sanitizer build's engine: the ASan runtime preloaded into the uninstrumented fio, fio's
# own leaks suppressed (as test_fio.sh does; see there).
preload=$(ldd "$engine" 2>/dev/null | awk '/lib(asan|ubsan)\.so/ { print $3 }' | paste -sd: -)
fio_env=()
if [ -n "$preload" ]; then
	echo "leak:$(readlink -f "$(command -v "$fio")")" >"$work/lsan.supp"
	fio_env=(env "LD_PRELOAD=$preload"
		"ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}malloc_context_size=2"
		"LSAN_OPTIONS=${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$work/lsan.supp")
fi

now_ms() { date +%s%3N; }
# A fault on both directions of the link: netem on each veth end (a qdisc shapes its
# device's egress), or one tunem setting line; no argument: the fault removed.
fault() { # "NETEM ARGS" "TUNEM SETTINGS"
	local m
	if [ $# -eq 0 ]; then
		if [ "$how" = netem ]; then
			tc -n "$H" qdisc del dev vh root 2>/dev/null
			tc -n "$T" qdisc del dev vt root 2>/dev/null
		else
			echo clear >&7
		fi
		return 0
	fi
	if [ "$how" = netem ]; then
		# shellcheck disable=SC2086 # the netem arguments are words
		tc -n "$H" qdisc replace dev vh root netem $1 &&
			tc -n "$T" qdisc replace dev vt root netem $1
	else
		m=$(grep -c ok "$work/tunem.out")
		echo "$2" >&7
		for _ in $(seq 20); do
			[ "$(grep -c ok "$work/tunem.out")" -gt "$m" ] && return 0
			sleep 0.05
		done
		cat "$work/tunem.out" >&2
		return 1
	fi
}
tx_bytes() { ip netns exec "$H" cat /sys/class/net/vh/statistics/tx_bytes; }

# fio_start NAME CTRL_LOSS_TMO: the two jobs in the host namespace, in the background
# (fio_pid), clat logged per I/O with Unix-epoch milliseconds; returns once I/O flows (2 MiB
# sent: the connects are done).  It runs until fio_stop (at most 2 min).  norandommap +
# io_size: fio never "finishes" the file, which would close and reopen it (a new
# controller) every pass; serialize_overlap: no two writes to one block in flight at once
# (their order is the device's to choose, a resubmission after a reconnect included).
fio_start() {
	local name=$1 tmo=$2 trid
	trid="trtype=tcp adrfam=ipv4 traddr=$TA trsvcid=4420 subnqn=${nqn//:/\\:} ns=1"
	ip netns exec "$H" "${fio_env[@]}" "$fio" --thread=1 --ioengine="external:$engine" \
		--filename="$trid" --rw=randwrite --norandommap=1 --io_size=64g \
		--verify=crc32c --verify_backlog=64 --verify_fatal=1 --do_verify=1 \
		--verify_state_save=0 --time_based=1 --runtime=120 --busy_poll=0 \
		--serialize_overlap=1 --kato=2 --reconnect_delay=1 --ctrl_loss_tmo="$tmo" \
		--write_lat_log="$work/$name" --log_unix_epoch=1 \
		--name=small --bs=4k --iodepth=16 --offset=0 --size=16M \
		--name=large --bs=128k --iodepth=4 --offset=16M --size=16M \
		>"$work/$name.out" 2>&1 &
	fio_pid=$!
	flowing 2097152 30
}
# flowing BYTES SECONDS: the host sent BYTES more within SECONDS (while fio runs)
flowing() {
	local b0
	b0=$(tx_bytes)
	for _ in $(seq $(($2 * 10))); do
		[ $(($(tx_bytes) - b0)) -gt "$1" ] && return 0
		kill -0 "$fio_pid" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}
# fio_stop: SIGINT (fio ends its jobs, prints its report and exits 128); fio's exit status
# in $fio_rc: 0 for that end, else what fio returned
fio_stop() { # NAME
	local rc=0
	kill -INT "$fio_pid" 2>/dev/null
	wait "$fio_pid" || rc=$?
	fio_pid=''
	[ "$rc" = 128 ] && grep -q "terminating on signal 2" "$work/$1.out" && rc=0
	fio_rc=$rc
}
fio_wait() {
	local rc=0
	wait "$fio_pid" || rc=$?
	fio_pid=''
	return "$rc"
}

# MiB/s written and verify reads/s completed in [FROM, TO) ms, both jobs
window_rate() { # NAME FROM TO
	cat "$work/$1"_clat.*.log | awk -F', ' -v a="$2" -v b="$3" '
		$1 >= a && $1 < b { if ($3 == 1) w += $4; else r++ }
		END { s = (b - a) / 1000; printf "%.1f MiB/s written, %.0f verify reads/s", w / 1048576 / s, r / s }'
}
# ms from AT to each job's first completion at or after AT ("none" for a job without)
resume_ms() { # NAME AT
	local f out=''
	for f in "$work/$1"_clat.*.log; do
		out+="${out:+ / }$(awk -F', ' -v t="$2" '$1 >= t { print $1 - t " ms"; found = 1; exit }
			END { if (!found) print "none" }' "$f")"
	done
	echo "$out"
}
# every job completed I/O at or after AT
resumed() { # NAME AT
	! resume_ms "$1" "$2" | grep -q none
}
reconnects() { grep -c 'reconnected (controller' "$work/$1.out"; }
verified() { # NAME: verify reads of both jobs (fio's "issued rwts: total=R,W,...")
	sed -n 's/.*issued rwts: total=\([0-9]*\),.*/\1/p' "$work/$1.out" | awk '{ s += $1 } END { print s + 0 }'
}

n=0
failed=0
echo "1..8"
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() {
	n=$((n + 1)); failed=$((failed + 1))
	echo "not ok $n - $1"
	shift
	for f in "$@"; do sed 's/^/# /' "$f"; done
}
# fio ended well: exit 0, err=0 in both jobs, reads verified
fio_good() { # NAME RC
	[ "$2" = 0 ] && [ "$(grep -c 'err= 0' "$work/$1.out")" = 2 ] &&
		[ "$(verified "$1")" -gt 0 ] && ! grep -qiE 'verify: bad|verify failed|bad magic' "$work/$1.out"
}

# window NAME DESCRIPTION DOWN-CMD UP-CMD SECS RECONNECTS: a fault for SECS s under the fio
# run NAME; then the host must send again (2 MiB within 20 s) and have reconnected
# RECONNECTS times (0: none; 2: each controller once, at least).  The window, with what
# went wrong in it, goes to $work/NAME.win for the report once fio stopped.
window() {
	local name=$1 what=$2 down=$3 up=$4 secs=$5 want=$6 r0 t_on t_off bad='' rec
	r0=$(reconnects "$name")
	t_on=$(now_ms)
	eval "$down" 2>"$work/$name.tc" || bad="the fault could not be set ($how: $(cat "$work/$name.tc"))"
	sleep "$secs"
	eval "$up"
	t_off=$(now_ms)
	flowing 2097152 20 || bad="${bad:-no I/O within 20 s after the fault}"
	rec=$(($(reconnects "$name") - r0))
	if [ "$want" = 0 ] && [ "$rec" != 0 ]; then
		bad="${bad:-$rec reconnects, want none}"
	elif [ "$rec" -lt "$want" ]; then
		bad="${bad:-$rec reconnects, want $want}"
	fi
	echo "$what|$t_on|$t_off|$rec|$bad" >>"$work/$name.win"
	sleep 1
}
# report NAME: stops fio; one TAP line per window (fio's verdict is every window's)
report() {
	local name=$1 what t_on t_off rec bad extra
	fio_stop "$name"
	while IFS='|' read -r what t_on t_off rec bad; do
		extra="$rec reconnects; under the fault $(window_rate "$name" "$t_on" "$t_off"), first completion $(resume_ms "$name" "$t_off") after it"
		if [ -z "$bad" ] && fio_good "$name" "$fio_rc" && resumed "$name" "$t_off"; then
			ok "$what: $extra"
		else
			notok "$what: ${bad:-fio exit $fio_rc}; $extra" "$work/$name.out"
		fi
	done <"$work/$name.win"
	echo "# $name: fio $(grep -c 'err= 0' "$work/$name.out") jobs with err=0, $(verified "$name") verified reads in all"
}
start_or_bail() { # NAME CTRL_LOSS_TMO
	fio_start "$1" "$2" && return 0
	fio_stop "$1"
	notok "fio did not start" "$work/$1.out"
	return 1
}

# ---- 1..4: netem faults of 4 s, one after the other in one fio run: nothing reconnects
# (keep-alive must hold on a lossy or slow path), I/O goes on and resumes at full speed
if start_or_bail netem 30; then
	sleep 1
	window netem "1 % loss both ways" 'fault "loss 1%" "loss=1"' fault 4 0
	window netem "50 ms +- 10 ms delay both ways" 'fault "delay 50ms 10ms" "delay=50 jitter=10"' fault 4 0
	window netem "reordering (25 % of packets 10 ms ahead of the rest)" \
		'fault "delay 10ms reorder 25%" "delay=10 reorder=25"' fault 4 0
	window netem "2 % duplicated packets both ways" 'fault "duplicate 2%" "dup=2"' fault 4 0
	report netem
fi

# ---- 5..7: outages of 5 s, longer than KATO (2 s), in one fio run: keep-alive expires,
# each controller reconnects, I/O resumes, no I/O error reaches fio
mark=$(wc -l <"$work/target.log")
if start_or_bail outage 30; then
	sleep 1
	window outage "link down 5 s (kato 2 s, ctrl_loss_tmo 30 s)" \
		'ip -n "$H" link set vh down' 'ip -n "$H" link set vh up' 5 2
	window outage "the target stops reading (SIGSTOP 5 s)" \
		'kill -STOP "$tgt_pid"' 'kill -CONT "$tgt_pid"' 5 2
	rss=$(awk '/^VmRSS/ { print $2 " " $3 }' "/proc/$tgt_pid/status")
	window outage "the host stops reading (fio SIGSTOP 5 s)" \
		'kill -STOP "$fio_pid"' 'kill -CONT "$fio_pid"' 5 2
	echo "# target RSS around the host stall: $rss before, $(awk '/^VmRSS/ { print $2 " " $3 }' "/proc/$tgt_pid/status") after"
	report outage
	echo "# keep-alive expiries: $(grep -c 'keep-alive not answered within 2000 ms' "$work/outage.out") on the host, $(tail -n +"$((mark + 1))" "$work/target.log" | grep -c 'keep-alive timeout (2000 ms) expired') on the target"
fi

# ---- 8: an outage longer than ctrl_loss_tmo: fio gets an I/O error, never a verify error
name=lost
if fio_start "$name" 2; then
	sleep 1
	ip -n "$H" link set vh down
	t_on=$(now_ms)
	# the host gives up 2 s (ctrl_loss_tmo) after it noticed the loss (KATO 2 s)
	for _ in $(seq 400); do
		kill -0 "$fio_pid" 2>/dev/null || break
		sleep 0.1
	done
	t_end=$(now_ms)
	ip -n "$H" link set vh up
	if kill -0 "$fio_pid" 2>/dev/null; then
		kill -KILL "$fio_pid"
		fio_wait
		notok "ctrl_loss_tmo 2 s, link down: fio still running 40 s later" "$work/$name.out"
	else
		fio_wait
		rc=$?
		if [ "$rc" != 0 ] && grep -q 'controller lost for 2s: giving up' "$work/$name.out" &&
		   grep -Eq 'err=(5|19|107|108|110)[^0-9]' "$work/$name.out" &&
		   ! grep -qiE 'verify: bad|crc32c: verify failed|bad magic' "$work/$name.out"; then
			ok "ctrl_loss_tmo 2 s, link down: given up, fio ended with an I/O error ($(grep -Eo 'error=[A-Za-z /]+' "$work/$name.out" | head -n1)), $((t_end - t_on)) ms after the link went down"
		else
			notok "ctrl_loss_tmo 2 s, link down: controller given up, I/O error (exit $rc)" "$work/$name.out"
		fi
	fi
else
	notok "ctrl_loss_tmo 2 s: fio did not start" "$work/$name.out"
fi

if ! kill -0 "$tgt_pid" 2>/dev/null || grep -qE 'AddressSanitizer|LeakSanitizer|runtime error' "$work/target.log"; then
	echo "# nvmf-target died or reported a sanitizer error"
	sed 's/^/# /' "$work/target.log" | tail -40
	failed=$((failed + 1))
fi
[ "$failed" -eq 0 ]
