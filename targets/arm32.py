# 32-bit ARM, QEMU virt (Cortex-A15), 2-level page tables (no LPAE) with
# VMAP_STACK: p4d, pud and pmd are folded and ARCH_PAGE_TABLE_SYNC_MASK is
# PMD, but the sync is lazy: arch_sync_kernel_mappings() only bumps
# init_mm.context.vmalloc_seq, and switch_mm() copies the vmalloc PGD
# entries into the next mm.  Two CPUs: vmalloc's per-CPU paths.
arch = "arm"
cross_compile = "arm-linux-gnueabihf-"
kconfig = """
CONFIG_MMU=y
CONFIG_ARCH_MULTIPLATFORM=y
CONFIG_ARCH_MULTI_V7=y
CONFIG_ARCH_VIRT=y
# CONFIG_ARM_LPAE is not set
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
image = "arch/arm/boot/zImage"
qemu = ["qemu-system-arm", "-machine", "virt", "-cpu", "cortex-a15",
        "-smp", "2", "-m", "512M"]
console = "ttyAMA0"
busybox = "armhf"
timeout = 400
expect = [r"KT: pagesize 4096", r"KT: cpus 2"]
# KUnit: what this paging mode runs, and what it must skip.
exercise = [
    "pgalloc_track.*_folded",
    "pgalloc_track.pte_alloc_kernel_track_new",
    "kernel_pgtable_sync.sync_vmap",
    "kernel_pgtable_sync.sync_ioremap_page_range",
    "kernel_pgtable_sync.sync_apply_to_page_range",
]
skip = [
    "pgalloc_track.p?d_alloc_track_n*",
    # no KASAN in this configuration
    "kernel_pgtable_sync.sync_kasan_zero_shadow",
]
# Not in make check (three kernels within its hour): make check TARGETS=all,
# or name it.
in_check = False
