#!/usr/bin/env bash
# Interop test: a passthrough subsystem (config.json "passthru", nvmet's) exporting the
# guest's local NVMe controller -- qemu's emulated one, on a 64 MiB image -- to the Linux
# kernel host over NVMe/TCP, both inside the kernel test bed: Identify adjusted, data written
# through the fabric found on the drive, refused admin commands. The guest-side steps are
# in guest/passthru.sh. Exit 0 = pass, 77 = skip, else fail.
# Uses build-san/ (ASan + UBSan) when it is up to date, else build/ (built when missing).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
command -v qemu-system-x86_64 >/dev/null || { echo "skip: qemu-system-x86_64 missing" >&2; exit 77; }

san=$top/build-san/src/tools/nvmf-target
if [ -x "$san" ] && command -v ninja >/dev/null &&
	[ "$(ninja -C "$top/build-san" -n src/tools/nvmf-target 2>/dev/null | grep -c '^\[')" -eq 0 ]; then
	export NVMF_TARGET=$san
else
	export NVMF_TARGET=$top/build/src/tools/nvmf-target
	if [ ! -x "$NVMF_TARGET" ]; then
		echo "test-passthru: $NVMF_TARGET missing: scripts/build release" >&2
		"$top/scripts/build" release
	fi
fi

img=$(mktemp "${TMPDIR:-/tmp}/nvmf-pt-drive.XXXXXX")
trap 'rm -f "$img"' EXIT
truncate -s 64M "$img"
# About a minute under TCG; the timeout only catches a hung guest.
"$here/vm-run" --timeout 300 --nvme "$img" -- "$here/guest/passthru.sh"
