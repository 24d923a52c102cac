#!/usr/bin/env bash
# Interop test: proves the kernel test bed with the Linux kernel's own NVMe/TCP target
# (nvmet-tcp on brd, configured through configfs) and host (nvme-cli + nvme-tcp): discover,
# connect, fio write+verify, reconnect with header+data digests, disconnect, teardown.
# The guest-side steps are in guest/kernel-target.sh. Exit 0 = pass, 77 = skip, else fail.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# Without qemu there is no test bed at all (scripts/install-deps brings it).
command -v qemu-system-x86_64 >/dev/null || { echo "skip: qemu-system-x86_64 missing" >&2; exit 77; }
# Typically ~1 min under TCG; the timeout only catches a hung guest.
exec "$here/vm-run" --timeout 300 -- "$here/guest/kernel-target.sh"
