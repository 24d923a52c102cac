#!/usr/bin/env bash
# fio with the libnvmf ioengine (src/fio, libnvmf-fio.so) against a real nvmf-target on
# loopback: data written and verified (crc32c) through job files as users write them, a
# 128k sequential read, digests with commands split at MDTS in threads, trim and flush,
# discovery of the subsystem, a job paced by rate_iops and thinktime, the refusal of an NQN with unescaped colons, and a target
# that dies mid-job, and the DH-HMAC-CHAP and TLS options.  TAP output.
#
# Environment (set by meson): NVMF_TARGET, NVMF_FIO_ENGINE (empty when the engine was not
# built: then the test fails), FIO (default: fio on PATH).
set -uo pipefail

target=${NVMF_TARGET:?NVMF_TARGET: the nvmf-target binary}
engine=${NVMF_FIO_ENGINE:-}
fio=${FIO:-fio}
nqn='nqn.2014-08.org.nvmexpress:nvmf-tcp:quickstart'
nqn_esc=${nqn//:/\\:}

if [ -z "$engine" ] || [ ! -f "$engine" ]; then
	echo "1..1"
	echo "not ok 1 - the fio engine was not built: scripts/fio-src could not fetch fio's" \
		"source (see the warning of scripts/build and /var/cache/nvmf-fio-src/fetch.log)"
	exit 1
fi
if ! command -v "$fio" >/dev/null; then
	echo "1..1"
	echo "not ok 1 - $fio is not installed (scripts/install-deps)"
	exit 1
fi

work=$(mktemp -d)

# A sanitizer build's engine needs the ASan runtime first in the process: fio is not
# instrumented, so the runtimes the engine links are preloaded.  LeakSanitizer then also
# sees fio's own allocations it never frees (options, file tables): those whose caller is
# in the fio binary are suppressed.  Allocation stacks are cut to the caller for that, so
# that an engine or libnvmf leak, called from fio, is still reported.
preload=$(ldd "$engine" 2>/dev/null | awk '/lib(asan|ubsan)\.so/ { print $3 }' | paste -sd: -)
fio_env=()
if [ -n "$preload" ]; then
	echo "leak:$(readlink -f "$(command -v "$fio")")" >"$work/lsan.supp"
	fio_env=(env "LD_PRELOAD=$preload"
		"ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}malloc_context_size=2"
		"LSAN_OPTIONS=${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$work/lsan.supp")
fi
tgt_pid=''
cleanup() {
	if [ -n "$tgt_pid" ]; then
		kill "$tgt_pid" 2>/dev/null
		wait "$tgt_pid" 2>/dev/null
	fi
	rm -rf "$work"
}
trap cleanup EXIT

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
port=''
for _ in $(seq 50); do
	p=$((20000 + RANDOM % 12000))   # below the ephemeral range (32768-)
	if port_free "$p"; then port=$p; break; fi
done
[ -n "$port" ] || { echo "1..1"; echo "not ok 1 - no free port"; exit 1; }

start_target() {
	"$target" --ram 192M --listen "127.0.0.1:$port" --cpus 1 >"$work/target.log" 2>&1 &
	tgt_pid=$!
	for _ in $(seq 300); do
		grep -q 'listening on' "$work/target.log" 2>/dev/null && return 0
		kill -0 "$tgt_pid" 2>/dev/null || break
		sleep 0.1
	done
	grep -q 'listening on' "$work/target.log" && return 0
	sed 's/^/# /' "$work/target.log"
	return 1
}
if ! start_target; then
	echo "1..1"
	echo "not ok 1 - nvmf-target did not start"
	exit 1
fi

trid="trtype=tcp adrfam=ipv4 traddr=127.0.0.1 trsvcid=$port"
n=0
failed=0
echo "1..12"

# check NAME EXPECT(0|fail) GREP-PATTERN FIO-ARGS...: one fio run, one TAP line
check() {
	local name=$1 expect=$2 pattern=$3 rc
	shift 3
	n=$((n + 1))
	timeout 300 "${fio_env[@]}" "$fio" "$@" >"$work/out.$n" 2>&1
	rc=$?
	if { [ "$expect" = 0 ] && [ "$rc" -eq 0 ]; } ||
	   { [ "$expect" = fail ] && [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ]; }; then
		if [ -z "$pattern" ] || grep -qE -- "$pattern" "$work/out.$n"; then
			echo "ok $n - $name"
			return
		fi
		echo "not ok $n - $name: fio's output lacks /$pattern/"
	else
		echo "not ok $n - $name: fio exit status $rc"
	fi
	failed=$((failed + 1))
	sed 's/^/# /' "$work/out.$n"
}

# 1: the job file as users write it: the NQN's colons escaped as '\:'
cat >"$work/verify.fio" <<EOF
[global]
ioengine=external:$engine
filename=$trid subnqn=$nqn_esc ns=1

[verify]
rw=randwrite
bs=4k
size=32M
iodepth=16
verify=crc32c
do_verify=1
verify_fatal=1
EOF
check "randwrite 4k QD16 32M, verify=crc32c" 0 'err= 0' "$work/verify.fio"

# 2: what the verify job wrote, read back sequentially in 128k
check "128k sequential read QD16" 0 'READ: bw=' --name=seqread \
	--ioengine="external:$engine" --filename="$trid subnqn=$nqn_esc ns=1" \
	--rw=read --bs=128k --iodepth=16 --size=64M

# 3: digests; 8 MiB io_us split at the controller's MDTS; two jobs as threads, each its
# own controller and region
check "hdgst+ddgst, 8m io_us split at MDTS, thread=1 numjobs=2, verify" 0 'err= 0' \
	--name=bigverify --ioengine="external:$engine" --filename="$trid subnqn=$nqn_esc" \
	--hdgst --ddgst --thread=1 --numjobs=2 --offset_increment=48M --size=48M \
	--rw=randwrite --bs=8m --iodepth=4 --verify=crc32c --do_verify=1 --verify_fatal=1

# 4: trim, then writes with a flush every 4, waiting on the queue's fd; no subnqn=:
# the engine asks the discovery controller
cat >"$work/trim-flush.fio" <<EOF
[global]
ioengine=external:$engine
filename=traddr=127.0.0.1 trsvcid=$port
busy_poll=0
size=16M
iodepth=8

[trim]
rw=randtrim
bs=64k

[flush]
stonewall
rw=randwrite
bs=4k
fsync=4
EOF
check "trim, writes with fsync=4, busy_poll=0, subsystem from discovery" 0 \
	'fsync/fdatasync/sync_file_range' "$work/trim-flush.fio"

# 5: two files of one job (a controller each, the second with its own host NQN; both
# the same namespace, so only reads), engine options given
check "two files in one job, randread 16k, kato=2 queue_size=32" 0 'err= 0' \
	--name=twofiles --ioengine="external:$engine" \
	--filename="$trid subnqn=$nqn_esc ns=1:$trid subnqn=$nqn_esc ns=1 hostnqn=nqn.2014-08.org.nvmexpress\\:uuid\\:00000000-0000-0000-0000-0000000000f1" \
	--rw=randread --bs=16k --iodepth=8 --size=16M --kato=2 --queue_size=32

# 6: an NQN with plain colons is split by fio into pieces: refused with the reason
check "unescaped NQN refused with a hint" fail "write the colons of NQNs" --name=bad \
	--ioengine="external:$engine" --filename="$trid subnqn=$nqn ns=1" --rw=read --size=1M

# 7: fio paced by rate_iops and thinktime sleeps between submissions, with commands
# queued: the engine must have sent them (it defers sends while others are in flight)
check "rate_iops=500 and thinktime, iodepth=8, randwrite + verify" 0 'err= 0' \
	--name=paced --ioengine="external:$engine" --filename="$trid subnqn=$nqn_esc ns=1" \
	--rw=randwrite --bs=4k --iodepth=8 --size=1M --rate_iops=500 --thinktime=2000 \
	--thinktime_blocks=16 --verify=crc32c --do_verify=1 --verify_fatal=1

# 8: the target saw nothing wrong and stops cleanly
n=$((n + 1))
kill -TERM "$tgt_pid"
wait "$tgt_pid"
rc=$?
tgt_pid=''
if [ "$rc" -eq 0 ]; then
	echo "ok $n - nvmf-target exits 0 after the runs"
else
	echo "not ok $n - nvmf-target exit status $rc"
	sed 's/^/# /' "$work/target.log"
	failed=$((failed + 1))
fi

# 9: the target dies mid-job and stays away: after ctrl_loss_tmo the I/O fails (ENODEV)
# and fio ends, instead of waiting forever
if start_target; then
	# killed once fio's I/O queue is up and I/O runs (a loaded machine may take longer
	# than any fixed delay to start fio: then it met "Connection refused" instead)
	(
		for _ in $(seq 600); do
			grep -q 'I/O queue [0-9]* connected' "$work/target.log" && break
			sleep 0.1
		done
		sleep 1
		kill -KILL "$tgt_pid"
	) &
	killer=$!
	check "target killed mid-job: fio fails after ctrl_loss_tmo=2" fail 'No such device' \
		--name=lost --ioengine="external:$engine" --filename="$trid subnqn=$nqn_esc" \
		--rw=randread --bs=4k --iodepth=8 --time_based --runtime=60 \
		--reconnect_delay=1 --ctrl_loss_tmo=2
	wait "$killer"
	wait "$tgt_pid" 2>/dev/null
	tgt_pid=''
else
	n=$((n + 1))
	echo "not ok $n - nvmf-target did not start again"
	failed=$((failed + 1))
fi
# 10-12: the security options, against a target configured as nvmetcli writes it: a TLS
# port (the host's PSK in the keys file) and a plaintext port where the host must
# authenticate (DH-HMAC-CHAP, both ways).  Fixed keys: made by nvmf gen-tls-key /
# gen-dhchap-key once, they protect nothing but this test.
hostnqn=nqn.2014-08.org.nvmexpress:uuid:5b3a9c1e-7d2f-4a68-b0c4-8e1f2d3c4b5a
tls_key='NVMeTLSkey-1:01:3D44Dl5qhThxQitnDqS6HVEd2mMHWvikEfKViftpmS7q9+fe:'
tls_wrong='NVMeTLSkey-1:01:jUDwbYz1BDtNW9ql5JvPlUHlMrc03UGLt0mKRDLsVNU1e3gN:'
dh_key='DHHC-1:01:puXG3qInMdULgdGhnsZJsOercrRFVOzeNcmEFZ1/gnm33bmE:'
dh_ctrl='DHHC-1:02:BeUPk8Js9XJdym62DRo3FhX8geyJB/4Xwv83AQZ8raB1rv73hKM9WWExd9sN6QNRE6JRwg==:'
sport=''
for _ in $(seq 50); do
	p=$((20000 + RANDOM % 12000))   # below the ephemeral range (32768-)
	if [ "$p" != "$port" ] && port_free "$p" && port_free $((p + 1)); then sport=$p; break; fi
done
truncate -s 64M "$work/sec.img"
cat >"$work/sec.json" <<JSON
{
  "hosts": [{"nqn": "$hostnqn",
             "dhchap": {"key": "$dh_key", "ctrl_key": "$dh_ctrl",
                        "hash": "hmac(sha384)", "dhgroup": "ffdhe2048"}}],
  "ports": [
    {"portid": 1, "addr": {"trtype": "tcp", "adrfam": "ipv4", "traddr": "127.0.0.1",
                           "trsvcid": "$sport", "tsas": "tls1.3", "treq": "required"},
     "subsystems": ["$nqn"]},
    {"portid": 2, "addr": {"trtype": "tcp", "adrfam": "ipv4", "traddr": "127.0.0.1",
                           "trsvcid": "$((sport + 1))", "tsas": "none"},
     "subsystems": ["$nqn"]}
  ],
  "subsystems": [{"nqn": "$nqn", "attr": {"allow_any_host": "0"}, "allowed_hosts": ["$hostnqn"],
                  "namespaces": [{"nsid": 1, "enable": 1, "device": {"path": "$work/sec.img"}}]}]
}
JSON
echo "$hostnqn $tls_key" >"$work/sec.keys"
chmod 600 "$work/sec.keys" "$work/sec.json"   # both hold secrets: refused otherwise
"$target" --config "$work/sec.json" --tls-keys "$work/sec.keys" --cpus 1 >"$work/sec.log" 2>&1 &
tgt_pid=$!
for _ in $(seq 300); do
	[ "$(grep -c 'listening on' "$work/sec.log" 2>/dev/null)" -ge 2 ] && break
	sleep 0.1
done
sec=(--ioengine="external:$engine" --rw=randwrite --bs=4k --iodepth=8 --size=8M
	--verify=crc32c --do_verify=1 --verify_fatal=1 --hostnqn="$hostnqn")
strid="trtype=tcp adrfam=ipv4 traddr=127.0.0.1 subnqn=$nqn_esc ns=1"
check "tls_key: verify over TLS 1.3" 0 'err= 0' --name=tls "${sec[@]}" \
	--filename="$strid trsvcid=$sport" --tls_key="$tls_key" --tls_record=user
check "dhchap_secret + dhchap_ctrl_secret: verify after two-way authentication" 0 'err= 0' \
	--name=auth "${sec[@]}" --filename="$strid trsvcid=$((sport + 1))" \
	--dhchap_secret="$dh_key" --dhchap_ctrl_secret="$dh_ctrl"
check "a wrong tls_key is refused with the reason" fail 'TLS handshake .*failed' \
	--name=tlsbad "${sec[@]}" --filename="$strid trsvcid=$sport" --tls_key="$tls_wrong"
n_tls=$(grep -c "TLS 1.3 TLS_AES_128_GCM_SHA256, identity 'NVMe1R01 $hostnqn" "$work/sec.log")
n_auth=$(grep -c "authenticated" "$work/sec.log")
if [ "$n_tls" -lt 1 ] || [ "$n_auth" -lt 1 ]; then
	echo "# the target logged $n_tls TLS sessions and $n_auth authentications"
	sed 's/^/# /' "$work/sec.log"
	failed=$((failed + 1))
fi
if grep -qF -e "${tls_key:16:30}" -e "${dh_key:10:30}" -e "${dh_ctrl:10:30}" "$work/sec.log" "$work"/out.*; then
	echo "# a key appears in a log"
	failed=$((failed + 1))
fi
[ "$failed" -eq 0 ]
