#!/usr/bin/env bash
# Interop test: NVMe reservations of our nvmf-target from the Linux kernel host and nvme-cli
# 2.3 (resv-register / resv-acquire incl. preempt-and-abort / resv-release incl. clear /
# resv-report --eds, get-log 0x80), two hosts being one guest connected twice with two host
# NQNs and host IDs, inside the kernel test bed. The guest-side steps are in guest/resv.sh.
# Exit 0 = pass, 77 = skip, else fail. Uses build/ (release; built here only when missing).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
command -v qemu-system-x86_64 >/dev/null || { echo "skip: qemu-system-x86_64 missing" >&2; exit 77; }

export NVMF_TARGET=$top/build/src/tools/nvmf-target
if [ ! -x "$NVMF_TARGET" ]; then
	echo "test-resv: $NVMF_TARGET missing: scripts/build release" >&2
	"$top/scripts/build" release
fi

# About 2-3 min under TCG on a loaded 2-core machine; the timeout only catches a hung guest.
exec "$here/vm-run" --timeout 420 --cpus 2 -- "$here/guest/resv.sh"
