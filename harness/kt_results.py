"""What a guest's console says: the verdict of one boot.  Pure functions
of the console lines, no I/O, so `make selftest` checks them on canned
logs.  A result is (word, detail) with word "pass", "fail" or "skip"."""
import dataclasses
import fnmatch
import re

import kt_ktap
from kt_common import FAIL, PASS, SKIP
from kt_targets import Target

# A console line matching this fails the run, whatever the tests said.
BAD_CONSOLE = re.compile(
    r"BUG:|WARNING:|Oops|KASAN|Kernel panic|Call [Tt]race:|kernel BUG at|"
    r"general protection fault|Unable to handle kernel|UBSAN:|"
    r"RCU stall|soft lockup|hung_task")

# test_vmalloc cases that fail on every kernel, with the reason.  They run
# (test_vmalloc.sh runs every case, as run_vmtests.sh does): a failure is
# reported as a skip with the reason, a pass as a pass.
VMALLOC_XFAIL = {
    "align_shift_alloc_test":
        "fails by design: asks for alignments up to 2^(BITS_PER_LONG - 1) "
        "(lib/test_vmalloc.c: 'supposed to be failed')",
}
# The stack that warn_alloc() dumps for each of those failures, and only
# those: a bad console line is explained by a "vmalloc error" line of a
# test_vmalloc worker at most this many lines above it.
XFAIL_DUMP = re.compile(r"vmalloc_test/\d+: vmalloc error: size \d+, "
                        r"vm_struct allocation failed")
XFAIL_DUMP_LINES = 12
# No run_test_mask: every case runs.  run_vmtests.sh runs "smoke"
# (test_loop_count=10000 test_repeat_count=10), 100 times this, which
# TCG cannot afford.
VMALLOC_LOOPS = "test_loop_count=1000 test_repeat_count=1"

TIMESTAMP = kt_ktap.TIMESTAMP
# (mm-new's test_vmalloc.c marks cases xfail and counts them apart)
SUMMARY = re.compile(r"Summary: (\w+) passed: (\d+) failed: (\d+)"
                     r"(?: xfailed: (\d+))?")


def _last(lines: list, n: int = 30) -> str:
    return "\n".join(lines[-n:])


def boot_result(lines: list, text: list, timed_out: bool,
                timeout: int) -> tuple:
    """The guest must reach /init and power off by itself."""
    if timed_out:
        # the last step the guest's init announced says where it hung,
        # whatever the kernel printed after it
        step = next((l for l in reversed(text) if l.startswith("KT: ")),
                    "(no KT: line yet)")
        return FAIL, (f"guest killed after {timeout}s timeout at {step}; "
                      f"last console lines:\n{_last(lines)}")
    if not any(l.startswith("KT: init") for l in text):
        return FAIL, f"guest never reached /init; last lines:\n{_last(lines)}"
    if not any(l.startswith("KT: done") for l in text):
        return FAIL, ("guest stopped before the tests ended; last lines:\n"
                      + _last(lines))
    return PASS, ""


def mode_results(text: list, expect: tuple) -> list:
    """[(pattern, result)]: the MMU mode the target is for, as printed."""
    out = []
    for pattern in expect:
        hit = next((l for l in text if re.search(pattern, l)), None)
        out.append((pattern, (PASS, hit) if hit else
                    (FAIL, f"no console line matches /{pattern}/")))
    return out


def console_result(text: list) -> tuple:
    """Any bad line fails, except the stack dumps of the by-design
    failures of VMALLOC_XFAIL cases (named in the detail)."""
    bad, explained = [], 0
    for i, l in enumerate(text):
        if not BAD_CONSOLE.search(l):
            continue
        if any(XFAIL_DUMP.search(x)
               for x in text[max(0, i - XFAIL_DUMP_LINES):i]):
            explained += 1
        else:
            bad.append(l)
    if bad:
        return FAIL, "\n".join(bad[:20])
    return PASS, (f"{explained} stack dump(s) of the by-design vmalloc "
                  f"failures of {', '.join(VMALLOC_XFAIL)}" if explained
                  else "")


def vmalloc_results(text: list) -> dict:
    """test_vmalloc: one Summary line per case that ran, per worker
    thread (nr_threads=N), and twice under busybox: its modprobe calls
    init_module() again when finit_module() fails, as test_vmalloc's init
    always does, and its shell runs its own modprobe whatever PATH says.
    A case passes when each of its lines does; the first failure is the
    detail.  Where the tree marks a case xfail, its expected failures
    make it a skip (a real failure still fails)."""
    vm: dict = {}
    rank = {PASS: 0, SKIP: 1, FAIL: 2}
    for l in text:
        m = SUMMARY.search(l)
        if not m:
            continue
        passed, failed_, xfailed = int(m.group(2)), int(m.group(3)), \
            int(m.group(4) or 0)
        r = (FAIL, m.group(0)) if failed_ or not passed + xfailed else \
            (SKIP, f"xfailed: this tree's lib/test_vmalloc.c expects it "
                   f"to fail: {m.group(0)}") if xfailed else \
            (PASS, m.group(0))
        if rank[r[0]] > rank[vm.get(m.group(1), (PASS,))[0]] or \
                m.group(1) not in vm:
            vm[m.group(1)] = r
    return vm


NOT_RUN = "KT: test_vmalloc.sh not run"
# guest/init: this tree's test_vmalloc.sh prints no result and exits 0
# whatever the cases do, so its exit status cannot fail
SILENT = "KT: test_vmalloc.sh reports no results"
# (the detail of its skip)
SILENT_SCRIPT = ("this tree's test_vmalloc.sh prints no results and exits "
                 "0 whatever the cases did (no KTAP): the cases are judged "
                 "from the kernel's Summary lines")


def script_result(text: list, has_shell: bool) -> tuple:
    off = next((l for l in text if l.startswith(NOT_RUN)), None)
    if off:
        return SKIP, off[len("KT: "):]
    m = next((re.match(r"KT: test_vmalloc.sh exit=(\d+)", l) for l in text
              if l.startswith("KT: test_vmalloc.sh exit=")), None)
    if m and m.group(1) == "0" and any(l.startswith(SILENT) for l in text):
        return SKIP, SILENT_SCRIPT
    if m:
        return (PASS if m.group(1) == "0" else FAIL), m.group(0)
    if not has_shell:
        return SKIP, ("no shell on this target: guest/init-nolibc.c loads "
                      "the module itself")
    return FAIL, "test_vmalloc.sh did not finish"


def evaluate(lines: list, timed_out: bool, timeout: int, expect: tuple,
             has_shell: bool) -> dict:
    """Results from real signals: the console, Summary lines, KTAP."""
    text = [TIMESTAMP.sub("", l) for l in lines]
    return {"boot": boot_result(lines, text, timed_out, timeout),
            "mode": mode_results(text, expect),
            "console": console_result(text),
            "test_vmalloc": vmalloc_results(text),
            "script": script_result(text, has_shell),
            # (kernel lines only: test_vmalloc.sh prints KTAP of its own)
            "kunit": kt_ktap.kunit_results(lines)}


def kunit_expected(out: dict, exercise: tuple, skip: tuple,
                   some_cases: bool = False) -> None:
    """Where the suites ran, each case a target names must have passed
    (exercise) or skipped (skip); a glob that names no case fails, unless
    only some cases were selected to run (some_cases)."""
    for globs, want, what in ((exercise, PASS, "exercised"),
                              (skip, SKIP, "skipped")):
        for g in globs:
            suite, case = g.split(".", 1)
            cases = out.get(f"kunit.{suite}")
            if cases is None or "(suite)" in cases and len(cases) == 1:
                continue        # not run: the verdict says so already
            hits = [c for c in cases if c != "(suite)" and
                    fnmatch.fnmatchcase(c, case)]
            if not hits and not some_cases:
                cases[case] = (FAIL, f"the target expects {g} to be "
                               f"{what}, and no such case ran")
            for c in hits:
                r, detail = cases[c]
                if r not in (want, FAIL):
                    cases[c] = (FAIL, f"expected to be {what} on this "
                                f"target ({g}), got {r}: {detail}")


def verdict(res: dict, expected_vmalloc: list, suites: list = (),
            exercise: tuple = (), skip: tuple = (),
            some_cases: bool = False) -> dict:
    """suite -> test -> (result, detail).  A test_vmalloc case that did
    not run fails, and so does a KUnit suite the patches add that did not
    report (config dropped, init hung)."""
    out = {"boot": {"boot": res["boot"],
                    **{f"mode /{p}/": r for p, r in res["mode"]}},
           "console": {"clean": res["console"]}, "test_vmalloc": {}}
    for case in expected_vmalloc:
        r = res["test_vmalloc"].get(
            case, (FAIL, "no Summary line: the case did not run"))
        if case in VMALLOC_XFAIL and r[0] == FAIL and \
                r[1].startswith("Summary:"):
            r = (SKIP, f"{VMALLOC_XFAIL[case]}: {r[1]}")
        out["test_vmalloc"][case] = r
    out["test_vmalloc"]["test_vmalloc.sh"] = res["script"]
    for suite, cases in res["kunit"].items():
        out[f"kunit.{suite}"] = cases
    for suite in suites:
        out.setdefault(f"kunit.{suite}", {
            "(suite)": (FAIL, "no KTAP result: the suite did not run")})
    kunit_expected(out, exercise, skip, some_cases)
    return out


# The line boot() ends a console log with when it kills the guest: a
# saved log says so too, for kt.py judge.
KILLED = "KT-HARNESS: guest killed after {}s timeout"


def target_verdict(lines: list, t: Target, cases: list, suites: list,
                   expected: bool = True) -> dict:
    """The verdict of target t's console, wherever it was captured: a
    guest of make check, or a log that kt.py judge reads.  cases: the
    tree's test_vmalloc cases; suites: the KUnit suites the series adds.
    expected=False (a fixture): t's exercise/skip lists are not applied."""
    lines = [l.rstrip("\r") for l in lines]
    glob = kunit_filter(lines)
    if glob:
        suites, exercise, skip = filtered(glob, suites, t.exercise, t.skip)
        t = dataclasses.replace(t, exercise=exercise, skip=skip)
    if any(l.startswith(NOT_RUN) for l in lines):
        cases = []
    killed = next((m for m in (re.fullmatch(KILLED.format(r"(\d+)"), l)
                               for l in lines) if m), None)
    res = evaluate(lines, bool(killed),
                   int(killed.group(1)) if killed else t.timeout, t.expect,
                   bool(t.busybox))
    return verdict(res, cases, suites,
                   *((t.exercise, t.skip) if expected else ((), ())),
                   some_cases="." in glob)


def kunit_filter(lines: list) -> str:
    """The kunit.filter_glob= of the kernel's command line, as the kernel
    printed it ("" if none): the console says what was selected, so a log
    judged anywhere is judged alike."""
    for l in lines:
        if "Kernel command line:" in l:
            m = re.search(r"(?:^|\s)kunit\.filter_glob=(\S+)", l)
            return m.group(1) if m else ""
    return ""


def filtered(glob: str, suites: list, exercise: tuple, skip: tuple) -> tuple:
    """(suites, exercise, skip) narrowed to the suites that
    kunit.filter_glob=glob ("suite_glob[.test_glob]") lets run: a suite
    it leaves out is not expected to report."""
    sglob = glob.partition(".")[0]

    def keep(g: str) -> bool:
        return fnmatch.fnmatchcase(g.split(".", 1)[0], sglob)
    return ([s for s in suites if fnmatch.fnmatchcase(s, sglob)],
            tuple(filter(keep, exercise)), tuple(filter(keep, skip)))


def failed(tests: dict) -> list:
    """suite.case of every failed test."""
    return [f"{s}.{c}" for s, cases in tests.items()
            for c, (r, _) in cases.items() if r == FAIL]
