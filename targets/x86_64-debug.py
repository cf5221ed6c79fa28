# x86_64 as an mm reviewer tests it: 2 CPUs, KASAN generic with
# KASAN_VMALLOC (whose shadow is populated through apply_to_page_range()
# on init_mm, a real user of the tracking), DEBUG_VM_PGTABLE, lockdep,
# and DEBUG_PAGEALLOC switched on; test_vmalloc runs every case in two
# threads at once.  5-level paging is built in (x86_64-la57 boots this
# build with it); a CPU without la57, as here, runs 4 levels.
inherit = "x86_64"
kconfig = """
CONFIG_64BIT=y
CONFIG_X86_5LEVEL=y
# gzip, not tinyconfig's xz: far faster to pack at each link
CONFIG_KERNEL_GZIP=y
CONFIG_SERIAL_8250=y
CONFIG_SERIAL_8250_CONSOLE=y
CONFIG_EARLY_PRINTK=y
CONFIG_SMP=y
CONFIG_NR_CPUS=2
# the MP table of QEMU's BIOS lists one CPU: the second one is in ACPI's
# MADT
CONFIG_ACPI=y
# CONFIG_SLUB_TINY is not set
CONFIG_SLUB=y
CONFIG_KASAN=y
CONFIG_KASAN_GENERIC=y
CONFIG_KASAN_VMALLOC=y
CONFIG_DEBUG_VM_PGTABLE=y
CONFIG_PROVE_LOCKING=y
CONFIG_DEBUG_PAGEALLOC=y
"""
qemu = ["qemu-system-x86_64", "-machine", "pc", "-cpu", "qemu64",
        "-smp", "2", "-m", "1G"]
cmdline = "earlyprintk=serial,ttyS0,115200 debug_pagealloc=on"
# (30 loops instead of 1000; most of the time is full_fit_alloc_test's
# and long_busy_list_alloc_test's, which fill vmalloc space first whatever
# the count: with KASAN_VMALLOC and DEBUG_PAGEALLOC, 1 to 2 minutes under
# TCG on an idle host, and ten times that when both host cores are busy
# and the two vCPUs wait for each other's locks)
vmalloc = "test_loop_count=30 test_repeat_count=1 nr_threads=2"
timeout = 1500
expect = [r"KT: la57 0", r"KT: cpus 2",
          r"kasan: KernelAddressSanitizer initialized"]
# KUnit: the paging of the target it inherits; the KASAN zero shadow is
# the one sync case that installs a top-level table here.
exercise = [
    "pgalloc_track.p4d_alloc_track_folded",
    "pgalloc_track.pud_alloc_track_n*",
    "pgalloc_track.pmd_alloc_track_n*",
    "pgalloc_track.pte_alloc_kernel_track_new",
    "kernel_pgtable_sync.sync_kasan_zero_shadow",
]
skip = [
    "pgalloc_track.p4d_alloc_track_n*",
    "pgalloc_track.pud_alloc_track_folded",
    "pgalloc_track.pmd_alloc_track_folded",
    "kernel_pgtable_sync.sync_vmap",
    "kernel_pgtable_sync.sync_ioremap_page_range",
    "kernel_pgtable_sync.sync_apply_to_page_range",
]
# The whole series builds and boots here; each patch on its own only on
# the bisect targets (x86_64, ppc64le-radix, arm32, arm64-64k).
bisect = False
