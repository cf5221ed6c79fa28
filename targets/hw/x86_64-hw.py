# x86_64 for real machines: x86_64_defconfig (drivers, ACPI, EFI stub) with
# the test fragment, for make bundle PROFILE=hw; make check-hw boots it
# under QEMU.  4-level paging forced (no5lvl) on machines with LA57 too, so
# that the KUnit cases it exercises and skips are x86_64's.
inherit = "x86_64"
defconfig = "x86_64_defconfig"
kconfig = """
CONFIG_64BIT=y
CONFIG_SERIAL_8250=y
CONFIG_SERIAL_8250_CONSOLE=y
"""
qemu = ["qemu-system-x86_64", "-machine", "pc", "-cpu", "qemu64", "-m", "1G"]
cmdline = "earlyprintk=serial,ttyS0,115200 no5lvl"
timeout = 600
bisect = False
