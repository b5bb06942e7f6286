#!/bin/bash
# Out of memory during a reload (issue 12: "fail the reload, never kill
# the daemon"): the Nth allocation lb4 makes inside state_apply() fails,
# for N = 1..MAX; each reload must fail cleanly (or succeed when N is past
# its last allocation) and lb4 must stay up with no sanitizer report.
# Needs the ASan objects (make B=build-asan SANITIZE=1 all tools); links
# its own lb4 with fi_alloc.c through -Wl,--wrap.  Run by make
# check-torture (MAX=60).
#   B=build-asan test/integration/fi_reload_oom.sh
export TOOLS=${TOOLS:-$(cd "$(dirname "$0")/../.." && pwd)/${B:-build-asan}/tools}
. "$(dirname "$0")/lib.sh"
MAX=${MAX:-60}
BD=$ROOT/${B:-build-asan}
LB4=$T/lb4-fi
# shellcheck disable=SC2046 # pkg-config prints one word per flag
{ cc -fsanitize=address,undefined -g -c -o "$T/fi.o" "$HERE/fi_alloc.c" &&
cc -fsanitize=address,undefined -o "$LB4" "$BD/obj/main.o" "$T/fi.o" \
    "$BD/lb4.a" $(pkg-config --libs libconfig libsystemd) -pthread \
    -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=strdup \
    -Wl,--wrap=aligned_alloc,--wrap=state_apply; } || fatal "cannot link $LB4"
P=$(free_port); Q=$(free_port); A=$(free_port); B=$(free_port); C=$(free_port)
start_back a -l 127.0.0.1:"$A" --echo --quiet
start_back b -l 127.0.0.1:"$B" --echo --quiet
start_back c -l 127.0.0.1:"$C" --echo --quiet
mkA() { write_conf lb4 <<CONF
global = { workers = 2; };
listeners = ( { name = "l1"; bind = [ "127.0.0.1:$P" ]; pool = "p1"; } );
pools = ( { name = "p1"; health = { type = "tcp"; interval_ms = 1000; };
  servers = ( { address = "127.0.0.1:$A"; }, { address = "127.0.0.1:$B"; } ); } );
CONF
}
mkB() { write_conf lb4 <<CONF
global = { workers = 2; };
listeners = ( { name = "l1"; bind = [ "127.0.0.1:$P" ]; pool = "p2"; allow = [ "127.0.0.0/8" ]; },
  { name = "l2"; bind = [ "127.0.0.1:$Q" ]; pool = "p1"; } );
pools = ( { name = "p1"; health = { type = "tcp"; interval_ms = 2000; };
  servers = ( { address = "127.0.0.1:$A"; }, { address = "127.0.0.1:$C"; } ); },
  { name = "p2"; servers = ( { address = "127.0.0.1:$B"; } ); } );
CONF
}
mkA
export FI_ARM=$T/arm
start_lb4 lb4
cur=A
for n in $(seq 1 "$MAX"); do
	if [ $cur = A ]; then mkB; cur=B; else mkA; cur=A; fi
	before=$(grep -cE "reloaded|reload failed" "$LB4_LOG")
	echo "$n" > "$FI_ARM"
	kill -HUP $LB4_PID
	wait_until 10 eval '[ $(grep -cE "reloaded|reload failed" "$LB4_LOG") -gt '"$before"' ] || ! alive '$LB4_PID
	if ! alive $LB4_PID; then
		fail "N=$n: lb4 died on an allocation failure"
		echo "N=$n: lb4 DIED: $(grep -m1 -E 'runtime error|ERROR: Addr|SEGV|^<3>[a-z]' "$LB4_LOG") $(grep -m1 -A3 'ERROR: Addr' "$LB4_LOG" | grep -m1 '#[01] .*lb4/')"
		cp "$LB4_LOG" "$T/died.$n.log"; mkA; cur=A; start_lb4 lb4 >/dev/null; continue
	fi
	if tail -3 "$LB4_LOG" | grep -q "reloaded"; then
		echo "N=$n: reload succeeded (no failure reached)"; rm -f "$FI_ARM"
		break
	else
		echo "N=$n: failed: $(grep -E '^<3>' "$LB4_LOG" | tail -2 | head -1)"
		# the failed reload left the previous config: flip back
		if [ $cur = A ]; then cur=B; else cur=A; fi
	fi
done
stop_lb4
finish
