#!/bin/bash
# send_proxy: the server gets a PROXY v1 or v2 header with the true client
# address and port (127.0.0.2 / ::1) and the address the client reached,
# for both families and both versions, as the first bytes, then the
# client's bytes exactly; also after a retry, and with the version changed
# by a reload.  Checked by a strict parser (ppeer.py) that also logs the
# raw header, and by a real nginx with "listen ... proxy_protocol".
. "$(dirname "$0")/lib.sh"

PPEER=$HERE/ppeer.py
command -v python3 > /dev/null || skip "python3 is not installed"
grep -q '^00000000000000000000000000000001 ' /proc/net/if_inet6 2>/dev/null ||
    skip "no ::1 on this host"

B4=$(free_port); B6=$(free_port); DEAD=$(free_port); N=$(free_port)
P1=$(free_port); P2=$(free_port); P3=$(free_port); P4=$(free_port)
P5=$(free_port); P6=$(free_port); P7=$(free_port)

start_ppeer() {	# NAME LISTEN
	python3 "$PPEER" back --listen "$2" --pidfile "$T/$1.pid" \
	    --log "$T/$1.log" > "$T/$1.out" 2>&1 &
	PIDS+=("$!")
	wait_until 5 test -s "$T/$1.pid" || fatal "ppeer $1 did not start"
}
start_ppeer b4 127.0.0.1:"$B4"
start_ppeer b6 "[::1]:$B6"

NGINX=
if command -v nginx > /dev/null; then
	mkdir -p "$T/nginx"
	cat > "$T/nginx.conf" <<NGX
daemon off; master_process off; worker_processes 1;
pid $T/nginx.pid; error_log $T/nginx.err info;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path $T/nginx/b; proxy_temp_path $T/nginx/p;
  fastcgi_temp_path $T/nginx/f; uwsgi_temp_path $T/nginx/u;
  scgi_temp_path $T/nginx/s;
  server {
    listen 127.0.0.1:$N proxy_protocol; listen [::1]:$N proxy_protocol;
    location / {
      return 200 "client=\$proxy_protocol_addr:\$proxy_protocol_port server=\$proxy_protocol_server_addr:\$proxy_protocol_server_port\n";
    }
  }
}
NGX
	nginx -p "$T/nginx" -e "$T/nginx.err" -c "$T/nginx.conf" &
	NGINX=$!
	PIDS+=("$NGINX")
	wait_until 5 is_listening "$N" || fatal "nginx did not start"
else
	say "nginx not installed: the nginx checks are skipped"
fi

# conf NAME VERSION_OF_POOL_A
conf() {
	write_conf "$1" <<CONF
global = { workers = 2; };
listeners = (
  { name = "a4"; bind = [ "127.0.0.1:$P1" ]; pool = "a"; },
  { name = "a6"; bind = [ "[::1]:$P2" ]; pool = "a"; },
  { name = "b4"; bind = [ "127.0.0.1:$P3" ]; pool = "b"; },
  { name = "b6"; bind = [ "[::1]:$P4" ]; pool = "b"; },
  { name = "n1"; bind = [ "127.0.0.1:$P5", "[::1]:$P5" ]; pool = "n1"; },
  { name = "n2"; bind = [ "127.0.0.1:$P6", "[::1]:$P6" ]; pool = "n2"; },
  { name = "r"; bind = [ "127.0.0.1:$P7" ]; pool = "r"; }
);
pools = (
  { name = "a"; send_proxy = "$2"; servers = ( { address = "127.0.0.1:$B4"; } ); },
  { name = "b"; send_proxy = "v2"; servers = ( { address = "[::1]:$B6"; } ); },
  { name = "n1"; send_proxy = "v1"; servers = ( { address = "127.0.0.1:$N"; } ); },
  { name = "n2"; send_proxy = "v2"; servers = ( { address = "[::1]:$N"; } ); },
  { name = "r"; send_proxy = "v2"; retries = 1; servers = (
    { address = "127.0.0.1:$DEAD"; }, { address = "127.0.0.1:$B4"; } ); }
);
CONF
}

# through NAME FROM TO VERSION FAMILY BYTES: one connection through lb4;
# the reply must name the version, family, true client and lb4 address,
# and the payload's length and SHA-256.
through() {
	local out rc local_ep sent want
	out=$(python3 "$PPEER" client --timeout 20 --bind "$2" --connect "$3" \
	    --send "$6")
	rc=$?
	printf '%s\n' "$out" | sed "s/^/$1: /"
	assert_rc "$1: connection" 0 "$rc" || return
	local_ep=$(sed -n 's/^local //p' <<< "$out")
	sent=$(sed -n 's/^sent //p' <<< "$out")
	want="reply pp=$4 fam=$5 src=$local_ep dst=$3 $sent"
	assert_eq "$1: what the server parsed" "$want" \
	    "$(grep '^reply ' <<< "$out")"
}

conf lb4 v1
start_lb4 lb4

through "v1 TCP4" 127.0.0.2 127.0.0.1:"$P1" v1 TCP4 100000
through "v1 TCP6" ::1 "[::1]:$P2" v1 TCP6 100000
through "v2 TCP4 to an IPv6 server" 127.0.0.2 127.0.0.1:"$P3" v2 TCP4 3000001
through "v2 TCP6" ::1 "[::1]:$P4" v2 TCP6 3000001
through "v1 TCP4, empty payload" 127.0.0.2 127.0.0.1:"$P1" v1 TCP4 0
# First pick is the dead server: the header goes out after the retry.
through "v2 after a refused connect and a retry" 127.0.0.2 127.0.0.1:"$P7" \
    v2 TCP4 5000

# Raw header bytes, as the server read them.
h=$(grep -m1 -oE 'hdr=[0-9a-f]+' <<< "$(grep 'fam=TCP4' "$T/b4.log" |
    grep '^pp=v1')")
say "v1 TCP4 header bytes: ${h#hdr=}"
assert_grep "a v1 line is PROXY TCP4 127.0.0.2 127.0.0.1 PORT $P1 CRLF" \
    "hdr=$(printf 'PROXY TCP4 127.0.0.2 127.0.0.1 ' | od -An -tx1 |
    tr -d ' \n')[0-9a-f]+$(printf ' %s\r\n' "$P1" | od -An -tx1 |
    tr -d ' \n') " "$T/b4.log"
assert_grep "a v2 TCP6 header is signature, 21 21 0024, ::1, ::1" \
    "hdr=0d0a0d0a000d0a515549540a21210024(0{30}01){2}[0-9a-f]{4}$(printf '%04x' "$P4") " \
    "$T/b6.log"
assert_no_grep "the strict parser found no bad header" '^error' "$T/b4.log"
assert_no_grep "the strict parser found no bad header (IPv6)" '^error' \
    "$T/b6.log"

if [ -n "$NGINX" ]; then
	for v in 1 2; do
		port=$P5
		[ $v = 2 ] && port=$P6
		for from in 127.0.0.2 ::1; do
			if [ "$from" = ::1 ]; then
				url="http://[::1]:$port/"; srv="::1:$port"
			else
				url="http://127.0.0.1:$port/"
				srv="127.0.0.1:$port"
			fi
			out=$(curl -sS --max-time 10 --interface "$from" \
			    -w 'local=%{local_ip}:%{local_port}\n' "$url")
			say "nginx v$v from $from: $(tr '\n' ' ' <<< "$out")"
			lp=$(sed -n 's/^local=.*://p' <<< "$out")
			assert_eq "nginx (PROXY v$v) saw the client $from" \
			    "client=$from:$lp server=$srv" \
			    "$(grep '^client=' <<< "$out")"
		done
	done
	assert_no_grep "nginx logged no broken PROXY header" \
	    'broken header|proxy_protocol' "$T/nginx.err"
fi

# Reload: pool a switches to v2; the next connection gets v2.
conf lb4 v2
kill -HUP "$LB4_PID"
wait_until 5 grep -q 'reloaded' "$LB4_LOG" || fail "no reload line"
through "pool a after the reload to v2" 127.0.0.2 127.0.0.1:"$P1" v2 TCP4 1000

stop_lb4
finish
