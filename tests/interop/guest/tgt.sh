# Guest-side helpers for tests that run our nvmf-target inside the test bed (sourced after
# lib.sh): start one target process and wait until it listens, stop it with SIGTERM and
# require a clean exit (status 0, no sanitizer report, "stopped" logged), read its log;
# fio write + verify on a device of it (fio_run).
# shellcheck shell=bash

TGT_PID='' TGT_LOG='' TGT_NAME=''

# tgt_context: the target's log tail, so a failure shows what the target saw.
tgt_context() {
	[ -n "$TGT_LOG" ] && [ -f "$TGT_LOG" ] || return 0
	echo "    --- last lines of $TGT_LOG ($TGT_NAME) ---" >&2
	tail -n 40 "$TGT_LOG" | sed 's/^/    | /' >&2
}
tdie() { tgt_context; die "$@"; }

# tgt_start NAME "PORTS" BINARY ARGS...: starts the target in the background (log in
# /tmp/NAME.log) and waits until it listens on every TCP port in PORTS.
tgt_start() {
	local name=$1 ports=$2 bin=$3 p n; shift 3
	TGT_NAME=$name TGT_LOG=/tmp/$name.log
	"$bin" "$@" >"$TGT_LOG" 2>&1 &
	TGT_PID=$!
	for p in $ports; do
		n=200
		until tcp_listening "$p" && grep -q "listening on .*:$p " "$TGT_LOG"; do
			kill -0 "$TGT_PID" 2>/dev/null || { wait "$TGT_PID" || true; TGT_PID=''; tdie "$name: target exited at start"; }
			n=$((n - 1))
			[ $n -gt 0 ] || tdie "$name: target not listening on port $p after 20 s"
			sleep 0.1
		done
	done
	step "    $name: pid $TGT_PID listening on ${ports// /, }: $(sed -n '/ready:/{s/^[0-9T:.Z-]* info: //;p;q}' "$TGT_LOG")"
}

# tgt_stop: SIGTERM; the target must exit 0 within 15 s, its log clean of sanitizer reports.
tgt_stop() {
	local pid=$TGT_PID rc=0 n=150
	[ -n "$pid" ] || return 0
	kill -TERM "$pid"
	while kill -0 "$pid" 2>/dev/null; do
		n=$((n - 1))
		if [ $n -le 0 ]; then
			kill -KILL "$pid" 2>/dev/null || true
			wait "$pid" 2>/dev/null || true
			TGT_PID=''
			tdie "$TGT_NAME: still running 15 s after SIGTERM (killed)"
		fi
		sleep 0.1
	done
	wait "$pid" || rc=$?
	TGT_PID=''
	[ "$rc" -eq 0 ] || tdie "$TGT_NAME: exit status $rc after SIGTERM, want 0"
	! grep -Eq 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$TGT_LOG" ||
		tdie "$TGT_NAME: sanitizer report in the log"
	grep -q 'info: stopped$' "$TGT_LOG" || tdie "$TGT_NAME: no 'stopped' line in the log"
	# Warnings and errors are not failures by themselves (the step checks decide), but they
	# belong in the test log.
	grep -E ' (warn|error|err): ' "$TGT_LOG" | sed "s/^/    $TGT_NAME log: /" >&2 || true
	step "    $TGT_NAME: SIGTERM -> exit 0, $(wc -l <"$TGT_LOG") log lines, no sanitizer report"
}

# log_since MARK: the target log's lines after line MARK (MARK=$(wc -l <"$TGT_LOG")).
log_since() { tail -n +$(($1 + 1)) "$TGT_LOG"; }
# log_has MARK REGEX: a target log line after line MARK matches REGEX (grep -E).
log_has() { log_since "$1" | grep -Eq "$2"; }

fio_common=(--direct=1 --ioengine=libaio --verify=crc32c --verify_fatal=1 --do_verify=1
	--randrepeat=1 --group_reporting --output-format=normal,terse
	# fio would otherwise drop *-verify.state files into the caller's directory (the repo).
	--verify_state_save=0)
# fio_run NAME DEV [extra fio args]: fio must exit 0 with err=0 and, unless it only
# verifies, must have read back (verified) every byte it wrote.
fio_run() {
	local name=$1 dev=$2 out terse err rkb wkb f; shift 2
	out=$(fio --name="$name" --filename="$dev" "${fio_common[@]}" "$@" 2>&1) || {
		echo "$out" >&2
		tdie "fio $name failed on $dev"
	}
	grep -E '^ +(read|write):' <<<"$out" | sed "s/^ */    fio $name: /" >&2 || true
	terse=$(grep '^3;' <<<"$out" | tail -n1)
	[ -n "$terse" ] || { echo "$out" >&2; tdie "fio $name: no terse summary"; }
	IFS=';' read -r -a f <<<"$terse"
	err=${f[4]} rkb=${f[5]} wkb=${f[46]}
	[ "$err" = 0 ] || { echo "$out" >&2; tdie "fio $name: error $err"; }
	if [[ " $* " == *" --verify_only=1 "* ]]; then
		[ "$rkb" -gt 0 ] || tdie "fio $name: verify-only read nothing"
		step "    fio $name: verified $((rkb / 1024)) MiB"
	else
		[ "$wkb" -gt 0 ] && [ "$rkb" -eq "$wkb" ] ||
			tdie "fio $name: wrote $wkb KiB but verified (read back) $rkb KiB"
		step "    fio $name: wrote and verified $((wkb / 1024)) MiB"
	fi
}

# tgt_guard NQN...: whatever happens next, at exit the kernel host lets go of each NQN and
# the target is stopped (TERM, KILL a second later) so that a failure leaves a clean guest;
# a command that fails outside any check names itself and shows the target's log.
tgt_guard() {
	TGT_GUARD_NQNS=("$@")
	trap tgt_guard_exit EXIT
	set -E
	trap 'rc=$?; [ "$BASH_SUBSHELL" -ne 0 ] || tgt_context; step "FAIL: line $LINENO: \"$BASH_COMMAND\" exited $rc"' ERR
}
tgt_guard_exit() {
	local rc=$? q
	trap - EXIT
	for q in "${TGT_GUARD_NQNS[@]}"; do nvme disconnect -n "$q" >/dev/null 2>&1 || true; done
	if [ -n "$TGT_PID" ]; then
		kill -TERM "$TGT_PID" 2>/dev/null || true
		sleep 1
		kill -KILL "$TGT_PID" 2>/dev/null || true
		wait "$TGT_PID" 2>/dev/null || true
	fi
	exit "$rc"
}
