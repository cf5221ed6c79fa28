"""One job: a target's tree applied, built, booted and judged, written to
build/results/NAME/.  The guest boots on an executor (a guest lane,
TCG takes a core), so the caller can build the next tree meanwhile."""
import hashlib
import json
import os
import shlex
import shutil
import threading
import time
from concurrent.futures import Executor, Future
from pathlib import Path

import kt_ktap
import kt_results
from kt_cache import Cache, cache_key
from kt_common import (BUILD, HARNESS_GIT, KVER, RESULTS, Fail, git, log,
                       outs, rel, require, tool_versions, work)
from kt_guest import (accel, added_kunit_suites, boot, guest_text,
                      initramfs, initramfs_root, kernel_cmdline, qemu_command,
                      qemu_options, vmalloc_cases, without)
from kt_kbuild import build
from kt_targets import Target
from kt_targets import key as target_key
from kt_tree import apply, at_base, tested, worktree


class Job:
    """The record of one job, as results.json keeps it."""

    def __init__(self, name: str, t: Target, patches: list):
        self.out = RESULTS / name
        shutil.rmtree(self.out, ignore_errors=True)
        self.out.mkdir(parents=True)
        self.t0 = time.time()
        self.r = {"job": name, "target": t.name,
                  # the package and version the base was unpacked from
                  "kernel": git("log", "-1", "--format=%s", "base",
                                check=False) or f"linux-source-{KVER}",
                  "patches": [rel(p) for p in patches], "stages": {},
                  "tests": {}, "error": None}

    def stage(self, what: str, fn):
        name = self.r["job"]
        log(f"{name}: {what} ...")
        s = time.time()
        try:
            return fn()
        finally:
            self.r["stages"][what] = round(time.time() - s, 1)
            log(f"{name}: {what} done in {self.r['stages'][what]:.0f}s")

    def finish(self) -> dict:
        r = self.r
        r["seconds"] = round(time.time() - self.t0, 1)
        as_json = dict(r, tests={
            s: {c: {"result": v, "detail": d} for c, (v, d) in cases.items()}
            for s, cases in r["tests"].items()})
        (self.out / "results.json").write_text(json.dumps(as_json, indent=1)
                                               + "\n")
        return r


def expected_tests(patches: list) -> tuple:
    """(test_vmalloc cases, KUnit suites the patches add) of the base tree
    with patches applied, in the harness's checkout."""
    apply(worktree(), patches, env=HARNESS_GIT)
    return vmalloc_cases(), added_kunit_suites()


def done(result: dict) -> Future:
    f: Future = Future()
    f.set_result(result)
    return f


def job(name: str, t: Target, patches: list, boots: Executor,
        timeout: int = 0, expected: bool = True,
        replay: bool = False) -> Future:
    """Apply, build, boot, test one target: a Future of its record.

    The tree is applied and built here, the guest boots on the executor
    boots while the caller goes on.  expected=False (a fixture, which
    changes what runs on purpose): the target's exercise/skip lists are
    not applied.  replay: an earlier boot of the same bits is replayed
    (see Replay) instead of booting again."""
    j = Job(name, t, patches)
    odir = outs() / t.build
    timeout = timeout or t.timeout
    try:
        require(t.qemu[0])
        j.stage("apply", lambda: apply(worktree(), patches, env=HARNESS_GIT))
        j.r["tested"] = tested(work())
        j.r["build"] = j.stage("build",
                               lambda: build(t, odir, j.out / "build.log"))
        # The guest gets copies: the next build replaces odir's.  (vmlinux,
        # for gdb, is a link: the linker writes a new file.)
        image, initrd = j.out / Path(t.image).name, j.out / "initramfs.cpio"
        shutil.copy(odir / t.image, image)
        shutil.move(initramfs(t, odir), initrd)
        link_or_copy(odir / "vmlinux", j.out / "vmlinux")
        j.r["accel"] = accel(t)
        cases, suites = vmalloc_cases(), added_kunit_suites()
    except Fail as e:
        j.r["error"] = str(e)
        return done(j.finish())

    kept = Replay(t, image, initramfs_root(odir), timeout, expected)

    def guest() -> dict:
        try:
            lines, timed_out = kept.lines(j.out / "console.log") \
                if replay and replays(t) else (None, None)
            if lines is None:
                lines, timed_out = j.stage("boot+test", lambda: boot(
                    t, image, initrd, j.out / "console.log", timeout))
            else:
                j.r["job"] += " (replayed)"
        except Fail as e:
            j.r["error"] = str(e)
            for f in (image, initrd, j.out / "vmlinux"):
                f.unlink(missing_ok=True)
            return j.finish()
        j.r["tests"] = kt_results.target_verdict(lines, t, cases, suites,
                                                 expected)
        kernelci = kt_ktap.kernelci_json(lines, t.arch, t.defconfig,
                                         rel(odir))
        if kernelci:        # (what kunit.py parse --json writes)
            (j.out / "kunit.json").write_text(kernelci)
        bad = kt_results.failed(j.r["tests"])
        if bad:
            j.r["error"] = f"{name}: failed: {', '.join(bad[:8])}"
        if bad and expected:
            j.r["reproduce"] = rel(reproducer(j.out, t, image, initrd))
        else:
            for f in (image, initrd, j.out / "vmlinux"):
                f.unlink(missing_ok=True)
        # A series that failed boots again next time (a flaky failure must
        # not stick); a fixture's failure is what it is for.
        if not timed_out and (not bad or not expected):
            kept.keep(lines)
        return j.finish()
    return boots.submit(guest)


def link_or_copy(src: Path, dest: Path) -> None:
    dest.unlink(missing_ok=True)
    try:
        os.link(src, dest)
    except OSError:
        shutil.copy(src, dest)


REPRODUCE = """#!/bin/sh
# Boots the guest of console.log again: the same kernel, initramfs and
# QEMU command ({accel}).
#   ./reproduce.sh          the same boot, the console on this terminal
#   ./reproduce.sh --shell  a busybox shell instead of the tests
#                           (Ctrl-a x quits QEMU)
#   ./reproduce.sh --gdb    QEMU stops at the first instruction and waits
#                           for gdb on port 1234:
#                           gdb vmlinux -ex 'target remote :1234'
cd "$(dirname "$0")"
append={append}
case "$1" in
--shell) exec {shell} -append "$append rdinit=/bin/busybox -- sh" ;;
--gdb) echo "gdb $PWD/vmlinux -ex 'target remote :1234'" >&2
       exec {plain} -append "$append nokaslr" -s -S ;;
'') exec {plain} -append "$append" ;;
*) echo "usage: $0 [--shell | --gdb]" >&2; exit 2 ;;
esac
"""


def reproducer(out: Path, t: Target, image: Path, initrd: Path) -> Path:
    """out/reproduce.sh: the failed guest booted again, also with a shell
    or gdb; the kernel and initramfs it boots stay beside it."""
    cmd = qemu_command(t, image.name, initrd.name)[:-2]   # (no -append)
    shell = without(cmd, "-monitor")
    shell[shell.index("stdio")] = "mon:stdio"
    f = out / "reproduce.sh"
    f.write_text(REPRODUCE.format(
        accel=accel(t), append=shlex.quote(kernel_cmdline(t)),
        plain=shlex.join(cmd), shell=shlex.join(shell)))
    f.chmod(0o755)
    return f


def digest(*paths: Path) -> str:
    """sha1 of the files (each directory: every file below it, by name,
    mode and content)."""
    h = hashlib.sha1()
    for p in paths:
        for f in sorted(p.rglob("*")) if p.is_dir() else [p]:
            if f.is_file() or f.is_symlink():
                h.update(f"{f.relative_to(p.parent)}\0{f.lstat().st_mode}"
                         f"\0".encode())
                h.update(os.readlink(f).encode() if f.is_symlink()
                         else f.read_bytes())
    return h.hexdigest()


def replays(t: Target) -> bool:
    """May a boot of target t be replayed?  Not where the guest has more
    than one CPU: there the same bits need not run the same way (a race in
    the sync is what such a target is for), and one lucky pass must not
    stand for every later run.  KT_REPLAY=0 in the environment: never."""
    if os.environ.get("KT_REPLAY", "1") == "0":
        return False
    smp = t.qemu[t.qemu.index("-smp") + 1] if "-smp" in t.qemu else "1"
    return smp.split(",")[0] in ("1", "cpus=1")


class Replay:
    """The console of an earlier boot of the same bits (kernel image,
    initramfs contents, QEMU command, timeout), replayed instead of booting
    again: build/cache/boots/KEY.log.  Single-CPU guests only (replays())."""

    def __init__(self, t: Target, image: Path, root: Path, timeout: int,
                 expected: bool):
        # (expected: a fixture's failed boot is kept, and must never stand
        # in for the series', even where a fixture changes no bit)
        key = cache_key(digest(image, root), qemu_options(t),
                        kernel_cmdline(t), timeout, tool_versions(t.qemu[0]),
                        expected)
        self.path = BUILD / "cache" / "boots" / f"{key}.log"

    def lines(self, console_log: Path) -> tuple:
        """(lines, False) from the kept console, also written to
        console_log; (None, None) if there is none."""
        if not self.path.exists():
            return None, None
        text = self.path.read_text()
        console_log.write_text(f"# replayed from {rel(self.path)}: a boot "
                               "of the same kernel, initramfs and QEMU "
                               f"command\n{text}")
        log(f"{console_log.parent.name}: boot replayed from an earlier boot "
            "of the same bits")
        return text.rstrip("\n").split("\n"), False

    def keep(self, lines: list) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(f".tmp{threading.get_ident()}")
        tmp.write_text("\n".join(lines) + "\n")
        os.replace(tmp, self.path)


def boot_files(name: str, t: Target, image: Path, initrd: Path,
               patches: list, kept: "Replay", cases: list,
               suites: list) -> dict:
    """t's guest booted on these files (kept: their Replay) with the
    harness's own QEMU command and judged, in build/results/NAME/: the
    record of the job, as results.json has it, each case as it ran (t's
    exercise/skip lists not applied; cases, suites: test_vmalloc's cases
    and the KUnit suites of the tree they were built from).  An earlier
    boot of the same bits that passed is replayed."""
    j = Job(name, t, patches)
    lines, timed_out = kept.lines(j.out / "console.log") if replays(t) \
        else (None, None)
    if lines is None:
        lines, timed_out = j.stage("boot+test", lambda: boot(
            t, image, initrd, j.out / "console.log", t.timeout))
    j.r["tests"] = kt_results.target_verdict(lines, t, cases, suites,
                                             expected=False)
    bad = kt_results.failed(j.r["tests"])
    if bad:
        j.r["error"] = f"{name}: failed: {', '.join(bad[:8])}"
    # (kept for the series' jobs only if it passes as they judge it)
    elif not timed_out and not kt_results.failed(
            kt_results.target_verdict(lines, t, cases, suites)):
        kept.keep(lines)
    return j.finish()


def base_job(n: str, t: Target, boots: Executor) -> Future:
    """The unpatched base booted on target n.  Its result depends only on
    the base tree, the configs and the harness: reuse it while they hold."""
    key = cache_key(git("rev-parse", "base^{tree}"), target_key(t),
                    guest_text())
    cache = Cache(f"{n}-base-job")
    r = cache.get(key)
    if r and (RESULTS / f"{n}-base").exists():
        r["tests"] = {s: {c: tuple(v) for c, v in cases.items()}
                      for s, cases in r["tests"].items()}
        r["job"] += " (cached)"
        return done(r)

    def keep(f):
        if not f.result()["error"]:
            cache.put(key, f.result())
    with at_base():
        f = job(f"{n}-base", t, [], boots)
    f.add_done_callback(keep)
    return f
