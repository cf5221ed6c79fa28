#!/usr/bin/env python3
"""kt.py: the command line of the harness (kt.py --help, kt.py COMMAND
--help).  The pipeline, one module each: kt_tree (base, apply, export),
kt_targets, kt_kbuild (kconfig, make, objects, size), kt_guest (initramfs,
QEMU), kt_ktap and kt_results (the verdict of a console), kt_job (one
target), kt_findings and kt_gates, kt_fixtures, kt_check and kt_report.
"""
import argparse
import concurrent.futures
import fcntl
import json
import os
import re
import sys
import time
from pathlib import Path

import kt_ktap
import kt_kunit
import kt_results
import kt_targets
from kt_bench import BOOTS, cmd_bench
from kt_bundle import boot_bundle, make_bundle
import kt_check
import kt_guest
from kt_common import (BUILD, KVER, RANGE, RESULTS, SERIES, SRC, TREE, Fail,
                       rel, run, say)
from kt_job import expected_tests, job
from kt_report import summary_row, table
from kt_tree import (base_current, base_tree, cmd_export, cmd_tree,
                     patches_in)


# The lines of each failed case's detail that kt.py run prints.
DETAIL_LINES = 4


def cmd_run(names: list) -> int:
    """The main job: each target with the series, one after the other."""
    patches = patches_in(SERIES)
    gone = kt_check.unsupported_of(names)
    for n, why in gone.items():
        say(f"SKIP {n}: {why}")
        (RESULTS / n / "results.json").unlink(missing_ok=True)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as boots:
        results = [job(n, kt_targets.load(n), patches, boots).result()
                   for n in names if n not in gone]
    if not results:
        say("nothing run: this tree can build none of the targets named")
        return 0
    say(table([summary_row(r) for r in results]))
    for r in results:
        if r["error"]:
            say(f"FAIL {r['error']}")
        for case in kt_results.failed(r["tests"]):
            suite, name = case.rsplit(".", 1)
            detail = r["tests"][suite][name][1].strip().splitlines()
            say(f"  {case}: " + "\n    ".join(detail[:DETAIL_LINES]
                                              or ["(no detail)"]))
        if r.get("reproduce"):
            say(f"  boot it again: {r['reproduce']} [--shell | --gdb]")
    for w in {json.dumps(r["tested"], sort_keys=True): r["tested"]
              for r in results if r.get("tested")}.values():
        say(f"tested: {w['tree']} ({w['kernelversion']}), head "
            f"{w.get('range_head', w['head'])[:12]} "
            f"\"{w['head_subject']}\"")
    say(f"results: {rel(RESULTS)}/<target>/results.json")
    return 1 if any(r["error"] for r in results) else 0


def cmd_judge(args: list) -> int:
    """The verdict of a console log captured anywhere (a lab, a serial
    cable, make check's own console.log), judged as make check judges its
    guests: the same evaluation, the same table."""
    if len(args) != 3 or args[0] != "--target":
        raise Fail("usage: kt.py judge --target TARGET CONSOLE_LOG")
    t, log = kt_targets.load(args[1]), Path(args[2])
    if not log.is_file():
        raise Fail(f"{log}: no such console log")
    cases, suites = expected_tests(patches_in(SERIES))
    tests = kt_results.target_verdict(
        log.read_text(errors="replace").split("\n"), t, cases, suites)
    bad = kt_results.failed(tests)
    say(table([summary_row({"job": f"{t.name}: {log}", "stages": {},
                            "tests": tests, "seconds": 0,
                            "error": "failed" if bad else None})]))
    for b in bad:
        suite, case = next((s, c) for s, cases in tests.items()
                           for c in cases if f"{s}.{c}" == b)
        say(f"FAIL  {b}: "
            + tests[suite][case][1].strip().replace("\n", "\n      "))
    say(f"{t.name}: {'FAIL' if bad else 'PASS'} ({log})")
    return 1 if bad else 0


def cmd_check_hw(targets: list) -> int:
    """make check-hw: each hw-profile bundle built, booted as its README
    says (its qemu.sh), and judged."""
    rows, bad = [], []
    for t in targets:
        s = time.time()
        try:
            b = make_bundle(t, patches_in(SERIES))
            tests = boot_bundle(t, b, RESULTS / f"hw-{t.name}")
        except Fail as e:           # the next bundle still goes
            tests = {"bundle": {"built and booted": ("fail", str(e))}}
        fails = kt_results.failed(tests)
        bad += [f"{t.name}: {f}" for f in fails]
        rows.append(summary_row({"job": t.name, "stages": {}, "tests": tests,
                                 "seconds": time.time() - s,
                                 "error": "failed" if fails else None}))
    say(table(rows))
    for b in bad:
        say(f"FAIL  {b}")
    say(f"check-hw: {'FAIL' if bad else 'PASS'} ({len(targets)} bundles; "
        f"consoles in {rel(RESULTS)}/hw-TARGET/)")
    return 1 if bad else 0


def targets_of(names: list, default: list) -> list:
    """Targets by name (a bad one named now, before any work)."""
    return [kt_targets.load(n) for n in names or default]


def cmd_targets() -> int:
    for n in kt_targets.names():
        t = kt_targets.load(n)
        say(f"{n:16} {t.arch:8} build {t.build:14} "
            f"{'check' if t.in_check else '':6}"
            f"{'bisect' if t.bisect else '':7}{' '.join(t.qemu[:1])}")
    return 0


def dispatch(a: argparse.Namespace) -> int:
    cmd = a.command
    if cmd == "targets":
        return cmd_targets()
    if cmd == "tree":
        cmd_tree()
        return 0
    if cmd == "export":
        cmd_export()
        return 0
    if cmd == "judge":
        t = kt_targets.load(a.target)
        base_tree()
        kt_ktap.load(SRC)
        return cmd_judge(["--target", t.name, a.console_log])
    if cmd in ("base", "run", "check"):
        every = a.targets == ["all"]
        names = kt_targets.names() if every else [t.name for t in targets_of(
            a.targets, ["x86_64"] if cmd == "run" else [])]
        if cmd == "check":
            kt_check.selection(names, a.gate, a.fixture)  # (errors now)
        base_tree()
        # (the kernel's own KUnit tool, before any thread starts)
        kt_kunit.load(SRC)
        kt_ktap.load(SRC)
        if cmd == "run":
            return cmd_run(names)
        if cmd == "check":
            return kt_check.cmd_check(names, a.gate, a.fixture,
                                      a.no_fixtures)
        return 0
    if cmd == "bundle":
        targets = [kt_targets.load(kt_targets.profile_name(n, a.profile))
                   for n in a.targets or ["x86_64"]]
        base_tree()
        kt_kunit.load(SRC)
        for t in targets:
            make_bundle(t, patches_in(SERIES))
        return 0
    if cmd == "bench":
        targets = targets_of(a.targets, ["x86_64"])
        fixture = Path(a.fixture).resolve() if a.fixture else None
        if fixture and not fixture.is_file():
            raise Fail(f"{a.fixture}: no such patch")
        base_tree()
        kt_kunit.load(SRC)
        return cmd_bench(targets, patches_in(SERIES), a.boots, fixture)
    if cmd == "check-hw":
        targets = [kt_targets.load(kt_targets.profile_name(n, "hw"))
                   for n in a.targets] if a.targets else \
            [kt_targets.load(n) for n in kt_targets.names("hw")]
        base_tree()
        kt_ktap.load(SRC)
        return cmd_check_hw(targets)
    raise Fail(f"unknown command '{cmd}'")


class Parser(argparse.ArgumentParser):
    """argparse, with a wrong option or command a one-line error."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} "
                  "--help)\n")


def parser() -> argparse.ArgumentParser:
    p = Parser(
        prog="kt.py", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Apply the series to Debian's kernel tree, build, boot "
        "in QEMU, test, report.  Everything generated lands under build/; "
        "the exit status is non-zero on failure.",
        epilog="examples:\n"
        "  kt.py run                        the main job on x86_64\n"
        "  kt.py run --kunit pgalloc_track  one KUnit suite (no "
        "test_vmalloc)\n"
        "  kt.py check i386                 every check of one target\n"
        "  kt.py check --gate checkpatch    one gate\n"
        "  kt.py check --fixture wrong-level-bit   one fixture\n"
        "  kt.py judge --target i386 console.log")
    p.add_argument("--kver", default=KVER, help="the kernel tree: "
                   "series/KVER/ on Debian's linux-source-KVER "
                   f"(default {KVER}; or KVER=)")
    p.add_argument("--tree", metavar="PATH", default=TREE,
                   help="a kernel git tree of your own, in place of "
                   "Debian's tarball (never modified; needs --range)")
    p.add_argument("--range", metavar="BASE..HEAD", default=RANGE,
                   help="with --tree: the commits to test, in place of "
                   "series/KVER/; BASE is built and compared with")
    p.add_argument("--accel", choices=("auto", "kvm", "tcg"), default="auto",
                   help="how QEMU runs guests: auto (default) takes KVM "
                   "where /dev/kvm can run the guest; make bench and the "
                   "LAVA job always use TCG")
    p.add_argument("--no-replay", action="store_true",
                   help="boot every guest, even one whose same kernel, "
                   "initramfs and command passed before (or KT_REPLAY=0)")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def cmd(name, help_, targets=True):
        c = sub.add_parser(name, help=help_, description=help_)
        if targets:
            c.add_argument("targets", nargs="*", metavar="TARGET",
                           help="targets/TARGET.py (kt.py targets lists "
                           "them; 'all': every one)")
        return c
    cmd("targets", "list the boot targets", targets=False)
    cmd("tree", "build/src/KVER: the base commit and the series as "
        "commits, to edit", targets=False)
    cmd("export", "series/KVER/ written again from build/src/KVER "
        "(git format-patch, one directory per posting)", targets=False)
    cmd("base", "unpack Debian's tree into build/src/KVER only")
    c = cmd("run", "the main job: the series built, booted and tested on "
            "each TARGET (default x86_64), verdict printed")
    c.add_argument("--kunit", metavar="GLOB", help="run only the KUnit "
                   "suites or cases GLOB selects (kunit.filter_glob: SUITE "
                   "or SUITE.CASE, with * and ?), and no test_vmalloc; the "
                   "verdict expects only those")
    c = cmd("check", "every check: each target built and booted (the base "
            "too where the series fails), the patch gates, the fixtures; "
            "with --gate or --fixture, only those")
    c.add_argument("--gate", action="append", default=[], metavar="NAME",
                   help=f"only this gate (repeatable): "
                   f"{', '.join(kt_check.ALL_GATES)}")
    c.add_argument("--fixture", action="append", default=[], metavar="NAME",
                   help="only this fixture of tests/fixtures/ (repeatable; "
                   "the name without .patch)")
    c.add_argument("--no-fixtures", action="store_true",
                   help="leave out the fixtures (they are written against "
                   "this series: on another range they do not apply)")
    c.add_argument("--bisect-all", action="store_true",
                   help="build every patch on its own on every target, not "
                   "only on the bisect targets (or KT_BISECT=all)")
    c = cmd("bundle", "build/bundle/TARGET/: kernel, initramfs, command "
            "line, QEMU command, LAVA job, README (default x86_64)")
    c.add_argument("--profile", choices=kt_targets.PROFILES, default="",
                   help="hw: built from the architecture's defconfig")
    cmd("check-hw", "the hw bundles (targets/hw/) built, booted by their "
        "qemu.sh, judged (slow: defconfig builds)")
    c = cmd("bench", "test_vmalloc's performance mode and a page-fault "
            "loop, base against series, under -icount (default x86_64)")
    c.add_argument("--boots", type=int, default=BOOTS,
                   help=f"boots of each kernel (default {BOOTS})")
    c.add_argument("--fixture", metavar="PATCH", help="a patch on top of "
                   "the series that must show as a slowdown")
    c = cmd("judge", "the verdict of a console log captured anywhere, "
            "judged as make check judges its guests", targets=False)
    c.add_argument("--target", required=True, help="the target it booted")
    c.add_argument("console_log", metavar="CONSOLE_LOG")
    return p


def tree_kver(tree: str, rng: str) -> str:
    """VERSION.PATCHLEVEL ("6.12") of the top Makefile at the range's head
    (of the files checked out, if that does not resolve: the range's
    errors are said later, with the others)."""
    head = rng.partition("..")[2]
    rc, text = run(["git", "show", f"{head}:Makefile"], cwd=Path(tree),
                   check=False) if head and not head.startswith("-") and \
        Path(tree).is_dir() else (1, "")
    try:
        text = text if rc == 0 else (Path(tree) / "Makefile").read_text()
    except OSError:
        raise Fail(f"--tree {tree}: no Makefile: not a kernel tree") \
            from None
    v = dict(re.findall(r"^(VERSION|PATCHLEVEL) = (\d+)$", text, re.M))
    if len(v) != 2:
        raise Fail(f"--tree {tree}: its Makefile has no VERSION and "
                   "PATCHLEVEL")
    return f"{v['VERSION']}.{v['PATCHLEVEL']}"


def main(argv: list) -> int:
    a = parser().parse_args(argv)
    if a.tree:
        a.tree = os.path.expanduser(a.tree)
    if bool(a.tree) != bool(a.range):
        print("kt.py: error: --tree and --range go together", file=sys.stderr)
        return 2
    try:
        kver = tree_kver(a.tree, a.range) if a.tree else a.kver
    except Fail as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    if (kver, a.tree, a.range) != (KVER, TREE, RANGE):
        # (paths of every module follow these, read once at import)
        os.execve(sys.executable, [sys.executable, __file__, *argv],
                  dict(os.environ, KVER=kver, KT_TREE=a.tree,
                       KT_RANGE=a.range))
    if a.no_replay:
        os.environ["KT_REPLAY"] = "0"
    if getattr(a, "bisect_all", False):
        os.environ["KT_BISECT"] = "all"
    kt_guest.ACCEL[0] = a.accel
    if a.command == "run":
        kt_guest.LIVE[0] = "all"
        if a.kunit:
            kt_guest.EXTRA_CMDLINE[:] = [f"kunit.filter_glob={a.kunit}",
                                         "kt.vmalloc=0"]
    # Called from our Makefile: its variables (TARGETS=...) must not reach
    # the kernel's own makes through MAKEFLAGS.
    for v in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES"):
        os.environ.pop(v, None)
    try:
        if a.command in ("targets",) or (a.command == "base" and
                                         base_current()):
            # (make selftest's "base" while another run holds build/)
            return dispatch(a)
        BUILD.mkdir(parents=True, exist_ok=True)
        lock = open(BUILD / ".lock", "w")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise Fail("another kt.py is running on this build/ "
                       f"({rel(BUILD / '.lock')})") from None
        return dispatch(a)
    except Fail as e:
        print(f"error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
