#!/bin/bash
# Finding: when `pair-forward watch` loaded the ruleset itself (the unit's
# "or by pair-forward itself when it is missing"), an `nft flush ruleset`
# (Debian's /etc/nftables.conf starts with one: `systemctl reload
# nftables`) removes its tables for good: the watcher only toggles the set
# of tables that are loaded, so every later VIP move cuts again, silently.
# Exit 0 when the tables are back within 3 s.
. "$(dirname "$0")/lib.sh"
setup
trap "" PIPE
nsx x18b nft delete table ip lb4_pair
nsx x18b nft delete table ip6 lb4_pair
nsx x18b "$ROOT/vrrp-hooks/pair-forward" -n "$T/b.nft" watch -m "$T/b.prom" 2>"$T/watch.log" &
PIDS="$PIDS $!"
sleep 1.5
nsx x18b nft list table ip lb4_pair >/dev/null || { echo "FAIL: flush: the watcher did not load the ruleset"; exit 1; }
nsx x18b nft flush ruleset
sleep 3
cat "$T/watch.log"
if nsx x18b nft list table ip lb4_pair >/dev/null 2>&1 &&
    nsx x18b nft list set ip lb4_pair forward | grep -q 'elements = '; then
	echo "PASS: flush"; exit 0
fi
echo "FAIL: flush: 3 s after 'nft flush ruleset' the pair ruleset is still gone"; exit 1
