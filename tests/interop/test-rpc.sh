#!/usr/bin/env bash
# Interop test: the Linux kernel host (nvme-cli + nvme-tcp) uses a subsystem built on our
# nvmf-target over SPDK's JSON-RPC (as scripts/rpc.py builds one on SPDK's nvmf_tgt), changed
# and taken apart live, then restored from save_config with -c; both inside the kernel test
# bed. The guest-side steps are in guest/rpc.sh. Exit 0 = pass, 77 = skip, else fail.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
command -v qemu-system-x86_64 >/dev/null || { echo "skip: qemu-system-x86_64 missing" >&2; exit 77; }

export NVMF_TARGET=$top/build/src/tools/nvmf-target NVMFCTL=$top/build/src/tools/nvmfctl
if [ ! -x "$NVMF_TARGET" ] || [ ! -x "$NVMFCTL" ]; then
	echo "test-rpc: $NVMF_TARGET missing: scripts/build release" >&2
	"$top/scripts/build" release
fi
# About 1-2 min under TCG; the timeout only catches a hung guest.
exec "$here/vm-run" --timeout 420 --cpus 2 -- "$here/guest/rpc.sh"
