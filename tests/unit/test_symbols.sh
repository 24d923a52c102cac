#!/usr/bin/env bash
# libnvmf.so exports exactly its public API: the functions declared in include/nvmf/*.h
# (read through the preprocessor, so comments do not count), no more (no internals, no
# protocol layer), no fewer, each under the version node of src/host/libnvmf.map, which
# lists exactly them.  TAP output.
#
# Environment (set by meson): LIBNVMF (the built .so), NVMF_MAP (the version script),
# NVMF_INCLUDE (the include/ directory), CC (the compiler, for its preprocessor).
set -uo pipefail

so=${LIBNVMF:?LIBNVMF: path of libnvmf.so}
map=${NVMF_MAP:?NVMF_MAP: path of libnvmf.map}
inc=${NVMF_INCLUDE:?NVMF_INCLUDE: the public include directory}
read -r -a cc <<<"${CC:-cc}"
node=LIBNVMF_0

echo "1..4"
if ! command -v nm >/dev/null; then
	for i in 1 2 3 4; do echo "not ok $i - nm (binutils) is not installed"; done
	exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# what the headers declare: every nvmf_ name followed by '(' outside comments
for h in "$inc"/nvmf/*.h; do
	"${cc[@]}" -E -P -I"$inc" -x c "$h"
done | grep -oE '\bnvmf_[a-z0-9_]+[[:space:]]*\(' | sed -E 's/[[:space:]]*\($//' |
	sort -u >"$work/header"
# what the version script makes global
sed -n '/global:/,/local:/p' "$map" | grep -oE '^[[:space:]]*[A-Za-z_][A-Za-z0-9_]*;' |
	tr -d ' \t;' | sort -u >"$work/map"
# what the library exports (name@@NODE), the node's own absolute symbol left out
nm -D --defined-only "$so" | awk '$2 != "A" { print $3 }' | sort -u >"$work/exported"
sed 's/@.*//' "$work/exported" | sort -u >"$work/exported_names"

status=0
report() { # N DESCRIPTION FILE-OF-OFFENDERS
	if [ -s "$3" ]; then
		echo "not ok $1 - $2"
		sed 's/^/#   /' "$3"
		status=1
	else
		echo "ok $1 - $2"
	fi
}

if [ ! -s "$work/header" ] || [ ! -s "$work/exported" ]; then
	echo "# nothing found: headers $(wc -l <"$work/header"), exported $(wc -l <"$work/exported")"
	status=1
fi
comm -23 "$work/exported_names" "$work/header" >"$work/extra"
report 1 "every exported symbol is declared in include/nvmf/*.h" "$work/extra"
comm -13 "$work/exported_names" "$work/header" >"$work/missing"
report 2 "every function of include/nvmf/*.h is exported" "$work/missing"
diff "$work/map" "$work/header" | grep '^[<>]' >"$work/mapdiff"
report 3 "libnvmf.map lists exactly the public functions (< map only, > header only)" \
	"$work/mapdiff"
grep -v "@@$node\$" "$work/exported" >"$work/unversioned"
report 4 "every exported symbol has the version $node" "$work/unversioned"
exit $status
