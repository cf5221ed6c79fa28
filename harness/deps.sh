#!/bin/sh
# Install from Debian what a command of the harness needs and the machine
# lacks.  Usage: harness/deps.sh [GROUP...] [PACKAGE...]
#   run      build and boot x86_64 (make)
#   targets  every target's cross compiler and QEMU (make TARGETS=...)
#   check    the targets and every gate (make check, make selftest)
#   bench    check's, and gnuplot for the plot (make bench)
set -eu

# ocaml, libpython3-dev: spatch compiles the OCaml parts of some
# Coccinelle scripts (scripts/coccinelle/api/check_bq27xxx_data.cocci) with
# ocamlopt, and loads libpython3.X.so (the -dev package's unversioned name)
# for the Python parts; Debian's coccinelle package pulls in neither.
# lava-dispatcher: lava-run, which runs the x86_64 bundle's LAVA job in
# make check; python3-jinja2 renders the device dictionary from
# lava-server's device-type templates (lava-server is downloaded and
# extracted, not installed).

run="git make gcc libc6-dev python3 perl flex bison bc kmod cpio xz-utils
     libelf-dev libssl-dev ccache busybox-static linux-source-6.12
     qemu-system-x86"
targets="qemu-system-ppc qemu-system-arm gcc-powerpc64le-linux-gnu
         gcc-powerpc-linux-gnu gcc-arm-linux-gnueabihf gcc-aarch64-linux-gnu"
gates="sparse coccinelle ocaml libpython3-dev python3-sphinx
       python3-sphinx-rtd-theme python3-yaml python3-ply python3-git
       lava-dispatcher python3-jinja2 universal-ctags cscope"
bench="gnuplot-nox"

pkgs=$run
for g in "$@"; do
	case $g in
	run) ;;
	targets) pkgs="$pkgs $targets" ;;
	check) pkgs="$pkgs $targets $gates" ;;
	bench) pkgs="$pkgs $targets $gates $bench" ;;
	*) pkgs="$pkgs $g" ;;
	esac
done

missing=""
for p in $pkgs; do
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$st" = installed ] || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "deps: missing Debian packages:$missing (run as root, or: sudo apt-get install$missing)" >&2
	exit 1
fi

err=$(mktemp)
trap 'rm -f "$err"' EXIT
echo "deps: apt-get update"
apt-get update -q >/dev/null 2>"$err" || { echo "deps: apt-get update failed: $(tail -n1 "$err")" >&2; exit 1; }
apt_install() {
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		--no-install-recommends "$@" >/dev/null 2>"$err"
}
echo "deps: installing$missing"
apt_install $missing && exit 0
# Name the package that cannot be installed.
for p in $missing; do
	if ! apt_install "$p"; then
		echo "deps: cannot install Debian package '$p': $(grep -m1 '^E:' "$err" || tail -n1 "$err")" >&2
		exit 1
	fi
done
