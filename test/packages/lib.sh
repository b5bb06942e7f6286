# shellcheck shell=bash
# test/packages/lib.sh: what the package test (run.sh) and the deployment
# test (deploy.sh) share: the cached Debian 12 tree and the booted
# container's PID 1.  Sourced, not run.
#
#   LB4_PKGTEST_CACHE   where the debootstrap tarball and the pristine tree
#                       are cached (default /var/cache/lb4-pkgtest)
#   LB4_PKGTEST_MIRROR  Debian mirror (default: this machine's apt source)

PKGTEST_CACHE=${LB4_PKGTEST_CACHE:-/var/cache/lb4-pkgtest}
PKGTEST_SUITE=bookworm
PKGTEST_INCLUDE=systemd,systemd-sysv,dbus,ca-certificates,man-db

# pkgtest_mirror: the Debian mirror, from this machine's apt sources.
pkgtest_mirror() {
	local m=${LB4_PKGTEST_MIRROR:-}
	if [ -z "$m" ]; then
		m=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null |
		    awk '/^URIs:/ { u = $2 } /^Suites:/ && / bookworm( |$)/ { print u; exit }')
	fi
	if [ -z "$m" ]; then
		m=$(awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }' \
		    /etc/apt/sources.list 2>/dev/null)
	fi
	echo "${m:-http://deb.debian.org/debian}"
}

# pkgtest_tree DEST LOG: a minimal Debian 12 tree (debootstrap minbase plus
# systemd) in DEST, from the cache when it is there; debootstrap's output
# goes to LOG.  DEST must not exist or be empty.
pkgtest_tree() {
	local dest=$1 log=$2 mirror key debs root ok=1
	mirror=$(pkgtest_mirror)
	key=$(printf '%s %s %s' "$PKGTEST_SUITE" "$PKGTEST_INCLUDE" "$mirror" |
	    md5sum | cut -c1-8)
	debs=$PKGTEST_CACHE/$PKGTEST_SUITE-$key-debs.tgz
	root=$PKGTEST_CACHE/$PKGTEST_SUITE-$key-root.tar
	mkdir -p "$PKGTEST_CACHE" || return 1
	if [ -s "$root" ]; then
		mkdir -p "$dest" && tar -C "$dest" -xf "$root"
		return
	fi
	if [ ! -s "$debs" ]; then
		debootstrap --variant=minbase --include=$PKGTEST_INCLUDE \
		    --make-tarball="$debs.tmp" "$PKGTEST_SUITE" "$dest.mk" \
		    "$mirror" >> "$log" 2>&1 && mv "$debs.tmp" "$debs" || ok=0
		rm -rf --one-file-system "$dest.mk" "$debs.tmp"
	fi
	[ $ok = 1 ] || return 1
	rm -rf --one-file-system "$dest"
	debootstrap --variant=minbase --include=$PKGTEST_INCLUDE \
	    --unpack-tarball="$debs" "$PKGTEST_SUITE" "$dest" "$mirror" \
	    >> "$log" 2>&1 || return 1
	tar -C "$dest" -cf "$root.tmp" . && mv "$root.tmp" "$root"
	rm -f "$root.tmp"
	return 0
}

# pkgtest_find_init NSPAWN_PID: the container's PID 1 (as seen from here),
# the descendant of systemd-nspawn that is PID 1 in its own PID namespace.
pkgtest_find_init() {
	local p c
	for p in $(ps -e -o pid= -o ppid= | awk -v n="$1" '
	    { par[$1] = $2 } END { for (p in par) { q = p
	    while (q in par && q != 1) { if (par[q] == n) { print p; break }
	    q = par[q] } } }'); do
		c=$(awk '/^NSpid:/ { print $NF }' "/proc/$p/status" 2>/dev/null)
		[ "$c" = 1 ] && { echo "$p"; return 0; }
	done
	return 1
}
