#!/usr/bin/env bash
# Reference benchmark of the Linux kernel's own NVMe/TCP pair: nvmet-tcp target (brd, 256 MiB,
# prefilled) and nvme-tcp host over 127.0.0.1, inside the kernel test bed (tests/interop/vm-run).
# fio jobs: 4k randread QD1 and QD32, 4k randwrite QD32, 128k seqread QD16, a few seconds each;
# prints IOPS, bandwidth and total latency (mean, p50/p99/p99.9).
#
# NOTE: the guest runs under TCG (software CPU emulation) on machines whose KVM is unusable,
# as on the project's machines: the figures then describe behaviour (relative shape across
# queue depths and block sizes, no errors) and are NOT a measure of speed. Compare ours
# against these only within the same run on the same accelerator.
#
# Usage: bench/kernel-reference.sh [--runtime SECONDS] [--digest] [--json FILE]
#   --runtime S   seconds per fio job (default 8)
#   --digest      connect with header and data digests (nvme connect -g -G)
#   --json FILE   also write the figures as JSON to FILE
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)

runtime=8 connect='' json=''
while [ $# -gt 0 ]; do
	case $1 in
	--runtime) runtime=${2:?}; shift 2 ;;
	--digest) connect="-g -G"; shift ;;
	--json) json=${2:?}; shift 2 ;;
	-h | --help) sed -n '2,/^set -euo/{/^#/s/^# \{0,1\}//p}' "$0"; exit 0 ;;
	*) echo "kernel-reference: unknown option $1" >&2; exit 2 ;;
	esac
done
[[ $runtime =~ ^[0-9]+$ ]] || { echo "kernel-reference: --runtime wants seconds" >&2; exit 2; }

out=$(mktemp)
trap 'rm -f "$out"' EXIT
# 4 jobs x (runtime + ramp + fio start) + boot and setup, with a wide margin for TCG.
KBENCH_RUNTIME=$runtime KBENCH_CONNECT=$connect \
	"$top/tests/interop/vm-run" --timeout $((4 * (runtime + 30) + 120)) -- \
	"$top/tests/interop/guest/kernel-bench.sh" >"$out"
grep -v '^RESULT-JSON ' "$out"
if [ -n "$json" ]; then
	sed -n 's/^RESULT-JSON //p' "$out" >"$json"
fi
