#!/bin/bash
# Random reload storm (not in make check; passes on 721d748): pools renamed
# and re-pointed, listener names swapped between ports, a port that comes
# and goes, servers added/removed, weights, retries, idle timeouts and
# allow/deny changed on every reload (lb4ctl reload, N of them, SEED), while
# short echo loops and long rate-limited echo streams (SHA-256 checked) run.
#   LB4=build-asan/lb4 LB4CTL=build-asan/lb4ctl TOOLS=build-asan/tools N=100 test/integration/storm_random.sh
. "$(dirname "$0")/lib.sh"
N=${N:-200}; SEED=${SEED:-1}; RANDOM=$SEED
P1=$(free_port); P2=$(free_port); P3=$(free_port)
S=(); for i in 0 1 2 3; do S[i]=$(free_port); start_back s$i -l 127.0.0.1:"${S[$i]}" --echo --quiet; done
gen() {
	local names=(x y z) pools=(pa pb pc pd pe) i j np l acl
	np=$((2 + RANDOM % 3))
	# listener names shuffled over the ports
	local order=$((RANDOM % 3))
	local n1=${names[$order]} n2=${names[$(((order + 1) % 3))]} n3=${names[$(((order + 2) % 3))]}
	local off=$((RANDOM % 2))
	{
	echo "global = { workers = 2; };"
	echo "listeners = ("
	for l in "$n1:$P1" "$n2:$P2" "$n3:$P3"; do
		[ "${l#*:}" = "$P3" ] && [ $((RANDOM % 2)) = 0 ] && continue
		acl=; [ $((RANDOM % 2)) = 0 ] && acl='allow = [ "127.0.0.0/8" ]; deny = [ "192.0.2.0/24" ];'
		echo "  { name = \"${l%%:*}\"; bind = [ \"127.0.0.1:${l#*:}\" ]; pool = \"${pools[$((off + RANDOM % np))]}\"; idle_timeout_ms = $((30000 + RANDOM)); $acl },"
	done
	echo ");"
	echo "pools = ("
	for ((i = 0; i < np + off; i++)); do
		echo "  { name = \"${pools[$i]}\"; retries = $((RANDOM % 3)); servers = ("
		local first=1
		for j in 0 1 2 3; do
			if [ $((RANDOM % 2)) = 0 ] || { [ $j = 3 ] && [ $first = 1 ]; }; then
				[ $first = 1 ] || echo ","
				echo "    { address = \"127.0.0.1:${S[$j]}\"; weight = $((1 + RANDOM % 3)); }"
				first=0
			fi
		done
		echo "  ); },"
	done
	echo ");"
	} | sed -z 's/},\n);/}\n);/g' > "$T/lb4.conf"
}
# gen binds P1 and P2 always (only P3 comes and goes): the loops always
# have a listener.
gen
sed -i "s|global = { workers = 2; };|global = { workers = 2; control_socket = \"$T/lb4.sock\"; shutdown_timeout_ms = 3000; };|" "$T/lb4.conf"
cp "$T/lb4.conf" "$T/first.conf"
start_lb4 lb4
for p in $P1 $P2; do
	bg_client long"$p" -T 600000 -c 4 -n 100000000 --rate 20000 --expect-echo 127.0.0.1:"$p"
	bg_client loop"$p" -T 600000 --loop 3600 -c 2 --interval 20 -n 3000 --expect-echo 127.0.0.1:"$p"
done
sleep 1
ok=0; bad=0
for ((k = 0; k < N; k++)); do
	gen
	sed -i "s|global = { workers = 2; };|global = { workers = 2; control_socket = \"$T/lb4.sock\"; shutdown_timeout_ms = 3000; };|" "$T/lb4.conf"
	if LB4_SOCKET=$T/lb4.sock timeout 10 "$LB4CTL" reload > "$T/r.out" 2>&1; then ok=$((ok+1)); else bad=$((bad+1)); cp "$T/lb4.conf" "$T/bad.$k.conf"; cp "$T/r.out" "$T/bad.$k.out"; fi
	alive $LB4_PID || { fail "lb4 died at reload $k"; break; }
done
say "reloads ok=$ok failed=$bad"
for p in $P1 $P2; do kill -USR1 "${CLIENT_PID[long$p]}" "${CLIENT_PID[loop$p]}" 2>/dev/null; done
for p in $P1 $P2; do wait_client long"$p"; echo "long$p rc=$?"; wait_client loop"$p"; echo "loop$p rc=$?"; done
LB4_SOCKET=$T/lb4.sock "$LB4CTL" show stats | grep -i pinned
stop_lb4
finish
