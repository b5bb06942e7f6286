#!/usr/bin/env python3
"""fill-annotations.py RULES_TEST_YML: writes into each exp_alerts entry
of a promtool rule test the annotations the rules render for it.

A maintainer's tool, for after a summary or description of
etc/prometheus/lb4-alerts.yml changed: promtool test rules compares the
rendered annotations too.  It runs promtool, takes the "got" annotations
of each failing alert (matched by alertname, eval_time and labels) and
rewrites the exp_annotations below the matching exp_labels line.  Review
the diff: the labels and which alerts fire are not changed by it.
"""
import json
import re
import subprocess
import sys

import yaml

path = sys.argv[1]
res = subprocess.run(["promtool", "test", "rules", path],
                     capture_output=True, text=True)
text = res.stdout + res.stderr
STR = r'"((?:[^"\\]|\\.)*)"'

got = {}
cur = None
for line in text.splitlines():
    m = re.match(r'\s*alertname: (\w+), time: (\w+),', line)
    if m:
        cur = (m.group(1), m.group(2))
        section = None
        continue
    if re.match(r'\s*got:\[', line):
        section = "got"
        continue
    if re.match(r'\s*exp:\[', line):
        section = "exp"
        continue
    m = re.match(r'\s*Labels:\{(.*)\}$', line)
    if m and cur and section == "got":
        labels = {k: json.loads('"' + v + '"') for k, v in
                  re.findall(r'(\w+)=' + STR, m.group(1))}
        last = labels
        continue
    m = re.match(r'\s*Annotations:\{(.*)\}$', line)
    if m and cur and section == "got":
        ann = {k: json.loads('"' + v + '"') for k, v in
               re.findall(r'(\w+)=' + STR, m.group(1))}
        key = (cur[0], cur[1], frozenset((k, v) for k, v in last.items()
                                         if k != "alertname"))
        got[key] = ann

lines = open(path).read().split("\n")
res_lines = []
alert = time = None
i = 0
filled = 0
while i < len(lines):
    line = lines[i]
    res_lines.append(line)
    m = re.match(r'\s*- eval_time: (\w+)', line)
    if m:
        time = m.group(1)
    m = re.match(r'\s*alertname: (\w+)', line)
    if m:
        alert = m.group(1)
    m = re.match(r'(\s*)- exp_labels: (.*)$', line)
    i += 1
    if not m:
        continue
    ind = m.group(1) + "  "
    # Drop an old exp_annotations block.
    if i < len(lines) and lines[i].startswith(ind + "exp_annotations:"):
        i += 1
        while i < len(lines) and lines[i].startswith(ind + "  "):
            i += 1
    labels = yaml.safe_load(m.group(2))
    key = (alert, time, frozenset((k, str(v)) for k, v in labels.items()))
    if key not in got:
        continue
    res_lines.append(ind + "exp_annotations:")
    for k, v in sorted(got[key].items()):
        res_lines.append(ind + "  " + k + ": " + json.dumps(v))
    filled += 1
open(path, "w").write("\n".join(res_lines))
print("%s: %d exp_annotations written" % (path, filled))
