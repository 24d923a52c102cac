# Shared by the shell integration tests (sourced, bash): TAP results, a work directory that
# goes at exit together with the target (tgt_pid) and load (perf_pid) processes a test
# started, and free TCP ports below the ephemeral range (32768-), where a test's listener
# cannot collide with a connection's own port.  A test that must undo more at exit defines
# tap_cleanup_more before its first failure can happen.
# shellcheck shell=bash

work=$(mktemp -d)
tgt_pid='' perf_pid=''
n=0 failed=0
tap_cleanup() {
	if declare -F tap_cleanup_more >/dev/null; then tap_cleanup_more; fi
	[ -z "$perf_pid" ] || { kill "$perf_pid" 2>/dev/null; wait "$perf_pid" 2>/dev/null; }
	[ -z "$tgt_pid" ] || { kill -KILL "$tgt_pid" 2>/dev/null; wait "$tgt_pid" 2>/dev/null; }
	rm -rf "$work"
}
trap tap_cleanup EXIT

# result RC NAME [DETAIL-FILE...]: one TAP line; a failure shows the files that exist
result() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		shift 2
		for f in "$@"; do [ -f "$f" ] && sed 's/^/# /' "$f"; done
		failed=$((failed + 1))
	fi
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# free_port [LOW [SPAN]]: a TCP port in [LOW, LOW + SPAN) nothing listens on (default
# 20000-31999); prints nothing when 50 tries found none
free_port() {
	local low=${1:-20000} span=${2:-12000} p
	for _ in $(seq 50); do
		p=$((low + RANDOM % span))
		if port_free "$p"; then echo "$p"; return; fi
	done
}
