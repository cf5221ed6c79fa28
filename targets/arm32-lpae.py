# 32-bit ARM with LPAE: 3-level page tables (p4d and pud folded), the
# kernel PMDs are shared and ARCH_PAGE_TABLE_SYNC_MASK is 0.
inherit = "arm32"
kconfig = """
CONFIG_MMU=y
CONFIG_ARCH_MULTIPLATFORM=y
CONFIG_ARCH_MULTI_V7=y
CONFIG_ARCH_VIRT=y
CONFIG_ARM_LPAE=y
CONFIG_VMAP_STACK=y
CONFIG_SMP=y
CONFIG_NR_CPUS=2
CONFIG_AEABI=y
CONFIG_VFP=y
CONFIG_VFPv3=y
CONFIG_NEON=y
CONFIG_SERIAL_AMBA_PL011=y
CONFIG_SERIAL_AMBA_PL011_CONSOLE=y
"""
expect = [r"KT: pagesize 4096", r"KT: cpus 2"]
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
# The whole series builds and boots here; each patch on its own only on
# the bisect targets (x86_64, ppc64le-radix, arm32, arm64-64k).
bisect = False
# Not in make check (three kernels within its hour): make check TARGETS=all,
# or name it.
in_check = False
# A tree without it cannot build this target: it is skipped there.
requires = ["ARM_LPAE"]
