# x86_64 with 5-level paging: the only target where p4d is not folded, and
# ARCH_PAGE_TABLE_SYNC_MASK is PGD.  It boots x86_64-debug's build (KASAN
# generic, lockdep, 5-level paging built in) on a CPU with la57, so that
# the KASAN zero shadow's add, remove and add again is synced at the PGD
# level; one CPU, and DEBUG_PAGEALLOC left off.
inherit = "x86_64-debug"
qemu = ["qemu-system-x86_64", "-machine", "pc", "-cpu", "qemu64,+la57",
        "-m", "1G"]
cmdline = "earlyprintk=serial,ttyS0,115200"
timeout = 600
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
