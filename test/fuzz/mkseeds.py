#!/usr/bin/env python3
"""test/fuzz/mkseeds.py: writes the binary seeds of test/fuzz/corpus/
(confint, proxy) from the readable lists below.  The text seeds (conf,
ctl, addr, acl) are committed as they are.  Run from anywhere; it
rewrites only the files it names."""
import ipaddress
import os

HERE = os.path.dirname(os.path.abspath(__file__))

# fuzz_confint.c: byte 0 the context, byte 1 bit 0 the key (0 weight, 1
# max_connections), then each literal character as its index in lit_chars.
LIT_CHARS = ("0123456789012345678901234567890123456789abcdefABCDEFxXL+-.eE")
CONFINT = [
    ("weight-5", 0, 0, "5"),
    ("weight-1000", 0, 0, "1000"),
    ("weight-1001", 0, 0, "1001"),
    ("weight-0", 0, 0, "0"),
    ("weight-wraps-to-1", 0, 0, "4294967297"),
    ("weight-wraps-comment", 1, 0, "4294967297"),
    ("weight-block-comment", 2, 0, "4294967298"),
    ("weight-string-escapes", 4, 0, "4294967297"),
    ("weight-multiline-string", 5, 0, "4294967297"),
    ("weight-hex", 0, 0, "0x3e8"),
    ("weight-hex-wraps", 0, 0, "0x100000001"),
    ("weight-int64", 0, 0, "7L"),
    ("weight-int64-big", 0, 0, "4294967297L"),
    ("weight-hex64", 0, 0, "0x10LL"),
    ("weight-plus", 0, 0, "+5"),
    ("weight-negative", 0, 0, "-1"),
    ("weight-float", 0, 0, "1.5"),
    ("weight-exp", 0, 0, "1e3"),
    ("max-int", 3, 1, "2147483647"),
    ("max-int-plus-1", 3, 1, "2147483648"),
    ("max-int-min", 6, 1, "-2147483648"),
    ("max-int-min-minus-1", 6, 1, "-2147483649"),
    ("max-huge", 0, 1, "99999999999999999999"),
    ("max-hex-ffffffff", 0, 1, "0xffffffff"),
    ("max-hex64-huge", 0, 1, "0xffffffffffffffffL"),
    ("max-leading-zeros", 0, 1, "0000000000000000000042"),
]

# fuzz_proxy.c: version, buffer size (bit 7: PROXY_HEADER_MAX), then two
# ends: kind (0 none, 1 v4, 2 v6, 3 mapped, 4 unix, 5 unspec), 16 address
# bytes, port (big-endian).
V = {"none": 0, "v1": 1, "v2": 2, "bad": 3}
K = {"null": 0, "v4": 1, "v6": 2, "mapped": 3, "unix": 4, "unspec": 5}
PROXY = [
    ("v1-tcp4", "v1", 0x80, ("v4", "192.0.2.1", 40000),
     ("v4", "198.51.100.7", 443)),
    ("v1-tcp6", "v1", 0x80, ("v6", "2001:db8::1", 40000),
     ("v6", "2001:db8:0:0:1::2", 80)),
    ("v1-tcp6-longest", "v1", 0x80,
     ("v6", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535),
     ("v6", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", 65535)),
    ("v1-mapped", "v1", 0x80, ("mapped", "::ffff:10.0.0.1", 1),
     ("mapped", "::ffff:10.0.0.2", 2)),
    ("v1-mixed", "v1", 0x80, ("v4", "10.0.0.1", 1),
     ("v6", "::1", 2)),
    ("v1-unknown", "v1", 0x80, ("unix", "::", 0), ("v4", "10.0.0.1", 2)),
    ("v1-null", "v1", 0x80, ("null", "::", 0), ("null", "::", 0)),
    ("v1-short-buffer", "v1", 40, ("v6", "2001:db8::1", 40000),
     ("v6", "2001:db8::2", 80)),
    ("v1-exact-buffer", "v1", 46, ("v4", "192.0.2.1", 40000),
     ("v4", "198.51.100.7", 443)),
    ("v2-tcp4", "v2", 0x80, ("v4", "192.0.2.1", 40000),
     ("v4", "198.51.100.7", 443)),
    ("v2-tcp6", "v2", 0x80, ("v6", "2001:db8::1", 1),
     ("v6", "::", 65535)),
    ("v2-local", "v2", 0x80, ("unspec", "::", 0), ("unspec", "::", 0)),
    ("v2-exact-tcp6", "v2", 52, ("v6", "::1", 1), ("v6", "::2", 2)),
    ("v2-short-tcp6", "v2", 51, ("v6", "::1", 1), ("v6", "::2", 2)),
    ("v2-mapped-mixed", "v2", 0x80, ("mapped", "::ffff:1.2.3.4", 5),
     ("v6", "fe80::1", 6)),
    ("none", "none", 0x80, ("v4", "10.0.0.1", 1), ("v4", "10.0.0.2", 2)),
    ("bad-version", "bad", 0x80, ("v4", "10.0.0.1", 1),
     ("v4", "10.0.0.2", 2)),
]


def end(kind, ip, port):
    raw = ipaddress.ip_address(ip).packed
    raw = (raw + bytes(16))[:16]
    return bytes([K[kind]]) + raw + port.to_bytes(2, "big")


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


for name, ctx, key, lit in CONFINT:
    write("confint", name, bytes([ctx, key]) +
          bytes(LIT_CHARS.index(c) for c in lit))
for name, ver, size, s, d in PROXY:
    write("proxy", name, bytes([V[ver], size]) + end(*s) + end(*d))
