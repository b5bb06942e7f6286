#!/bin/bash
# Command line and exit statuses (lb4(8) OPTIONS, EXIT STATUS):
#  lb4 -t -c GOOD   exits 0 and binds nothing (works while the port is busy)
#  lb4 -t -c BAD    exits 1 with every problem as FILE:LINE: message
#  lb4 -t -c MISSING  exits 1
#  lb4 -c CONF whose bind port is taken  exits 2 with one clear line
. "$(dirname "$0")/lib.sh"

P=$(free_port); B=$(free_port)
start_back busy -l 127.0.0.1:"$P" --echo	# holds the listener's port
write_conf good <<CONF
global = { workers = 2; };
listeners = ( { name = "w"; bind = [ "127.0.0.1:$P" ]; pool = "p"; } );
pools = ( { name = "p"; servers = ( { address = "127.0.0.1:$B"; } ); } );
CONF

# -t never binds, so a busy port does not matter
# shellcheck disable=SC2086 # LB4_WRAP is a word list on purpose
timeout 20 $LB4_WRAP "$LB4" -t -c "$T/good.conf" > "$T/good.out" 2>&1
assert_eq "lb4 -t -c good.conf exit status" 0 $?
cat "$T/good.out"

# Every problem, each with its line.  Line numbers matter: keep the layout.
cat > "$T/bad.conf" <<CONF
# line 1: bad on purpose; each problem's line is asserted
global = {
  workers = "two";
  bogus_key = 1;
};
listeners = (
  { name = "w";
    bind = [ "127.0.0.1:$P" ];
    pool = "nope"; }
);
pools = (
  { name = "p";
    servers = (
      { address = "127.0.0.1:99999"; },
      { address = "127.0.0.1:$B"; weight = 0; }
    ); }
);
CONF
# shellcheck disable=SC2086 # LB4_WRAP is a word list on purpose
timeout 20 $LB4_WRAP "$LB4" -t -c "$T/bad.conf" > "$T/bad.out" 2>&1
assert_eq "lb4 -t -c bad.conf exit status" 1 $?
cat "$T/bad.out"
for l in 3 4 9 14 15; do
	case $l in
	3) what="wrong type (string for workers)" ;;
	4) what="unknown key global.bogus_key" ;;
	9) what="listener names an unknown pool" ;;
	14) what="port out of range" ;;
	15) what="weight 0" ;;
	esac
	assert_grep "bad.conf line $l reported: $what" "bad\.conf:$l: [^ ]" \
	    "$T/bad.out"
done
assert_no_grep "no line blamed that holds no problem" \
    'bad\.conf:(1|2|5|6|7|8|10|11|12|13|16|17|18):' "$T/bad.out"

printf 'global = {\n  workers = = 2;\n};\n' > "$T/syntax.conf"
# shellcheck disable=SC2086 # LB4_WRAP is a word list on purpose
timeout 20 $LB4_WRAP "$LB4" -t -c "$T/syntax.conf" > "$T/syntax.out" 2>&1
assert_eq "lb4 -t -c syntax.conf exit status" 1 $?
cat "$T/syntax.out"
assert_grep "syntax error reported at line 2" 'syntax\.conf:2: ' "$T/syntax.out"

# shellcheck disable=SC2086 # LB4_WRAP is a word list on purpose
timeout 20 $LB4_WRAP "$LB4" -t -c "$T/missing.conf" > "$T/missing.out" 2>&1
assert_eq "lb4 -t -c missing.conf exit status" 1 $?
cat "$T/missing.out"
assert_grep "the missing file is named" 'missing\.conf' "$T/missing.out"

# The real thing, on a port another process holds: exit 2, one clear line.
t0=$(now_ms)
# shellcheck disable=SC2086 # LB4_WRAP is a word list on purpose
timeout 20 $LB4_WRAP "$LB4" -c "$T/good.conf" > "$T/bind.out" 2>&1
rc=$?
cat "$T/bind.out"
assert_eq "lb4 -c good.conf with 127.0.0.1:$P taken exit status" 2 $rc
assert_range "exit 2 came promptly (ms)" 0 $((5000 * SLOW)) $(( $(now_ms) - t0 ))
assert_eq "error-level (<3>) lines" 1 "$(grep -c '^<3>' "$T/bind.out")"
assert_grep "the error line names the address" "^<3>.*127\.0\.0\.1:$P" \
    "$T/bind.out"
check_lb4_log "$T/bind.out"

finish
