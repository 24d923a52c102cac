#!/usr/bin/env bash
# Interop test: the Linux kernel host (nvme-cli 2.3 + nvme-tcp) against our user-space
# nvmf-target, both inside the kernel test bed: discovery (one port, then two ports from an
# nvmetcli config.json), connect, identify, fio write+verify, discard / flush / write-zeroes,
# header + data digests with 2 I/O queues, a file namespace whose data and UUID survive a
# restart, and a clean SIGTERM stop (exit 0) of every target run.
# The guest-side steps are in guest/nvmf-target.sh. Exit 0 = pass, 77 = skip, else fail.
# Uses build/ (release; built here only when missing) and, when it exists and is up to
# date, build-san/ (ASan + UBSan) for the config-file run.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
command -v qemu-system-x86_64 >/dev/null || { echo "skip: qemu-system-x86_64 missing" >&2; exit 77; }

export NVMF_TARGET=$top/build/src/tools/nvmf-target
if [ ! -x "$NVMF_TARGET" ]; then
	echo "test-nvmf-target: $NVMF_TARGET missing: scripts/build release" >&2
	"$top/scripts/build" release
fi
# The sanitizer build only when it is current: a stale binary would test old code.
san=$top/build-san/src/tools/nvmf-target
NVMF_TARGET_SAN=
if [ -x "$san" ] && command -v ninja >/dev/null &&
	[ "$(ninja -C "$top/build-san" -n src/tools/nvmf-target 2>/dev/null | grep -c '^\[')" -eq 0 ]; then
	NVMF_TARGET_SAN=$san
fi
export NVMF_TARGET_SAN

# 4 vCPUs: a default connect then makes 4 I/O queues, so "-i 2" visibly limits them.
# About 1 min under TCG on an idle 2-core machine, 2.5 min on a loaded one; the timeout
# only catches a hung guest.
exec "$here/vm-run" --timeout 420 --cpus 4 -- "$here/guest/nvmf-target.sh"
