"""KUnit results from a guest's serial console, by the kernel's own parser.

The KTAP that KUnit prints at boot is parsed by the tree's
tools/testing/kunit/kunit_parser.py (written against 6.12), not by regexes of
ours.  Call load(tree) once, before any thread starts; kunit_results() may
then be called from any thread.

Only kernel lines count: lines that start with a printk timestamp.  The guest's
shell scripts print KTAP of their own on the same console, without one.

Results, per suite, per case: (result, detail), result "pass", "fail" or
"skip".  detail is
  - for "pass": "";
  - for "skip": the directive as KUnit printed it, "SKIP <reason>" (just
    "SKIP" when KUnit gave no reason);
  - for "fail": every line KUnit printed for the case (EXPECTATION FAILED ...,
    Expected ...), dedented, newline-joined; the result line itself when it
    printed none.
Each suite also has "(suite)": its own result; when it fails, the detail's
first line says why (a cut-off, a plan mismatch, the failed cases) and the
suite's own diagnostic lines follow (summary lines, or what the kernel printed
after the last case when the suite was cut off, e.g. a panic).

Globals: kunit_parser has one mutable global, its printer (kunit_parser.stdout,
bound from kunit_printer.stdout); load() replaces it with one that prints
nothing and keeps nothing.  load() also wraps kunit_parser.parse_test_result so
that each Test keeps its own result line (the parser drops it, and with it the
skip reason and whether the line was there at all); the wrapper stores on the
Test being parsed, never on shared state, so parsing is thread-safe.
kunit_results() runs the parse itself in a child process (this file run
as a script), with a time and a memory limit: see there.
"""

from __future__ import annotations

import io
import json
import re
import resource
import subprocess
import sys
import textwrap
from pathlib import Path

import kt_kunit
from kt_common import Fail

# A printk timestamp, with the caller id CONFIG_PRINTK_CALLER adds, if any.
TIMESTAMP = re.compile(r"^\[\s*\d+\.\d+\](?:\[\s*[CT]\d+\])? ")
RESULT_LINE = "kt_result_line"  # attribute the wrapper sets on a parsed Test
SUITE = "(suite)"
PARSER = "(kunit_parser)"   # the suite that says the parser itself failed
PARSE_SECONDS = 20          # a good parse takes well under a second
PARSE_MEMORY = 2 << 30

_parser = None  # the kunit_parser module, once load() has run
_tree = None    # the kernel tree it came from


class Error(Fail):
    """The kernel tree's kunit tool is missing or unusable."""


def load(tree: Path) -> None:
    """Import kunit_parser (and kunit_printer) from tree/tools/testing/kunit
    through kt_kunit.

    Once, before any thread starts; calling it again with the same tree does
    nothing.  Silences the parser's printer.  Raises Error (one line) if the
    files are missing, do not import, or lack what this module uses.
    """
    global _parser, _tree
    kdir = (Path(tree) / "tools" / "testing" / "kunit").resolve()
    for name in ("kunit_parser.py", "kunit_printer.py"):
        if not (kdir / name).is_file():
            raise Error(f"no {name} in {kdir}: unpack the kernel tree first")
    try:
        kt_kunit.load(tree)
    except Fail as e:
        raise Error(str(e)) from None
    if _parser is not None:
        return
    printer = kt_kunit.module("kunit_printer")
    parser = kt_kunit.module("kunit_parser")
    for obj, names in ((printer, ("Printer", "stdout")),
                       (parser, ("parse_run_tests", "parse_test_result",
                                 "TestStatus", "TEST_RESULT", "stdout"))):
        missing = [n for n in names if not hasattr(obj, n)]
        if missing:
            raise Error(f"{obj.__file__} has no {', '.join(missing)}: "
                        "not the 6.12 kunit tool this adapter was written for")
    _silence(printer, parser)
    _keep_result_lines(parser)
    _parser, _tree = parser, Path(tree)


def _silence(printer, parser) -> None:
    """Replace the parser's printer by one that prints nothing."""
    class Quiet(printer.Printer):
        def print(self, message: str) -> None:
            pass

        def print_with_timestamp(self, message: str) -> None:
            pass

    printer.stdout = parser.stdout = Quiet(io.StringIO())


def _keep_result_lines(parser) -> None:
    """Have each parsed Test keep the result line it was parsed from."""
    original = parser.parse_test_result

    def parse_test_result(lines, test, expected_num):
        line = lines.peek()
        if not original(lines, test, expected_num):
            return False
        setattr(test, RESULT_LINE, line.rstrip())
        return True

    parser.parse_test_result = parse_test_result


def kunit_results(lines: list[str]) -> dict[str, dict[str, tuple[str, str]]]:
    """suite name -> {case name: (result, detail)} from raw console lines.

    result is "pass", "fail" or "skip"; each suite also has "(suite)" with
    its own result and detail.  {} when the kernel printed no KTAP.  Suites
    that never started (the top-level plan promised more) are not listed.

    kunit_parser runs in a child process, with a time and a memory limit:
    on lines a lossy console mangled (lost, repeated or reordered) it can
    raise, or loop while its memory grows.  Then the result is one failing
    suite, PARSER, that says what happened.
    """
    if _parser is None:
        raise Error("kt_ktap.load() has not been called")
    kernel = [TIMESTAMP.sub("", line.rstrip("\r\n"), count=1)
              for line in lines if TIMESTAMP.match(line)]
    if not kernel:
        return {}
    try:
        r = subprocess.run([sys.executable, __file__, str(_tree)],
                           input="\n".join(kernel), capture_output=True,
                           text=True, timeout=PARSE_SECONDS)
    except subprocess.TimeoutExpired:
        return _parser_failed(f"kunit_parser did not finish in "
                              f"{PARSE_SECONDS}s on this console's KTAP")
    if r.returncode:
        last = (r.stderr.strip().splitlines() or ["no message"])[-1]
        return _parser_failed(f"kunit_parser failed on this console's KTAP "
                              f"(exit {r.returncode}): {last}")
    return {s: {c: tuple(v) for c, v in cases.items()}
            for s, cases in json.loads(r.stdout).items()}


def kernelci_json(lines: list[str], arch: str, config: str,
                  build: str) -> str | None:
    """The KTAP of the console as `kunit.py parse --json` writes it (the
    KernelCI format, the tree's own kunit_json.py), or None where the
    kernel printed no KTAP or the parser failed (the verdict says so)."""
    kernel = [TIMESTAMP.sub("", line.rstrip("\r\n"), count=1)
              for line in lines if TIMESTAMP.match(line)]
    if _parser is None or not any("KTAP version" in l or "TAP version" in l
                                  for l in kernel):
        return None
    try:
        r = subprocess.run([sys.executable, __file__, str(_tree), arch,
                            config, build], input="\n".join(kernel),
                           capture_output=True, text=True,
                           timeout=PARSE_SECONDS)
    except subprocess.TimeoutExpired:
        return None
    return r.stdout if r.returncode == 0 else None


def _parser_failed(why: str) -> dict:
    return {PARSER: {SUITE: ("fail", why)}}


def _parse(kernel: list[str]) -> dict:
    """kunit_results() of kernel lines, timestamps stripped (in the
    child)."""
    main = _parser.parse_run_tests(kernel)
    out = {}
    for suite in main.subtests:
        if not _placeholder(suite):
            out[suite.name] = _suite(suite)
    return out


def _suite(suite) -> dict[str, tuple[str, str]]:
    """{case: (result, detail), "(suite)": (result, detail)} of one suite."""
    cases = {}
    for case in suite.subtests:
        if not _placeholder(case):
            cases[case.name] = _case(case)
    result = _result(suite)
    if result == "pass":
        detail = ""
    elif result == "skip":
        detail = _directive(suite)
    else:
        failed = [n for n, (r, _) in cases.items() if r == "fail"]
        why = [_why(suite)] + ([f"failed: {', '.join(failed)}"]
                               if failed else [])
        extra = [x for s in suite.subtests if _placeholder(s) for x in s.log]
        head = "; ".join(w for w in why if w) or _line(suite)
        detail = "\n".join(x for x in (head, _dedent(suite.log + extra)) if x)
    cases[SUITE] = (result, detail)
    return cases


def _case(case) -> tuple[str, str]:
    """(result, detail) of one case (its parameters, if any, folded in)."""
    result = _result(case)
    if result == "pass":
        return result, ""
    if result == "skip":
        return result, _directive(case)
    parts = (_why(case), _dedent(_diagnostics(case)))
    return result, "\n".join(p for p in parts if p) or _line(case)


def _diagnostics(test) -> list[str]:
    """The lines of the test's subtests (each failed one's result line after
    its own), then the test's own diagnostic lines."""
    out = []
    for sub in test.subtests:
        out += _diagnostics(sub)
        if _result(sub) == "fail" and hasattr(sub, RESULT_LINE):
            out.append(getattr(sub, RESULT_LINE))
    return out + test.log


def _why(test) -> str:
    """Why a test with subtests is broken: cut off, or a plan mismatch."""
    if test.status == _parser.TestStatus.NO_TESTS:
        return "no tests run"
    if not test.subtests and not test.expected_count:
        return ""
    seen = sum(not _placeholder(s) for s in test.subtests)
    planned = test.expected_count
    of = f"{seen} of {planned}" if planned is not None else str(seen)
    if not hasattr(test, RESULT_LINE) and seen == planned:
        return f"no result line of its own after all {seen} cases"
    if not hasattr(test, RESULT_LINE):
        return f"no result line: cut off after {of} cases"
    if planned is not None and seen != planned:
        return f"plan mismatch: 1..{planned} but {seen} results"
    return ""


def _result(test) -> str:
    """pass, skip or fail from the parser's status (crashed, no tests,
    failure to parse: fail)."""
    status = _parser.TestStatus
    if test.status == status.SUCCESS:
        return "pass"
    if test.status == status.SKIPPED:
        return "skip"
    return "fail"


def _directive(test) -> str:
    """"SKIP <reason>" from the test's result line (the parser drops it)."""
    m = _parser.TEST_RESULT.match(getattr(test, RESULT_LINE, ""))
    directive = (m.group(5) or "").strip() if m else ""
    return directive.lstrip("#").strip() or "SKIP"


def _line(test) -> str:
    """The test's result line, or what it lacked."""
    return getattr(test, RESULT_LINE, "").strip() or "no result line"


def _placeholder(test) -> bool:
    """A Test the parser made up for an expected subtest that never came."""
    return not (test.name or test.subtests or hasattr(test, RESULT_LINE))


def _dedent(lines: list[str]) -> str:
    """Lines dedented together, without leading or trailing blank lines."""
    return textwrap.dedent("\n".join(lines)).strip("\n")


if __name__ == "__main__":
    # the child of kunit_results() (argument: the tree), or of
    # kernelci_json() (the tree, arch, config, build directory)
    resource.setrlimit(resource.RLIMIT_AS, (PARSE_MEMORY, PARSE_MEMORY))
    load(Path(sys.argv[1]))
    text = sys.stdin.read().split("\n")
    if len(sys.argv) == 5:
        kj = kt_kunit.module("kunit_json")
        sys.stdout.write(kj.get_json_result(
            _parser.parse_run_tests(text),
            kj.Metadata(arch=sys.argv[2], def_config=sys.argv[3],
                        build_dir=sys.argv[4])) + "\n")
    else:
        json.dump(_parse(text), sys.stdout)
