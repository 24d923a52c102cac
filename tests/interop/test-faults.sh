#!/usr/bin/env bash
# Interop test: the Linux kernel host (nvme-tcp) against our nvmf-target over a veth link
# with tc netem faults inside the kernel test bed (the guest kernel has sch_netem): 1 %
# loss, 50 ms delay with jitter, reordering, duplication under fio verify; the link down
# 5 s and the target stopped 5 s with KATO 2 s (the kernel reconnects, no I/O error); an
# outage past ctrl_loss_tmo (the kernel gives up, fio gets an I/O error, no verify error).
# Throughput under each fault and the time to resume are printed.  Guest side:
# guest/faults.sh.  Exit 0 = pass, 77 = skip, else fail.  Uses build/ (release).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
command -v qemu-system-x86_64 >/dev/null || { echo "skip: qemu-system-x86_64 missing" >&2; exit 77; }

export NVMF_TARGET=$top/build/src/tools/nvmf-target
if [ ! -x "$NVMF_TARGET" ]; then
	echo "test-faults: $NVMF_TARGET missing: scripts/build release" >&2
	"$top/scripts/build" release
fi
# About 2 min under TCG on an idle machine; the timeout only catches a hung guest.
exec "$here/vm-run" --timeout 420 -- "$here/guest/faults.sh"
