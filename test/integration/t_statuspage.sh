#!/bin/bash
# The status page (GET / of the metrics address) in a real headless
# Chromium, driven by chromedriver (wdpage.py): it renders the live
# listeners and servers, loads nothing but itself and status.json, plots
# the connection rate, shows a server stopped mid-test as down (with the
# reason) within one refresh of lb4 marking it down, and says plainly that
# lb4 is not answering once lb4 has stopped.
. "$(dirname "$0")/lib.sh"

REFRESH_S=2		# REFRESH_MS of lb4/status.html

command -v python3 > /dev/null || skip "python3 is not installed"
if ! command -v chromium > /dev/null || ! command -v chromedriver > /dev/null
then
	if [ "$(id -u)" = 0 ] && command -v apt-get > /dev/null; then
		say "installing chromium and chromium-driver (Debian)"
		DEBIAN_FRONTEND=noninteractive timeout 900 apt-get \
		    -o DPkg::Lock::Timeout=900 install -y \
		    --no-install-recommends chromium chromium-driver \
		    > "$T/apt.log" 2>&1 || tail -n 5 "$T/apt.log"
	fi
	{ command -v chromium > /dev/null &&
	    command -v chromedriver > /dev/null; } ||
	    skip "chromium and chromedriver cannot be installed" \
		"(apt-get install chromium chromium-driver); the status page is NOT tested"
fi

P=$(free_port); M=$(free_port); B1=$(free_port); B2=$(free_port)
D=$(free_port)
start_back s1 -l 127.0.0.1:"$B1" --echo --quiet
start_back s2 -l 127.0.0.1:"$B2" --echo --quiet
write_conf lb4 <<CONF
global = { workers = 2; metrics = "127.0.0.1:$M"; shutdown_timeout_ms = 1000; };
listeners = ( { name = "web"; bind = [ "127.0.0.1:$P" ]; pool = "app"; } );
pools = ( { name = "app";
  health = { type = "tcp"; interval_ms = 300; timeout_ms = 300; fall = 2; };
  servers = ( { address = "127.0.0.1:$B1"; weight = 3; },
              { address = "127.0.0.1:$B2"; } ); } );
CONF
start_lb4 lb4

# The page as served: whole in itself.
curl -sS --max-time 5 -D "$T/headers" "http://127.0.0.1:$M/" > "$T/page.html" ||
    fail "GET / failed"
assert_grep "GET /: text/html" '^Content-Type: text/html' "$T/headers"
assert_grep "GET /: a Content-Security-Policy that forbids other origins" \
    "^Content-Security-Policy: default-src 'none'" "$T/headers"
assert_no_grep "GET /: no external asset referenced" \
    '(src|href)=["'"'"']?(https?:)?//' "$T/page.html"

chromedriver --port="$D" > "$T/chromedriver.log" 2>&1 &
PIDS+=("$!")
wait_until 20 curl -sf "http://127.0.0.1:$D/status" -o /dev/null ||
    fatal "chromedriver did not start"

# Some traffic for the plots, bounded (8 s, 2 threads, 20 ms apart).
bg_client load -T 30000 --loop 8 -c 2 -n 1000 --interval 20 --expect-echo \
    127.0.0.1:"$P"

python3 "$HERE/wdpage.py" "http://127.0.0.1:$D" "http://127.0.0.1:$M/" \
    "$T/profile" \
    open \
    servers "app/127.0.0.1:$B1=up,app/127.0.0.1:$B2=up" 10 \
    plot 10 \
    selfcontained \
    text "$T/page1.txt" \
    kill "${BACK_PID[s2]}" \
    truth "app/127.0.0.1:$B2=down" 10 \
    servers "app/127.0.0.1:$B2=down,app/127.0.0.1:$B1=up" $((REFRESH_S + 2)) \
    text "$T/page2.txt" \
    kill "$LB4_PID" \
    offline $((REFRESH_S * 2 + 4)) \
    refreshes > "$T/wd.out" 2>&1
rc=$?
cat "$T/wd.out"
assert_rc "the browser checks (wdpage.py)" 0 $rc
wait_client load > /dev/null
lb4_wait_exit 10
assert_eq "lb4 exit status after SIGTERM" 0 "$LB4_STATUS"
check_lb4_log

# What a person reads.
for f in page1 page2; do
	[ -s "$T/$f.txt" ] || { fail "$f: no page text"; continue; }
	assert_grep "$f: the listener" 'web' "$T/$f.txt"
	assert_grep "$f: the pool" 'pool app' "$T/$f.txt"
	assert_grep "$f: server 1 with its weight" "127.0.0.1:$B1.*up.*3" \
	    "$T/$f.txt"
done
assert_grep "page1: both up" "pool app \\(2 of 2 up\\)" "$T/page1.txt"
assert_grep "page2: one up" "pool app \\(1 of 2 up\\)" "$T/page2.txt"
assert_grep "page2: server 2 down, and why" \
    "127.0.0.1:$B2.*down.*(refused|timed out|timeout)" "$T/page2.txt"
assert_grep "page1: healthy" '^healthy' "$T/page1.txt"
finish
