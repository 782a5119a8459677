#!/usr/bin/env python3
"""Checks Prometheus text exposition (format 0.0.4) read from stdin.

Parses it with the reference Python client's parser (prometheus_client), then
checks what that lenient parser lets through: every sample belongs to a family
declared by # TYPE, histogram buckets are cumulative and end with +Inf equal
to _count. Names given as arguments must be present as families.

  electric-operator-metrics | python3 check_metrics.py workqueue_depth ...

Exit status 0 when the text is valid, 1 with a reason on stderr otherwise.
"""
import math
import sys

from prometheus_client.parser import text_string_to_metric_families


def fail(why):
    print("check_metrics: " + why, file=sys.stderr)
    sys.exit(1)


def main():
    text = sys.stdin.read()
    if not text.endswith("\n"):
        fail("exposition must end with a newline")
    declared = {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            parts = line.split(" ")
            if len(parts) != 4:
                fail("bad TYPE line: " + line)
            if parts[2] in declared:
                fail("family declared twice: " + parts[2])
            declared[parts[2]] = parts[3]
    try:
        families = list(text_string_to_metric_families(text))
    except Exception as e:  # the parser raises ValueError and friends
        fail("parser rejected the text: %r" % (e,))

    seen = set()
    for family in families:
        # The parser names a counter family without its "_total" suffix.
        declared_name = family.name
        if declared_name not in declared and family.type == "counter":
            declared_name = family.name + "_total"
        seen.add(declared_name)
        kind = declared.get(declared_name)
        if kind is None:
            fail("samples without a # TYPE line: " + family.name)
        if family.type != kind:
            fail("%s: parsed as %s, declared %s" % (family.name, family.type, kind))
        allowed = {family.name}
        if kind == "histogram":
            allowed = {family.name + s for s in ("_bucket", "_sum", "_count")}
        elif kind == "counter":
            allowed.add(declared_name)
        series = {}
        for sample in family.samples:
            if sample.name not in allowed:
                fail("sample %s does not belong to %s %s" % (sample.name, kind, family.name))
            if kind == "counter" and sample.value < 0:
                fail("negative counter: %s" % (sample,))
            if kind == "histogram":
                labels = dict(sample.labels)
                le = labels.pop("le", None)
                key = tuple(sorted(labels.items()))
                entry = series.setdefault(key, {"buckets": [], "count": None})
                if sample.name.endswith("_bucket"):
                    if le is None:
                        fail("bucket without le: %s" % (sample,))
                    entry["buckets"].append((float(le), sample.value))
                elif sample.name.endswith("_count"):
                    entry["count"] = sample.value
        for key, entry in series.items():
            buckets = entry["buckets"]
            bounds = [b for b, _ in buckets]
            if bounds != sorted(bounds) or len(set(bounds)) != len(bounds):
                fail("%s%s: bucket bounds not increasing" % (family.name, key))
            counts = [c for _, c in buckets]
            if counts != sorted(counts):
                fail("%s%s: buckets not cumulative" % (family.name, key))
            if not buckets or not math.isinf(bounds[-1]):
                fail("%s%s: no +Inf bucket" % (family.name, key))
            if entry["count"] != counts[-1]:
                fail("%s%s: +Inf bucket differs from _count" % (family.name, key))

    missing = [name for name in sys.argv[1:] if name not in seen]
    if missing:
        fail("missing families: " + ", ".join(missing))
    print("check_metrics: %d families ok" % len(families))


if __name__ == "__main__":
    main()
