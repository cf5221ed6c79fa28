# ppc32 (big-endian, 32-bit) PowerMac G3: 2-level paging, pud and pmd are
# folded, ARCH_PAGE_TABLE_SYNC_MASK is 0.  Debian has no busybox for it:
# the guest runs guest/init-nolibc.c, built with the cross compiler.
arch = "powerpc"
cross_compile = "powerpc-linux-gnu-"
kconfig = """
# CONFIG_PPC64 is not set
CONFIG_PPC_BOOK3S_32=y
CONFIG_PPC_PMAC=y
CONFIG_PPC_OF_BOOT_TRAMPOLINE=y
CONFIG_HIGHMEM=y
# The restart that ends the run goes through the CUDA controller
CONFIG_MACINTOSH_DRIVERS=y
CONFIG_ADB=y
CONFIG_ADB_CUDA=y
CONFIG_SERIAL_PMACZILOG=y
CONFIG_SERIAL_PMACZILOG_TTYS=y
CONFIG_SERIAL_PMACZILOG_CONSOLE=y
"""
image = "vmlinux"
qemu = ["qemu-system-ppc", "-machine", "g3beige", "-cpu", "G3", "-m", "512M"]
console = "ttyS0"
cmdline = ""
busybox = None
timeout = 300
# KUnit: what this paging mode runs, and what it must skip.
exercise = [
    "pgalloc_track.*_folded",
    "pgalloc_track.pte_alloc_kernel_track_new",
]
skip = [
    "pgalloc_track.p?d_alloc_track_n*",
    "kernel_pgtable_sync.*",
]
# The whole series builds and boots here; each patch on its own only on
# the bisect targets (x86_64, ppc64le-radix, arm32, arm64-64k).
bisect = False
# Not in make check (three kernels within its hour): make check TARGETS=all,
# or name it.
in_check = False
# A tree without it cannot build this target: it is skipped there.
requires = ["PPC_BOOK3S_32"]
