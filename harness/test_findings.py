"""make selftest: the findings parsers and the new-against-base
comparison that every findings gate uses."""
import re
import tempfile
import unittest
from pathlib import Path

import kt_findings
from kt_common import work

W1 = f"""\
  CC      mm/vmalloc.o
{work()}/mm/vmalloc.c:120:5: warning: no previous prototype for 'f' [-Wmissing-prototypes]
mm/vmalloc.c:300:9: warning: Using plain integer as NULL pointer
mm/vmalloc.c:301:9: warning: Using plain integer as NULL pointer
mm/memory.c:7: error: something
  CHECK   mm/memory.c
"""
COCCI = """\
mm/vmalloc.c:1138:2-8: preceding lock on line 1130
mm/memory.c:20:1-5: WARNING: pmd_alloc() on init_mm: nothing records the change
"""


def warning_key(f, m):
    return f"{f}: {m.group(3)}: {m.group(4)}"


def cocci_key(f, m):
    return f"{f}: {re.sub(r'[0-9]+', 'N', m.group(3))}"


class Parse(unittest.TestCase):
    def test_warnings(self):
        found = kt_findings.parse(W1, kt_findings.WARNING, warning_key)
        self.assertEqual(found[
            "mm/vmalloc.c: warning: Using plain integer as NULL pointer"],
            [("mm/vmalloc.c", "300"), ("mm/vmalloc.c", "301")])
        # the work tree's absolute path is stripped
        self.assertIn("mm/vmalloc.c: warning: no previous prototype for 'f' "
                      "[-Wmissing-prototypes]", found)
        self.assertIn("mm/memory.c: error: something", found)
        self.assertEqual(sum(map(len, found.values())), 4)

    def test_cocci_keys_without_numbers(self):
        found = kt_findings.parse(COCCI, kt_findings.COCCI, cocci_key)
        self.assertEqual(sorted(found), [
            "mm/memory.c: WARNING: pmd_alloc() on init_mm: nothing records "
            "the change", "mm/vmalloc.c: preceding lock on line N"])


class AppendedLog(unittest.TestCase):
    def test_each_make_counts_only_what_it_wrote(self):
        # (run() appends to a log: with each, the second object's findings
        # must not take in the first's)
        with tempfile.TemporaryDirectory() as d:
            logf = Path(d) / "log"
            logf.write_text(W1)
            start = logf.stat().st_size
            with open(logf, "a") as f:
                f.write(W1)
            found = kt_findings.parse(kt_findings.written_since(logf, start),
                                      kt_findings.WARNING, warning_key)
        self.assertEqual(sum(map(len, found.values())), 4)


class OwnOutput(unittest.TestCase):
    LOG = """\
  CC      arch/arm64/kernel/vdso/vgetrandom.o
  CHECK   arch/arm64/kernel/vdso/vgetrandom.c
arch/arm64/kernel/vdso/vgetrandom.c:5:27: warning: symbol '__kernel_getrandom' was not declared. Should it be static?
""" + W1

    def test_the_prepare_steps_findings_are_not_the_objects(self):
        own = kt_findings.own_outputs(self.LOG, ["mm/vmalloc.o"],
                                      Path("log"))["mm/vmalloc.o"]
        found = kt_findings.parse(own, kt_findings.WARNING, warning_key)
        self.assertEqual(sum(map(len, found.values())), 4)
        self.assertFalse([k for k in found if "vdso" in k])

    def test_each_object_its_own(self):
        """One make of two objects: each one's findings from its CC line
        to the next's, whatever order make took them in."""
        text = self.LOG + "  CC      mm/memory.o\n" + \
            "mm/memory.c:7:1: warning: m [-Wm]\n"
        own = kt_findings.own_outputs(text, ["mm/memory.o", "mm/vmalloc.o"],
                                      Path("log"))
        found = {o: kt_findings.parse(t, kt_findings.WARNING, warning_key)
                 for o, t in own.items()}
        self.assertEqual(list(found["mm/memory.o"]),
                         ["mm/memory.c: warning: m [-Wm]"])
        self.assertEqual(sum(map(len, found["mm/vmalloc.o"].values())), 4)
        self.assertNotIn("mm/memory.c: warning: m [-Wm]",
                         found["mm/vmalloc.o"])

    def test_an_object_of_a_module(self):
        text = "  CC [M]  mm/x.o\nmm/x.c:1:2: warning: m [-Wm]\n"
        own = kt_findings.own_outputs(text, ["mm/x.o"], Path("log"))
        self.assertEqual(own["mm/x.o"], text)

    def test_an_object_compiled_twice_fails(self):
        from kt_common import Fail
        with self.assertRaisesRegex(Fail, "2 'CC mm/vmalloc.o' lines"):
            kt_findings.own_outputs(self.LOG + self.LOG, ["mm/vmalloc.o"],
                                    Path("log"))

    def test_no_compile_of_the_object_fails(self):
        from kt_common import Fail
        with self.assertRaises(Fail):
            kt_findings.own_outputs(self.LOG, ["mm/vmalloc.o", "mm/memory.o"],
                                    Path("log"))


class New(unittest.TestCase):
    base = {"a": [("f.c", "1")], "b": [("f.c", "2"), ("f.c", "3")]}

    def test_nothing_new(self):
        self.assertEqual(kt_findings.compare(self.base, self.base), [])
        self.assertEqual(kt_findings.compare(self.base, {"a": [("f.c", "9")]}),
                         [])

    def test_a_new_finding_and_one_more_of_a_kind(self):
        series = {"a": [("f.c", "1")], "c": [("g.c", "5")],
                  "b": [("f.c", "2"), ("f.c", "3"), ("f.c", "40")]}
        self.assertEqual(sorted(kt_findings.compare(self.base, series)),
                         [("b", 1, ("f.c", "40")), ("c", 1, ("g.c", "5"))])


class BaseOnlyWhereTheSeriesFinds(unittest.TestCase):
    """collect(): an object whose compile at head finds nothing is not
    compiled at the base (nothing new can come from it); one whose
    compile finds something, in a header too, is, in the base's own
    checkout; the objects of each checkout in one make."""

    def test(self):
        from unittest import mock
        import contextlib
        import types
        compiled, in_base, prepared, drops, makes = [], [], [], [], []

        @contextlib.contextmanager
        def fake_at_base():
            in_base.append(1)
            try:
                yield
            finally:
                in_base.pop()

        def fake_run(args, env=None, logf=None, check=True):
            rev = checked_out[-1]
            if args[-1] == "prepare":
                prepared.append((rev, args[1:-1]))
                return 0, ""
            # (the objects one after another, after -j1)
            makes.append(rev)
            for obj in args[args.index("-j1") + 1:]:
                compiled.append((rev, obj, args[1]))
                out = {("head", "mm/vmalloc.o"):
                       "include/linux/x.h:1:2: warning: w [-Wx]\n",
                       ("head", "mm/memory.o"): ""}.get((rev, obj), "")
                with open(logf, "a") as f:
                    f.write(f"  CC      {obj}\n{out}")
            return 0, ""

        checked_out = []
        real_cache = kt_findings.Cache

        def fake_git(*a, **kw):
            if a[0] == "checkout":
                checked_out.append(a[-1])
            return ""
        with tempfile.TemporaryDirectory() as d:
            d = Path(d)
            t = types.SimpleNamespace(build="b")
            with mock.patch.object(kt_findings, "git", fake_git), \
                    mock.patch.object(kt_findings, "run", fake_run), \
                    mock.patch.object(kt_findings, "at_base", fake_at_base), \
                    mock.patch.object(
                        kt_findings, "outs",
                        lambda: d / ("base" if in_base else "series")), \
                    mock.patch.object(kt_findings, "RESULTS", d), \
                    mock.patch.object(kt_findings, "work", lambda: d), \
                    mock.patch.object(kt_findings, "make_args",
                                      lambda t, o: drops.append(o) or
                                      ["make", f"O={o}"]), \
                    mock.patch.object(kt_findings, "make_command",
                                      lambda t, o: ["make", f"O={o}"]), \
                    mock.patch.object(kt_findings, "target_key",
                                      lambda t: "t"), \
                    mock.patch.object(kt_findings, "code_inputs",
                                      lambda rev, srcs: [rev, srcs]), \
                    mock.patch.object(kt_findings, "Cache",
                                      lambda n: real_cache(
                                          n, where=d / "cache")):
                (d / "mm").mkdir()
                for f in ("memory.c", "vmalloc.c"):
                    (d / "mm" / f).write_text("")
                found = kt_findings.collect(
                    t, "head", "w", ["W=1", "C=1"], kt_findings.WARNING,
                    warning_key, ["mm/memory.o", "mm/vmalloc.o"])
                made, dropped = list(compiled), len(drops)
                kt_findings.collect(
                    t, "head", "w", ["W=1", "C=1"], kt_findings.WARNING,
                    warning_key, ["mm/memory.o", "mm/vmalloc.o"])
                # (all kept: nothing made, and build()'s record of what
                # the build directory holds is not dropped)
                self.assertEqual((compiled, len(drops)), (made, dropped))
                self.assertTrue(dropped)
        # (one make of every object in each checkout; the base's compile
        # in the base's own build directory, in at_base())
        self.assertEqual(makes, ["head", "base"])
        self.assertEqual(compiled, [("head", "mm/memory.o", f"O={d}/series/b"),
                                    ("head", "mm/vmalloc.o",
                                     f"O={d}/series/b"),
                                    ("base", "mm/vmalloc.o",
                                     f"O={d}/base/b")])
        # (the prepare step first, in each checkout, with the flags of the
        # compiles (W=1) but without the checker: C=1 would check what it
        # compiles, scripts/mod/empty.c)
        self.assertEqual(prepared, [("head", [f"O={d}/series/b", "W=1"]),
                                    ("base", [f"O={d}/base/b", "W=1"])])
        self.assertEqual(found["base"], {})
        self.assertEqual(list(found["series"]),
                         ["include/linux/x.h: warning: w [-Wx]"])


class CocciEach(unittest.TestCase):
    """coccicheck's findings per script: a script run with --no-includes
    reads only the C file, and a header change does not run it again."""

    def scripts(self, d: Path) -> tuple:
        own = d / "own.cocci"
        own.write_text("// Options: --no-includes --include-headers\n@r@\n")
        inc = d / "inc.cocci"
        inc.write_text("// Options: --include-headers\n@r@\n")
        return str(own), str(inc)

    def test_options_line(self):
        from unittest import mock
        with tempfile.TemporaryDirectory() as d:
            own, inc = self.scripts(Path(d))
            self.assertTrue(kt_findings.no_includes(own))
            self.assertFalse(kt_findings.no_includes(inc))
            with mock.patch.dict("os.environ", {"SPFLAGS": "--all-includes"}):
                self.assertFalse(kt_findings.no_includes(own))
            # (the last of the options that choose the headers holds)
            Path(own).write_text("// Options: --no-includes --all-includes\n")
            self.assertFalse(kt_findings.no_includes(own))
            Path(own).write_text("// Options: --all-includes --no-includes\n")
            self.assertTrue(kt_findings.no_includes(own))

    def test_each_script_is_kept_on_its_own(self):
        """collect() with coccicheck: each script's findings are kept
        under its own key; a header change runs again only the scripts
        that read headers, a change to the C file every one; the make
        runs only the scripts whose findings are not kept (the fake make
        prints what coccicheck with kt_spatch.py would: a line naming
        each script it runs, by its real path, then its reports)."""
        import contextlib
        import os
        import types
        from unittest import mock
        state = {"c": "c1", "h": "h1"}
        ran = []

        def fake_git(*a, **kw):
            if a[0] == "checkout":
                checked_out.append(a[-1])
            return ""

        def fake_inputs(rev, srcs, headers=None):
            return [rev, state["c"], None if headers else state["h"]]

        def fake_run(args, env=None, logf=None, check=True):
            if args[-1] == "prepare":
                return 0, ""
            todo = {os.path.realpath(x)
                    for x in env["KT_SPATCH_SCRIPTS"].split()}
            out = f"  CC      {args[-1]}\n"
            for c in sorted(todo & set(map(os.path.realpath, scripts))):
                ran.append((checked_out[-1], Path(c).name))
                out += (f"{kt_findings.MARK}{c}\n"
                        f"mm/x.c:1:2-3: by {Path(c).stem}\n")
            with open(logf, "a") as f:
                f.write(out)
            return 0, ""

        checked_out = []
        real_cache = kt_findings.Cache
        with tempfile.TemporaryDirectory() as d:
            real = Path(d) / "tree"
            (real / "mm").mkdir(parents=True)
            (real / "mm" / "x.c").write_text("")
            (real / "scripts" / "coccinelle" / "misc").mkdir(parents=True)
            own, inc = (real / "scripts/coccinelle/misc/own.cocci",
                        real / "scripts/coccinelle/inc.cocci")
            own.write_text("// Options: --no-includes --include-headers\n")
            inc.write_text("// Options: --include-headers\n")
            link = Path(d) / "link"     # (the tree by another path)
            link.symlink_to(real)
            scripts = [str(link / "scripts/coccinelle/misc/own.cocci"),
                       str(link / "scripts/coccinelle/inc.cocci")]
            extra = ["C=1", "CHECK=$(srctree)/scripts/coccicheck",
                     "MODE=report"]

            def collect():
                ran.clear()
                with mock.patch.object(kt_findings, "git", fake_git), \
                        mock.patch.object(kt_findings, "run", fake_run), \
                        mock.patch.object(kt_findings, "at_base",
                                          contextlib.nullcontext), \
                        mock.patch.object(kt_findings, "outs",
                                          lambda: Path(d)), \
                        mock.patch.object(kt_findings, "RESULTS", Path(d)), \
                        mock.patch.object(kt_findings, "work", lambda: link), \
                        mock.patch.object(kt_findings, "make_args",
                                          lambda t, o: ["make"]), \
                        mock.patch.object(kt_findings, "make_command",
                                          lambda t, o: ["make"]), \
                        mock.patch.object(kt_findings, "target_key",
                                          lambda t: "t"), \
                        mock.patch.object(kt_findings, "code_inputs",
                                          fake_inputs), \
                        mock.patch.object(kt_findings, "Cache",
                                          lambda n: real_cache(
                                              n, where=Path(d) / "c")):
                    found = kt_findings.collect(
                        types.SimpleNamespace(build="b"), "head", "cocci",
                        extra, kt_findings.COCCI, cocci_key, ["mm/x.o"])
                series = found["series"]
                return (sorted(n for r, n in ran if r == "head"),
                        sorted((k, len(v)) for k, v in series.items()))
            both = [("mm/x.c: by inc", 1), ("mm/x.c: by own", 1)]
            self.assertEqual(collect(), (["inc.cocci", "own.cocci"], both))
            self.assertEqual(collect(), ([], both))
            state["h"] = "h2"           # a header the C file includes
            self.assertEqual(collect(), (["inc.cocci"], both))
            state["c"] = "c2"           # the C file itself
            self.assertEqual(collect(), (["inc.cocci", "own.cocci"], both))
            inc.write_text("// Options: --include-headers\n// changed\n")
            self.assertEqual(collect(), (["inc.cocci"], both))

    def test_objects_that_need_other_scripts_go_to_other_makes(self):
        """collect() with two objects: those that need the same scripts
        go to one make; one whose C file changed (every script) and one
        that only includes a changed header (the scripts that read
        headers) to two, each running only what it needs."""
        import contextlib
        import os
        import types
        from unittest import mock
        state = {"mm/x.c": "c1", "mm/y.c": "c1", "h": "h1"}
        makes, checked_out = [], []

        def fake_git(*a, **kw):
            if a[0] == "checkout":
                checked_out.append(a[-1])
            return ""

        def fake_inputs(rev, srcs, headers=None):
            return [rev, state[srcs[0]], None if headers else state["h"]]

        def fake_run(args, env=None, logf=None, check=True):
            if args[-1] == "prepare":
                return 0, ""
            objs = args[args.index("-j1") + 1:]
            todo = sorted(Path(os.path.realpath(x)).name
                          for x in env["KT_SPATCH_SCRIPTS"].split())
            if checked_out[-1] == "head":
                makes.append((objs, todo))
            out = ""
            for o in objs:
                out += f"  CC      {o}\n"
                for c in env["KT_SPATCH_SCRIPTS"].split():
                    out += (f"{kt_findings.MARK}{c}\n"
                            f"{o[:-2]}.c:1:2-3: by {Path(c).stem}\n")
            with open(logf, "a") as f:
                f.write(out)
            return 0, ""
        real_cache = kt_findings.Cache
        with tempfile.TemporaryDirectory() as d:
            tree = Path(d) / "tree"
            (tree / "mm").mkdir(parents=True)
            for f in ("x.c", "y.c"):
                (tree / "mm" / f).write_text("")
            (tree / "scripts/coccinelle").mkdir(parents=True)
            (tree / "scripts/coccinelle/own.cocci").write_text(
                "// Options: --no-includes --include-headers\n")
            (tree / "scripts/coccinelle/inc.cocci").write_text(
                "// Options: --include-headers\n")

            def collect():
                makes.clear()
                with mock.patch.multiple(
                        kt_findings, git=fake_git, run=fake_run,
                        at_base=contextlib.nullcontext,
                        outs=lambda: Path(d), RESULTS=Path(d),
                        work=lambda: tree,
                        make_args=lambda t, o: ["make"],
                        make_command=lambda t, o: ["make"],
                        target_key=lambda t: "t", code_inputs=fake_inputs,
                        Cache=lambda n: real_cache(n, where=Path(d) / "c")):
                    found = kt_findings.collect(
                        types.SimpleNamespace(build="b"), "head", "cocci",
                        ["C=1", "CHECK=$(srctree)/scripts/coccicheck",
                         "MODE=report"], kt_findings.COCCI, cocci_key,
                        ["mm/x.o", "mm/y.o"])
                return sorted(makes), sorted(found["series"])
            every = ["mm/x.c: by inc", "mm/x.c: by own", "mm/y.c: by inc",
                     "mm/y.c: by own"]
            self.assertEqual(collect(), ([(["mm/x.o", "mm/y.o"],
                                           ["inc.cocci", "own.cocci"])],
                                         every))
            state["mm/x.c"], state["h"] = "c2", "h2"
            self.assertEqual(collect(), ([(["mm/x.o"],
                                           ["inc.cocci", "own.cocci"]),
                                          (["mm/y.o"], ["inc.cocci"])],
                                         every))

    def test_only_the_scripts_to_run(self):
        env = kt_findings.checking({"A": "1"}, ["/s/a.cocci", "/s/b.cocci"])
        self.assertEqual(env["KT_SPATCH_SCRIPTS"], "/s/a.cocci /s/b.cocci")
        self.assertTrue(env["KT_SPATCH"].endswith("spatch"))
        self.assertTrue(env["SPATCH"].endswith("/kt_spatch.py"))
        self.assertEqual(env["A"], "1")
        self.assertEqual(kt_findings.checking({"A": "1"}, [None]), {"A": "1"})

    def test_reports_by_script(self):
        m = kt_findings.MARK
        text = (f"  CC      mm/a.o\n  CHECK   mm/a.c\n{m}/s/a.cocci\n"
                f"mm/a.c:1:2-3: x\n"
                "Skipping coccinelle SmPL patch: /s/c.cocci\n"
                f"{m}/s/b.cocci\nmm/a.c:4:5-6: y\n")
        got = kt_findings.by_check(text, ["/s/a.cocci", "/s/b.cocci",
                                          "/s/c.cocci"], Path("log"))
        self.assertEqual(got, {"/s/a.cocci": "mm/a.c:1:2-3: x\n"
                               "Skipping coccinelle SmPL patch: /s/c.cocci\n",
                               "/s/b.cocci": "mm/a.c:4:5-6: y\n",
                               "/s/c.cocci": ""})
        from kt_common import Fail
        with self.assertRaises(Fail):
            kt_findings.by_check(text, ["/s/a.cocci", "/s/d.cocci"],
                                 Path("log"))
        with self.assertRaises(Fail):       # (a MODE that runs it twice)
            kt_findings.by_check(text + f"{m}/s/a.cocci\n", ["/s/a.cocci"],
                                 Path("log"))

    def test_the_spatch_coccicheck_runs(self):
        """kt_spatch.py runs spatch for a script to run, after a line
        naming it; for another, nothing (and success); --version and
        --help, which coccicheck asks first, go to spatch."""
        import os
        import subprocess
        with tempfile.TemporaryDirectory() as d:
            fake = Path(d) / "spatch"
            fake.write_text('#!/bin/sh\necho "spatch $*"\n')
            fake.chmod(0o755)
            for s in ("a.cocci", "b.cocci"):
                (Path(d) / s).write_text("")
            each = Path(kt_findings.__file__).with_name("kt_spatch.py")
            env = dict(os.environ, KT_SPATCH=str(fake),
                       KT_SPATCH_SCRIPTS=f"{d}/a.cocci")

            def spatch(*args):
                r = subprocess.run([str(each), *args], env=env, cwd=d,
                                   capture_output=True, text=True)
                return r.returncode, r.stdout
            a = os.path.realpath(f"{d}/a.cocci")
            self.assertEqual(
                spatch("-D", "report", "--cocci-file", "a.cocci", "x.c"),
                (0, f"{kt_findings.MARK}{a}\n"
                 "spatch -D report --cocci-file a.cocci x.c\n"))
            self.assertEqual(spatch("--cocci-file", "b.cocci", "x.c"), (0, ""))
            self.assertEqual(spatch("--version"), (0, "spatch --version\n"))


class CheckerEnv(unittest.TestCase):
    def test_spatch_gets_debians_python3(self):
        env = kt_findings.checker_env(
            ["C=1", "CHECK=$(srctree)/scripts/coccicheck", "MODE=report"])
        self.assertTrue(env["PATH"].startswith("/usr/bin:"))

    def test_sparse_runs_as_the_builds_do(self):
        self.assertNotIn("PATH", kt_findings.checker_env(["W=1", "C=1"]))


class Maintainers(unittest.TestCase):
    def test_an_x86_only_posting_goes_to_x86_the_others_to_mm(self):
        import kt_gates
        x86 = "diff --git a/arch/x86/include/asm/pgtable_types.h b/...\n"
        mm = "diff --git a/mm/memory.c b/mm/memory.c\n"
        self.assertEqual(kt_gates.posting_tree([x86]), kt_gates.X86_TREE)
        self.assertEqual(kt_gates.posting_tree([x86, mm]), kt_gates.MM_TREE)
        self.assertEqual(kt_gates.posting_tree([mm]), kt_gates.MM_TREE)
        self.assertEqual(kt_gates.posting_tree([]), kt_gates.MM_TREE)

    def test_history_holds_when_an_earlier_patch_changes(self):
        """get_maintainer.pl's answer for a patch is kept while what it
        reads of the files' history holds: a change to an earlier patch
        (every later commit id changes) keeps it, a new trailer on a
        commit that touches the file does not."""
        import os
        import subprocess
        from unittest import mock
        import kt_gates
        from kt_common import HARNESS_GIT

        with tempfile.TemporaryDirectory() as d:
            env = dict(os.environ, **HARNESS_GIT, GIT_AUTHOR_NAME="a",
                       GIT_AUTHOR_EMAIL="a@b")

            def g(*a):
                subprocess.run(["git", *a], cwd=d, env=env, check=True,
                               capture_output=True)

            def commit(f, text, msg):
                Path(d, f).write_text(text)
                g("add", f)
                g("commit", "-q", "-m", msg)
            g("init", "-q")
            commit("a.c", "1\n", "base")
            g("tag", "base")
            commit("b.c", "1\n", "earlier patch")
            commit("a.c", "2\n", "the patch\n\nSigned-off-by: a <a@b>")
            with mock.patch.object(kt_gates, "work", lambda: Path(d)):
                before = kt_gates.history(["a.c"])
                g("tag", "tip")
                g("checkout", "-q", "base")
                commit("b.c", "2\n", "earlier patch, changed")
                g("cherry-pick", "tip")
                self.assertEqual(kt_gates.history(["a.c"]), before)
                g("commit", "-q", "--amend", "-m",
                  "the patch\n\nSigned-off-by: a <a@b>\nAcked-by: c <c@d>")
                self.assertNotEqual(kt_gates.history(["a.c"]), before)

    def test_a_maintainers_only_patch_asks_about_the_files_it_adds(self):
        import kt_gates
        patch = ("diff --git a/MAINTAINERS b/MAINTAINERS\n"
                 "+F:\tmm/pgalloc-track.h\n F:\tmm/vmalloc.c\n")
        self.assertEqual(kt_gates.maintainers_args(patch),
                         ["-f", "mm/pgalloc-track.h"])
        both = patch + "diff --git a/mm/x.c b/mm/x.c\n"
        self.assertEqual(kt_gates.maintainers_args(both), [])


if __name__ == "__main__":
    unittest.main()
