#!/usr/bin/env python3
"""Counts test cases in a meson testlog.json: every TAP 'ok'/'not ok' line of a TAP test,
one case for any other test. A test that failed without printing 'not ok' counts as one
failure. Prints 'PASSED FAILED'."""
import json
import sys

passed = failed = 0
with open(sys.argv[1]) as f:
    for line in f:
        if not line.strip():
            continue
        t = json.loads(line)
        res = t.get("result", "")
        out = t.get("stdout", "") or ""
        oks = nots = 0
        for l in out.splitlines():
            if l.startswith("not ok"):
                nots += 1
            elif l.startswith("ok"):
                oks += 1
        if oks + nots == 0:
            if res in ("OK", "EXPECTEDFAIL"):
                passed += 1
            elif res != "SKIP":
                failed += 1
            continue
        passed += oks
        failed += nots
        if res not in ("OK", "EXPECTEDFAIL", "SKIP") and nots == 0:
            failed += 1
print(passed, failed)
