"""Bundles: what a person boots on a machine of their own, or a lab runs:
build/bundle/TARGET/ with the kernel, the initramfs, the command line, the
QEMU command that stands in for the machine, a LAVA job and a README."""
import shlex
import shutil
from pathlib import Path

from kt_common import BUILD, HARNESS_GIT, KVER, log, outs, rel, require
from kt_guest import (added_kunit_suites, initramfs, kernel_cmdline,
                      qemu_command, run_guest, vmalloc_cases)
from kt_kbuild import build
from kt_lava import job_minutes, job_yaml, x86_job_yaml
from kt_results import target_verdict
from kt_targets import Target
from kt_tree import apply, commit_subject, worktree

BUNDLES = BUILD / "bundle"
INITRD = "initramfs.cpio"


def make_bundle(t: Target, patches: list, dest: Path = None) -> Path:
    """The series (patches) built for t, as a bundle in dest (default
    build/bundle/TARGET/)."""
    dest = dest or BUNDLES / t.name
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    head = apply(worktree(), patches, env=HARNESS_GIT)[-1]
    odir = outs() / t.build
    log(f"bundle {t.name}: building {commit_subject(head)}")
    build(t, odir, dest / "build.log")
    image = Path(t.image).name
    shutil.copy(odir / t.image, dest / image)
    shutil.move(initramfs(t, odir), dest / INITRD)
    (dest / "cmdline").write_text(kernel_cmdline(t) + "\n")
    qemu = dest / "qemu.sh"
    qemu.write_text("#!/bin/sh\n# The machine, stood in for by QEMU (TCG), "
                    "as make check boots it.\ncd \"$(dirname \"$0\")\"\n"
                    "exec " + shlex.join(qemu_command(t, image, INITRD, "tcg"))
                    + ' "$@"\n')
    qemu.chmod(0o755)
    minutes = job_minutes(t)
    urls = ((dest / image).resolve().as_uri(),
            (dest / INITRD).resolve().as_uri())
    name = f"kt {t.name}: {len(patches)} patches on linux-source-{KVER}"
    (dest / "lava-job.yaml").write_text(job_yaml(t, name, *urls, minutes))
    if t.arch in ("x86_64", "i386"):
        (dest / "lava-job-x86.yaml").write_text(
            x86_job_yaml(t, name, *urls, minutes))
    (dest / "README").write_text(readme(t, image, len(patches)))
    log(f"bundle {t.name}: {rel(dest)}/")
    return dest


def readme(t: Target, image: str, n: int) -> str:
    """How to boot the bundle on a machine you own, capture its console and
    judge it."""
    cmdline = kernel_cmdline(t)
    if t.arch in ("x86_64", "i386"):
        how = X86.format(image=image, initrd=INITRD, cmdline=cmdline,
                         kernel=X86_TINY if t.defconfig == "tinyconfig"
                         else HW.format(defconfig=t.defconfig))
    elif t.arch == "powerpc" and "ppc64" in t.qemu[0]:
        how = POWER.format(image=image, initrd=INITRD, cmdline=cmdline,
                           kernel=POWER_TINY if t.defconfig == "tinyconfig"
                           else HW.format(defconfig=t.defconfig))
    else:
        how = OTHER.format(image=image, initrd=INITRD, cmdline=cmdline)
    x86job = "\n  lava-job-x86.yaml  the same test on a lab's x86 board" \
        if t.arch in ("x86_64", "i386") else ""
    return README.format(name=t.name, n=n, kver=KVER, image=image,
                         initrd=INITRD, cmdline=cmdline, how=how,
                         console=t.console, x86job=x86job)


README = """\
kt bundle: {name}
=================

The series ({n} patches on Debian's linux-source-{kver}), built for target
{name}, with everything the proof runs in its initramfs.

  {image:<16} the kernel
  {initrd:<16} /init (busybox, or a static nolibc program), test_vmalloc.ko,
                   the tree's test_vmalloc.sh; KUnit suites are built in
  cmdline          the kernel command line: {cmdline}
  qemu.sh          the same boot under QEMU (TCG), as make check does it
  lava-job.yaml    the same boot as a LAVA job (lava-run, or a lab){x86job}

The kernel runs its KUnit suites at boot, /init runs test_vmalloc.sh, then
restarts the machine (on panic too: panic=-1).  Everything the verdict
needs goes to the console ({console}), so capture the whole console from
power-on to the restart, as a text file.

{how}
Judging the log
---------------
In the project's checkout (the same series):

    python3 harness/kt.py judge --target {name} console.log

prints the same table as make check and exits 0 (pass) or 1 (fail),
naming each failed check: the boot reached /init and ended, the paging
mode lines, no BUG/WARNING/Oops/KASAN/panic on the console, every
test_vmalloc case, every KUnit case this target must run or skip.
A console that stops early (a hang, a reset) fails as "stopped before the
tests ended".

In a lab
--------
lava-job.yaml runs on LAVA's qemu device type; make check runs it here with
lava-run.  To run it in a lab:

    lavacli jobs submit lava-job.yaml

after replacing the two file:// URLs with URLs the lab's dispatchers can
fetch (an HTTP server that serves this directory).  For a board instead of
QEMU, keep the test action (its monitor reports every KTAP line as a LAVA
test case: pass, fail or skip) and change device_type, deploy and boot to
the board's: for x86 boards, lava-job-x86.yaml does (device type x86:
deploy to tftp, boot method ipxe, commands ramdisk); LAVA has no
petitboot device type, so a POWER machine with a running Linux would use
boot method kexec (kernel, initrd and command line as above).  A CI that
already submits LAVA jobs (KernelCI's and LKFT's labs do) takes the same
file, with its own URLs.
"""

X86_TINY = """\
This kernel is the target's tinyconfig kernel: its console is the 16550
UART at ttyS0 (the legacy port, 0x3f8), and it has no drivers for disks or
networks (it needs none: everything is in the initramfs), no EFI stub and
no ACPI.  On hardware without a legacy serial port, or to boot it from
UEFI firmware, use the hw profile: make bundle PROFILE=hw.
"""
POWER_TINY = """\
This kernel is the target's tinyconfig kernel for pseries (a PowerVM LPAR
or a KVM guest); its console is hvc0.  For a bare-metal OpenPOWER machine
(PowerNV, booted by petitboot), use the hw profile: make bundle PROFILE=hw
TARGETS=ppc64le-powernv.
"""
HW = """\
This kernel is built from {defconfig} (the hw profile) with the
test fragment: the drivers a real machine needs built in, the KUnit suites
built in, test_vmalloc as a module.  The defconfig's other modules are
left out (mod2noconfig): the initramfs loads none but test_vmalloc.
"""

X86 = """\
On an x86 machine
-----------------
{kernel}
From a running Linux, with kexec-tools:

    kexec -l {image} --initrd={initrd} --command-line="$(cat cmdline)"
    kexec -e

Or as a one-time GRUB entry: copy {image} and {initrd} to /boot/kt/, add to
/etc/grub.d/40_custom

    menuentry 'kt' {{
        linux /boot/kt/{image} {cmdline}
        initrd /boot/kt/{initrd}
    }}

then update-grub; grub-reboot kt; reboot.  (grub-reboot needs
GRUB_DEFAULT=saved in /etc/default/grub; the next boot after this one is
the default entry again.)

Capture the console from another machine on the serial port (a null-modem
cable, or the BMC's serial over LAN):

    picocom -b 115200 --logfile console.log /dev/ttyUSB0
    ipmitool -I lanplus -H BMC -U USER sol activate | tee console.log

"""

POWER = """\
On a POWER machine
------------------
{kernel}
From a running Linux (or petitboot's shell: "Exit to shell"), with
kexec-tools:

    kexec -l {image} --initrd={initrd} --append="$(cat cmdline)"
    kexec -e

Or as a petitboot entry: copy the files to /boot/kt/ on a disk petitboot
scans, and add to its /boot/grub/grub.cfg

    menuentry 'kt' {{
        linux /boot/kt/{image} {cmdline}
        initrd /boot/kt/{initrd}
    }}

Capture the console: an LPAR's virtual terminal from the HMC
(mkvterm -m SYSTEM -p LPAR | tee console.log), or the BMC's serial over
LAN on OpenPOWER (ipmitool -I lanplus -H BMC -U USER sol activate |
tee console.log).

"""

OTHER = """\
On a machine
------------
Boot {image} with {initrd} and the command line in cmdline by your boot
loader (or kexec -l {image} --initrd={initrd} --append="$(cat cmdline)";
kexec -e), and capture its serial console to console.log.

"""



def boot_bundle(t: Target, b: Path, out: Path) -> dict:
    """The bundle b booted exactly as its README says QEMU stands in for
    the machine (its qemu.sh), and judged as make check judges its guests:
    {suite: {case: (result, detail)}}.  Console in out/console.log."""
    require(t.qemu[0])
    out.mkdir(parents=True, exist_ok=True)
    log(f"bundle {t.name}: booting {rel(b)}/qemu.sh")
    lines, _ = run_guest(["sh", str(b / "qemu.sh")], out / "console.log",
                         t.timeout)
    cases, suites = vmalloc_cases(), added_kunit_suites()
    return target_verdict(lines, t, cases, suites)
