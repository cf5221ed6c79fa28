# arm64, QEMU virt, 4K pages and 48-bit VA: 4 levels (p4d folded), PMD_SIZE
# 2M, ARCH_PAGE_TABLE_SYNC_MASK 0.  Two CPUs.
arch = "arm64"
cross_compile = "aarch64-linux-gnu-"
kconfig = """
CONFIG_ARM64_4K_PAGES=y
CONFIG_ARM64_VA_BITS_48=y
CONFIG_NR_CPUS=2
CONFIG_SERIAL_AMBA_PL011=y
CONFIG_SERIAL_AMBA_PL011_CONSOLE=y
"""
image = "arch/arm64/boot/Image"
qemu = ["qemu-system-aarch64", "-machine", "virt", "-cpu", "cortex-a57",
        "-smp", "2", "-m", "1G"]
console = "ttyAMA0"
busybox = "arm64"
timeout = 400
expect = [r"KT: pagesize 4096", r"KT: cpus 2"]
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
# The whole series builds and boots here; each patch on its own only on
# the bisect targets (x86_64, ppc64le-radix, arm32, arm64-64k).
bisect = False
# Not in make check (three kernels within its hour): make check TARGETS=all,
# or name it.
in_check = False
