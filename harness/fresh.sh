#!/bin/bash
# make fresh: the README's two commands, 'make' and 'make check', in a
# clean clone inside a minimal Debian 12 root (debootstrap --variant=minbase
# plus make, as a new machine has it).  Whatever this host has that the
# project does not install then fails there.
#
# Usage: harness/fresh.sh [TARGET...]       (default: x86_64)
# Environment:
#   FRESH_DROP="pkg..."  remove these packages from the clone's deps.sh
#                        (shows that a missing package fails, by name)
#   FRESH_CCACHE=cold    an empty ccache; by default the host's is shared
#   FRESH_MIRROR=URL     Debian mirror (default http://deb.debian.org/debian)
#
# Everything happens in a private mount namespace: the mounts below the
# root (/proc, /sys, /dev) are never seen by the host, and the kernel
# undoes them when the last process in it ends, also on kill -9.  Output:
# build/fresh/{make,check}.log; exit status 0 when both commands pass.
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd -P)
FRESH=$TOP/build/fresh
ROOT=$FRESH/root
SUITE=bookworm
MIRROR=${FRESH_MIRROR:-http://deb.debian.org/debian}
INCLUDE=make
BASE=$FRESH/minbase-$SUITE-$INCLUDE.tar

die() { echo "fresh: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root (debootstrap, chroot, mount)"
command -v debootstrap >/dev/null ||
	die "debootstrap not found: install Debian package debootstrap"

mounts_below() { sh "$TOP/harness/mounts-below.sh" "$1"; }

# The outer run takes the lock (its children inherit it, so it is held
# until the last of them ends) and starts this script again in a mount
# namespace of its own, naming the namespace it came from.
ns=$(readlink /proc/self/ns/mnt)
if [ "${1:-}" != --in-namespace ]; then
	mkdir -p "$FRESH"
	exec 9>"$FRESH/.lock"
	flock -n 9 || die "another 'make fresh' is running on this build/"
	# Left over from something else: refuse to touch it.
	m=$(mounts_below "$FRESH")
	[ -z "$m" ] || die "still mounted below $FRESH, unmount first: $m"
	exec unshare --mount --propagation private \
		bash "$0" --in-namespace "$ns" "$@"
fi
[ "$2" != "$ns" ] || die "not in a mount namespace of its own"
shift 2

targets=${*:-x86_64}
t_all=$(date +%s)

# The minimal root, made once and kept as a tarball; every run starts
# from a new copy of it, so nothing an earlier run installed is there.
if [ ! -f "$BASE" ]; then
	echo "fresh: debootstrap --variant=minbase --include=$INCLUDE $SUITE (once)"
	rm -rf --one-file-system "$FRESH/boot.tmp"
	s=$(date +%s)
	debootstrap --variant=minbase --include="$INCLUDE" "$SUITE" \
		"$FRESH/boot.tmp" "$MIRROR" >"$FRESH/debootstrap.log" 2>&1 ||
		die "debootstrap failed, see $FRESH/debootstrap.log"
	tar -C "$FRESH/boot.tmp" -cf "$BASE.tmp" .
	mv "$BASE.tmp" "$BASE"
	rm -rf --one-file-system "$FRESH/boot.tmp"
	echo "fresh: debootstrap took $(($(date +%s) - s))s"
fi

m=$(mounts_below "$ROOT")
[ -z "$m" ] || die "still mounted below $ROOT: $m"
rm -rf --one-file-system "$ROOT" "$FRESH/make.log" "$FRESH/check.log"
mkdir -p "$ROOT"
tar -C "$ROOT" -xf "$BASE"

cleanup() {
	for d in $(mounts_below "$ROOT" | sort -r); do
		umount "$d" 2>/dev/null || umount -l "$d"
	done
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

cat >"$ROOT/etc/apt/sources.list" <<EOF
deb $MIRROR $SUITE main
deb $MIRROR $SUITE-updates main
deb ${MIRROR%/debian}/debian-security $SUITE-security main
EOF
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"

# A clean clone of what is committed: uncommitted changes are not tested.
[ -z "$(git -C "$TOP" status --porcelain -uno)" ] ||
	echo "fresh: note: uncommitted changes in $TOP are not in the clone"
git clone -q "$TOP" "$ROOT/root/kt"
echo "fresh: clone of $(git -C "$ROOT/root/kt" log -1 --format='%h %s')"
# The packages deps.sh installs: the words of its run="...", targets="..."
# and gates="..." lists.
deps_pkgs() {
	sed -n -E '/^(run|targets|gates|bench)="/,/"/p' "$ROOT/root/kt/harness/deps.sh" |
		sed -E 's/^(run|targets|gates|bench)="//; s/".*//' | tr -s ' \t' '\n\n'
}
for p in ${FRESH_DROP:-}; do
	deps_pkgs | grep -qxF -- "$p" ||
		die "FRESH_DROP: '$p' is not in harness/deps.sh's package list"
	pe=$(printf '%s' "$p" | sed 's/[][\.*^$+?(){}|/]/\\&/g')
	sed -i -E "s/(^|[[:space:]\"])$pe([[:space:]\"]|\$)/\1\2/g" \
		"$ROOT/root/kt/harness/deps.sh"
	! deps_pkgs | grep -qxF -- "$p" ||
		die "FRESH_DROP: could not remove '$p' from harness/deps.sh"
	echo "fresh: dropped '$p' from the clone's harness/deps.sh"
done

mount -t proc proc "$ROOT/proc"
mount -t sysfs sysfs "$ROOT/sys"
mount --bind /dev "$ROOT/dev"
mount -t devpts -o newinstance,ptmxmode=0666 devpts "$ROOT/dev/pts"
mount -t tmpfs tmpfs "$ROOT/dev/shm"
ccache_dir=/root/.cache/ccache
if [ "${FRESH_CCACHE:-}" != cold ]; then
	host_cc=$(ccache -k cache_dir 2>/dev/null || echo "$HOME/.cache/ccache")
	mkdir -p "$host_cc" "$ROOT$ccache_dir"
	mount --bind "$host_cc" "$ROOT$ccache_dir"
fi

# The README's commands, as a new user runs them.
step() {
	local name=$1
	shift
	local s rc=0
	s=$(date +%s)
	echo "fresh: $name ..."
	chroot "$ROOT" /usr/bin/env -i HOME=/root LANG=C.UTF-8 CI=true \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		CCACHE_DIR=$ccache_dir sh -c "cd /root/kt && $*" \
		2>&1 | tee "$FRESH/$name.log" || rc=$?
	echo "fresh: $name: exit $rc after $(($(date +%s) - s))s"
	return "$rc"
}
rc=0
step make "make TARGETS='$targets'" || rc=1
if [ "$rc" = 0 ]; then
	step check "make check TARGETS='$targets'" || rc=1
fi
if [ "$rc" = 0 ]; then
	echo "fresh: PASS: make and make check ($targets) on a minimal" \
		"Debian $SUITE root, $(($(date +%s) - t_all))s in all"
else
	echo "fresh: FAIL: see $FRESH/make.log and $FRESH/check.log" >&2
	# (what names a missing package first, then every failure)
	grep -h -o -E '[^:]*(not found: install Debian package|deps.sh does not install|cannot install Debian package).*' \
		"$FRESH/make.log" "$FRESH/check.log" 2>/dev/null | sort -u >&2 || true
	grep -h -A3 -E '^(FAIL|error:)' "$FRESH/make.log" "$FRESH/check.log" \
		2>/dev/null | head -40 >&2 || true
fi
exit "$rc"
