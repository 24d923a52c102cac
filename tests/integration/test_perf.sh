#!/usr/bin/env bash
# nvmf perf's live status and --plot against nvmf-target (quick start, RAM): --status
# prints a line a second on stderr (IOPS, MiB/s, mean latency) and leaves the report on
# stdout as it was; without a terminal and without --status there is none (scripts that
# parse the output see no change); --plot draws a PNG with gnuplot, and without gnuplot
# --plot is refused before anything runs.  TAP output.
# Environment (set by meson): NVMF_TARGET, NVMF_CLI.
set -u
target=${NVMF_TARGET:?}
cli=${NVMF_CLI:?}
nqn=nqn.2024-01.io.nvmf-tcp:perf-status
echo "1..4"
# shellcheck source=tap.sh
. "$(dirname "$0")/tap.sh"
port=$(free_port)
"$target" --ram 32M --nqn "$nqn" --listen "127.0.0.1:$port" --cpus 1 >"$work/target.log" 2>&1 &
tgt_pid=$!
for _ in $(seq 100); do grep -q 'nvmf-target ready' "$work/target.log" && break; sleep 0.1; done
trid="traddr:127.0.0.1 trsvcid:$port subnqn:$nqn"
perf() { "$cli" perf -r "$trid" -q 4 -o 4096 -w randread -t 3 --no-poll "$@"; }
status_re='^\[ *[0-9]+\.[0-9]/3 s\] +[0-9]+ IOPS +[0-9.]+ MiB/s +mean +[0-9.]+ us$'

# 1: --status: a line each second on stderr; the report on stdout as before
perf --status >"$work/1.out" 2>"$work/1.err"
rc=$?
lines=$(grep -Ec "$status_re" "$work/1.err")
[ "$rc" = 0 ] && [ "$lines" -ge 3 ] && grep -q '^Total ' "$work/1.out" &&
	! grep -q 'IOPS .* MiB/s  mean' "$work/1.out"
result $? "--status: $lines status lines on stderr, report on stdout" "$work/1.out" "$work/1.err"

# 2: not a terminal, no --status: nothing but the report
perf >"$work/2.out" 2>"$work/2.err"
rc=$?
[ "$rc" = 0 ] && ! grep -Eq "$status_re" "$work/2.err" && grep -q '^Total ' "$work/2.out"
result $? "no status lines without a terminal or --status" "$work/2.out" "$work/2.err"

# 3: --plot: a PNG
perf --plot "$work/run.png" >"$work/3.out" 2>&1
rc=$?
magic=$(head -c 8 "$work/run.png" 2>/dev/null | od -An -tx1 | tr -d ' \n')
[ "$rc" = 0 ] && [ "$magic" = 89504e470d0a1a0a ] && [ "$(stat -c %s "$work/run.png")" -gt 10000 ]
result $? "--plot writes a PNG ($(stat -c %s "$work/run.png" 2>/dev/null || echo 0) bytes)" "$work/3.out"

# 4: --plot without gnuplot: refused at once, nothing run
mkdir "$work/bin"
ln -s "$cli" "$work/bin/nvmf"
PATH=$work/bin "$work/bin/nvmf" perf -r "$trid" -q 4 -o 4096 -w randread -t 3 \
	--plot "$work/no.png" >"$work/4.out" 2>&1
rc=$?
[ "$rc" != 0 ] && grep -q 'gnuplot cannot be run' "$work/4.out" && [ ! -e "$work/no.png" ] &&
	! grep -q 'Attached' "$work/4.out"
result $? "--plot without gnuplot is refused before connecting (exit $rc)" "$work/4.out"
exit $((failed > 0))
