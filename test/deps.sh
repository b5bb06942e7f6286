#!/bin/sh
# deps.sh GROUP...: makes sure the Debian packages of each GROUP (build,
# test, pkg) are installed.  Silent when nothing is missing.  Otherwise,
# as root, runs apt-get update once and installs what is missing; as
# anyone else, prints the apt-get line to run and exits 1.
#
# Some packages (postgresql, nginx-light, haproxy) start a service when
# installed under systemd; the tests never rely on one running.

# Edit these lists, one Debian package name each.
BUILD_PKGS="gcc make pkg-config libconfig-dev libsystemd-dev check libsubunit-dev"
TEST_PKGS="python3 iproute2 curl clang libclang-rt-14-dev nginx-light libnginx-mod-stream haproxy wrk valgrind keepalived
	nftables postgresql prometheus procps psmisc libcap2-bin"
PKG_PKGS="debhelper devscripts lintian rpm rpmlint debootstrap
	systemd-container fakeroot"

set -eu

usage() {
	echo "usage: $0 build|test|pkg..." >&2
	exit 2
}

[ $# -gt 0 ] || usage
want=""
for group in "$@"; do
	case $group in
	build)	want="$want $BUILD_PKGS" ;;
	test)	want="$want $TEST_PKGS" ;;
	pkg)	want="$want $PKG_PKGS" ;;
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
[ -n "$missing" ] || exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "$0: missing Debian packages; install them with:" >&2
	echo "sudo apt-get install --no-install-recommends $missing" >&2
	exit 1
fi
echo "$0: installing $missing" >&2
apt-get update
# shellcheck disable=SC2086 # one word per package
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
    $missing
