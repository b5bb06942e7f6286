# shellcheck shell=bash
# test/integration/storm.sh: sourced after lib.sh by t_reload_storm.sh and
# test/bench/reload-soak.sh.  storm_setup [GLOBAL_EXTRA] picks the ports,
# starts four echo backends s1..s4 and writes two valid configs, A and B,
# that differ in every way a reload must handle: B drops listener la and
# adds lb, drops server s3 from pool p and adds s4, and changes weights.
# L1 and L2 are the listeners present in both.  GLOBAL_EXTRA goes inside
# both configs' global block (e.g. a metrics address).
storm_setup() {
	local extra=${1:-} s v
	L1=$(free_port); L2=$(free_port); LA=$(free_port); LB=$(free_port)
	S1=$(free_port); S2=$(free_port); S3=$(free_port); S4=$(free_port)
	for s in 1 2 3 4; do
		v=S$s
		start_back s$s -l 127.0.0.1:${!v} --echo --quiet
	done
write_conf A <<CONF
global = { workers = 2; $extra };
listeners = (
  { name = "l1"; bind = [ "127.0.0.1:$L1" ]; pool = "p"; },
  { name = "l2"; bind = [ "127.0.0.1:$L2" ]; pool = "q"; },
  { name = "la"; bind = [ "127.0.0.1:$LA" ]; pool = "p"; }
);
pools = (
  { name = "p"; servers = (
    { address = "127.0.0.1:$S1"; weight = 5; },
    { address = "127.0.0.1:$S2"; weight = 1; },
    { address = "127.0.0.1:$S3"; weight = 1; } ); },
  { name = "q"; servers = (
    { address = "127.0.0.1:$S1"; },
    { address = "127.0.0.1:$S2"; } ); }
);
CONF
# B: la removed, lb added; p loses s3, gains s4, new weights; q changes.
write_conf B <<CONF
global = { workers = 2; $extra };
listeners = (
  { name = "l1"; bind = [ "127.0.0.1:$L1" ]; pool = "p"; },
  { name = "l2"; bind = [ "127.0.0.1:$L2" ]; pool = "q"; },
  { name = "lb"; bind = [ "127.0.0.1:$LB" ]; pool = "q"; }
);
pools = (
  { name = "p"; servers = (
    { address = "127.0.0.1:$S1"; weight = 2; },
    { address = "127.0.0.1:$S2"; weight = 3; },
    { address = "127.0.0.1:$S4"; weight = 1; } ); },
  { name = "q"; servers = (
    { address = "127.0.0.1:$S2"; weight = 1; },
    { address = "127.0.0.1:$S3"; weight = 2; },
    { address = "127.0.0.1:$S4"; weight = 1; } ); }
);
CONF
}
