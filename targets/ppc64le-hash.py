# ppc64le pseries with the hash MMU: the ppc64le-radix kernel, booted with
# radix disabled.
inherit = "ppc64le-radix"
cmdline = "disable_radix"
expect = [r"KT: mmu MMU\s*: Hash"]
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
