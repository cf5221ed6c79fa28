# ppc64le for a pseries machine (a PowerVM LPAR, a KVM guest):
# pseries_le_defconfig with the test fragment, for make bundle PROFILE=hw;
# make check-hw boots it under QEMU's pseries machine.  Radix MMU on
# POWER9 and later, as ppc64le-radix.
inherit = "ppc64le-radix"
defconfig = "pseries_le_defconfig"
kconfig = """
CONFIG_PPC64=y
CONFIG_CPU_LITTLE_ENDIAN=y
CONFIG_PPC_PSERIES=y
CONFIG_HVC_CONSOLE=y
"""
# 2 GiB, as powernv's: the defconfig has 64K pages, and test_vmalloc's
# long_busy_list_alloc_test maps 15000 pages at once (940 MiB), which the
# 1 GiB of ppc64le-radix (4K pages) cannot hold: the OOM killer took the
# script.
qemu = ["qemu-system-ppc64", "-machine", "pseries", "-cpu", "POWER9",
        "-m", "2G"]
timeout = 900
bisect = False
