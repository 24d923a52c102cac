#!/usr/bin/env bash
# Crash consistency (issue 12, point 4): for each backend -- a regular file, and a block
# device (a loop device over a file) -- nvmf-target serves it, crash_check puts a mixed
# write / Write Zeroes / FUA / Flush / read load on it, the target is killed with SIGKILL
# after a random delay, restarted, and crash_check verify --strict reads every block back
# against the log of acknowledged operations.  One TAP line per kill point, and one first
# for the checker itself (damage done to an image on purpose must be found).
# Environment (set by meson): NVMF_TARGET, CRASH_CHECK; CRASH_KILL_POINTS (in total, split
# between the backends; default 10), CRASH_MAX_DELAY_MS (the longest time the load runs
# before the kill; default 1500).  The block device needs root and a free loop device, else
# its kill points skip.
set -u
target=${NVMF_TARGET:?}
check=${CRASH_CHECK:?}
points=${CRASH_KILL_POINTS:-10}
max_delay=${CRASH_MAX_DELAY_MS:-1500}
nqn=nqn.2024-01.io.nvmf-tcp:crash
per_file=$(((points + 1) / 2))
per_blk=$((points - per_file))
echo "1..$((points + 1))"

work=$(mktemp -d)
tgt_pid=''
chk_pid=''
loopdev=''
cleanup() {
	[ -z "$chk_pid" ] || { kill -KILL "$chk_pid" 2>/dev/null; wait "$chk_pid" 2>/dev/null; }
	[ -z "$tgt_pid" ] || { kill -KILL "$tgt_pid" 2>/dev/null; wait "$tgt_pid" 2>/dev/null; }
	[ -z "$loopdev" ] || losetup -d "$loopdev" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
n=0
failed=0
result() {   # result RC NAME [DETAIL-FILE]
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		[ -z "${3:-}" ] || sed 's/^/# /' "$3"
		failed=$((failed + 1))
	fi
}
skip() {   # skip COUNT REASON
	for _ in $(seq "$1"); do
		n=$((n + 1))
		echo "ok $n # SKIP $2"
	done
}
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
port=''
for _ in $(seq 50); do
	p=$((20000 + RANDOM % 40000))
	if port_free "$p"; then port=$p; break; fi
done

# start_target CONFIG LOG: nvmf-target in the background, until it says it is ready
start_target() {
	"$target" --config "$1" --cpus 1 >>"$2" 2>&1 &
	tgt_pid=$!
	for _ in $(seq 200); do
		[ "$(grep -c 'nvmf-target ready' "$2")" -gt "$3" ] && return 0
		kill -0 "$tgt_pid" 2>/dev/null || break
		sleep 0.05
	done
	return 1
}

stop_target() {
	[ -z "$tgt_pid" ] || { kill -TERM "$tgt_pid"; wait "$tgt_pid"; }
	tgt_pid=''
}

# config PATH: one subsystem with one namespace on PATH, on the port
config() {
	cat <<EOF
{"hosts": [],
 "ports": [{"portid": 1, "addr": {"trtype": "tcp", "adrfam": "ipv4", "traddr": "127.0.0.1",
                                  "trsvcid": "$port"}, "subsystems": ["$nqn"]}],
 "subsystems": [{"nqn": "$nqn", "attr": {"allow_any_host": "1"},
                 "namespaces": [{"nsid": 1, "enable": 1, "device": {"path": "$1"}}]}]}
EOF
}

# backend NAME PATH COUNT: COUNT kill points on the namespace at PATH
backend() {
	local name=$1 path=$2 count=$3 dir=$work/$1 starts=0 k delay rc
	mkdir -p "$dir/check"
	config "$path" >"$dir/config.json"
	: >"$dir/target.log"
	if ! start_target "$dir/config.json" "$dir/target.log" $starts; then
		for k in $(seq "$count"); do result 1 "$name: target does not start" "$dir/target.log"; done
		return
	fi
	starts=$((starts + 1))
	for k in $(seq "$count"); do
		local detail=$dir/detail.$k
		delay=$((100 + RANDOM % (max_delay - 100 + 1)))
		: >"$dir/run.out"
		"$check" run -a 127.0.0.1 -s "$port" -n "$nqn" -d "$dir/check" \
			--seed "$((RANDOM * 32768 + RANDOM))" >"$dir/run.out" 2>&1 &
		chk_pid=$!
		for _ in $(seq 400); do
			grep -q 'load running' "$dir/run.out" && break
			kill -0 "$chk_pid" 2>/dev/null || break
			sleep 0.05
		done
		sleep "$((delay / 1000)).$(printf '%03d' $((delay % 1000)))"
		kill -KILL "$tgt_pid"
		wait "$tgt_pid" 2>/dev/null
		tgt_pid=''
		# the checker ends once its commands have failed with the connection
		rc=''
		for _ in $(seq 800); do
			kill -0 "$chk_pid" 2>/dev/null || { wait "$chk_pid"; rc=$?; break; }
			sleep 0.05
		done
		if [ -z "$rc" ]; then
			kill -KILL "$chk_pid" 2>/dev/null
			wait "$chk_pid" 2>/dev/null
			echo "crash_check run did not end within 40 s of the kill" >>"$dir/run.out"
			rc=1
		fi
		chk_pid=''
		{ echo "kill after ${delay} ms of load"; cat "$dir/run.out"; } >"$detail"
		if ! start_target "$dir/config.json" "$dir/target.log" $starts; then
			tail -n 20 "$dir/target.log" >>"$detail"
			result 1 "$name: kill point $k: the target does not restart" "$detail"
			for k in $(seq $((k + 1)) "$count"); do
				result 1 "$name: kill point $k: not run (no target)"
			done
			return
		fi
		starts=$((starts + 1))
		"$check" verify --strict -a 127.0.0.1 -s "$port" -n "$nqn" -d "$dir/check" \
			>>"$detail" 2>&1
		vrc=$?
		if [ "$rc" -eq 0 ] && [ "$vrc" -eq 0 ]; then
			result 0 "$name: kill point $k after ${delay} ms: $(sed -n 's/.*run ended ([a-z ]*): \(.*completed\);.*/\1/p' "$dir/run.out"); verify ok"
		else
			{ echo "last lines of the log:"; tail -n 30 "$dir/check/log"; } >>"$detail"
			result 1 "$name: kill point $k after ${delay} ms (run rc $rc, verify rc $vrc)" "$detail"
		fi
	done
	stop_target
}

# The checker itself: a load that ends by itself (no kill), then blocks that had to be
# durable damaged in the image while the target is down -- garbage, an older version
# (from a copy taken before the load), another block's data, and (when the load left one)
# the older data of a block a Write Zeroes with FUA had zeroed -- must be exactly the
# mismatches verify reports, by LBA.
selftest() {
	local dir=$work/self img=$work/self.img bs l1 l2 l3 l4='' rc starts=0 out=$work/self.detail
	local args=(-a 127.0.0.1 -s "$port" -n "$nqn" -d "$dir/check")
	mkdir -p "$dir/check"
	truncate -s 64M "$img"
	config "$img" >"$dir/config.json"
	: >"$dir/target.log"
	: >"$out"
	start_target "$dir/config.json" "$dir/target.log" $((starts++)) &&
		"$check" run "${args[@]}" --seconds 1 >>"$out" 2>&1 &&
		"$check" verify --strict "${args[@]}" >>"$out" 2>&1 && stop_target &&
		cp "$img" "$work/self.old" &&
		start_target "$dir/config.json" "$dir/target.log" $((starts++)) &&
		"$check" run "${args[@]}" --seconds 1 >>"$out" 2>&1 && stop_target || {
		stop_target
		cat "$dir/target.log" >>"$out"
		result 1 "crash_check finds damage: setup failed" "$out"
		return
	}
	bs=$(grep -o 'blocks of [0-9]* bytes' "$out" | awk 'NR == 1 { print $3 }')
	# blocks whose last command was a write acknowledged with FUA; three far apart
	mapfile -t fua < <(awk '$1 == "W" || $1 == "Z" { op[$2] = $1 $5; lba[$2] = $3; n[$2] = $4 }
		$1 == "A" && $3 == 0 { for (i = 0; i < n[$2]; i++) last[lba[$2] + i] = op[$2] }
		END { for (b in last) if (last[b] == "W1") print b }' "$dir/check/log" | sort -n)
	# and a block whose last command was a Write Zeroes with FUA, that held data before
	for b in $(awk '$1 == "W" || $1 == "Z" { op[$2] = $1 $5; lba[$2] = $3; n[$2] = $4 }
		$1 == "A" && $3 == 0 { for (i = 0; i < n[$2]; i++) last[lba[$2] + i] = op[$2] }
		END { for (b in last) if (last[b] == "Z1") print b }' "$dir/check/log"); do
		if [ "$(dd if="$work/self.old" bs="$bs" skip="$b" count=1 status=none |
			tr -d '\0' | head -c 1 | wc -c)" -eq 1 ]; then
			l4=$b
			break
		fi
	done
	l1=${fua[0]}; l2=${fua[$((${#fua[@]} / 2))]}; l3=${fua[$((${#fua[@]} - 1))]}
	dd if="$img" of="$img" bs="$bs" skip="$l1" seek="$l3" count=1 conv=notrunc status=none
	dd if=/dev/urandom of="$img" bs="$bs" seek="$l1" count=1 conv=notrunc status=none
	dd if="$work/self.old" of="$img" bs="$bs" skip="$l2" seek="$l2" count=1 conv=notrunc \
		status=none
	[ -z "$l4" ] || dd if="$work/self.old" of="$img" bs="$bs" skip="$l4" seek="$l4" count=1 \
		conv=notrunc status=none
	start_target "$dir/config.json" "$dir/target.log" $((starts++))
	"$check" verify --strict "${args[@]}" >"$work/self.verify" 2>&1
	rc=$?
	stop_target
	cat "$work/self.verify" >>"$out"
	[ "$rc" -eq 1 ] && [ "$(grep -c '^MISMATCH' "$work/self.verify")" -eq $((3 + (${#l4} > 0))) ] &&
		grep -q "^MISMATCH lba $l1: .*found garbage" "$work/self.verify" &&
		grep -q "^MISMATCH lba $l2: .*\(older data\|zeroes where\)" "$work/self.verify" &&
		grep -q "^MISMATCH lba $l3: .*found write [0-9]* of lba $l1" \
			"$work/self.verify" &&
		{ [ -z "$l4" ] || grep -q "^MISMATCH lba $l4: expected Write Zeroes [0-9]* .*older data" \
			"$work/self.verify"; }
	result $? "crash_check finds damage: garbage at lba $l1, older data at $l2, lba $l1's data at $l3${l4:+, older data over Write Zeroes at $l4}" "$out"
}
selftest

# a regular file
truncate -s 64M "$work/file.img"
backend file "$work/file.img" "$per_file"

# a block device: a loop device over a file
if [ "$per_blk" -gt 0 ]; then
	truncate -s 64M "$work/blk.img"
	if [ "$(id -u)" -ne 0 ]; then
		skip "$per_blk" "block device: needs root for a loop device"
	elif ! loopdev=$(losetup -f --show "$work/blk.img" 2>"$work/losetup.err"); then
		loopdev=''
		skip "$per_blk" "block device: no loop device ($(head -n 1 "$work/losetup.err"))"
	else
		backend block "$loopdev" "$per_blk"
		losetup -d "$loopdev"
		loopdev=''
	fi
fi
[ "$failed" -eq 0 ]
