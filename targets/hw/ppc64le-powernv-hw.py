# ppc64le for a bare-metal OpenPOWER machine (PowerNV: skiboot, then
# petitboot): powernv_defconfig with the test fragment, for make bundle
# PROFILE=hw; make check-hw boots it under QEMU's powernv9 machine (its
# skiboot firmware), the console on OPAL's hvc0.  Radix MMU, as
# ppc64le-radix.
inherit = "ppc64le-radix"
defconfig = "powernv_defconfig"
kconfig = """
CONFIG_PPC64=y
CONFIG_CPU_LITTLE_ENDIAN=y
CONFIG_PPC_POWERNV=y
CONFIG_HVC_OPAL=y
"""
qemu = ["qemu-system-ppc64", "-machine", "powernv9", "-m", "2G"]
timeout = 900
bisect = False
