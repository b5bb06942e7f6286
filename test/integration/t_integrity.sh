#!/bin/bash
# Bytes: nothing lost, reordered, duplicated or crossed between
# connections, in either direction, at volume.
#  1. 4 concurrent connections, each 64 MiB + 12345 bytes each way at once
#     (about 256 MiB per direction in all) through a tback --source: every
#     byte stream's SHA-256 as sent by one peer must equal the one
#     received by the other, per connection (compared as sets, since the
#     server numbers connections in accept order).
#  2. 32 concurrent echo connections of 1 MiB + 1 byte, three times.
#  3. 200 sequential echo connections of 100000 bytes (pipe reuse).
. "$(dirname "$0")/lib.sh"

N=$((64 * 1024 * 1024 + 12345))
P=$(free_port); B=$(free_port); E=$(free_port); PE=$(free_port)
start_back src -l 127.0.0.1:"$B" --source $N 1000
start_back echo -l 127.0.0.1:"$E" --echo --quiet
write_conf lb4 <<CONF
global = { workers = 2; };
listeners = (
  { name = "bulk"; bind = [ "127.0.0.1:$P" ]; pool = "src"; },
  { name = "echo"; bind = [ "127.0.0.1:$PE" ]; pool = "echo"; }
);
pools = (
  { name = "src"; servers = ( { address = "127.0.0.1:$B"; } ); },
  { name = "echo"; servers = ( { address = "127.0.0.1:$E"; } ); }
);
CONF
start_lb4 lb4

# 1. bulk, full duplex
t0=$(now_ms)
"$TCLIENT" -T 100000 -c 4 -n $N -s 2000 --expect-recv $N 127.0.0.1:"$P" \
    > "$T/bulk.out"
rc=$?
ms=$(( $(now_ms) - t0 ))
cat "$T/bulk.out"
assert_rc "4 x $N bytes each way" 0 $rc
say "bulk: $((4 * N * 2 / 1048576)) MiB moved in $ms ms"
wait_until 10 eval '[ $(grep -c "^conn " "$T/src.log") -ge 4 ]'
grep '^conn ' "$T/src.log"
assert_eq "server connections" 4 "$(grep -c '^conn ' "$T/src.log")"
assert_eq "server saw a clean EOF on every connection" 4 \
    "$(grep -c '^conn .* end=eof' "$T/src.log")"
# client -> server: what each client sent is what some server conn received
c_sent=$(awk '{ print $4, $5 }' "$T/bulk.out" | sort)
s_recv=$(sed -nE 's/^conn .* recv=([0-9]+) rsha=([0-9a-f]+) .*/\1 \2/p' \
    "$T/src.log" | sort)
assert_eq "client->server streams (bytes sha256), as sets" "$c_sent" "$s_recv"
# server -> client
s_sent=$(sed -nE 's/^conn .* sent=([0-9]+) ssha=([0-9a-f]+) .*/\1 \2/p' \
    "$T/src.log" | sort)
c_recv=$(awk '{ print $7, $8 }' "$T/bulk.out" | sort)
assert_eq "server->client streams (bytes sha256), as sets" "$s_sent" "$c_recv"
# and they are the generator's bytes, not merely equal to each other
assert_eq "client 0's stream is gen(2000)" \
    "$("$TCLIENT" --gen $N 2000)" "$(awk '$2 == 0 { print $5 }' "$T/bulk.out")"

# 2. many concurrent echo connections, three rounds
for r in 1 2 3; do
	"$TCLIENT" -T 20000 -c 32 -n $((1048576 + 1)) -s $((300 * r)) \
	    --expect-echo 127.0.0.1:"$PE" > "$T/echo32.out"
	rc=$?
	[ $rc = 0 ] || grep -v ' end eof ' "$T/echo32.out"
	assert_rc "round $r: 32 concurrent echo connections of 1 MiB + 1" 0 $rc
	assert_eq "round $r: connections with equal hashes both ways" 32 \
	    "$(awk '$4 == $7 && $5 == $8 && $10 == "eof"' "$T/echo32.out" | wc -l)"
done

# 3. sequential connections reuse pooled pipes; a dirty pipe would show
bad=0
for i in $(seq 1 200); do
	if ! "$TCLIENT" -T 10000 -n 100000 -s $((5000 + i)) --expect-echo \
	    127.0.0.1:"$PE" > "$T/seq.out"; then
		bad=$((bad + 1))
		cat "$T/seq.out"
	fi
done
assert_eq "failed sequential echo connections (of 200)" 0 $bad

alive "$LB4_PID" || fail "lb4 died"
stop_lb4
finish
