#!/usr/bin/env python3
"""dpeer.py: download peers for t_pipebudget.sh and t_slowreader.sh.

  dpeer.py serve --listen IP:PORT --bytes N --pidfile FILE
      Every connection gets N bytes of a fixed pattern (see pattern()),
      then a FIN; what the client sends is read and dropped.  asyncio: one
      process holds thousands of connections.

  dpeer.py park --connect IP:PORT --conns K --bytes N --park S [--timeout T]
      Opens K connections (SO_RCVBUF 8 KiB, so that the bytes pile up in
      lb4), reads nothing for S seconds after the last one connected, then
      reads every one to EOF and checks length and pattern.  Prints
      "park conns=K ok=.. reset=.. short=.. mismatch=.. other=.. ms=.."
      Exit 0 when every connection got its N bytes and a clean EOF.

  dpeer.py slow --connect IP:PORT --bytes N --rate BPS [--timeout T]
      One download (from any server, e.g. tback --source) read at BPS
      bytes a second.  Prints
      "slow got=.. end=eof|rst|timeout|error ms=.. sha256=HEX"; exit 0
      when N bytes came and then EOF, 4 on a reset, 1 on a short stream,
      5 on timeout.  --stop-after K --stop-for S: after K bytes, read
      nothing for S seconds, then go on (a reader that stopped).

Every wait is bounded by --timeout (default 60 s).
"""
import argparse
import asyncio
import hashlib
import os
import socket
import sys
import time

BLOCK = bytes((i * 7 + (i >> 8) * 13) & 0xff for i in range(65536))


def pattern(off, n):
    """The n bytes at offset off of the endless repetition of BLOCK."""
    out = bytearray()
    while n > 0:
        o = off % len(BLOCK)
        take = min(n, len(BLOCK) - o)
        out += BLOCK[o:o + take]
        off += take
        n -= take
    return bytes(out)


def hostport(s):
    host, port = s.rsplit(':', 1)
    return host.strip('[]'), int(port)


async def serve_one(reader, writer, nbytes):
    async def drain_input():
        try:
            while await reader.read(65536):
                pass
        except (ConnectionError, OSError):
            pass
    rd = asyncio.ensure_future(drain_input())
    try:
        off = 0
        while off < nbytes:
            take = min(65536, nbytes - off)
            writer.write(pattern(off, take))
            off += take
            await writer.drain()
        writer.write_eof()
        await rd
    except (ConnectionError, OSError):
        pass
    finally:
        rd.cancel()
        writer.close()


async def serve(args):
    host, port = hostport(args.listen)
    srv = await asyncio.start_server(
        lambda r, w: serve_one(r, w, args.bytes), host, port, backlog=4096)
    with open(args.pidfile + '.tmp', 'w') as f:
        f.write('%d\n' % os.getpid())
    os.rename(args.pidfile + '.tmp', args.pidfile)
    async with srv:
        await srv.serve_forever()


def small_socket():
    # Small, so that bytes pile up in lb4 rather than here; not below two
    # segments of a 1500-byte MTU (t_pipebudget.sh sets it on its
    # namespace's lo): a window smaller than a segment stalls the flow.
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
    return s


async def park_one(addr, nbytes, gate, res, deadline):
    loop = asyncio.get_running_loop()
    s = small_socket()
    s.setblocking(False)
    try:
        await asyncio.wait_for(loop.sock_connect(s, addr),
                               max(0.1, deadline - time.monotonic()))
    except Exception:
        res['other'] += 1
        s.close()
        gate['connected'] += 1
        return
    gate['connected'] += 1
    await gate['go'].wait()
    got = 0
    bad = False
    end = 'eof'
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                end = 'timeout'
                break
            data = await asyncio.wait_for(loop.sock_recv(s, 65536), left)
            if not data:
                break
            if not bad and data != pattern(got, len(data)):
                bad = True
            got += len(data)
    except ConnectionResetError:
        end = 'rst'
    except asyncio.TimeoutError:
        end = 'timeout'
    except OSError:
        end = 'other'
    s.close()
    if end == 'rst':
        res['reset'] += 1
    elif end != 'eof':
        res['other'] += 1
    elif bad:
        res['mismatch'] += 1
    elif got != nbytes:
        res['short'] += 1
    else:
        res['ok'] += 1


async def park(args):
    t0 = time.monotonic()
    deadline = t0 + args.timeout
    addr = hostport(args.connect)
    res = dict(ok=0, reset=0, short=0, mismatch=0, other=0)
    gate = dict(connected=0, go=asyncio.Event())
    tasks = []
    for i in range(args.conns):
        tasks.append(asyncio.ensure_future(
            park_one(addr, args.bytes, gate, res, deadline)))
        if i % 100 == 99:
            await asyncio.sleep(0.05)
    while gate['connected'] < args.conns and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    print('parked conns=%d after ms=%d' % (gate['connected'],
          (time.monotonic() - t0) * 1000), flush=True)
    await asyncio.sleep(args.park)
    gate['go'].set()
    await asyncio.gather(*tasks)
    print('park conns=%d ok=%d reset=%d short=%d mismatch=%d other=%d '
          'ms=%d' % (args.conns, res['ok'], res['reset'], res['short'],
                     res['mismatch'], res['other'],
                     (time.monotonic() - t0) * 1000), flush=True)
    return 0 if res['ok'] == args.conns else 1


def slow(args):
    t0 = time.monotonic()
    deadline = t0 + args.timeout
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(max(0.1, deadline - time.monotonic()))
    try:
        s.connect(hostport(args.connect))
    except OSError as e:
        print('slow got=0 end=error(%s) ms=0 mismatch=0' % e)
        return 6
    got = 0
    sha = hashlib.sha256()
    end = 'eof'
    chunk = max(1, args.rate // 20)
    stopped = args.stop_after is None
    try:
        while True:
            if not stopped and got >= args.stop_after:
                stopped = True
                time.sleep(args.stop_for)
                t0 = time.monotonic() - got / args.rate
            # Read at most the rate allows by now.
            due = (got / args.rate) + t0
            now = time.monotonic()
            if now < due:
                time.sleep(min(due - now, 0.2))
                continue
            if now > deadline:
                end = 'timeout'
                break
            s.settimeout(max(0.1, deadline - now))
            data = s.recv(chunk)
            if not data:
                break
            sha.update(data)
            got += len(data)
    except ConnectionResetError:
        end = 'rst'
    except socket.timeout:
        end = 'timeout'
    except OSError as e:
        end = 'error(%s)' % e
    s.close()
    print('slow got=%d end=%s ms=%d sha256=%s' % (
        got, end, (time.monotonic() - t0) * 1000, sha.hexdigest()),
        flush=True)
    if end == 'rst':
        return 4
    if end == 'timeout':
        return 5
    if end != 'eof':
        return 6
    return 0 if got == args.bytes else 1


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest='cmd', required=True)
    p = sub.add_parser('serve')
    p.add_argument('--listen', required=True)
    p.add_argument('--bytes', type=int, required=True)
    p.add_argument('--pidfile', required=True)
    p = sub.add_parser('park')
    p.add_argument('--connect', required=True)
    p.add_argument('--conns', type=int, required=True)
    p.add_argument('--bytes', type=int, required=True)
    p.add_argument('--park', type=float, required=True)
    p.add_argument('--timeout', type=float, default=60)
    p = sub.add_parser('slow')
    p.add_argument('--connect', required=True)
    p.add_argument('--bytes', type=int, required=True)
    p.add_argument('--rate', type=int, required=True)
    p.add_argument('--timeout', type=float, default=60)
    p.add_argument('--stop-after', type=int)
    p.add_argument('--stop-for', type=float, default=0)
    args = ap.parse_args()
    if args.cmd == 'serve':
        try:
            asyncio.run(serve(args))
        except KeyboardInterrupt:
            pass
        return 0
    if args.cmd == 'park':
        return asyncio.run(park(args))
    return slow(args)


if __name__ == '__main__':
    sys.exit(main())
