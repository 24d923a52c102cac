#!/usr/bin/env bash
# Interop test: the connection layer's kernel TLS record path (test_ktls), which skips on a
# host kernel without the tls module, run where it exists: the test bed's Debian 6.12
# kernel. Both ends handed to kTLS (both suites, 1 MiB each way), a kTLS end against a
# user-space OpenSSL end, and a kTLS client past a server's session tickets. Here the test
# must run, not skip. Exit 0 = pass, 77 = skip, else fail.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
command -v qemu-system-x86_64 >/dev/null || { echo "skip: qemu-system-x86_64 missing" >&2; exit 77; }

# the sanitizer build when it is there (make test builds it first), else the release one
bin=$top/build-san/tests/unit/test_ktls
[ -x "$bin" ] || bin=$top/build/tests/unit/test_ktls
if [ ! -x "$bin" ]; then
	"$top/scripts/build" release
	bin=$top/build/tests/unit/test_ktls
fi
export KTLS_BIN=$bin
exec "$here/vm-run" --timeout 300 -- bash -c '
	set -euo pipefail
	modprobe tls
	grep -qw "^tls" /proc/modules || { echo "FAIL: no tls module in the guest" >&2; exit 1; }
	echo "kernel $(uname -r): tls module loaded; $KTLS_BIN" >&2
	out=$(CMOCKA_MESSAGE_OUTPUT=TAP "$KTLS_BIN" 2>&1) || { echo "$out" >&2; exit 1; }
	echo "$out" >&2
	! grep -q "SKIP" <<<"$out" || { echo "FAIL: test_ktls skipped with the tls module loaded" >&2; exit 1; }
	grep -Eq "^ok [0-9]+ " <<<"$out" || { echo "FAIL: no test case ran" >&2; exit 1; }
	! grep -q "^not ok" <<<"$out" || exit 1
	echo PASS >&2'
