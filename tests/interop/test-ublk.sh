#!/usr/bin/env bash
# Interop test: the ublk bridge (src/ublk) in the kernel test bed: a namespace of our
# nvmf-target, reached through libnvmf, as /dev/ublkbN: size and queue limits, fio write +
# verify, discard / write-zeroes / flush / FUA, ext4, a target restart under I/O, a
# controller given up, and clean removals. The guest-side steps are in guest/ublk.sh.
# Exit 0 = pass, 77 = skip, else fail. Uses build/ (release; rebuilt here when out of date)
# and, when it exists and is up to date, build-san/'s ublk_smoke (ASan + UBSan) for the
# reconnect and controller-loss phases.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
command -v qemu-system-x86_64 >/dev/null || { echo "skip: qemu-system-x86_64 missing" >&2; exit 77; }

# ninja_current DIR TARGET...: the targets exist in DIR and ninja has nothing to redo.
ninja_current() {
	local dir=$1; shift
	[ -f "$dir/build.ninja" ] && command -v ninja >/dev/null || return 1
	for t in "$@"; do [ -x "$dir/$t" ] || return 1; done
	[ "$(ninja -C "$dir" -n "$@" 2>/dev/null | grep -c '^\[')" -eq 0 ]
}
bins=(src/tools/nvmf-target tests/interop/ublk_smoke)
if ! ninja_current "$top/build" "${bins[@]}"; then
	echo "test-ublk: building build/ (release)" >&2
	"$top/scripts/build" release
fi
export NVMF_TARGET=$top/build/src/tools/nvmf-target
export UBLK_SMOKE=$top/build/tests/interop/ublk_smoke
UBLK_SMOKE_SAN=
if ninja_current "$top/build-san" tests/interop/ublk_smoke; then
	UBLK_SMOKE_SAN=$top/build-san/tests/interop/ublk_smoke
fi
export UBLK_SMOKE_SAN

# Typically ~1.5 min under TCG; the timeout only catches a hung guest.
exec "$here/vm-run" --timeout 400 --cpus 2 -- "$here/guest/ublk.sh"
