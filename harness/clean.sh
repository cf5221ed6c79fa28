#!/bin/bash
# make clean: delete build/, but never while anything is mounted below it
# (an rm -rf through a bind-mounted /dev deletes the host's device files)
# or while a run still uses it.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d build ] || exit 0
dir=$(cd build && pwd -P)
m=$(sh harness/mounts-below.sh "$dir")
if [ -n "$m" ]; then
	echo "clean: refusing, still mounted below build/: $m" >&2
	exit 1
fi
# Hold the locks of kt.py and make fresh while deleting.
exec 8>>build/.lock
flock -n 8 || { echo "clean: refusing, a run holds build/.lock" >&2; exit 1; }
if [ -e build/fresh/.lock ]; then
	exec 9>>build/fresh/.lock
	flock -n 9 || {
		echo "clean: refusing, a run holds build/fresh/.lock" >&2
		exit 1
	}
fi
rm -rf --one-file-system build
