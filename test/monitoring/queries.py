#!/usr/bin/env python3
"""queries.py: the PromQL of the Grafana dashboard and the alert rules.

  queries.py check DASHBOARD.json   every query of the dashboard (panels
                                    and variables) parses: they are put
                                    in a rules file, with Grafana's
                                    variables replaced, for promtool
                                    check rules.  Exit 1 when not.
  queries.py names FILE...          the lb4_* sample names that the
                                    queries of each FILE (dashboard .json
                                    or rules .yml) read, one a line.
"""
import json
import os
import re
import subprocess
import sys
import tempfile

import yaml

GRAFANA_VARS = [("$__rate_interval", "1m"), ("$__interval", "1m"),
                ("$__range", "1h"), ("${datasource}", "x"),
                ("$job", "lb4"), ("$instance", ".*")]


def dashboard_queries(path):
    d = json.load(open(path))
    out = []

    def walk(panels):
        for p in panels:
            for t in p.get("targets", []):
                out.append((p.get("title", "?"), t["expr"]))
            walk(p.get("panels", []))
    walk(d.get("panels", []))
    for v in d.get("templating", {}).get("list", []):
        q = v.get("query")
        if isinstance(q, dict):
            q = q.get("query")
        if v.get("type") == "query" and q:
            m = re.match(r"label_values\((.*),\s*\w+\)$", q)
            out.append(("variable " + v["name"], m.group(1) if m else q))
    return out


def rule_queries(path):
    d = yaml.safe_load(open(path))
    return [(r.get("alert") or r.get("record"), r["expr"])
            for g in d["groups"] for r in g["rules"]]


def queries(path):
    return dashboard_queries(path) if path.endswith(".json") \
        else rule_queries(path)


def names(expr):
    # Sample names: lb4_..., not followed by '(' (no lb4 function names),
    # nor inside a label matcher's value.
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    return set(re.findall(r"\b(lb4_[a-zA-Z0-9_]+)\b", expr))


def check(path):
    rules = []
    for i, (title, q) in enumerate(queries(path)):
        for k, v in GRAFANA_VARS:
            q = q.replace(k, v)
        rules.append({"record": "dashboard:query_%d" % i, "expr": q,
                      "labels": {"panel": title}})
    with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False) as f:
        yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]},
                       f)
    try:
        r = subprocess.run(["promtool", "check", "rules", f.name],
                           capture_output=True, text=True)
    finally:
        os.unlink(f.name)
    sys.stdout.write(r.stdout.replace(f.name, path))
    sys.stderr.write(r.stderr.replace(f.name, path))
    print("%s: %d queries" % (path, len(rules)))
    return r.returncode


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "check":
        sys.exit(1 if check(sys.argv[2]) else 0)
    if len(sys.argv) >= 3 and sys.argv[1] == "names":
        s = set()
        for p in sys.argv[2:]:
            for _, q in queries(p):
                s |= names(q)
        print("\n".join(sorted(s)))
        sys.exit(0)
    sys.stderr.write(__doc__)
    sys.exit(2)
