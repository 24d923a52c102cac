#!/usr/bin/env python3
"""Paired A/B rows against an SPDK build (bench/run calls this when SPDK_DIR is given).

The machine this runs on is shared and flips between a fast and a 35-50 % slower mode
within seconds, so two figures measured minutes apart say little.  Here every row is a
pair of runs next to each other, A then B or B then A (ABBA: pairs alternate the order, so
a drift within a pair falls on both sides alike), and what is reported is the median of
the pairs' ratios A/B with its range.  The rows are interleaved: pair 1 of every row, then
pair 2 of every row, ... so a slow minute spreads over all rows.

Three groups (one core for each target, core 0; the host on core 1):
  target  the same initiator (SPDK's spdk_nvme_perf) against nvmf-target (A) and against
          SPDK's nvmf_tgt (B): every row of make bench's matrix
  host    the same target (SPDK's nvmf_tgt) driven by `nvmf perf` (A) and by
          spdk_nvme_perf (B)
  stack   our host + our target (A) against SPDK's host + SPDK's target (B)
  file    the same initiator against nvmf-target serving a file (its io_uring file
          backend, O_DIRECT) and against SPDK's nvmf_tgt serving the same file through its
          aio bdev (bdev_aio_create, O_DIRECT too): the write path on a real file system
The ratio is of IOPS (MiB/s for 128 KiB reads, the same thing): above 1, A is faster; at
QD1 it is the inverse of the mean latencies.  The mean latencies are kept too.

nvmf-target runs as `make bench`'s users would start it: `--ram 512M --cpus 1`, the
default RAM namespace, measured once the log says it is resident (it is populated in the
background after start, as SPDK's malloc bdev is allocated at start).  SPDK's nvmf_tgt
busy-polls its core, so it is stopped (SIGSTOP) while ours runs and continued for its own
runs; ours sleeps when idle (0 % CPU) and stays up.

SPDK v24.01 built outside the project (../shared/anchors/spdk.md): SPDK_DIR/build/bin/
nvmf_tgt and spdk_nvme_perf, run without hugepages (--no-huge).
"""
import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

NQN = "nqn.2014-08.org.nvmexpress:nvmf-tcp:quickstart"
RAM = "512M"
MALLOC_BLOCKS = 512 * 1024 * 1024 // 4096

# id, label, the workload (nvmf perf's and spdk_nvme_perf's common flags)
WORKLOADS = [
    ("rr4k-qd1", "4k randread QD1", ["-q", "1", "-o", "4096", "-w", "randread"]),
    ("rr4k-qd32", "4k randread QD32", ["-q", "32", "-o", "4096", "-w", "randread"]),
    ("rr4k-qd128", "4k randread QD128", ["-q", "128", "-o", "4096", "-w", "randread"]),
    ("rw4k-qd32", "4k randwrite QD32", ["-q", "32", "-o", "4096", "-w", "randwrite"]),
    ("sr128k-qd16", "128k seqread QD16", ["-q", "16", "-o", "131072", "-w", "read"]),
    ("rr4k-qd32-dgst", "4k randread QD32 hdgst+ddgst", ["-q", "32", "-o", "4096", "-w",
                                                        "randread", "-H", "-I"]),
]
# group -> (A, B, the workloads it runs): A and B are (host, target)
GROUPS = [
    ("target", ("spdk", "ours"), ("spdk", "spdk"), [w[0] for w in WORKLOADS]),
    ("host", ("ours", "spdk"), ("spdk", "spdk"), ["rr4k-qd1", "rr4k-qd32"]),
    ("stack", ("ours", "ours"), ("spdk", "spdk"), ["rr4k-qd1", "rr4k-qd32"]),
    ("file", ("spdk", "ours-file"), ("spdk", "spdk-aio"), ["rw4k-qd32", "rr4k-qd32"]),
]
# every target a run can be against, and its port's offset from --port
TARGETS = {"ours": 0, "spdk": 1, "ours-file": 2, "spdk-aio": 3}
NAMES = {"ours": {"host": "nvmf perf", "target": "nvmf-target"},
         "spdk": {"host": "spdk_nvme_perf", "target": "SPDK nvmf_tgt"},
         "ours-file": {"target": "nvmf-target file"},
         "spdk-aio": {"target": "SPDK nvmf_tgt aio bdev"}}


def log(msg):
    print("paired: " + msg, file=sys.stderr, flush=True)


def port_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def spdk_config(path, port, aio_file=None):
    """nvmf_tgt's JSON configuration (-c): a 512 MiB Malloc bdev of 4 KiB blocks (or an aio
    bdev on aio_file), a TCP transport, one subsystem open to any host with it as namespace
    1, a listener."""
    nvmf = [
        {"method": "nvmf_create_transport", "params": {"trtype": "TCP"}},
        {"method": "nvmf_create_subsystem",
         "params": {"nqn": NQN, "allow_any_host": True, "serial_number": "PAIRED0001"}},
        {"method": "nvmf_subsystem_add_ns",
         "params": {"nqn": NQN, "namespace": {"bdev_name": "Malloc0" if not aio_file
                                                             else "Aio0"}}},
        {"method": "nvmf_subsystem_add_listener",
         "params": {"nqn": NQN, "listen_address": {"trtype": "TCP", "adrfam": "IPv4",
                                                   "traddr": "127.0.0.1",
                                                   "trsvcid": str(port)}}},
    ]
    if aio_file:
        bdev = [{"method": "bdev_aio_create",
                 "params": {"name": "Aio0", "filename": aio_file, "block_size": 4096}}]
    else:
        bdev = [{"method": "bdev_malloc_create",
                 "params": {"name": "Malloc0", "num_blocks": MALLOC_BLOCKS,
                            "block_size": 4096}}]
    doc = {"subsystems": [{"subsystem": "bdev", "config": bdev},
                          {"subsystem": "nvmf", "config": nvmf}]}
    with open(path, "w") as f:
        json.dump(doc, f, indent=1)


class Server:
    def __init__(self, name, cmd, logpath, port):
        self.name, self.cmd, self.logpath, self.port = name, cmd, logpath, port
        self.proc = None
        self.stopped = False

    def start(self, ready, timeout):
        self.logf = open(self.logpath, "ab")
        self.proc = subprocess.Popen(self.cmd, stdout=self.logf, stderr=subprocess.STDOUT)
        end = time.time() + timeout
        while time.time() < end:
            if self.proc.poll() is not None:
                raise RuntimeError("%s exited at start (%s); its log:\n%s" % (
                    self.name, self.proc.returncode, self.tail()))
            if ready():
                return
            time.sleep(0.2)
        raise RuntimeError("%s not ready after %d s; its log:\n%s" % (self.name, timeout,
                                                                      self.tail()))

    def tail(self, n=20):
        try:
            return "".join(open(self.logpath, errors="replace").readlines()[-n:])
        except OSError:
            return ""

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def pause(self):
        if self.alive() and not self.stopped:
            os.kill(self.proc.pid, signal.SIGSTOP)
            self.stopped = True

    def resume(self):
        if self.alive() and self.stopped:
            os.kill(self.proc.pid, signal.SIGCONT)
            self.stopped = False

    def stop(self):
        if not self.alive():
            return
        self.resume()
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def parse_spdk_perf(text):
    """spdk_nvme_perf's summary line: Total : IOPS MiB/s average min max (us)."""
    m = re.search(r"^Total\s*:\s*([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)", text,
                  re.M)
    if not m:
        return None
    iops, mibps, mean, mn, mx = (float(x) for x in m.groups())
    return {"iops": iops, "mibps": mibps, "lat_mean_us": mean, "lat_min_us": mn,
            "lat_max_us": mx}


def parse_nvmf_perf(path):
    try:
        t = json.load(open(path))["total"]
    except (OSError, ValueError, KeyError):
        return None
    lat = t.get("lat_us") or {}
    f = {"iops": t["iops"], "mibps": t["mibps"]}
    for k in ("mean", "min", "max", "p50", "p99"):
        if k in lat:
            f["lat_%s_us" % k] = lat[k]
    return f


class Bench:
    def __init__(self, a):
        self.a = a
        self.work = tempfile.mkdtemp(prefix="paired-")
        self.spdk_bin = os.path.join(a.spdk_dir, "build", "bin")
        self.files = []
        self.servers = {}
        self.events = []

    # ---- servers
    def port(self, target):
        return self.a.port + TARGETS[target]

    def data_file(self):
        """The file both file-backed targets serve (one at a time: the other is stopped),
        written whole once so that neither measures the file system allocating blocks."""
        path = os.path.join(self.a.file_dir, "paired-%d.img" % os.getpid())
        if not os.path.exists(path):
            subprocess.run(["dd", "if=/dev/zero", "of=" + path, "bs=1M",
                            "count=%d" % (MALLOC_BLOCKS * 4096 // (1 << 20)), "oflag=direct",
                            "status=none"], check=True)
            self.files.append(path)
        return path

    def start_ours(self, which="ours"):
        port = self.port(which)
        logp = os.path.join(self.work, "nvmf-target-%s.log" % which)
        ns = ["--ram", RAM] if which == "ours" else ["--file", self.data_file()]
        s = Server("nvmf-target", ["taskset", "-c", "0", self.a.target] + ns +
                   ["--cpus", "1", "--listen", "127.0.0.1:%d" % port], logp, port)
        s.start(lambda: port_open(port), 60)
        self.servers[which] = s
        if which != "ours":
            return
        # the RAM namespace is populated in the background: measure it resident
        t0 = time.time()
        while time.time() - t0 < self.a.resident_timeout:
            if "namespace is resident" in open(logp, errors="replace").read():
                break
            if "background population of the" in open(logp, errors="replace").read():
                break  # it stopped (low memory or an old kernel): the log says why
            time.sleep(0.2)
        text = open(logp, errors="replace").read()
        if "namespace is resident" in text:
            log("nvmf-target: RAM namespace resident %.1f s after start" % (time.time() - t0))
        else:
            log("WARNING: nvmf-target's RAM namespace is not resident (see %s)" % logp)
            self.events.append({"event": "ours-not-resident", "log": s.tail(5)})

    def start_spdk(self, which="spdk"):
        port = self.port(which)
        conf = os.path.join(self.work, "%s-tgt.json" % which)
        spdk_config(conf, port, self.data_file() if which == "spdk-aio" else None)
        # --disable-cpumask-locks: SPDK apps lock their cores (/var/tmp/spdk_cpu_lock_*),
        # and another SPDK process on this shared machine must not stop the bench
        s = Server("nvmf_tgt", [os.path.join(self.spdk_bin, "nvmf_tgt"), "-m", "0x1",
                                "--no-huge", "-s", "1024", "--disable-cpumask-locks", "-c", conf,
                                "-r", os.path.join(self.work, "%s.sock" % which)],
                   os.path.join(self.work, "%s.log" % which), port)
        s.start(lambda: port_open(port), 120)
        self.servers[which] = s

    def ensure(self, which):
        s = self.servers.get(which)
        if s is None or not s.alive():
            if s is not None:
                log("%s died; its log:\n%s" % (s.name, s.tail()))
                self.events.append({"event": "server-died", "server": which})
            (self.start_spdk if which.startswith("spdk") else self.start_ours)(which)
        # only the target of the run may hold core 0: SPDK's busy-polls it
        for name, srv in self.servers.items():
            (srv.resume if name == which else srv.pause)()

    # ---- one run
    def run(self, host, target, wl, tag, secs=None):
        self.ensure(target)
        port = self.port(target)
        args = dict((w[0], w[2]) for w in WORKLOADS)[wl]
        secs = "%g" % (secs or self.a.seconds)  # spdk_nvme_perf -t takes whole seconds
        out = os.path.join(self.work, "%s.json" % tag)
        if host == "ours":
            cmd = ["taskset", "-c", "1", self.a.nvmf, "perf", "-r",
                   "trtype:tcp adrfam:ipv4 traddr:127.0.0.1 trsvcid:%d subnqn:%s" % (port, NQN),
                   "-c", "0x2", "-t", secs] + args + (["-L"] if wl == "rr4k-qd1" else []) + \
                  ["--json", out]
        else:
            cmd = [os.path.join(self.spdk_bin, "spdk_nvme_perf"), "--no-huge", "-s",
                             "512",
                   "-c", "0x2", "-t", secs, "-r",
                   "trtype:TCP adrfam:IPv4 traddr:127.0.0.1 trsvcid:%d subnqn:%s" % (port, NQN)
                   ] + args
        t0 = time.time()
        load = os.getloadavg()[0]
        try:
            p = subprocess.run(cmd, capture_output=True, text=True,
                               timeout=float(secs) + 90)
            text, rc = p.stdout + p.stderr, p.returncode
        except subprocess.TimeoutExpired as e:
            text, rc = str(e.stdout or "") + str(e.stderr or ""), -1
        f = parse_nvmf_perf(out) if host == "ours" else parse_spdk_perf(text)
        if rc != 0 or f is None:
            log("%s failed (exit %s):\n%s" % (tag, rc, text[-1500:]))
            f = None
        rec = {"host": host, "target": target, "rc": rc, "start": t0, "load1": load,
               "wall_s": time.time() - t0, "cmd": " ".join(cmd), "figures": f}
        return rec

    def go(self):
        a = self.a
        plan = []
        for group, A, B, wls in GROUPS:
            for wl in wls:
                rid = "%s:%s" % (group, wl)
                if a.only and not re.search(a.only, rid):
                    continue
                plan.append((rid, group, wl, A, B))
        if not plan:
            raise SystemExit("paired: --only '%s' matches no row" % a.only)
        res = {rid: {"id": rid, "group": group, "workload": wl,
                     "label": dict((w[0], w[1]) for w in WORKLOADS)[wl],
                     "a": "%s -> %s" % (NAMES[A[0]]["host"], NAMES[A[1]]["target"]),
                     "b": "%s -> %s" % (NAMES[B[0]]["host"], NAMES[B[1]]["target"]),
                     "pairs": []}
               for rid, group, wl, A, B in plan}
        # Warm-up, not recorded: the first runs against a new process are far slower here
        # (measured: spdk_nvme_perf QD32 against a new nvmf_tgt 11K, then 90K, 262K, 384K
        # IOPS; this VM backs memory touched for the first time slowly), so each target
        # serves reads and writes over its namespace before the pairs begin.
        if a.warmup > 0:
            for tgt in sorted({x[1] for _, _, _, A, B in plan for x in (A, B)}):
                for wl in ("sr128k-qd16", "rw4k-qd32", "rr4k-qd32"):
                    self.run("spdk", tgt, wl, "warmup.%s.%s" % (tgt, wl), a.warmup)
            log("warm-up done (%s s per workload and target)" % a.warmup)
        load0 = os.getloadavg()
        log("%d rows x %d pairs of %s s (ABBA), load %.2f" % (len(plan), a.pairs, a.seconds,
                                                             load0[0]))
        for k in range(a.pairs):
            for rid, group, wl, A, B in plan:
                order = [("a", A), ("b", B)] if k % 2 == 0 else [("b", B), ("a", A)]
                pair = {"order": "".join(x[0] for x in order).upper()}
                for side, (host, tgt) in order:
                    pair[side] = self.run(host, tgt, wl, "%s.%d.%s" % (rid.replace(":", "."),
                                                                       k, side))
                fa, fb = pair["a"]["figures"], pair["b"]["figures"]
                pair["ratio"] = fa["iops"] / fb["iops"] if fa and fb and fb["iops"] else None
                res[rid]["pairs"].append(pair)
                log("pair %d/%d %-28s %s: A %s, B %s -> A/B %s" % (
                    k + 1, a.pairs, rid, pair["order"],
                    "%.0f IOPS" % fa["iops"] if fa else "FAILED",
                    "%.0f IOPS" % fb["iops"] if fb else "FAILED",
                    "%.3f" % pair["ratio"] if pair["ratio"] else "-"))
        for s in self.servers.values():
            s.stop()
        rows = []
        for rid, *_ in plan:
            r = res[rid]
            rs = [p["ratio"] for p in r["pairs"] if p["ratio"]]
            r["ratios"] = rs
            r["ratio_median"] = statistics.median(rs) if rs else None
            r["ratio_min"] = min(rs) if rs else None
            r["ratio_max"] = max(rs) if rs else None
            for side in ("a", "b"):
                fs = [p[side]["figures"] for p in r["pairs"] if p[side]["figures"]]
                for k in ("iops", "mibps", "lat_mean_us"):
                    v = [f[k] for f in fs if k in f]
                    r["%s_%s_median" % (side, k)] = statistics.median(v) if v else None
            rows.append(r)
        return {"spdk_dir": a.spdk_dir, "spdk_version": spdk_version(a.spdk_dir),
                "pairs": a.pairs, "seconds": a.seconds, "only": a.only or None,
                "ratio": "A/B of IOPS (MiB/s for 128k rows; QD1: inverse mean latency); "
                         "median of the pairs, range min..max",
                "loadavg_start": list(load0), "loadavg_end": list(os.getloadavg()),
                "ours_target": "nvmf-target --ram %s --cpus 1 (default RAM namespace, "
                               "resident)" % RAM,
                "spdk_target": "nvmf_tgt -m 0x1 --no-huge -s 1024, Malloc bdev %s of 4 KiB "
                               "blocks" % RAM,
                "rows": rows, "events": self.events}


def spdk_version(d):
    try:
        return subprocess.run(["git", "-C", d, "describe", "--tags"], capture_output=True,
                              text=True, timeout=10).stdout.strip() or None
    except (OSError, subprocess.TimeoutExpired):
        return None


def table(doc):
    """The paired table as text lines (bench/run prints it under its own)."""
    lines = ["paired against SPDK %s (%s): %d ABBA pairs of %s s per row; A/B = %s" % (
        doc["spdk_version"] or "?", doc["spdk_dir"], doc["pairs"], doc["seconds"], doc["ratio"])]
    fmt = "%-7s %-30s %-34s %-34s %9s %9s %7s %15s"
    lines.append(fmt % ("group", "row", "A", "B", "A K IOPS", "B K IOPS", "A/B", "range"))
    lines.append("-" * 152)
    for r in doc["rows"]:
        def k(x):
            return "%.1f" % (x / 1e3) if x else "-"
        lines.append(fmt % (
            r["group"], r["label"], r["a"], r["b"], k(r["a_iops_median"]), k(r["b_iops_median"]),
            "%.2f" % r["ratio_median"] if r["ratio_median"] else "-",
            "%.2f-%.2f" % (r["ratio_min"], r["ratio_max"]) if r["ratios"] else "-"))
        if r["workload"] == "rr4k-qd1" and r["a_lat_mean_us_median"] and r["b_lat_mean_us_median"]:
            lines.append("%-7s %-30s mean latency A %.2f us, B %.2f us (medians)" % (
                "", "", r["a_lat_mean_us_median"], r["b_lat_mean_us_median"]))
    lines.append("-" * 152)
    lines.append("load average %.2f at the start, %.2f at the end; each pair A B or B A, "
                 "alternating; rows interleaved pair by pair" % (doc["loadavg_start"][0],
                                                                 doc["loadavg_end"][0]))
    return lines


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--spdk-dir", required=True)
    p.add_argument("--target", required=True, help="nvmf-target (release build)")
    p.add_argument("--nvmf", required=True, help="the nvmf CLI (release build)")
    p.add_argument("--pairs", type=int, default=int(os.environ.get("BENCH_PAIRS", 8)))
    p.add_argument("--seconds", type=float, default=float(os.environ.get("BENCH_SECONDS", 5)))
    p.add_argument("--port", type=int, default=4480,
                   help="ours on PORT, SPDK's on PORT+1, the file rows' on PORT+2, PORT+3")
    p.add_argument("--file-dir", default=os.environ.get("BENCH_FILE_DIR", "/var/tmp"),
                   help="where the file rows' 512 MiB file is written (a real file system: "
                        "O_DIRECT)")
    p.add_argument("--only", default="", help="regex on the row ids (group:workload)")
    p.add_argument("--resident-timeout", type=float, default=120)
    p.add_argument("--warmup", type=float, default=float(os.environ.get("BENCH_WARMUP", 3)),
                   help="seconds of each warm-up run per target (0: none)")
    p.add_argument("--json", required=True, help="where the results go")
    a = p.parse_args()
    if a.seconds != int(a.seconds) or a.warmup != int(a.warmup):
        raise SystemExit("paired: whole seconds (spdk_nvme_perf -t)")
    a.seconds, a.warmup = int(a.seconds), int(a.warmup)
    for f in ("nvmf_tgt", "spdk_nvme_perf"):
        if not os.access(os.path.join(a.spdk_dir, "build", "bin", f), os.X_OK):
            raise SystemExit("paired: %s/build/bin/%s is not built (see "
                             "../shared/anchors/spdk.md)" % (a.spdk_dir, f))
    for port in (a.port + off for off in TARGETS.values()):
        if port_open(port):
            raise SystemExit("paired: port %d is busy (--port)" % port)
    # a stopped (SIGSTOP) nvmf_tgt must not outlive us: every way out stops the servers
    # (SIGINT too: a shell's background job starts with it ignored)
    def bye(sig, frame):
        raise SystemExit("paired: signal %d" % sig)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, bye)
    b = Bench(a)
    try:
        doc = b.go()
    except BaseException:
        log("the servers' logs and the runs' output are kept in %s" % b.work)
        raise
    finally:
        for s in b.servers.values():
            s.stop()
        for f in b.files:
            os.unlink(f)
    shutil.rmtree(b.work, ignore_errors=True)
    with open(a.json, "w") as f:
        json.dump(doc, f, indent=1)
    print("\n".join(table(doc)))


if __name__ == "__main__":
    main()
