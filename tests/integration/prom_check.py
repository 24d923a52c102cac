#!/usr/bin/python3
"""Parse nvmf-target's /metrics with the Prometheus project's own Python parser
(python3-prometheus-client: prometheus_client.parser.text_string_to_metric_families) and
check values against what the test did.

usage: prom_check.py FILE NAME LABELS=VALUE,... EXPECT
  EXPECT: a number (the sample must equal it), '>0', or 'hist:N' (a histogram family NAME:
  its _count and +Inf bucket are N, its buckets never decrease, _sum > 0 when N > 0).
Every check is one line of arguments after FILE, separated by ' ; '.
Exits 1 with the failing check on stderr.
"""
import sys

from prometheus_client.parser import text_string_to_metric_families


def labels_of(spec):
    out = {}
    for kv in filter(None, spec.split(',')):
        k, v = kv.split('=', 1)
        out[k] = v
    return out


def main():
    text = open(sys.argv[1]).read()
    fams = {f.name: f for f in text_string_to_metric_families(text)}
    failed = 0
    for check in ' '.join(sys.argv[2:]).split(' ; '):
        name, lab, expect = check.split()
        want = labels_of(lab if lab != '-' else '')
        if expect.startswith('hist:'):
            n = float(expect[5:])
            fam = fams.get(name)
            if fam is None or fam.type != 'histogram':
                print(f'{check}: no histogram family {name}', file=sys.stderr)
                failed += 1
                continue
            mine = [s for s in fam.samples
                    if all(s.labels.get(k) == v for k, v in want.items())]
            buckets = [s for s in mine if s.name == name + '_bucket']
            count = [s.value for s in mine if s.name == name + '_count']
            total = [s.value for s in mine if s.name == name + '_sum']
            inf = [s.value for s in buckets if s.labels['le'] == '+Inf']
            values = [s.value for s in buckets]
            les = [float(s.labels['le']) for s in buckets]
            ok = (count == [n] and inf == [n] and values == sorted(values)
                  and les == sorted(les) and len(total) == 1 and (n == 0 or total[0] > 0))
            if not ok:
                print(f'{check}: count {count} +Inf {inf} sum {total} '
                      f'buckets {values}', file=sys.stderr)
                failed += 1
            continue
        values = []
        for fam in fams.values():
            for s in fam.samples:
                if s.name == name and all(s.labels.get(k) == v for k, v in want.items()):
                    values.append(s.value)
        if len(values) != 1:
            print(f'{check}: {len(values)} samples match', file=sys.stderr)
            failed += 1
        elif expect == '>0':
            if not values[0] > 0:
                print(f'{check}: {values[0]}', file=sys.stderr)
                failed += 1
        elif values[0] != float(expect):
            print(f'{check}: {values[0]}', file=sys.stderr)
            failed += 1
    sys.exit(1 if failed else 0)


main()
