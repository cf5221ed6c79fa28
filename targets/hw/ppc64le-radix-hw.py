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
timeout = 900
bisect = False
