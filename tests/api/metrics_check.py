#!/usr/bin/env python3
"""Reads a Prometheus text exposition (file argument) with python3-prometheus-client's parser,
adds the checks that parser leaves out, and prints every sample as a JSON line
[name, labels, value]. Exits 1 naming the first fault.

Checks beyond the parser: every family is declared once (HELP and TYPE) before its samples;
sample names belong to their family (histograms: _bucket, _sum, _count); no sample is given
twice; every histogram series has ascending `le` bounds ending with +Inf, cumulative counts,
and a +Inf bucket equal to its _count."""
import json
import math
import sys

from prometheus_client.parser import text_string_to_metric_families


def fail(message):
    print(f"metrics_check: {message}", file=sys.stderr)
    sys.exit(1)


def check_declarations(text):
    declared = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line:
            fail(f"line {number} is empty")
        if line.startswith("# HELP ") or line.startswith("# TYPE "):
            kind, name = line[2:6], line.split(" ")[2]
            if kind in declared.get(name, set()):
                fail(f"line {number}: {kind} of {name} is given twice")
            declared.setdefault(name, set()).add(kind)
            continue
        if line.startswith("#"):
            fail(f"line {number}: an unknown comment")
        name = line.split("{")[0].split(" ")[0]
        family = next((f for f in (name, name.rsplit("_", 1)[0]) if "TYPE" in declared.get(f, ())), None)
        if family is None:
            fail(f"line {number}: sample {name} comes before its family's TYPE")


def check_histograms(families):
    for family in families:
        if family.type != "histogram":
            continue
        series = {}
        for s in family.samples:
            key = tuple(sorted((k, v) for k, v in s.labels.items() if k != "le"))
            entry = series.setdefault(key, {"buckets": [], "count": None})
            if s.name.endswith("_bucket"):
                entry["buckets"].append((float(s.labels["le"]), s.value))
            elif s.name.endswith("_count"):
                entry["count"] = s.value
            elif not s.name.endswith("_sum"):
                fail(f"{s.name} does not belong to histogram {family.name}")
        for key, entry in series.items():
            bounds = [b for b, _ in entry["buckets"]]
            counts = [c for _, c in entry["buckets"]]
            if not bounds or not math.isinf(bounds[-1]):
                fail(f"{family.name}{dict(key)} has no +Inf bucket")
            if bounds != sorted(bounds) or len(set(bounds)) != len(bounds):
                fail(f"{family.name}{dict(key)}: bucket bounds are not ascending")
            if counts != sorted(counts):
                fail(f"{family.name}{dict(key)}: bucket counts are not cumulative")
            if entry["count"] != counts[-1]:
                fail(f"{family.name}{dict(key)}: +Inf bucket {counts[-1]} is not its count {entry['count']}")


def main():
    text = open(sys.argv[1], encoding="utf-8").read()
    check_declarations(text)
    try:
        families = list(text_string_to_metric_families(text))
    except Exception as e:  # the parser's refusal, whatever its type
        fail(f"the parser refused it: {e}")
    check_histograms(families)
    seen = set()
    for family in families:
        for s in family.samples:
            key = (s.name, tuple(sorted(s.labels.items())))
            if key in seen:
                fail(f"sample {s.name}{s.labels} is given twice")
            seen.add(key)
            print(json.dumps([s.name, s.labels, s.value]))


if __name__ == "__main__":
    main()
