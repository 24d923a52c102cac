#!/usr/bin/env bash
# Interop test: TLS 1.3 against Linux itself, inside the kernel test bed: the kernel host
# (nvme-tcp, with tlshd making its handshakes and nvme-cli 2.13 managing its keys) against
# nvmf-target, and libnvmf (`nvmf --tls`) against the kernel's nvmet on a tls1.3 port.
# Debian 12 has neither tlshd nor an nvme-cli with --tls: they come from a Debian 13 root
# (lib/debian13.sh: debootstrap from this machine's own apt archive, cached once per
# machine), chrooted into inside the guest. Guest side: guest/tls-linux.sh.
# Exit 0 = pass, 77 = skip, else fail. Uses build/ (release; built when a binary is missing).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
command -v qemu-system-x86_64 >/dev/null || { echo "skip: qemu-system-x86_64 missing" >&2; exit 77; }

export NVMF_TARGET=$top/build/src/tools/nvmf-target NVMF_BIN=$top/build/src/tools/nvmf
if [ ! -x "$NVMF_TARGET" ] || [ ! -x "$NVMF_BIN" ]; then
	echo "test-tls-linux: binaries missing: scripts/build release" >&2
	"$top/scripts/build" release
fi
# shellcheck source=lib/testbed.sh
. "$here/lib/testbed.sh"
# shellcheck source=lib/debian13.sh
. "$here/lib/debian13.sh"
d13_ensure_root
export NVMF_DEBIAN13_ROOT=$D13_ROOT
exec "$here/vm-run" --timeout 420 -- "$here/guest/tls-linux.sh"
