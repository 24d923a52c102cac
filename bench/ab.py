#!/usr/bin/env python3
"""Two load commands compared in ABBA pairs, for A/B trials run by hand (bench/README.md).

Each command is a shell line whose {json} is replaced by a file it must write: `nvmf perf
--json`'s or floor-client's shape (total.iops, total.lat_us.{mean,p50,p99}) or fio's
(--output-format=json --output={json}).  Pairs alternate A B / B A, so a drift of this
shared machine within a pair falls on both sides alike; the report is the median of the
pairs' ratios A/B and their range, for IOPS, mean, p50 and p99 latency.

  bench/ab.py -n 8 --a 'nvmf perf ... --json {json}' --b 'floor-client ... --json {json}'

--pre-a / --pre-b: a shell line run before each A / B run (e.g. to switch a target's
option); --cpu-pid PID: also report that process's CPU time per I/O during A and B runs.
"""
import argparse
import json
import os
import statistics as st
import subprocess
import sys
import tempfile


def figures(path):
    with open(path) as f:
        text = f.read()
    j = json.loads(text[text.index("{"):])  # fio may print notes before its JSON
    if "jobs" in j:  # fio
        iops = 0.0
        lat = None
        for job in j["jobs"]:
            for d in ("read", "write"):
                s = job[d]
                if s["total_ios"]:
                    iops += s["iops"]
                    lat = lat or s["clat_ns"]
        pct = lat.get("percentile", {})
        return {"iops": iops, "mean": lat["mean"] / 1e3,
                "p50": pct.get("50.000000", 0) / 1e3, "p99": pct.get("99.000000", 0) / 1e3}
    t = j["total"]
    lat = t.get("lat_us", {})
    return {"iops": t["iops"], "mean": lat.get("mean", 0), "p50": lat.get("p50", 0),
            "p99": lat.get("p99", 0)}


def proc_cpu_ticks(pid):
    if not pid:
        return 0
    with open("/proc/%d/stat" % pid) as f:
        v = f.read().rsplit(")", 1)[1].split()
    return int(v[11]) + int(v[12])  # utime + stime


def run(cmd, pre, tmp, tag, pid):
    if pre:
        subprocess.run(pre, shell=True, check=True)
    out = os.path.join(tmp, tag + ".json")
    c0 = proc_cpu_ticks(pid)
    r = subprocess.run(cmd.replace("{json}", out), shell=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True)
    c1 = proc_cpu_ticks(pid)
    if r.returncode:
        sys.exit("ab: %s failed (%d): %s" % (tag, r.returncode, r.stderr[-500:]))
    f = figures(out)
    if pid and f["iops"]:
        f["cpu_us_per_io"] = (c1 - c0) / os.sysconf("SC_CLK_TCK") * 1e6 / (f["iops"] * args.seconds)
    return f


p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
p.add_argument("--a", required=True)
p.add_argument("--b", required=True)
p.add_argument("--pre-a", default="")
p.add_argument("--pre-b", default="")
p.add_argument("-n", "--pairs", type=int, default=8)
p.add_argument("--seconds", type=float, default=3, help="the runs' length, for --cpu-pid")
p.add_argument("--cpu-pid", type=int, default=0)
p.add_argument("--json", help="write every run's figures here")
args = p.parse_args()

pairs = []
with tempfile.TemporaryDirectory() as tmp:
    for i in range(args.pairs):
        order = "AB" if i % 2 == 0 else "BA"
        res = {}
        for s in order:
            res[s] = run(args.a if s == "A" else args.b, args.pre_a if s == "A" else args.pre_b,
                         tmp, "%s%d" % (s, i), args.cpu_pid)
        pairs.append(res)
        print("pair %d %s: A %s | B %s | load %s" % (
            i, order, " ".join("%s %.4g" % kv for kv in res["A"].items()),
            " ".join("%s %.4g" % kv for kv in res["B"].items()),
            open("/proc/loadavg").read().split()[0]), flush=True)

for k in pairs[0]["A"]:
    r = [x["A"][k] / x["B"][k] for x in pairs if x["B"].get(k)]
    if not r:
        continue
    print("%-13s A/B median %.3f (range %.3f-%.3f); A median %.4g, B median %.4g" % (
        k, st.median(r), min(r), max(r), st.median(x["A"][k] for x in pairs),
        st.median(x["B"][k] for x in pairs)))
if args.json:
    with open(args.json, "w") as f:
        json.dump(pairs, f, indent=1)
