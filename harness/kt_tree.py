"""The tree: Debian's tarball as one deterministic base commit, the
series applied with git am, and the series exported again."""
import contextlib
import hashlib
import re
import shutil
import threading
import time
from pathlib import Path

from kt_common import (BASE_DATE, BUILD, HARNESS_GIT, KVER, POSTINGS, RANGE,
                       SERIES, SRC, TREE, Fail, checkouts, deb_field, git,
                       log, rel, run, sub_root, work)


def base_tree() -> str:
    """build/src/KVER: Debian's tarball as one deterministic base commit,
    or in tree mode the user's tree at the range's base."""
    if TREE:
        return range_tree()
    pkg = f"linux-source-{KVER}"
    tarball = Path(f"/usr/src/{pkg}.tar.xz")
    if not tarball.exists():
        raise Fail(f"{tarball} is missing: install Debian package {pkg} "
                   "(make deps)")
    version = deb_field(pkg, "Version")
    if base_current():
        return version
    log(f"tree: unpacking {tarball.name} ({pkg} {version}) into {SRC}")
    t0 = time.time()
    shutil.rmtree(SRC, ignore_errors=True)
    for d in checkouts():
        shutil.rmtree(d, ignore_errors=True)
    tmp = BUILD / "src" / "unpack.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    run(["tar", "-xJf", str(tarball), "-C", str(tmp)])
    (tmp / pkg).rename(SRC)
    tmp.rmdir()
    log(f"tree: creating the base commit ({time.time() - t0:.0f}s so far)")
    git("init", "-q", "-b", "series")
    git("config", "gc.auto", "0")
    git("add", "-A", "-f")
    maint = deb_field(pkg, "Maintainer")
    name, email = re.match(r"(.*?)\s*<(.*)>", maint).groups()
    env = {"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email,
           "GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": email,
           "GIT_AUTHOR_DATE": BASE_DATE, "GIT_COMMITTER_DATE": BASE_DATE}
    git("commit", "-q", "--no-gpg-sign", "-m", f"{pkg} {version}", "-m",
        f"Unpacked from {tarball} of Debian package {pkg} {version}.",
        env=env)
    git("tag", "base")
    (SRC / ".git" / "kt-debian-version").write_text(version + "\n")
    log(f"tree: base {git('rev-parse', '--short', 'base')} = {pkg} "
        f"{version} ({time.time() - t0:.0f}s)")
    return version


# Tree mode: the range's head commit in TREE, as range_tree() found it,
# in this file of SERIES.
RANGE_HEAD = ".range-head"


def base_current() -> bool:
    """Is SRC Debian's tarball of the version installed, as base_tree()
    made it?  (Not in tree mode.)"""
    pkg = f"linux-source-{KVER}"
    stamp = SRC / ".git" / "kt-debian-version"
    return not TREE and stamp.exists() and \
        run(["dpkg-query", "-W", "-f=${Version}", pkg],
            check=False)[1].strip() == stamp.read_text().strip() and \
        bool(git("rev-parse", "-q", "--verify", "base", check=False))


def tree_git(*args: str, check: bool = True) -> str:
    return git(*args, cwd=Path(TREE), check=check)


def range_commits() -> tuple:
    """(base, [commits]) of RANGE in TREE, oldest first; a one-line error
    for a tree that is missing, not git, or dirty, a range that does not
    resolve, is empty or has merges."""
    top = Path(TREE)
    if not top.is_dir():
        raise Fail(f"TREE={TREE}: no such directory")
    rc, out = run(["git", "rev-parse", "--git-dir"], cwd=top, check=False)
    if rc:
        # (git's own words: "not a git repository", or "dubious
        # ownership" for a tree of another user's)
        why = (out.strip().splitlines() or ["?"])[0]
        raise Fail(f"TREE={TREE}: not a git tree ({why})")
    # (--no-optional-locks: status would otherwise refresh TREE's index)
    if tree_git("--no-optional-locks", "status", "--porcelain",
                "--untracked-files=no"):
        raise Fail(f"TREE={TREE} has uncommitted changes: commit or stash "
                   "them (the range is read from commits)")
    a, _, b = RANGE.partition("..")
    if not a or not b or "..." in RANGE or ".." in b or \
            a.startswith("-") or b.startswith("-"):
        raise Fail(f"RANGE={RANGE}: not of the form BASE..HEAD")
    for rev in (a, b):
        if not tree_git("rev-parse", "-q", "--verify", f"{rev}^{{commit}}",
                        check=False):
            raise Fail(f"RANGE={RANGE}: '{rev}' is not a commit of {TREE}")
    commits = tree_git("rev-list", "--reverse", RANGE).split()
    if not commits:
        raise Fail(f"RANGE={RANGE}: no commits")
    merges = tree_git("rev-list", "--merges", RANGE).split()
    if merges:
        raise Fail(f"RANGE={RANGE} has merges ({merges[0][:12]} ...): a "
                   "series is a line of commits")
    base = tree_git("rev-parse", f"{commits[0]}^")
    return base, commits


def range_tree() -> str:
    """build/tree/src/KVER: a clone of TREE sharing its objects (TREE is
    never written), with 'base' at the range's base, and build/tree/series/
    the range as patches, which the harness applies as it applies
    series/KVER/ in tarball mode."""
    base, commits = range_commits()
    stamp = SRC / ".git" / "kt-tree"
    want = f"{Path(TREE).resolve()} {base}\n"
    if not (stamp.exists() and stamp.read_text() == want):
        log(f"tree: {TREE} at {base[:12]} (the base of {RANGE}) into "
            f"{rel(SRC)}")
        shutil.rmtree(SRC, ignore_errors=True)
        for d in checkouts():
            shutil.rmtree(d, ignore_errors=True)
        SRC.parent.mkdir(parents=True, exist_ok=True)
        run(["git", "clone", "-q", "--shared", "--no-checkout",
             str(Path(TREE).resolve()), str(SRC)])
        git("config", "gc.auto", "0")
        # (-B: the clone has the tree's branches, perhaps a 'series')
        git("checkout", "-q", "-B", "series", base)
        git("tag", "-f", "base", base)
        stamp.write_text(want)
    shutil.rmtree(SERIES, ignore_errors=True)
    SERIES.mkdir(parents=True)
    git("format-patch", "-q", "--no-signature", "-o", str(SERIES),
        f"{base}..{commits[-1]}")
    # (the head the run tests, whatever the branch does meanwhile; not
    # a patch: patches_in() does not see it)
    (SERIES / RANGE_HEAD).write_text(commits[-1] + "\n")
    log(f"tree: {len(commits)} commits of {RANGE} on "
        f"{commit_subject_in(SRC, base)}")
    return base


def commit_subject_in(tree: Path, c: str) -> str:
    return git("log", "-1", "--format=%s", c, cwd=tree)


def tested(tree: Path) -> dict:
    """What a run tested, as results.json and check.json record it: the
    tree it came from, `make kernelversion` of what is checked out in
    tree, and the base and head commits."""
    head = git("rev-parse", "HEAD", cwd=tree)
    rc, out = run(["make", "-s", "--no-print-directory", "kernelversion"],
                  cwd=tree, check=False)
    base = git("log", "-1", "--format=%s", "base", cwd=tree, check=False)
    return {"tree": f"{Path(TREE).resolve()} {RANGE} (base: {base})"
            if TREE else base or f"linux-source-{KVER}",
            "kernelversion": out.strip() if rc == 0 else "unknown",
            "base": git("rev-parse", "base", cwd=tree),
            "head": head, "head_subject": commit_subject_in(tree, head),
            # (git am makes commits of its own: the range's, in TREE)
            **({"range_head": (SERIES / RANGE_HEAD).read_text().strip()
                if (SERIES / RANGE_HEAD).exists() else "unknown"}
               if TREE else {})}


def patches_in(d: Path) -> list:
    """The patches of a posting directory, or of every posting of a series
    directory (POSTINGS), in the order they apply."""
    d = Path(d)
    postings = [d / p for p in POSTINGS if (d / p).is_dir()]
    if postings:
        return [p for sub in postings for p in patches_in(sub)]
    return sorted(p for p in d.glob("[0-9][0-9][0-9][0-9]-*.patch")
                  if not p.name.startswith("0000-"))


def posting_ends(series: Path) -> list:
    """[(posting, number of patches up to and including its last)]."""
    ends, n = [], 0
    for name in POSTINGS:
        n += len(patches_in(series / name))
        ends.append((name, n))
    return ends


def apply(tree: Path, patches: list, env: dict = None,
          reuse: bool = True) -> list:
    """Check out base plus each patch, git-am'd; name the one that fails.

    With reuse, a patch already applied on the same parent commit is not
    applied again: its commit is kept under refs/kt/am/.  Moving straight
    from one series to the next rewrites only the files that differ, so
    the next build recompiles only those."""
    # (an abort writes a reflog entry: without an identity, on a machine
    # with no git config, it fails and leaves the failed session behind)
    def abort():
        """Undo a failed git am (--quit if even that fails: a failed
        session left behind breaks every later apply)."""
        rc, _ = run(["git", "am", "--abort"], cwd=tree, env=HARNESS_GIT,
                    check=False)
        if rc:
            run(["git", "am", "--quit"], cwd=tree, check=False)
    abort()
    cur = git("rev-parse", "base", cwd=tree)
    commits = []
    for p in patches:
        ref = "refs/kt/am/" + hashlib.sha1(
            cur.encode() + b"\0" + p.read_bytes()).hexdigest()
        done = reuse and git("rev-parse", "-q", "--verify", ref, cwd=tree,
                             check=False)
        if not done:
            git("checkout", "-q", "-f", "--detach", cur, cwd=tree)
            rc, out = run(["git", "am", "-q", str(p)], cwd=tree, env=env,
                          check=False)
            if rc:
                abort()
                files = re.findall(r"^error: (?:patch failed: )?(\S+?):",
                                   out, re.M)
                raise Fail(f"{rel(p)} does not apply to {rel(tree)}: "
                           f"{', '.join(dict.fromkeys(files)) or out.strip()}")
            done = git("rev-parse", "HEAD", cwd=tree)
            if reuse:   # (the other builder may have just kept its own)
                git("update-ref", ref, done, cwd=tree, check=False)
        cur = done
        commits.append(cur)
    git("checkout", "-q", "-f", "--detach", cur, cwd=tree)
    return commits


def patch_notes(text: str) -> str:
    """The "Notes:" that format-patch --notes put below a patch's "---"
    (git am drops them), without their indent."""
    m = re.search(r"^---\n\nNotes:\n((?:    .*\n)+)", text, re.M)
    return "".join(l[4:] for l in m.group(1).splitlines(True)) if m else ""


def tarball_only(what: str) -> None:
    if TREE:
        raise Fail(f"{what} works on series/{KVER}/ and Debian's tarball; "
                   f"with a tree of your own, edit it there")


def cmd_tree() -> None:
    tarball_only("kt.py tree")
    base_tree()
    identity = {} if git("config", "user.email", check=False) else HARNESS_GIT
    if git("status", "--porcelain", "-uno"):
        raise Fail(f"{rel(SRC)} has uncommitted changes: commit or drop them")
    patches = patches_in(SERIES)
    commits = apply(SRC, patches, env=identity, reuse=False)
    # The notes below each patch's "---" (its changelog), back on its
    # commit, and carried along when a rebase rewrites it.
    git("config", "notes.rewriteRef", "refs/notes/commits")
    for c, p in zip(commits, patches):
        notes = patch_notes(p.read_text())
        if notes:
            git("notes", "add", "-f", "-m", notes.rstrip("\n"), c,
                env=identity)
    # A branch marks where each posting but the last ends.
    for name, n in posting_ends(SERIES)[:-1]:
        git("branch", "-f", name, commits[n - 1] if n else "base")
    git("checkout", "-q", "-B", "series")
    marks = ", ".join(f"'{n}'" for n, _ in posting_ends(SERIES)[:-1])
    log(f"tree: {rel(SRC)} is on branch 'series', {len(commits)} patches "
        f"on 'base' (branches {marks} end the postings before the last: "
        "move them with the commits); edit, commit, then 'make export'")


# The revision on the list: no list has seen this series yet, so its first
# posting is "[PATCH 01/10]" (the earlier revisions were reviewed here).
def subject_prefix() -> str:
    """"PATCH", or what series/KVER/subject-prefix says ("PATCH 6.1.y": a
    port to a stable tree)."""
    f = SERIES / "subject-prefix"
    return f.read_text().strip() if f.exists() else "PATCH"


def cmd_export() -> None:
    tarball_only("kt.py export")
    if not git("rev-parse", "-q", "--verify", "base", check=False):
        raise Fail(f"no tree in {rel(SRC)}: run 'make tree' first")
    start = "base"
    for name in POSTINGS:
        end = name if name != POSTINGS[-1] else "HEAD"
        if not git("rev-parse", "-q", "--verify", end, check=False):
            raise Fail(f"no branch '{name}' in {rel(SRC)}: run 'make tree'")
        export_posting(SERIES / name, f"{start}..{end}")
        start = end


def export_posting(d: Path, revs: str, tree: Path = SRC) -> None:
    """d/: the commits revs as patches, its cover letter's text kept (a
    posting of one patch has none: its notes say what a cover would)."""
    cover = d / "0000-cover-letter.patch"
    old = cover.read_text() if cover.exists() else ""
    tmp = BUILD / "export.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    one = git("rev-list", "--count", revs, cwd=tree) == "1"
    git("format-patch", "-q", *([] if one else ["--cover-letter"]),
        "--notes", f"--subject-prefix={subject_prefix()}", "-o", str(tmp),
        revs, cwd=tree)
    if old and not one:     # keep the cover letter's subject and text
        new = tmp / "0000-cover-letter.patch"
        new.write_text(keep_cover(old, new.read_text()))
    for p in d.glob("*.patch"):
        p.unlink()
    d.mkdir(parents=True, exist_ok=True)
    for p in sorted(tmp.iterdir()):
        shutil.move(str(p), d / p.name)
    tmp.rmdir()
    n = len(patches_in(d))
    log(f"export: {n} patch{'es + cover letter' if n > 1 else ''} in "
        f"{rel(d)}")


def mail_subject(text: str) -> str:
    """A patch file's subject without its "[PATCH v2 03/11]" prefix, its
    folded continuation lines joined."""
    m = re.search(r"^Subject: (?:\[[^\]]*\] )?(.*(?:\n .*)*)", text, re.M)
    return re.sub(r"\n ", " ", m.group(1)) if m else ""


def keep_cover(old: str, new: str) -> str:
    """New cover letter: old subject and body, new shortlog/diffstat/base."""
    def parts(text):
        hdr, _, body = text.partition("\n\n")
        return hdr, body
    old_hdr, old_body = parts(old)
    new_hdr, new_body = parts(new)
    # The subject's text, under the new "[PATCH 0/N]" prefix.
    subj = re.search(r"^Subject: \[[^\]]*\] (.*(?:\n .*)*)", old_hdr, re.M)
    new_hdr = re.sub(r"^(Subject: \[[^\]]*\] ).*(?:\n .*)*",
                     lambda m: m.group(1) + subj.group(1),
                     new_hdr, flags=re.M) if subj else new_hdr
    # The text a human wrote ends where git's shortlog starts.
    text = re.split(r"\n(?=\S.* \(\d+\):\n)", old_body, maxsplit=1)[0]
    generated = re.split(r"\n(?=\S.* \(\d+\):\n)", new_body, maxsplit=1)
    return f"{new_hdr}\n\n{text}\n{generated[1] if len(generated) > 1 else ''}"


_worktrees = threading.Lock()   # (prune must not race another's add)


def is_worktree_of_src(w: Path) -> bool:
    """Is w a checkout that git has of SRC, under that name?  (One left
    from an earlier SRC may point at git's record of another checkout,
    which reuses the name, and move that one's HEAD.)"""
    try:
        gitdir = Path((w / ".git").read_text().split("gitdir:", 1)[1]
                      .strip())
        return gitdir.parent == SRC / ".git" / "worktrees" and \
            Path((gitdir / "gitdir").read_text().strip()) == w / ".git"
    except (OSError, IndexError):
        return False


def worktree() -> Path:
    """The harness's checkout, separate from the tree a developer edits."""
    with _worktrees:
        if not is_worktree_of_src(work()):
            shutil.rmtree(work(), ignore_errors=True)
            git("worktree", "prune")
            log(f"tree: checking out a work tree in {rel(work())}")
            git("worktree", "add", "-q", "--detach", str(work()), "base")
    return work()


@contextlib.contextmanager
def at_base():
    """The body works on the base in a checkout and build directories of
    its own (root()/base/, see sub_root()), which stay at the base: the
    series' checkout never goes back to it (the x86 fix's header, which
    nearly every object includes, would be written again)."""
    with sub_root("base"):
        git("checkout", "-q", "-f", "--detach", "base", cwd=worktree())
        yield


def commit_subject(c: str) -> str:
    return git("log", "-1", "--format=%s", c, cwd=work())
