#!/usr/bin/env bash
# Guest side of test-auth.sh: DH-HMAC-CHAP in both directions against Linux.
#   A. the kernel host (nvme-cli --dhchap-secret / --dhchap-ctrl-secret) against nvmf-target
#      configured by an nvmetcli config.json (hosts[].dhchap), the keys, hash and DH group
#      changed by SIGHUP between cases: every hash, the null group and three FFDHE groups,
#      unidirectional and bidirectional, two I/O queues (each authenticates); wrong host
#      key, wrong controller key and no key refused; fio verify on the namespace
#   B. libnvmf (`nvmf write/read -S/-C`) against the kernel's nvmet, keys in configfs: the
#      same matrix and refusals, and fio verify on the ublk device of `nvmf connect -S -C`
#   C. keys made by nvme-cli's gen-dhchap-key pass `nvmf check-dhchap-key` and the other way
#      round
# Secrets must never reach a log: the target's and the tools' output is searched for them.
# Runs inside vm-run as root; exit 0 = pass. Environment (from test-auth.sh):
#   NVMF_TARGET  the nvmf-target binary;  NVMF_BIN  the nvmf tool
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

TGT_BIN=${NVMF_TARGET:-$top/build/src/tools/nvmf-target}
NVMF=${NVMF_BIN:-$top/build/src/tools/nvmf}
NQN=nqn.2024-01.io.nvmf-tcp:interop-auth
HOSTNQN=nqn.2014-08.org.nvmexpress:uuid:6c1f2a44-8f0e-4d2b-9a57-0c3e5b7d9f11
OTHERNQN=nqn.2014-08.org.nvmexpress:uuid:0b8e7d6c-5a49-4382-9170-fedcba987654
IMG=/tmp/auth.img
CFG=/tmp/auth-config.json
SECRETS=/tmp/auth-secrets   # every secret used, a line each: none may appear in a log
: >"$SECRETS"

[ -x "$TGT_BIN" ] || die "no nvmf-target at $TGT_BIN"
[ -x "$NVMF" ] || die "no nvmf tool at $NVMF"
cd /tmp

TGT_PID='' TGT_LOG=/tmp/auth-target.log
tdie() {
	if [ -f "$TGT_LOG" ]; then
		echo "    --- last lines of $TGT_LOG ---" >&2
		tail -n 30 "$TGT_LOG" | sed 's/^/    | /' >&2
	fi
	dmesg | tail -n 15 | sed 's/^/    dmesg | /' >&2
	die "$@"
}
cleanup() {
	local rc=$?
	trap - EXIT
	nvme disconnect -n "$NQN" >/dev/null 2>&1 || true
	if [ -n "$TGT_PID" ]; then
		kill -KILL "$TGT_PID" 2>/dev/null || true
		wait "$TGT_PID" 2>/dev/null || true
	fi
	knvmet_teardown >/dev/null 2>&1 || true
	exit "$rc"
}
trap cleanup EXIT

# new_key HMAC [NQN]: a DHHC-1 secret from our own generator (nvme-cli's flags); noted in
# $SECRETS (a file: new_key runs in command substitutions).
new_key() {
	local k
	k=$("$NVMF" gen-dhchap-key -m "$1" -n "${2:-$HOSTNQN}") || tdie "nvmf gen-dhchap-key -m $1 failed"
	echo "$k" >>"$SECRETS"
	echo "$k"
}

# ============================================================================================
step "C. key forms: nvme-cli $(nvme version | head -n1) and nvmf agree"
for m in 0 1 2 3; do
	k=$(nvme gen-dhchap-key -m "$m" -n "$HOSTNQN") || tdie "nvme gen-dhchap-key -m $m failed"
	echo "$k" >>"$SECRETS"
	out=$("$NVMF" check-dhchap-key -k "$k") || tdie "nvmf check-dhchap-key refused nvme-cli's $m key"
	grep -q '^Key is valid' <<<"$out" || tdie "nvmf check-dhchap-key said: $out"
	k=$(new_key "$m")
	out=$(nvme check-dhchap-key -k "$k" 2>&1) || tdie "nvme check-dhchap-key refused our -m $m key: $out"
done
bad=${k:0:20}$([ "${k:20:1}" = A ] && echo B || echo A)${k:21}
! "$NVMF" check-dhchap-key -k "$bad" >/dev/null 2>&1 || tdie "nvmf check-dhchap-key took a key with a bad CRC"
step "    nvme-cli's keys valid for nvmf, ours for nvme-cli, a changed character refused"

# ============================================================================================
step "A. Linux host (nvme-tcp, nvme-cli) -> nvmf-target with hosts[].dhchap in config.json"
modprobe nvme-tcp
truncate -s 64M "$IMG"
# write_cfg KEY CTRL_KEY HASH DHGROUP: the target's configuration for the next case.
write_cfg() {
	local tmp=$CFG.new
	cat >"$tmp" <<EOF
{
  "hosts": [
    {"nqn": "$HOSTNQN",
     "dhchap": {"key": "$1", "ctrl_key": "$2", "hash": "$3", "dhgroup": "$4"}},
    {"nqn": "$OTHERNQN"}
  ],
  "ports": [
    {"addr": {"adrfam": "ipv4", "traddr": "127.0.0.1", "treq": "not specified",
              "trsvcid": "4420", "trtype": "tcp"},
     "portid": 1, "referrals": [], "subsystems": ["$NQN"]}
  ],
  "subsystems": [
    {"allowed_hosts": ["$HOSTNQN", "$OTHERNQN"],
     "attr": {"allow_any_host": "0"},
     "namespaces": [{"enable": 1, "nsid": 1, "device": {"path": "$IMG"}}],
     "nqn": "$NQN"}
  ]
}
EOF
	chmod 600 "$tmp"
	mv "$tmp" "$CFG"
}

# reload: SIGHUP, and wait for the target to say it took the new configuration.
reload() {
	local n
	n=$(grep -c 'configuration reloaded' "$TGT_LOG" || true)
	kill -HUP "$TGT_PID"
	wait_for 10 test "$(grep -c 'configuration reloaded' "$TGT_LOG")" -gt "$n" ||
		tdie "no 'configuration reloaded' after SIGHUP"
}

# kconnect ARGS...: nvme connect as HOSTNQN; 0 when a namespace device appeared.  A 30 s
# keep-alive timeout rather than the host's 5 s: under TCG on a loaded machine the host spent
# over 5 s computing an ffdhe4096 exchange between two commands of the admin queue's
# authentication, and the target (as nvmet would) ended the association at KATO.
kconnect() {
	nvme connect -t tcp -a 127.0.0.1 -s 4420 -n "$NQN" -q "$HOSTNQN" --keep-alive-tmo=30 "$@" >/tmp/kc.out 2>&1 || return 1
	wait_for 10 nvme_ns_dev "$NQN" >/dev/null
}

hkey=$(new_key 1) ; ckey=$(new_key 1 "$NQN")
write_cfg "$hkey" "" "hmac(sha256)" "null"
"$TGT_BIN" --config "$CFG" >"$TGT_LOG" 2>&1 &
TGT_PID=$!
wait_for 20 tcp_listening 4420 || tdie "nvmf-target does not listen on 4420"

# k_case HASH DHGROUP BIDIR: a connect with fresh keys under this hash and group.
k_case() {
	local hash=$1 group=$2 bidir=$3 dev mark m hm
	case $hash in sha256) hm=1 ;; sha384) hm=2 ;; sha512) hm=3 ;; esac
	hkey=$(new_key "$hm")
	ckey=
	[ "$bidir" = 0 ] || ckey=$(new_key "$hm" "$NQN")
	write_cfg "$hkey" "$ckey" "hmac($hash)" "$group"
	reload
	mark=$(wc -l <"$TGT_LOG")
	m=$(dmesg | wc -l)
	kconnect -i 2 --dhchap-secret="$hkey" ${ckey:+--dhchap-ctrl-secret="$ckey"} ||
		tdie "$hash/$group/$([ "$bidir" = 1 ] && echo bi || echo uni): nvme connect failed: $(cat /tmp/kc.out)"
	dev=$(nvme_ns_dev "$NQN")
	head -c 1M /dev/urandom >/tmp/w.bin
	dd if=/tmp/w.bin of="$dev" bs=1M oflag=direct status=none
	cmp /tmp/w.bin <(dd if="$dev" bs=1M count=1 iflag=direct status=none) ||
		tdie "$hash/$group: data read back differs"
	# admin queue + 2 I/O queues, each its own exchange
	n=$(tail -n +$((mark + 1)) "$TGT_LOG" | grep -c 'authenticated' || true)
	[ "$n" -ge 3 ] || tdie "$hash/$group: the target logged $n authenticated queues, want 3"
	khost_disconnect "$NQN"
	step "    $hash $group $([ "$bidir" = 1 ] && echo bidirectional || echo unidirectional): connected (3 queues authenticated), 1 MiB written and read back"
}
for c in "sha256 null 0" "sha384 null 1" "sha512 ffdhe2048 0" "sha256 ffdhe2048 1" \
	"sha384 ffdhe3072 0" "sha512 ffdhe3072 1" "sha256 ffdhe4096 1"; do
	# shellcheck disable=SC2086
	k_case $c
done

# the last configuration (sha256, ffdhe4096, bidirectional) stays: refusals against it
wrong=$(new_key 1)
! kconnect --dhchap-secret="$wrong" || tdie "a wrong host key connected"
step "    wrong host key: refused ($(grep -Eo 'error.*|failed.*' /tmp/kc.out | head -n1))"
wrongc=$(new_key 1 "$NQN")
! kconnect --dhchap-secret="$hkey" --dhchap-ctrl-secret="$wrongc" || tdie "a wrong controller key connected"
step "    wrong controller key: refused by the host ($(grep -Eo 'error.*|failed.*' /tmp/kc.out | head -n1))"
! kconnect || tdie "a host without a key connected"
step "    no key: refused"
nvme_gone "$NQN" || tdie "a refused connect left a controller"
grep -q 'authentication failed\|failed authentication\|not authenticated' "$TGT_LOG" ||
	tdie "the target did not log the failed authentication"

# a host configured without a key is not asked to authenticate
nvme connect -t tcp -a 127.0.0.1 -s 4420 -n "$NQN" -q "$OTHERNQN" >/tmp/kc.out 2>&1 ||
	tdie "host $OTHERNQN (no key configured) did not connect: $(cat /tmp/kc.out)"
wait_for 10 nvme_ns_dev "$NQN" >/dev/null || tdie "no namespace for $OTHERNQN"
khost_disconnect "$NQN"
step "    a host with no key configured connects without authentication"

kconnect -i 2 --dhchap-secret="$hkey" --dhchap-ctrl-secret="$ckey" || tdie "reconnect for fio failed"
dev=$(nvme_ns_dev "$NQN")
out=$(fio --name=auth --filename="$dev" --direct=1 --ioengine=libaio --rw=randwrite --bs=4k \
	--iodepth=16 --size=16M --verify=crc32c --verify_fatal=1 --do_verify=1 \
	--verify_state_save=0 --output-format=terse 2>&1) || tdie "fio on the authenticated namespace: $out"
khost_disconnect "$NQN"
step "    fio 4k randwrite + crc32c verify on the authenticated namespace: clean"
kill -TERM "$TGT_PID"
wait "$TGT_PID" || tdie "nvmf-target exited $? after SIGTERM"
TGT_PID=''

# ============================================================================================
step "B. libnvmf (nvmf -S / -C) -> the kernel's nvmet, keys in configfs"
brd_setup 64
knvmet_setup "$NQN" /dev/ram0
H=$NVMET/hosts/$HOSTNQN
mkdir "$H"
echo 0 >"$NVMET/subsystems/$NQN/attr_allow_any_host"
ln -s "$H" "$NVMET/subsystems/$NQN/allowed_hosts/$HOSTNQN"
FAB=(-t tcp -a 127.0.0.1 -s 4420 -n "$NQN" -q "$HOSTNQN")

# nrw ARGS...: 1 MiB through nvmf write + read with ARGS; 0 when both succeeded and agree.
nrw() {
	head -c 1M /dev/urandom >/tmp/w.bin
	rm -f /tmp/r.bin
	"$NVMF" write "${FAB[@]}" --start-block 0 -d /tmp/w.bin "$@" >/tmp/nv.out 2>&1 || return 1
	"$NVMF" read "${FAB[@]}" --start-block 0 -z 1048576 -d /tmp/r.bin "$@" >>/tmp/nv.out 2>&1 || return 1
	cmp -s /tmp/w.bin /tmp/r.bin
}

n_case() {
	local hash=$1 group=$2 bidir=$3 hm
	case $hash in sha256) hm=1 ;; sha384) hm=2 ;; sha512) hm=3 ;; esac
	hkey=$(new_key "$hm")
	ckey=
	[ "$bidir" = 0 ] || ckey=$(new_key "$hm" "$NQN")
	echo -n "$hkey" >"$H/dhchap_key"
	echo -n "$ckey" >"$H/dhchap_ctrl_key"
	echo "hmac($hash)" >"$H/dhchap_hash"
	echo "$group" >"$H/dhchap_dhgroup"
	nrw -S "$hkey" ${ckey:+-C "$ckey"} ||
		tdie "nvmf $hash/$group/$bidir: $(cat /tmp/nv.out)"
	step "    $hash $group $([ "$bidir" = 1 ] && echo bidirectional || echo unidirectional): nvmf write + read 1 MiB agree"
}
for c in "sha256 null 0" "sha384 null 1" "sha512 ffdhe2048 0" "sha256 ffdhe2048 1" \
	"sha384 ffdhe3072 0" "sha512 ffdhe3072 1" "sha256 ffdhe4096 1"; do
	# shellcheck disable=SC2086
	n_case $c
done
! nrw -S "$(new_key 1)" || tdie "nvmf with a wrong host key succeeded"
step "    wrong host key: refused ($(grep -m1 -i 'auth' /tmp/nv.out))"
! nrw -S "$hkey" -C "$(new_key 1 "$NQN")" || tdie "nvmf with a wrong controller key succeeded"
step "    wrong controller key: refused ($(grep -m1 -i 'auth' /tmp/nv.out))"
! nrw || tdie "nvmf without a key succeeded against a host that must authenticate"
step "    no key: refused ($(grep -m1 -i 'auth\|key' /tmp/nv.out))"
modprobe ublk_drv
# to a file: the daemon that connect leaves behind must not hold a pipe of ours
"$NVMF" connect "${FAB[@]}" -S "$hkey" -C "$ckey" >/tmp/nc.out 2>&1 </dev/null ||
	tdie "nvmf connect -S -C: $(cat /tmp/nc.out)"
out=$(cat /tmp/nc.out)
dev=$(grep -Eo '/dev/ublkb[0-9]+' <<<"$out" | head -n1)
[ -n "$dev" ] && wait_for 10 test -b "$dev" || tdie "nvmf connect printed no block device: $out"
out=$(fio --name=auth --filename="$dev" --direct=1 --ioengine=libaio --rw=randwrite --bs=4k \
	--iodepth=16 --size=16M --verify=crc32c --verify_fatal=1 --do_verify=1 \
	--verify_state_save=0 --output-format=terse 2>&1) || tdie "fio on $dev: $out"
"$NVMF" disconnect -n "$NQN" >/dev/null || tdie "nvmf disconnect failed"
wait_for 10 test ! -e "$dev" || tdie "$dev still there after nvmf disconnect"
modprobe -r ublk_drv || true
step "    nvmf connect -S -C: $dev, fio 4k randwrite + crc32c verify clean, disconnected"

# ============================================================================================
while read -r s; do
	b64=${s:10:40}
	! grep -rqF -- "$b64" "$TGT_LOG" /tmp/nv.out /tmp/kc.out /tmp/nc.out /run/nvmf/ ||
		tdie "a secret appears in a log"
	! dmesg | grep -qF -- "$b64" || tdie "a secret appears in the kernel log"
done <"$SECRETS"
n=$(wc -l <"$SECRETS")
[ "$n" -ge 30 ] || tdie "only $n secrets noted"
step "    no secret in any log ($n checked)"
rm "$NVMET/subsystems/$NQN/allowed_hosts/$HOSTNQN"
rmdir "$H"
knvmet_teardown
step "PASS"
