#!/bin/bash
# test/packages/deploy.sh: README.md's "Deploying a pair", run as written
# on two booted Debian 12 containers (part of `make check-packages`).
# Needs root.
#
# 1. Reads the section "## Deploying a pair" of README.md.  Every fenced
#    block there is either marked, on the line before its fence, with
#	<!-- deploy-test: WHERE [OPTION...] -->
#    or has an info string that is not a shell (```text): an unmarked
#    shell block (```sh, ```bash, ```console or a bare ```) fails the test,
#    so every command a reader may type is run.  WHERE is
#	build   run on this machine, in the source tree (make deb)
#	both    run on node A, then on node B
#	a, b    run on that node only
#    OPTIONs: `reload` keeps the block for the reload step (run once the
#    pair is up and checked); `wait-home` runs the block only once both
#    VIPs are home (the README says how long that takes; the test checks);
#    `last` runs it at the very end, node by node, waiting after each node
#    for both VIPs to be home again (the upgrade's restart).
# 2. Builds the .deb with the `build` blocks, and two Debian 12 trees (the
#    package test's cached debootstrap tree) with apt's lists and the
#    packages the install step needs already downloaded, since the
#    containers have no route to a mirror.
# 3. Boots both with systemd-nspawn on a bridge (network namespaces created
#    here) with three servers behind them, a client and a monitoring host,
#    then runs each command of the blocks in a root shell in /root, with
#    the .deb in /root/build/ and "y" answering any prompt.  A command that
#    exits non-zero fails the test.  The only changes: the addresses and
#    the interface the README tells the reader to edit, and the edits
#    themselves.  An editor line (`vi FILE`) is where the reader edits FILE:
#    the test substitutes the addresses and interface there (and, for
#    lb4.conf in the reload step, gives the first server weight 3); a
#    documentation address left in a non-comment line after that fails.
#	README (documentation)        here
#	node A / B   192.0.2.1 / .2   10.15.0.1 / .2 on lan0 (README: eth0)
#	VIP1 / VIP2  192.0.2.10 / .11 10.15.0.10 / .11
#	servers      198.51.100.11-13 10.15.1.11-13 (:8080), nodes on back0
#	monitoring   203.0.113.0/24   10.15.0.48/29 (monitor 10.15.0.50)
#	client                        10.15.0.100 (not in the monitoring net)
# 4. Checks what the README promises: both VIPs home within the time it
#    states; the comments of the wait-home block; smooth weighted round
#    robin through each VIP, served by the VIP's home node; the reload step
#    applied without a restart (same MainPID, the new weights in force);
#    metrics answer the monitoring network only; `systemctl stop lb4` on A
#    moves VIP1 to B and `systemctl start lb4` brings it home, while a
#    client probing both VIPs every 20 ms sees no failed connection; the
#    firewall survives nftables.service's start; keepalived logged no
#    script or tracking error; the site hook ran, not as root.
#
# If this machine cannot boot containers (or make network namespaces), the
# test prints SKIP loudly and exits 77.  Ends with "N passed, N failed,
# N skipped"; exits 1 when anything failed.
#
# Environment:
#   LB4_DEPLOY_PREFIX   names of the namespaces and machines (default
#                       lb4d<pid>); all are deleted at the end
#   LB4_DEPLOY_KEEP=1   keep build/deploy/ (trees, logs) afterwards
#   LB4_PKGTEST_CACHE, LB4_PKGTEST_MIRROR: see lib.sh

set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
# shellcheck source=test/proc.sh
. "$ROOT/test/proc.sh"
README=$ROOT/README.md
B=$ROOT/build
W=$B/deploy
LOG=$W/run.log
P=${LB4_DEPLOY_PREFIX:-lb4d$$}
NS_BR=$P-br NS_C=$P-c NS_S=$P-s
# shellcheck source=test/packages/lib.sh
. "$HERE/lib.sh"

FRONT=10.15.0 BACK=10.15.1
declare -A ADDR=([a]=$FRONT.1 [b]=$FRONT.2) BADDR=([a]=$BACK.1 [b]=$BACK.2)
VIP1=$FRONT.10 VIP2=$FRONT.11
CLIENT=$FRONT.100 MONITOR=$FRONT.50 MONNET=$FRONT.48/29
IFACE=lan0
ADMIN6=fd00:15::/64	# admin_net6 of lb4.nft: nobody here, IPv6 is unused
SERVERS="$BACK.11 $BACK.12 $BACK.13"
# What the README promises, with slack for a shared machine: each VIP home
# at most this long after keepalived started on its node (README, "5. Start
# and check"), VIP1 on B this long after `systemctl stop lb4` on A, home
# again this long after `systemctl start lb4`.
HOME_BOUND=25 FAILOVER_BOUND=5 FAILBACK_BOUND=25

passed=0 failed=0 skipped=0
T0=$SECONDS
pass() { passed=$((passed + 1)); echo "PASS: $*"; }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }
phase() { echo "=== $* ($((SECONDS - T0)) s)"; echo "=== $*" >> "$LOG"; }
note() { echo "    $*"; echo "    $*" >> "$LOG"; }
finish() {
	echo "check-deploy took $((SECONDS - T0)) s"
	echo "$passed passed, $failed failed, $skipped skipped"
	[ "$failed" -eq 0 ] || exit 1
	exit 0
}
skip_all() {
	skipped=$((skipped + 1))
	echo "######################################################################"
	echo "SKIP: README \"Deploying a pair\" test: $*"
	echo "######################################################################"
	echo "check-deploy took $((SECONDS - T0)) s"
	echo "$passed passed, $failed failed, $skipped skipped"
	[ "$failed" -eq 0 ] || exit 1
	exit 77
}

[ "$(id -u)" = 0 ] || skip_all "needs root (debootstrap, systemd-nspawn, network namespaces)"
# One run per source tree: build/deploy is this run's.
mkdir -p "$B"
exec 9> "$B/deploy.lock"
if ! flock -n 9; then
	fail "another test/packages/deploy.sh runs in this tree"
	finish
fi
for c in systemd-nspawn debootstrap nsenter ip cc dpkg-deb; do
	command -v $c >/dev/null 2>&1 ||
	    skip_all "$c is not installed (make deps-pkg; test/packages/run.sh installs the rest)"
done
if ! ip netns add "$P-check" 2>/dev/null; then
	skip_all "cannot create network namespaces here"
fi
ip netns del "$P-check"

# --- state, cleanup --------------------------------------------------------
declare -A NSPAWN=() INIT=()
SRV_PID='' PROBE_PID=''
stop_container() {	# stop_container NODE: poweroff through PID 1, then KILL
	local x=$1
	[ -n "${NSPAWN[$x]-}" ] || return 0
	if kill -0 "${NSPAWN[$x]}" 2>/dev/null; then
		[ -n "${INIT[$x]-}" ] && kill -RTMIN+4 "${INIT[$x]}" 2>/dev/null
		for _ in $(seq 1 40); do
			kill -0 "${NSPAWN[$x]}" 2>/dev/null || break
			sleep 0.25
		done
		kill -KILL "${NSPAWN[$x]}" 2>/dev/null
	fi
	wait "${NSPAWN[$x]}" 2>/dev/null
	NSPAWN[$x]=
	INIT[$x]=
}
cleanup() {
	local ns p
	trap - EXIT INT TERM
	stop_pid "$PROBE_PID"
	stop_pid "$SRV_PID"
	stop_container a
	stop_container b
	for ns in "$NS_C" "$NS_S" "$NS_BR"; do
		for p in $(ip netns pids "$ns" 2>/dev/null); do
			kill -KILL "$p" 2>/dev/null
		done
		ip netns del "$ns" 2>/dev/null
	done
	if [ "${LB4_DEPLOY_KEEP:-0}" != 1 ]; then
		rm -rf --one-file-system "$W/a" "$W/b" "$W/prep"
	fi
	left=$(ip netns list | grep -c "^$P-")
	[ "$left" -eq 0 ] || echo "WARNING: namespaces left: $(ip netns list | grep "^$P-")"
}
trap cleanup EXIT
trap 'fail "interrupted"; finish' INT TERM

rm -rf --one-file-system "$W"
mkdir -p "$W/blocks"
: > "$LOG"
echo "log: $LOG"

now_ms() { echo $(( ${EPOCHREALTIME/./} / 1000 )); }
# wait_until SECONDS COMMAND...: polls COMMAND every 0.1 s.
wait_until() {
	local end=$(($(now_ms) + $1 * 1000))
	shift
	while :; do
		"$@" && return 0
		[ "$(now_ms)" -lt $end ] || return 1
		sleep 0.1
	done
}

# --- 1. the README's blocks -------------------------------------------------
phase "README.md: the blocks of \"Deploying a pair\""
# One file per block, NN.cmds, and its header NN.where ("LINE WHERE OPTS");
# the commands are split on lines, with continuation lines and here-documents
# kept together; each command starts with "#@LINE".
awk -v dir="$W/blocks" '
function flush_cmd() { if (cmd != "") { printf "%s\n%s\n", "#@" cmdline, cmd > out; cmd = "" } }
/^## / { insec = ($0 == "## Deploying a pair") ; next }
!insec { next }
/^```/ && !infence {
	infence = 1; info = substr($0, 4); gsub(/[ \t]/, "", info)
	marked = (prev ~ /^<!-- deploy-test: .* -->$/)
	if (marked) {
		n++; out = sprintf("%s/%02d.cmds", dir, n)
		w = prev; sub(/^<!-- deploy-test: /, "", w); sub(/ -->$/, "", w)
		printf "%d %s\n", NR, w > sprintf("%s/%02d.where", dir, n)
		printf "" > out
	} else if (info == "" || info ~ /^(sh|bash|shell|console)$/)
		printf "%d\n", NR > (dir "/unmarked")
	cmd = ""; heredoc = ""
	next
}
/^```/ && infence {
	if (marked) { flush_cmd(); close(out) }
	infence = 0; prev = ""; next
}
infence && marked {
	line = $0
	if (heredoc != "") {
		cmd = cmd "\n" line
		if (line == heredoc) { heredoc = ""; flush_cmd() }
		next
	}
	if (cmd == "") {
		if (line ~ /^[ \t]*(#.*)?$/) next
		cmdline = NR; cmd = line
	} else
		cmd = cmd "\n" line
	if (match(line, /<<-?[ \t]*["\047]?[A-Za-z_]+["\047]?/)) {
		heredoc = substr(line, RSTART, RLENGTH)
		sub(/^<<-?[ \t]*["\047]?/, "", heredoc); sub(/["\047]$/, "", heredoc)
		next
	}
	if (line !~ /\\$/) flush_cmd()
	next
}
/[^ \t]/ { prev = $0 }
' "$README"
if [ -s "$W/blocks/unmarked" ]; then
	while read -r l; do
		fail "README.md:$l: a shell block in \"Deploying a pair\" without <!-- deploy-test: ... --> (mark it, or make it \`\`\`text)"
	done < "$W/blocks/unmarked"
fi
BLOCKS=$(cd "$W/blocks" && find . -maxdepth 1 -name '*.where' | sort |
    sed 's,^\./,,; s,\.where$,,')
nblocks=$(echo "$BLOCKS" | grep -c .)
bad_marker=0
for n in $BLOCKS; do
	read -r line where opts < "$W/blocks/$n.where"
	case $where in build|both|a|b) ;; *) bad_marker=1
		fail "README.md:$line: deploy-test marker says '$where', not build, both, a or b" ;;
	esac
	for o in $opts; do
		case $o in reload|wait-home|last) ;; *) bad_marker=1
			fail "README.md:$line: unknown deploy-test option '$o'" ;;
		esac
	done
done
for need in "build" "reload" "wait-home"; do
	grep -qw -- "$need" "$W"/blocks/*.where 2>/dev/null ||
	    fail "README.md: no block marked '$need' in \"Deploying a pair\""
done
if [ "$nblocks" -gt 0 ] && [ $bad_marker = 0 ]; then
	pass "README.md: $nblocks marked blocks, $(cat "$W"/blocks/*.cmds | grep -c '^#@') commands"
else
	fail "README.md: no usable marked blocks"
	finish
fi

# --- 2. build, trees --------------------------------------------------------
# subst_cmd: the addresses and interface of a command line, as the reader
# would type them for this site.
subst_cmd() {
	sed -e "s/192\.0\.2\./$FRONT./g" -e "s/198\.51\.100\./$BACK./g" \
	    -e "s/\beth0\b/$IFACE/g"
}
# run_host LINE CMD: a build block's command, here, in the source tree.
run_host() {
	local line=$1 cmd=$2 rc t=$SECONDS
	echo "--- host: README.md:$line: $cmd" >> "$LOG"
	# make check-packages: test/packages/run.sh has just run `make deb` in
	# this tree; run it once only.
	if [ "${LB4_DEPLOY_DEB_BUILT:-0}" = 1 ] &&
	    [ "$(printf '%s' "$cmd" | sed 's/[[:space:]]*#.*//')" = "make deb" ]; then
		pass "README.md:$line on this machine: make deb (run by test/packages/run.sh just before)"
		return 0
	fi
	(cd "$ROOT" && bash -c "$cmd") > "$W/out" 2>&1 < /dev/null
	rc=$?
	cat "$W/out" >> "$LOG"
	if [ $rc -eq 0 ]; then
		pass "README.md:$line on this machine: $cmd ($((SECONDS - t)) s)"
	else
		tail -15 "$W/out" | sed 's/^/    /'
		fail "README.md:$line on this machine: $cmd exited $rc"
	fi
	return $rc
}
phase "build blocks"
for n in $BLOCKS; do
	read -r line where opts < "$W/blocks/$n.where"
	[ "$where" = build ] || continue
	while IFS= read -r -d '' c; do
		l=${c%%$'\n'*}; l=${l#\#@}
		run_host "$l" "${c#*$'\n'}" || { fail "build failed: nothing more to test"; finish; }
	done < <(awk '/^#@/ { if (c != "") printf "%s%c", c, 0; c = $0; next }
	    { c = c "\n" $0 } END { if (c != "") printf "%s%c", c, 0 }' \
	    "$W/blocks/$n.cmds")
done
DEB=$(find "$B" -maxdepth 1 -name 'lb4_*_*.deb' 2>/dev/null | sort | head -n 1)
if [ -z "$DEB" ]; then
	fail "the build blocks left no build/lb4_*.deb"
	finish
fi
note "package: $DEB"
# make deb also leaves the package tools this test uses.

phase "two Debian 12 trees"
t=$SECONDS
# in_root TREE COMMAND...: chrooted, /proc /sys /dev in a private mount
# namespace, so nothing is left mounted.
in_root() {
	unshare --mount --propagation private /bin/sh -c '
	    r=$1; shift
	    mount -t proc proc "$r/proc" && mount -t sysfs sysfs "$r/sys" &&
	    mount --rbind /dev "$r/dev" || exit 125
	    exec chroot "$r" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
	        DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 "$@"' sh "$@"
}
# What a fresh host has and the containers cannot fetch: apt's lists, and
# the packages of the install step, downloaded (not installed) with the
# .deb's own dependencies and recommendations (apt installs those too).
# That tree is cached, keyed by the packages.
# Beyond debootstrap's minimal tree, what every Debian 12 server has
# (priority important or standard) and would otherwise take most of the
# install step's time on a busy machine: perl, iproute2, netbase; and
# man-db's index is not rebuilt on every install.
inst=$(grep -h -o 'apt-get install [^#]*' "$W"/blocks/*.cmds | head -1)
extra=$(echo "$inst" | tr ' ' '\n' | grep -v -e '^apt-get$' -e '^install$' \
    -e '^-' -e '^\./' -e '^$' | tr '\n' ' ')
PREINSTALL="perl iproute2 netbase"
key=$(printf '%s|%s|%s|%s|%s' "$(pkgtest_mirror)" "$PKGTEST_INCLUDE" "$extra" "$PREINSTALL" \
    "$(dpkg-deb -f "$DEB" Depends Pre-Depends Recommends)" | md5sum | cut -c1-8)
PREP_TAR=$PKGTEST_CACHE/deploy-$PKGTEST_SUITE-$key.tar
if [ ! -s "$PREP_TAR" ]; then
	if ! pkgtest_tree "$W/prep" "$LOG"; then
		tail -20 "$LOG"
		fail "debootstrap a Debian 12 tree"
		finish
	fi
	cp /etc/resolv.conf "$W/prep/etc/resolv.conf"
	cp "$DEB" "$W/prep/var/tmp/"
	rm -f "$W/prep/var/lib/man-db/auto-update"
	# shellcheck disable=SC2086 # one word per package
	if in_root "$W/prep" apt-get update -q >> "$LOG" 2>&1 &&
	    in_root "$W/prep" apt-get install -y -q --no-install-recommends \
	    $PREINSTALL >> "$LOG" 2>&1 &&
	    in_root "$W/prep" apt-get install -y -q --download-only \
	    "/var/tmp/$(basename "$DEB")" $extra >> "$LOG" 2>&1; then
		rm -f "$W/prep/var/tmp/$(basename "$DEB")"
		tar -C "$W/prep" -cf "$PREP_TAR.tmp" . && mv "$PREP_TAR.tmp" "$PREP_TAR"
		rm -f "$PREP_TAR.tmp"
	else
		tail -20 "$LOG"
		fail "apt-get --download-only in the tree (see $LOG)"
		finish
	fi
	rm -rf --one-file-system "$W/prep"
fi
for x in a b; do
	{ mkdir -p "$W/$x" && tar -C "$W/$x" -xf "$PREP_TAR" &&
	    mkdir -p "$W/$x/root/build" && cp "$DEB" "$W/$x/root/build/"; } ||
	    { fail "unpack $PREP_TAR"; finish; }
done
pass "two trees with apt's lists and the packages for '$inst' ($((SECONDS - t)) s; cache $PREP_TAR)"
printf 'y\n%.0s' $(seq 50) > "$W/yes"

# --- 3. network, servers, boot ----------------------------------------------
phase "network, servers"
nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
PAIRTOOL=$W/pairtool
if ! cc -O2 -Wall -Wextra -Werror -std=gnu11 -o "$PAIRTOOL" \
    "$ROOT/test/pair/pairtool.c" >> "$LOG" 2>&1; then
	fail "cannot build test/pair/pairtool.c"
	finish
fi
setup_net() {
	local ns s
	for ns in "$NS_BR" "$NS_C" "$NS_S"; do
		ip netns add "$ns" || return 1
		ip -n "$ns" link set lo up
	done
	for b in br0 br1; do
		ip -n "$NS_BR" link add $b type bridge stp_state 0 \
		    forward_delay 0 mcast_snooping 0 || return 1
		ip -n "$NS_BR" link set $b up
	done
	ip -n "$NS_BR" link add c0 type veth peer name eth0 netns "$NS_C" &&
	ip -n "$NS_BR" link set c0 master br0 up &&
	ip -n "$NS_C" link set eth0 up &&
	ip -n "$NS_C" addr add $CLIENT/24 dev eth0 &&
	ip -n "$NS_C" addr add $MONITOR/24 dev eth0 || return 1
	ip -n "$NS_BR" link add s0 type veth peer name eth0 netns "$NS_S" &&
	ip -n "$NS_BR" link set s0 master br1 up &&
	ip -n "$NS_S" link set eth0 up || return 1
	for s in $SERVERS; do
		ip -n "$NS_S" addr add "$s/24" dev eth0 || return 1
	done
}
if ! setup_net; then
	fail "network namespaces and bridges"
	finish
fi
# shellcheck disable=SC2046,SC2086 # one word per address
nsx "$NS_S" "$PAIRTOOL" serve -T 900 $(printf '%s:8080 ' $SERVERS) \
    >> "$W/servers.log" 2>&1 &
SRV_PID=$!
pass "bridge, client ($CLIENT, monitor $MONITOR), servers ($SERVERS :8080)"

phase "boot both containers"
# in_ct NODE COMMAND...: in the booted container, as root.
in_ct() {
	local x=$1
	shift
	nsenter -t "${INIT[$x]}" -a /usr/bin/env -i \
	    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	    HOME=/root LANG=C.UTF-8 TERM=dumb SYSTEMD_PAGER= "$@"
}
BOOT_WHY=
boot() {	# boot NODE; BOOT_WHY says why it failed
	local x=$1 state=
	# --private-network: a network namespace of the container's own; the
	# test moves its interfaces in.
	systemd-nspawn --keep-unit --register=no -b -D "$W/$x" \
	    --private-network --machine="$P-$x" > "$W/nspawn-$x.log" 2>&1 < /dev/null &
	NSPAWN[$x]=$!
	for _ in $(seq 1 120); do
		kill -0 "${NSPAWN[$x]}" 2>/dev/null || { BOOT_WHY="systemd-nspawn exited"; return 1; }
		[ -n "${INIT[$x]-}" ] || INIT[$x]=$(pkgtest_find_init "${NSPAWN[$x]}")
		if [ -n "${INIT[$x]}" ]; then
			state=$(in_ct "$x" systemctl is-system-running 2>/dev/null)
			case $state in running|degraded) return 0 ;; esac
		fi
		sleep 0.5
	done
	BOOT_WHY="systemd did not reach running in 60 s (state '${state:-none}')"
	return 1
}
t=$SECONDS
for x in a b; do
	if ! boot $x; then
		sed 's/^/    /' "$W/nspawn-$x.log" | tail -15
		skip_all "cannot boot a container here: $BOOT_WHY"
	fi
done
pass "both containers booted ($((SECONDS - t)) s)"
# Each node: lan0 on br0 (VRRP, VIPs, clients), back0 on br1 (servers).
for x in a b; do
	{ ip -n "$NS_BR" link add ${x}0 type veth peer name $IFACE netns "${INIT[$x]}" &&
	ip -n "$NS_BR" link add ${x}1 type veth peer name back0 netns "${INIT[$x]}" &&
	ip -n "$NS_BR" link set ${x}0 master br0 up &&
	ip -n "$NS_BR" link set ${x}1 master br1 up &&
	nsenter -t "${INIT[$x]}" -n sh -c "
	    ip link set $IFACE up && ip link set back0 up &&
	    ip addr add ${ADDR[$x]}/24 dev $IFACE &&
	    ip addr add ${BADDR[$x]}/24 dev back0"; } ||
	    { fail "node $x: interfaces"; finish; }
done
pass "node A ${ADDR[a]} and node B ${ADDR[b]} on $IFACE, ${BADDR[a]} and ${BADDR[b]} on back0"

# --- 4. the README's steps ----------------------------------------------------
# edit NODE FILE PHASE: what the reader does at `vi FILE`.
edit() {
	local x=$1 f=$2 phase=$3 host before left
	host=$W/$x$f
	[ -f "$host" ] || { echo "no such file: $f"; return 1; }
	before=$(md5sum < "$host")
	case $phase:$f in
	reload:*/lb4.conf)
		sed -i -E "s/(address = \"$BACK\.11:8080\";)/\1 weight = 3;/" "$host" ;;
	*:*/lb4.conf)
		sed -i -e "s/192\.0\.2\./$FRONT./g" -e "s/198\.51\.100\./$BACK./g" "$host" ;;
	*:*/keepalived.conf)
		sed -i -e "s/192\.0\.2\./$FRONT./g" -e "s/\beth0\b/$IFACE/g" "$host" ;;
	*:*.nft)
		sed -i -e "s/192\.0\.2\./$FRONT./g" \
		    -e "s#^define monitoring_net = .*#define monitoring_net = { $MONNET }#" \
		    -e "s#^define admin_net = .*#define admin_net = { $MONNET }#" \
		    -e "s#^define admin_net6 = .*#define admin_net6 = { $ADMIN6 }#" "$host"
		# The peer is the other node.
		if [ "$x" = b ]; then
			sed -i "s/^define peer = .*/define peer = ${ADDR[a]}/" "$host"
		else
			sed -i "s/^define peer = .*/define peer = ${ADDR[b]}/" "$host"
		fi ;;
	*)	echo "the test does not know what to edit in $f"; return 1 ;;
	esac
	[ "$(md5sum < "$host")" != "$before" ] || { echo "nothing to edit in $f"; return 1; }
	left=$(grep -nE '192\.0\.2\.|198\.51\.100\.|203\.0\.113\.|\beth0\b' "$host" |
	    grep -vE '^[0-9]+:[[:space:]]*#')
	if [ -n "$left" ]; then
		echo "after the edits the README asks for, $f still has: $left"
		return 1
	fi
}
declare -A KA_START=()
# run_node NODE LINE CMD PHASE: one command of a block on NODE.
run_node() {
	local x=$1 line=$2 cmd phase=$4 rc t
	cmd=$(printf '%s' "$3" | subst_cmd)
	echo "--- node $x: README.md:$line: $cmd" >> "$LOG"
	t=$(now_ms)
	if [[ $cmd =~ ^(vi|vim|nano|editor|sensible-editor|\"?\$EDITOR\"?)[[:space:]]+([^[:space:]]+) ]]; then
		if edit "$x" "${BASH_REMATCH[2]}" "$phase" > "$W/out" 2>&1; then
			echo "(edited)" >> "$LOG"
			return 0
		fi
		fail "README.md:$line on node $x: $(cat "$W/out")"
		return 1
	fi
	in_ct "$x" bash -c "cd /root && $cmd" > "$W/out" 2>&1 < "$W/yes"
	rc=$?
	cat "$W/out" >> "$LOG"
	echo "(exit $rc, $(($(now_ms) - t)) ms)" >> "$LOG"
	case $cmd in *"enable --now keepalived"*) KA_START[$x]=$t ;; esac
	cp "$W/out" "$W/out-$x-$line"
	printf '%s\n' "$cmd" > "$W/cmd-$x-$line"
	if [ $rc -ne 0 ]; then
		sed 's/^/    /' "$W/out" | tail -12
		fail "README.md:$line on node $x: '$(printf '%s' "$cmd" | head -1)' exited $rc"
		return 1
	fi
	return 0
}
# run_block N PHASE [NODES]: every command of block N, on its nodes (or on
# NODES).
run_block() {
	local n=$1 phase=$2 line where opts x nodes c l ok=1 ncmd=0
	read -r line where opts < "$W/blocks/$n.where"
	case $where in both) nodes="a b" ;; *) nodes=$where ;; esac
	[ $# -lt 3 ] || nodes=$3
	for x in $nodes; do
		while IFS= read -r -d '' c; do
			l=${c%%$'\n'*}; l=${l#\#@}
			ncmd=$((ncmd + 1))
			run_node "$x" "$l" "${c#*$'\n'}" "$phase" || ok=0
		done < <(awk '/^#@/ { if (c != "") printf "%s%c", c, 0; c = $0; next }
		    { c = c "\n" $0 } END { if (c != "") printf "%s%c", c, 0 }' \
		    "$W/blocks/$n.cmds")
	done
	[ $ok = 1 ] && pass "README.md:$line block ($where): $ncmd commands ran as written"
}

holders() {	# holders VIP: "a", "b", "ab" or ""
	local x h=
	for x in a b; do
		nsenter -t "${INIT[$x]}" -n ip -4 -o addr show dev $IFACE 2>/dev/null |
		    grep -q " $1/" && h=$h$x
	done
	echo "$h"
}
home() { [ "$(holders $VIP1)" = a ] && [ "$(holders $VIP2)" = b ]; }

phase "README steps, in order"
for n in $BLOCKS; do
	read -r line where opts < "$W/blocks/$n.where"
	[ "$where" != build ] || continue
	case " $opts " in *" reload "*|*" last "*) continue ;; esac
	case " $opts " in *" wait-home "*)
		t=$(now_ms)
		# A starts first and takes both VIPs; VIP2 goes home once B
		# is up: the figure the README states.
		if wait_until 60 home && [ -n "${KA_START[b]-}" ]; then
			ka=${KA_START[b]}
			note "VIP2 home $(( ($(now_ms) - ka) / 100 ))e-1 s after keepalived started on node B"
		fi
		if [ -n "${KA_START[b]-}" ]; then
			ka=${KA_START[b]}
			s=$(( ($(now_ms) - ka) / 1000 ))
			if home && [ $s -le $HOME_BOUND ]; then
				pass "both VIPs home $s s after keepalived started on node B (README: within $HOME_BOUND s)"
			else
				fail "VIPs not home $s s after keepalived started on B: VIP1 on '$(holders $VIP1)', VIP2 on '$(holders $VIP2)'"
			fi
		else
			fail "README.md:$line: wait-home, but no block before it ran 'systemctl enable --now keepalived'"
		fi
		;;
	esac
	run_block "$n" setup
done

# --- 5. what the README promises ----------------------------------------------
phase "the pair as the README describes it"
# The comments of the wait-home block, checked against its output.
for n in $BLOCKS; do
	read -r line where opts < "$W/blocks/$n.where"
	case " $opts " in *" wait-home "*) ;; *) continue ;; esac
	for f in "$W"/out-[ab]-*; do
		[ -e "$f" ] || continue
		x=${f#"$W"/out-}; l=${x#?-}; x=${x%%-*}
		c=$(cat "$W/cmd-$x-$l")
		case $c in
		"ip -br addr"*)
			mine=$VIP1 other=$VIP2
			[ "$x" = b ] && mine=$VIP2 other=$VIP1
			if grep -q " $mine/" "$f" && ! grep -q " $other/" "$f"; then
				pass "README.md:$l on node $x shows $mine and not $other"
			else
				fail "README.md:$l on node $x: $(tr '\n' ' ' < "$f")"
			fi ;;
		"journalctl -t lb4-vrrp"*)
			inst=VI_1; [ "$x" = b ] && inst=VI_2
			if grep -q "INSTANCE $inst is now MASTER (priority 200)" "$f"; then
				pass "README.md:$l on node $x: INSTANCE $inst is now MASTER (priority 200)"
			else
				fail "README.md:$l on node $x: no \"INSTANCE $inst is now MASTER (priority 200)\""
			fi ;;
		*check-lb4*)
			if [ "$(cat "$f")" = ok ]; then
				pass "README.md:$l on node $x: check-lb4 says ok"
			else
				fail "README.md:$l on node $x: $(tr '\n' ' ' < "$f")"
			fi ;;
		esac
	done
done
for x in a b; do
	if [ "$(in_ct $x cat /run/lb4/health 2>&1)" = 0 ]; then
		pass "node $x: /run/lb4/health is 0"
	else
		fail "node $x: /run/lb4/health is '$(in_ct $x cat /run/lb4/health 2>&1)'"
	fi
done

# swrr W1 W2 W3 N: N picks of nginx's smooth weighted round robin.
swrr() {
	awk -v w="$1 $2 $3" -v n="$4" 'BEGIN { k = split(w, wt, " ")
	    for (i = 1; i <= k; i++) { cw[i] = 0; tot += wt[i] }
	    for (j = 0; j < n; j++) { b = 0
	        for (i = 1; i <= k; i++) { cw[i] += wt[i]; if (!b || cw[i] > cw[b]) b = i }
	        cw[b] -= tot; printf "%d", b - 1 } }'
}
# wrr_check VIP NODE W1 W2 W3: 2 x (W1+W2+W3) connections, one after the
# other, through VIP; every one served by NODE, the servers in the order
# of smooth WRR (from wherever lb4's rotation stands).
wrr_check() {
	local vip=$1 x=$2 tot=$(($3 + $4 + $5)) r seq='' who='' exp
	for _ in $(seq 1 $((2 * tot))); do
		r=$(nsx "$NS_C" "$PAIRTOOL" connect -w 2000 "$vip:80")
		# "SERVER NODE ping": the server's address, and the lb4 node's
		# it saw the connection from.
		case ${r%% *} in
		"$BACK.11") seq=${seq}0 ;; "$BACK.12") seq=${seq}1 ;;
		"$BACK.13") seq=${seq}2 ;; *) seq=${seq}x ;;
		esac
		who="$who $(echo "$r" | awk '{ split($2, a, ":"); print a[1] }')"
	done
	exp=$(swrr "$3" "$4" "$5" $((3 * tot)))
	echo "$vip: servers $seq, from$who" >> "$LOG"
	if [[ $exp == *"$seq"* ]] &&
	    ! echo "$who" | tr ' ' '\n' | grep -q -v -x -e '' -e "${BADDR[$x]}"; then
		pass "$vip: smooth WRR $3,$4,$5 over $((2 * tot)) connections ($seq), all through node $x"
	else
		fail "$vip: servers $seq (smooth WRR $3,$4,$5 is a window of $exp), from$who (node $x is ${BADDR[$x]})"
	fi
}
wrr_check $VIP1 a 1 1 1
wrr_check $VIP2 b 1 1 1

# Metrics: from the monitoring network only (lb4.nft).
for x in a b; do
	if nsx "$NS_C" "$PAIRTOOL" connect -w 2000 -s $MONITOR -H /metrics "${ADDR[$x]}:9404" |
	    grep -q '^lb4_connections_total'; then
		pass "node $x: metrics answer the monitoring network ($MONITOR)"
	else
		fail "node $x: no metrics from ${ADDR[$x]}:9404 for $MONITOR"
	fi
	if nsx "$NS_C" "$PAIRTOOL" connect -w 1500 -s $CLIENT -q "${ADDR[$x]}:9404" > /dev/null; then
		fail "node $x: metrics port open to $CLIENT, outside the monitoring network"
	else
		pass "node $x: metrics port closed to $CLIENT, outside the monitoring network"
	fi
done

phase "reload step"
mainpid() { in_ct "$1" systemctl show -P MainPID lb4; }
declare -A PID0=()
for x in a b; do PID0[$x]=$(mainpid $x); done
nreload=0
for n in $BLOCKS; do
	read -r line where opts < "$W/blocks/$n.where"
	case " $opts " in *" reload "*) ;; *) continue ;; esac
	run_block "$n" reload
	nreload=$((nreload + 1))
done
for x in a b; do
	p=$(mainpid $x)
	if [ -n "$p" ] && [ "$p" != 0 ] && [ "$p" = "${PID0[$x]}" ]; then
		pass "node $x: lb4 reloaded in place (MainPID $p before and after)"
	else
		fail "node $x: lb4 MainPID ${PID0[$x]} before the reload step, '$p' after"
	fi
done
if [ $nreload -gt 0 ]; then
	sleep 0.5
	wrr_check $VIP1 a 3 1 1
	wrr_check $VIP2 b 3 1 1
fi

# --- 6. systemctl stop / start lb4 on node A under a probe ----------------------
phase "systemctl stop lb4 on node A, then start"
PROBE=$W/probe
nsx "$NS_C" "$PAIRTOOL" probe -o "$PROBE" -i 20 -w 3000 -T 120 \
    -L $VIP2:80 $VIP1:80 $VIP2:80 > /dev/null 2>> "$LOG" &
PROBE_PID=$!
sleep 1
# systemctl stop returns once lb4 has exited: it lets open connections
# finish for up to shutdown_timeout_ms (30 s), while its VIP moves at once.
t=$(now_ms)
in_ct a systemctl stop lb4 >> "$LOG" 2>&1 &
stop_pid=$!
vip1_on() { [ "$(holders "$VIP1")" = "$1" ]; }
if wait_until $FAILOVER_BOUND vip1_on b; then
	pass "VIP1 moved to node B $(($(now_ms) - t)) ms after 'systemctl stop lb4' on A (bound $FAILOVER_BOUND s)"
else
	fail "VIP1 on '$(holders $VIP1)' $FAILOVER_BOUND s after 'systemctl stop lb4' on A"
fi
if wait "$stop_pid"; then
	pass "systemctl stop lb4 on node A returned after $(( ($(now_ms) - t) / 100 ))e-1 s"
else
	fail "systemctl stop lb4 on node A"
fi
sleep 1
t=$(now_ms)
if in_ct a systemctl start lb4 >> "$LOG" 2>&1; then
	pass "systemctl start lb4 on node A"
else
	fail "systemctl start lb4 on node A"
fi
if wait_until $FAILBACK_BOUND vip1_on a; then
	note "VIP1 home on A $(( ($(now_ms) - t) / 100 ))e-1 s after 'systemctl start lb4'"
	pass "VIP1 home on node A $(( ($(now_ms) - t) / 1000 )) s after 'systemctl start lb4' (bound $FAILBACK_BOUND s)"
else
	fail "VIP1 on '$(holders $VIP1)' $FAILBACK_BOUND s after 'systemctl start lb4' on A"
fi
sleep 2
stop_pid "$PROBE_PID"
PROBE_PID=
# "A TARGET START_US OK LATENCY_US INFO"; OK 0 = refused, reset or no
# answer within 3 s; answered after 300 ms = a SYN lost and retransmitted.
read -r total nfail ndelay < <(awk '$1 == "A" && $6 != "stopped" { n++
    if (!$4) f++; else if ($5 > 300000) d++ } END { print n + 0, f + 0, d + 0 }' "$PROBE")
ncut=$(awk '$1 == "L" && $3 == "cut"' "$PROBE" | wc -l)
via_b=$(awk -v bb="${BADDR[b]}" '$1 == "A" && $2 == 0 && $4 { split($6, w, "/")
    if (w[1] == bb) n++ } END { print n + 0 }' "$PROBE")
note "probe: $total attempts on both VIPs, $nfail failed, $ndelay delayed (SYN retransmitted), VIP1 served by B $via_b times, long connection on VIP2 cut $ncut times"
if [ "$total" -gt 100 ] && [ "$nfail" -eq 0 ]; then
	pass "no failed connection in $total probe attempts over the stop and start"
else
	awk '$1 == "A" && !$4' "$PROBE" | head -5 | sed 's/^/    /'
	fail "$nfail of $total probe attempts failed over the stop and start"
fi
if [ "$via_b" -gt 0 ]; then
	pass "node B served VIP1 while lb4 on A was stopped ($via_b attempts)"
else
	fail "node B never served VIP1 while lb4 on A was stopped"
fi
if [ "$ncut" -eq 0 ]; then
	pass "the connection held on VIP2 (node B) was never cut"
else
	fail "the connection held on VIP2 was cut $ncut times"
fi

# --- 7. after a reboot's worth of services, and the logs --------------------------
phase "firewall at boot, logs"
for x in a b; do
	if in_ct $x systemctl is-enabled nftables > /dev/null 2>&1 &&
	    in_ct $x systemctl restart nftables >> "$LOG" 2>&1 &&
	    in_ct $x nft list chain inet lb4 input > /dev/null 2>&1; then
		pass "node $x: nftables.service loads lb4.nft (as at boot)"
	else
		fail "node $x: nftables.service (enabled, restart) does not load table inet lb4"
	fi
done
if wait_until 5 home; then
	pass "both VIPs still home after nftables.service started"
else
	fail "after nftables.service: VIP1 on '$(holders $VIP1)', VIP2 on '$(holders $VIP2)'"
fi
for x in a b; do
	in_ct $x journalctl -u keepalived --no-pager -o cat > "$W/keepalived-$x.log" 2>&1
	in_ct $x journalctl -u lb4 --no-pager -o short-monotonic > "$W/lb4-$x.log" 2>&1
	# Not "failed": chk_lb4 fails, as it should, while lb4 is stopped.
	bad=$(grep -iE 'security|unable|not found|removing|denied|cannot|error|script terminated' \
	    "$W/keepalived-$x.log" | head -5)
	if [ -z "$bad" ]; then
		pass "node $x: keepalived logged no script, tracking or permission error"
	else
		printf '%s\n' "$bad" | sed 's/^/    /'
		fail "node $x: keepalived's log has errors ($W/keepalived-$x.log)"
	fi
done
# The site hook of README step 4 logs with tag vrrp-hook; keepalived's own
# VI_2 MASTER on node B must have reached it, run by notify as keepalived's
# script_user (the by-hand try in step 4 runs it as root, with VI_1).
in_ct b journalctl -t vrrp-hook -o json --no-pager > "$W/hook-b.json" 2>&1
uids=$(grep 'INSTANCE VI_2 MASTER 200' "$W/hook-b.json" |
    sed -n 's/.*"_UID":"\([0-9]*\)".*/\1/p' | sort -u | tr '\n' ' ')
hook_user=$(for u in $uids; do in_ct b getent passwd "$u" | cut -d: -f1; done | tr '\n' ' ')
if [ -n "$uids" ] && ! echo " $uids" | grep -q ' 0 '; then
	pass "node B: the site hook logged 'INSTANCE VI_2 MASTER 200', run as ${hook_user:-uid $uids}(not root)"
else
	fail "node B: the site hook in /etc/lb4/vrrp.d: 'INSTANCE VI_2 MASTER 200' logged by uids '$uids'"
fi

# --- 8. blocks for the end: the upgrade's restart, node by node ----------------
phase "last blocks"
for n in $BLOCKS; do
	read -r line where opts < "$W/blocks/$n.where"
	case " $opts " in *" last "*) ;; *) continue ;; esac
	case $where in both) nodes="a b" ;; *) nodes=$where ;; esac
	for x in $nodes; do
		t=$(now_ms)
		run_block "$n" last "$x"
		# As the README says: the next node once this one's VIP is home.
		if wait_until 40 home; then
			pass "node $x: both VIPs home $(( ($(now_ms) - t) / 1000 )) s after README.md:$line ran there"
		else
			fail "node $x: VIP1 on '$(holders $VIP1)', VIP2 on '$(holders $VIP2)' 40 s after README.md:$line"
		fi
	done
done

finish
