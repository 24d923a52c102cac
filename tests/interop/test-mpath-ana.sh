#!/usr/bin/env bash
# Interop test: libnvmf multipath (nvmf perf over two paths) against the Linux kernel's
# nvmet-tcp with ANA groups set through configfs: non-optimized paths unused while an
# optimized one is there, failover when a port goes inaccessible under I/O (ANA change
# event, ANA statuses), failback when it is optimized again; nvmf connect of the second port as a path of one
# /dev/ublkbN with fio verify across the ANA changes.  Guest side:
# guest/mpath-ana.sh.  Exit 0 = pass, 77 = skip, else fail.  Uses build/ (release).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
command -v qemu-system-x86_64 >/dev/null || { echo "skip: qemu-system-x86_64 missing" >&2; exit 77; }

export NVMF_BIN=$top/build/src/tools/nvmf
if [ ! -x "$NVMF_BIN" ]; then
	echo "test-mpath-ana: $NVMF_BIN missing: scripts/build release" >&2
	"$top/scripts/build" release
fi
exec "$here/vm-run" --timeout 480 -- "$here/guest/mpath-ana.sh"
