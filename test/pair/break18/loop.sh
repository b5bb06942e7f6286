#!/bin/bash
# Finding: a peer that routes (net.ipv4.ip_forward=1: Docker, Kubernetes,
# a router) and does not have the VIPs on lo yet (its watcher not started:
# boot, a broken lb4-pair.nft on it, pair-forward not installed) sends a
# forwarded copy back to the VIP holder, by ARP, with TTL 253: the holder
# forwards it again with TTL 255.  One client packet ping-pongs between
# the nodes until the VIP appears on the peer's lo.  Exit 0 when the
# packet crossed at most twice.
. "$(dirname "$0")/lib.sh"
setup
nsx x18b ip addr del $VIP/32 dev lo
nsx x18b sysctl -qw net.ipv4.ip_forward=1
nsx x18b sysctl -qw net.ipv4.conf.all.send_redirects=0
nsx x18b sysctl -qw net.ipv4.conf.eth0.send_redirects=0
nsx x18c python3 "$(dirname "$0")/ack.py" $VIP 40000
sleep 1
n=$(counter a forwarded)
nsx x18b ip addr add $VIP/32 dev lo	# ends the loop
echo "one client packet: forwarded by A $n times in 1 s"
if [ "$n" -le 2 ]; then echo "PASS: loop"; exit 0; fi
echo "FAIL: loop: one packet forwarded $n times"; exit 1
