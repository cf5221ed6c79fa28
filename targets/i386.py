# i386, 2-level paging (no PAE), HIGHMEM: p4d, pud and pmd are folded, and
# ARCH_PAGE_TABLE_SYNC_MASK is PMD: every new PTE table is synced.
arch = "i386"
cross_compile = ""          # the host gcc; ARCH=i386 passes -m32
kconfig = """
# CONFIG_64BIT is not set
CONFIG_HIGHMEM4G=y
# gzip, not tinyconfig's xz: far faster to pack at each link
CONFIG_KERNEL_GZIP=y
CONFIG_SERIAL_8250=y
CONFIG_SERIAL_8250_CONSOLE=y
CONFIG_EARLY_PRINTK=y
"""
image = "arch/x86/boot/bzImage"
qemu = ["qemu-system-i386", "-machine", "pc", "-cpu", "qemu32", "-m", "1G"]
console = "ttyS0"
# test_vmalloc's long_busy_list_alloc_test maps 15000 pages at once: more
# than the default 128M of vmalloc space holds with guard pages.
cmdline = "earlyprintk=serial,ttyS0,115200 vmalloc=256M"
busybox = "i386"
timeout = 300
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
# The whole series builds and boots here; each patch on its own on the
# bisect targets (x86_64, ppc64le-radix, arm32, arm64-64k).  Here it
# would add a build of each compiled patch (one link each) to make check
# for code that x86_64's bisect already compiles patch by patch.
bisect = False
