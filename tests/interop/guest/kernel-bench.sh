#!/usr/bin/env bash
# Guest side of bench/kernel-reference.sh: the kernel's nvmet-tcp target on a prefilled brd
# disk, the kernel host connected over 127.0.0.1, and a fixed set of fio jobs whose IOPS,
# bandwidth and latency are printed as a table on stdout, followed by one line
# "RESULT-JSON {...}" with the same figures for tools. Runs inside vm-run as root.
# Environment: KBENCH_RUNTIME seconds per job (default 8), KBENCH_CONNECT extra
# `nvme connect` flags (e.g. "-g -G" for digests).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

NQN=nqn.2024-01.io.nvmf-tcp:kernel-bench
RUNTIME=${KBENCH_RUNTIME:-8}
read -r -a CONNECT_FLAGS <<<"${KBENCH_CONNECT:-}"
# name:rw:bs:iodepth
JOBS=(randread-4k-qd1:randread:4k:1 randread-4k-qd32:randread:4k:32
	randwrite-4k-qd32:randwrite:4k:32 seqread-128k-qd16:read:128k:16)

cleanup() {
	local rc=$?
	trap - EXIT
	nvme disconnect -n "$NQN" >/dev/null 2>&1 || true
	knvmet_teardown 2>/dev/null || true
	modprobe -r brd 2>/dev/null || true
	exit "$rc"
}
trap cleanup EXIT
cd /tmp   # the guest's own tmpfs: nothing fio writes lands in the caller's directory

step "setup: brd 256 MiB (prefilled), nvmet-tcp on 127.0.0.1:4420, nvme connect ${CONNECT_FLAGS[*]:-}"
brd_setup 256
brd_prefill
knvmet_setup "$NQN" /dev/ram0 1 4420
modprobe nvme-tcp
dev=$(khost_connect "$NQN" "${CONNECT_FLAGS[@]}")
step "connected: $dev; $(nproc) vCPUs; ${RUNTIME}s per job"

results=$(mktemp -d)
for j in "${JOBS[@]}"; do
	IFS=: read -r name rw bs qd <<<"$j"
	step "fio $name"
	fio --name="$name" --filename="$dev" --direct=1 --ioengine=libaio --rw="$rw" --bs="$bs" \
		--iodepth="$qd" --time_based --runtime="$RUNTIME" --ramp_time=1 --randrepeat=0 \
		--lat_percentiles=1 \
		--output-format=json --output="$results/$name.json" >/dev/null ||
		die "fio $name failed"
done
khost_disconnect "$NQN"

CONN="${CONNECT_FLAGS[*]:-}" RUNTIME=$RUNTIME python3 - "$results" "${JOBS[@]}" <<'EOF'
import json, os, sys
d = sys.argv[1]
conn, runtime, nproc = os.environ["CONN"], os.environ["RUNTIME"], os.cpu_count()
accel = os.environ.get("VM_RUN_ACCEL", "?")
rows = []
for spec in sys.argv[2:]:
    name, rw, bs, qd = spec.split(":")
    job = json.load(open(f"{d}/{name}.json"))["jobs"][0]
    s = job["write" if "write" in rw else "read"]
    # Total latency (submission + completion): with loopback TCP much of the round trip can
    # happen inside io_submit, so completion latency alone would understate it.
    pct = s["lat_ns"].get("percentile", {})
    p = lambda k: pct.get(k, 0) / 1000.0
    rows.append({"job": name, "rw": rw, "bs": bs, "iodepth": int(qd),
                 "iops": round(s["iops"], 1), "bw_mib_s": round(s["bw_bytes"] / 2**20, 2),
                 "lat_mean_us": round(s["lat_ns"]["mean"] / 1000.0, 1),
                 "lat_p50_us": round(p("50.000000"), 1), "lat_p99_us": round(p("99.000000"), 1),
                 "lat_p999_us": round(p("99.900000"), 1), "errors": job.get("error", 0)})
hdr = f'{"job":<20}{"IOPS":>10}{"MiB/s":>10}{"lat avg us":>12}{"p50 us":>10}{"p99 us":>10}{"p99.9 us":>10}'
print(f'kernel nvmet-tcp <- kernel nvme-tcp{" (" + conn + ")" if conn else ""}, 127.0.0.1, brd 256 MiB, '
      f'{runtime}s/job, {nproc} vCPUs, accel {accel}' + (" (figures show behaviour, not speed)" if accel == "tcg" else ""))
print(hdr)
for r in rows:
    print(f'{r["job"]:<20}{r["iops"]:>10.0f}{r["bw_mib_s"]:>10.1f}{r["lat_mean_us"]:>12.1f}'
          f'{r["lat_p50_us"]:>10.1f}{r["lat_p99_us"]:>10.1f}{r["lat_p999_us"]:>10.1f}')
print("RESULT-JSON " + json.dumps({"target": "kernel nvmet-tcp", "host": "kernel nvme-tcp", "connect_flags": conn,
                                    "accel": accel, "runtime_s": int(runtime), "jobs": rows}))
EOF
rm -rf "$results"
