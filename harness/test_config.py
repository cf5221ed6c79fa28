"""make selftest: the declarative inputs load, and bad ones are named.
Every target file, every fixture's Expect: lines, the result cache."""
import tempfile
import unittest
from pathlib import Path
from unittest import mock

import kt_cache
import kt_fixtures
import kt_job
import kt_targets
from kt_common import Fail


class Targets(unittest.TestCase):
    def test_every_target_loads(self):
        names = kt_targets.names()
        self.assertIn("x86_64", names)
        hw = kt_targets.names("hw")
        self.assertEqual(hw, ["ppc64le-powernv-hw", "ppc64le-radix-hw",
                              "x86_64-hw"])
        self.assertEqual(kt_targets.profile_name("x86_64", "hw"),
                         "x86_64-hw")
        for n in hw:            # (a defconfig is a build of its own)
            self.assertEqual(kt_targets.load(n).build, n)
        for n in names + hw:
            t = kt_targets.load(n)
            self.assertEqual(t.name, n)
            self.assertTrue(t.qemu[0].startswith("qemu-system-"), n)
            self.assertGreater(t.timeout, 0, n)

    def test_inherit_shares_the_build(self):
        hash_ = kt_targets.load("ppc64le-hash")
        self.assertEqual(hash_.build, "ppc64le-radix")
        self.assertEqual(hash_.cmdline, "disable_radix")
        self.assertEqual(kt_targets.load("ppc64le-radix").build,
                         "ppc64le-radix")

    def _load_text(self, text):
        with tempfile.TemporaryDirectory() as d:
            (Path(d) / "t.py").write_text(text)
            with mock.patch.object(kt_targets, "TARGETS", Path(d)):
                return kt_targets.load("t")

    def test_unknown_key_is_named(self):
        src = (kt_targets.TARGETS / "x86_64.py").read_text()
        with self.assertRaisesRegex(Fail, r"t\.py: unknown key qemu_args"):
            self._load_text(src + "\nqemu_args = []\n")

    def test_missing_key_is_named(self):
        src = (kt_targets.TARGETS / "x86_64.py").read_text()
        src = "\n".join(l for l in src.splitlines()
                        if not l.startswith("console"))
        with self.assertRaisesRegex(Fail, r"t\.py: missing key console"):
            self._load_text(src)

    def test_a_value_of_the_wrong_type_is_named(self):
        src = (kt_targets.TARGETS / "x86_64.py").read_text()
        with self.assertRaisesRegex(Fail, r"t\.py: qemu = 'qemu-system-x86_64"
                                    r" -m 1G' is not a list of strings"):
            self._load_text(src + "\nqemu = 'qemu-system-x86_64 -m 1G'\n")
        with self.assertRaisesRegex(Fail, r"t\.py: timeout = '300' is not"):
            self._load_text(src + "\ntimeout = '300'\n")
        with self.assertRaisesRegex(Fail, r"t\.py: arch = 64 is not a "
                                    r"string"):
            self._load_text(src + "\narch = 64\n")
        with self.assertRaisesRegex(Fail, r"t\.py: requires = \['CONFIG_X"
                                    r"86_PAE'\] is not a list of Kconfig "
                                    r"symbols without CONFIG_"):
            self._load_text(src + "\nrequires = ['CONFIG_X86_PAE']\n")

    def test_requires_is_not_part_of_the_key(self):
        t = kt_targets.load("i386-pae")
        self.assertEqual(t.requires, ("X86_PAE",))
        import dataclasses
        self.assertEqual(kt_targets.key(t), kt_targets.key(
            dataclasses.replace(t, requires=())))

    def test_unknown_target(self):
        with self.assertRaisesRegex(Fail, r"unknown target 'nope'.*x86_64"):
            kt_targets.load("nope")

    def test_frozen(self):
        t = kt_targets.load("x86_64")
        with self.assertRaises(Exception):
            t.timeout = 1


def load_text(text):
    """The fixture whose patch is text."""
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "x.patch"
        p.write_text(text)
        return kt_fixtures.load(p)


class Fixtures(unittest.TestCase):
    def test_every_fixture_expects_known_checks(self):
        fixtures = kt_fixtures.all_fixtures()
        self.assertGreaterEqual(len(fixtures), 17)
        for f in fixtures:
            self.assertTrue(f.expects or f.skips, f.name)

    def test_a_fixture_that_must_skip(self):
        f = self._load_text("Expect-skip: kunit.sync.sync_vmap no free\n")
        self.assertTrue(f.must_pass() and f.boots())
        self.assertEqual(f.skips, (("kunit.sync.sync_vmap", "no free"),))
        with self.assertRaisesRegex(Fail, r"a gate cannot be expected"):
            self._load_text("Expect-skip: gate.builds x\n")

    def _load_text(self, text):
        return load_text(text)

    def test_unknown_check_fails_at_once(self):
        with self.assertRaisesRegex(Fail, r"unknown check 'gate\.sparse'"):
            self._load_text("Subject: x\n\nExpect: gate.sparse foo\n")
        with self.assertRaisesRegex(Fail, r"unknown check 'kunit\.x'"):
            self._load_text("Subject: x\n\nExpect: kunit.x foo\n")

    def test_unknown_target_fails_at_once(self):
        with self.assertRaisesRegex(Fail, r"unknown target 'arm9'"):
            self._load_text("Expect: boot.boot x\nExpect-target: arm9\n")

    def test_suite_results_and_parameters_are_checks(self):
        f = self._load_text("Expect: kunit.sync.(suite) cut off\n"
                            "Expect: kunit.sync.case.param-1 failed\n")
        self.assertEqual(len(f.booted()), 2)

    def test_bad_regex_and_no_expect(self):
        with self.assertRaisesRegex(Fail, r"bad regex"):
            self._load_text("Expect: boot.boot (\n")
        with self.assertRaisesRegex(Fail, r"no 'Expect:"):
            self._load_text("Subject: nothing expected\n")

    def test_fields(self):
        f = self._load_text("Expect: gate.builds i386\n"
                            "Expect: boot.boot killed\n"
                            "Expect-target: x86_64 i386\n"
                            "Expect-timeout: 30\n")
        self.assertEqual(f.targets, ("x86_64", "i386"))
        self.assertEqual(f.timeout, 30)
        self.assertEqual(f.gated(), [("gate.builds", "i386")])
        self.assertEqual(f.booted(), [("boot.boot", "killed")])


class Caught(unittest.TestCase):
    r = {"stages": {"apply": 1, "build": 2}, "error": "x: failed",
         "tests": {"kunit.pgalloc_track": {
             "pmd_alloc_track_new": ("fail", "# EXPECTATION FAILED at x"),
             "pud_alloc_track_new": ("pass", "")}}}

    def test_a_skip_is_caught_only_when_a_skip_is_wanted(self):
        r = {"tests": {"kunit.s": {"c": ("skip", "SKIP no free range")}}}
        self.assertTrue(kt_fixtures.caught(r, "kunit.s.c", "no free",
                                           kt_fixtures.SKIP))
        self.assertFalse(kt_fixtures.caught(r, "kunit.s.c", "no free"))

    def test_a_failure_with_the_text_is_caught(self):
        self.assertTrue(kt_fixtures.caught(
            self.r, "kunit.pgalloc_track.pmd_alloc_track_new",
            "EXPECTATION FAILED"))

    def test_a_pass_or_other_text_is_not(self):
        self.assertFalse(kt_fixtures.caught(
            self.r, "kunit.pgalloc_track.pud_alloc_track_new", ""))
        self.assertFalse(kt_fixtures.caught(
            self.r, "kunit.pgalloc_track.pmd_alloc_track_new", "KASAN"))
        self.assertFalse(kt_fixtures.caught(
            self.r, "kunit.pgalloc_track.nope", ""))

    def booted(self, text, r):
        """check_booted()'s records of fixture text on the run r."""
        out = []
        kt_fixtures.check_booted(load_text(text),
                                 dict(r, seconds=1),
                                 lambda *a: out.append(a[:3]))
        return out

    def test_a_miss_shows_the_check_and_takes_any_regex(self):
        (_, res, detail), = self.booted(
            "Expect: kunit.pgalloc_track.pud_alloc_track_new F{2}\n", self.r)
        self.assertEqual(res, kt_fixtures.FAIL)
        self.assertIn("/F{2}/; got pass: ; the run: x: failed", detail)
        (_, res, detail), nothing_fails = self.booted(
            "Expect-skip: kunit.pgalloc_track.pmd_alloc_track_new x\n",
            self.r)
        self.assertEqual(res, kt_fixtures.FAIL)
        self.assertIn("got fail: # EXPECTATION FAILED at x", detail)
        self.assertEqual(nothing_fails[:2], ("fixture x: nothing fails",
                                             kt_fixtures.FAIL))
        self.assertIn("pmd_alloc_track_new", nothing_fails[2])
        (_, res, detail), = self.booted("Expect: apply vmalloc\n", self.r)
        self.assertIn("got stages apply, build: x: failed", detail)
        (_, res, detail), = self.booted("Expect: apply vmalloc\n",
                                        dict(self.r, error=None))
        self.assertIn("got stages apply, build: no error", detail)

    def test_apply(self):
        self.assertFalse(kt_fixtures.caught(self.r, "apply", "failed"))
        r = dict(self.r, stages={"apply": 1},
                 error="x.patch does not apply to build: mm/vmalloc.c")
        self.assertTrue(kt_fixtures.caught(r, "apply", "mm/vmalloc.c"))


class CacheRoundTrip(unittest.TestCase):
    def test_round_trip_and_atomic_write(self):
        with tempfile.TemporaryDirectory() as d:
            c = kt_cache.Cache("x", Path(d))
            k = kt_cache.cache_key("a", [1, 2])
            self.assertIsNone(c.get(k))
            c.put(k, {"r": [("pass", "")]})
            again = kt_cache.Cache("x", Path(d))
            self.assertEqual(again.get(k), {"r": [["pass", ""]]})
            self.assertEqual([p.name for p in Path(d).iterdir()], ["x.json"])

    def test_a_broken_file_is_an_empty_cache(self):
        with tempfile.TemporaryDirectory() as d:
            (Path(d) / "x.json").write_text('{"half": ')
            self.assertEqual(kt_cache.Cache("x", Path(d)).data, {})

    def test_key_depends_on_parts_and_every_module(self):
        self.assertNotEqual(kt_cache.cache_key("a"), kt_cache.cache_key("b"))
        self.assertIn("kt_results.py\0", kt_cache.harness_text())
        self.assertIn("kt_job.py\0", kt_cache.harness_text())
        # (what only schedules and prints keeps the cache)
        self.assertNotIn("kt_check.py\0", kt_cache.harness_text())


class Packages(unittest.TestCase):
    """A missing tool names the Debian package that has it."""

    def test_a_missing_command_names_its_package(self):
        import kt_common
        with mock.patch("shutil.which", lambda c: None):
            with self.assertRaisesRegex(
                    Fail, r"spatch, ocamlopt not found: install Debian "
                    r"packages coccinelle ocaml"):
                kt_common.require("spatch", "ocamlopt")
            with self.assertRaisesRegex(
                    Fail, r"install Debian package "
                    r"gcc-powerpc64le-linux-gnu "):
                kt_common.require("powerpc64le-linux-gnu-gcc")

    def test_nothing_run_reads_the_terminal(self):
        """run() gives every command /dev/null as stdin: make's syncconfig
        would wait on a terminal for an answer about a new symbol."""
        import sys
        import kt_common
        probe = [sys.executable, "-c",
                 "import os; print(os.path.realpath('/proc/self/fd/0'))"]
        self.assertEqual(kt_common.run(probe)[1].strip(), "/dev/null")
        with tempfile.TemporaryDirectory() as d:
            logf = Path(d) / "log"
            kt_common.run(probe, logf=logf)
            self.assertEqual(logf.read_text().splitlines()[-1], "/dev/null")

    def test_run_names_the_package_instead_of_a_traceback(self):
        import kt_common
        with mock.patch.dict(kt_common.PACKAGE,
                             {"kt-no-such-tool": "kt-pkg"}):
            with self.assertRaisesRegex(Fail, r"install Debian package "
                                        r"kt-pkg"):
                kt_common.run(["kt-no-such-tool", "--version"])

    def test_a_missing_python_module_and_header(self):
        import kt_common
        with mock.patch.dict(kt_common.PY_PACKAGE, {"kt_nope": "python3-x"}):
            with self.assertRaisesRegex(Fail, r"python3 module kt_nope not "
                                        r"found: install Debian package "
                                        r"python3-x"):
                kt_common.require(py=("kt_nope",))
        with self.assertRaisesRegex(Fail, r"/nonexistent/x.h not found: "
                                    r"install Debian package libx-dev"):
            kt_common.require(files={"/nonexistent/x.h": "libx-dev"})

    def test_deps_sh_installs_every_package_named(self):
        import kt_common
        import re
        text = (Path(kt_common.__file__).parent / "deps.sh").read_text()
        group = dict(re.findall(r'^(\w+)="([^"$]*)"', text, re.M))
        deps = " ".join(group[g] for g in ("run", "targets", "gates",
                                                "bench"))
        named = set(kt_common.PACKAGE.values()) | \
            set(kt_common.PY_PACKAGE.values()) | \
            set(kt_common.HEADERS.values()) | \
            set(kt_common.SPATCH["files"].values())
        named -= {"dpkg", "tar", "apt", "findutils"}     # Debian essentials
        for t in kt_targets.names():
            tg = kt_targets.load(t)
            named |= {kt_common.package_of(tg.cross_compile + "gcc"),
                      kt_common.package_of(tg.qemu[0])}
        missing = sorted(p for p in named if p not in deps.split())
        self.assertFalse(missing, f"harness/deps.sh does not install "
                         f"{' '.join(missing)}, which the harness needs")
        # make (deps.sh run) builds and boots x86_64 alone
        x86 = kt_targets.load("x86_64")
        self.assertFalse({kt_common.package_of(x86.qemu[0]), "ccache",
                          "busybox-static"} - set(group["run"].split()))


class Layering(unittest.TestCase):
    """Imports only point down the pipeline (the README's order)."""
    ORDER = ["kt_spatch", "kt_common", "kt_cache", "kt_targets", "kt_tree",
             "kt_kunit", "kt_ktap", "kt_results", "kt_kbuild", "kt_guest",
             "kt_job", "kt_lava", "kt_bundle", "kt_bench", "kt_findings",
             "kt_gates", "kt_fixtures", "kt_report", "kt_check", "kt"]

    def test_imports_point_down(self):
        import ast
        here = Path(kt_cache.__file__).parent
        self.assertEqual(sorted(self.ORDER),
                         sorted(p.stem for p in here.glob("kt*.py")))
        for i, m in enumerate(self.ORDER):
            tree = ast.parse((here / f"{m}.py").read_text())
            used = {a.name for n in ast.walk(tree)
                    if isinstance(n, ast.Import) for a in n.names} | \
                {n.module for n in ast.walk(tree)
                 if isinstance(n, ast.ImportFrom)}
            for u in used & set(self.ORDER):
                self.assertLess(self.ORDER.index(u), i, f"{m} imports {u}")


class Replays(unittest.TestCase):
    """A boot of the same bits replays its console; other bits do not."""

    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.d = Path(self.dir.name)
        (self.d / "root" / "bin").mkdir(parents=True)
        (self.d / "root" / "bin" / "busybox").write_bytes(b"bb")
        (self.d / "bzImage").write_bytes(b"kernel")
        self.t = kt_targets.load("x86_64")

    def tearDown(self):
        self.dir.cleanup()

    def replay(self, expected=True):
        with mock.patch.object(kt_job, "BUILD", self.d), \
                mock.patch.object(kt_job, "log"):
            return kt_job.Replay(self.t, self.d / "bzImage", self.d / "root",
                                 300, expected)

    def test_same_bits_replay(self):
        self.replay().keep(["KT: init", "KT: done"])
        with mock.patch.object(kt_job, "log"):
            lines, timed_out = self.replay().lines(self.d / "console.log")
        self.assertEqual(lines, ["KT: init", "KT: done"])
        self.assertFalse(timed_out)
        self.assertIn("replayed", (self.d / "console.log").read_text())

    def test_other_bits_boot(self):
        self.replay().keep(["KT: init"])
        (self.d / "root" / "bin" / "busybox").write_bytes(b"bc")
        self.assertEqual(self.replay().lines(self.d / "c.log"), (None, None))
        (self.d / "root" / "bin" / "busybox").write_bytes(b"bb")
        (self.d / "root" / "bin" / "busybox").chmod(0o755)
        self.assertEqual(self.replay().lines(self.d / "c.log"), (None, None))

    def test_fixture_consoles_stay_apart(self):
        self.replay(expected=False).keep(["BUG: fixture"])
        self.assertEqual(self.replay().lines(self.d / "c.log"), (None, None))

    def test_only_single_cpu_guests_replay(self):
        self.assertTrue(kt_job.replays(kt_targets.load("x86_64")))
        self.assertFalse(kt_job.replays(kt_targets.load("arm32")))
        self.assertFalse(kt_job.replays(kt_targets.load("x86_64-debug")))
        with mock.patch.dict(kt_job.os.environ, {"KT_REPLAY": "0"}):
            self.assertFalse(kt_job.replays(kt_targets.load("x86_64")))

    def test_uncached_modules_exist(self):
        for name in kt_cache.UNCACHED:
            self.assertTrue((kt_cache.HARNESS / name).exists(), name)


class Selection(unittest.TestCase):
    """What kt.py check builds and boots, with and without filters."""

    def test_make_check_runs_the_in_check_targets(self):
        import kt_check
        build, boot = kt_check.selection([], [], [])
        self.assertEqual(build, kt_targets.check_names())
        self.assertEqual(boot, build)
        self.assertIn("x86_64", build)
        self.assertNotIn("ppc32", build)

    def test_a_gate_alone_builds_what_it_looks_at_and_boots_nothing(self):
        import kt_check
        self.assertEqual(kt_check.selection([], ["checkpatch"], []), ([], []))
        self.assertEqual(kt_check.selection([], ["coccicheck"], []),
                         (["x86_64"], []))

    def test_a_fixture_alone_builds_its_targets(self):
        import kt_check
        self.assertEqual(kt_check.selection([], [], ["no-sync-ioremap-arm32"]),
                         (["arm32"], []))

    def test_unknown_names_fail_at_once(self):
        import kt_check
        with self.assertRaisesRegex(Fail, "unknown gate frob"):
            kt_check.selection([], ["frob"], [])
        with self.assertRaisesRegex(Fail, "unknown fixture nope"):
            kt_check.selection([], [], ["nope"])

    def test_w1_and_sparse_run_on_the_wider_of_two_x86_64_builds(self):
        import types
        import kt_check
        run = types.SimpleNamespace(builds={
            n: kt_targets.load(n) for n in ("x86_64", "x86_64-debug", "i386")})
        self.assertEqual(kt_check.wider_build(run, "x86_64"), "x86_64-debug")
        self.assertIsNone(kt_check.wider_build(run, "x86_64-debug"))
        self.assertIsNone(kt_check.wider_build(run, "i386"))
        del run.builds["x86_64-debug"]
        self.assertIsNone(kt_check.wider_build(run, "x86_64"))

    def test_gates_that_read_a_build_skip_when_no_target_builds(self):
        import kt_check
        run = kt_check.Run([], None)        # (every target skipped)
        with mock.patch("kt_report.say"), mock.patch.object(kt_check, "log"):
            kt_check.patch_gates(run, None, "HEAD",
                                 {"coccicheck", "header", "kunit"})
        self.assertEqual([(c["check"], c["result"]) for c in
                          run.checks.items],
                         [(f"gate {g}", "skip") for g in
                          ("coccicheck", "header", "kunit")])

    def test_a_fixture_on_a_skipped_target_says_why(self):
        import kt_check
        run = kt_check.Run([], None)
        f = run.fixtures[0]
        run.gone = {f.targets[0]: "the tree has no arch/x/"}
        with mock.patch("kt_report.say"):
            kt_check.unrunnable_fixtures(run)
        c = run.checks.items[0]
        self.assertEqual((c["result"], c["detail"]),
                         ("skip", f"{f.targets[0]}: the tree has no arch/x/"))

    def test_no_build_is_built_whole_by_both_builders(self):
        import kt_check
        names = kt_targets.check_names()
        run = kt_check.Run(names, None)
        mine, others = kt_check.partition(run)
        self.assertEqual(sorted(mine + others), sorted(run.builds))
        self.assertFalse(set(mine) & set(others))
        self.assertEqual(mine, ["x86_64"])     # LAVA, the fixes alone
        self.assertEqual(others[0], "x86_64-debug")    # the longest guest
        first = kt_check.fixtures_of(run, mine, first=True)
        second = kt_check.fixtures_of(run, others, first=False)
        ran = [f for f in run.fixtures if run.runnable(f)]
        self.assertEqual(sorted(f.name for f in first + second),
                         sorted(f.name for f in ran))
        for f in second:
            self.assertLessEqual(kt_check.fixture_builds(f), set(others))
        spans = [f.name for f in first
                 if not kt_check.fixture_builds(f) <= set(mine)]
        self.assertEqual(spans, ["breaks-one-target"])

    def test_fixtures_that_change_no_code_come_first(self):
        import kt_check
        run = kt_check.Run(kt_targets.check_names(), None)
        no_code = [f.name for f in run.fixtures
                   if not kt_check.changes_code(f)]
        self.assertEqual(no_code, ["script-counts-xfail"])

    def test_one_build_stays_with_the_first_builder(self):
        import kt_check
        run = kt_check.Run(["x86_64-debug"], None, fixtures=[])
        self.assertEqual(kt_check.partition(run), (["x86_64-debug"], []))
        self.assertEqual(kt_check.gates_of(run, True),
                         set(kt_check.ALL_GATES))

    def test_each_patch_gate_runs_in_one_builder(self):
        import kt_check
        run = kt_check.Run(kt_targets.check_names(), None)
        first, second = (kt_check.gates_of(run, f) for f in (True, False))
        self.assertFalse(first & second)
        self.assertEqual(first | second, set(kt_check.ALL_GATES))
        self.assertEqual(second, {"coccicheck", "header", "kunit"})

    def test_the_first_failing_patch_is_found_as_git_bisect_would(self):
        import kt_check
        for n in (1, 2, 3, 13, 14):
            for first in range(1, n + 1):
                asked = []

                def bad(k):
                    asked.append(k)
                    return k >= first
                self.assertEqual(kt_check.first_bad(n, bad), first)
                self.assertLessEqual(len(asked), max(1, n.bit_length()))


if __name__ == "__main__":
    unittest.main()
