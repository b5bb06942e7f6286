#!/bin/bash
# http checks: status 200 is up, 503 is down with "http status 503"; a
# non-HTTP reply is down with "bad http status line"; `path` is what the
# check asks for; `port` sends the check elsewhere (Patroni's 8008 style);
# `status` may expect something other than 200.  Servers then follow a
# backend switching from 200 to 503 and back.
. "$(dirname "$0")/lib.sh"
. "$HERE/hlib.sh"

P=$(free_port); A=$(free_port); B=$(free_port); C=$(free_port)
DB=$(free_port); API=$(free_port)
start_back a -l 127.0.0.1:"$A" --http --status 200 --body a
start_back b -l 127.0.0.1:"$B" --http --status 503 --body b
start_back c -l 127.0.0.1:"$C" --id not-http
start_back api -l 127.0.0.1:"$API" --http --status 200 --body primary
write_conf lb4 <<CONF
global = { workers = 1; log_level = "debug"; };
listeners = ( { name = "web"; bind = [ "127.0.0.1:$P" ]; pool = "web"; } );
pools = (
  { name = "web";
    health = { type = "http"; path = "/healthz?x=1"; interval_ms = 200;
      timeout_ms = 500; rise = 2; fall = 2; };
    servers = ( { address = "127.0.0.1:$A"; }, { address = "127.0.0.1:$B"; },
      { address = "127.0.0.1:$C"; } ); },
  { name = "patroni";
    health = { type = "http"; path = "/primary"; port = $API;
      interval_ms = 200; };
    servers = ( { address = "127.0.0.1:$DB"; } ); },
  { name = "maint";
    health = { type = "http"; status = 503; interval_ms = 200; };
    servers = ( { address = "127.0.0.1:$B"; } ); }
);
CONF
start_lb4 lb4
expect_log "a (200) is up" 3 "server web/127\.0\.0\.1:$A is up$"
expect_log "b (503) is down" 3 \
    "^<4>server web/127\.0\.0\.1:$B is down: http status 503$"
expect_log "c (not HTTP) is down" 3 \
    "^<4>server web/127\.0\.0\.1:$C is down: bad http status line 'not-http'$"
expect_log "patroni pool: the check goes to port $API" 3 \
    "server patroni/127\.0\.0\.1:$DB is up$"
expect_log "maint pool: status = 503 expected, and seen" 3 \
    "server maint/127\.0\.0\.1:$B is up$"
assert_grep "the check asks for path, HTTP/1.0" \
    '^http conn [0-9]+ request "GET /healthz\?x=1 HTTP/1\.0"$' "$T/a.log"
assert_grep "the patroni check asks for /primary" \
    '^http conn [0-9]+ request "GET /primary HTTP/1\.0"$' "$T/api.log"

out=$(curl -sS -m 5 "http://127.0.0.1:$P/" "http://127.0.0.1:$P/" \
    "http://127.0.0.1:$P/" -H 'Connection: close')
assert_eq "every request answered by a" "a a a" "${out//$'\n'/ }"

# a starts failing (503): down after fall = 2; then back after rise = 2.
stop_pid "${BACK_PID[a]}"
start_back a2 -l 127.0.0.1:"$A" --http --status 503 --body a
expect_log "a is down once it answers 503" 3 \
    "^<4>server web/127\.0\.0\.1:$A is down: http status 503$"
stop_pid "${BACK_PID[a2]}"
start_back a3 -l 127.0.0.1:"$A" --http --status 200 --body a
expect_count "a is up again (a second 'is up' line)" 3 2 \
    "server web/127\.0\.0\.1:$A is up$"
assert_eq "a came up twice in all (start, recovery)" 2 \
    "$(count_log "server web/127\.0\.0\.1:$A is up$")"
stop_lb4
finish
