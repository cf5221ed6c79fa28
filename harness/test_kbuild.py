"""make selftest: what keys the results about how the series' objects
compile (kt_kbuild.code_inputs), on a small repository of its own."""
import os
import re
import subprocess
import tempfile
import unittest
from pathlib import Path
from unittest import mock

import kt_cache
import kt_gates
import kt_kbuild
from kt_common import Fail

WHO = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t.invalid",
       "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t.invalid",
       "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1"}


class ATree(unittest.TestCase):
    """A scratch git tree, tagged base, and the key (inputs()) under test
    as self.before."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        r = self.repo = Path(self.tmp.name)
        for f in ("mm/memory.c", "mm/vmalloc.c", "mm/pgalloc-track.h",
                  "mm/other.c", "mm/Kconfig", "scripts/mod/x.c",
                  "kernel/bounds.c", "tools/objtool/check.c",
                  "lib/used.c", "lib/user.c",
                  "Documentation/mm/vmalloc.rst", "MAINTAINERS",
                  "Documentation/Kconfig", "tools/testing/k.h",
                  "tools/testing/t.sh", "scripts/coccinelle/a.cocci",
                  "include/linux/kconfig.h", "scripts/coccicheck"):
            (r / f).parent.mkdir(parents=True, exist_ok=True)
            (r / f).write_text(f"{f}\n")
        self.git("init", "-q", "-b", "main")
        self.git("add", ".")
        self.git("commit", "-q", "-m", "base")
        self.git("tag", "base")
        for name, new in (("work", lambda: self.repo),
                          ("Cache", lambda n: kt_cache.Cache(n, r / "c"))):
            patch = mock.patch.object(kt_kbuild, name, new)
            patch.start()
            self.addCleanup(patch.stop)
        self.before = self.inputs()

    def git(self, *args):
        subprocess.run(["git", *args], cwd=self.repo, check=True,
                       capture_output=True, env=dict(os.environ, **WHO))

    def inputs(self):
        """The key under test (none here: PatchBuilds needs the tree
        only)."""
        return None

    def change(self, f, text="changed\n"):
        (self.repo / f).write_text(text)
        self.git("commit", "-q", "-am", f"change {f}")
        return self.inputs()

    def keep(self, *files):
        """A change to each of files keeps the key."""
        for f in files:
            with self.subTest(f):
                self.assertEqual(self.change(f, f"{f} changed\n"),
                                 self.before)

    def move(self, *files):
        """A change to each of files, on its own, changes the key."""
        for f in files:
            with self.subTest(f):
                before = self.inputs()
                self.assertNotEqual(self.change(f, f"{f} changed\n"),
                                    before)



class CodeInputs(ATree):
    def inputs(self):
        return kt_kbuild.code_inputs("HEAD", ["mm/memory.c", "mm/vmalloc.c"])

    def test_the_content_not_only_the_name(self):
        self.change("mm/vmalloc.c", "a\n")
        before = self.inputs()
        self.assertNotEqual(self.change("mm/vmalloc.c", "b\n"), before)

    def test_changes_that_cannot_reach_the_objects_keep_the_key(self):
        self.keep("mm/other.c", "Documentation/mm/vmalloc.rst",
                  "MAINTAINERS", "tools/testing/t.sh",
                  "scripts/coccinelle/a.cocci")

    def test_changes_that_can_reach_them_change_it(self):
        self.move("mm/memory.c", "mm/vmalloc.c", "mm/pgalloc-track.h",
                  "mm/Kconfig", "scripts/mod/x.c", "kernel/bounds.c",
                  "tools/objtool/check.c", "Documentation/Kconfig")

    def test_a_rename_is_not_a_copy(self):
        self.git("mv", "mm/pgalloc-track.h", "mm/track.h")
        self.git("commit", "-q", "-m", "rename")
        renamed = self.inputs()
        self.git("checkout", "-q", "base", "--", "mm/pgalloc-track.h")
        self.git("commit", "-q", "-m", "copy")
        self.assertNotEqual(self.inputs(), renamed)

    def test_a_c_file_the_base_includes_reaches_them(self):
        (self.repo / "lib/user.c").write_text('#include "other.c"\n')
        self.git("commit", "-q", "-am", "include other.c")
        self.git("tag", "-f", "base")
        before = self.inputs()
        self.assertNotEqual(self.change("mm/other.c"), before)

    def test_a_c_file_that_a_header_includes_reaches_them(self):
        self.change("mm/pgalloc-track.h", '#include "other.c"\n')
        with_include = self.inputs()
        self.assertNotEqual(self.change("mm/other.c", "changed\n"),
                            with_include)


class BuildInputs(ATree):
    """build_inputs(), build()'s key of the tree: a change to what no
    build reads keeps it (a fixture that changes only test_vmalloc.sh
    boots the series' kernel); a change to any other file, any C file in
    mm/ too, does not."""
    def inputs(self):
        return kt_kbuild.build_inputs("HEAD")

    test_the_content_not_only_the_name = \
        CodeInputs.test_the_content_not_only_the_name

    def test_what_no_build_reads_keeps_it(self):
        self.keep("Documentation/mm/vmalloc.rst", "MAINTAINERS",
                  "tools/testing/t.sh", "scripts/coccinelle/a.cocci")

    def test_what_a_build_reads_changes_it(self):
        self.move("mm/other.c", "mm/memory.c", "mm/pgalloc-track.h",
                  "Documentation/Kconfig", "tools/objtool/check.c",
                  "tools/testing/k.h")


class HeadersRead(ATree):
    """code_inputs(headers=...): for what reads no header but those
    (spatch --no-includes), a change to another header keeps the key;
    to one of those, to the C file or to how it is run does not."""
    def inputs(self):
        return kt_kbuild.code_inputs("HEAD", ["mm/memory.c"],
                                     headers=("include/linux/kconfig.h",))

    def test_another_header_keeps_it(self):
        self.assertEqual(self.change("mm/pgalloc-track.h"), self.before)

    def test_the_c_file_those_headers_and_the_scripts_change_it(self):
        self.move("mm/memory.c", "include/linux/kconfig.h",
                  "scripts/coccicheck")


class KconfigInputs(ATree):
    """kconfig_inputs(), the key of the configs kconfig() keeps: a change
    to a Kconfig file or to scripts/ (kconfig's programs) changes it, a
    local one too; a change to what only compiles read (the header's
    generator) or no build reads keeps it."""
    def inputs(self):
        return kt_kbuild.kconfig_inputs()

    def test_what_only_compiles_read_keeps_it(self):
        self.keep("mm/memory.c", "mm/pgalloc-track.h",
                  "tools/objtool/check.c", "MAINTAINERS",
                  "Documentation/mm/vmalloc.rst")

    def test_what_kconfig_reads_changes_it(self):
        self.move("mm/Kconfig", "Documentation/Kconfig", "scripts/mod/x.c")

    def test_a_local_change_too(self):
        (self.repo / "mm/Kconfig").write_text("config NEW\n")
        self.assertNotEqual(self.inputs(), self.before)

    def test_a_local_change_to_a_c_file_keeps_it(self):
        (self.repo / "mm/memory.c").write_text("changed\n")
        self.assertEqual(self.inputs(), self.before)

    def test_makefiles_and_config_fragments_change_it(self):
        for f in ("mm/Makefile", "arch/x86/configs/tiny.config"):
            with self.subTest(f):
                before = self.inputs()
                (self.repo / f).parent.mkdir(parents=True, exist_ok=True)
                (self.repo / f).write_text(f"{f}\n")
                self.git("add", f)
                self.git("commit", "-q", "-m", f"add {f}")
                self.assertNotEqual(self.inputs(), before)


class KconfigMadeOnce(unittest.TestCase):
    """kconfig(): the config of a fragment, Kconfig files and toolchain is
    made once (tinyconfig, the fragment merged, olddefconfig) and written
    from then on, in any build directory, if make's syncconfig leaves it
    as it was; another fragment, target, Kconfig file or toolchain, or a
    syncconfig that changes it (the host changed), makes it again.  Only
    the KEPT_CONFIGS last used are kept.  A symbol of the fragment the
    tree does not know is said, on either path."""

    def test(self):
        makes, inputs, tools, host = [], ["kconfig-1"], ["gcc 12"], [""]
        said = []

        def fake_run(args, env=None, logf=None, cwd=None, check=True):
            makes.append(Path(args[-1]).name)
            odir = Path(next((a[2:] for a in args if a.startswith("O=")),
                             args[-2] if len(args) > 1 else "."))
            if args[-1] == "olddefconfig":      # (what the dance makes)
                (odir / ".config").write_text(
                    f"{inputs[0]} {tools[0]}{host[0]}\n")
            if args[-1] == "syncconfig" and host[0]:
                with open(odir / ".config", "a") as f:
                    f.write(host[0])
            return 0, ""
        with tempfile.TemporaryDirectory() as d, mock.patch.multiple(
                kt_kbuild, run=fake_run, work=lambda: Path(d),
                kconfig_inputs=lambda: inputs[0],
                tool_versions=lambda *a: tools[0],
                unmet=lambda frag, config: [], kconfig_symbols=set,
                series_options=str, CONFIGS=Path(d) / "c", KEPT_CONFIGS=3,
                log=said.append):
            t = mock.Mock(build="x", arch="x86_64", cross_compile="",
                          kconfig="", defconfig="tinyconfig")
            t.name = "x"
            logf = Path(d) / "log"

            def made(where):
                """Did kconfig() in build directory where make the config
                (not write one made before)?"""
                n = len(makes)
                kt_kbuild.kconfig(t, Path(d) / where, logf)
                return "olddefconfig" in makes[n:]
            self.assertTrue(made("o1"))
            self.assertEqual(makes, ["tinyconfig", "kt.fragment.in",
                                     "olddefconfig"])
            said.clear()
            self.assertFalse(made("o2"))
            self.assertEqual(makes[-1], "syncconfig")
            self.assertEqual(len(said), 1)      # (kconfig_symbols: none)
            self.assertIn("left out of the config", said[0])
            self.assertEqual((Path(d) / "o2/.config").read_text(),
                             "kconfig-1 gcc 12\n")
            self.assertEqual((Path(d) / "o2/kt.fragment").read_text(),
                             (Path(d) / "o1/kt.fragment").read_text())
            n = len(makes)
            self.assertFalse(made("o2"))    # (kt.fragment: nothing to do)
            self.assertEqual(len(makes), n)
            self.assertEqual(logf.read_text().count("not made again"), 1)
            inputs[0] = "kconfig-2"
            self.assertTrue(made("o3"))
            self.assertEqual((Path(d) / "o3/.config").read_text(),
                             "kconfig-2 gcc 12\n")
            tools[0] = "gcc 13"
            self.assertTrue(made("o4"))
            for change in ({"kconfig": "CONFIG_X=y\n"}, {"arch": "i386"},
                           {"cross_compile": "x-"},
                           {"defconfig": "defconfig"}):
                with self.subTest(change):
                    for k, v in change.items():
                        setattr(t, k, v)
                    self.assertTrue(made(f"o5{len(makes)}"))
                    self.assertFalse(made(f"o6{len(makes)}"))
            host[0] = " pahole 1.24"        # (what syncconfig probes)
            self.assertTrue(made("o7"))
            self.assertIn("changed the config made before", logf.read_text())
            self.assertEqual(len(list((Path(d) / "c").glob("*.config"))), 3)
            # (the last used are kept: x86_64's, made first and used since,
            # outlives i386's, made after it)
            host[0] = ""
            t.cross_compile, t.defconfig, t.kconfig = "", "tinyconfig", ""

            def make(arch, when):
                t.arch = arch
                self.assertTrue(made(f"o-{arch}-{when}"))
                for c in (Path(d) / "c").glob("*.config"):
                    if c.stat().st_mtime > 1000:        # (just made)
                        os.utime(c, (when, when))
            for c in (Path(d) / "c").glob("*.config"):
                os.utime(c, (1, 1))
            make("x86_64", 10)
            make("i386", 20)
            make("arm", 30)
            t.arch = "x86_64"
            self.assertFalse(made("o-x86_64-used"))
            make("arm64", 40)
            t.arch = "x86_64"
            self.assertFalse(made("o-x86_64-kept"))
            t.arch = "i386"
            self.assertTrue(made("o-i386-pruned"))


class KunitConfigs(unittest.TestCase):
    """kunit_diffs(): the =m and unset build directories' .config is
    written and olddefconfig'd only when its text or what kconfig reads
    changes (each time, it ran syncconfig again for nothing), and a
    CONFIG_KUNIT that did not survive is an error, never a comparison of
    y with y, after which the directory is made again."""

    def test(self):
        makes, drop, inputs, fail, checkouts = [], [], ["kconfig-1"], [], []
        same = "add/remove: 0/0 grow/shrink: 0/0 up/down: 0/0 (0)"

        def fake_run(args, env=None, logf=None, check=True):
            kdir = Path(next(a[2:] for a in args if a.startswith("O=")))
            makes.append((kdir.name, args[-1]))
            if fail and args[-1] == "olddefconfig":
                raise Fail(fail.pop())
            if drop and args[-1] == "olddefconfig":   # (drops the option)
                (kdir / ".config").write_text(drop[0])
            return 0, ""
        with tempfile.TemporaryDirectory() as d, mock.patch.multiple(
                kt_gates, run=fake_run, outs=lambda: Path(d),
                objs_at=lambda *a: Path(d), bloat=lambda a, b: (0, same),
                kconfig_inputs=lambda: inputs[0], log=lambda *a: None,
                git=lambda *a, cwd=None: checkouts.append(a[-1])), \
                mock.patch.object(kt_kbuild, "work", lambda: Path(d)):
            t = mock.Mock(build="x", arch="x86_64", cross_compile="")
            cfg = "CONFIG_KUNIT=y\nCONFIG_MMU=y\n"
            logf = Path(d) / "log"

            def diffs(cfg=cfg):
                makes.clear()
                return kt_gates.kunit_diffs(t, "HEAD", Path(d), cfg, logf)[1]
            self.assertEqual(diffs(), [])
            self.assertEqual(checkouts, ["HEAD"])   # (kept objects or not)
            self.assertEqual(makes, [
                ("x-kunit-m", "olddefconfig"), ("x-kunit-m", "mm/memory.o"),
                ("x-kunit-n", "olddefconfig"), ("x-kunit-n", "mm/memory.o")])
            m = Path(d) / "x-kunit-m" / ".config"
            self.assertEqual(m.read_text(), "CONFIG_KUNIT=m\nCONFIG_MMU=y\n")
            self.assertEqual((Path(d) / "x-kunit-n" / ".config").read_text(),
                             "# CONFIG_KUNIT is not set\nCONFIG_MMU=y\n")
            os.utime(m, (1, 1))
            diffs()
            self.assertEqual(m.stat().st_mtime, 1)      # (not written)
            self.assertNotIn("olddefconfig", {a for _, a in makes})
            inputs[0] = "kconfig-2"                     # (a Kconfig edit)
            diffs()
            self.assertIn(("x-kunit-m", "olddefconfig"), makes)
            diffs(cfg + "CONFIG_X=y\n")
            self.assertIn("CONFIG_X=y", m.read_text())
            self.assertIn(("x-kunit-n", "olddefconfig"), makes)
            # (an olddefconfig that fails leaves no marker: the next run
            # makes the config again)
            fail.append("olddefconfig failed")
            with self.assertRaisesRegex(Fail, "olddefconfig failed"):
                diffs(cfg + "CONFIG_Y=y\n")
            self.assertFalse((Path(d) / "x-kunit-m/kt.config-made").exists())
            diffs(cfg + "CONFIG_Y=y\n")
            self.assertIn(("x-kunit-m", "olddefconfig"), makes)
            for kdir, left in (("x-kunit-m", "CONFIG_KUNIT=y\n"),
                               ("x-kunit-n", "CONFIG_KUNIT=m\n")):
                with self.subTest(kdir):
                    drop[:] = [left]
                    inputs[0] += "+"
                    with self.assertRaisesRegex(Fail, "did not survive"):
                        diffs()
                    self.assertFalse(
                        (Path(d) / kdir / "kt.config-made").exists())
                    drop.clear()
                    diffs()         # (made again, not taken as made)
                    self.assertIn((kdir, "olddefconfig"), makes)


class PatchBuilds(ATree):
    """gate_patch: a patch that changes only what no compile reads is not
    built, and says so; any other is built."""

    def gate(self):
        rec, built = [], []
        objs = Path(self.tmp.name) / "objs"
        (objs / "mm").mkdir(parents=True, exist_ok=True)
        (objs / "mm" / "memory.o").write_text("o")
        with mock.patch.object(kt_gates, "work", lambda: self.repo), \
                mock.patch.object(kt_gates, "objs_at", lambda *a: objs), \
                mock.patch.object(kt_gates, "kept_objs",
                                  lambda t, sha: objs.parent / sha), \
                mock.patch.object(kt_gates, "build",
                                  lambda *a: built.append(1)), \
                mock.patch.object(kt_gates, "keep_objs", lambda *a: None), \
                mock.patch.object(kt_gates, "bloat",
                                  lambda a, b: (0, "")), \
                mock.patch.object(kt_gates, "commit_subject",
                                  lambda c: "subject"):
            t = mock.Mock(build="x")
            kt_gates.gate_patch(t, 1, "HEAD", 1, Path("o"), Path("l"),
                                lambda *a: rec.append(a))
        return rec, built

    def test_a_docs_only_patch_is_a_skip(self):
        self.change("Documentation/mm/vmalloc.rst")
        rec, built = self.gate()
        self.assertEqual((rec[0][1], built), ("skip", []))
        self.assertIn("Documentation/mm/vmalloc.rst, which no compile reads",
                      rec[0][2])
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=self.repo,
                             capture_output=True, text=True).stdout.strip()
        self.assertTrue((Path(self.tmp.name) / sha / "mm/memory.o").exists())

    def test_a_maintainers_only_patch_is_a_skip(self):
        self.change("MAINTAINERS")
        rec, built = self.gate()
        self.assertEqual((rec[0][1], built), ("skip", []))

    def test_a_kconfig_patch_in_the_docs_is_built(self):
        self.change("Documentation/Kconfig")
        rec, built = self.gate()
        self.assertEqual((rec[0][1], built), ("pass", [1]))

    def test_a_patch_to_code_is_built(self):
        self.change("Documentation/mm/vmalloc.rst")
        self.change("mm/memory.c")
        rec, built = self.gate()
        self.assertEqual((rec[0][1], built), ("pass", [1]))


class BuiltOnce(unittest.TestCase):
    """build(): a build directory that holds the build of this tree,
    config and target is not built again; another tree, another config or
    any other make in the directory is."""

    def test(self):
        makes, tree = [], ["tree-1"]

        def fake_run(args, env=None, logf=None, check=True):
            if "modules_install" not in args:
                makes.append(args)
            return 0, ""

        def fake_git(*a, cwd=None):     # (the same whole tree each time)
            return "tree" if a[0] == "rev-parse" else ""
        with tempfile.TemporaryDirectory() as d:
            odir, logf = Path(d) / "o", Path(d) / "log"
            odir.mkdir()
            logf.write_text("")
            (odir / ".config").write_text("CONFIG_X=y\n")
            (odir / "bzImage").write_text("kernel")
            t = mock.Mock(build="x", arch="x86_64", cross_compile="",
                          image="bzImage")
            # (the key of the tree checked out: HEAD's)
            inputs = {"HEAD": lambda: tree[0]}
            with mock.patch.multiple(kt_kbuild, run=fake_run, git=fake_git,
                                     build_inputs=lambda r: inputs[r](),
                                     kconfig=lambda *a: None,
                                     require=lambda *a, **kw: None,
                                     work=lambda: Path(d)):
                def built_again():
                    n = len(makes)
                    kt_kbuild.build(t, odir, logf)
                    return len(makes) > n
                self.assertTrue(built_again())
                self.assertFalse(built_again())
                self.assertIn("make not run again", logf.read_text())
                kt_kbuild.make_args(t, odir)    # (any other make there)
                self.assertTrue(built_again())
                tree[0] = "tree-2"
                self.assertTrue(built_again())
                (odir / ".config").write_text("CONFIG_X=n\n")
                self.assertTrue(built_again())
                self.assertFalse(built_again())


class EveryMakeDropsTheRecord(unittest.TestCase):
    """build() does not run make where kt.built says that the directory
    holds this build, so every other make in a build directory must go
    through make_args(), which drops it.  The makes written out elsewhere
    run where build() never builds: one more fails here."""

    def test(self):
        written_out = {"kt_kbuild.py": 1,   # make_command()
                       "kt_gates.py": 1,    # htmldocs, in out/docs-LABEL/
                       "kt_guest.py": 1,    # headers_install, for nolibc
                       "kt_tree.py": 1}     # make kernelversion, no O=
        here = Path(kt_kbuild.__file__).parent
        for f in sorted(here.glob("kt*.py")):
            n = len(re.findall(r'\[\s*"make"', f.read_text()))
            self.assertEqual(n, written_out.get(f.name, 0), f.name)


class KernelDoc(unittest.TestCase):
    def test_without_wall_where_the_tree_has_none(self):
        calls = []

        def run(args, **kw):
            calls.append(args)
            return (1, "Argument unknown!\nUsage: kernel-doc [-Werror]") \
                if "-Wall" in args else (0, "x.h:1: warning: w\n")
        with mock.patch.object(kt_gates, "run", run), \
                mock.patch.object(kt_gates, "work", lambda: Path(".")):
            self.assertEqual(kt_gates.kernel_doc(["x.h"]), "x.h:1: warning: w\n")
        self.assertEqual([("-Wall" in c) for c in calls], [True, False])


class SeriesOptions(unittest.TestCase):
    PATCH = """\
diff --git a/mm/Kconfig.debug b/mm/Kconfig.debug
@@ -309,3 +309,12 @@ config PER_VMA_LOCK_STATS
 	  If in doubt, say N.
+
+config PGALLOC_TRACK_KUNIT_TEST
+	bool "KUnit tests" if !KUNIT_ALL_TESTS
+	depends on KUNIT=y && MMU
+
+config NOT_A_TEST
+	bool "an option"
+	depends on MMU
+	help
+	  depends on KUNIT (in its help text)
diff --git a/mm/Kconfig b/mm/Kconfig
@@ -1,3 +1,6 @@
+config MM_KUNIT_TEST
+	tristate "mm/tests/ (6.15 and later)" if !KUNIT_ALL_TESTS
+	depends on KUNIT
 config OTHER
diff --git a/mm/foo.c b/mm/foo.c
+config IN_C_FILE
+	depends on KUNIT
"""

    def test_the_kunit_options_a_series_adds(self):
        self.assertEqual(kt_kbuild.kunit_options(self.PATCH),
                         ["PGALLOC_TRACK_KUNIT_TEST", "MM_KUNIT_TEST"])

    def test_they_are_set_from_the_series_directory(self):
        with tempfile.TemporaryDirectory() as d:
            (Path(d) / "track").mkdir()
            (Path(d) / "track" / "0001-x.patch").write_text(self.PATCH)
            (Path(d) / "track" / "0000-cover-letter.patch").write_text(
                self.PATCH.replace("MM_KUNIT", "COVER"))
            with mock.patch.object(kt_kbuild, "SERIES", Path(d)):
                self.assertEqual(kt_kbuild.series_options(),
                                 "CONFIG_PGALLOC_TRACK_KUNIT_TEST=y\n"
                                 "CONFIG_MM_KUNIT_TEST=y\n")


class BisectAll(unittest.TestCase):
    def test_only_all_is_taken(self):
        for value, want in (("", False), ("all", True)):
            with mock.patch.dict(os.environ, {"KT_BISECT": value}):
                self.assertEqual(kt_gates.bisect_all(), want)
        with mock.patch.dict(os.environ, {"KT_BISECT": "yes"}), \
                self.assertRaisesRegex(Fail, "KT_BISECT=yes: the only value"):
            kt_gates.bisect_all()


class Unsupported(unittest.TestCase):
    """A target the base tree cannot build (no arch/ for it, a symbol it
    requires is gone) is named with the reason, to be skipped."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        r = self.repo = Path(self.tmp.name)
        for f, text in (("arch/x86/Kconfig", "config X86_64\n"),
                        ("arch/x86/Kconfig.cpu", "menuconfig X86_PAE\n"),
                        ("arch/arm/Kconfig", "config ARM\n")):
            (r / f).parent.mkdir(parents=True, exist_ok=True)
            (r / f).write_text(text)
        env = dict(os.environ, **WHO)
        for cmd in (["init", "-q"], ["add", "-A"],
                    ["commit", "-q", "-m", "base"], ["tag", "base"],
                    # (after the base: not what is asked)
                    ["rm", "-q", "arch/x86/Kconfig.cpu"],
                    ["commit", "-q", "-m", "gone"]):
            subprocess.run(["git", *cmd], cwd=r, env=env, check=True)

    def why(self, name):
        import kt_targets
        return kt_kbuild.unsupported(kt_targets.load(name), self.repo)

    def test_what_the_base_has_is_built(self):
        self.assertEqual(self.why("x86_64"), "")
        self.assertEqual(self.why("i386-pae"), "")

    def test_no_arch_directory(self):
        self.assertEqual(self.why("arm64"),
                         "the tree has no arch/arm64/ (ARCH=arm64)")

    def test_no_base(self):
        subprocess.run(["git", "tag", "-d", "base"], cwd=self.repo,
                       check=True, capture_output=True)
        with self.assertRaisesRegex(Fail, "rev-parse"):
            self.why("x86_64")

    def test_a_required_symbol_gone(self):
        self.assertEqual(self.why("arm32-lpae"), "the tree has no "
                         "CONFIG_ARM_LPAE, which the target requires")


if __name__ == "__main__":
    unittest.main()
