#!/bin/bash
# Half-close both ways: a FIN from one side becomes a shutdown(SHUT_WR) on
# the other once pending bytes are flushed, and the other direction keeps
# flowing.
#  1. client -> FIN: the server (tback --sink-hash) answers "N SHA" only
#     after it has seen EOF; the client must get that whole answer.
#  2. server -> FIN first: the server (tback --source) sends N bytes and
#     FIN; the client sends its bytes only after it has read that EOF, and
#     the server must receive every one of them.
. "$(dirname "$0")/lib.sh"

P1=$(free_port); P2=$(free_port); B1=$(free_port); B2=$(free_port)
start_back sink -l 127.0.0.1:"$B1" --sink-hash
start_back src -l 127.0.0.1:"$B2" --source 3000000 42
write_conf lb4 <<CONF
global = { workers = 2; };
listeners = (
  { name = "sink"; bind = [ "127.0.0.1:$P1" ]; pool = "sink"; },
  { name = "src"; bind = [ "127.0.0.1:$P2" ]; pool = "src"; }
);
pools = (
  { name = "sink"; servers = ( { address = "127.0.0.1:$B1"; } ); },
  { name = "src"; servers = ( { address = "127.0.0.1:$B2"; } ); }
);
CONF
start_lb4 lb4

# 1. client half-closes; answer comes after the server's EOF.
for n in 1 65536 5000000; do
	out=$("$TCLIENT" -T 20000 -n $n -s 7 --expect-reply-hash 127.0.0.1:"$P1")
	rc=$?
	echo "$out"
	assert_rc "client FIN, $n bytes: reply after server EOF" 0 $rc
	want="$n $("$TCLIENT" --gen $n 7)"
	assert_eq "server's reply for $n bytes" "reply \"$want\"" \
	    "$(grep -oE 'reply "[^"]*"' <<< "$out")"
done

# 2. server half-closes first; client sends after seeing EOF.
out=$("$TCLIENT" -T 20000 -n 2000000 -s 9 --after-eof --expect-recv 3000000 \
    127.0.0.1:"$P2")
rc=$?
echo "$out"
assert_rc "server FIN first, client sends after EOF" 0 $rc
assert_eq "client received the server's 3000000 bytes" \
    "recv 3000000 $("$TCLIENT" --gen 3000000 42)" \
    "$(grep -oE 'recv [0-9]+ [0-9a-f]+' <<< "$out")"
wait_until 5 grep -q '^conn 0 ' "$T/src.log"
assert_grep "server received all 2000000 bytes sent after its FIN" \
    "^conn 0 .* recv=2000000 rsha=$("$TCLIENT" --gen 2000000 9) sent=3000000 .* end=eof" \
    "$T/src.log"

stop_lb4
finish
