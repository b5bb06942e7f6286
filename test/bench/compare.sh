#!/bin/bash
# test/bench/compare.sh: lb4 side by side with haproxy (mode tcp, splice
# forced), haproxy without splice, nginx stream and direct, in one run,
# in front of the same backends.  `make bench` runs it.
#
# Contenders: direct (the client talks to backend 1), haproxy (nbthread 1,
# balance roundrobin, option splice-request + splice-response),
# haproxy-nosplice (global nosplice), nginx-stream (1 worker + master), lb4
# (workers = 1, `lb4 -c FILE` in the foreground).  Backends: one nginx
# process serving PORT+1..PORT+3, weights 5,1,1 in every proxy.  Each proxy
# is pinned to PROXY_CPU; backends, clients and this script to CLIENT_CPU.
#
# Workloads, each with a fresh proxy process:
#   conn  wrk -t1 -c50 -H "Connection: close", 3-byte reply: new conns/s,
#         and proxy CPU us per connection
#   ka    wrk -t1 -c50 --latency, keep-alive: req/s, p99 ms, and proxy CPU
#         us per request
#   bulk  build/tools/tbulk: BULK_CONNS keep-alive connections GET a
#         BULK_MB MiB file over and over: MB/s (1e6 bytes) and proxy CPU s
#         per GB (1e9 bytes)
#   idle  build/tools/tidle holds IDLE_CONNS silent connections: growth of
#         the proxy's RSS in KiB per connection once the backends see them
#         all established (no warm-up; direct has no proxy and is skipped)
# conn, ka and bulk run the client twice: WARMUP s unmeasured, then
# DURATION s measured.  Proxy CPU is utime+stime from /proc/PID/stat (all
# threads), summed over the proxy's process tree, read right before and
# right after the measured run; the unit count (connections, requests,
# bytes) is the measured client's own.  RSS is VmRSS summed the same way.
#
# Limits: proxy CPU leaves out kernel work charged to other tasks (softirq
# while the proxy sleeps, loopback receive on the sender's core); ticks are
# 1/CLK_TCK s.  Rates are bounded by the client core (wrk + backends) as
# much as by the proxy, so rank proxies by CPU per unit, not by rate.  On
# this shared 2-core VM per-unit figures drift between runs by up to ~20 %:
# compare only within one run, which is why every contender runs in every
# repetition, in an order that rotates.  RSS leaves out kernel socket
# memory.  Others' jobs share the VM: before each test the script waits
# (at most QUIET_WAIT s) for the machine to calm down, and for each
# measured window it reports "other load", the CPU (% of one core) spent
# on anything but our processes; a window with 15 % or more is marked
# DISTURBED in run.log and counted under the table.
#
# Output: medians over R repetitions with the min-max spread, then
# lb4 / haproxy ratios against the project's targets (informational).
# Exit 0 when every test ran, 1 when one failed, 77 when a tool is missing.
# Results (results.tsv, summary.txt, configs, logs) stay in the directory
# printed at the end.
#
# Env: R (3), DURATION (5), WARMUP (2), CONTENDERS, WORKLOADS ("conn ka
# bulk idle"), IDLE_CONNS (10000, lowered to fit ulimit -n), BULK_MB (64),
# BULK_CONNS (4), PROXY_CPU (0), CLIENT_CPU (1), LB4 (build/lb4), PORT
# (18380: the proxies listen there, backends on PORT+1..PORT+3),
# QUIET_WAIT (10).
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
R=${R:-3}; DURATION=${DURATION:-5}; WARMUP=${WARMUP:-2}
CONTENDERS=${CONTENDERS:-direct haproxy haproxy-nosplice nginx-stream lb4}
WORKLOADS=${WORKLOADS:-conn ka bulk idle}
IDLE_CONNS=${IDLE_CONNS:-10000}; BULK_MB=${BULK_MB:-64}
BULK_CONNS=${BULK_CONNS:-4}
PROXY_CPU=${PROXY_CPU:-0}; CLIENT_CPU=${CLIENT_CPU:-1}
LB4=${LB4:-$ROOT/build/lb4}; PORT=${PORT:-18380}
TOOLS=$ROOT/build/tools
B1=$((PORT + 1)); B2=$((PORT + 2)); B3=$((PORT + 3))
HZ=$(getconf CLK_TCK); NCPU=$(nproc)
QUIET_WAIT=${QUIET_WAIT:-10}; BUSY=0
STREAM_MOD=/usr/lib/nginx/modules/ngx_stream_module.so

T=
log() {		# to stderr, and to $T/run.log once there is a $T
	local line
	line="$(date +%T) $*"
	echo "$line" >&2
	[ -z "$T" ] || echo "$line" >> "$T/run.log"
}

# ------------------------------------------------------------ requirements
need=(wrk nginx ss taskset timeout pgrep)
[[ " $CONTENDERS " == *" haproxy"* ]] && need+=(haproxy)
for t in "${need[@]}"; do
	command -v "$t" > /dev/null || { echo "SKIP: $t not installed"; exit 77; }
done
if [[ " $CONTENDERS " == *" nginx-stream "* && ! -f $STREAM_MOD ]]; then
	echo "SKIP: libnginx-mod-stream not installed"; exit 77
fi
for f in "$TOOLS/tbulk" "$TOOLS/tidle"; do
	[ -x "$f" ] || { echo "bench: $f missing (make tools)" >&2; exit 1; }
done
if [[ " $CONTENDERS " == *" lb4 "* ]]; then
	[ -x "$LB4" ] || { echo "bench: $LB4 missing (make all)" >&2; exit 1; }
	LB4=$(realpath "$LB4")
fi
ALL_PORTS="( sport = :$PORT or sport = :$B1 or sport = :$B2 or sport = :$B3 )"
if [ -n "$(ss -Hltn "$ALL_PORTS")" ]; then
	echo "bench: ports $PORT-$B3 are in use (set PORT)" >&2; exit 1
fi

# A proxy needs 2 fds per connection; haproxy refuses to start when its
# maxconn (plus maxpipes) does not fit in the fd limit, so size both here.
ulimit -n "$(ulimit -Hn)"
NOFILE=$(ulimit -n)
MAXPIPES=256
MAXCONN=$(( (NOFILE - 2 * MAXPIPES - 200) / 2 ))
if (( IDLE_CONNS > MAXCONN - 100 )); then
	log "IDLE_CONNS $IDLE_CONNS lowered to $((MAXCONN - 100))" \
	    "to fit ulimit -n $NOFILE"
	IDLE_CONNS=$((MAXCONN - 100))
fi
taskset -cp "$CLIENT_CPU" $$ > /dev/null

T=$(mktemp -d /tmp/lb4-bench.XXXXXX)
mkdir -p "$T/www" "$T/log" "$T/out" "$T/ngx"
chmod 755 "$T" "$T/www"
RES=$T/results.tsv
: > "$RES"
log "results in $T"

# ------------------------------------------------------- process handling
# Every process started goes through start_bg and is stopped by its PID.
PIDS=()
BG=
start_bg() {	# start_bg OUT_PREFIX CPU CMD...: sets BG
	local out=$1 cpu=$2
	shift 2
	taskset -c "$cpu" "$@" > "$out.out" 2> "$out.err" &
	BG=$!
	PIDS+=("$BG")
}
alive() {	# alive PID: running and not a zombie
	local s
	s=$(cat "/proc/$1/stat" 2> /dev/null) || return 1
	s=${s##*) }
	[ "${s%% *}" != Z ]
}
stop_pid() {	# stop_pid PID: SIGTERM, SIGKILL after 5 s, reap
	local pid=$1 i keep=() p
	[ -n "$pid" ] || return 0
	alive "$pid" && kill -TERM "$pid" 2> /dev/null
	for ((i = 0; i < 50; i++)); do alive "$pid" || break; sleep 0.1; done
	if alive "$pid"; then
		log "pid $pid ignored SIGTERM: SIGKILL"
		kill -KILL "$pid"
	fi
	wait "$pid" 2> /dev/null
	for p in "${PIDS[@]}"; do [ "$p" = "$pid" ] || keep+=("$p"); done
	PIDS=("${keep[@]}")
}
cleanup() {
	local i
	for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do stop_pid "${PIDS[i]}"; done
	rm -f "$T/www/big.bin"
}
trap cleanup EXIT
trap 'log interrupted; exit 130' INT TERM

wait_listen() {	# wait_listen PORT PID: bounded 10 s; 1 if PID died
	local i
	for ((i = 0; i < 100; i++)); do
		[ -n "$(ss -Hltn "sport = :$1")" ] && return 0
		alive "$2" || return 1
		sleep 0.1
	done
	return 1
}
tree() {	# tree PID: PID and its descendants
	local c
	echo "$1"
	for c in $(pgrep -P "$1"); do tree "$c"; done
}
cpu_ticks() {	# cpu_ticks PID: utime+stime of the tree, in ticks
	local p s f sum=0
	for p in $(tree "$1"); do
		s=$(cat "/proc/$p/stat" 2> /dev/null) || continue
		read -ra f <<< "${s##*) }"
		sum=$((sum + f[11] + f[12]))
	done
	echo "$sum"
}
rss_kib() {	# rss_kib PID: VmRSS of the tree, in KiB
	local p v sum=0
	for p in $(tree "$1"); do
		v=$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2> /dev/null)
		sum=$((sum + ${v:-0}))
	done
	echo "$sum"
}
# quiet: before a test, while only our idle backend runs, waits (at most
# QUIET_WAIT s) until the machine is less than 15 % of one core busy:
# others' jobs share this VM.  Load that starts mid-test is not seen.
busy_jiffies() {
	awk '/^cpu / { b = $2 + $3 + $4 + $7 + $8; print b, b + $5 + $6 + $9 }' \
	    /proc/stat
}
quiet() {
	local i b0 t0 b1 t1 pct=0
	(( QUIET_WAIT > 0 )) || return 0
	for ((i = 0; i < QUIET_WAIT * 2; i++)); do
		read -r b0 t0 < <(busy_jiffies)
		sleep 0.5
		read -r b1 t1 < <(busy_jiffies)
		pct=$(( (b1 - b0) * 100 * NCPU / (t1 - t0 + 1) ))
		(( pct < 15 )) && return 0
		(( i == 0 )) && log "  machine busy ($pct % of a core): waiting"
	done
	log "  WARNING: still $pct % of a core busy; measuring anyway"
	BUSY=$((BUSY + 1))
}
backend_established() {
	ss -Htn state established \
	    "( sport = :$B1 or sport = :$B2 or sport = :$B3 )" | wc -l
}

# ----------------------------------------------------------------- configs
write_configs() {
	local p srv=
	head -c "${BULK_MB}M" /dev/urandom > "$T/www/big.bin"
	chmod 644 "$T/www/big.bin"
	for p in $B1 $B2 $B3; do
		srv+="  server { listen 127.0.0.1:$p backlog=4096;
    location = / { return 200 \"ok\\n\"; } }
"
	done
	# Long timeouts: the backends must never close a ka or idle connection.
	cat > "$T/backend.conf" <<-EOF
	daemon off; master_process off; worker_processes 1;
	pid $T/backend.pid; error_log $T/log/backend.nginx.log warn;
	events { worker_connections $((NOFILE - 100)); }
	http {
	  access_log off; root $T/www; sendfile on; tcp_nopush on;
	  keepalive_timeout 600s; keepalive_requests 1000000000;
	  client_header_timeout 600s;
	  client_body_temp_path $T/ngx/b; proxy_temp_path $T/ngx/p;
	  fastcgi_temp_path $T/ngx/f; uwsgi_temp_path $T/ngx/u;
	  scgi_temp_path $T/ngx/s;
	$srv}
	EOF

	local v opt
	for v in haproxy haproxy-nosplice; do
		opt="option splice-request
  option splice-response"
		[ $v = haproxy-nosplice ] && opt="# global nosplice"
		cat > "$T/$v.cfg" <<-EOF
		global
		  nbthread 1
		  maxconn $MAXCONN
		  maxpipes $MAXPIPES
		  $([ $v = haproxy-nosplice ] && echo nosplice)
		defaults
		  mode tcp
		  maxconn $MAXCONN
		  timeout connect 5s
		  timeout client 600s
		  timeout server 600s
		  $opt
		frontend bench
		  bind 127.0.0.1:$PORT backlog 4096
		  default_backend web
		backend web
		  balance roundrobin
		  server b1 127.0.0.1:$B1 weight 5
		  server b2 127.0.0.1:$B2 weight 1
		  server b3 127.0.0.1:$B3 weight 1
		EOF
	done

	cat > "$T/nginx-stream.conf" <<-EOF
	load_module $STREAM_MOD;
	daemon off; worker_processes 1; worker_rlimit_nofile $NOFILE;
	pid $T/nginx-stream.pid; error_log $T/log/nginx-stream.nginx.log warn;
	events { worker_connections $((NOFILE - 100)); }
	stream {
	  upstream web { server 127.0.0.1:$B1 weight=5;
	    server 127.0.0.1:$B2 weight=1; server 127.0.0.1:$B3 weight=1; }
	  server { listen 127.0.0.1:$PORT backlog=4096; proxy_pass web;
	    proxy_connect_timeout 5s; proxy_timeout 600s; }
	}
	EOF

	# No control socket or health file: nothing outside $T.
	cat > "$T/lb4.conf" <<-EOF
	global = { workers = 1; control_socket = ""; health_file = "";
	  log_level = "warning"; shutdown_timeout_ms = 1000; };
	listeners = ( { name = "bench"; bind = [ "127.0.0.1:$PORT" ]; pool = "web"; } );
	pools = ( { name = "web"; servers = (
	  { address = "127.0.0.1:$B1"; weight = 5; },
	  { address = "127.0.0.1:$B2"; weight = 1; },
	  { address = "127.0.0.1:$B3"; weight = 1; } ); } );
	EOF
}

# ------------------------------------------------------------- contenders
# proxy_start NAME REP WL: sets PROXY (PID, empty for direct) and TARGET.
PROXY=
proxy_start() {
	local name=$1 pre=$T/log/$1.r$2.$3
	PROXY=; TARGET=127.0.0.1:$PORT
	case $name in
	direct)
		TARGET=127.0.0.1:$B1; return 0 ;;
	haproxy|haproxy-nosplice)
		start_bg "$pre" "$PROXY_CPU" haproxy -db -f "$T/$name.cfg" ;;
	nginx-stream)
		start_bg "$pre" "$PROXY_CPU" nginx -p "$T/ngx" \
		    -e "$T/log/nginx-stream.nginx.log" -c "$T/nginx-stream.conf" ;;
	lb4)
		start_bg "$pre" "$PROXY_CPU" "$LB4" -c "$T/lb4.conf" ;;
	*)
		log "unknown contender $name"; return 1 ;;
	esac
	PROXY=$BG
	if ! wait_listen "$PORT" "$PROXY"; then
		log "$name did not start: see $pre.err"
		stop_pid "$PROXY"; PROXY=
		return 1
	fi
	sleep 0.3	# nginx: let the worker come up
}
proxy_stop() {
	local i
	stop_pid "$PROXY"; PROXY=
	for ((i = 0; i < 100; i++)); do
		[ -z "$(ss -Hltn "sport = :$PORT")" ] && break
		sleep 0.1
	done
}

# ---------------------------------------------------------------- workloads
# record REP NAME METRIC VALUE: one line of results.tsv.
record() { printf '%s\t%s\t%s\t%s\n' "$@" >> "$RES"; }
# ratio A B [K]: K * A / B, or 0 when B is 0.
ratio() {
	awk -v a="$1" -v b="$2" -v k="${3:-1}" \
	    'BEGIN { printf "%.4f", b ? k * a / b : 0 }'
}

# snap: "proxy_ticks machine_busy_ticks our_ticks usec" right now.  Ours:
# the proxy, the backend, and this script with its reaped children (the
# clients): the rest of the machine's busy time is someone else's.
snap() {
	local p=0 s f
	[ -n "$PROXY" ] && p=$(cpu_ticks "$PROXY")
	s=$(cat "/proc/$$/stat")
	read -ra f <<< "${s##*) }"
	echo "$p $(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 }' /proc/stat)" \
	    "$((p + $(cpu_ticks "$BACKEND") + f[11] + f[12] + f[13] + f[14]))" \
	    "${EPOCHREALTIME/./}"
}
# window REP NAME WL S0 S1: sets TICKS (the proxy's CPU in the window) and
# WINLOG, and records WL_other: the % of one core the machine spent on
# anything but our processes in the window (others' jobs, and kernel
# work charged to no process).
window() {
	local a b other
	read -ra a <<< "$4"
	read -ra b <<< "$5"
	TICKS=$((b[0] - a[0]))
	other=$(( (b[1] - a[1] - b[2] + a[2]) * 100000000 / HZ / (b[3] - a[3]) ))
	(( other < 0 )) && other=0
	record "$1" "$2" "$3_other" "$other"
	WINLOG="other load $other %"
	[ -z "$PROXY" ] || WINLOG="proxy CPU $((TICKS * 1000 / HZ)) ms, $WINLOG"
	(( other < 15 )) || WINLOG+=" (DISTURBED)"
}

# run_bg SECS OUT CMD...: runs a client on CLIENT_CPU for at most SECS+30 s.
run_bg() {
	local secs=$1 out=$2 rc
	shift 2
	start_bg "$out" "$CLIENT_CPU" timeout -k 5 $((secs + 30)) "$@"
	wait "$BG"; rc=$?
	stop_pid "$BG"
	return $rc
}

# wrk_test REP NAME WL: WL is conn or ka.
wrk_test() {
	local rep=$1 name=$2 wl=$3 out=$T/out/$3.$2.r$1 opt s0 s1
	local req secs err p99
	opt=(--latency)
	[ "$wl" = conn ] && opt=(-H "Connection: close")
	run_bg "$WARMUP" "$out.warm" wrk -t1 -c50 -d"${WARMUP}s" "${opt[@]}" \
	    "http://$TARGET/"
	s0=$(snap)
	run_bg "$DURATION" "$out" wrk -t1 -c50 -d"${DURATION}s" "${opt[@]}" \
	    "http://$TARGET/" || return 1
	s1=$(snap)
	# "N requests in 5.00s", "99%  1.23ms", socket errors, non-2xx
	read -r req secs err p99 < <(awk '
	    function ms(v) { if (v ~ /us$/) return v / 1000
		if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000
		return v * 60000 }
	    / requests in / { n = $1; s = ms(substr($4, 1, length($4) - 1)) / 1000 }
	    /Socket errors:/ { gsub(/,/, ""); e += $4 + $6 + $8 + $10 }
	    /Non-2xx/ { e += $NF }
	    $1 == "99%" { p = ms($2) }
	    END { print n + 0, s + 0, e + 0, p + 0 }' "$out.out")
	(( req > 0 )) || return 1
	window "$rep" "$name" "$wl" "$s0" "$s1"
	record "$rep" "$name" "${wl}_rate" "$(ratio "$req" "$secs")"
	record "$rep" "$name" "${wl}_err" "$err"
	[ "$wl" = ka ] && record "$rep" "$name" ka_p99 "$p99"
	[ -n "$PROXY" ] && record "$rep" "$name" "${wl}_us" \
	    "$(ratio "$TICKS" $((req * HZ)) 1e6)"
	log "  $req in ${secs}s, errors $err, $WINLOG"
}
run_conn() { wrk_test "$1" "$2" conn; }
run_ka() { wrk_test "$1" "$2" ka; }

run_bulk() {
	local rep=$1 name=$2 out=$T/out/bulk.$2.r$1 s0 s1 bytes secs
	run_bg "$WARMUP" "$out.warm" "$TOOLS/tbulk" -c "$BULK_CONNS" \
	    -d "$WARMUP" "$TARGET" /big.bin
	s0=$(snap)
	run_bg "$DURATION" "$out" "$TOOLS/tbulk" -c "$BULK_CONNS" \
	    -d "$DURATION" "$TARGET" /big.bin || return 1
	s1=$(snap)
	window "$rep" "$name" bulk "$s0" "$s1"
	bytes=$(sed -n 's/.*bytes=\([0-9]*\).*/\1/p' "$out.out")
	secs=$(sed -n 's/.*secs=\([0-9.]*\).*/\1/p' "$out.out")
	record "$rep" "$name" bulk_mbs "$(ratio "$bytes" "$secs" 1e-6)"
	[ -n "$PROXY" ] && record "$rep" "$name" bulk_sgb \
	    "$(ratio "$TICKS" "$bytes" "$(ratio 1e9 "$HZ")")"
	log "  $(cat "$out.out"), $WINLOG"
}

run_idle() {
	local rep=$1 name=$2 out=$T/out/idle.$2.r$1 est0 est rss0 rss1 i hold
	local line=
	[ -n "$PROXY" ] || return 0
	est0=$(backend_established); rss0=$(rss_kib "$PROXY")
	start_bg "$out" "$CLIENT_CPU" "$TOOLS/tidle" -n "$IDLE_CONNS" \
	    -w 60 -t 300 "$TARGET"
	hold=$BG
	for ((i = 0; i < 700; i++)); do		# its line, within 70 s
		line=$(cat "$out.out" 2> /dev/null)
		[ -n "$line" ] && break
		alive "$hold" || break
		sleep 0.1
	done
	for ((i = 0; i < 300; i++)); do		# the backends, within 30 s
		est=$(( $(backend_established) - est0 ))
		(( est >= IDLE_CONNS )) && break
		sleep 0.1
	done
	sleep 1
	est=$(( $(backend_established) - est0 ))
	rss1=$(rss_kib "$PROXY")
	stop_pid "$hold"
	log "  tidle: ${line:-no output}; backends hold $est; RSS $rss0 -> $rss1 KiB"
	(( est > 0 )) || return 1
	(( est >= IDLE_CONNS )) || log "  WARNING: only $est of $IDLE_CONNS held"
	record "$rep" "$name" idle_held "$est"
	record "$rep" "$name" idle_kib "$(ratio $((rss1 - rss0)) "$est")"
}

# ------------------------------------------------------------------ report
# stats: "contender metric median min max" per pair, over the repetitions.
stats() {
	sort -t "$(printf '\t')" -k2,2 -k3,3 -k4,4g "$RES" | awk -F '\t' '
	    { k = $2 " " $3; v[k, ++n[k]] = $4 }
	    END { for (k in n) { c = n[k]; h = int((c + 1) / 2)
		m = c % 2 ? v[k, h] : (v[k, h] + v[k, h + 1]) / 2
		print k, m, v[k, 1], v[k, c] } }'
}

report() {
	local s
	s=$(stats)
	awk -v c="$ACTIVE" -v wl="$WORKLOADS" -v r="$R" -v hdr="$1" '
	function cell(k, f) { return (k in med) ? sprintf(f, med[k]) : "-" }
	function spread(k, f) {
		return (k in med) ? sprintf(f "-" f, lo[k], hi[k]) : "" }
	function row(w, m, label, f, nospread,   i, line) {
		if (!ran(w)) return
		line = sprintf("%-20s", label)
		for (i = 1; i <= nc; i++)
			line = line sprintf("  %-16s", cell(cs[i] " " m, f))
		print line
		if (r < 2 || nospread) return
		line = sprintf("%-20s", "")
		for (i = 1; i <= nc; i++)
			line = line sprintf("  %-16s", spread(cs[i] " " m, f))
		print line
	}
	function ran(w) { return index(" " wl " ", " " w " ") > 0 }
	function target(w, what, m, op, goal,   a, b, x, ok) {
		if (!ran(w)) return
		a = "lb4 " m; b = "haproxy " m
		if (!(a in med) || !(b in med) || med[b] == 0) {
			printf "  %-28sn/a\n", what
			return
		}
		x = med[a] / med[b]
		ok = op == "<=" ? x <= goal : x >= goal
		printf "  %-28s%.3f (%s %.2f) %s\n", what, x, op, goal,
		    ok ? "PASS" : "FAIL"
	}
	FILENAME != "-" {
		if ($3 ~ /_err$/) err[$2] += $4
		if ($3 ~ /_other$/ && $4 + 0 > oth[$2]) oth[$2] = $4
		if ($3 ~ /_other$/ && $4 >= 15) dist++
		next
	}
	{ med[$1 " " $2] = $3; lo[$1 " " $2] = $4; hi[$1 " " $2] = $5 }
	END {
		nc = split(c, cs, " ")
		print hdr
		line = sprintf("%-20s", r > 1 ? "median / min-max" : "")
		for (i = 1; i <= nc; i++) line = line sprintf("  %-16s", cs[i])
		print line
		row("conn", "conn_rate", "conn  new conns/s", "%.0f")
		row("conn", "conn_us", "      proxy us/conn", "%.2f")
		row("ka", "ka_rate", "ka    req/s", "%.0f")
		row("ka", "ka_p99", "      p99 ms", "%.3f")
		row("ka", "ka_us", "      proxy us/req", "%.2f")
		row("bulk", "bulk_mbs", "bulk  MB/s", "%.0f")
		row("bulk", "bulk_sgb", "      proxy s/GB", "%.3f")
		row("idle", "idle_kib", "idle  RSS KiB/conn", "%.2f")
		row("idle", "idle_held", "      conns held", "%.0f", 1)
		if (ran("conn") || ran("ka")) {
			line = "wrk errors (socket + non-2xx), all tests:"
			for (i = 1; i <= nc; i++)
				line = line sprintf(" %s %d", cs[i], err[cs[i]])
			print line
		}
		if (ran("conn") || ran("ka") || ran("bulk")) {
			line = "other load in windows, max % of a core:"
			for (i = 1; i <= nc; i++)
				line = line sprintf(" %s %d", cs[i], oth[cs[i]])
			print line
			if (dist)
				print "  (" dist " windows had >= 15 %: disturbed)"
		}
		print ""
		print "lb4 / haproxy, ratio of medians (targets are informational)"
		target("conn", "CPU per new connection", "conn_us", "<=", 0.70)
		target("bulk", "CPU per GB, bulk", "bulk_sgb", "<=", 0.80)
		target("bulk", "MB/s, bulk", "bulk_mbs", ">=", 1.0)
		target("idle", "RSS per idle connection", "idle_kib", "<=", 0.30)
		target("ka", "keep-alive CPU per request", "ka_us", "<=", 1.0)
	}' FS='\t' "$RES" FS=' ' - <<< "$s"
}

# -------------------------------------------------------------------- main
write_configs
start_bg "$T/log/backend" "$CLIENT_CPU" nginx -p "$T/ngx" \
    -e "$T/log/backend.nginx.log" -c "$T/backend.conf"
BACKEND=$BG
for p in $B1 $B2 $B3; do
	wait_listen "$p" "$BACKEND" || { log "backend nginx did not start"; exit 1; }
done
if ! "$TOOLS/tbulk" -c 1 -d 0.3 "127.0.0.1:$B1" /big.bin > /dev/null; then
	log "backend does not serve big.bin"; exit 1
fi
for c in haproxy haproxy-nosplice; do
	[[ " $CONTENDERS " == *" $c "* ]] || continue
	haproxy -c -q -f "$T/$c.cfg" || { log "bad $T/$c.cfg"; exit 1; }
done

read -ra names <<< "$CONTENDERS"
ACTIVE="${names[*]}"
n=${#names[@]}
FAILED=()
start=$SECONDS
log "R=$R, ${WARMUP} s + ${DURATION} s per test; $ACTIVE; $WORKLOADS"
for ((rep = 1; rep <= R; rep++)); do
	w=0
	for wl in $WORKLOADS; do
		# Rotate by repetition and workload: no contender is always first.
		for ((i = 0; i < n; i++)); do
			name=${names[(i + rep - 1 + w) % n]}
			[ "$wl" = idle ] && [ "$name" = direct ] && continue
			quiet
			log "rep $rep/$R $wl $name"
			if ! proxy_start "$name" "$rep" "$wl" ||
			    ! "run_$wl" "$rep" "$name" ||
			    { [ -n "$PROXY" ] && ! alive "$PROXY"; }; then
				log "  FAILED (outputs: $T/out, logs: $T/log)"
				FAILED+=("$rep/$wl/$name")
			fi
			proxy_stop
			alive "$BACKEND" || { log "backend nginx died"; exit 1; }
		done
		w=$((w + 1))
	done
done
log "measured in $((SECONDS - start)) s"

report "lb4 bench $(date '+%F %T'), R=$R, $WARMUP s warm-up + $DURATION s per test
proxy on CPU $PROXY_CPU, clients and backends on CPU $CLIENT_CPU
idle: $IDLE_CONNS conns; bulk: $BULK_CONNS x $BULK_MB MiB" |
    tee "$T/summary.txt"
if (( BUSY )); then
	echo "note: $BUSY test(s) started while the machine was busy (run.log)" |
	    tee -a "$T/summary.txt"
fi
if (( ${#FAILED[@]} )); then
	echo "FAILED: ${FAILED[*]}" | tee -a "$T/summary.txt"
fi
echo "results: $T (results.tsv, summary.txt, logs)"
(( ${#FAILED[@]} == 0 ))
