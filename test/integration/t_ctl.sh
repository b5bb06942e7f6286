#!/bin/bash
# lb4ctl and the control socket (lb4ctl(8)): every command, bad input (one
# error line, exit 1; usage and an unreachable lb4, exit 2), `health` exit
# codes, drain (an established connection keeps flowing while new ones go
# elsewhere), `set weight` (the spread follows SWRR exactly), and raw
# garbage on the socket that must not crash or stall lb4.
. "$(dirname "$0")/lib.sh"

P=$(free_port); Q=$(free_port)
A=$(free_port); B=$(free_port); C=$(free_port); X=$(free_port); Y=$(free_port)
start_back a -l 127.0.0.1:"$A" --id a --quiet
start_back b -l 127.0.0.1:"$B" --id b --quiet
start_back c -l 127.0.0.1:"$C" --id c --quiet
start_back x -l 127.0.0.1:"$X" --echo --quiet
start_back y -l 127.0.0.1:"$Y" --echo --quiet
write_conf lb4 <<CONF
global = { workers = 2; };
listeners = (
  { name = "ids"; bind = [ "127.0.0.1:$P" ]; pool = "p"; },
  { name = "echo"; bind = [ "127.0.0.1:$Q" ]; pool = "q"; }
);
pools = (
  { name = "p"; servers = ( { address = "127.0.0.1:$A"; },
    { address = "127.0.0.1:$B"; }, { address = "127.0.0.1:$C"; } ); },
  { name = "q"; servers = ( { address = "127.0.0.1:$X"; },
    { address = "127.0.0.1:$Y"; } ); }
);
CONF
start_lb4 lb4
export LB4_SOCKET=$T/lb4.sock

# ctl ARGS...: runs lb4ctl; sets OUT, ERR and RC.
ctl() {
	"$LB4CTL" "$@" > "$T/ctl.out" 2> "$T/ctl.err"
	RC=$?
	OUT=$(cat "$T/ctl.out")
	ERR=$(cat "$T/ctl.err")
}

# total POOL ADDR: the server's total= from show servers.
total() {
	"$LB4CTL" show servers | awk -v p="$1" -v a="$2" \
	    '$1 == p && $2 == a { for (i = 3; i <= NF; i++)
	    if ($i ~ /^total=/) { sub("total=", "", $i); print $i } }'
}

ctl show servers
assert_eq "show servers: exit" 0 $RC
assert_eq "show servers: one line per server" 5 "$(wc -l <<< "$OUT")"
assert_grep "show servers: pool, address, state, weight, active, total" \
    "^p 127\.0\.0\.1:$A up weight=1 active=0 total=0$" "$T/ctl.out"
ctl show stats
assert_eq "show stats: exit" 0 $RC
assert_grep "show stats: the listener line" "^listener ids pool=p connections=0 " \
    "$T/ctl.out"
assert_grep "show stats: the pool line" "^pool q servers=2 up=2$" "$T/ctl.out"

# Bad input: one error line on stderr, exit 1, nothing on stdout.
for cmd in "bogus" "show" "show everything" "enable server" \
    "enable server nopool 127.0.0.1:1" "disable server p 127.0.0.1:1" \
    "drain server p not-an-address" "set weight p 127.0.0.1:$A 0" \
    "set weight p 127.0.0.1:$A 1001" "set weight p 127.0.0.1:$A x" \
    "health now" "reload please"; do
	# shellcheck disable=SC2086  # split the command into words
	ctl $cmd
	assert_eq "'$cmd': exit" 1 $RC
	assert_eq "'$cmd': one error line" 1 "$(grep -c '^lb4ctl: ' <<< "$ERR")"
	assert_eq "'$cmd': nothing on stdout" "" "$OUT"
done
ctl
assert_eq "no command: usage, exit" 2 $RC
LB4_SOCKET=$T/nothing-here.sock ctl health
assert_eq "unreachable lb4: exit" 2 $RC
assert_grep "unreachable lb4: says so" "cannot reach lb4" "$T/ctl.err"
ctl -s "$T/lb4.sock" health
assert_eq "-s SOCKET: health exit" 0 $RC

# health: 0 while every listener can be served, 1 otherwise.
ctl health
assert_eq "health with every server up: exit" 0 $RC
for s in $A $B $C; do ctl disable server p 127.0.0.1:"$s"; done
assert_eq "disable: exit" 0 $RC
ctl health
assert_eq "health with pool p all disabled: exit" 1 $RC
assert_grep "health names the listener" "unhealthy: listener ids" "$T/ctl.err"
ctl show servers
assert_grep "show servers: disabled" "^p 127\.0\.0\.1:$B disabled " "$T/ctl.out"
out=$("$TCLIENT" -T 3000 --seq 3 127.0.0.1:"$P")
assert_grep "no server: clients are closed" "errors 3" <(echo "$out")
for s in $A $B $C; do ctl enable server p 127.0.0.1:"$s"; done
ctl health
assert_eq "health after enable: exit" 0 $RC

# set weight: takes effect for the next pick, SWRR from fresh scores.
ctl set weight p 127.0.0.1:"$A" 5
assert_eq "set weight: exit" 0 $RC
out=$("$TCLIENT" -T 10000 --seq 14 --show 14 127.0.0.1:"$P")
assert_eq "spread after set weight 5,1,1" \
    "first a a b a c a a a a b a c a a" "$(grep '^first' <<< "$out")"
ctl set weight p 127.0.0.1:"$C" 3
out=$("$TCLIENT" -T 10000 --seq 9 --show 9 127.0.0.1:"$P")
assert_eq "spread after set weight 5,1,3" "first a c a b a c a c a" \
    "$(grep '^first' <<< "$out")"

# drain: a long connection on x keeps flowing; new ones all go to y.
N=$((3 * 1024 * 1024))
bg_client long -T 30000 -n $N -s 7 --rate $((N / 3)) --expect-echo 127.0.0.1:"$Q"
wait_until 5 eval '[ "$(total q 127.0.0.1:'"$X"')" = 1 ]' ||
    fail "the long connection did not reach x"
ctl drain server q 127.0.0.1:"$X"
assert_eq "drain: exit" 0 $RC
ctl show servers
assert_grep "show servers: draining with its connection" \
    "^q 127\.0\.0\.1:$X draining weight=1 active=1 total=1$" "$T/ctl.out"
y0=$(total q 127.0.0.1:"$Y")
for i in $(seq 1 10); do
	"$TCLIENT" -T 5000 -n 1000 -s "$i" --expect-echo 127.0.0.1:"$Q" > /dev/null ||
	    fail "new connection $i while x drains"
done
assert_eq "new connections while x drains went to y" $((y0 + 10)) \
    "$(total q 127.0.0.1:"$Y")"
assert_eq "none went to x" 1 "$(total q 127.0.0.1:"$X")"
wait_client long
assert_rc "the drained server's connection ran to the end, byte-exact" 0 $?
ctl enable server q 127.0.0.1:"$X"
ctl show servers
assert_grep "enable ends a drain" "^q 127\.0\.0\.1:$X up " "$T/ctl.out"

# Garbage on the socket: an over-long line, binary, a client that sends
# nothing and holds on.  lb4 answers the others and stays up.
python3 - "$T/lb4.sock" > "$T/raw.out" <<'PY'
import socket, sys
def talk(data, hold=False):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(8)
    s.connect(sys.argv[1])
    if data:
        try:
            s.sendall(data)
        except OSError:
            pass
    if hold:
        return s
    out = b""
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            out += d
    except OSError:
        pass
    s.close()
    return out.decode(errors="replace").strip().splitlines()[-1:]
silent = [talk(b"", hold=True) for _ in range(3)]
print("long", talk(b"x" * 100000))
print("binary", talk(bytes(range(256)) * 4 + b"\n"))
print("empty", talk(b"\n"))
print("health", talk(b"health\n"))
PY
cat "$T/raw.out"
assert_grep "an over-long request gets an error" "^long \['error: request too long'\]" "$T/raw.out"
assert_grep "binary garbage gets an error" "^binary \['error: unknown command" "$T/raw.out"
assert_grep "an empty line gets an error" "^empty \['error: unknown command" "$T/raw.out"
assert_grep "lb4 answers while silent clients hold on" "^health \['ok'\]" "$T/raw.out"
alive "$LB4_PID" || fail "lb4 died"
ctl health
assert_eq "health after the garbage: exit" 0 $RC

stop_lb4
finish
