"""The guest: an initramfs (Debian's busybox or a nolibc /init, the
test module, the tree's test_vmalloc.sh) and a QEMU boot (KVM where it
can run the guest, TCG otherwise)."""
import functools
import os
import platform
import re
import shutil
import subprocess
import threading
from pathlib import Path

from kt_cache import cache_key
from kt_common import (BUILD, BUILD_ENV, TOP, Fail, git, log, rel, require,
                       run, say, tool_versions, work)
from kt_results import KILLED, VMALLOC_LOOPS, VMALLOC_XFAIL
from kt_targets import Target


_fetching = threading.Lock()     # two builders may want the same one


def busybox(t: Target) -> Path:
    """A static busybox: the host's, or Debian's busybox-static for the
    target's Debian architecture."""
    arch = t.busybox
    if arch.startswith("/"):
        require(files={arch: "busybox-static"})
        return Path(arch)
    return debian_package("busybox-static", arch) / "bin" / "busybox"


def debian_arch(t: Target) -> str:
    """The Debian architecture of t's userland: the one its busybox is
    from (the host's, for the host's busybox)."""
    if t.busybox and not t.busybox.startswith("/"):
        return t.busybox
    return run(["dpkg", "--print-architecture"])[1].strip()


def debian_package(pkg: str, arch: str) -> Path:
    """Debian's package pkg for arch, downloaded with a private apt state
    (the host's dpkg architectures are left alone) and extracted (not
    installed): the root of its files, build/userland/ARCH/PKG/."""
    dest = BUILD / "userland" / arch / pkg
    with _fetching:
        if dest.exists():
            return dest
        state = BUILD / "apt" / arch
        for d in ("lists/partial", "cache/archives/partial", "deb"):
            (state / d).mkdir(parents=True, exist_ok=True)
        opts = ["-q", "-o", f"APT::Architectures={arch}",
                "-o", f"APT::Architecture={arch}",
                "-o", f"Dir::State::Lists={state}/lists",
                "-o", f"Dir::Cache={state}/cache",
                "-o", "Dir::State::status=/dev/null",
                "-o", "Debug::NoLocking=1"]
        log(f"userland: downloading Debian's {pkg}:{arch}")
        run(["apt-get", *opts, "update"], check=False)
        rc, out = run(["apt-get", *opts, "download", pkg],
                      cwd=state / "deb", check=False)
        debs = list((state / "deb").glob(f"{pkg}_*.deb"))
        if not debs:
            raise Fail(f"cannot download Debian package {pkg}:{arch}: "
                       f"{out.strip().splitlines()[-1] if out.strip() else rc}")
        tmp = dest.with_name(pkg + ".tmp")      # complete, or not there
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        run(["dpkg-deb", "-x", str(debs[0]), str(tmp)])
        tmp.rename(dest)
    return dest


# nolibc's name of each kernel ARCH= (tools/include/nolibc/arch-NAME.h)
NOLIBC_ARCH = {"x86_64": "x86_64", "i386": "i386", "arm": "arm",
               "arm64": "aarch64", "powerpc": "powerpc"}
# The nolibc for an architecture the tree's own lacks (6.1's has no
# powerpc): Debian's linux-source-6.12, which make installs anyway.
NOLIBC_FALLBACK = "linux-source-6.12"


def nolibc_dir(t: Target) -> Path:
    """tools/include/nolibc: the tree's, or if it does not know t's
    architecture, NOLIBC_FALLBACK's (userland code: any kernel's nolibc
    builds it against this tree's UAPI headers)."""
    own = work() / "tools/include/nolibc"
    if (own / f"arch-{NOLIBC_ARCH.get(t.arch, t.arch)}.h").exists():
        return own
    tarball = Path(f"/usr/src/{NOLIBC_FALLBACK}.tar.xz")
    dest = BUILD / "userland" / f"nolibc-{NOLIBC_FALLBACK}"
    with _fetching:
        if not dest.exists():
            if not tarball.exists():
                raise Fail(f"{own} has no {t.arch} support and {tarball} "
                           f"is missing: install Debian package "
                           f"{NOLIBC_FALLBACK}")
            log(f"userland: nolibc for {t.arch} from {tarball.name}")
            tmp = dest.with_suffix(".tmp")
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir(parents=True)
            run(["tar", "-xJf", str(tarball), "-C", str(tmp),
                 "--strip-components=4", "--wildcards",
                 "*/tools/include/nolibc/*"])
            tmp.rename(dest)
    return dest


def nolibc(t: Target, source: str, libs: tuple = ()) -> Path:
    """guest/SOURCE, static, against nolibc (nolibc_dir()) and the tree's
    UAPI headers for t's architecture: built once while those and the
    source hold."""
    inc = nolibc_dir(t)
    trees = [git("rev-parse", f"HEAD:{d}", cwd=work()) for d in (
        "include/uapi",
        f"arch/{'x86' if t.arch in ('i386', 'x86_64') else t.arch}"
        "/include/uapi")] + [inc.name] + [
        f.read_text() for f in sorted(inc.glob("*.h"))]
    src = TOP / "guest" / source
    key = cache_key(t.arch, t.cross_compile, libs, trees, src.read_text(),
                    tool_versions(f"{t.cross_compile}gcc"))
    dest = BUILD / "userland" / "nolibc" / f"{src.stem}-{key[:16]}"
    with _fetching:
        if dest.exists():
            return dest
        hdrs = BUILD / "userland" / f"headers-{t.arch}"
        shutil.rmtree(hdrs, ignore_errors=True)
        run(["make", "-s", "-C", str(work()), f"O={hdrs}", f"ARCH={t.arch}",
             "headers"], env=BUILD_ENV)
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_suffix(".tmp")
        # (ARCH=i386 with the host gcc: the kernel passes -m32 itself)
        m32 = ["-m32"] if t.arch == "i386" and not t.cross_compile else []
        run([f"{t.cross_compile}gcc", *m32, "-static", "-nostdlib", "-Os",
             "-Wall", "-Werror", "-fno-stack-protector", "-include",
             str(inc / "nolibc.h"),
             "-I", str(hdrs / "usr/include"), "-o", str(tmp), str(src),
             *libs])
        tmp.rename(dest)
    return dest


def initramfs_root(odir: Path) -> Path:
    """Where initramfs() puts the files of the build in odir's initramfs
    (until the next build)."""
    return odir / "initramfs"


def initramfs(t: Target, odir: Path) -> Path:
    """A cpio with busybox, bash and our modprobe (or a nolibc /init), the
    modules, the selftest and guest/init."""
    root = initramfs_root(odir)
    shutil.rmtree(root, ignore_errors=True)
    (root / "bin").mkdir(parents=True)
    (root / "kt" / "selftests").mkdir(parents=True)
    if t.busybox:
        shutil.copy(busybox(t), root / "bin" / "busybox")
        shutil.copy(TOP / "guest" / "init", root / "init")
        # test_vmalloc.sh run as run_vmtests.sh runs it, by bash, which
        # finds our modprobe: busybox's shell would run its own applet,
        # which loads the module twice (see guest/modprobe.c)
        shutil.copy(debian_package("bash-static", debian_arch(t)) / "bin" /
                    "bash-static", root / "bin" / "bash")
        (root / "sbin").mkdir()
        shutil.copy(nolibc(t, "modprobe.c"), root / "sbin" / "modprobe")
    else:
        shutil.copy(nolibc(t, "init-nolibc.c", ("-lgcc",)), root / "init")
    shutil.copytree(odir / "mods" / "lib", root / "lib",
                    ignore=shutil.ignore_patterns("build", "source"))
    shutil.copy(vmalloc_script(work()), root / "kt" / "selftests")
    # test_vmalloc.sh sources ../kselftest/ktap_helpers.sh, as installed
    helpers = work() / "tools/testing/selftests/kselftest/ktap_helpers.sh"
    if helpers.exists():
        (root / "kt" / "kselftest").mkdir()
        shutil.copy(helpers, root / "kt" / "kselftest")
    (root / "kt" / "vmalloc.params").write_text(
        f"{t.vmalloc or VMALLOC_LOOPS}\n")
    return cpio(root, odir / "initramfs.cpio")


def vmalloc_script(tree: Path) -> Path:
    """The tree's test_vmalloc.sh: tools/testing/selftests/mm/ since 6.3,
    vm/ before."""
    for d in ("mm", "vm"):
        f = tree / "tools" / "testing" / "selftests" / d / "test_vmalloc.sh"
        if f.exists():
            return f
    raise Fail(f"{tree}: no tools/testing/selftests/{{mm,vm}}/"
               "test_vmalloc.sh")


def cpio(root: Path, out: Path) -> Path:
    """out: a newc cpio archive of the files below root."""
    require("find", "cpio")
    files = subprocess.run(["find", "."], cwd=root, capture_output=True,
                           text=True).stdout
    with open(out, "wb") as f:
        r = subprocess.run(["cpio", "-o", "-H", "newc", "--quiet"], cwd=root,
                           input=files.encode(), stdout=f,
                           stderr=subprocess.PIPE)
    if r.returncode:
        raise Fail(f"cpio failed: {r.stderr.decode(errors='replace')[-300:]}")
    return out


def guest_text() -> str:
    """Everything of ours that goes into the guest (guest/): part of the
    key of every cached boot."""
    return "".join(f"{f.name}\0{f.read_text()}\0"
                   for f in sorted((TOP / "guest").iterdir()))


def added_kunit_suites() -> list:
    """Names of the KUnit suites in files the applied patches add."""
    files = git("diff", "--name-only", "--diff-filter=A", "base", "HEAD",
                "--", "*kunit*.c", cwd=work()).split()
    return [n for f in files for n in re.findall(
        r'\.name\s*=\s*"(\w+)"', (work() / f).read_text())]


def vmalloc_cases() -> list:
    """Case names in the order of lib/test_vmalloc.c's test_case_array."""
    f = work() / "lib" / "test_vmalloc.c"
    text = f.read_text() if f.exists() else ""
    start = text.find("test_case_array[] = {")
    end = text.find("};", start)
    if start < 0 or end < 0:
        raise Fail(f"{rel(f)}: no test_case_array[] = {{ ... }}; to read "
                   "test_vmalloc's cases from")
    return re.findall(r'\{\s*"(\w+)"', text[start:end])


# More kernel parameters for every guest of this run (kt.py run --kunit:
# kunit.filter_glob=GLOB kt.vmalloc=0).
EXTRA_CMDLINE: list = []


def kernel_cmdline(t: Target) -> str:
    """The kernel command line of t's guest: a panic or an oops ends the
    run at once."""
    return " ".join([f"console={t.console} panic=-1 oops=panic",
                     *filter(None, [t.cmdline]), *EXTRA_CMDLINE])


# The QEMU binaries whose guests KVM runs, by the host's machine type.
KVM_GUESTS = {"x86_64": ("qemu-system-x86_64", "qemu-system-i386"),
              "aarch64": ("qemu-system-aarch64",)}
# "auto" (KVM where it can run the guest), "tcg" or "kvm" (kt.py --accel)
ACCEL = ["auto"]


@functools.lru_cache(maxsize=None)
def kvm_usable() -> bool:
    try:
        os.close(os.open("/dev/kvm", os.O_RDWR))
        return True
    except OSError:
        return False


def host_cpu_flags() -> set:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    m = re.search(r"^flags\s*:(.*)$", text, re.M)
    return set(m.group(1).split()) if m else set()


def accel(t: Target) -> str:
    """kvm where /dev/kvm opens, the guest has the host's architecture and
    the host CPU has every feature t's -cpu adds (x86_64-la57's la57);
    tcg otherwise, or when asked."""
    if ACCEL[0] == "tcg":
        return "tcg"
    cpu = t.qemu[t.qemu.index("-cpu") + 1] if "-cpu" in t.qemu else ""
    wants = {f[1:] for f in cpu.split(",")[1:] if f.startswith("+")}
    if t.qemu[0] in KVM_GUESTS.get(platform.machine(), ()) and \
            kvm_usable() and wants <= host_cpu_flags():
        return "kvm"
    if ACCEL[0] == "kvm":
        raise Fail(f"{t.name}: --accel kvm, but KVM cannot run this guest "
                   "here (/dev/kvm, the architecture, or a CPU feature of "
                   f"-cpu {cpu})")
    return "tcg"


def qemu_options(t: Target, how: str = "") -> list:
    """QEMU's options for t's guest, without kernel, initrd and append;
    how: the accelerator (by default accel(t))."""
    # One vCPU unless the target asks for more: TCG runs them on host
    # threads that the other builds and guests need too.
    smp = [] if "-smp" in t.qemu else ["-smp", "1"]
    how = how or accel(t)
    return [*t.qemu[1:], "-accel", how, *(t.tcg if how == "tcg" else ()),
            *smp, "-display", "none", "-serial", "stdio", "-monitor", "none",
            "-no-reboot"]


def without(args: list, option: str) -> list:
    """args less option and the value after it (where it is there)."""
    if option not in args:
        return list(args)
    i = args.index(option)
    return [*args[:i], *args[i + 2:]]


def qemu_command(t: Target, image: str, initrd: str, how: str = "") -> list:
    return [t.qemu[0], *qemu_options(t, how), "-kernel", image, "-initrd",
            initrd, "-append", kernel_cmdline(t)]


def boot(t: Target, image: Path, initrd: Path, console_log: Path,
         timeout: int) -> tuple:
    """Boot under QEMU; return (console lines, timed_out)."""
    require(t.qemu[0])
    return run_guest(qemu_command(t, str(image), str(initrd)), console_log,
                     timeout)


# At most GUEST_LANES guests at a time, whichever thread starts them (make
# check's boot lanes, its LAVA gate, a fixture's): TCG takes a core per
# vCPU, and the timeouts assume a guest does not share a core with two
# others.
GUEST_LANES = 2
GUEST = threading.BoundedSemaphore(GUEST_LANES)


# Test results as the console prints them: a KTAP result line (KUnit's,
# test_vmalloc.sh's) or a test_vmalloc Summary line.  LIVE[0]: "all" shows
# each (kt.py run), "fail" only failures (make check, whose guests
# interleave), "" none.
RESULT_LINE = re.compile(r"^(?:\[[ \d.]+\] )?\s*((not )?ok \d+ .*|.*Summary: "
                         r"\w+ passed: \d+ failed: (\d+).*)$")
LIVE = ["fail"]


def live(name: str, line: str) -> None:
    """Print a test result of guest name as its console produces it (a
    by-design failure of VMALLOC_XFAIL is no failure)."""
    m = RESULT_LINE.match(line)
    if not m:
        return
    text = m.group(1).strip()
    xfail = any(f"Summary: {c} " in text or text.endswith(f" {c}")
                for c in VMALLOC_XFAIL)
    failed = bool(m.group(2) or m.group(3) not in (None, "0")) and not xfail
    if LIVE[0] == "all" or LIVE[0] == "fail" and failed:
        say(f"  {name}: {text}" + (" (fails by design)" if xfail and (
            m.group(2) or m.group(3) not in (None, "0")) else ""))


def run_guest(cmd: list, console_log: Path, timeout: int) -> tuple:
    """Run a guest's command (QEMU, or a script that execs it), its
    console on stdout, once a guest lane is free; return (console lines,
    timed_out)."""
    with GUEST:
        return _run_guest(cmd, console_log, timeout)


def _run_guest(cmd: list, console_log: Path, timeout: int) -> tuple:
    lines: list = []
    name = console_log.parent.name
    with open(console_log, "w") as f:
        f.write(f"$ {' '.join(cmd)}\n")
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

        def reader():
            for raw in p.stdout:
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
                lines.append(line)
                f.write(line + "\n")
                live(name, line)
                f.flush()
        th = threading.Thread(target=reader, daemon=True)
        th.start()
        try:
            p.wait(timeout=timeout)
            timed_out = False
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            timed_out = True
        # QEMU is gone, so its stdout ends: read it to the end before the
        # log file closes (unless something else holds the pipe open).
        th.join(30)
        p.stdout.close()
        if timed_out:
            lines.append(KILLED.format(timeout))
            f.write(lines[-1] + "\n")
    return lines, timed_out
