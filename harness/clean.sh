#!/bin/sh
# make clean: delete build/, but never while anything is mounted below it
# (an rm -rf through a bind-mounted /dev deletes the host's device files)
# or while a run still uses it.
set -eu
cd "$(dirname "$0")/.."
[ -d build ] || exit 0
dir=$(pwd)/build
m=$(awk -v d="$dir" '$5 == d || index($5, d "/") == 1 { print $5 }' \
	/proc/self/mountinfo)
if [ -n "$m" ]; then
	echo "clean: refusing, still mounted below build/: $m" >&2
	exit 1
fi
for lock in build/.lock build/fresh/.lock; do
	[ -e "$lock" ] || continue
	if ! flock -n "$lock" true; then
		echo "clean: refusing, a run holds $lock" >&2
		exit 1
	fi
done
rm -rf build
