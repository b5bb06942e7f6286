#!/bin/sh
# deps.sh GROUP...: makes sure the Debian packages of each GROUP (build,
# test, pkg, deb, rpm) are installed.  Silent when nothing is missing.
# Otherwise, as root, runs apt-get update once and installs what is
# missing; as anyone else, prints the apt-get line to run and exits 1.
# deb (make deb) also checks the Build-Depends of packaging/debian/control
# with dpkg-checkbuilddeps and installs what is unmet with apt-get
# build-dep, so that the list lives in one place.
#
# Some packages (postgresql, nginx-light, haproxy) start a service when
# installed under systemd; the tests never rely on one running.

# Edit these lists, one Debian package name each.
BUILD_PKGS="gcc make pkg-config libconfig-dev libsystemd-dev check libsubunit-dev"
TEST_PKGS="python3 iproute2 curl clang libclang-rt-14-dev nginx-light libnginx-mod-stream haproxy wrk valgrind keepalived
	nftables postgresql prometheus procps psmisc libcap2-bin bird2 python3-yaml
	cppcheck clang-tidy shellcheck conntrack iputils-ping"
PKG_PKGS="debhelper devscripts lintian rpm rpmlint debootstrap
	systemd-container fakeroot"
# make deb: dpkg-buildpackage and what it always needs; the rest is in
# packaging/debian/control.  make rpm: rpmbuild and the build group.
DEB_PKGS="dpkg-dev debhelper fakeroot build-essential"
RPM_PKGS="rpm $BUILD_PKGS"

set -eu

usage() {
	echo "usage: $0 build|test|pkg..." >&2
	exit 2
}

[ $# -gt 0 ] || usage
want=""
builddeps=0
for group in "$@"; do
	case $group in
	build)	want="$want $BUILD_PKGS" ;;
	test)	want="$want $TEST_PKGS" ;;
	pkg)	want="$want $PKG_PKGS" ;;
	deb)	want="$want $DEB_PKGS"; builddeps=1 ;;
	rpm)	want="$want $RPM_PKGS" ;;
	*)	usage ;;
	esac
done

# "installed" only: a package removed but not purged is "config-files".
missing=""
for pkg in $want; do
	case " $missing " in
	*" $pkg "*) continue ;;
	esac
	status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null) ||
	    status=""
	[ "$status" = installed ] || missing="$missing $pkg"
done
missing=${missing# }

# The source package's Build-Depends (debhelper-compat, dh-sequence-*, the
# libraries), from the directory holding debian/control.
ctl_dir=$(cd "$(dirname "$0")/../packaging" && pwd)
builddeps_met() {
	[ $builddeps = 1 ] || return 0
	command -v dpkg-checkbuilddeps >/dev/null 2>&1 &&
	    dpkg-checkbuilddeps "$ctl_dir/debian/control" 2>/dev/null
}

if [ -z "$missing" ] && builddeps_met; then
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "$0: missing Debian packages; install them with:" >&2
	[ -z "$missing" ] ||
	    echo "sudo apt-get install --no-install-recommends $missing" >&2
	[ $builddeps = 0 ] ||
	    echo "sudo apt-get build-dep --no-install-recommends $ctl_dir" >&2
	exit 1
fi
updated=0
if [ -n "$missing" ]; then
	echo "$0: installing $missing" >&2
	apt-get update
	updated=1
	# shellcheck disable=SC2086 # one word per package
	DEBIAN_FRONTEND=noninteractive apt-get install -y \
	    --no-install-recommends $missing
fi
if ! builddeps_met; then
	echo "$0: installing the Build-Depends of $ctl_dir/debian/control" >&2
	[ $updated = 1 ] || apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get build-dep -y \
	    --no-install-recommends "$ctl_dir"
fi
