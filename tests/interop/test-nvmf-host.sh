#!/usr/bin/env bash
# Interop test: our user-space host (the `nvmf` tool: libnvmf, and ublk block devices)
# against the Linux kernel's nvmet-tcp target (brd RAM disk, configfs, port 4420, any host),
# both inside the kernel test bed: discover (normal and JSON), id-ctrl / id-ns, write + read
# back (plain and with digests), perf (randread, randwrite --verify, digests), connect as
# /dev/ublkbN with fio write + verify and a clean disconnect, and a reconnect across a port
# outage under I/O (NVMF_HOST_RECONNECT=0 skips that step).
# The guest-side steps are in guest/nvmf-host.sh. Exit 0 = pass, 77 = skip, else fail.
# Uses build/ (release; built here only when the nvmf tool is missing).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
command -v qemu-system-x86_64 >/dev/null || { echo "skip: qemu-system-x86_64 missing" >&2; exit 77; }

export NVMF_BIN=$top/build/src/tools/nvmf
if [ ! -x "$NVMF_BIN" ]; then
	echo "test-nvmf-host: $NVMF_BIN missing: scripts/build release" >&2
	"$top/scripts/build" release
fi
export NVMF_HOST_RECONNECT=${NVMF_HOST_RECONNECT:-1}

# About 2 min under TCG on an idle machine; the timeout only catches a hung guest.
exec "$here/vm-run" --timeout 420 -- "$here/guest/nvmf-host.sh"
