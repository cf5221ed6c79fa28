#!/usr/bin/env python3
"""Apply the series to Debian's kernel tree, build, boot in QEMU, test, report.

  kt.py tree                 build/src/KVER: base commit + series as commits
  kt.py export               series/KVER/ from build/src/KVER (format-patch)
  kt.py base                 build/src/KVER: the base commit only
  kt.py run [TARGET...]      the main job: the series built, booted, tested
  kt.py check [TARGET...]    every check: targets, gates, then the fixtures
  kt.py bundle [--profile hw] [TARGET...]
                             build/bundle/TARGET/: kernel, initramfs,
                             command line, QEMU command, LAVA job, README
  kt.py check-hw [TARGET...] the hw-profile bundles (TARGET-hw, default
                             every one in targets/hw/) built, booted by
                             their qemu.sh, judged
  kt.py bench [--boots N] [--fixture PATCH] [TARGET...]
                             test_vmalloc's performance mode and a page-fault
                             loop, base against series, under -icount
  kt.py judge --target TARGET CONSOLE_LOG
                             the verdict of a console log captured anywhere

Everything generated lands under build/.  Exit status is non-zero on failure.
The pipeline, one module each: kt_tree (base, apply, export), kt_targets,
kt_kbuild (kconfig, make, objects, size), kt_guest (initramfs, QEMU),
kt_ktap and kt_results (the verdict of a console), kt_job (one target),
kt_findings and kt_gates, kt_fixtures, kt_check and kt_report.
"""
import concurrent.futures
import fcntl
import os
import sys
import time
from pathlib import Path

import kt_ktap
import kt_kunit
import kt_results
import kt_targets
from kt_bench import BOOTS, cmd_bench
from kt_bundle import boot_bundle, make_bundle
from kt_check import cmd_check
from kt_common import BUILD, RESULTS, SERIES, SRC, Fail, rel, say
from kt_job import expected_tests, job
from kt_report import summary_row, table
from kt_tree import base_tree, cmd_export, cmd_tree, patches_in


def cmd_run(names: list) -> int:
    """The main job: each target with the series, one after the other."""
    patches = patches_in(SERIES)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as boots:
        results = [job(n, kt_targets.load(n), patches, boots).result()
                   for n in names]
    say(table([summary_row(r) for r in results]))
    for r in results:
        if r["error"]:
            say(f"FAIL {r['error']}")
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


def dispatch(cmd: str, args: list) -> int:
    if cmd == "tree":
        cmd_tree()
    elif cmd == "export":
        cmd_export()
    elif cmd == "judge":
        base_tree()
        kt_ktap.load(SRC)
        return cmd_judge(args)
    elif cmd in ("base", "run", "check"):
        names = args or (["x86_64"] if cmd == "run" else kt_targets.names())
        targets = [kt_targets.load(n) for n in names]   # name a bad one now
        base_tree()
        # (the kernel's own KUnit tool, before any thread starts)
        kt_kunit.load(SRC)
        kt_ktap.load(SRC)
        if cmd == "run":
            return cmd_run([t.name for t in targets])
        if cmd == "check":
            return cmd_check([t.name for t in targets])
    elif cmd == "bundle":
        profile = ""
        if args[:1] == ["--profile"] and len(args) > 1:
            profile, args = args[1], args[2:]
        targets = [kt_targets.load(kt_targets.profile_name(n, profile))
                   for n in args or ["x86_64"]]
        base_tree()
        kt_kunit.load(SRC)
        for t in targets:
            make_bundle(t, patches_in(SERIES))
    elif cmd == "bench":
        opts = {"--boots": str(BOOTS), "--fixture": ""}
        while args[:1] and args[0] in opts and len(args) > 1:
            opts[args[0]], args = args[1], args[2:]
        targets = [kt_targets.load(n) for n in args or ["x86_64"]]
        fixture = Path(opts["--fixture"]).resolve() \
            if opts["--fixture"] else None
        if fixture and not fixture.is_file():
            raise Fail(f"{opts['--fixture']}: no such patch")
        base_tree()
        kt_kunit.load(SRC)
        return cmd_bench(targets, patches_in(SERIES), int(opts["--boots"]),
                         fixture)
    elif cmd == "check-hw":
        targets = [kt_targets.load(kt_targets.profile_name(n, "hw"))
                   for n in args] if args else \
            [kt_targets.load(n) for n in kt_targets.names("hw")]
        base_tree()
        kt_ktap.load(SRC)
        return cmd_check_hw(targets)
    else:
        raise Fail(f"unknown command '{cmd}' (see kt.py --help)")
    return 0


def main(argv: list) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    # Called from our Makefile: its variables (TARGETS=...) must not reach
    # the kernel's own makes through MAKEFLAGS.
    for v in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES"):
        os.environ.pop(v, None)
    BUILD.mkdir(exist_ok=True)
    lock = open(BUILD / ".lock", "w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        print("error: another kt.py is running on this build/",
              file=sys.stderr)
        return 1
    try:
        return dispatch(argv[0], argv[1:])
    except Fail as e:
        print(f"error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
