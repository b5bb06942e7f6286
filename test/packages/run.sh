#!/bin/bash
# test/packages/run.sh: `make check-packages`.  Needs root.
#
# 1. Builds the .deb (`make deb`) and the .rpm (`make rpm`).
# 2. lintian on the .deb, the .changes and a source package: no error and
#    no warning (overrides, if any, say why in a comment).
# 3. The .rpm: the same files as the .deb, %config(noreplace) on lb4.conf,
#    a %pre that creates the lb4 user, the systemd scriptlets; rpmlint's
#    report goes to build/rpmlint.log.
# 4. A minimal Debian 12 tree (debootstrap, cached), the .deb installed with
#    apt resolving its dependencies, then checked unbooted (user, lb4 -t,
#    the files lb4(8) FILES lists, systemd-analyze verify).
# 5. That tree booted with systemd-nspawn: systemctl start/stop/reload, lb4
#    running as lb4 with only CAP_NET_BIND_SERVICE, an upgrade to a rebuilt
#    package over a locally edited conffile (--force-confold) that leaves
#    the running lb4 alone, and a purge.
#    If this machine cannot boot a container, that part is SKIPPED, loudly,
#    with the reason, and never counted as passed.
#
# Ends with "N passed, N failed, N skipped"; exits 1 when anything failed.
#
# Environment:
#   LB4_PKGTEST_CACHE   where the debootstrap tarball and the pristine tree
#                       are cached (default /var/cache/lb4-pkgtest)
#   LB4_PKGTEST_MIRROR  Debian mirror (default: this machine's apt source)
#   LB4_PKGTEST_KEEP=1  keep build/pkgtest/root afterwards (for debugging)
#   LB4_PKGTEST_MACHINE the container's name (default lb4-pkgtest)

set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
B=$ROOT/build
W=$B/pkgtest
R=$W/root
LOG=$W/run.log
MACHINE=${LB4_PKGTEST_MACHINE:-lb4-pkgtest}
# shellcheck source=test/packages/lib.sh
. "$HERE/lib.sh"

passed=0 failed=0 skipped=0
T0=$SECONDS

pass() { passed=$((passed + 1)); echo "PASS: $*"; }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }
skip() {
	skipped=$((skipped + 1))
	echo "**********************************************************"
	echo "SKIP: $*"
	echo "**********************************************************"
}
# check DESCRIPTION COMMAND...: runs COMMAND, output to the log.
check() {
	local what=$1
	shift
	echo "--- $what: $*" >> "$LOG"
	if "$@" >> "$LOG" 2>&1; then
		pass "$what"
	else
		fail "$what (see $LOG)"
	fi
}
phase() { echo "=== $* ($((SECONDS - T0)) s)"; echo "=== $*" >> "$LOG"; }
finish() {
	echo "check-packages took $((SECONDS - T0)) s"
	echo "$passed passed, $failed failed, $skipped skipped"
	[ "$failed" -eq 0 ]
	exit
}

if [ "$(id -u)" -ne 0 ]; then
	skip "check-packages needs root (debootstrap, chroot, systemd-nspawn)"
	finish
fi

# --- tools ---------------------------------------------------------------
need_pkgs=
have() { command -v "$1" >/dev/null 2>&1; }
have dpkg-buildpackage || need_pkgs="$need_pkgs dpkg-dev"
have dh || need_pkgs="$need_pkgs debhelper"
have lintian || need_pkgs="$need_pkgs lintian"
have rpmbuild || need_pkgs="$need_pkgs rpm"
have rpmlint || need_pkgs="$need_pkgs rpmlint"
have debootstrap || need_pkgs="$need_pkgs debootstrap"
have systemd-nspawn || need_pkgs="$need_pkgs systemd-container"
have fakeroot || need_pkgs="$need_pkgs fakeroot"
have hardening-check || need_pkgs="$need_pkgs devscripts"
have cpio || need_pkgs="$need_pkgs cpio"
have pkg-config || need_pkgs="$need_pkgs pkgconf"
for p in libconfig-dev libsystemd-dev check libsubunit-dev; do
	dpkg -s "$p" >/dev/null 2>&1 || need_pkgs="$need_pkgs $p"
done
if [ -n "$need_pkgs" ]; then
	echo "installing:$need_pkgs"
	# shellcheck disable=SC2086 # one word per package
	if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -qq $need_pkgs; } > "$B/pkgtest-deps.log" 2>&1; then
		mkdir -p "$W" && cat "$B/pkgtest-deps.log"
		fail "install the packaging tools:$need_pkgs"
		finish
	fi
fi

# --- clean up from an earlier run, and on exit ---------------------------
NSPAWN_PID=
INIT_PID=
stop_container() {
	[ -n "$NSPAWN_PID" ] || return 0
	if kill -0 "$NSPAWN_PID" 2>/dev/null; then
		[ -n "$INIT_PID" ] && kill -RTMIN+4 "$INIT_PID" 2>/dev/null
		local _
		for _ in $(seq 1 60); do
			kill -0 "$NSPAWN_PID" 2>/dev/null || break
			sleep 0.5
		done
		kill -0 "$NSPAWN_PID" 2>/dev/null && kill -KILL "$NSPAWN_PID"
	fi
	wait "$NSPAWN_PID" 2>/dev/null
	NSPAWN_PID=
	INIT_PID=
}
# Chroot mounts live in a private mount namespace per command (in_root), so
# nothing is ever mounted under build/; rm stays on one file system anyway.
cleanup() {
	stop_container
	[ "${LB4_PKGTEST_KEEP:-0}" = 1 ] || rm -rf --one-file-system "$R"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

rm -rf --one-file-system "$W"
mkdir -p "$W"
: > "$LOG"
echo "log: $LOG"

# --- 1. build ------------------------------------------------------------
phase "build the .deb"
t=$SECONDS
if make -C "$ROOT" deb > "$W/deb-build.log" 2>&1; then
	pass "make deb ($((SECONDS - t)) s)"
else
	tail -30 "$W/deb-build.log"
	fail "make deb (see $W/deb-build.log)"
fi
DEB=$(find "$B" -maxdepth 1 -name 'lb4_*_*.deb' 2>/dev/null | sort |
    head -n 1)
CHANGES=$(find "$B" -maxdepth 1 -name 'lb4_*_*.changes' 2>/dev/null | sort |
    head -n 1)
# The one version source (Makefile: the binary, the man pages, both
# packages take it from VERSION).
VERSION=$(cat "$ROOT/VERSION")

phase "build the .rpm"
t=$SECONDS
if make -C "$ROOT" rpm > "$W/rpm-build.log" 2>&1; then
	pass "make rpm ($((SECONDS - t)) s)"
else
	tail -30 "$W/rpm-build.log"
	fail "make rpm (see $W/rpm-build.log)"
fi
RPM=$(find "$B" -maxdepth 1 -name 'lb4-[0-9]*.rpm' ! -name '*.src.rpm' 2>/dev/null |
    sort | head -n 1)

if [ -z "$DEB" ]; then
	fail "no .deb in $B: nothing more to test"
	finish
fi
for f in "$DEB" ${RPM:+"$RPM"}; do
	echo "package: $(basename "$f") $(stat -c %s "$f") bytes"
done

# Both packages carry VERSION's version.
deb_version=$(dpkg-deb -f "$DEB" Version)
rpm_version=${RPM:+$(rpm -qp --qf '%{VERSION}' "$RPM" 2>/dev/null)}
if [ "$deb_version" = "$VERSION" ] && [ "$rpm_version" = "$VERSION" ]; then
	pass "the .deb and the .rpm are version $VERSION (the VERSION file)"
else
	fail "VERSION says $VERSION; the .deb is '$deb_version', the .rpm '$rpm_version'"
fi

# Hardened binaries in both packages: PIE, stack protector, fortified
# functions, full RELRO, BIND_NOW.  Not required: control-flow protection
# (the endbr64 instructions are there with -fcf-protection, but bookworm's
# startup objects lack the IBT/SHSTK note, so the linked binary never has
# it) and stack clash (reported "unknown" without large stack frames).
phase "hardening-check"
hardened() {	# hardened PACKAGE-FILE
	local d
	d=$W/x-$(basename "$1")
	rm -rf "$d" && mkdir -p "$d"
	case $1 in
	*.deb) dpkg-deb -x "$1" "$d" ;;
	*.rpm) (cd "$d" && rpm2cpio "$1" | cpio -idm --quiet) ;;
	esac || return 1
	hardening-check --nocfprotection "$d/usr/sbin/lb4" "$d/usr/sbin/lb4ctl"
}
[ -n "$DEB" ] && check "the .deb's binaries are hardened (hardening-check)" \
    hardened "$DEB"
[ -n "$RPM" ] && check "the .rpm's binaries are hardened (hardening-check)" \
    hardened "$RPM"

# --- 2. lintian ----------------------------------------------------------
phase "lintian"
# A source package too, from a clean copy of the tree, so that lintian sees
# debian/ as a source package (make deb builds binaries only).
# dpkg-buildpackage -S cleans the copy (debian/rules clean) first.
rm -rf "$W/src" && mkdir -p "$W/src"
cp -a "$B/deb-src/." "$W/src/"
DSC=
if (cd "$W/src" && dpkg-buildpackage -S -us -uc -d) >> "$LOG" 2>&1; then
	DSC=$(find "$W" -maxdepth 1 -name 'lb4_*.dsc' 2>/dev/null | sort | head -n 1)
fi
[ -n "$DSC" ] || fail "dpkg-buildpackage -S (see $LOG)"
lintian --fail-on error,warning -I --pedantic "$CHANGES" ${DSC:+"$DSC"} \
    > "$B/lintian.log" 2>&1
rc=$?
sed 's/^/    /' "$B/lintian.log"
if [ "$rc" -eq 0 ]; then
	pass "lintian: no errors, no warnings (report in build/lintian.log)"
else
	fail "lintian found errors or warnings (build/lintian.log)"
fi

# --- 3. rpm --------------------------------------------------------------
phase "rpm"
if [ -z "$RPM" ]; then
	fail "no .rpm in $B: rpm checks not run"
else
	# Files (not directories) of each package, on one naming: the .deb's
	# unit directory is /lib/systemd/system, Fedora's /usr/lib/systemd/system;
	# Debian gzips documents over 4 KiB (policy 12.3), Fedora does not; the
	# .deb alone has Debian's changelog and copyright, the .rpm alone the
	# build-id links.
	dpkg-deb --fsys-tarfile "$DEB" | tar -tvf - | awk '$1 !~ /^d/ { print $6 }' |
	    sed -e 's,^\./,/,' -e 's,^/lib/systemd/,/usr/lib/systemd/,' \
	        -e 's,^\(/usr/share/doc/lb4/[^/]*\)\.gz$,\1,' |
	    grep -v -e '^/usr/share/doc/lb4/changelog$' \
	        -e '^/usr/share/doc/lb4/copyright$' | sort > "$W/deb.files"
	rpm -qp --qf '[%{FILEMODES:perms} %{FILENAMES}\n]' "$RPM" |
	    awk '$1 !~ /^d/ { print $2 }' | grep -v '^/usr/lib/\.build-id/' |
	    sort > "$W/rpm.files"
	check "rpm -qlp lists the same files as the .deb" \
	    diff -u "$W/deb.files" "$W/rpm.files"
	rpm -qlp "$RPM" > "$W/rpm.list"
	missing=
	for f in /usr/sbin/lb4 /usr/sbin/lb4ctl /etc/lb4/lb4.conf \
	    /usr/lib/systemd/system/lb4.service /usr/lib/lb4/vrrp-hooks \
	    /usr/lib/tmpfiles.d/lb4.conf /etc/lb4/vrrp.d \
	    /usr/lib/lb4/vrrp-hooks/mark-down /usr/share/doc/lb4/examples \
	    /usr/share/man/man8/lb4.8.gz /usr/share/man/man8/lb4ctl.8.gz \
	    /usr/share/man/man5/lb4.conf.5.gz /usr/lib/sysusers.d/lb4.conf; do
		grep -qx "$f" "$W/rpm.list" || missing="$missing $f"
	done
	if [ -z "$missing" ]; then
		pass "rpm has the files lb4(8) FILES lists"
	else
		fail "rpm lacks:$missing"
	fi
	flags=$(rpm -qp --qf '[%{FILEFLAGS:fflags} %{FILENAMES}\n]' "$RPM" |
	    awk '$2 == "/etc/lb4/lb4.conf" { print $1 }')
	case $flags in
	*c*n*|*n*c*) pass "rpm: /etc/lb4/lb4.conf is %config(noreplace) ($flags)" ;;
	*) fail "rpm: /etc/lb4/lb4.conf flags are '$flags', not %config(noreplace)" ;;
	esac
	rpm -qp --scripts "$RPM" > "$W/rpm.scripts"
	if awk '/^preinstall scriptlet/ { p = 1; next } /scriptlet/ { p = 0 }
	    p && /useradd/ && /lb4/ { u = 1 } p && /groupadd/ && /lb4/ { g = 1 }
	    p && /systemd-sysusers/ { u = g = 1 } END { exit !(u && g) }' \
	    "$W/rpm.scripts"; then
		pass "rpm: %pre creates the lb4 group and user"
	else
		fail "rpm: %pre does not create the lb4 user ($W/rpm.scripts)"
	fi
	if rpm -qp --qf '[%{FILEMODES:perms} %{FILENAMES}\n]' "$RPM" |
	    grep -q '^d.* /etc/lb4/vrrp\.d$'; then
		pass "rpm: has the directory /etc/lb4/vrrp.d"
	else
		fail "rpm: no directory /etc/lb4/vrrp.d"
	fi
	n=$(grep -c 'systemd-update-helper .*lb4\.service' "$W/rpm.scripts")
	if [ "$n" -ge 3 ]; then
		pass "rpm: %post, %preun, %postun run the systemd scriptlets"
	else
		fail "rpm: systemd scriptlets missing ($W/rpm.scripts)"
	fi
	# Upgrades never restart lb4 (issue 14): no mark-restart/try-restart.
	if grep -v '^[[:space:]]*#' "$W/rpm.scripts" | grep -E 'restart'; then
		fail "rpm: a scriptlet restarts lb4 on upgrade ($W/rpm.scripts)"
	else
		pass "rpm: no scriptlet restarts lb4 on upgrade"
	fi
	if grep -q 'systemd-tmpfiles --create lb4.conf' "$W/rpm.scripts" &&
	    grep -q "usermod -a -G 'lb4' 'lb4-vrrp'" "$W/rpm.scripts"; then
		pass "rpm: %post creates /run/lb4 (tmpfiles), %pre puts lb4-vrrp in group lb4"
	else
		fail "rpm: tmpfiles or lb4-vrrp missing from the scriptlets ($W/rpm.scripts)"
	fi
	# rpmlint on Debian runs without Fedora's configuration.  These findings
	# come from that alone and are not real on Fedora: no-signature (CI does
	# not sign), no-packager-tag and no-group-tag (Fedora forbids Packager:
	# and dropped Group:), invalid-license (Fedora's license list is not
	# installed; MIT is valid SPDX), manpage-not-compressed bz2 and
	# no-manual-page-for-binary (Debian's default expects .bz2 man pages;
	# Fedora's brp-compress makes .gz and Fedora's rpmlint expects them),
	# unstripped-binary-or-object (Fedora's find-debuginfo strips and splits
	# the -debuginfo package; Debian's rpmbuild has none), no-buildroot-tag
	# (BuildRoot: is obsolete since rpm 4.6 and Fedora forbids it).  Real,
	# and accepted: hardcoded-library-path (lb4(8) FILES puts the hooks,
	# scripts named by lb4.service and keepalived.conf, in /usr/lib/lb4 on
	# every architecture), invalid-url on Source0 (lb4 has no public
	# download URL yet; URL: is a placeholder too).
	# The spec as make rpm built it (Version filled in from VERSION).
	rpmlint "$RPM" "$B/rpm/SPECS/lb4.spec" > "$B/rpmlint.log" 2>&1
	sed 's/^/    /' "$B/rpmlint.log"
	real=$(grep -E ': [EW]: ' "$B/rpmlint.log" | grep -v -E \
	    ': (no-signature|no-packager-tag|no-group-tag|invalid-license|manpage-not-compressed|no-manual-page-for-binary|unstripped-binary-or-object|hardcoded-library-path|no-buildroot-tag|invalid-url)( |$)')
	if [ -z "$real" ]; then
		pass "rpmlint: nothing beyond the known Debian-configuration findings (build/rpmlint.log)"
	else
		printf '%s\n' "$real"
		fail "rpmlint findings to look at (build/rpmlint.log)"
	fi
fi

# --- 4. install into a fresh Debian 12 -----------------------------------
phase "debootstrap a minimal Debian 12"
MIRROR=$(pkgtest_mirror)
t=$SECONDS
if pkgtest_tree "$R" "$LOG"; then
	pass "Debian 12 tree from $MIRROR ($((SECONDS - t)) s; cache $PKGTEST_CACHE)"
else
	tail -20 "$LOG"
	fail "debootstrap $PKGTEST_SUITE from $MIRROR"
	finish
fi

# in_root COMMAND...: runs COMMAND chrooted in the unbooted tree, with
# /proc, /sys and /dev mounted in a mount namespace of its own: they vanish
# with it, and nothing propagates back to this machine's mounts.
in_root() {
	unshare --mount --propagation private /bin/sh -c '
	    r=$1; shift
	    mount -t proc proc "$r/proc" && mount -t sysfs sysfs "$r/sys" &&
	    mount --rbind /dev "$r/dev" || exit 125
	    exec chroot "$r" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
	        DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 "$@"' sh "$R" "$@"
}

phase "install the .deb with apt"
t=$SECONDS
cp /etc/resolv.conf "$R/etc/resolv.conf"
# No service may start in a chroot.
printf '#!/bin/sh\nexit 101\n' > "$R/usr/sbin/policy-rc.d"
chmod 0755 "$R/usr/sbin/policy-rc.d"
cp "$DEB" "$R/var/tmp/"
DEBNAME=$(basename "$DEB")
if in_root apt-get update -q >> "$LOG" 2>&1 &&
    in_root apt-get install -y -q --no-install-recommends "/var/tmp/$DEBNAME" \
    >> "$LOG" 2>&1; then
	pass "apt-get install ./$DEBNAME into a fresh bookworm ($((SECONDS - t)) s)"
else
	tail -20 "$LOG"
	fail "apt-get install ./$DEBNAME (see $LOG)"
	finish
fi
rm -f "$R/var/tmp/$DEBNAME"
check "apt resolved the dependencies (libconfig9 installed from the mirror)" \
    in_root dpkg-query -W -f '${Status}\n' libconfig9
check "lb4 system user exists" in_root getent passwd lb4
check "lb4 system group exists" in_root getent group lb4
# keepalived's script user (issue 14): its own user, in group lb4 (which
# may use lb4's control socket), not lb4 itself.
vrrp_user_ok() {
	local g
	g=$(in_root id -nG lb4-vrrp) || return 1
	echo "lb4-vrrp groups: $g"
	[[ " $g " == *" lb4 "* ]] && [ "$(in_root id -u lb4-vrrp)" != "$(in_root id -u lb4)" ]
}
check "lb4-vrrp system user exists, in group lb4 (keepalived's script_user)" vrrp_user_ok
check "tmpfiles.d file for /run/lb4 installed" \
    grep -qx 'f /run/lb4/health 0644 lb4 lb4 - 1' "$R/usr/lib/tmpfiles.d/lb4.conf"
check "/etc/lb4/vrrp.d exists (site hooks)" test -d "$R/etc/lb4/vrrp.d"
# Maintainer scripts (issue 14): a fresh install enables lb4 but never
# starts it (its lb4.conf is a placeholder), an upgrade neither stops,
# restarts nor starts it.  Removal still stops it.
rm -rf "$W/ctrl" && dpkg-deb -e "$DEB" "$W/ctrl"
no_start_in_postinst() {
	cat "$W/ctrl/postinst"
	# Any deb-systemd-invoke there starts or restarts ($_dh_action).
	! grep -q 'deb-systemd-invoke' "$W/ctrl/postinst" &&
	grep -q 'deb-systemd-helper .*enable' "$W/ctrl/postinst"
}
check "postinst enables lb4.service and never starts or restarts it" no_start_in_postinst
stop_only_on_remove() {
	cat "$W/ctrl/prerm"
	grep -q 'deb-systemd-invoke stop' "$W/ctrl/prerm" &&
	! grep -B3 'deb-systemd-invoke stop' "$W/ctrl/prerm" | grep -q upgrade &&
	grep -B3 'deb-systemd-invoke stop' "$W/ctrl/prerm" | grep -q '"$1" = "\{0,1\}remove'
}
check "prerm stops lb4 on removal only, not on upgrade" stop_only_on_remove
tmpfiles_in_postinst() { grep -q 'systemd-tmpfiles .*--create lb4.conf' "$W/ctrl/postinst"; }
check "postinst runs systemd-tmpfiles --create (/run/lb4 before the next boot)" \
    tmpfiles_in_postinst
is_system_user() {
	local uid shell
	uid=$(in_root getent passwd lb4 | cut -d: -f3)
	shell=$(in_root getent passwd lb4 | cut -d: -f7)
	echo "uid $uid shell $shell"
	[ -n "$uid" ] && [ "$uid" -lt 1000 ] && [ "$shell" = /usr/sbin/nologin ]
}
check "lb4 is a system user (uid < 1000) without a login shell" is_system_user
check "lb4 -t -c /etc/lb4/lb4.conf passes" \
    in_root /usr/sbin/lb4 -t -c /etc/lb4/lb4.conf
version_matches() {
	local v
	v=$(in_root /usr/sbin/lb4 -V)
	echo "lb4 -V: $v"
	[ "$v" = "lb4 $VERSION" ]
}
check "lb4 -V says the package's version ($VERSION)" version_matches
missing=
for f in /usr/sbin/lb4 /usr/sbin/lb4ctl /etc/lb4/lb4.conf \
    /lib/systemd/system/lb4.service /usr/lib/lb4/vrrp-hooks/mark-down \
    /usr/lib/lb4/vrrp-hooks /usr/share/doc/lb4/examples \
    /usr/lib/lb4/vrrp-hooks/pair-forward /usr/lib/lb4/vrrp-hooks/maintenance \
    /usr/share/doc/lb4/examples/nftables/lb4-pair.nft \
    /usr/share/doc/lb4/examples/sysctl.d/61-lb4-pair.conf \
    /usr/share/doc/lb4/examples/lb4-pair-forward.service \
    /usr/share/man/man8/lb4.8.gz /usr/share/man/man8/lb4ctl.8.gz \
    /usr/share/man/man5/lb4.conf.5.gz /usr/share/doc/lb4/copyright; do
	[ -e "$R$f" ] || missing="$missing $f"
done
if [ -z "$missing" ]; then
	pass "the files lb4(8) FILES lists are installed"
else
	fail "not installed:$missing"
fi
is_conffile() { in_root dpkg-query -W -f '${Conffiles}' lb4 | grep -q ' /etc/lb4/lb4.conf '; }
check "/etc/lb4/lb4.conf is a conffile" is_conffile
hooks_executable() {
	local f n=0
	for f in "$R"/usr/lib/lb4/vrrp-hooks/*; do
		[ -f "$f" ] && [ -x "$f" ] || return 1
		n=$((n + 1))
	done
	[ "$n" -gt 0 ]
}
check "the VRRP hooks are installed executable" hooks_executable
check "lb4.service is enabled by the package" \
    test -L "$R/etc/systemd/system/multi-user.target.wants/lb4.service"
out=$(in_root systemd-analyze verify /lib/systemd/system/lb4.service 2>&1)
rc=$?
echo "--- systemd-analyze verify: rc=$rc" >> "$LOG"
printf '%s\n' "$out" >> "$LOG"
if [ $rc -eq 0 ] && [ -z "$out" ]; then
	pass "systemd-analyze verify on the installed unit prints nothing"
else
	printf '%s\n' "$out" | sed 's/^/    /'
	fail "systemd-analyze verify on the installed unit (rc $rc)"
fi
exposure=$(in_root systemd-analyze security --offline=true \
    /lib/systemd/system/lb4.service 2>&1 |
    sed -n 's/^.*Overall exposure level for lb4.service: \([0-9.]*\).*/\1/p')
echo "systemd-analyze security --offline=true: ${exposure:-?}"
if [ -n "$exposure" ] && awk -v e="$exposure" 'BEGIN { exit !(e <= 2.0) }'; then
	pass "systemd-analyze security rates the unit $exposure (at most 2.0)"
else
	fail "systemd-analyze security rates the unit '${exposure:-?}', above 2.0"
fi
rm -f "$R/usr/sbin/policy-rc.d"

# The upgrade package: the same tree, one more changelog entry and a
# changed upstream lb4.conf, so that dpkg must choose between the two.
phase "build the upgrade package"
t=$SECONDS
NEWV=$VERSION+pkgtest1
rm -rf "$W/up" && mkdir -p "$W/up" && cp -a "$W/src" "$W/up/src"
{
	printf 'lb4 (%s) unstable; urgency=medium\n\n' "$NEWV"
	printf '  * Test upgrade built by test/packages/run.sh.\n\n'
	printf ' -- lb4 maintainers <lb4@example.org>  %s\n\n' "$(date -R)"
	cat "$W/up/src/debian/changelog"
} > "$W/up/changelog.new" && mv "$W/up/changelog.new" "$W/up/src/debian/changelog"
printf '\n# Changed by the upgrade test.\n' >> "$W/up/src/etc/lb4.conf"
if (cd "$W/up/src" && DEB_BUILD_OPTIONS=nocheck \
    dpkg-buildpackage -us -uc -b -jauto) > "$W/up-build.log" 2>&1; then
	pass "rebuilt package $NEWV ($((SECONDS - t)) s)"
else
	tail -20 "$W/up-build.log"
	fail "rebuild $NEWV (see $W/up-build.log)"
fi
NEWDEB=$(find "$W/up" -maxdepth 1 -name "lb4_${NEWV}_*.deb" 2>/dev/null | sort |
    head -n 1)

# --- 5. boot it ----------------------------------------------------------
phase "boot the tree with systemd-nspawn"
# in_ct COMMAND...: runs COMMAND inside the booted container.
in_ct() {
	nsenter -t "$INIT_PID" -a /usr/bin/env -i \
	    PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8 \
	    DEBIAN_FRONTEND=noninteractive SYSTEMD_PAGER= "$@"
}
boot_reason=
t=$SECONDS
# --private-network: lb4 and its placeholder addresses stay on the
# container's own loopback, away from anything else on this machine.
systemd-nspawn --keep-unit --register=no -b -D "$R" --private-network \
    --machine="$MACHINE" > "$W/nspawn.log" 2>&1 < /dev/null &
NSPAWN_PID=$!
state=
for _ in $(seq 1 120); do
	if ! kill -0 "$NSPAWN_PID" 2>/dev/null; then
		boot_reason="systemd-nspawn exited during boot"
		break
	fi
	[ -n "$INIT_PID" ] || INIT_PID=$(pkgtest_find_init "$NSPAWN_PID")
	if [ -n "$INIT_PID" ]; then
		state=$(in_ct systemctl is-system-running 2>/dev/null)
		case $state in running|degraded) break ;; esac
	fi
	sleep 0.5
done
if [ -z "$boot_reason" ] && [ "$state" != running ] && [ "$state" != degraded ]; then
	boot_reason="the container's systemd did not reach running within 60 s (state '${state:-none}')"
fi
BOOTED=0
if [ -n "$boot_reason" ]; then
	# Not lb4's fault: this machine cannot boot a container.  Say why.
	why=$(grep -m3 -i -E 'fail|error|denied|not supported|cannot' "$W/nspawn.log" | tr '\n' ' ')
	sed 's/^/    /' "$W/nspawn.log" | tail -15
	skip "booted tests (start, reload, capabilities, upgrade, purge): $boot_reason${why:+: $why}"
	stop_container
else
	BOOTED=1
	pass "container booted ($state) in $((SECONDS - t)) s"
	if [ "$state" = degraded ]; then
		in_ct systemctl --failed --no-legend >> "$LOG" 2>&1
	fi
fi

if [ $BOOTED = 1 ]; then
	# The container has its own /run (a tmpfs), so everything there is
	# read from inside it.
	ct_active() { [ "$(in_ct systemctl is-active lb4)" = active ]; }
	mainpid() { in_ct systemctl show -P MainPID lb4; }
	health_is() { [ "$(in_ct cat /run/lb4/health 2>/dev/null)" = "$1" ]; }
	# wait_for SECONDS COMMAND...: polls COMMAND every 0.2 s.
	wait_for() {
		local n=$(($1 * 5))
		shift
		while [ $n -gt 0 ]; do
			"$@" >/dev/null 2>&1 && return 0
			sleep 0.2
			n=$((n - 1))
		done
		"$@"
	}
	same_process() { ct_active && [ "$(mainpid)" = "$1" ]; }
	status_is() {	# status_is FIELD VALUE: every column of FIELD is VALUE
		awk -v f="$1:" -v v="$2" '$1 == f { ok = 1
		    for (i = 2; i <= NF; i++) if ($i != v) ok = 0 }
		    END { exit !ok }' "$W/status"
	}
	listening() {	# 18080 = 0x46A0; state 0A = LISTEN
		grep -q ' 0100007F:46A0 00000000:0000 0A ' "/proc/$INIT_PID/net/tcp"
	}
	socket_mode() {
		local m
		m=$(in_ct stat -c '%a %G' /run/lb4/lb4.sock)
		echo "$m"
		[ "$m" = "660 lb4" ]
	}
	ctl_lists_server() { in_ct /usr/sbin/lb4ctl show servers | grep -q '127\.0\.0\.1:18081'; }

	phase "systemctl start, stop, reload"
	check "lb4 started at boot (enabled by the package)" wait_for 10 ct_active
	run_lb4_owner() { [ "$(in_ct stat -c '%U %a' /run/lb4)" = "lb4 750" ]; }
	check "/run/lb4 is lb4's, mode 750 (tmpfiles, RuntimeDirectory=)" run_lb4_owner
	check "systemctl stop lb4" in_ct systemctl stop lb4
	check "after stop the health file says 1 (ExecStopPost mark-down)" health_is 1
	check "/run/lb4 outlives the process (RuntimeDirectoryPreserve=yes)" \
	    in_ct test -d /run/lb4
	# Gone before the start, so that a "1" there later is lb4's own.
	in_ct rm -f /run/lb4/health
	t=$SECONDS
	check "systemctl start lb4" in_ct systemctl start lb4
	check "lb4 is active after start ($((SECONDS - t)) s)" ct_active
	pid=$(mainpid)
	echo "MainPID $pid" >> "$LOG"
	in_ct cat "/proc/$pid/status" > "$W/status" 2>> "$LOG"
	grep -E '^(Uid|Gid|Cap[A-Za-z]+|NoNewPrivs|Seccomp):' "$W/status" | sed 's/^/    /'
	lb4uid=$(in_ct getent passwd lb4 | cut -d: -f3)
	lb4gid=$(in_ct getent group lb4 | cut -d: -f3)
	check "lb4 runs as user lb4 (uid ${lb4uid:-?})" status_is Uid "${lb4uid:-none}"
	check "lb4 runs as group lb4 (gid ${lb4gid:-?})" status_is Gid "${lb4gid:-none}"
	# CAP_NET_BIND_SERVICE is bit 10: 0x400.
	for c in CapEff CapPrm CapBnd CapAmb; do
		check "$c is CAP_NET_BIND_SERVICE only" status_is "$c" 0000000000000400
	done
	check "NoNewPrivs is set" status_is NoNewPrivs 1
	check "a seccomp filter is on" status_is Seccomp 2
	check "lb4 listens on 127.0.0.1:18080 (the packaged config)" \
	    wait_for 10 listening
	# Nothing answers on 127.0.0.1:18081 in the container, so the packaged
	# config's tcp check keeps the placeholder down: "1", as lb4.conf says.
	check "lb4 wrote its health file: 1, the placeholder server is down" \
	    wait_for 10 health_is 1
	check "control socket /run/lb4/lb4.sock is mode 660, group lb4" socket_mode
	check "lb4ctl show servers lists the placeholder server" ctl_lists_server
	in_ct /usr/sbin/lb4ctl health >> "$LOG" 2>&1
	rc=$?
	if [ $rc -eq 1 ]; then
		pass "lb4ctl health exits 1 (no server can take a connection)"
	else
		fail "lb4ctl health exited $rc, expected 1"
	fi

	t=$SECONDS
	check "systemctl reload lb4" in_ct systemctl reload lb4
	check "active after reload, same MainPID ($((SECONDS - t)) s)" \
	    same_process "$pid"
	# ExecReload's lb4 -t refuses a broken file: the reload fails and lb4
	# keeps serving the old config.
	cp "$R/etc/lb4/lb4.conf" "$W/lb4.conf.good"
	printf 'no_such_key = 1;\n' >> "$R/etc/lb4/lb4.conf"
	if in_ct systemctl reload lb4 >> "$LOG" 2>&1; then
		fail "systemctl reload with an invalid lb4.conf succeeded"
	else
		pass "systemctl reload with an invalid lb4.conf fails (lb4 -t)"
	fi
	check "lb4 still active on the old config, same MainPID" \
	    same_process "$pid"
	cp "$W/lb4.conf.good" "$R/etc/lb4/lb4.conf"

	# A config that validates but that lb4 cannot apply (its new port is
	# taken: PID 1 listens there through a socket unit) must make the
	# reload fail (issue 14): ExecReload= is `lb4ctl reload`, which exits
	# 1 unless lb4 applied it.  Before, SIGHUP "succeeded".
	printf '[Socket]\nListenStream=127.0.0.1:18091\n' \
	    > "$R/etc/systemd/system/lb4busy.socket"
	printf '[Service]\nExecStart=/bin/true\n' \
	    > "$R/etc/systemd/system/lb4busy.service"
	in_ct systemctl daemon-reload >> "$LOG" 2>&1
	in_ct systemctl start lb4busy.socket >> "$LOG" 2>&1
	sed 's/"127\.0\.0\.1:18080"/"127.0.0.1:18080", "127.0.0.1:18091"/' \
	    "$W/lb4.conf.good" > "$R/etc/lb4/lb4.conf"
	if ! grep -q 18091 "$R/etc/lb4/lb4.conf"; then
		fail "could not add a busy port to lb4.conf (test bug)"
	elif in_ct systemctl reload lb4 >> "$LOG" 2>&1; then
		fail "systemctl reload succeeded although lb4 refused the new config (port 18091 taken)"
	else
		pass "systemctl reload fails when lb4 refuses the new config (lb4ctl reload)"
	fi
	check "lb4 still active after the refused reload, same MainPID" \
	    same_process "$pid"
	cp "$W/lb4.conf.good" "$R/etc/lb4/lb4.conf"
	in_ct systemctl stop lb4busy.socket >> "$LOG" 2>&1
	rm -f "$R/etc/systemd/system/lb4busy.socket" \
	    "$R/etc/systemd/system/lb4busy.service"
	in_ct systemctl daemon-reload >> "$LOG" 2>&1
	check "systemctl reload works again with the good config" \
	    in_ct systemctl reload lb4

	# A crash loop ends with lb4 down (issue 14): StartLimitBurst=3 in
	# 10 minutes.  Each crash (SIGSEGV) a few seconds after a start; the
	# old unit (default start limit, 5 in 10 s) restarted it for ever.
	phase "crash loop"
	in_ct systemctl reset-failed lb4 >> "$LOG" 2>&1
	in_ct systemctl restart lb4 >> "$LOG" 2>&1
	crashes=0
	for _ in 1 2 3 4; do
		wait_for 15 ct_active || break
		sleep 3
		p=$(mainpid)
		{ [ -n "$p" ] && [ "$p" != 0 ]; } || break
		in_ct sh -c "kill -SEGV $p"
		crashes=$((crashes + 1))
		# Until systemd has seen it die.
		wait_for 10 eval '[ "$(mainpid)" != "$p" ]' >/dev/null 2>&1
	done
	sleep 5
	state=$(in_ct systemctl is-active lb4)
	echo "after $crashes crashes: $state" >> "$LOG"
	if [ "$crashes" -eq 3 ] && [ "$state" = failed ]; then
		pass "crash loop: after 3 starts in 10 min lb4 stays down ($state)"
	else
		fail "crash loop: after $crashes crashes lb4 is '$state' (want 3 crashes, then failed)"
	fi
	check "crash loop: the health file says 1 (the peer keeps the VIP)" health_is 1
	in_ct systemctl reset-failed lb4 >> "$LOG" 2>&1
	check "systemctl start lb4 after reset-failed" in_ct systemctl start lb4
	pid=$(mainpid)

	phase "upgrade over a locally edited conffile"
	if [ -z "$NEWDEB" ]; then
		fail "no upgrade package: upgrade not tested"
	else
		sed -i 's/^  log_level = "info";/  log_level = "debug";  # local edit/' \
		    "$R/etc/lb4/lb4.conf"
		printf '# pkgtest: local edit\n' >> "$R/etc/lb4/lb4.conf"
		cp "$NEWDEB" "$R/var/tmp/"
		t=$SECONDS
		check "dpkg --force-confold -i $(basename "$NEWDEB")" \
		    in_ct dpkg --force-confold -i "/var/tmp/$(basename "$NEWDEB")"
		rm -f "$R/var/tmp/$(basename "$NEWDEB")"
		version_is() { [ "$(in_ct dpkg-query -W -f '${Version}' lb4)" = "$1" ]; }
		edit_kept() {
			grep -q '^# pkgtest: local edit' "$R/etc/lb4/lb4.conf" &&
			grep -q 'log_level = "debug";  # local edit' "$R/etc/lb4/lb4.conf"
		}
		check "installed version is now $NEWV" version_is "$NEWV"
		check "the local edit of /etc/lb4/lb4.conf survived" edit_kept
		check "the new packaged lb4.conf is beside it as lb4.conf.dpkg-dist" \
		    grep -q '^# Changed by the upgrade test' "$R/etc/lb4/lb4.conf.dpkg-dist"
		check "lb4 -t passes on the kept config" \
		    in_ct /usr/sbin/lb4 -t -c /etc/lb4/lb4.conf
		# Upgrades never restart lb4 (issue 14): on a pair node a
		# restart moves the VIP to the peer and back.
		check "lb4 kept running through the upgrade (same MainPID)" \
		    same_process "$pid"
		# Nor start one that the operator stopped.
		in_ct systemctl stop lb4 >> "$LOG" 2>&1
		cp "$NEWDEB" "$R/var/tmp/"
		in_ct dpkg --force-confold -i "/var/tmp/$(basename "$NEWDEB")" \
		    >> "$LOG" 2>&1
		rm -f "$R/var/tmp/$(basename "$NEWDEB")"
		sleep 1
		stays_stopped() { ! ct_active; }
		check "a stopped lb4 stays stopped through a reinstall/upgrade" \
		    stays_stopped
		in_ct systemctl start lb4 >> "$LOG" 2>&1
	fi
	in_ct journalctl -u lb4 --no-pager -o short-monotonic \
	    > "$W/journal-lb4.log" 2>&1
	# The sandbox answers what it forbids with EPERM
	# (SystemCallErrorNumber=EPERM, read-only paths): lb4 must never need it.
	sandbox_quiet() {
		! grep -E 'lb4\[[0-9]+\]: .*(Operation not permitted|Permission denied|Read-only file system)' \
		    "$W/journal-lb4.log"
	}
	check "the sandbox denied lb4 nothing (journal: no EPERM, EACCES, EROFS)" \
	    sandbox_quiet

	phase "purge"
	check "dpkg --purge lb4" in_ct dpkg --purge lb4
	not_running() {	# no procps in a minimal tree: no pgrep
		! ct_active && ! in_ct sh -c 'for p in /proc/[0-9]*; do
		    [ "$(cat "$p/comm" 2>/dev/null)" = lb4 ] && exit 0; done; exit 1'
	}
	check "lb4 is stopped and no lb4 process is left" not_running
	in_ct systemctl daemon-reload >> "$LOG" 2>&1
	# /var/cache/man is man-db's cache of pages formatted earlier (by
	# systemd-analyze verify's man check): man-db's to expire, not lb4's.
	left=$(in_ct find / -xdev -path /var/cache/man -prune -o \
	    -name '*lb4*' -print 2>/dev/null)
	for d in /run/lb4 /etc/lb4; do
		in_ct test -e "$d" && left="$left $d"
	done
	if [ -z "$left" ]; then
		pass "purge left no file named after lb4, no /etc/lb4, no /run/lb4"
	else
		# shellcheck disable=SC2086 # one line per file
		printf '%s\n' $left | sed 's/^/    /'
		fail "purge left files behind"
	fi
	# Debian policy: a system user is not removed on purge (files it owned
	# may remain elsewhere), so the user and group stay.
	check "the lb4 user stays after purge, as policy recommends" \
	    in_ct getent passwd lb4
	stop_container
	check "the container powered off cleanly" \
	    grep -q "Container $MACHINE has been shut down" "$W/nspawn.log"
fi

finish
