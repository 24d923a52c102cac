#!/usr/bin/env bash
# Interop test: DH-HMAC-CHAP both ways against Linux, inside the kernel test bed: the
# kernel host (nvme-cli 2.3) authenticating to nvmf-target configured by config.json, and
# libnvmf (`nvmf -S/-C`) authenticating to the kernel's nvmet; every hash, the null group
# and FFDHE groups, one- and two-way, wrong and missing keys refused, fio verify.
# The guest-side steps are in guest/auth.sh. Exit 0 = pass, 77 = skip, else fail.
# Uses build/ (release; built here when a binary is missing).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
command -v qemu-system-x86_64 >/dev/null || { echo "skip: qemu-system-x86_64 missing" >&2; exit 77; }

export NVMF_TARGET=$top/build/src/tools/nvmf-target NVMF_BIN=$top/build/src/tools/nvmf
if [ ! -x "$NVMF_TARGET" ] || [ ! -x "$NVMF_BIN" ]; then
	echo "test-auth: binaries missing: scripts/build release" >&2
	"$top/scripts/build" release
fi
exec "$here/vm-run" --timeout 420 -- "$here/guest/auth.sh"
