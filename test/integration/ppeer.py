#!/usr/bin/env python3
"""ppeer.py: the PROXY-protocol peers of t_acl.sh and t_proxy.sh.

  ppeer.py back --listen IP:PORT --pidfile FILE [--log FILE]
      Accepts connections (one thread each).  Each must start with a
      complete PROXY v1 or v2 header (strict: a bad or missing header
      closes the connection with nothing sent back); the rest of the
      stream, up to the client's FIN, is the payload.  Replies with one
      line and closes:
        pp=v1|v2 fam=TCP4|TCP6 src=IP:PORT dst=IP:PORT len=N sha256=HEX
      and logs the same line plus hdr=HEX (the raw header bytes).
      --plain: no header expected (pp=none), for the ACL tests.

  ppeer.py client --connect IP:PORT [--bind IP] [--send N] [--timeout S]
      Connects (from IP when --bind), sends N bytes (default 1000) of a
      fixed pattern, shuts down its write side, reads the reply to EOF and
      prints "local IP:PORT", "sent len=N sha256=HEX" and "reply LINE".
      Exit: 0 a reply came, 3 refused, 4 reset, 5 timeout, 1 EOF with no
      reply, 6 other error.  --count K: K times, printing only
      "results ok=.. reset=.." (exit 0 when all K ended alike).

Every socket operation has a timeout; nothing waits forever.
"""
import argparse
import errno
import hashlib
import ipaddress
import os
import socket
import struct
import sys
import threading

SIG2 = b"\r\n\r\n\x00\r\nQUIT\n"


def split_hostport(text):
    host, _, port = text.rpartition(":")
    host = host.strip("[]")
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    return fam, host, int(port)


def pattern(n):
    out = bytearray()
    i = 0
    while len(out) < n:
        out += hashlib.sha256(b"ppeer %d" % i).digest()
        i += 1
    return bytes(out[:n])


def recv_exact(conn, n):
    buf = b""
    while len(buf) < n:
        chunk = conn.recv(n - len(buf))
        if not chunk:
            raise ValueError("EOF inside the PROXY header")
        buf += chunk
    return buf


def read_header(conn):
    """Returns (version, family, src, dst, raw header bytes)."""
    first = recv_exact(conn, 12)
    if first == SIG2:
        rest = recv_exact(conn, 4)
        ver_cmd, fam, alen = struct.unpack("!BBH", rest)
        body = recv_exact(conn, alen)
        raw = first + rest + body
        if ver_cmd >> 4 != 2:
            raise ValueError("bad v2 version %#x" % ver_cmd)
        if ver_cmd & 0xF == 0:
            return "v2", "LOCAL", "-", "-", raw
        if ver_cmd & 0xF != 1:
            raise ValueError("bad v2 command %#x" % ver_cmd)
        if fam == 0x11 and alen >= 12:
            s, d, sp, dp = struct.unpack("!4s4sHH", body[:12])
            return ("v2", "TCP4", "%s:%d" % (socket.inet_ntop(
                socket.AF_INET, s), sp), "%s:%d" % (socket.inet_ntop(
                    socket.AF_INET, d), dp), raw)
        if fam == 0x21 and alen >= 36:
            s, d, sp, dp = struct.unpack("!16s16sHH", body[:36])
            return ("v2", "TCP6", "[%s]:%d" % (socket.inet_ntop(
                socket.AF_INET6, s), sp), "[%s]:%d" % (socket.inet_ntop(
                    socket.AF_INET6, d), dp), raw)
        raise ValueError("unexpected v2 family %#x" % fam)
    if not first.startswith(b"PROXY "):
        raise ValueError("no PROXY header: %r" % first)
    line = first
    while not line.endswith(b"\r\n"):
        if len(line) >= 107:
            raise ValueError("v1 line longer than 107 bytes")
        line += recv_exact(conn, 1)
    words = line[:-2].decode("ascii").split(" ")
    if words[1] == "UNKNOWN":
        return "v1", "UNKNOWN", "-", "-", line
    if len(words) != 6 or words[1] not in ("TCP4", "TCP6"):
        raise ValueError("bad v1 line %r" % line)
    fam = socket.AF_INET if words[1] == "TCP4" else socket.AF_INET6
    for w in words[2:4]:  # strict: must parse in the named family
        socket.inet_pton(fam, w)
        if fam == socket.AF_INET6 and "." in w:
            raise ValueError("dotted quad in a TCP6 line %r" % line)
    for w in words[4:6]:
        if not w.isdigit() or (len(w) > 1 and w[0] == "0") or \
                int(w) > 65535:
            raise ValueError("bad port in %r" % line)
    if fam == socket.AF_INET6:
        src = "[%s]:%s" % (ipaddress.ip_address(words[2]), words[4])
        dst = "[%s]:%s" % (ipaddress.ip_address(words[3]), words[5])
    else:
        src = "%s:%s" % (words[2], words[4])
        dst = "%s:%s" % (words[3], words[5])
    return "v1", words[1], src, dst, line


def serve_one(conn, peer, plain, log, lock):
    conn.settimeout(20)
    try:
        if plain:
            ver, fam, src, dst, raw = "none", "-", "%s:%d" % peer[:2], \
                "-", b""
        else:
            ver, fam, src, dst, raw = read_header(conn)
        h = hashlib.sha256()
        n = 0
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                break
            h.update(chunk)
            n += len(chunk)
        line = "pp=%s fam=%s src=%s dst=%s len=%d sha256=%s" % (
            ver, fam, src, dst, n, h.hexdigest())
        conn.sendall(line.encode() + b"\n")
        with lock:
            log.write("%s hdr=%s peer=%s\n" % (line, raw.hex(), peer[0]))
            log.flush()
    except (OSError, ValueError) as e:
        with lock:
            log.write("error %s peer=%s\n" % (e, peer[0]))
            log.flush()
    finally:
        conn.close()


def back(args):
    fam, host, port = split_hostport(args.listen)
    ls = socket.socket(fam, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if fam == socket.AF_INET6:
        ls.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    ls.bind((host, port))
    ls.listen(128)
    log = open(args.log, "a") if args.log else sys.stdout
    lock = threading.Lock()
    with open(args.pidfile + ".tmp", "w") as f:
        f.write("%d\n" % os.getpid())
    os.rename(args.pidfile + ".tmp", args.pidfile)
    while True:
        conn, peer = ls.accept()
        threading.Thread(target=serve_one, daemon=True,
                         args=(conn, peer, args.plain, log, lock)).start()


def client(args):
    if args.count == 1:
        return client_once(args)
    # Quiet repeat: one summary line, exit 0 only when all were alike.
    results = {}
    out = sys.stdout
    sys.stdout = open(os.devnull, "w")
    try:
        for _ in range(args.count):
            rc = client_once(args)
            results[rc] = results.get(rc, 0) + 1
    finally:
        sys.stdout.close()
        sys.stdout = out
    names = {0: "ok", 1: "eof", 3: "refused", 4: "reset", 5: "timeout",
             6: "error"}
    print("results " + " ".join("%s=%d" % (names.get(k, k), v)
                                for k, v in sorted(results.items())))
    return 0 if len(results) == 1 else 1


def client_once(args):
    fam, host, port = split_hostport(args.connect)
    data = pattern(args.send)
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(args.timeout)
    try:
        if args.bind:
            s.bind((args.bind, 0))
        s.connect((host, port))
        local = s.getsockname()
        if fam == socket.AF_INET6:
            print("local [%s]:%d" % local[:2])
        else:
            print("local %s:%d" % local[:2])
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        reply = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            reply += chunk
    except ConnectionRefusedError:
        print("refused")
        return 3
    except (ConnectionResetError, BrokenPipeError):
        print("reset")
        return 4
    except socket.timeout:
        print("timeout")
        return 5
    except OSError as e:
        if e.errno == errno.ENOTCONN:   # the reset came before shutdown()
            print("reset")
            return 4
        print("error %s" % e)
        return 6
    finally:
        s.close()
    print("sent len=%d sha256=%s" % (len(data),
                                     hashlib.sha256(data).hexdigest()))
    if not reply:
        print("eof")
        return 1
    print("reply %s" % reply.decode(errors="replace").strip())
    return 0


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="mode", required=True)
    b = sub.add_parser("back")
    b.add_argument("--listen", required=True)
    b.add_argument("--pidfile", required=True)
    b.add_argument("--log")
    b.add_argument("--plain", action="store_true")
    c = sub.add_parser("client")
    c.add_argument("--connect", required=True)
    c.add_argument("--bind")
    c.add_argument("--send", type=int, default=1000)
    c.add_argument("--timeout", type=float, default=10)
    c.add_argument("--count", type=int, default=1)
    args = p.parse_args()
    if args.mode == "back":
        back(args)
    else:
        sys.exit(client(args))


if __name__ == "__main__":
    main()
