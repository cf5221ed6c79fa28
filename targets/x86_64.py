# x86_64, 4-level paging: p4d is folded, ARCH_PAGE_TABLE_SYNC_MASK is P4D.
arch = "x86_64"
cross_compile = ""
kconfig = """
CONFIG_64BIT=y
CONFIG_SERIAL_8250=y
CONFIG_SERIAL_8250_CONSOLE=y
CONFIG_EARLY_PRINTK=y
"""
image = "arch/x86/boot/bzImage"
qemu = ["qemu-system-x86_64", "-machine", "pc", "-cpu", "qemu64", "-m", "512M"]
console = "ttyS0"
cmdline = "earlyprintk=serial,ttyS0,115200"
busybox = "/bin/busybox"
timeout = 300
expect = [r"KT: la57 0"]
