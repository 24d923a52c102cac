#!/usr/bin/env bash
# Interop test: the Linux kernel host's native multipath (nvme-cli 2.3 + nvme-tcp, Debian
# 6.12) over two paths of our nvmf-target, inside the kernel test bed: one process with two
# ports (127.0.0.1 and 127.0.0.2) whose ANA states change by SIGHUP, a port removed and
# added back; then two processes exporting one file with disjoint controller ID ranges, one
# of them killed and restarted. fio verifies data the whole time: 0 I/O errors.
# The guest-side steps are in guest/ana.sh. Exit 0 = pass, 77 = skip, else fail.
# Uses build/ (release; built here only when missing).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
command -v qemu-system-x86_64 >/dev/null || { echo "skip: qemu-system-x86_64 missing" >&2; exit 77; }

export NVMF_TARGET=$top/build/src/tools/nvmf-target
if [ ! -x "$NVMF_TARGET" ]; then
	echo "test-ana: $NVMF_TARGET missing: scripts/build release" >&2
	"$top/scripts/build" release
fi

# About 3 min under TCG on a loaded 2-core machine; the timeout only catches a hung guest.
exec "$here/vm-run" --timeout 420 --cpus 2 -- "$here/guest/ana.sh"
