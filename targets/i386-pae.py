# i386 with PAE, 3-level paging: p4d and pud are folded; the kernel PMDs
# are shared, so ARCH_PAGE_TABLE_SYNC_MASK is 0.  Page-table isolation is
# built in (i386-pae-pti boots this build with it) and off here.
arch = "i386"
cross_compile = ""
kconfig = """
# CONFIG_64BIT is not set
CONFIG_HIGHMEM64G=y
CONFIG_X86_PAE=y
# gzip, not tinyconfig's xz: far faster to pack at each link
CONFIG_KERNEL_GZIP=y
CONFIG_SERIAL_8250=y
CONFIG_SERIAL_8250_CONSOLE=y
CONFIG_EARLY_PRINTK=y
CONFIG_CPU_MITIGATIONS=y
CONFIG_MITIGATION_PAGE_TABLE_ISOLATION=y
"""
image = "arch/x86/boot/bzImage"
qemu = ["qemu-system-i386", "-machine", "pc", "-cpu", "qemu32,+pae", "-m", "1G"]
console = "ttyS0"
# test_vmalloc's long_busy_list_alloc_test maps 15000 pages at once: more
# than the default 128M of vmalloc space holds with guard pages.
cmdline = "earlyprintk=serial,ttyS0,115200 vmalloc=256M pti=off"
busybox = "i386"
timeout = 300
# KUnit: what this paging mode runs, and what it must skip.
exercise = [
    "pgalloc_track.p4d_alloc_track_folded",
    "pgalloc_track.pud_alloc_track_folded",
    "pgalloc_track.pte_alloc_kernel_track_new",
]
skip = [
    "pgalloc_track.p?d_alloc_track_n*",
    "pgalloc_track.pmd_alloc_track_folded",
    "kernel_pgtable_sync.*",
]
# The whole series builds and boots here; each patch on its own only on
# the bisect targets (x86_64, ppc64le-radix, arm32, arm64-64k).
bisect = False
# Not in make check (three kernels within its hour): make check TARGETS=all,
# or name it.
in_check = False
# A tree without it cannot build this target: it is skipped there.
requires = ["X86_PAE"]
