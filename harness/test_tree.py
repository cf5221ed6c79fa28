"""make selftest: applying patches with git am, on a small repository of
its own, as on a machine with no git identity configured."""
import os
import subprocess
import tempfile
import threading
import unittest
from pathlib import Path
from unittest import mock

import kt_common
import kt_tree
from kt_common import Fail

NO_IDENTITY = {"GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1",
               "HOME": "/nonexistent", "EMAIL": ""}


def sh(cwd, *cmd, env=None):
    return subprocess.run(cmd, cwd=cwd, check=True, capture_output=True,
                          text=True, env=dict(os.environ, **(env or {})))


class Apply(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        d = self.d = Path(self.tmp.name)
        who = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t.invalid",
               "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t.invalid"}
        sh(d, "git", "init", "-q", "-b", "main", "repo")
        repo = self.repo = d / "repo"
        (repo / "a.c").write_text("one\ntwo\nthree\n")
        sh(repo, "git", "add", "a.c")
        sh(repo, "git", "commit", "-q", "-m", "base", env=who)
        sh(repo, "git", "tag", "base")
        (repo / "a.c").write_text("one\n2\nthree\n")
        sh(repo, "git", "commit", "-q", "-am", "good: two is 2", env=who)
        sh(repo, "git", "format-patch", "-q", "-1", "-o", str(d), env=who)
        self.good = next(d.glob("0001-*.patch"))
        self.bad = d / "bad.patch"
        self.bad.write_text(self.good.read_text().replace("-two", "-zwei"))
        sh(repo, "git", "checkout", "-q", "--detach", "base")
        env = mock.patch.dict(os.environ, NO_IDENTITY)
        env.start()
        self.addCleanup(env.stop)
        self.addCleanup(self.tmp.cleanup)

    def test_a_patch_that_does_not_apply_is_named_with_its_file(self):
        with self.assertRaisesRegex(Fail, r"bad.patch does not apply to .*: "
                                    r"a\.c"):
            kt_tree.apply(self.repo, [self.bad], env={
                "GIT_COMMITTER_NAME": "h", "GIT_COMMITTER_EMAIL": "h@h"})

    def test_the_next_apply_works_after_a_failed_one(self):
        committer = {"GIT_COMMITTER_NAME": "h", "GIT_COMMITTER_EMAIL": "h@h"}
        with self.assertRaises(Fail):
            kt_tree.apply(self.repo, [self.bad], env=committer)
        commits = kt_tree.apply(self.repo, [self.good], env=committer)
        self.assertEqual(len(commits), 1)
        self.assertEqual((self.repo / "a.c").read_text(), "one\n2\nthree\n")
        # and again, reused from refs/kt/am/
        self.assertEqual(kt_tree.apply(self.repo, [self.good],
                                       env=committer), commits)


class AtBase(Apply):
    """at_base(): the body works in a checkout and build directories of
    the base's own (root()/base/), and the harness's checkout stays with
    the series, so that its next build recompiles nothing."""

    def test(self):
        def git(*a, cwd=self.repo, **kw):
            return kt_common.git(*a, cwd=cwd, **kw)
        build = self.d / "build"
        committer = {"GIT_COMMITTER_NAME": "h", "GIT_COMMITTER_EMAIL": "h@h"}
        with mock.patch.object(kt_common, "BUILD", build), \
                mock.patch.object(kt_common, "SECOND", build / "builder2"), \
                mock.patch.object(kt_tree, "SRC", self.repo), \
                mock.patch.object(kt_tree, "git", git):
            work = kt_tree.worktree()
            kt_tree.apply(work, [self.good], env=committer)
            stamp = (work / "a.c").stat().st_mtime_ns
            with kt_tree.at_base():
                base = build / "base" / "work" / kt_common.KVER
                self.assertEqual(kt_common.work(), base)
                self.assertEqual(kt_common.outs(), build / "base" / "out")
                self.assertEqual((base / "a.c").read_text(),
                                 "one\ntwo\nthree\n")
                with kt_tree.at_base():         # (nested: the same)
                    self.assertEqual(kt_common.work(), base)
            self.assertEqual(kt_common.work(), work)
            self.assertEqual((work / "a.c").read_text(), "one\n2\nthree\n")
            self.assertEqual((work / "a.c").stat().st_mtime_ns, stamp)
            head = git("rev-parse", "HEAD", cwd=work)

            # The second builder's base is its own.
            def second():
                kt_common.second_builder()
                with kt_tree.at_base():
                    seen.append(kt_common.work())
            seen: list = []
            t = threading.Thread(target=second)
            t.start()
            t.join()
            self.assertEqual(seen, [build / "builder2" / "base" / "work" /
                                    kt_common.KVER])

            # A base checkout left from an earlier SRC, whose git record
            # is now another checkout's, is made again, not used (a
            # checkout there would move the other's HEAD).
            (base / ".git").write_text(f"gitdir: {self.repo}/.git/"
                                       f"worktrees/{work.name}\n")
            self.assertFalse(kt_tree.is_worktree_of_src(base))
            with kt_tree.at_base():
                self.assertTrue(kt_tree.is_worktree_of_src(base))
            self.assertEqual(git("rev-parse", "HEAD", cwd=work), head)


class Export(Apply):
    """make export: a posting of one patch has no cover letter (its notes
    say what one would); a longer one keeps its cover letter's text."""

    def test_one_patch_no_cover_letter_two_patches_the_text_kept(self):
        who = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t.invalid",
               "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t.invalid"}
        sh(self.repo, "git", "checkout", "-q", "main")
        (self.repo / "a.c").write_text("one\n2\n3\n")
        sh(self.repo, "git", "commit", "-q", "-am", "good: three is 3",
           env=who)
        out = self.d / "series"
        with mock.patch.object(kt_tree, "BUILD", self.d), \
                mock.patch.object(kt_tree, "SERIES", out):
            kt_tree.export_posting(out / "one", "base..main~1", self.repo)
            self.assertEqual([p.name for p in (out / "one").iterdir()],
                             ["0001-good-two-is-2.patch"])
            (out / "two").mkdir()
            (out / "two" / "0000-cover-letter.patch").write_text(
                "Subject: [PATCH 0/9] the old subject\n\nOur text.\n")
            kt_tree.export_posting(out / "two", "base..main", self.repo)
            cover = (out / "two" / "0000-cover-letter.patch").read_text()
        self.assertIn("Subject: [PATCH 0/2] the old subject", cover)
        self.assertIn("Our text.", cover)
        self.assertIn("good: three is 3", cover)        # the new shortlog


class Subject(unittest.TestCase):
    def test_a_folded_subject_is_joined_and_its_prefix_dropped(self):
        text = ("From x\nSubject: [PATCH v2 09/11] mm: add KUnit tests for "
                "the page-table tracking\n helpers and the sync\n\nbody\n")
        self.assertEqual(kt_tree.mail_subject(text), "mm: add KUnit tests "
                         "for the page-table tracking helpers and the sync")
        self.assertEqual(kt_tree.mail_subject("Subject: x: y\n"), "x: y")


def new_repo(t: Path) -> Path:
    """An empty git repository at t, on branch master."""
    t.mkdir()
    sh(t, "git", "init", "-q", "-b", "master")
    return t


class Range(unittest.TestCase):
    """Tree mode: a range of a git tree of the user's, checked before any
    work; one-line errors for what cannot be tested."""
    WHO = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t.invalid",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t.invalid"}

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        t = self.t = new_repo(Path(self.tmp.name) / "linux")
        (t / "Makefile").write_text("VERSION = 6\nPATCHLEVEL = 1\n")
        self.commit("base")
        sh(t, "git", "tag", "v6.1")
        for n in ("one", "two"):
            (t / f"{n}.c").write_text(n + "\n")
            self.commit(n)

    def tearDown(self):
        self.tmp.cleanup()

    def commit(self, msg):
        sh(self.t, "git", "add", "-A")
        sh(self.t, "git", "commit", "-q", "-m", msg, env=self.WHO)

    def commits(self, rng, tree=None):
        with mock.patch.object(kt_tree, "TREE", str(tree or self.t)), \
                mock.patch.object(kt_tree, "RANGE", rng):
            return kt_tree.range_commits()

    def rev(self, r):
        return sh(self.t, "git", "rev-parse", r).stdout.strip()

    def test_the_base_is_the_first_commits_parent(self):
        base, commits = self.commits("v6.1..master")
        self.assertEqual(base, self.rev("v6.1"))
        self.assertEqual(commits, [self.rev("master~1"), self.rev("master")])

    def test_errors(self):
        for rng, tree, msg in (
                ("v6.1..master", "/nonexistent", "no such directory"),
                ("v6.1..master", self.tmp.name, "not a git tree"),
                ("v6.1", None, "not of the form BASE..HEAD"),
                ("v6.1...master", None, "not of the form BASE..HEAD"),
                ("v6.1..nope", None, "'nope' is not a commit"),
                ("master..v6.1", None, "no commits")):
            with self.subTest(rng=rng, tree=tree), \
                    self.assertRaisesRegex(Fail, msg):
                self.commits(rng, tree)

    def test_a_dirty_tree(self):
        (self.t / "one.c").write_text("changed\n")
        with self.assertRaisesRegex(Fail, "uncommitted changes"):
            self.commits("v6.1..master")

    def test_merges(self):
        sh(self.t, "git", "checkout", "-q", "-b", "side", "v6.1")
        (self.t / "side.c").write_text("side\n")
        self.commit("side")
        sh(self.t, "git", "checkout", "-q", "master")
        sh(self.t, "git", "merge", "-q", "--no-edit", "side", env=self.WHO)
        with self.assertRaisesRegex(Fail, "has merges"):
            self.commits("v6.1..master")

    def test_the_version_comes_from_the_ranges_head(self):
        import kt
        sh(self.t, "git", "checkout", "-q", "-b", "newer")
        (self.t / "Makefile").write_text("VERSION = 6\nPATCHLEVEL = 12\n")
        self.commit("newer")
        self.assertEqual(kt.tree_kver(str(self.t), "v6.1..master"), "6.1")
        self.assertEqual(kt.tree_kver(str(self.t), "v6.1..newer"), "6.12")
        # (a range that does not resolve: the files checked out; its
        # error comes later)
        self.assertEqual(kt.tree_kver(str(self.t), "v6.1..nope"), "6.12")
        with self.assertRaisesRegex(Fail, "no Makefile"):
            kt.tree_kver(self.tmp.name, "v6.1..master")

    def test_the_tree_cloned_at_the_base_and_the_range_as_patches(self):
        # the tree is on a branch of the name the clone uses
        sh(self.t, "git", "checkout", "-q", "-b", "series")
        d = Path(self.tmp.name)
        src, series = d / "build" / "src" / "6.1", d / "build" / "series"
        with mock.patch.object(kt_tree, "TREE", str(self.t)), \
                mock.patch.object(kt_tree, "RANGE", "v6.1..master"), \
                mock.patch.object(kt_tree, "SRC", src), \
                mock.patch.object(kt_tree, "SERIES", series), \
                mock.patch.object(kt_tree, "BUILD", d / "build"), \
                mock.patch.object(kt_common, "BUILD", d / "build"), \
                mock.patch.object(kt_common, "SECOND", d / "build" / "b2"), \
                mock.patch.object(kt_tree, "git",
                                  lambda *a, cwd=src, **k: sh(
                                      cwd, "git", *a).stdout.strip()):
            base = kt_tree.range_tree()
        self.assertEqual(base, self.rev("v6.1"))
        self.assertEqual(sh(src, "git", "rev-parse", "base").stdout.strip(),
                         base)
        self.assertEqual(sorted(p.name[5:] for p in series.iterdir()
                                if p.name != kt_tree.RANGE_HEAD),
                         ["one.patch", "two.patch"])
        self.assertEqual((series / kt_tree.RANGE_HEAD).read_text(),
                         self.rev("master") + "\n")
        # the user's tree is as it was
        self.assertEqual(sh(self.t, "git", "status", "--porcelain").stdout,
                         "")


class Tested(unittest.TestCase):
    """What results.json and check.json record as tested: the tree (the
    Debian package, or TREE and RANGE), make kernelversion, base, head."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        t = self.t = new_repo(Path(self.tmp.name) / "src")
        (t / "Makefile").write_text("kernelversion:\n\t@echo 6.1.192\n")
        for msg in ("linux-source-6.1 6.1.192-3", "mm: one"):
            sh(t, "git", "commit", "-q", "--allow-empty", "-m", msg,
               env=Range.WHO)
            if msg.startswith("linux"):
                sh(t, "git", "tag", "base")

    def tearDown(self):
        self.tmp.cleanup()

    def rev(self, r):
        return sh(self.t, "git", "rev-parse", r).stdout.strip()

    def test_a_tarball(self):
        with mock.patch.object(kt_tree, "TREE", ""):
            w = kt_tree.tested(self.t)
        self.assertEqual(w, {"tree": "linux-source-6.1 6.1.192-3",
                             "kernelversion": "6.1.192",
                             "base": self.rev("base"),
                             "head": self.rev("HEAD"),
                             "head_subject": "mm: one"})

    def test_a_tree_names_the_range_and_its_head_in_the_tree(self):
        series = Path(self.tmp.name) / "series"
        series.mkdir()
        (series / kt_tree.RANGE_HEAD).write_text("c0ffee\n")
        with mock.patch.object(kt_tree, "TREE", "/home/me/linux"), \
                mock.patch.object(kt_tree, "RANGE", "v6.1..mine"), \
                mock.patch.object(kt_tree, "SERIES", series):
            w = kt_tree.tested(self.t)
        self.assertEqual(w["tree"], "/home/me/linux v6.1..mine (base: "
                         "linux-source-6.1 6.1.192-3)")
        self.assertEqual(w["range_head"], "c0ffee")
        self.assertEqual(w["head"], self.rev("HEAD"))


if __name__ == "__main__":
    unittest.main()
