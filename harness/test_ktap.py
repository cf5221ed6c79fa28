"""Tests of kt_ktap: canned console logs in test_data/, parsed by the kernel
tree's own kunit_parser.

The tree is $KT_TEST_TREE, else build/src/6.12 of this repository; without one
(no tools/testing/kunit in either) every test is skipped.

    python3 -m unittest discover -s harness -p 'test_*.py'
"""

import functools
import os
import sys
import tempfile
import threading
import unittest
from contextlib import redirect_stderr, redirect_stdout
from io import StringIO
from pathlib import Path
from unittest import mock

import kt_ktap

HERE = Path(__file__).resolve().parent
DATA = HERE / "test_data"
SUITE = "(suite)"
LOGS = ["clean_pass.log", "failing_case.log", "panic_cutoff.log",
        "userspace_ktap.log", "dash_form.log", "plan_mismatch.log",
        "param_case.log"]


def tree() -> Path:
    """The kernel tree to take kunit_parser from (may lack it)."""
    return Path(os.environ.get("KT_TEST_TREE") or HERE.parent / "build/src/6.12")


def setUpModule():
    if not (tree() / "tools/testing/kunit/kunit_parser.py").is_file():
        raise unittest.SkipTest(
            f"no kernel tree at {tree()}: run make tree or set KT_TEST_TREE")
    kt_ktap.load(tree())


@functools.lru_cache(maxsize=None)    # (each parse is a child process)
def results(name: str) -> dict:
    return kt_ktap.kunit_results(
        (DATA / name).read_text().splitlines())


PASS = ("pass", "")
P4D_FOLDED = ("skip", "SKIP p4d is folded into pgd: no table to install")
SYNC_PASSED = {"sync_vmap": PASS, "sync_ioremap_page_range": PASS,
               "sync_apply_to_page_range": PASS, SUITE: PASS}


class CleanPass(unittest.TestCase):
    """clean_pass.log: a real i386 (2-level) console, trimmed."""

    def test_two_suites_pass_with_skips(self):
        def folded(child, parent, what):
            return "skip", f"SKIP {child} is folded into {parent}: {what}"
        self.assertEqual(results("clean_pass.log"), {
            "pgalloc_track": {
                "p4d_alloc_track_new": P4D_FOLDED,
                "p4d_alloc_track_nomem":
                    folded("p4d", "pgd", "nothing to allocate"),
                "p4d_alloc_track_folded": PASS,
                "pud_alloc_track_new":
                    folded("pud", "p4d", "no table to install"),
                "pud_alloc_track_nomem":
                    folded("pud", "p4d", "nothing to allocate"),
                "pud_alloc_track_folded": PASS,
                "pmd_alloc_track_new":
                    folded("pmd", "pud", "no table to install"),
                "pmd_alloc_track_nomem":
                    folded("pmd", "pud", "nothing to allocate"),
                "pmd_alloc_track_folded": PASS,
                "pte_alloc_kernel_track_new": PASS,
                "pte_alloc_kernel_track_nomem": PASS,
                SUITE: PASS},
            "kernel_pgtable_sync": SYNC_PASSED})

    def test_trailing_newlines_and_crs(self):
        lines = [l + "\r\n" for l in
                 (DATA / "clean_pass.log").read_text().splitlines()]
        self.assertEqual(kt_ktap.kunit_results(lines),
                         results("clean_pass.log"))


class FailingCase(unittest.TestCase):
    """failing_case.log: clean_pass.log with the failures two fixtures
    cause on i386 (mask-set-on-failure, no-sync-apply-to-page-range)."""

    def setUp(self):
        self.r = results("failing_case.log")

    def test_case_fails_with_all_its_lines(self):
        self.assertEqual(
            self.r["pgalloc_track"]["pte_alloc_kernel_track_nomem"],
            ("fail", "\n".join([
                "# pte_alloc_kernel_track_nomem: EXPECTATION FAILED at "
                "mm/pgalloc_track_kunit.c:305",
                "Expected mask == ((((1UL))) << (4)), but",
                "    mask == 24 (0x18)",
                "    ((((1UL))) << (4)) == 16 (0x10)"])))

    def test_every_expectation_of_a_case_is_kept(self):
        result, detail = self.r["kernel_pgtable_sync"][
            "sync_apply_to_page_range"]
        self.assertEqual(result, "fail")
        lines = detail.splitlines()
        self.assertEqual(len(lines), 6, detail)
        self.assertIn("# sync_apply_to_page_range: EXPECTATION FAILED at "
                      "mm/pgalloc_track_kunit.c:344", lines)
        self.assertIn("Expected pmd_none(*pmd) to be false, but is true",
                      lines)
        self.assertIn("    pmd_val(*pmd_k) == 49160291 (0x2ee1063)", lines)

    def test_other_cases_unaffected(self):
        self.assertEqual(self.r["kernel_pgtable_sync"]["sync_vmap"], PASS)
        self.assertEqual(self.r["pgalloc_track"]["p4d_alloc_track_new"],
                         P4D_FOLDED)
        self.assertEqual(
            self.r["pgalloc_track"]["pte_alloc_kernel_track_new"], PASS)

    def test_suites_fail_and_name_their_cases(self):
        result, detail = self.r["pgalloc_track"][SUITE]
        self.assertEqual(result, "fail")
        self.assertEqual(detail.splitlines()[0],
                         "failed: pte_alloc_kernel_track_nomem")
        self.assertIn("# pgalloc_track: pass:4 fail:1 skip:6 total:11",
                      detail)
        self.assertEqual(self.r["kernel_pgtable_sync"][SUITE][0], "fail")


class PanicCutOff(unittest.TestCase):
    """panic_cutoff.log: clean_pass.log cut by an oops in case 3 of 11
    (oops=panic)."""

    def setUp(self):
        self.r = results("panic_cutoff.log")

    def test_cases_before_the_panic_are_kept(self):
        cases = {c: v for c, v in self.r["pgalloc_track"].items()
                 if c != SUITE}
        self.assertEqual(cases, {
            "p4d_alloc_track_new": P4D_FOLDED,
            "p4d_alloc_track_nomem":
                ("skip", "SKIP p4d is folded into pgd: nothing to allocate")})

    def test_suite_fails_as_cut_off(self):
        result, detail = self.r["pgalloc_track"][SUITE]
        self.assertEqual(result, "fail")
        self.assertEqual(detail.splitlines()[0],
                         "no result line: cut off after 2 of 11 cases")
        self.assertIn("Kernel panic - not syncing: Fatal exception", detail)
        self.assertIn("EIP: p4d_alloc_track_folded+0x2e/0xd0", detail)

    def test_suite_that_never_started_is_absent(self):
        self.assertEqual(list(self.r), ["pgalloc_track"])


class UserspaceKtap(unittest.TestCase):
    """userspace_ktap.log: clean_pass.log with un-timestamped KTAP (some of
    it "not ok") before and inside the kernel's."""

    def test_only_kernel_lines_count(self):
        with open(DATA / "userspace_ktap.log") as f:
            lines = f.readlines()
        self.assertEqual(kt_ktap.kunit_results(lines),
                         results("clean_pass.log"))
        self.assertEqual(results("clean_pass.log")["kernel_pgtable_sync"],
                         SYNC_PASSED)

    def test_userspace_ktap_alone_is_nothing(self):
        lines = [l for l in (DATA / "userspace_ktap.log").read_text()
                 .splitlines() if not kt_ktap.TIMESTAMP.match(l)]
        self.assertIn("not ok 5 fix_align_alloc_test", lines)
        self.assertEqual(kt_ktap.kunit_results(lines), {})


class DashForm(unittest.TestCase):
    def test_dash_results(self):
        r = results("dash_form.log")
        self.assertEqual(r["kernel_pgtable_sync"], SYNC_PASSED)
        track = r["pgalloc_track"]
        self.assertEqual(track["p4d_alloc_track_new"], P4D_FOLDED)
        self.assertEqual(track["p4d_alloc_track_folded"], PASS)
        result, detail = track["pud_alloc_track_new"]
        self.assertEqual(result, "fail")
        self.assertIn("EXPECTATION FAILED at mm/pgalloc_track_kunit.c:188",
                      detail)
        self.assertIn("PGTBL_P4D_MODIFIED == 8 (0x8)", detail)
        self.assertEqual(track[SUITE], ("fail", "failed: pud_alloc_track_new"))


class PlanMismatch(unittest.TestCase):
    def test_fewer_results_than_planned(self):
        r = results("plan_mismatch.log")
        sync = r["kernel_pgtable_sync"]
        self.assertEqual({c: v for c, v in sync.items() if c != SUITE},
                         {c: v for c, v in SYNC_PASSED.items() if c != SUITE})
        result, detail = sync[SUITE]
        self.assertEqual(result, "fail")
        self.assertEqual(detail.splitlines()[0],
                         "plan mismatch: 1..5 but 3 results")
        self.assertEqual(r["pgalloc_track"][SUITE], PASS)


class ParamCase(unittest.TestCase):
    def test_failed_parameter_fails_the_case(self):
        sync = results("param_case.log")["kernel_pgtable_sync"]
        self.assertEqual(sync["sync_vmap"], PASS)
        result, detail = sync["sync_sizes"]
        self.assertEqual(result, "fail")
        self.assertIn("# sync_sizes: EXPECTATION FAILED at "
                      "mm/pgalloc_track_kunit.c:393", detail)
        self.assertIn("not ok 2 2M", detail)
        self.assertNotIn("4K", detail)
        self.assertEqual(sync[SUITE][0], "fail")
        self.assertNotIn("4K", sync)


class NoKtap(unittest.TestCase):
    def test_nothing(self):
        self.assertEqual(kt_ktap.kunit_results([]), {})
        self.assertEqual(kt_ktap.kunit_results([
            "[    0.000000] Linux version 6.12.117",
            "[    0.632001] Run /init as init process", "KT: init"]), {})


class Module(unittest.TestCase):
    def test_parser_prints_nothing(self):
        """Not through sys.stdout, nor on file descriptors 1 and 2."""
        saved = [os.dup(1), os.dup(2)]
        out, err = StringIO(), StringIO()
        with tempfile.TemporaryFile() as f:
            sys.stdout.flush(), sys.stderr.flush()
            os.dup2(f.fileno(), 1), os.dup2(f.fileno(), 2)
            try:
                with redirect_stdout(out), redirect_stderr(err):
                    for log in ("failing_case.log", "panic_cutoff.log"):
                        results(log)
                    kt_ktap.kunit_results(["[    1.0] no ktap"])
                sys.stdout.flush(), sys.stderr.flush()
            finally:
                os.dup2(saved[0], 1), os.dup2(saved[1], 2)
                list(map(os.close, saved))
            f.seek(0)
            self.assertEqual(f.read(), b"")
        self.assertEqual((out.getvalue(), err.getvalue()), ("", ""))

    def test_threads_agree_with_serial(self):
        logs = LOGS[:3]
        want = {log: results(log) for log in logs}
        got, errors = {}, []

        def run(log):
            try:
                got[log] = kt_ktap.kunit_results(
                    (DATA / log).read_text().splitlines())
            except Exception as e:  # reported below
                errors.append(e)
        threads = [threading.Thread(target=run, args=(log,)) for log in logs]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])
        self.assertEqual(got, want)

    # Lines a lossy console mangled: kunit_parser raises on the first and
    # loops, its memory growing, on the second.
    BROKEN = ["KTAP version 1", "1..2", "    KTAP version 1", "    ok 1 a"]
    ENDLESS = ["KTAP version 2", "ok 1 s", "    1..0"]

    def test_a_parser_exception_is_a_failing_suite(self):
        got = kt_ktap.kunit_results([f"[    1.0] {l}" for l in self.BROKEN])
        (result, why), = got[kt_ktap.PARSER].values()
        self.assertEqual(result, "fail")
        self.assertRegex(why, r"kunit_parser failed .*ValueError")

    def test_a_parser_that_never_ends_is_stopped(self):
        with mock.patch.object(kt_ktap, "PARSE_SECONDS", 2):
            got = kt_ktap.kunit_results(
                [f"[    1.0] {l}" for l in self.ENDLESS])
        self.assertEqual(got, {kt_ktap.PARSER: {SUITE: (
            "fail", "kunit_parser did not finish in 2s on this console's "
            "KTAP")}})

    def test_load_is_idempotent(self):
        kt_ktap.load(tree())
        self.assertEqual(results("dash_form.log")["pgalloc_track"][SUITE][0],
                         "fail")

    def test_load_without_the_files(self):
        with tempfile.TemporaryDirectory() as d:
            with self.assertRaises(kt_ktap.Error) as e:
                kt_ktap.load(Path(d))
        self.assertIn("kunit_parser.py", str(e.exception))
        self.assertNotIn("\n", str(e.exception))


if __name__ == "__main__":
    unittest.main()
