#!/usr/bin/env bash
# `meson install --destdir D` puts libnvmf (the .so and its links), the public headers,
# libnvmf.pc, the tools and (when built) the fio engine in place, and a small program
# built only from `pkg-config --cflags --libs libnvmf` against the installed header links
# with the installed library and runs.  TAP output.
#
# Environment (set by meson): BUILD_ROOT, PREFIX, LIBDIR, INCLUDEDIR, BINDIR (relative to
# PREFIX or absolute, as meson's options), CC, SANITIZE (b_sanitize), FIO_ENGINE (the
# engine's file name when it is built, else empty).
set -uo pipefail

build=${BUILD_ROOT:?BUILD_ROOT: the meson build directory}
prefix=${PREFIX:?PREFIX: the meson option prefix}
libdir_opt=${LIBDIR:?LIBDIR: the meson option libdir}
incdir_opt=${INCLUDEDIR:?INCLUDEDIR: the meson option includedir}
bindir_opt=${BINDIR:?BINDIR: the meson option bindir}
read -r -a cc <<<"${CC:-cc}"
san=${SANITIZE:-none}

echo "1..4"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dest=$work/dest
under() { # an install directory option -> its path inside dest
	case $1 in /*) echo "$dest$1" ;; *) echo "$dest$prefix/$1" ;; esac
}
root=$dest$prefix
libdir=$(under "$libdir_opt")
incdir=$(under "$incdir_opt")
bindir=$(under "$bindir_opt")
fail_rest() { # FROM: the tests that cannot run any more
	for ((i = $1; i <= 4; i++)); do echo "not ok $i - # skipped: an earlier step failed"; done
	exit 1
}

# 1: install
if meson install -C "$build" --destdir "$dest" --no-rebuild >"$work/install.log" 2>&1; then
	echo "ok 1 - meson install --destdir"
else
	echo "not ok 1 - meson install --destdir"
	sed 's/^/# /' "$work/install.log"
	fail_rest 2
fi
(cd "$dest" && find . -type f -o -type l | sort | sed 's/^/# installed: /')

# 2: the files
missing=()
for f in "$libdir/libnvmf.so" "$libdir/libnvmf.so.0" "$incdir/nvmf/nvmf.h" \
	"$incdir/nvmf/nvme_types.h" "$libdir/pkgconfig/libnvmf.pc" "$bindir/nvmf" \
	"$bindir/nvmf-target" ${FIO_ENGINE:+"$libdir/$FIO_ENGINE"}; do
	[ -e "$f" ] || missing+=("${f#"$dest"}")
done
if [ ${#missing[@]} -eq 0 ]; then
	echo "ok 2 - library, headers, libnvmf.pc, nvmf, nvmf-target${FIO_ENGINE:+, fio engine} installed"
else
	echo "not ok 2 - not installed: ${missing[*]}"
fi

# 3: pkg-config, pointed at the staged prefix
export PKG_CONFIG_PATH=$libdir/pkgconfig
pc=(pkg-config --define-variable=prefix="$root")
if ! flags=$("${pc[@]}" --cflags --libs libnvmf 2>"$work/pc.log"); then
	echo "not ok 3 - pkg-config --cflags --libs libnvmf"
	sed 's/^/# /' "$work/pc.log"
	fail_rest 4
fi
version=$("${pc[@]}" --modversion libnvmf)
echo "# pkg-config: $flags (version $version)"
case " $flags " in
*" -I$incdir "*" -lnvmf "* | *" -lnvmf "*" -I$incdir "*)
	echo "ok 3 - pkg-config gives -I and -lnvmf of the installed tree" ;;
*)	echo "not ok 3 - pkg-config flags do not point into the installed tree: $flags" ;;
esac

# 4: a program built from the installed header and library alone
cat >"$work/hello.c" <<'EOF'
#include <nvmf/nvmf.h>
#include <stdio.h>

static void quiet(void *arg, int level, const char *msg)
{
	(void)arg; (void)level; (void)msg;
}

int main(void)
{
	struct nvmf_trid t;
	char nqn[256], err[128];

	/* the public types are complete: raw commands can be built */
	_Static_assert(sizeof(struct nvme_sqe) == 64, "SQE");
	_Static_assert(sizeof(struct nvme_cqe) == 16, "CQE");
	nvmf_set_log_fn(quiet, NULL);
	if (nvmf_trid_parse("trtype:tcp traddr:127.0.0.1 subnqn:nqn.x:y", &t, err, sizeof(err)))
		return printf("trid: %s\n", err), 1;
	if (nvmf_default_hostnqn(nqn, sizeof(nqn)))
		return 1;
	printf("%s %s\n", t.subnqn, nqn);
	return 0;
}
EOF
sanflags=()
[ "$san" != none ] && sanflags=(-fsanitize="$san")
# shellcheck disable=SC2086 # flags are words
if ! "${cc[@]}" -std=gnu11 -Wall -Wextra -Werror "${sanflags[@]}" "$work/hello.c" $flags \
	-o "$work/hello" >"$work/cc.log" 2>&1; then
	echo "not ok 4 - compile and link against the installed libnvmf"
	sed 's/^/# /' "$work/cc.log"
	exit 1
fi
out=$(LD_LIBRARY_PATH=$libdir "$work/hello" 2>&1)
rc=$?
lib=$(LD_LIBRARY_PATH=$libdir ldd "$work/hello" | awk '/libnvmf\.so/ { print $3 }')
echo "# hello: $out (libnvmf from ${lib#"$dest"})"
case $out in
"nqn.x:y nqn."*) ;;
*) rc=1 ;;
esac
if [ $rc -eq 0 ] && [ "$lib" = "$libdir/libnvmf.so.0" ]; then
	echo "ok 4 - a program built with pkg-config runs on the installed libnvmf"
else
	echo "not ok 4 - the program built with pkg-config (exit $rc, libnvmf from '$lib')"
	exit 1
fi
