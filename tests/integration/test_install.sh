#!/usr/bin/env bash
# `meson install --destdir D` puts libnvmf (the .so and its links), the public headers,
# libnvmf.pc, the tools and (when built) the fio engine in place, and a small program
# built only from `pkg-config --cflags --libs libnvmf` against the installed header links
# with the installed library and runs; the man pages, bash completion, the systemd unit
# (which systemd-analyze verifies) and its defaults file are installed; the completion
# completes; the installed nvmf-target serves the installed nvmf.  TAP output.
#
# Environment (set by meson): BUILD_ROOT, PREFIX, LIBDIR, INCLUDEDIR, BINDIR, MANDIR,
# DATADIR, SYSCONFDIR, UNITDIR (relative to PREFIX or absolute, as meson's options), CC,
# SANITIZE (b_sanitize), FIO_ENGINE (the engine's path under LIBDIR when it is built, else
# empty), MAN_PAGES (the pages built, e.g. "nvmf.1 nvmf-target.8": empty without scdoc).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)

build=${BUILD_ROOT:?BUILD_ROOT: the meson build directory}
prefix=${PREFIX:?PREFIX: the meson option prefix}
libdir_opt=${LIBDIR:?LIBDIR: the meson option libdir}
incdir_opt=${INCLUDEDIR:?INCLUDEDIR: the meson option includedir}
bindir_opt=${BINDIR:?BINDIR: the meson option bindir}
read -r -a cc <<<"${CC:-cc}"
san=${SANITIZE:-none}

mandir_opt=${MANDIR:?} datadir_opt=${DATADIR:?} sysconfdir_opt=${SYSCONFDIR:?}
unitdir_opt=${UNITDIR:?}
ntests=8
echo "1..$ntests"
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
mandir=$(under "$mandir_opt")
compdir=$(under "$datadir_opt")/bash-completion/completions
unitdir=$(under "$unitdir_opt")
sysconfdir=$(under "$sysconfdir_opt")
fail_rest() { # FROM: the tests that cannot run any more
	for ((i = $1; i <= ntests; i++)); do echo "not ok $i - # skipped: an earlier step failed"; done
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
	"$bindir/nvmf-target" "$bindir/nvmfctl" ${FIO_ENGINE:+"$libdir/$FIO_ENGINE"}; do
	[ -e "$f" ] || missing+=("${f#"$dest"}")
done
if [ ${#missing[@]} -eq 0 ]; then
	echo "ok 2 - library, headers, libnvmf.pc, nvmf, nvmf-target, nvmfctl${FIO_ENGINE:+, fio engine} installed"
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
	fail_rest 5
fi
failed=0

# 5: what an operator gets beside the binaries
missing=()
read -r -a pages <<<"${MAN_PAGES:-}"
for p in "${pages[@]}"; do
	[ -s "$mandir/man${p##*.}/$p" ] || missing+=("man${p##*.}/$p")
done
for f in "$compdir/nvmf" "$compdir/nvmf-target" "$compdir/nvmfctl" "$unitdir/nvmf-target.service" \
	"$sysconfdir/default/nvmf-target"; do
	[ -s "$f" ] || missing+=("${f#"$dest"}")
done
if [ ${#pages[@]} -eq 0 ]; then
	echo "not ok 5 - no man pages were built (scdoc missing? scripts/install-deps)"
	failed=1
elif [ ${#missing[@]} -eq 0 ]; then
	echo "ok 5 - man pages (${pages[*]}), bash completion, nvmf-target.service, defaults installed"
else
	echo "not ok 5 - not installed: ${missing[*]}"
	failed=1
fi

# 6: the unit: what the service needs, and systemd's own check of it
unit=$unitdir/nvmf-target.service
want=("Type=notify" "ExecReload=/bin/kill -HUP \$MAINPID" "LimitNOFILE=" "NoNewPrivileges=yes"
	"ProtectSystem=full" "PrivateTmp=yes" "--config /etc/nvmet/config.json"
	"ExecStart=$(under "$bindir_opt" | sed "s|^$dest||")/nvmf-target ")
lacking=()
for w in "${want[@]}"; do grep -qF -- "$w" "$unit" 2>/dev/null || lacking+=("$w"); done
if [ ${#lacking[@]} -ne 0 ]; then
	echo "not ok 6 - nvmf-target.service lacks: ${lacking[*]}"
	failed=1
elif ! command -v systemd-analyze >/dev/null; then
	echo "ok 6 - nvmf-target.service has what it needs # SKIP systemd-analyze verify: not installed"
else
	# verify the unit as installed, but with ExecStart at the staged binary (the real
	# path does not exist on this machine)
	mkdir -p "$work/units"
	sed "s|^ExecStart=[^ ]*|ExecStart=$bindir/nvmf-target|" "$unit" >"$work/units/nvmf-target.service"
	if systemd-analyze verify --man=no "$work/units/nvmf-target.service" >"$work/verify.log" 2>&1 &&
		! grep -q . "$work/verify.log"; then
		echo "ok 6 - nvmf-target.service: systemd-analyze verify is silent"
	else
		echo "not ok 6 - systemd-analyze verify nvmf-target.service"
		sed 's/^/# /' "$work/verify.log"
		failed=1
	fi
fi

# 7: the completion completes verbs, a verb's options and the target's options (from the
# installed binaries' --help, found on PATH as an operator's shell would)
complete_words() { # LINE: what bash completion offers at its end
	PATH=$bindir:$PATH LD_LIBRARY_PATH=$libdir bash -c '
		. /usr/share/bash-completion/bash_completion
		. "$1/nvmf"; . "$1/nvmf-target"; . "$1/nvmfctl"
		read -r -a COMP_WORDS <<<"$2"
		[ "${2: -1}" = " " ] && COMP_WORDS+=("")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1)) COMP_LINE=$2 COMP_POINT=${#2}
		func=$(complete -p "${COMP_WORDS[0]}" | sed "s/.*-F \([^ ]*\) .*/\1/")
		"$func" "${COMP_WORDS[0]}" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
		printf "%s
" "${COMPREPLY[@]}" | sort | paste -sd " "' _ "$compdir" "$1"
}
if [ ! -f /usr/share/bash-completion/bash_completion ]; then
	echo "ok 7 - bash completion # SKIP the bash-completion package is not installed"
else
	c1=$(complete_words "nvmf co")
	c2=$(complete_words "nvmf read --start")
	c3=$(complete_words "nvmf-target --tls-r")
	c4=$(complete_words "nvmf-target --tls-record ")
	c5=$(complete_words "nvmfctl subsystem add x --allow")
	echo "# nvmf co: $c1 | nvmf read --start: $c2 | nvmf-target --tls-r: $c3 | --tls-record: $c4" \
		"| nvmfctl subsystem add x --allow: $c5"
	if [ "$c1" = "connect connect-all" ] && [ "$c2" = "--start-block=" ] &&
		[ "$c3" = "--tls-record" ] && [ "$c4" = "auto kernel user" ] &&
		[ "$c5" = "--allow-any-host" ]; then
		echo "ok 7 - bash completion: nvmf verbs and options, nvmf-target options and values, nvmfctl actions' options"
	else
		echo "not ok 7 - bash completion"
		failed=1
	fi
fi

# 8: the installed target serves the installed host tool
if "$here/installed_io.sh" "$bindir/nvmf-target" "$bindir/nvmf" "$libdir" "$work/io" \
	>"$work/io.log" 2>&1; then
	sed 's/^/# /' "$work/io.log"
	echo "ok 8 - installed nvmf-target and nvmf: discover, id-ctrl, write, read back, stop"
else
	sed 's/^/# /' "$work/io.log"
	echo "not ok 8 - installed nvmf-target and nvmf"
	failed=1
fi
exit $failed
