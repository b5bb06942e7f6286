#!/usr/bin/env python3
"""wdpage.py: drives headless Chromium through chromedriver (the W3C
WebDriver protocol: HTTP and JSON, urllib only) against lb4's status page,
for t_statuspage.sh.

  wdpage.py DRIVER_URL PAGE_URL PROFILE_DIR STEP...

Steps, in order, each bounded:
  open                    load PAGE_URL
  servers POOL/ADDR=STATE[,POOL/ADDR=STATE...] SECS
                          wait until each server row shows STATE
  offline SECS            wait until the page says lb4 is not answering
  plot SECS               wait until the connections plot has a non-zero point
  truth POOL/ADDR=STATE SECS
                          wait until lb4's own status.json says so (not
                          the page: the time the page then takes is what
                          the next "servers" step bounds)
  kill PID                send SIGTERM to PID (a server, or lb4)
  refreshes               print how many refreshes the page has made
  mark                    print the ms since start (to time the next wait)
  selfcontained           every resource the page loaded is same-origin
  text FILE               write the page's visible text to FILE

Each step prints one line "ok STEP ... ms=N" (N: how long the wait took),
or "fail STEP: why" and exits 1.
"""
import json
import os
import signal
import sys
import time
import urllib.request

drv, page, profile = sys.argv[1], sys.argv[2], sys.argv[3]
steps = sys.argv[4:]
T0 = time.monotonic()


def ms():
    return int((time.monotonic() - T0) * 1000)


def call(method, path, body=None, timeout=30):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(drv + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read().decode() or "null")["value"]


def js(script, *args):
    return call("POST", "/session/%s/execute/sync" % sid,
                {"script": script, "args": list(args)})


def fail(msg):
    print("fail " + msg, flush=True)
    try:
        print("page text:\n" + js("return document.body.innerText;"))
    except Exception:
        pass
    sys.exit(1)


def wait(what, secs, fn):
    end = time.monotonic() + secs
    t = ms()
    last = None
    while time.monotonic() < end:
        last = fn()
        if last is True:
            return ms() - t
        time.sleep(0.1)
    fail("%s: not within %s s (last: %s)" % (what, secs, last))


caps = {"capabilities": {"alwaysMatch": {
    "browserName": "chrome",
    "goog:chromeOptions": {
        "binary": "/usr/bin/chromium",
        "args": ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-dev-shm-usage",
                 "--disable-background-networking",
                 "--disable-component-update", "--disable-sync",
                 "--no-first-run", "--user-data-dir=" + profile],
    }}}}
try:
    sid = call("POST", "/session", caps, timeout=60)["sessionId"]
except Exception as e:
    print("fail session: %s" % e)
    sys.exit(1)

try:
    i = 0
    while i < len(steps):
        s = steps[i]
        i += 1
        if s == "open":
            call("POST", "/session/%s/url" % sid, {"url": page})
            t = wait("open", 15, lambda: js(
                "return document.body.getAttribute('data-status');") == "ok"
                or js("return document.body.getAttribute('data-status');"))
            print("ok open ms=%d" % t, flush=True)
        elif s == "servers":
            want = dict(w.split("=") for w in steps[i].split(","))
            secs = float(steps[i + 1])
            i += 2

            def check():
                got = js("""var r = {};
                    document.querySelectorAll('tr[data-server]').forEach(
                      function (t) { r[t.getAttribute('data-server')] =
                        t.getAttribute('data-state') + ' ' +
                        t.cells[1].innerText; });
                    return r;""")
                for k, v in want.items():
                    # the attribute and the badge a person reads
                    if got.get(k) != v + " " + v:
                        return got
                return True
            t = wait("servers " + steps[i - 2], secs, check)
            print("ok servers %s ms=%d" % (steps[i - 2], t), flush=True)
        elif s == "offline":
            secs = float(steps[i])
            i += 1
            t = wait("offline", secs, lambda: js(
                "var o = document.getElementById('offline');"
                "return document.body.getAttribute('data-status') =="
                " 'offline' && o.offsetParent !== null &&"
                " o.innerText.indexOf('lb4 is not answering') == 0"
                " || o.innerText;"))
            print("ok offline ms=%d text=%s" % (t, json.dumps(js(
                "return document.getElementById('offline').innerText;"))),
                flush=True)
        elif s == "plot":
            secs = float(steps[i])
            i += 1
            t = wait("plot", secs, lambda: js(
                "var p = document.querySelector('#plot-conns polyline');"
                "if (!p) return 'no polyline';"
                "if (!p.getBBox || p.getBBox().width < 10)"
                " return 'polyline not rendered as SVG';"
                "var ys = p.getAttribute('points').split(' ').map("
                "function (q) { return parseFloat(q.split(',')[1]); });"
                "return ys.length > 1 && Math.min.apply(null, ys) < 70"
                " || p.getAttribute('points');"))
            print("ok plot ms=%d" % t, flush=True)
        elif s == "truth":
            pa, st = steps[i].split("=")
            secs = float(steps[i + 1])
            i += 2

            def truth():
                with urllib.request.urlopen(page + "status.json",
                                            timeout=5) as r:
                    d = json.loads(r.read().decode())
                for p in d["pools"]:
                    for sv in p["servers"]:
                        if p["name"] + "/" + sv["address"] == pa:
                            return sv["state"] == st or sv["state"]
                return "no such server"
            t = wait("truth " + pa, secs, truth)
            print("ok truth %s=%s ms=%d" % (pa, st, t), flush=True)
        elif s == "kill":
            os.kill(int(steps[i]), signal.SIGTERM)
            i += 1
            print("ok kill", flush=True)
        elif s == "refreshes":
            print("ok refreshes n=%d" % js("return window.lb4Refreshes;"),
                  flush=True)
        elif s == "mark":
            print("ok mark at=%d" % ms(), flush=True)
        elif s == "selfcontained":
            bad = js("""var o = location.origin, bad = [];
                performance.getEntriesByType('resource').forEach(
                  function (e) { if (e.name.indexOf(o + '/') != 0)
                    bad.push(e.name); });
                document.querySelectorAll('[src],link[href]').forEach(
                  function (e) { bad.push(e.outerHTML); });
                return bad;""")
            if bad:
                fail("selfcontained: %s" % bad)
            print("ok selfcontained", flush=True)
        elif s == "text":
            with open(steps[i], "w") as f:
                f.write(js("return document.body.innerText;"))
            i += 1
            print("ok text", flush=True)
        else:
            fail("unknown step %s" % s)
finally:
    try:
        call("DELETE", "/session/%s" % sid, timeout=10)
    except Exception:
        pass
