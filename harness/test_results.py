"""make selftest: the verdict of a guest's console, on canned logs.

test_data/console-pass.log is a real i386 console (make check, trimmed);
the other cases are that log cut or edited the way a real run goes
wrong, one edit each, so each test shows what it changes."""
import json
import os
import re
import sys
import tempfile
import unittest
from pathlib import Path
from unittest import mock

import kt
import kt_bench
import kt_ktap
import kt_lava
import kt_results
import kt_targets
from kt_common import SRC, TOP, Fail

DATA = Path(__file__).parent / "test_data"
TREE = Path(os.environ.get("KT_TEST_TREE", SRC))
CASES = ["fix_size_alloc_test", "full_fit_alloc_test",
         "long_busy_list_alloc_test", "random_size_alloc_test",
         "fix_align_alloc_test", "random_size_align_alloc_test",
         "pcpu_alloc_test", "kvfree_rcu_1_arg_vmalloc_test",
         "kvfree_rcu_2_arg_vmalloc_test", "vm_map_ram_test",
         "align_shift_alloc_test"]
SUITES = ["pgalloc_track", "kernel_pgtable_sync"]


def log(name: str) -> list:
    return (DATA / name).read_text().splitlines()


def judge(lines: list, timed_out: bool = False, expect=(r"KT: la57 0",),
          has_shell: bool = True, exercise=(), skip=()) -> dict:
    res = kt_results.evaluate(lines, timed_out, 300, tuple(expect),
                              has_shell)
    return kt_results.verdict(res, CASES, SUITES, exercise, skip)


def until(lines: list, text: str) -> list:
    """The log up to (not including) the first line containing text."""
    return lines[:next(i for i, l in enumerate(lines) if text in l)]


@unittest.skipUnless((TREE / "tools/testing/kunit/kunit_parser.py").exists(),
                     f"no kernel tree at {TREE}: run 'make selftest' (it "
                     "unpacks one) or set KT_TEST_TREE")
class Console(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        kt_ktap.load(TREE)

    def setUp(self):
        self.ok = log("console-pass.log")

    def test_a_clean_pass(self):
        v = judge(self.ok)
        self.assertEqual(kt_results.failed(v), [])
        self.assertEqual(v["boot"]["boot"], ("pass", ""))
        self.assertEqual(v["boot"]["mode /KT: la57 0/"][0], "pass")
        # the stack warn_alloc() dumps for align_shift_alloc_test
        self.assertEqual(v["console"]["clean"][0], "pass")
        self.assertIn("1 stack dump(s) of the by-design vmalloc failures of "
                      "align_shift_alloc_test", v["console"]["clean"][1])
        self.assertEqual(v["test_vmalloc"]["vm_map_ram_test"][0], "pass")
        r, detail = v["test_vmalloc"]["align_shift_alloc_test"]
        self.assertEqual(r, "skip")
        self.assertIn("fails by design", detail)
        self.assertIn("passed: 0 failed: 1", detail)
        self.assertEqual(v["test_vmalloc"]["test_vmalloc.sh"],
                         ("pass", "KT: test_vmalloc.sh exit=0"))
        sync = v["kunit.kernel_pgtable_sync"]
        self.assertEqual(sync["sync_vmap"], ("pass", ""))
        self.assertEqual(sync["(suite)"][0], "pass")
        track = v["kunit.pgalloc_track"]
        self.assertEqual(track["pmd_alloc_track_new"],
                         ("skip", "SKIP pmd is folded into pud: no table "
                          "to install"))
        self.assertEqual(len(track), 11)

    def test_a_timeout_shows_the_last_lines(self):
        v = judge(until(self.ok, "Summary: pcpu_alloc_test"), timed_out=True)
        r, detail = v["boot"]["boot"]
        self.assertEqual(r, "fail")
        self.assertIn("killed after 300s timeout at KT: test_vmalloc.sh "
                      "test_loop_count=", detail)
        self.assertIn("random_size_align_alloc_test", detail)
        # the cases that never reported fail too
        self.assertEqual(v["test_vmalloc"]["pcpu_alloc_test"][0], "fail")
        self.assertEqual(v["test_vmalloc"]["fix_size_alloc_test"][0], "pass")

    def test_a_timeout_before_init_says_so(self):
        v = judge(until(self.ok, "KT: init"), timed_out=True)
        self.assertIn("killed after 300s timeout at (no KT: line yet)",
                      v["boot"]["boot"][1])

    def test_no_init(self):
        v = judge(log("console-no-init.log"))
        r, detail = v["boot"]["boot"]
        self.assertEqual(r, "fail")
        self.assertIn("never reached /init", detail)
        self.assertIn("No working init found", v["console"]["clean"][1])
        self.assertEqual(v["test_vmalloc"]["test_vmalloc.sh"][0], "fail")

    def test_a_stop_before_the_end(self):
        v = judge(until(self.ok, "KT: done"))
        self.assertEqual(v["boot"]["boot"][0], "fail")
        self.assertIn("stopped before the tests ended", v["boot"]["boot"][1])
        self.assertEqual(kt_results.failed(v), ["boot.boot"])

    def test_an_expect_miss(self):
        v = judge(self.ok, expect=[r"KT: la57 [1-9]"])
        self.assertEqual(v["boot"]["mode /KT: la57 [1-9]/"],
                         ("fail", "no console line matches /KT: la57 [1-9]/"))

    def test_a_bad_console_line_and_near_misses(self):
        # near misses, in every real log: "oops=panic panic=-1"; and these
        near = ["[    2.5] test: no BUGs here, Warning: lowercase, oops"]
        self.assertEqual(judge(self.ok + near)["console"]["clean"][0],
                         "pass")
        bad = "[    2.6] WARNING: CPU: 0 PID: 1 at mm/vmalloc.c:3412 f+0x1/0x2"
        v = judge(self.ok[:60] + [bad] + self.ok[60:])
        self.assertEqual(v["console"]["clean"],
                         ("fail", bad.split("] ", 1)[1]))
        self.assertEqual(kt_results.failed(v), ["console.clean"])

    def test_a_stack_dump_without_the_xfail_line_fails(self):
        lines = [l for l in self.ok if "vmalloc error: size" not in l]
        r, detail = judge(lines)["console"]["clean"]
        self.assertEqual((r, detail), ("fail", "Call Trace:"))

    def test_the_xfail_case_that_passes_passes(self):
        lines = [l.replace("align_shift_alloc_test passed: 0 failed: 1",
                           "align_shift_alloc_test passed: 1 failed: 0")
                 for l in self.ok]
        v = judge(lines)
        self.assertEqual(v["test_vmalloc"]["align_shift_alloc_test"][0],
                         "pass")
        # and one that did not run at all fails, xfail or not
        v = judge([l for l in self.ok if "align_shift" not in l])
        self.assertEqual(v["test_vmalloc"]["align_shift_alloc_test"][0],
                         "fail")

    def test_what_a_target_expects_to_exercise_and_skip(self):
        i386 = (("pgalloc_track.*_folded", "kernel_pgtable_sync.sync_[via]*"),
                ("pgalloc_track.p?d_alloc_track_n*",
                 "kernel_pgtable_sync.sync_kasan_zero_shadow"))
        self.assertEqual(kt_results.failed(judge(self.ok, exercise=i386[0],
                                                 skip=i386[1])), [])
        # the sync cases skip where the target should exercise them
        lines = [l.replace("ok 1 sync_vmap", "ok 1 sync_vmap # SKIP no "
                           "free vmalloc PMD range") for l in self.ok]
        v = judge(lines, exercise=i386[0], skip=i386[1])
        self.assertEqual(kt_results.failed(v),
                         ["kunit.kernel_pgtable_sync.sync_vmap"])
        self.assertIn("expected to be exercised on this target "
                      "(kernel_pgtable_sync.sync_[via]*), got skip",
                      v["kunit.kernel_pgtable_sync"]["sync_vmap"][1])
        # a case that runs where the target expects a skip
        v = judge(self.ok, skip=("pgalloc_track.pte_alloc_kernel_track_new",))
        self.assertEqual(kt_results.failed(v),
                         ["kunit.pgalloc_track.pte_alloc_kernel_track_new"])
        # a glob that names no case
        v = judge(self.ok, exercise=("pgalloc_track.pte_*_nomem",))
        self.assertIn("no such case ran",
                      v["kunit.pgalloc_track"]["pte_*_nomem"][1])

    def test_a_case_reported_twice_the_first_failure_wins(self):
        fail = "[    2.2] Summary: fix_size_alloc_test passed: 0 failed: 1 " \
            "repeat: 1 loops: 1000 avg: 1 usec"
        at = len(until(self.ok, "Summary: fix_size_alloc_test"))
        lines = self.ok[:at] + [fail] + self.ok[at + 1:]
        v = judge(lines)
        self.assertEqual(v["test_vmalloc"]["fix_size_alloc_test"][0], "fail")
        self.assertIn("failed: 1", v["test_vmalloc"]["fix_size_alloc_test"][1])
        # and the other order: a pass then a failure
        v = judge(self.ok + [fail])
        self.assertEqual(v["test_vmalloc"]["fix_size_alloc_test"][0], "fail")

    def test_a_case_the_tree_marks_xfail(self):
        # mm-new's test_vmalloc.c: an "xfailed:" count of its own
        def summary(passed, failed, xfailed):
            return (f"[    2.2] Summary: no_block_alloc_test passed: {passed}"
                    f" failed: {failed} xfailed: {xfailed} repeat: 1 "
                    "loops: 1000 avg: 1 usec")
        for lines, want in (([summary(0, 0, 1)], "skip"),
                            ([summary(1, 0, 0)], "pass"),
                            ([summary(0, 0, 1), summary(0, 1, 0)], "fail"),
                            ([summary(0, 1, 0), summary(0, 0, 1)], "fail"),
                            ([summary(0, 0, 0)], "fail")):
            r, why = kt_results.vmalloc_results(lines)["no_block_alloc_test"]
            self.assertEqual(r, want, lines)
        self.assertIn("expects it to fail", kt_results.vmalloc_results(
            [summary(0, 0, 1)])["no_block_alloc_test"][1])

    def test_the_script_exit_status(self):
        lines = [l.replace("exit=0", "exit=1") for l in self.ok]
        v = judge(lines)
        self.assertEqual(kt_results.failed(v),
                         ["test_vmalloc.test_vmalloc.sh"])
        v = judge([l for l in self.ok if "exit=" not in l], has_shell=False)
        self.assertEqual(v["test_vmalloc"]["test_vmalloc.sh"][0], "skip")

    def test_a_script_that_reports_nothing_is_a_skip(self):
        # 6.1's test_vmalloc.sh: exit 0 whatever happened (guest/init says)
        at = next(i for i, l in enumerate(self.ok) if "exit=0" in l)
        silent = self.ok[:at] + [kt_results.SILENT + " (no KTAP)"] + \
            self.ok[at:]
        r, why = judge(silent)["test_vmalloc"]["test_vmalloc.sh"]
        self.assertEqual((r, "exits 0 whatever" in why), ("skip", True))
        # a status that is not 0 still fails
        v = judge([l.replace("exit=0", "exit=1") for l in silent])
        self.assertEqual(kt_results.failed(v),
                         ["test_vmalloc.test_vmalloc.sh"])

    def test_a_failing_kunit_case_with_its_diagnostic(self):
        at = next(i for i, l in enumerate(self.ok) if "ok 1 sync_vmap" in l)
        lines = self.ok[:at] + [
            "[    0.626000]     # sync_vmap: EXPECTATION FAILED at "
            "mm/pgalloc_track_kunit.c:344",
            "[    0.626000]     Expected pmd_present(*old) to be true, "
            "but is false",
            "[    0.626783]     not ok 1 sync_vmap"] + self.ok[at + 1:]
        v = judge(lines)
        self.assertIn("kunit.kernel_pgtable_sync.sync_vmap",
                      kt_results.failed(v))
        r, detail = v["kunit.kernel_pgtable_sync"]["sync_vmap"]
        self.assertIn("EXPECTATION FAILED at mm/pgalloc_track_kunit.c:344",
                      detail)
        self.assertIn("Expected pmd_present(*old) to be true", detail)

    def test_a_suite_cut_off_by_a_panic(self):
        lines = until(self.ok, "ok 2 sync_ioremap_page_range") + [
            "[    0.630000] Kernel panic - not syncing: Fatal exception"]
        v = judge(lines)
        sync = v["kunit.kernel_pgtable_sync"]
        self.assertEqual(sync["sync_vmap"], ("pass", ""))
        self.assertEqual(sync["(suite)"][0], "fail")
        self.assertIn("cut off", sync["(suite)"][1])
        self.assertIn("Kernel panic", v["console"]["clean"][1])

    def test_a_suite_that_never_reported(self):
        lines = until(self.ok, "# Subtest: kernel_pgtable_sync")
        v = judge(lines + self.ok[len(lines) + 12:])
        self.assertEqual(v["kunit.kernel_pgtable_sync"]["(suite)"][0],
                         "fail")

    def test_userspace_ktap_is_ignored(self):
        user = ["TAP version 13", "1..1", "not ok 1 pgalloc_track",
                "not ok 2 sync_vmap"]
        v = judge(self.ok[:50] + user + self.ok[50:])
        self.assertEqual(kt_results.failed(v), [])


@unittest.skipUnless((TREE / "tools/testing/kunit/kunit_parser.py").exists(),
                     f"no kernel tree at {TREE}")
class Filter(unittest.TestCase):
    """kt.py run --kunit GLOB: the kernel's command line carries
    kunit.filter_glob= and kt.vmalloc=0, and the verdict of that console
    expects only what the filter lets run."""
    setUpClass = Console.setUpClass
    setUp = Console.setUp

    def filtered_log(self, glob: str) -> list:
        out, skipping = [], False
        for l in self.ok:
            if "Kernel command line:" in l:
                l += f" kunit.filter_glob={glob} kt.vmalloc=0"
            if "# Subtest: kernel_pgtable_sync" in l:
                skipping = True
                out.pop()               # its "KTAP version 1"
            if l.startswith("KT: test_vmalloc.sh test_loop_count"):
                skipping = True
                out.append("KT: test_vmalloc.sh not run (kt.vmalloc=0)")
            if not skipping:
                out.append(l.replace("] 1..2", "] 1..1"))
            if "ok 2 kernel_pgtable_sync" in l or \
                    l.startswith("KT: test_vmalloc.sh exit="):
                skipping = False
        return out

    def test_one_suite_judged_as_selected(self):
        lines = self.filtered_log("pgalloc_track")
        v = kt_results.target_verdict(lines, kt_targets.load("i386"),
                                      CASES, SUITES)
        self.assertEqual(kt_results.failed(v), [])
        self.assertNotIn("kunit.kernel_pgtable_sync", v)
        self.assertEqual(v["test_vmalloc"], {"test_vmalloc.sh": (
            "skip", "test_vmalloc.sh not run (kt.vmalloc=0)")})
        self.assertEqual(v["kunit.pgalloc_track"]["pmd_alloc_track_new"][0],
                         "skip")

    def test_without_the_filter_the_same_log_fails(self):
        lines = [l.replace(" kunit.filter_glob=pgalloc_track", "")
                 for l in self.filtered_log("pgalloc_track")]
        v = kt_results.target_verdict(lines, kt_targets.load("i386"),
                                      CASES, SUITES)
        self.assertIn("kunit.kernel_pgtable_sync.(suite)", kt_results.failed(v))

    def test_one_case_still_checks_what_the_target_expects(self):
        # i386 expects pmd_alloc_track_n* to skip: a pass of a selected
        # case is still a failure
        lines = [l.replace("ok 7 pmd_alloc_track_new # SKIP pmd is folded "
                           "into pud: no table to install",
                           "ok 7 pmd_alloc_track_new")
                 for l in self.filtered_log("pgalloc_track.pmd_*")]
        v = kt_results.target_verdict(lines, kt_targets.load("i386"),
                                      CASES, SUITES)
        self.assertEqual(kt_results.failed(v),
                         ["kunit.pgalloc_track.pmd_alloc_track_new"])


@unittest.skipUnless((TREE / "tools/testing/kunit/kunit.py").exists(),
                     f"no kernel tree at {TREE}")
class KernelCI(unittest.TestCase):
    """results' kunit.json is what the kernel's own `kunit.py parse
    --json` writes for the same console."""
    setUpClass = Console.setUpClass

    def test_same_as_kunit_py_parse_json(self):
        lines = log("console-pass.log")
        ours = kt_ktap.kernelci_json(lines, "", "", "")
        with tempfile.TemporaryDirectory() as d:
            f = Path(d) / "console.log"
            f.write_text("\n".join(lines) + "\n")
            out = Path(d) / "kunit.json"
            import subprocess
            subprocess.run([sys.executable, str(TREE / "tools/testing/kunit"
                                                / "kunit.py"), "parse",
                            f"--json={out}", str(f)], check=True,
                           capture_output=True, cwd=d)
            theirs = json.loads(out.read_text())
        self.assertEqual(json.loads(ours), theirs)
        self.assertEqual([g["name"] for g in theirs["sub_groups"]],
                         ["pgalloc_track", "kernel_pgtable_sync"])

    def test_none_without_ktap(self):
        self.assertIsNone(kt_ktap.kernelci_json(["[    0.0] hello"], "", "",
                                                ""))


class Lava(unittest.TestCase):
    """The LAVA job's monitor pattern, lava-run's log, the comparison."""

    def matches(self, text):
        pat = re.compile(kt_lava.KTAP_PATTERN)
        return [(m.group("test_case_id"), kt_lava.FIXUP[m.group("result")])
                for m in pat.finditer(text)]

    def test_ktap_lines(self):
        self.assertEqual(self.matches(
            "\n[    4.2]     ok 1 p4d_alloc_track_new # SKIP p4d is folded\r\n"
            "[    4.3]     not ok 2 pud_alloc_track_new\r\n"
            "ok 3 fix_size_alloc_test\r\n"
            "# look 4 at this\r\n"
            "ok 7 align_shift_alloc_test # SKIP\r\n"),
            [("p4d_alloc_track_new", "skip"), ("pud_alloc_track_new", "fail"),
             ("fix_size_alloc_test", "pass"),
             ("align_shift_alloc_test", "skip")])

    def test_half_a_line_does_not_match(self):
        # (the console arrives in chunks, and LAVA searches a window of it:
        # a name cut short, a SKIP cut short, a window that starts inside
        # "not ok", a diagnostic that quotes a result)
        for text in ("\n    ok 1 p4d_allo", "\n    ok 1 p4d_alloc # SK",
                     "ot ok 2 pud_alloc_track_new\r\n",
                     "\n    # x: ok 3 foo bar\r\n"):
            self.assertEqual(self.matches(text), [], text)
        self.assertEqual(self.matches("\n    ok 1 p4d_alloc # SKIP\n"),
                         [("p4d_alloc", "skip")])
        # (as LAVA reads it: through a pty, "\r\n" is "\r\r\n")
        self.assertEqual(self.matches("\r\r\n[ 0.7]     ok 3 p4d_folded\r\r\n"
                                      "[ 0.8]     not ok 4 pud_new\r\r\n"),
                         [("p4d_folded", "pass"), ("pud_new", "fail")])

    def test_lava_names(self):
        self.assertEqual(kt_lava.case_id("Fix-Size.test"), "fix_size_test")

    def log(self, *entries):
        # (lava-run writes YAML flow mappings, mostly JSON, and tags a
        # value that is not a string: "size": ! "1139712")
        return "\n".join(json.dumps({"dt": "x", "lvl": lvl, "msg": msg})
                         for lvl, msg in entries) + \
            '\n{"dt": "x", "lvl": "debug", "msg": {"size": ! "1139712"}}' \
            "\nnull\n"

    def test_parse_log(self):
        text = self.log(
            ("results", {"case": "pmd_alloc_track_new", "result": "fail",
                         "definition": "kt-x86_64"}),
            ("results", {"case": "lava-test-monitor", "result": "pass",
                         "definition": "lava"}),
            ("results", {"case": "job", "result": "pass",
                         "definition": "lava"}))
        self.assertEqual(kt_lava.parse_log(text, Path("x")),
                         {"pmd_alloc_track_new": "fail"})

    def test_an_incomplete_job_fails_with_lavas_error(self):
        text = self.log(("error", "test monitoring timeout"),
                        ("results", {"case": "job", "result": "fail",
                                     "definition": "lava"}))
        with self.assertRaisesRegex(Fail, "LAVA job fail: test monitoring"):
            kt_lava.parse_log(text, Path("x"))

    def test_compare(self):
        tests = {"kunit.pgalloc_track": {"(suite)": ("fail", ""),
                                         "pmd_alloc_track_new": ("fail", "")},
                 "test_vmalloc": {"fix_size_alloc_test": ("pass", ""),
                                  "test_vmalloc.sh": ("pass", "")},
                 "boot": {"boot": ("pass", "")}}
        lava = {"pgalloc_track": "fail", "pmd_alloc_track_new": "fail",
                "fix_size_alloc_test": "pass"}
        self.assertEqual(kt_lava.compare(lava, tests), [])
        lava["pmd_alloc_track_new"] = "pass"
        del lava["fix_size_alloc_test"]
        self.assertEqual(kt_lava.compare(lava, tests), [
            "fix_size_alloc_test: LAVA missing, harness pass",
            "pmd_alloc_track_new: LAVA pass, harness fail"])

    def test_compare_where_the_script_prints_no_results(self):
        """6.1's test_vmalloc.sh prints no KTAP: LAVA has none of its
        cases (the harness judges them from Summary lines), and only
        there are they left out of the comparison."""
        silent = {"kunit.s": {"(suite)": ("pass", "")},
                  "test_vmalloc": {
                      "fix_size_alloc_test": ("pass", ""),
                      "test_vmalloc.sh": ("skip", kt_results.SILENT_SCRIPT)}}
        lava = {"s": "pass"}
        self.assertTrue(kt_lava.vmalloc_unseen(silent))
        self.assertEqual(kt_lava.compare(lava, silent), [])
        silent["test_vmalloc"]["test_vmalloc.sh"] = ("pass", "exit=0")
        self.assertFalse(kt_lava.vmalloc_unseen(silent))
        self.assertEqual(kt_lava.compare(lava, silent), [
            "fix_size_alloc_test: LAVA missing, harness pass"])

    def test_compare_the_by_design_failure(self):
        """test_vmalloc.sh's KTAP says XFAIL ("ok"), which LAVA records as
        a pass; the harness's skip of the same case agrees, and only of
        that case."""
        tests = {"test_vmalloc": {"align_shift_alloc_test": ("skip", "x"),
                                  "fix_size_alloc_test": ("skip", "y")}}
        lava = {"align_shift_alloc_test": "pass",
                "fix_size_alloc_test": "pass"}
        self.assertEqual(kt_lava.compare(lava, tests), [
            "fix_size_alloc_test: LAVA pass, harness skip"])
        lava["align_shift_alloc_test"] = "fail"
        self.assertIn("align_shift_alloc_test: LAVA fail, harness pass",
                      kt_lava.compare(lava, tests))

    @unittest.skipUnless(Path("/usr/lib/python3/dist-packages/lava_common")
                         .exists(), "lava-dispatcher is not installed")
    def test_the_jobs_are_valid_lava_jobs(self):
        t = kt_targets.load("x86_64")
        with tempfile.TemporaryDirectory() as d:
            for make in (kt_lava.job_yaml, kt_lava.x86_job_yaml):
                f = Path(d) / "job.yaml"
                f.write_text(make(t, "kt", "file:///k", "file:///i", 5))
                kt_lava.validate(f)
            f.write_text(f.read_text().replace("to: tftp", "to: floppy"))
            with self.assertRaisesRegex(Fail, "job.yaml: not a valid LAVA "
                                        "job: .*deploy"):
                kt_lava.validate(f)

    def test_context_carries_the_qemu_command(self):
        ctx = kt_lava.context(kt_targets.load("x86_64-debug"))
        self.assertEqual(ctx["arch"], "amd64")
        self.assertEqual(ctx["memory"], "1024")
        self.assertIn("-smp 2", ctx["extra_options"])
        self.assertIn("-no-reboot", ctx["extra_options"])


@unittest.skipUnless((TREE / "tools/testing/kunit/kunit_parser.py").exists(),
                     f"no kernel tree at {TREE}")
class Judge(unittest.TestCase):
    """kt.py judge: a console log captured anywhere, judged as make check
    judges its guests."""

    @classmethod
    def setUpClass(cls):
        kt_ktap.load(TREE)

    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.ok = (DATA / "console-pass.log").read_text()

    def tearDown(self):
        self.dir.cleanup()

    def judge(self, text):
        """kt.py judge --target i386 on text: (exit status, output)."""
        f = Path(self.dir.name) / "console.log"
        f.write_text(text)
        out = []
        with mock.patch.object(kt, "expected_tests",
                               return_value=(CASES, SUITES)), \
                mock.patch.object(kt, "say", out.append):
            rc = kt.cmd_judge(["--target", "i386", str(f)])
        return rc, "\n".join(out)

    def test_a_passing_log_passes_with_crlf_too(self):
        self.assertEqual(self.judge(self.ok)[0], 0)
        rc, out = self.judge(self.ok.replace("\n", "\r\n"))
        self.assertEqual(rc, 0, out)
        self.assertIn("i386: PASS", out)

    def test_one_kunit_not_ok_fails_and_is_named(self):
        rc, out = self.judge(self.ok.replace(
            "    ok 6 pud_alloc_track_folded",
            "    not ok 6 pud_alloc_track_folded"))
        self.assertEqual(rc, 1)
        self.assertIn("FAIL  kunit.pgalloc_track.pud_alloc_track_folded", out)

    def test_a_panic_fails_and_is_named(self):
        rc, out = self.judge(self.ok.replace(
            "KT: test_vmalloc.sh exit=0",
            "[    3.1] Kernel panic - not syncing: injected\n"
            "KT: test_vmalloc.sh exit=0"))
        self.assertEqual(rc, 1)
        self.assertIn("FAIL  console.clean: Kernel panic - not syncing: "
                      "injected", out)

    def test_the_harness_timeout_line_is_a_timeout(self):
        cut = self.ok[:self.ok.index("Summary: pcpu_alloc_test")]
        rc, out = self.judge(cut + "\n" + kt_results.KILLED.format(300))
        self.assertEqual(rc, 1)
        self.assertIn("guest killed after 300s timeout", out)

    def test_a_missing_log_is_one_line(self):
        with self.assertRaisesRegex(Fail, "nope.log: no such console log"):
            kt.cmd_judge(["--target", "i386", "nope.log"])


class Bench(unittest.TestCase):
    """make bench's parsing and statistics, on canned lines."""

    LINES = ["KT-BENCH: round 1",
             "[ 1.0] Summary: fix_size_alloc_test passed: 3 failed: 0 "
             "repeat: 3 loops: 2000 avg: 999 usec",
             "KT-BENCH: round 1 pagefault faults 100 usec 999",
             "KT-BENCH: round 2",
             "[ 2.0] Summary: fix_size_alloc_test passed: 3 failed: 0 "
             "repeat: 3 loops: 2000 avg: 500 usec",
             "KT-BENCH: round 2 pagefault faults 1000 usec 2000",
             "KT-BENCH: round 3",
             "[ 3.0] Summary: fix_size_alloc_test passed: 3 failed: 0 "
             "repeat: 3 loops: 2000 avg: 520 usec",
             "KT-BENCH: round 3 pagefault faults 1000 usec 2100"]

    def test_the_warm_up_round_does_not_count(self):
        self.assertEqual(kt_bench.parse(self.LINES), {
            "fix_size_alloc_test": [500, 520],
            kt_bench.PAGEFAULT: [2000.0, 2100.0]})

    def test_a_boot_counts_its_second_least_round(self):
        # (background work that lands in many rounds and makes them
        # longer, or in one and makes it shorter, does not move it)
        self.assertEqual(kt_bench.per_boot(
            {"fix_size_alloc_test": [900, 500, 900, 900, 400, 900]}, "x",
            set(), 6), {"fix_size_alloc_test": 500})
        # (a case whose sizes are drawn at random: the mean of its rounds)
        self.assertEqual(kt_bench.per_boot(
            {"random_size_alloc_test": [500, 520]}, "x",
            {"random_size_alloc_test"}, 2), {"random_size_alloc_test": 510})
        with self.assertRaisesRegex(Fail, "no figures in x"):
            kt_bench.per_boot({}, "x", set())
        # (a round without its figure: the second least of the others is
        # biased)
        with self.assertRaisesRegex(Fail, "fix_size_alloc_test: not 3 "):
            kt_bench.per_boot({"fix_size_alloc_test": [1, 2]}, "x", set(), 3)

    def test_drawn_cases_come_from_the_source(self):
        text = (TREE / "lib/test_vmalloc.c").read_text()
        self.assertEqual(kt_bench.drawn_cases(text), {
            "random_size_align_alloc_test", "random_size_alloc_test",
            "pcpu_alloc_test"})

    def test_the_whole_load_is_a_figure(self):
        self.assertEqual(kt_bench.parse([
            "KT-BENCH: round 1", "KT-BENCH: round 1 test_vmalloc -11 usec 9",
            "KT-BENCH: round 2", "KT-BENCH: round 2 test_vmalloc -11 usec 7"]),
            {kt_bench.LOAD: [7]})

    def test_interval(self):
        same = [100, 101, 99, 100, 100]
        r, lo, hi = kt_bench.interval(same, same)
        self.assertEqual(r, 1.0)
        self.assertLessEqual(lo, 1.0)
        self.assertGreaterEqual(hi, 1.0)
        r, lo, hi = kt_bench.interval(same, [130, 131, 129, 130, 132])
        self.assertAlmostEqual(r, 1.3)
        self.assertGreater(lo, 1.2)

    def test_a_failed_round_or_case_fails_the_bench(self):
        with self.assertRaisesRegex(Fail, "round 1: loading test_vmalloc "
                                    "returned -2, not -EAGAIN"):
            kt_bench.parse(["KT-BENCH: round 1",
                            "KT-BENCH: round 1 test_vmalloc -2 usec 5"])
        with self.assertRaisesRegex(Fail, "vm_map_ram_test failed in round"):
            kt_bench.parse(["KT-BENCH: round 2", "Summary: vm_map_ram_test "
                            "passed: 2 failed: 1 repeat: 3 loops: 9 avg: 9 "
                            "usec"])
        # (the case that fails by design is timed like the others)
        self.assertEqual(kt_bench.parse([
            "KT-BENCH: round 2", "Summary: align_shift_alloc_test passed: 0 "
            "failed: 3 repeat: 3 loops: 9 avg: 300 usec"]),
            {"align_shift_alloc_test": [300]})

    def figures(self, aa, aa_iv, ab, ab_iv):
        return {"x86_64": {"fix_size_alloc_test": {
            "aa_ratio": aa, "aa_interval": aa_iv, "ratio": ab,
            "interval": ab_iv}, "pcpu_alloc_test": {"untimed": True}}}

    def test_agreement_with_the_previous_run(self):
        def run(*ratios, kernels="k"):
            return {"kernels": {"x86_64": kernels}, "method": {"boots": 5},
                    "results": {"x86_64": {
                        f"case{i}": {"ratio": r} for i, r in
                        enumerate(ratios)} | {"p": {"untimed": "0 usec"}}}}
        old = run(1.0, 1.0, 1.0)
        self.assertEqual(kt_bench.agreement({}, old), "")
        self.assertRegex(kt_bench.agreement(old, run(1.0, 1.005, 1.02)),
                         r"ratios agree .* \(3 cases on x86_64\): median "
                         r"0.50%, worst 2.00% \(x86_64 case2\)")
        self.assertRegex(kt_bench.agreement(old, run(1.0, 1.0, 1.04)),
                         r"do not agree .* worst 4.00% \(x86_64 case2\)")
        self.assertRegex(kt_bench.agreement(old, run(1.02, 1.02, 1.0)),
                         r"do not agree .* median 2.00%")
        self.assertRegex(kt_bench.agreement(old, run(1.0, 1.0)),
                         r"\(2 cases .* one run only: x86_64 case2$")
        self.assertIn("other kernels", kt_bench.agreement(
            old, run(1.0, 1.0, 1.0, kernels="other")))

    def test_verdict(self):
        ok = self.figures(1.0, [0.99, 1.01], 1.0, [0.99, 1.02])
        self.assertEqual(kt_bench.verdict(ok), [])
        self.assertIn("differs from 1.00", kt_bench.verdict(
            self.figures(1.02, [1.015, 1.03], 1.0, [0.99, 1.02]))[0])
        # (outside the interval, but by less than EFFECT: no difference)
        self.assertEqual(kt_bench.verdict(
            self.figures(1.004, [1.004, 1.004], 1.0, [1.0, 1.0])), [])
        fixture = TOP / "tests/bench/slow-vmalloc.patch"
        bad = kt_bench.verdict(ok, fixture)
        self.assertIn("x86_64 fix_size_alloc_test: the fixture's slowdown "
                      "not seen (0.990-1.020)", bad)
        self.assertIn("x86_64 full_fit_alloc_test: the fixture's slowdown "
                      "not seen (no figure)", bad)
        slow = self.figures(1.0, [0.99, 1.01], 1.3, [1.2, 1.4])
        self.assertNotIn("fix_size_alloc_test", " ".join(
            kt_bench.verdict(slow, fixture)))

if __name__ == "__main__":
    unittest.main()
