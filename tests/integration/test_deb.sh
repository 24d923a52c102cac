#!/usr/bin/env bash
# The Debian packages: `dpkg-buildpackage -b -us -uc` on a copy of the tree makes
# nvmf-target, nvmf-host, libnvmf0, libnvmf-dev (and nvmf-fio with the fio source,
# profile pkg.nvmf-tcp.fio); lintian finds no error in them; unpacked with dpkg -x into a
# clean directory (the system's dpkg database is not touched) they hold what they should,
# and the unpacked nvmf-target serves the unpacked nvmf on the unpacked libnvmf.  TAP.
#
# Environment (set by meson): SOURCE_ROOT, FIO_SRC (the configured fio tree, or empty).
# NVMF_SKIP_DEB=1 skips it (a package build takes a minute of CPU).  Needs dpkg-dev and
# debhelper (scripts/deps/package.txt), else it skips.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=${SOURCE_ROOT:?}
fio_src=${FIO_SRC:-}
ntests=5
echo "1..$ntests"
skip_all() {
	for ((i = 1; i <= ntests; i++)); do echo "ok $i # SKIP $1"; done
	exit 0
}
[ "${NVMF_SKIP_DEB:-0}" = 1 ] && skip_all "NVMF_SKIP_DEB=1"
command -v dpkg-buildpackage >/dev/null && command -v dh >/dev/null ||
	skip_all "dpkg-buildpackage or debhelper missing (scripts/install-deps)"
(cd "$src" && dpkg-checkbuilddeps -Pnocheck) >/dev/null 2>&1 ||
	skip_all "build dependencies missing: $(cd "$src" && dpkg-checkbuilddeps -Pnocheck 2>&1 | tr '\n' ' ')"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=0
fail_rest() { # FROM
	for ((i = $1; i <= ntests; i++)); do echo "not ok $i - # skipped: an earlier step failed"; done
	exit 1
}

# 1: build the packages from a copy of the tree (dpkg-buildpackage writes into the
# parent directory; the tree's own build directories stay out of it)
mkdir "$work/src"
if [ -d "$src/.git" ] || [ -f "$src/.git" ]; then
	(cd "$src" && git ls-files -co --exclude-standard -z) |
		(cd "$src" && tar --null -T - -cf -) | tar -C "$work/src" -xf -
else
	tar -C "$src" --exclude='./build*' --exclude='./obj-*' -cf - . | tar -C "$work/src" -xf -
fi
profiles=nocheck
fio_env=()
if [ -n "$fio_src" ]; then
	profiles=nocheck,pkg.nvmf-tcp.fio
	fio_env=(NVMF_FIO_SRC="$fio_src")
fi
start=$(date +%s)
# the test's sanitizer and malloc settings are not the package build's
if (cd "$work/src" && env -u MALLOC_PERTURB_ -u ASAN_OPTIONS -u UBSAN_OPTIONS -u MSAN_OPTIONS \
	"${fio_env[@]}" DEB_BUILD_OPTIONS="nocheck parallel=2" \
	dpkg-buildpackage -b -us -uc -P"$profiles") >"$work/build.log" 2>&1; then
	debs=$(cd "$work" && ls ./*.deb | grep -v dbgsym | sed 's|^\./||' | paste -sd ' ')
	echo "# built in $(($(date +%s) - start)) s: $debs"
	echo "ok 1 - dpkg-buildpackage -b -us -uc (profiles $profiles)"
else
	echo "not ok 1 - dpkg-buildpackage -b -us -uc (profiles $profiles)"
	tail -40 "$work/build.log" | sed 's/^/# /'
	fail_rest 2
fi

# 2: the package set, and what the packaging tools made of the unit and the library
want=(nvmf-target nvmf-host libnvmf0 libnvmf-dev)
[ -n "$fio_src" ] && want+=(nvmf-fio)
missing=()
for p in "${want[@]}"; do
	ls "$work/${p}_"*.deb >/dev/null 2>&1 || missing+=("$p")
done
deb() { ls "$work/${1}_"*.deb 2>/dev/null | head -1; }
checks=()
# (each output is read whole: grep -q on a pipe would cut dpkg-deb off, and pipefail
# would call that a failure)
info=$(dpkg-deb -I "$(deb nvmf-host)")
grep -q '^ Depends:.*libnvmf0 (>= ' <<<"$info" || checks+=("nvmf-host does not depend on libnvmf0")
info=$(dpkg-deb -I "$(deb nvmf-target)" postinst 2>&1)
grep -q 'deb-systemd-helper' <<<"$info" ||
	checks+=("nvmf-target's postinst does not enable the unit (dh_installsystemd)")
info=$(dpkg-deb -I "$(deb libnvmf0)" symbols 2>&1)
grep -q 'LIBNVMF_0' <<<"$info" || checks+=("libnvmf0 has no symbols file")
if [ -n "$fio_src" ]; then
	info=$(dpkg-deb -I "$(deb nvmf-fio)")
	grep -q "^ Depends:.*fio (= $(dpkg-query -W -f='${Version}' fio))" <<<"$info" ||
		checks+=("nvmf-fio does not depend on the fio it was built against")
fi
if [ ${#missing[@]} -eq 0 ] && [ ${#checks[@]} -eq 0 ]; then
	echo "ok 2 - packages ${want[*]}: unit enabled by postinst, symbols, dependencies"
else
	echo "not ok 2 - missing packages: ${missing[*]:-none}; ${checks[*]:-}"
	failed=1
fi

# 3: lintian (errors fail; warnings and the rest are listed)
if ! command -v lintian >/dev/null; then
	echo "ok 3 - lintian # SKIP not installed"
else
	(cd "$work" && lintian --pedantic --info ./*.changes) >"$work/lintian.log" 2>&1
	grep -v '^N:\|running with root privileges' "$work/lintian.log" | sed 's/^/# lintian: /'
	if grep -q '^E: ' "$work/lintian.log"; then
		echo "not ok 3 - lintian reports errors"
		failed=1
	else
		echo "ok 3 - lintian: no errors ($(grep -c '^W: ' "$work/lintian.log") warnings)"
	fi
fi

# 4: unpacked into a clean root
root=$work/root
mkdir "$root"
for p in "${want[@]}"; do dpkg-deb -x "$(deb "$p")" "$root" || failed=1; done
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
libdir=$root/usr/lib/$multiarch
missing=()
for f in usr/bin/nvmf-target usr/bin/nvmf usr/bin/nvmfctl lib/systemd/system/nvmf-target.service \
	etc/default/nvmf-target usr/share/man/man8/nvmf-target.8.gz usr/share/man/man1/nvmf.1.gz \
	usr/share/man/man8/nvmfctl.8.gz usr/share/bash-completion/completions/nvmfctl \
	usr/share/man/man5/nvmf-target-config.5.gz usr/share/man/man5/nvmf-target-tls-keys.5.gz \
	usr/share/bash-completion/completions/nvmf usr/share/bash-completion/completions/nvmf-target \
	"usr/lib/$multiarch/libnvmf.so.0" "usr/lib/$multiarch/libnvmf.so" \
	"usr/lib/$multiarch/pkgconfig/libnvmf.pc" usr/include/nvmf/nvmf.h \
	${fio_src:+"usr/lib/$multiarch/nvmf-tcp/libnvmf-fio.so"}; do
	[ -e "$root/$f" ] || missing+=("$f")
done
grep -q '^ExecStart=/usr/bin/nvmf-target --config /etc/nvmet/config.json' \
	"$root/lib/systemd/system/nvmf-target.service" 2>/dev/null || missing+=("the unit's ExecStart")
if [ ${#missing[@]} -eq 0 ]; then
	echo "ok 4 - dpkg -x into a clean root: programs, library, headers, unit, man pages, completion"
else
	echo "not ok 4 - not in the packages: ${missing[*]}"
	failed=1
fi

# 5: the packaged target serves the packaged host tool
if "$here/installed_io.sh" "$root/usr/bin/nvmf-target" "$root/usr/bin/nvmf" "$libdir" \
	"$work/io" >"$work/io.log" 2>&1; then
	sed 's/^/# /' "$work/io.log"
	echo "ok 5 - packaged nvmf-target and nvmf: discover, id-ctrl, write, read back, stop"
else
	sed 's/^/# /' "$work/io.log"
	echo "not ok 5 - packaged nvmf-target and nvmf"
	failed=1
fi
exit $failed
