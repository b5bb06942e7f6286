#!/usr/bin/env python3
"""upeer.py: the peers of t_urgent.sh (TCP urgent data through lb4).

  upeer.py back --listen IP:PORT --pidfile FILE
      Accepts connections one at a time (each bounded to 20 s).  Reads the
      whole stream to the client's FIN, then answers with the same plan the
      client asked for (see below) and closes.  It logs one line per
      connection: "got len=N sha256=HEX".
  upeer.py client --connect IP:PORT --plan PLAN
      PLAN is BEFORE,AFTER (byte counts): sends BEFORE bytes of a pattern,
      one byte "U" with MSG_OOB, then AFTER bytes, then FIN, all without
      pausing; reads the reply to EOF.  The reply is the server's
      "got ..." line followed by the server's own BEFORE + "U"(urgent) +
      AFTER bytes.  Prints "sent len=.. sha256=..", the server's line, and
      "recv len=.. sha256=.. want=..".  Exit 0 when every byte arrived in
      order both ways (the urgent byte inline), 1 otherwise, 5 on timeout.
"""
import argparse
import hashlib
import os
import socket
import sys


def pattern(n, seed):
    block = hashlib.sha256(seed.encode()).digest() * 2048   # 64 KiB
    out = bytearray()
    while len(out) < n:
        out += block
    return bytes(out[:n])


def stream(before, after, seed):
    """The bytes as the receiver must see them: the urgent byte inline."""
    return pattern(before, seed) + b"U" + pattern(after, seed + "/2")


def send_plan(sock, before, after, seed):
    sock.sendall(pattern(before, seed))
    sock.send(b"U", socket.MSG_OOB)
    sock.sendall(pattern(after, seed + "/2"))


def read_all(sock):
    chunks = []
    while True:
        b = sock.recv(1 << 20)
        if not b:
            return b"".join(chunks)
        chunks.append(b)


def back(args):
    host, port = args.listen.rsplit(":", 1)
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((host, int(port)))
    srv.listen(16)
    with open(args.pidfile + ".tmp", "w") as f:
        f.write(str(os.getpid()))
    os.rename(args.pidfile + ".tmp", args.pidfile)
    while True:
        conn, _ = srv.accept()
        conn.settimeout(20)
        try:
            data = read_all(conn)
            # The plan travels in the first line of the stream.
            head, _, _ = data.partition(b"\n")
            before, after = (int(x) for x in head.split(b",")[:2])
            line = "got len=%d sha256=%s\n" % (
                len(data), hashlib.sha256(data).hexdigest())
            print(line, end="", flush=True)
            conn.sendall(line.encode())
            send_plan(conn, before, after, "down")
        except (OSError, ValueError) as e:
            print("error %s" % e, flush=True)
        conn.close()


def client(args):
    before, after = (int(x) for x in args.plan.split(","))
    head = b"%d,%d\n" % (before, after)
    want_up = head + stream(before, after, "up")
    host, port = args.connect.rsplit(":", 1)
    sock = socket.create_connection((host, int(port)), timeout=20)
    try:
        sock.sendall(head)
        send_plan(sock, before, after, "up")
        sock.shutdown(socket.SHUT_WR)
        reply = read_all(sock)
    except socket.timeout:
        print("timeout")
        return 5
    print("sent len=%d sha256=%s" % (len(want_up),
                                     hashlib.sha256(want_up).hexdigest()))
    line, _, rest = reply.partition(b"\n")
    print("server " + line.decode(errors="replace"))
    want_down = stream(before, after, "down")
    print("recv len=%d sha256=%s want=%s" % (
        len(rest), hashlib.sha256(rest).hexdigest(),
        hashlib.sha256(want_down).hexdigest()))
    ok = (line.decode() == "got len=%d sha256=%s" % (
        len(want_up), hashlib.sha256(want_up).hexdigest())
          and rest == want_down)
    return 0 if ok else 1


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("back")
    b.add_argument("--listen", required=True)
    b.add_argument("--pidfile", required=True)
    c = sub.add_parser("client")
    c.add_argument("--connect", required=True)
    c.add_argument("--plan", required=True)
    args = p.parse_args()
    sys.exit(back(args) if args.cmd == "back" else client(args))


if __name__ == "__main__":
    main()
