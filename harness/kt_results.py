"""What a guest's console says: the verdict of one boot.  Pure functions
of the console lines, no I/O, so `make selftest` checks them on canned
logs.  A result is (word, detail) with word "pass", "fail" or "skip"."""
import re

import kt_ktap
from kt_common import FAIL, PASS, SKIP

# A console line matching this fails the run, whatever the tests said.
BAD_CONSOLE = re.compile(
    r"BUG:|WARNING:|Oops|KASAN|Kernel panic|Call Trace:|kernel BUG at|"
    r"general protection fault|Unable to handle kernel|UBSAN:|"
    r"RCU stall|soft lockup|hung_task")

# test_vmalloc cases left out of every run, with the reason.
VMALLOC_SKIP = {
    "align_shift_alloc_test":
        "fails by design (lib/test_vmalloc.c: 'supposed to be failed') "
        "and dumps a stack",
}
VMALLOC_LOOPS = "test_loop_count=1000 test_repeat_count=1"

TIMESTAMP = kt_ktap.TIMESTAMP
SUMMARY = re.compile(r"Summary: (\w+) passed: (\d+) failed: (\d+)")


def _last(lines: list, n: int = 30) -> str:
    return "\n".join(lines[-n:])


def boot_result(lines: list, text: list, timed_out: bool,
                timeout: int) -> tuple:
    """The guest must reach /init and power off by itself."""
    if timed_out:
        return FAIL, (f"guest killed after {timeout}s timeout; last console "
                      f"lines:\n{_last(lines)}")
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
    bad = [l for l in text if BAD_CONSOLE.search(l)]
    return (FAIL, "\n".join(bad[:20])) if bad else (PASS, "")


def vmalloc_results(text: list) -> dict:
    """test_vmalloc: one Summary line per case that ran.  (busybox
    modprobe retries once when the module's init returns -EAGAIN, as
    test_vmalloc's always does: a case may report twice, and the first
    failure wins.)"""
    vm: dict = {}
    for l in text:
        m = SUMMARY.search(l)
        if m and vm.get(m.group(1), (PASS,))[0] == PASS:
            ok = int(m.group(3)) == 0 and int(m.group(2)) > 0
            vm[m.group(1)] = (PASS if ok else FAIL, m.group(0))
    return vm


def script_result(text: list, has_shell: bool) -> tuple:
    m = next((re.match(r"KT: test_vmalloc.sh exit=(\d+)", l) for l in text
              if l.startswith("KT: test_vmalloc.sh exit=")), None)
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


def verdict(res: dict, expected_vmalloc: list, suites: list = ()) -> dict:
    """suite -> test -> (result, detail).  A test_vmalloc case that did
    not run fails, and so does a KUnit suite the patches add that did not
    report (config dropped, init hung)."""
    out = {"boot": {"boot": res["boot"],
                    **{f"mode /{p}/": r for p, r in res["mode"]}},
           "console": {"clean": res["console"]}, "test_vmalloc": {}}
    for case in expected_vmalloc:
        if case in VMALLOC_SKIP:
            r = (SKIP, VMALLOC_SKIP[case])
        else:
            r = res["test_vmalloc"].get(
                case, (FAIL, "no Summary line: the case did not run"))
        out["test_vmalloc"][case] = r
    out["test_vmalloc"]["test_vmalloc.sh"] = res["script"]
    for suite, cases in res["kunit"].items():
        out[f"kunit.{suite}"] = cases
    for suite in suites:
        out.setdefault(f"kunit.{suite}", {
            "(suite)": (FAIL, "no KTAP result: the suite did not run")})
    return out


def failed(tests: dict) -> list:
    """suite.case of every failed test."""
    return [f"{s}.{c}" for s, cases in tests.items()
            for c, (r, _) in cases.items() if r == FAIL]
