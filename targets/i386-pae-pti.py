# i386 with PAE and page-table isolation, on QEMU's qemu32 CPU (no NX):
# with PTI the kernel PMDs are not shared (SHARED_KERNEL_PMD is false at
# run time), so ARCH_PAGE_TABLE_SYNC_MASK is PMD: the only 3-level x86
# setup that syncs.  It boots i386-pae's build, which has PTI built in.
inherit = "i386-pae"
cmdline = "earlyprintk=serial,ttyS0,115200 vmalloc=256M pti=on"
expect = [r"Kernel/User page tables isolation: enabled"]
# KUnit: PAE's paging (PMDs preallocated), and the sync, eager.
exercise = [
    "pgalloc_track.p4d_alloc_track_folded",
    "pgalloc_track.pud_alloc_track_folded",
    "pgalloc_track.pte_alloc_kernel_track_new",
    "kernel_pgtable_sync.sync_vmap",
    "kernel_pgtable_sync.sync_ioremap_page_range",
    "kernel_pgtable_sync.sync_apply_to_page_range",
]
skip = [
    "pgalloc_track.p?d_alloc_track_n*",
    "pgalloc_track.pmd_alloc_track_folded",
    "kernel_pgtable_sync.sync_kasan_zero_shadow",
]
