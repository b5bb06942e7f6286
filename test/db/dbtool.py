#!/usr/bin/python3
"""test/db/dbtool.py: the client side of test/db/t_patroni.sh.

  load PORT SECONDS FIRST_ID OUT   one fresh connection per INSERT through
        PORT, every 20 ms, for at most SECONDS (SIGTERM ends it early).
        OUT gets "ok ID MS SERVERPORT" or "fail ID MS error" per insert
        (MS since the epoch); an ok line is written only after COMMIT
        returned: it is an acknowledged write.
  hold PORT SECONDS OUT   one connection through PORT, "SELECT 1" every
        100 ms; "open MS SERVERPORT" first, then "closed MS error" when a
        query fails (then it exits), or "still MS" at the end.
  stub PORT FILE          HTTP: GET /primary answers 200 while FILE exists,
        else 503 (a node that wrongly claims to be the primary).
  gap OUT FROM_MS         after FROM_MS: the longest time between two
        acknowledged writes and the failed inserts: "gap MS failed N ok N"
  ids OUT                 the acknowledged ids, one a line
"""
import http.server
import os
import signal
import sys
import time

stop = False


def on_term(signo, frame):
    global stop
    stop = True


def ms():
    return int(time.time() * 1000)


def connect(port):
    import psycopg2
    # No statement_timeout: a COMMIT cancelled while it waits for the
    # synchronous standby is committed locally and reported as a success
    # (with a warning), which would count a write as acknowledged that no
    # standby has.
    return psycopg2.connect(host="127.0.0.1", port=port, user="postgres",
                            dbname="postgres", connect_timeout=2)


def load(port, seconds, first, out):
    signal.signal(signal.SIGTERM, on_term)
    end = time.time() + seconds
    i = first
    with open(out, "a", buffering=1) as f:
        while not stop and time.time() < end:
            t = ms()
            try:
                c = connect(port)
                try:
                    cur = c.cursor()
                    cur.execute("INSERT INTO w (id) VALUES (%s) "
                                "RETURNING inet_server_port()", (i,))
                    sp = cur.fetchone()[0]
                    c.commit()
                finally:
                    c.close()
                f.write("ok %d %d %s\n" % (i, t, sp))
            except Exception as e:
                f.write("fail %d %d %s\n" % (i, t,
                        str(e).strip().replace("\n", " ")[:160]))
            i += 1
            time.sleep(0.02)


def hold(port, seconds, out):
    signal.signal(signal.SIGTERM, on_term)
    end = time.time() + seconds
    with open(out, "a", buffering=1) as f:
        c = connect(port)
        c.autocommit = True
        cur = c.cursor()
        cur.execute("SELECT inet_server_port()")
        f.write("open %d %s\n" % (ms(), cur.fetchone()[0]))
        while not stop and time.time() < end:
            try:
                cur.execute("SELECT 1")
                cur.fetchone()
            except Exception as e:
                f.write("closed %d %s\n" % (ms(),
                        str(e).strip().replace("\n", " ")[:160]))
                return
            time.sleep(0.1)
        f.write("still %d\n" % ms())


class Stub(http.server.BaseHTTPRequestHandler):
    flag = ""

    def do_GET(self):
        up = self.path == "/primary" and os.path.exists(Stub.flag)
        body = b'{"role": "master"}' if up else b'{"role": "replica"}'
        self.send_response(200 if up else 503)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def stub(port, flag):
    Stub.flag = flag
    http.server.HTTPServer(("127.0.0.1", port), Stub).serve_forever()


def records(out):
    with open(out) as f:
        for line in f:
            w = line.split()
            if len(w) >= 3 and w[0] in ("ok", "fail"):
                yield w[0], int(w[1]), int(w[2])


def gap(out, since):
    last = None
    worst = 0
    failed = ok = 0
    for kind, _, t in records(out):
        if t < since:
            if kind == "ok":
                last = t
            continue
        if kind == "ok":
            ok += 1
            if last is not None and t - last > worst:
                worst = t - last
            last = t
        else:
            failed += 1
    print("gap %d failed %d ok %d" % (worst, failed, ok))


def ids(out):
    for kind, i, _ in records(out):
        if kind == "ok":
            print(i)


def main():
    a = sys.argv[1:]
    if a[:1] == ["load"]:
        load(int(a[1]), float(a[2]), int(a[3]), a[4])
    elif a[:1] == ["hold"]:
        hold(int(a[1]), float(a[2]), a[3])
    elif a[:1] == ["stub"]:
        stub(int(a[1]), a[2])
    elif a[:1] == ["gap"]:
        gap(a[1], int(a[2]))
    elif a[:1] == ["ids"]:
        ids(a[1])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
