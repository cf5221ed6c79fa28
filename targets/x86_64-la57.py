# x86_64 with 5-level paging: the only target where p4d is not folded, and
# ARCH_PAGE_TABLE_SYNC_MASK is PGD.  It boots x86_64-debug's build (KASAN
# generic, lockdep, 5-level paging built in) on a CPU with la57, so that
# the KASAN zero shadow's add, remove and add again is synced at the PGD
# level; one CPU, and DEBUG_PAGEALLOC left off.
inherit = "x86_64-debug"
qemu = ["qemu-system-x86_64", "-machine", "pc", "-cpu", "qemu64,+la57",
        "-m", "1G"]
cmdline = "earlyprintk=serial,ttyS0,115200"
# Guest time from the instructions run, not the host's clock: the timer's
# interrupts land on the same instructions at every boot of the same bits,
# whatever else the host runs.  Under load they came often enough to land,
# at times, inside identify_cpu() between its memset() of the boot CPU's
# capabilities and get_cpu_cap(): pgtable_l5_enabled() is false there, so
# KASAN takes the irq_desc in the 5-level direct map for a wild access
# (BUG: KASAN: wild-memory-access in do_raw_spin_lock, from
# handle_edge_irq): a race of 6.12's, the base's too, not of the series.
tcg = ["-icount", "shift=0,sleep=off"]
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
