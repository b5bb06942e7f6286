#!/bin/sh
# test/shellcheck.sh: shellcheck (with the top .shellcheckrc) on every
# shell script of the tree: each file whose first line is a sh, bash or
# dash shebang, and each *.sh (the libraries the tests source have none).
# Build directories and .git are left out.  Exits 1 on any finding.
# LIST=1: print the files instead.

set -eu
cd "$(dirname "$0")/.."

scripts() {
	find . \( -name .git -o -name 'build*' \) -prune -o -type f -exec \
	    awk 'FNR == 1 && /^#!.*[\/ ](ba|da)?sh([[:space:]]|$)/ {
		print FILENAME } { nextfile }' {} +
	find . \( -name .git -o -name 'build*' \) -prune -o -type f \
	    -name '*.sh' -print
}

files=$(scripts | sed 's|^\./||' | sort -u)
if [ "${LIST:-0}" = 1 ]; then
	printf '%s\n' "$files"
	exit 0
fi
# shellcheck disable=SC2086 # one word per file; none has a blank
shellcheck $files
