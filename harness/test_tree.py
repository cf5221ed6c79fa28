"""make selftest: applying patches with git am, on a small repository of
its own, as on a machine with no git identity configured."""
import os
import subprocess
import tempfile
import unittest
from pathlib import Path
from unittest import mock

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


class Subject(unittest.TestCase):
    def test_a_folded_subject_is_joined_and_its_prefix_dropped(self):
        text = ("From x\nSubject: [PATCH v2 09/11] mm: add KUnit tests for "
                "the page-table tracking\n helpers and the sync\n\nbody\n")
        self.assertEqual(kt_tree.mail_subject(text), "mm: add KUnit tests "
                         "for the page-table tracking helpers and the sync")
        self.assertEqual(kt_tree.mail_subject("Subject: x: y\n"), "x: y")


if __name__ == "__main__":
    unittest.main()
