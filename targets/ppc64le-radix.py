# ppc64le pseries with the radix MMU: p4d is folded, and
# ARCH_PAGE_TABLE_SYNC_MASK is 0.  The 2020 ppc64 crash was on this arch.
arch = "powerpc"
cross_compile = "powerpc64le-linux-gnu-"
kconfig = """
CONFIG_PPC64=y
CONFIG_CPU_LITTLE_ENDIAN=y
CONFIG_PPC_PSERIES=y
CONFIG_PPC_RADIX_MMU=y
CONFIG_PPC_64S_HASH_MMU=y
CONFIG_PPC_OF_BOOT_TRAMPOLINE=y
CONFIG_PPC_FPU=y
CONFIG_ALTIVEC=y
CONFIG_VSX=y
CONFIG_HVC_CONSOLE=y
"""
image = "vmlinux"
qemu = ["qemu-system-ppc64", "-machine", "pseries", "-cpu", "POWER9",
        "-m", "1G"]
console = "hvc0"
cmdline = ""
busybox = "ppc64el"
timeout = 300
expect = [r"KT: mmu MMU\s*: Radix"]
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
# Not in make check (three kernels within its hour): make check TARGETS=all,
# or name it.
in_check = False
# A tree without it cannot build this target: it is skipped there.
requires = ["PPC_RADIX_MMU"]
