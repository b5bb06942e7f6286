#!/bin/sh
# sysusers-create-compat.sh FILE...: print the %pre scriptlet that Fedora's
# %sysusers_create_compat makes from sysusers.d(5) files: "g" and "u" lines
# become getent-guarded groupadd and useradd calls, "m" lines usermod -a -G.  Used only through
# debian-shim.macros, when lb4.spec is built on Debian.
set -eu
for f in "$@"; do
	sed -e 's/#.*//' "$f" | awk '
	function q(s) { gsub(/\047/, "\047\\\047\047", s); return "\047" s "\047" }
	NF == 0 { next }
	{
		# Split the fields, keeping a double-quoted GECOS in one piece.
		line = $0; n = 0
		while (length(line) > 0) {
			sub(/^[ \t]+/, "", line)
			if (line == "") break
			if (substr(line, 1, 1) == "\"") {
				end = index(substr(line, 2), "\"")
				fld[++n] = substr(line, 2, end - 1)
				line = substr(line, end + 2)
			} else {
				match(line, /^[^ \t]+/)
				fld[++n] = substr(line, 1, RLENGTH)
				line = substr(line, RLENGTH + 1)
			}
		}
		type = fld[1]; name = fld[2]; id = fld[3]
		gecos = (n >= 4 && fld[4] != "-") ? fld[4] : ""
		home = (n >= 5 && fld[5] != "-") ? fld[5] : "/"
		shell = (n >= 6 && fld[6] != "-") ? fld[6] : "/usr/sbin/nologin"
		if (type == "g") {
			printf "getent group %s >/dev/null || groupadd -r %s%s || :\n", \
			    q(name), (id != "-" ? "-g " q(id) " " : ""), q(name)
		} else if (type == "m") {
			# name joins group id (a supplementary group).
			printf "usermod -a -G %s %s || :\n", q(id), q(name)
		} else if (type == "u") {
			printf "getent group %s >/dev/null || groupadd -r %s || :\n", \
			    q(name), q(name)
			printf "getent passwd %s >/dev/null || useradd -r -g %s -d %s -s %s -c %s %s || :\n", \
			    q(name), q(name), q(home), q(shell), q(gecos), q(name)
		}
	}'
done
