#!/bin/bash
# Who may change lb4's state through the control socket (issue 14, finding
# 2; root only).  lb4 reads the client's uid with SO_PEERCRED: health and
# show are for anyone who can connect (keepalived's script user lb4-vrrp
# asks for health), while enable, disable, drain, set weight and reload are
# accepted only from lb4's own uid or root.  Run twice: lb4 as root with a
# client as nobody (refused) and as root (accepted); lb4 as nobody with a
# client as nobody (its own uid: accepted) and as daemon (refused).
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || skip "needs root (runs as uid $(id -u))"
command -v setpriv > /dev/null || skip "no setpriv (util-linux)"
getent passwd nobody > /dev/null || skip "no user nobody"
getent passwd daemon > /dev/null || skip "no user daemon"
getent group nogroup > /dev/null || skip "no group nogroup"

P=$(free_port); A=$(free_port)
start_back a -l 127.0.0.1:"$A" --id a --quiet
chmod 755 "$T"
mkdir -p "$T/n"
chown nobody:nogroup "$T/n"

# as USER ARGS...: lb4ctl ARGS as USER; sets RC (output in $T/ctl.*).
as() {
	local u=$1
	shift
	setpriv --reuid="$u" --regid="$(id -g "$u")" --clear-groups -- \
	    "$LB4CTL" -s "$SOCK" "$@" > "$T/ctl.out" 2> "$T/ctl.err"
	RC=$?


}
server_state() {
	"$LB4CTL" -s "$SOCK" show servers | awk -v a="127.0.0.1:$A" \
	    '$2 == a { print $3 }'
}

# readonly_ok WHO: health and show work for WHO.
readonly_ok() {
	as "$1" health
	assert_eq "$2: health as $1: exit" 0 "$RC"
	as "$1" show servers
	assert_eq "$2: show servers as $1: exit" 0 "$RC"
	assert_grep "$2: show servers as $1: lists the server" \
	    "127\.0\.0\.1:$A" "$T/ctl.out"
	as "$1" show stats
	assert_eq "$2: show stats as $1: exit" 0 "$RC"
}
# refused WHO: every state-changing command is refused for WHO, with one
# error line naming the reason, and nothing changes.
refused() {
	local cmd
	for cmd in "disable server p 127.0.0.1:$A" \
	    "drain server p 127.0.0.1:$A" "enable server p 127.0.0.1:$A" \
	    "set weight p 127.0.0.1:$A 7" "reload"; do
		# shellcheck disable=SC2086  # split the command into words
		as "$1" $cmd
		assert_eq "$2: '$cmd' as $1: exit" 1 "$RC"
		assert_grep "$2: '$cmd' as $1: permission denied" \
		    "permission denied: .* accepted only from uid $3 .* not uid $(id -u "$1")" \
		    "$T/ctl.err"
	done
	assert_eq "$2: server still up after the refused commands" up \
	    "$(server_state)"
	"$LB4CTL" -s "$SOCK" show servers > "$T/show.out"
	assert_grep "$2: weight unchanged" "weight=1 " "$T/show.out"
}
# accepted WHO: WHO may change state.
accepted() {
	as "$1" disable server p 127.0.0.1:"$A"
	assert_eq "$2: disable as $1: exit" 0 "$RC"
	assert_eq "$2: disabled by $1" disabled "$(server_state)"
	as "$1" enable server p 127.0.0.1:"$A"
	assert_eq "$2: enable as $1: exit" 0 "$RC"
	as "$1" set weight p 127.0.0.1:"$A" 3
	assert_eq "$2: set weight as $1: exit" 0 "$RC"
	as "$1" set weight p 127.0.0.1:"$A" 1
	as "$1" reload
	assert_eq "$2: reload as $1: exit" 0 "$RC"
}

# 1. lb4 as root (a socket everyone may reach, so that the uid check alone
# decides).
SOCK=$T/lb4.sock
write_conf lb4 <<CONF
listeners = ( { name = "l"; bind = [ "127.0.0.1:$P" ]; pool = "p"; } );
pools = ( { name = "p"; servers = ( { address = "127.0.0.1:$A"; } ); } );
CONF
start_lb4 lb4
chmod 666 "$SOCK"
readonly_ok nobody "lb4 as root"
refused nobody "lb4 as root" 0
assert_grep "the refusal is logged" "refused 'disable' from uid $(id -u nobody)" "$LB4_LOG"
accepted root "lb4 as root"
stop_lb4

# 2. lb4 as nobody: its own uid may change state, another may not.
SOCK=$T/n/lb4.sock
write_conf lb4n <<CONF
global = { control_socket = "$SOCK"; health_file = "$T/n/health"; };
listeners = ( { name = "l"; bind = [ "127.0.0.1:$P" ]; pool = "p"; } );
pools = ( { name = "p"; servers = ( { address = "127.0.0.1:$A"; } ); } );
CONF
chmod 644 "$T/lb4n.conf"
LB4_WRAP="setpriv --reuid=nobody --regid=nogroup --clear-groups --" \
    start_lb4 lb4n
chmod 755 "$T/n"
chmod 666 "$SOCK"
readonly_ok daemon "lb4 as nobody"
refused daemon "lb4 as nobody" "$(id -u nobody)"
accepted nobody "lb4 as nobody"
accepted root "lb4 as nobody"
stop_lb4
finish
