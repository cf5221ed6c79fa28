# x86_64 with 5-level paging: the only target where p4d is not folded, and
# ARCH_PAGE_TABLE_SYNC_MASK is PGD.  KASAN (generic), so that the KASAN
# zero shadow's add, remove and add again is synced at the PGD level.
arch = "x86_64"
cross_compile = ""
kconfig = """
CONFIG_64BIT=y
CONFIG_X86_5LEVEL=y
CONFIG_SERIAL_8250=y
CONFIG_SERIAL_8250_CONSOLE=y
CONFIG_EARLY_PRINTK=y
# CONFIG_SLUB_TINY is not set
CONFIG_KASAN=y
CONFIG_KASAN_GENERIC=y
"""
image = "arch/x86/boot/bzImage"
qemu = ["qemu-system-x86_64", "-machine", "pc", "-cpu", "qemu64,+la57", "-m", "512M"]
console = "ttyS0"
cmdline = "earlyprintk=serial,ttyS0,115200"
busybox = "/bin/busybox"
timeout = 300
# 5-level paging really in use: the kernel clears the la57 CPU flag when
# it runs with 4 levels.
expect = [r"KT: la57 [1-9]", r"kasan: KernelAddressSanitizer initialized"]
# KUnit: what this paging mode runs, and what it must skip.
exercise = [
    "pgalloc_track.*_alloc_track_n*",
    "pgalloc_track.pte_alloc_kernel_track_new",
    "kernel_pgtable_sync.sync_kasan_zero_shadow",
]
skip = [
    "pgalloc_track.*_folded",
    "kernel_pgtable_sync.sync_vmap",
    "kernel_pgtable_sync.sync_ioremap_page_range",
    "kernel_pgtable_sync.sync_apply_to_page_range",
]
# The whole series builds and boots here; each patch on its own only on
# the bisect targets (x86_64, i386, ppc64le-radix, arm32, arm64-64k).
bisect = False
