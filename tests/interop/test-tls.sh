#!/usr/bin/env bash
# Interop test: libnvmf (`nvmf --tls`) against nvmf-target on a TLS 1.3 port inside the
# kernel test bed, whose kernel has the tls module: records in user space and in the
# kernel (kTLS) on both ends, v0 and v1 identities, a packet capture showing no cleartext,
# refusals. Guest side: guest/tls.sh. Exit 0 = pass, 77 = skip, else fail.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
command -v qemu-system-x86_64 >/dev/null || { echo "skip: qemu-system-x86_64 missing" >&2; exit 77; }

export NVMF_TARGET=$top/build/src/tools/nvmf-target NVMF_BIN=$top/build/src/tools/nvmf
if [ ! -x "$NVMF_TARGET" ] || [ ! -x "$NVMF_BIN" ]; then
	echo "test-tls: binaries missing: scripts/build release" >&2
	"$top/scripts/build" release
fi
exec "$here/vm-run" --timeout 300 -- "$here/guest/tls.sh"
