#!/bin/bash
# shellcheck disable=SC2015 # "test && ok || bad": the echo cannot fail
# Finding: `pair-forward watch -m FILE` (root) writes FILE.tmp.$$ with a
# plain redirection and moves it over FILE every 0.5 s, $$ fixed for its
# whole run.  In a metrics directory another user can write (the unit
# suggested node_exporter's /var/lib/prometheus/node-exporter, owned by
# prometheus), that user plants FILE.tmp.PID -> any file, and root
# overwrites it with the metrics (fs.protected_symlinks covers only sticky
# world-writable directories).  Exit 0 when the target is left alone.
. "$(dirname "$0")/lib.sh"
setup
trap "" PIPE
mdir=$T/textfile
mkdir "$mdir"; chown nobody "$mdir"; chmod 0755 "$mdir"
chmod 0755 "$T"
victim=$T/victim	# stands for /etc/shadow
echo "root-owned content" >"$victim"; chmod 0644 "$victim"
nsx x18b "$ROOT/vrrp-hooks/pair-forward" -n "$T/b.nft" watch -m "$mdir/lb4-pair.prom" 2>"$T/watch.log" &
PIDS="$PIDS $!"
sleep 1
nsx x18a "$ROOT/vrrp-hooks/pair-forward" -n "$T/a.nft" watch -m "$T/b-root.prom" 2>/dev/null &
PIDS="$PIDS $!"
wpid=$(pgrep -f "pair-forward -n $T/b.nft watch" | head -n 1)
setpriv --reuid=nobody --regid=nogroup --clear-groups ln -s "$victim" "$mdir/lb4-pair.prom.tmp.$wpid"
sleep 1.5
cat "$T/watch.log"
echo "victim now: $(head -c 60 "$victim")"
# The metrics must still be written (as the directory's owner), also to a
# directory only root can write.
sleep 1
ls -l "$mdir"
if [ "$(cat "$victim")" = "root-owned content" ]; then
	[ "$(stat -c %U "$mdir/lb4-pair.prom" 2>/dev/null)" = nobody ] &&
	    grep -q '^lb4_pair_peer_up 1' "$mdir/lb4-pair.prom" ||
	    { echo "FAIL: metrics-symlink: no metrics written as nobody"; exit 1; }
	grep -q '^lb4_pair_peer_up 1' "$T/b-root.prom" ||
	    { echo "FAIL: metrics-symlink: no metrics in a root directory"; exit 1; }
	echo "PASS: metrics-symlink"; exit 0
fi
echo "FAIL: metrics-symlink: root overwrote a file through nobody's symlink"; exit 1
