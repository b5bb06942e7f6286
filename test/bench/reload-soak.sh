#!/bin/bash
# test/bench/reload-soak.sh: a measurement, not part of make check.
#
# lb4 gets N (1000) SIGHUPs, GAP_MS (20) apart, alternating between two
# valid configs that change weights, add and remove servers, and add one
# listener and remove another (as t_reload_storm), while two load clients
# open new connections continuously on the two listeners present in both
# configs and 20 long connections stream through them at 100 kB/s each.
# A python driver holds the NOTIFY_SOCKET, sends each SIGHUP, and times it
# to lb4's READY=1.  Reports:
#   - failed new connections (and per 1,000 reloads); long connections
#     byte-exact;
#   - reload latency, signal to READY=1 (min, median, p99, max);
#   - VmRSS after reload 1, 100, 500 and N, and 1 s after the last.
#
# Usage: test/bench/reload-soak.sh   (env: N, GAP_MS, LB4, LB4_SPLICE,
# LB4_WRAP, KEEP=1).  Exit 0 when no connection failed, else 1.
. "$(dirname "$0")/../integration/lib.sh"

N=${N:-1000}
GAP_MS=${GAP_MS:-20}
command -v python3 > /dev/null || skip "python3 is needed for the driver"

. "$HERE/../integration/storm.sh"
storm_setup
cp "$T/A.conf" "$T/lb4.conf"

cat > "$T/driver.py" <<'PY'
import os, shutil, signal, socket, statistics, sys, time
sock, conf, a, b, n, gap, out = sys.argv[1:8]
n, gap = int(n), int(gap) / 1000.0
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sock)
open(out + ".bound", "w").close()
mono = time.monotonic

def recv_until(word, limit):
    end = mono() + limit
    while mono() < end:
        s.settimeout(max(0.01, end - mono()))
        try:
            m = s.recv(4096).decode(errors="replace")
        except socket.timeout:
            break
        if word in m.split("\n"):
            return mono(), m
    return None, None

def rss(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])

t, _ = recv_until("READY=1", 30)
if t is None:
    sys.exit("no READY=1 at start")
end = mono() + 10
while not os.path.exists(out + ".pid") and mono() < end:
    time.sleep(0.01)
time.sleep(0.05)
pid = int(open(out + ".pid").read())
lat, rsses, failed = [], {}, 0
for i in range(1, n + 1):
    shutil.copy(b if i % 2 else a, conf + ".tmp")
    os.rename(conf + ".tmp", conf)
    t0 = mono()
    os.kill(pid, signal.SIGHUP)
    t1, m = recv_until("READY=1", 5)
    if t1 is None:
        sys.exit("reload %d: no READY=1 within 5 s" % i)
    if "failed" in m:
        failed += 1
    lat.append((t1 - t0) * 1e6)
    if i in (1, 100, 500, n):
        rsses[i] = rss(pid)
    time.sleep(gap)
time.sleep(1.0)
settled = rss(pid)
lat.sort()
with open(out, "w") as f:
    f.write("reloads %d failed %d\n" % (n, failed))
    f.write("latency_us min %d median %d p99 %d max %d\n" % (lat[0],
        statistics.median(lat), lat[int(len(lat) * 0.99) - 1], lat[-1]))
    f.write("rss_kb %s settled %d\n" % (" ".join("after_%d=%d" % (k, v)
        for k, v in sorted(rsses.items())), settled))
PY
python3 "$T/driver.py" "$T/notify.sock" "$T/lb4.conf" "$T/A.conf" "$T/B.conf" \
    "$N" "$GAP_MS" "$T/result" > "$T/driver.log" 2>&1 &
DRIVER=$!
PIDS+=("$DRIVER")
wait_until 5 test -e "$T/result.bound" || fatal "driver did not start"
export NOTIFY_SOCKET=$T/notify.sock
start_lb4 lb4
unset NOTIFY_SOCKET
echo "$LB4_PID" > "$T/result.pid"
LIMIT=$(( N * (GAP_MS + 100) / 1000 + 60 ))
bg_client load1 -T $((LIMIT * 1000)) --loop $LIMIT -c 3 --interval 5 \
    -n 300 --expect-echo 127.0.0.1:"$L1"
bg_client load2 -T $((LIMIT * 1000)) --loop $LIMIT -c 3 --interval 5 \
    -n 300 --expect-echo 127.0.0.1:"$L2"
bg_client long1 -T $(( (LIMIT + 30) * 1000 )) -c 10 -s 100 \
    -n $((LIMIT * 100000)) --rate 100000 --expect-echo 127.0.0.1:"$L1"
bg_client long2 -T $(( (LIMIT + 30) * 1000 )) -c 10 -s 200 \
    -n $((LIMIT * 100000)) --rate 100000 --expect-echo 127.0.0.1:"$L2"
t0=$(now_ms)
wait_until "$LIMIT" eval '! alive '"$DRIVER" || fail "driver still running"
wait "$DRIVER" || { cat "$T/driver.log"; fatal "the driver failed"; }
ms=$(( $(now_ms) - t0 ))
kill -USR1 "${CLIENT_PID[load1]}" "${CLIENT_PID[load2]}" \
    "${CLIENT_PID[long1]}" "${CLIENT_PID[long2]}"
conns=0 failed=0
for c in load1 load2; do
	wait_client $c > /dev/null
	line=$(grep '^loop ' "$T/$c.out")
	echo "$c: $line"
	grep '^fail ' "$T/$c.out" | head -5 | sed "s/^/$c: /"
	conns=$((conns + $(kv "$line" conns)))
	failed=$((failed + $(kv "$line" failed)))
done
longok=0
for c in long1 long2; do
	wait_client $c > /dev/null
	longok=$((longok + $(awk '$1 == "conn" && $4 > 0 && $7 == $4 &&
	    $5 == $8 && $10 == "eof" && $14 == 0' "$T/$c.out" | wc -l)))
done
stop_lb4 0 30

echo "== reload soak: $N reloads in $ms ms, splice=$LB4_SPLICE${LB4_WRAP:+, under $LB4_WRAP}"
cat "$T/result"
echo "new connections $conns failed $failed" \
    "(per 1,000 reloads: $(( failed * 1000 / N )))"
echo "long connections byte-exact $longok/20"
[ "$failed" = 0 ] || fail "$failed new connections failed"
[ "$longok" = 20 ] || fail "only $longok/20 long connections byte-exact"
grep -q '^reloads [0-9]* failed 0$' "$T/result" || fail "some reloads failed"
finish
