#!/usr/bin/env bash
# nvmf-target's privileges: --user drops root once the ports are bound (a port below 1024
# here) and the namespaces open (a file only root may read), I/O then works as that user, a
# reload reads as that user (a root-only config is refused, the target keeps serving);
# a bad --user is refused; the descriptor limit is raised and reported; a config.json
# with DH-HMAC-CHAP keys that others may read is refused.  TAP output.
# Environment (set by meson): NVMF_TARGET, NVMF_CLI.  Needs root (else every test skips).
set -u
target=${NVMF_TARGET:?}
cli=${NVMF_CLI:?}
nqn=nqn.2024-01.io.nvmf-tcp:privileges
echo "1..5"
if [ "$(id -u)" -ne 0 ] || ! getent passwd nobody >/dev/null; then
	for i in 1 2 3 4 5; do echo "ok $i # SKIP needs root and a user nobody"; done
	exit 0
fi
# shellcheck source=tap.sh
. "$(dirname "$0")/tap.sh"
low=$(free_port 600 400)
nobody_uid=$(id -u nobody)

# 1: a root-only file and a port below 1024, then nobody serves them
umask 077
truncate -s 16M "$work/ns.img"
cat >"$work/config.json" <<EOF
{"hosts": [],
 "ports": [{"portid": 1, "addr": {"trtype": "tcp", "adrfam": "ipv4", "traddr": "127.0.0.1",
                                  "trsvcid": "$low"}, "subsystems": ["$nqn"]}],
 "subsystems": [{"nqn": "$nqn", "attr": {"allow_any_host": "1"},
                 "namespaces": [{"nsid": 1, "enable": 1, "device": {"path": "$work/ns.img"}}]}]}
EOF
umask 022
chmod 711 "$work"   # nobody may pass, not list or read
"$target" --config "$work/config.json" --user nobody --cpus 1 >"$work/target.log" 2>&1 &
tgt_pid=$!
for _ in $(seq 100); do grep -q 'nvmf-target ready' "$work/target.log" && break; sleep 0.1; done
head -c 1M /dev/urandom >"$work/pattern"
ok=1
uid=$(awk '$1 == "Uid:" { print $2 $3 $4 $5 }' "/proc/$tgt_pid/status" 2>/dev/null)
if [ "$uid" = "$nobody_uid$nobody_uid$nobody_uid$nobody_uid" ] &&
	grep -q "running as user nobody" "$work/target.log" &&
	"$cli" write -t tcp -a 127.0.0.1 -s "$low" -n "$nqn" --start-block 0 -d "$work/pattern" \
		>"$work/io.out" 2>&1 &&
	"$cli" read -t tcp -a 127.0.0.1 -s "$low" -n "$nqn" --start-block 0 -z 1048576 \
		-d "$work/back" >>"$work/io.out" 2>&1 &&
	cmp -s "$work/pattern" "$work/back"; then
	ok=0
fi
# (the target writes target.log: details go to a file of their own)
{ cat "$work/target.log" "$work/io.out"; echo "uids: $uid"; } >"$work/detail1"
result $ok "--user nobody: port $low bound and a root-only file opened first, then I/O as uid $nobody_uid" "$work/detail1"

# 2: a reload reads as nobody: the root-only config is refused, the target keeps serving
mark=$(wc -l <"$work/target.log")
kill -HUP "$tgt_pid"
for _ in $(seq 100); do tail -n +$((mark + 1)) "$work/target.log" | grep -q 'reload failed' && break; sleep 0.1; done
ok=1
if tail -n +$((mark + 1)) "$work/target.log" | grep -q "reload failed.*cannot open: Permission denied" &&
	"$cli" read -t tcp -a 127.0.0.1 -s "$low" -n "$nqn" --start-block 0 -z 1048576 \
		-d "$work/back2" >"$work/io2.out" 2>&1 && cmp -s "$work/pattern" "$work/back2"; then
	ok=0
fi
kill -TERM "$tgt_pid"
wait "$tgt_pid"
rc=$?
tgt_pid=''
[ "$rc" -eq 0 ] || ok=1
cat "$work/target.log" "$work/io2.out" >"$work/detail2" 2>/dev/null
result $ok "SIGHUP as nobody: the root-only config refused by name, still serving, exit 0" "$work/detail2"

# 3: --user of nobody that exists: refused before anything starts
out=$("$target" --ram 1M --listen "127.0.0.1:$low" --user no-such-user-nvmf 2>&1)
rc=$?
echo "$out" >"$work/out3"
[ "$rc" -eq 2 ] && grep -q "no-such-user-nvmf: no such user" <<<"$out"
result $? "--user of an unknown user: exit 2 with the reason" "$work/out3"

# 4: the descriptor limit, raised to the hard one, is reported
grep -q "descriptor limit $(ulimit -Hn)" "$work/target.log"
result $? "descriptor limit raised to the hard limit ($(ulimit -Hn)) and reported" "$work/target.log"

# 5: DH-HMAC-CHAP keys in a config others may read: refused, file and mode named
key='DHHC-1:01:puXG3qInMdULgdGhnsZJsOercrRFVOzeNcmEFZ1/gnm33bmE:'
cat >"$work/auth.json" <<EOF
{"hosts": [{"nqn": "nqn.2014-08.org.nvmexpress:uuid:5b3a9c1e-7d2f-4a68-b0c4-8e1f2d3c4b5a",
            "dhchap": {"key": "$key"}}],
 "ports": [], "subsystems": []}
EOF
chmod 644 "$work/auth.json"
out=$("$target" --config "$work/auth.json" 2>&1)
rc=$?
echo "$out" >"$work/out5"
[ "$rc" -ne 0 ] && grep -qF "$work/auth.json: holds 1 DH-HMAC-CHAP key(s) and group or others may access it (mode 0644)" <<<"$out" &&
	! grep -qF "${key:10:20}" <<<"$out"
result $? "config.json with a key, mode 0644: refused naming file and mode, no key shown" "$work/out5"
[ "$failed" -eq 0 ]
