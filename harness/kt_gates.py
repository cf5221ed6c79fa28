"""The gates: what a maintainer's robots check before a series is read.
Each records "pass", "fail" or "skip" lines through record(name, result,
detail, secs) and fails only on what is new against the base tree."""
import json
import os
import re
import shutil
import time
from pathlib import Path
from concurrent.futures import Executor, Future
from typing import Callable, Optional

import kt_findings
import kt_lava
from kt_bundle import INITRD, make_bundle
from kt_cache import Cache, cache_key
from kt_common import (BUILD, BUILD_ENV, FAIL, HARNESS_GIT, PASS, RESULTS,
                       SKIP, SPATCH, TOP, Fail, Record, git, log, outs, rel,
                       require, run, tool_versions, work)
from kt_findings import COCCI, WARNING
from kt_results import SILENT_SCRIPT
from kt_guest import added_kunit_suites, initramfs_root, vmalloc_cases
from kt_job import Replay, boot_files
from kt_kbuild import (CODE_OBJS, bloat, build, code_inputs, compiled,
                       kconfig, kconfig_inputs, keep_objs, kept_objs,
                       make_args, objs_at)
from kt_targets import Target
from kt_targets import key as target_key
from kt_tree import apply, at_base, commit_subject, mail_subject, worktree


def ok(flag: bool) -> str:
    return PASS if flag else FAIL


# ------------------------------------------------------ every patch builds

def bisect_all() -> bool:
    """KT_BISECT=all: every patch builds on its own on every target, the
    full proof that the bisect targets stand for."""
    every = os.environ.get("KT_BISECT", "")
    if every not in ("", "all"):
        raise Fail(f"KT_BISECT={every}: the only value it takes is 'all'")
    return every == "all"


def gate_builds(t: Target, patches: list, record: Record) -> str:
    """Each patch builds on its own; no-change patches keep the code size.
    Returns the series' last commit."""
    bisect_all()
    name = t.build
    odir = outs() / name
    logf = RESULTS / f"{name}-bisect.log"
    logf.unlink(missing_ok=True)
    commits = apply(worktree(), patches, env=HARNESS_GIT)
    # A tree that passed before, with the same config and harness, is not
    # built again: touching one patch rebuilds it and the ones after it.
    cache = Cache(name)
    config_base(t, logf)
    if not t.bisect and not bisect_all():
        return series_builds(t, commits[-1], odir, logf, cache, record)
    for i, c in enumerate(commits, 1):
        key = cache_key(git("rev-parse", f"{c}^{{tree}}", cwd=work()),
                        target_key(t))
        if cache.get(key) is not None:
            for n, res, d in cache.get(key):
                record(n.replace("{i}", str(i))
                       + " (cached: this tree passed before)", res, d)
            continue
        found: list = []

        def rec(n, res, d="", secs=None):
            found.append((n, res, d))
            record(n.replace("{i}", str(i)), res, d, secs)
        gate_patch(t, i, c, len(commits), odir, logf, rec)
        if all(res in (PASS, SKIP) for _, res, _ in found):
            cache.put(key, found)
    return commits[-1]


def series_builds(t: Target, head: str, odir: Path, logf: Path,
                  cache: Cache, record: Record) -> str:
    """A target without bisect: the whole series builds (each patch builds
    on its own on the targets with bisect = True)."""
    name = f"{t.build}: the series builds (each patch: on the bisect targets)"
    key = cache_key("series", git("rev-parse", f"{head}^{{tree}}",
                                  cwd=work()), target_key(t))
    if cache.get(key) is not None:
        record(f"{name} (cached: this tree passed before)", PASS)
        return head
    s = time.time()
    git("checkout", "-q", "-f", "--detach", head, cwd=work())
    log(f"{t.build}: building the series ...")
    build(t, odir, logf)
    # (a fixture's code size is compared with these)
    keep_objs(t, git("rev-parse", head, cwd=work()), odir)
    record(name, PASS, commit_subject(head), time.time() - s)
    cache.put(key, [])
    return head


def config_base(t: Target, logf: Path) -> None:
    """The base's build directory, configured: the gates compile the
    objects they compare there (W=1 and sparse, coccicheck), and the base
    is built whole only where it boots (a target whose series fails)."""
    with at_base():
        kconfig(t, outs() / t.build, logf)


def gate_patch(t: Target, i: int, c: str, n: int, odir: Path,
               logf: Path, record: Record) -> None:
    """Patch i (commit c) builds, and what it does to the code size of
    CODE_OBJS against the patch before it (the base, for patch 1) is
    recorded.  A patch that says "No functional change" must not grow
    it."""
    s = time.time()
    subj = commit_subject(c)
    nfc = "No functional change" in git("log", "-1", "--format=%b", c,
                                        cwd=work())
    before = objs_at(t, f"{c}^", odir, logf)
    files = [f for f in git("-c", "core.quotePath=false", "diff",
                            "--no-renames", "--name-only", "-z", f"{c}^", c,
                            cwd=work()).split("\0") if f]
    if files and not any(map(compiled, files)):
        # (the tree builds as the one before it does: its objects are those)
        shutil.copytree(before, kept_objs(t, git("rev-parse", c, cwd=work())),
                        dirs_exist_ok=True)
        record(f"{t.build}: patch {{i}} builds", SKIP,
               f"{subj}: it changes only {', '.join(files)}, which no "
               "compile reads: the tree builds as the one before it does")
        return
    git("checkout", "-q", "-f", "--detach", c, cwd=work())
    log(f"{t.build}: building patch {i}/{n}: {subj}")
    try:
        build(t, odir, logf)
    except Fail as e:
        record(f"{t.build}: patch {{i}} builds ({subj})", FAIL, str(e),
               time.time() - s)
        return
    record(f"{t.build}: patch {{i}} builds", PASS, subj, time.time() - s)
    # A shrink is shown (compilers reallocate registers) but passes.
    sizes = [(o,) + bloat(before / o, odir / o) for o in CODE_OBJS]
    keep_objs(t, git("rev-parse", c, cwd=work()), odir)  # for the next one
    against = "the base" if i == 1 else "the patch before"
    delta = ", ".join(f"{o} {d:+d}" for o, d, _ in sizes)
    if not nfc:
        record(f"{t.build}: patch {{i}} code size (bloat-o-meter against "
               f"{against}: {delta})", PASS,
               "\n".join(txt for _, _, txt in sizes))
        return
    grown = [f"{o}: {d:+d} bytes\n{txt}" for o, d, txt in sizes if d > 0]
    record(f"{t.build}: patch {{i}} does not grow the code (bloat-o-meter "
           f"against {against}: {delta})", ok(not grown), "\n".join(grown))


# ------------------------------------------- no test code in the kernel

KUNIT_OFF = {"m": "CONFIG_KUNIT=m", "n": "# CONFIG_KUNIT is not set"}
SAME = re.compile(r"add/remove: 0/0 grow/shrink: 0/0 ")


def config_of(odir: Path) -> str:
    """The .config of a build, which a gate's result depends on."""
    try:
        return (odir / ".config").read_text()
    except FileNotFoundError:
        raise Fail(f"{rel(odir)} has no .config: its build failed "
                   "before kconfig") from None


def kunit_diffs(t: Target, head: str, odir: Path, cfg: str,
                logf: Path) -> tuple:
    """([size deltas], [bloat-o-meter's text where they differ]) of
    CODE_OBJS at head built with CONFIG_KUNIT=y (the build in odir, whose
    .config is cfg) against =m and unset."""
    with_y = objs_at(t, head, odir, logf)
    # (kept objects check nothing out: the =m and unset builds, and the
    # Kconfig files their marker holds, are head's)
    git("checkout", "-q", "-f", "--detach", head, cwd=work())
    diffs, sizes = [], []
    for mode, line in KUNIT_OFF.items():
        kdir = outs() / f"{t.build}-kunit-{mode}"
        kdir.mkdir(parents=True, exist_ok=True)
        # (made again only when the text or what kconfig reads changes: an
        # olddefconfig and the syncconfig after it, for nothing, at each
        # run otherwise)
        text = re.sub(r"^CONFIG_KUNIT=y$", line, cfg, flags=re.M)
        made, key = kdir / "kt.config-made", cache_key(text, kconfig_inputs())
        log(f"{t.build}: building {' '.join(CODE_OBJS)} with "
            f"CONFIG_KUNIT={mode} ...")
        if not (made.exists() and made.read_text() == key
                and (kdir / ".config").exists()):
            made.unlink(missing_ok=True)
            (kdir / ".config").write_text(text)
            run(make_args(t, kdir) + ["olddefconfig"], env=BUILD_ENV,
                logf=logf)
            made.write_text(key)
        run(make_args(t, kdir) + CODE_OBJS, env=BUILD_ENV, logf=logf)
        if not re.search(rf"^{line}$", config_of(kdir), re.M):
            made.unlink()           # (made from text: not what it asks)
            raise Fail(f"{t.build}: CONFIG_KUNIT={mode} did not survive "
                       f"olddefconfig in {rel(kdir)}: nothing to compare")
        for o in CODE_OBJS:
            d, txt = bloat(kdir / o, with_y / o)
            sizes.append(f"{o} y-{mode} {d:+d}")
            if not SAME.search(txt):
                diffs.append(f"{o}: CONFIG_KUNIT=y against ={mode}:\n{txt}")
    return sizes, diffs


def gate_kunit(t: Target, head: str, record: Record) -> None:
    """Tests must not put code into the kernel they test: CODE_OBJS of the
    tree at head, built with CONFIG_KUNIT=y (as the targets are), =m (as
    distributions ship it) and not set, have the same symbols and sizes
    (bloat-o-meter).  A KUnit hook in __pmd_alloc(), for example, sits on
    the page-fault path of every kernel built with KUnit."""
    odir = outs() / t.build
    logf = RESULTS / f"{t.build}-kunit.log"
    logf.unlink(missing_ok=True)
    cfg = config_of(odir)
    if not re.search(r"^CONFIG_KUNIT=y$", cfg, re.M):
        raise Fail(f"{t.build}: the build has no CONFIG_KUNIT=y to compare")
    # (what bloat-o-meter says is a fact about these sources, kept like a
    # checker's findings, failing or not, while what they compile from
    # holds: touching the KUnit suite does not build them three times)
    cache = Cache(f"{t.build}-kunit")
    key = cache_key(target_key(t), cfg, code_inputs(
        head, [o[:-2] + ".c" for o in CODE_OBJS]))
    found, cached = cache.get(key), ""
    if found is None:
        found = kunit_diffs(t, head, odir, cfg, logf)
        cache.put(key, found)
    else:
        cached = " (cached: what they compile from is unchanged)"
    sizes, diffs = found
    record(f"{t.build}: CONFIG_KUNIT=y, =m and unset compile "
           f"{' and '.join(CODE_OBJS)} alike (bloat-o-meter: "
           + ", ".join(sizes) + ")" + cached, ok(not diffs),
           "\n".join(diffs))


# ------------------------------------------------------------- checkpatch

def gate_checkpatch(patches: list, record: Record) -> None:
    """checkpatch --strict; a finding passes only if tests/ allows it."""
    # (checkpatch quietly drops its SPDX checks when spdxcheck.py cannot
    # import its modules)
    require("perl", py=("ply", "git"))
    allow = [l.split(" | ", 1) for l in
             (TOP / "tests" / "checkpatch.allow").read_text().splitlines()
             if " | " in l and not l.startswith("#")]
    # (a patch's findings hold while it and what checkpatch reads of the
    # tree do: touching one patch checks one)
    cache = Cache("checkpatch")
    tree = [git("rev-parse", f"HEAD:{f}", cwd=work()) for f in
            ("scripts", "MAINTAINERS", "include", "LICENSES",
             "Documentation/devicetree/bindings")] + [tool_versions("perl")]
    for p in patches:
        key = cache_key(p.read_text(), tree)
        found = cache.get(key)
        if found is None:
            # (Debian's python3 first: spdxcheck.py needs its python3-ply.)
            rc, out = run(["perl", str(work() / "scripts/checkpatch.pl"),
                           "--strict", "--terse", "--no-summary", str(p)],
                          cwd=work(), check=False,
                          env={"PATH": "/usr/bin:" + os.environ["PATH"]})
            found = [l.split(": ", 1)[1] for l in out.splitlines()
                     if ": " in l]
            # (exit 1 with findings, 0 without: anything else is checkpatch
            # failing, never a clean patch)
            if rc not in (0, 1) or (rc == 1) != bool(found):
                record(f"checkpatch --strict {p.name}", FAIL,
                       f"checkpatch.pl exited {rc}:\n{out[-2000:]}")
                continue
            cache.put(key, found)
        subj = mail_subject(p.read_text())
        new = [f for f in found if not any(
            subj.startswith(a) and f.startswith(b) for a, b in allow)]
        note = f" ({len(found) - len(new)} allowed, see " \
            "tests/checkpatch.allow)" if len(found) != len(new) else ""
        record(f"checkpatch --strict {p.name}{note}", ok(not new),
               "\n".join(new))


# ------------------------------------------------ W=1, sparse, coccicheck

def gate_new_findings(t: Target, head: str, record: Record, what: str,
                      extra: list, pattern: re.Pattern, fmt: Callable,
                      since: str = "base") -> None:
    """make with extra arguments on the objects the series (or the
    patches since a commit) touches, in base and at head: fail on
    findings the base does not have, naming the patch of each."""
    if any("coccicheck" in a for a in extra):
        require(*SPATCH["cmds"], files=SPATCH["files"])
    else:
        require("sparse")
    objs = kt_findings.touched_at(t, head, since)
    if not objs:
        record(f"{t.build}: {what}", SKIP,
               "the series touches no object this target builds")
        return
    s = time.time()
    slug = re.sub(r"\W+", "-", what.split(" (")[0]).strip("-").lower()
    try:
        found = kt_findings.collect(t, head, slug, extra, pattern, fmt, objs,
                                    since)
    except kt_findings.MakeFailed as e:
        label, logf = e.args
        record(f"{t.build}: {what} build of {label}", FAIL,
               f"make failed, see {rel(logf)}")
        return
    new = [f"{k} (x{n}; from {kt_findings.blame(head, where)})" for k, n, where
           in kt_findings.compare(found["base"], found["series"])]
    n_base = sum(map(len, found["base"].values()))
    record(f"{t.build}: {what} on {' '.join(objs)}: {len(new)} new "
           f"({n_base} in {'base' if since == 'base' else 'the series'}, "
           "where the objects with findings at head have them)",
           ok(not new), "\n".join(new),
           time.time() - s)


def gate_warnings(t: Target, head: str, record: Record) -> None:
    """W=1 + sparse on what the series touches: nothing new.  Each
    object's findings are kept on their own: a patch that touches only
    the KUnit suite checks that object again, not mm/memory.o and
    mm/vmalloc.o."""
    gate_new_findings(t, head, record, "W=1 + sparse", ["W=1", "C=1"],
                      WARNING, lambda f, m: f"{f}: {m.group(3)}: "
                      f"{m.group(4)}")


def gate_cocci(t: Target, head: str, record: Record, since: str = "base",
               cocci: Path = None) -> None:
    """make coccicheck MODE=report (every script, the series' own too, or
    only the script cocci) on the files the series touches: nothing new."""
    def key(f, m):      # "preceding lock on line 1138": lines move
        return f + ": " + re.sub(r"\b[0-9]+\b", "N", m.group(3))
    gate_new_findings(t, head, record, "coccicheck MODE=report"
                      + (f" COCCI={Path(cocci).name}" if cocci else ""),
                      # (the script of the checkout that make runs in)
                      ["C=1", "CHECK=$(srctree)/scripts/coccicheck",
                       "MODE=report"] + ([f"COCCI={cocci}"] if cocci else []),
                      COCCI, key, since)


# ------------------------------------------------------------------ docs

def kernel_doc(srcs: list) -> str:
    """kernel-doc -none -Wall on srcs, in the work tree: what it printed.
    6.1's kernel-doc has no -Wall ("Argument unknown!", and its usage,
    whose "-Werror" would count as a warning in both trees, so that the
    gate could not fail): it runs without, with the warnings it prints
    by default."""
    for opts in (["-Wall"], []):
        rc, out = run(["perl", "scripts/kernel-doc", "-none", *opts, *srcs],
                      cwd=work(), check=False)
        if "Argument unknown" not in out:
            return out
    raise Fail(f"scripts/kernel-doc rejects its arguments: {out[:200]}")


def docs_warnings(rev: str, srcs: list) -> dict:
    """{warning without its line number: [(file, None)]} of kernel-doc
    -Wall on srcs and 'make SPHINXDIRS=mm htmldocs' at rev."""
    git("checkout", "-q", "-f", "--detach", rev, cwd=work())
    present = [f for f in srcs if (work() / f).exists()]
    kdoc = kernel_doc(present) if present else ""
    label = "base" if rev == "base" else "series"
    out = outs() / f"docs-{label}"
    shutil.rmtree(out, ignore_errors=True)
    logf = RESULTS / f"htmldocs-{label}.log"
    logf.unlink(missing_ok=True)
    rc, _ = run(["make", "-C", str(work()), f"O={out}", "SPHINXDIRS=mm",
                 "htmldocs"], logf=logf, check=False)
    if rc:
        raise Fail(f"htmldocs ({label}) failed, see {rel(logf)}")
    found: dict = {}
    for l in kdoc.splitlines() + logf.read_text().splitlines():
        l = l.replace(str(work()) + "/", "")
        if re.search(r"warning|error", l, re.I) and \
                "dot(1) not found" not in l:
            f = re.match(r"(\S+?):", l)
            where = (f.group(1), None) if f and \
                (work() / f.group(1)).is_file() else ("", None)
            found.setdefault(re.sub(r":\d+:", ":", l), []).append(where)
    return found


def gate_docs(head: str, record: Record) -> None:
    """kernel-doc -Wall and 'make SPHINXDIRS=mm htmldocs': nothing new,
    naming the patch that brought each new warning.  (kernel-doc reports
    the line of the declaration, not of the comment that is wrong: the
    patch named is the last to change the file.)"""
    require("perl", "sphinx-build")
    touched = git("diff", "--name-only", "base", head, cwd=work()).split()
    srcs = [f for f in touched if f.endswith((".c", ".h"))]
    s = time.time()
    # The base's warnings change only with the base, the files looked at
    # and the tools.
    cache = Cache("docs-base")
    key = cache_key(git("rev-parse", "base^{tree}", cwd=work()), srcs,
                    tool_versions("sphinx-build", "perl"))
    what = "kernel-doc + htmldocs (SPHINXDIRS=mm)"
    try:
        base = cache.get(key)
        if base is None:
            with at_base():
                base = docs_warnings("base", srcs)
            cache.put(key, base)
        series = docs_warnings(head, srcs)
    except Fail as e:
        record(what, FAIL, str(e), time.time() - s)
        return
    new = kt_findings.compare(base, series)
    named = [f"{k} (x{n}; from {kt_findings.last_change(head, where[0])})"
             if where[0] else f"{k} (x{n})" for k, n, where in new]
    record(f"{what}: {sum(n for _, n, _ in new)} new warnings "
           f"({sum(map(len, base.values()))} in base)", ok(not new),
           "\n".join(named), time.time() - s)


# --------------------------------------------------- headers, maintainers

def gate_header(t: Target, head: str, record: Record) -> None:
    """Touched headers compile alone; pgalloc-track.h stays inside mm/."""
    git("checkout", "-q", "-f", "--detach", head, cwd=work())
    touched = git("diff", "--name-only", "base", head, cwd=work()).split()
    # (a header that compiled holds while what it compiles from does, and
    # the symbols the kernel exports to the module)
    cache = Cache(f"{t.build}-hdrtest")
    odir = outs() / t.build
    symvers = odir / "Module.symvers"
    inputs = [config_of(odir), code_inputs(head, []),
              symvers.read_text() if symvers.exists() else ""]
    for h in (f for f in touched if f.endswith(".h")):
        what = f"{h} compiles as the first include ({t.name})"
        key = cache_key(target_key(t), inputs, h)
        if cache.get(key) is not None:
            record(f"{what} (cached: what it compiles from is unchanged)",
                   PASS)
            continue
        d = BUILD / "hdrtest"
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir(parents=True)
        (d / "Kbuild").write_text("obj-m := hdrtest.o\n")
        (d / "hdrtest.c").write_text(
            f'#include "{work() / h}"\n#include <linux/module.h>\n'
            'MODULE_LICENSE("GPL");\n')
        logf = RESULTS / "hdrtest.log"
        logf.unlink(missing_ok=True)
        rc, _ = run(make_args(t, odir) + [f"M={d}", "modules"],
                    env=BUILD_ENV, logf=logf, check=False)
        record(what, ok(rc == 0), f"see {rel(logf)}" if rc else "")
        if rc == 0:
            cache.put(key, [])
    users = git("grep", "-l", "-E", r'#\s*include\s*[<"].*pgalloc-track\.h',
                cwd=work(), check=False).split()
    outside = [u for u in users if not u.startswith("mm/")]
    record("mm/pgalloc-track.h is included only inside mm/ ("
           + ", ".join(users) + ")", ok(not outside), "\n".join(outside))


# ------------------------------------------------------------------ tags

# The header whose functions a reader looks up with tags.
TAGGED_HEADER = "mm/pgalloc-track.h"


def tagged(rev: str) -> dict:
    """{name: kind} of the tags that 'make tags' (scripts/tags.sh, with
    its own ctags options and regexes) gives TAGGED_HEADER at rev.  Its
    file list is cut down to the header (COMPILED_SOURCE=1 reads it from
    the *.cmd files where it runs: one names the header), so this takes
    a second instead of a full 'make tags'."""
    git("checkout", "-q", "-f", "--detach", rev, cwd=work())
    header = work() / TAGGED_HEADER
    d = BUILD / "tagtest"
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir(parents=True)
    (d / "header.cmd").write_text(f"deps_header := \\\n  {header} \\\n\n")
    run(["bash", str(work() / "scripts/tags.sh"), "tags"], cwd=d,
        env={"COMPILED_SOURCE": "1", "KBUILD_ABS_SRCTREE": "1",
             "srctree": str(work()), "SRCARCH": "x86", "ARCH": "x86_64"})
    out = {}
    for l in (d / "tags").read_text(errors="replace").splitlines():
        f = l.split("\t")
        if len(f) > 3 and f[1] == str(header):
            out[f[0]] = f[3]
    return out


def gate_tags(head: str, record: Record) -> None:
    """Every function that 'make tags' finds in TAGGED_HEADER on the base
    is found at head too, where a generator macro defines it."""
    require("ctags")
    # (its functions and function-like macros: not the include guard)
    with at_base():
        base_tags = tagged("base")
    want = sorted(n for n, kind in base_tags.items()
                  if kind in "fd" and not n.startswith("_"))
    got = tagged(head)
    missing = [n for n in want if n not in got]
    record(f"make tags finds {', '.join(want)} in {TAGGED_HEADER}",
           ok(want and not missing),
           f"not tagged: {', '.join(missing)}" if missing else
           ("" if want else "no function tagged on the base"))


def maintainers_args(text: str) -> list:
    """What to ask get_maintainer.pl about a patch: the patch itself, or,
    for one that only edits MAINTAINERS, the files its new F: lines name
    (get_maintainer.pl sends a MAINTAINERS patch to nobody in particular,
    but it goes to the maintainers of the entry it changes)."""
    files = re.findall(r"^diff --git a/(\S+)", text, re.M)
    paths = re.findall(r"^\+F:\s+(\S+)", text, re.M)
    if files == ["MAINTAINERS"] and paths:
        return [a for f in paths for a in ("-f", f)]
    return []


# Where a posting is sent: the x86 tree for one that changes only
# arch/x86/, else the mm tree.
X86_TREE = ["x86@kernel.org"]
MM_TREE = ["akpm@linux-foundation.org", "linux-mm@kvack.org"]


def posting_tree(texts: list) -> list:
    """The list and maintainers a posting of these patches must reach."""
    files = [f for t in texts for f in re.findall(r"^diff --git a/(\S+)",
                                                  t, re.M)]
    return X86_TREE if files and all(f.startswith("arch/x86/")
                                     for f in files) else MM_TREE


def history(files: list) -> list:
    """What get_maintainer.pl's git fallback reads of the history of files
    at HEAD (git log --since=1-year-ago --no-merges): the base's commits,
    and of the series' what it counts (authors, trailers, lines changed),
    not their ids, which a change to an earlier patch changes."""
    since = ["--since=1-year-ago", "--no-merges"]
    return [git("log", *since, "--format=%H", "base", "--", *files,
                cwd=work()),
            git("log", *since, "--numstat", "--format=%an <%ae>%n%B",
                "base..HEAD", "--", *files, cwd=work())]


def gate_maintainers(head: str, patches: list, record: Record) -> None:
    """get_maintainer.pl names somebody for every patch, and the patches
    of each posting (the directory a patch is in) together reach the tree
    it is sent to (posting_tree()).  (A patch to x86, kselftest or
    Documentation/ alone names their maintainers, not mm's: in an mm
    posting it reaches linux-mm with its posting.)"""
    git("checkout", "-q", "-f", "--detach", head, cwd=work())
    reached: dict = {}
    texts: dict = {}
    cache = Cache("maintainers")
    # (what get_maintainer.pl reads besides the patch: MAINTAINERS, its
    # own settings, and without an exact match the history of the files)
    tool = git("ls-tree", "HEAD", "--", "MAINTAINERS", ".mailmap",
               "scripts/get_maintainer.pl", ".get_maintainer.conf",
               ".get_maintainer.ignore", cwd=work())
    for p in patches:
        texts.setdefault(p.parent, []).append(p.read_text())
        args = maintainers_args(p.read_text())
        files = re.findall(r"^diff --git a/(\S+)", p.read_text(), re.M)
        key = cache_key(p.read_text(), args, tool, history(files))
        out = cache.get(key)
        if out is None:
            _, out = run(["perl", "scripts/get_maintainer.pl", "--no-git",
                          "--no-rolestats", *(args or [str(p)])],
                         cwd=work(), check=False)
        names = [l for l in out.splitlines() if "@" in l]
        if names:
            cache.put(key, out)
        reached.setdefault(p.parent, set()).update(names)
        record(f"get_maintainer.pl {p.parent.name}/{p.name}", ok(bool(names)),
               "" if names else f"names nobody:\n{out}")
    for d, names in reached.items():
        want = posting_tree(texts[d])
        missing = [w for w in want if not any(w in n for n in names)]
        record(f"get_maintainer.pl: the {d.name} posting reaches "
               + ", ".join(want), ok(not missing),
               f"missing {', '.join(missing)}" if missing else "")


# ------------------------------------------------------------------- LAVA

def gate_lava(t: Target, patches: list, record: Record, name: str = "",
              boots: Executor = None) -> Optional[Future]:
    """t's bundle run as a LAVA job by lava-run, on LAVA's own qemu device
    type: the job completes, LAVA's result of every case is the harness's
    result of the same files, and no case fails (the base fails none of
    these cases on the targets make check runs this on).  Results in
    build/results/NAME/ (default lava-TARGET).  The bundle is built here;
    the two boots run on boots, if given (a Future of their end), or
    here."""
    s = time.time()
    name = name or f"lava-{t.name}"
    out = RESULTS / name
    shutil.rmtree(out, ignore_errors=True)
    b = make_bundle(t, patches, out / "bundle")
    jobs = sorted(b.glob("lava-job*.yaml"))
    for j in jobs:
        kt_lava.validate(j)
    record(f"{t.name}: the bundle's LAVA jobs are valid LAVA jobs "
           f"({', '.join(j.name for j in jobs)})", PASS)
    # (the initramfs's contents, for a replay: the next build replaces
    # them, so the key is taken now)
    image, initrd = b / Path(t.image).name, b / INITRD
    kept = Replay(t, image, initramfs_root(outs() / t.build), t.timeout,
                  True)
    # (read now, from the tree the bundle was built from: the boots run
    # on another thread while this one checks other trees out)
    cases, suites = vmalloc_cases(), added_kunit_suites()

    def boot_both() -> None:
        r = boot_files(f"{name}-harness", t, image, initrd, patches, kept,
                       cases, suites)
        lava = kt_lava.lava_run(b / "lava-job.yaml", kt_lava.context(t),
                                out / "lava",
                                # (beyond the job's own timeout: LAVA says
                                # why)
                                (kt_lava.job_minutes(t) + 15) * 60)
        (out / "lava-results.json").write_text(json.dumps(lava, indent=1) +
                                               "\n")
        diff = kt_lava.compare(lava, r["tests"])
        if kt_lava.vmalloc_unseen(r["tests"]):
            record(f"{t.name}: LAVA and the harness agree on test_vmalloc's "
                   "cases", SKIP, "LAVA reads them from test_vmalloc.sh's "
                   "KTAP, and " + SILENT_SCRIPT)
        record(f"{t.name}: LAVA (lava-run) and the harness agree on each "
               f"of {len(lava)} cases of the same bundle",
               ok(lava and not diff),
               "\n".join(diff) or "LAVA reported no case", time.time() - s)
        bad = sorted(c for c, res in lava.items() if res == FAIL)
        record(f"{t.name}: no case fails in the LAVA job", ok(not bad),
               "LAVA: " + ", ".join(f"{c} fail" for c in bad))
    if boots is None:
        boot_both()
        return None
    return boots.submit(boot_both)
