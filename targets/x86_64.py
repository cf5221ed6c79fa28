# x86_64, 4-level paging: p4d is folded, ARCH_PAGE_TABLE_SYNC_MASK is P4D.
arch = "x86_64"
cross_compile = ""
kconfig = """
CONFIG_64BIT=y
# gzip, not tinyconfig's xz: far faster to pack at each link
CONFIG_KERNEL_GZIP=y
CONFIG_SERIAL_8250=y
CONFIG_SERIAL_8250_CONSOLE=y
CONFIG_EARLY_PRINTK=y
"""
image = "arch/x86/boot/bzImage"
qemu = ["qemu-system-x86_64", "-machine", "pc", "-cpu", "qemu64", "-m", "512M"]
console = "ttyS0"
cmdline = "earlyprintk=serial,ttyS0,115200"
busybox = "/bin/busybox"
timeout = 300
expect = [r"KT: la57 0"]
# KUnit: what this paging mode runs, and what it must skip.
exercise = [
    "pgalloc_track.p4d_alloc_track_folded",
    "pgalloc_track.pud_alloc_track_n*",
    "pgalloc_track.pmd_alloc_track_n*",
    "pgalloc_track.pte_alloc_kernel_track_new",
]
skip = [
    "pgalloc_track.p4d_alloc_track_n*",
    "pgalloc_track.pud_alloc_track_folded",
    "pgalloc_track.pmd_alloc_track_folded",
    "kernel_pgtable_sync.*",
]
