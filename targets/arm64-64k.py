# arm64 with 64K pages and 48-bit VA: 3 levels (p4d and pud folded), and
# PMD_SIZE is 512M: anything sized in PMDs grows 256 times.
inherit = "arm64"
kconfig = """
CONFIG_ARM64_64K_PAGES=y
CONFIG_ARM64_VA_BITS_48=y
CONFIG_NR_CPUS=2
CONFIG_SERIAL_AMBA_PL011=y
CONFIG_SERIAL_AMBA_PL011_CONSOLE=y
"""
qemu = ["qemu-system-aarch64", "-machine", "virt", "-cpu", "cortex-a57",
        "-smp", "2", "-m", "2G"]
expect = [r"KT: pagesize 65536", r"KT: cpus 2"]
# KUnit: what this paging mode runs, and what it must skip.
exercise = [
    "pgalloc_track.p4d_alloc_track_folded",
    "pgalloc_track.pud_alloc_track_folded",
    "pgalloc_track.pmd_alloc_track_n*",
    "pgalloc_track.pte_alloc_kernel_track_new",
]
skip = [
    "pgalloc_track.p4d_alloc_track_n*",
    "pgalloc_track.pud_alloc_track_n*",
    "pgalloc_track.pmd_alloc_track_folded",
    "kernel_pgtable_sync.*",
]
# Each patch builds on its own here too (arm64 does not).
bisect = True
# Not in make check (three kernels within its hour): make check TARGETS=all,
# or name it.
in_check = False
# A tree without it cannot build this target: it is skipped there.
requires = ["ARM64_64K_PAGES"]
