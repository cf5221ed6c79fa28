#!/bin/sh
# Print every mount point at or below DIR (a physical path) in the
# caller's mount namespace.  (mountinfo escapes a space as \040.)
# Used by make clean and make fresh before anything is deleted.
exec awk -v d="$1" '{ gsub(/\\040/, " ", $5) }
	$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo
