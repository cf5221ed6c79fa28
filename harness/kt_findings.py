"""Findings (compiler and sparse warnings, coccicheck reports, kernel-doc
and Sphinx warnings): collected in the base and with the series, and
compared like the kernel test robot does: only what is new counts, and
each new finding names the patch that brought it."""
import contextlib
import os
import re
import shutil
from collections import Counter
from pathlib import Path
from typing import Callable

from kt_cache import Cache, cache_key
from kt_common import BUILD_ENV, RESULTS, Fail, git, outs, rel, run, work
from kt_kbuild import code_inputs, make_args, make_command, touched_objs
from kt_spatch import MARK
from kt_targets import Target
from kt_targets import key as target_key
from kt_tree import at_base, commit_subject

WARNING = re.compile(r"^(\S+?):(\d+)(?::\d+)?: (warning|error): (.*)$")
COCCI = re.compile(r"^(\S+?):(\d+):\d+-\d+: (.*)$")


def parse(text: str, pattern: re.Pattern, fmt: Callable) -> dict:
    """{finding without its line number: [(file, line)]} from a log."""
    found: dict = {}
    for m in map(pattern.match, text.splitlines()):
        if m:
            f = os.path.normpath(m.group(1)).replace(str(work()) + "/", "")
            found.setdefault(fmt(f, m), []).append((f, m.group(2)))
    return found


def written_since(logf: Path, start: int) -> str:
    """What was appended to logf after its first start bytes."""
    with open(logf, "rb") as f:
        f.seek(start)
        return f.read().decode(errors="replace")


def compare(base: dict, series: dict) -> list:
    """[(finding, how many more than in base, where the last one is)]:
    findings are compared without line numbers, which move."""
    more = Counter({k: len(v) for k, v in series.items()}) - \
        Counter({k: len(v) for k, v in base.items()})
    return [(k, n, series[k][-1]) for k, n in more.items()]


def last_change(head: str, f: str) -> str:
    """The last patch to change file f, or the base tree."""
    subj = git("log", "-1", "--format=%s", f"base..{head}", "--", f,
               cwd=work(), check=False)
    return f'"{subj}" (the last patch to change {f})' if subj else \
        "the base tree"


def blame(head: str, where: tuple) -> str:
    """Which patch brought a finding at (file, line): the last to change
    that line, or if the line is the base's, the last to change the file."""
    f, line = where
    rc, out = run(["git", "blame", "--porcelain", "-L", f"{line},+1", head,
                   "--", f], cwd=work(), check=False)
    sha = out.split(" ", 1)[0] if rc == 0 else ""
    if sha and sha != git("rev-parse", "base", cwd=work()):
        return f'"{commit_subject(sha)}"'
    return last_change(head, f)


class MakeFailed(Exception):
    """A checker's make failed: args (label, log file)."""


def collect(t: Target, head: str, slug: str, extra: list,
            pattern: re.Pattern, fmt: Callable, objs: list,
            since: str = "base") -> dict:
    """{"base": findings, "series": findings} of make with extra arguments
    (W=1 C=1, or coccicheck as the checker) on objs at head, and at since
    (the base, or for a fixture the series it goes on: what it brings is
    what is new against the series, and the base may have the same
    finding) on those of them that have a finding at head: an object
    without one can bring nothing new, and most of coccicheck's time is
    the base's.  Each object is compiled again (C=1 checks what is
    compiled: the object, not every file the prepare step visits), and
    its findings kept while what it compiles from (code_inputs()), the
    build's .config and the command hold: touching one C file checks
    one.  coccicheck's are kept per script: one that reads no header of
    the series (--no-includes) while the rest of what it compiles from
    holds (checks())."""
    name = t.build
    found: dict = {"base": {}, "series": {}}
    cache = Cache(f"{name}-{slug}")
    env = checker_env(extra)
    for label, rev in (("series", head), ("base", since)):
        # (the base in a checkout and build directory of its own, which
        # config_base() configured; the commit before a fixture in the
        # series' own)
        with at_base() if rev == "base" else contextlib.nullcontext():
            d = outs() / name
            git("checkout", "-q", "-f", "--detach", rev, cwd=work())
            have = [o for o in objs if (work() / (o[:-2] + ".c")).exists()]
            config = (d / ".config").read_text() \
                if (d / ".config").exists() else ""
            logf = RESULTS / f"{name}-{slug}-{label}.log"
            logf.unlink(missing_ok=True)
            # (make -s would send the checker's stdout, coccicheck's
            # reports, to /dev/null.)
            args = [a for a in make_command(t, d) if a != "-s"] + extra
            keys = {o: {c: cache_key(args + [o], target_key(t), config, k)
                        for c, k in checks(extra, rev, o[:-2] + ".c")}
                    for o in have}
            todo = {o: [c for c, k in keys[o].items() if cache.get(k) is None]
                    for o in have}
            # (one make for the objects that need the same checks: the
            # same scripts, for coccicheck)
            groups: dict = {}
            for o in have:
                if todo[o]:
                    groups.setdefault(tuple(map(str, todo[o])), []).append(o)
            if groups:
                # (make_args(), which drops build()'s record of what d
                # holds, only where make runs: all kept, d still holds it)
                make_args(t, d)
                prepare(args, env, label, logf)
            for made in groups.values():
                cache.update(checked(args, d, made, todo, keys, env, label,
                                     logf, pattern, fmt))
            with_findings = []
            for o in have:
                for k in keys[o].values():
                    for f, where in cache.get(k).items():
                        found[label].setdefault(f, []).extend(
                            map(tuple, where))
                if any(cache.get(k) for k in keys[o].values()):
                    with_findings.append(o)
        # (the base: only the objects whose compile at head found
        # something, wherever, a header included)
        objs = with_findings
    git("checkout", "-q", "-f", "--detach", head, cwd=work())
    return found


def checked(args: list, d: Path, objs: list, todo: dict, keys: dict,
            env: dict, label: str, logf: Path, pattern: re.Pattern,
            fmt: Callable) -> dict:
    """{key: findings} of the checks todo[o] (the same for each object o
    of objs) from one make with args (a checker's) in build directory d:
    the objects one after another (-j1), each one's output told apart by
    its CC line.  A make that fails keeps nothing of any of them."""
    for o in objs:
        (d / o).unlink(missing_ok=True)         # compiled again
    wanted = todo[objs[0]]
    start = logf.stat().st_size if logf.exists() else 0
    rc, _ = run([a for a in args if not a.startswith("-j")] + ["-j1"] + objs,
                env=checking(env, wanted), logf=logf, check=False)
    if rc:
        raise MakeFailed(label, logf)
    out = {}
    for o, text in own_outputs(written_since(logf, start), objs,
                               logf).items():
        parts = by_check(text, wanted, logf)
        out.update({keys[o][c]: parse(parts[c], pattern, fmt)
                    for c in wanted})
    return out


# make's arguments that ask for a checker, not for what is compiled
CHECKER = ("C=", "CHECK=", "MODE=", "COCCI=")


def checker_env(extra: list) -> dict:
    """The environment of make with the checker extra asks for.  spatch
    loads the python3 it finds first on PATH: Debian's, which it is built
    for, and not a shim (pyenv's cost 0.6 s at each of spatch's starts:
    coccicheck starts it once per script, 70 times per file)."""
    if not any("coccicheck" in a for a in extra):
        return BUILD_ENV
    return dict(BUILD_ENV, PATH="/usr/bin:" + os.environ["PATH"])


def prepare(args: list, env: dict, label: str, logf: Path) -> None:
    """make prepare with args (the make command, with a checker), without
    the checker: C=1 checks whatever make compiles, and
    a prepare step last made with other flags (W=1's, or none) compiles
    scripts/mod/empty.c again, on which coccicheck would run every script
    (70 s on 2 cores)."""
    rc, _ = run([a for a in args if not a.startswith(CHECKER)] +
                ["prepare"], env=env, logf=logf, check=False)
    if rc:
        raise MakeFailed(label, logf)


# The headers spatch reads with --no-includes (strace): those coccicheck
# passes with --include, which Kbuild's LINUXINCLUDE names.
FORCED_INCLUDES = ("include/linux/kconfig.h",
                   "include/linux/compiler-version.h")
# The options that say which headers spatch reads: the last one given
# holds.
INCLUDE_MODES = ("--no-includes", "--local-includes", "--all-includes",
                 "--recursive-includes")


def scripts_of(extra: list) -> list:
    """The Coccinelle scripts make with extra runs, as coccicheck finds
    them: the one COCCI= names, or every one in the checkout's
    scripts/coccinelle/; [] for another checker."""
    if not any("coccicheck" in a for a in extra):
        return []
    named = [a.split("=", 1)[1] for a in extra if a.startswith("COCCI=")]
    # (as kt_spatch.py names them)
    return sorted(map(os.path.realpath, named or (
        work() / "scripts/coccinelle").rglob("*.cocci")))


def no_includes(script: str) -> bool:
    """Does coccicheck run script with --no-includes?  It passes what
    follows "Options:" (grep | cut -d: -f2), then SPFLAGS; of the options
    that choose the headers spatch reads, the last holds."""
    opts = [o for l in Path(script).read_text().splitlines()
            if "Options:" in l for o in l.split(":")[1].split()]
    modes = [o for o in opts + os.environ.get("SPFLAGS", "").split()
             if o in INCLUDE_MODES]
    return modes[-1:] == ["--no-includes"]


def settings() -> list:
    """What spatch reads besides the tree and the command line: SPFLAGS,
    which coccicheck appends, and the user's ~/.cocciconfig."""
    rc = Path.home() / ".cocciconfig"
    return [os.environ.get("SPFLAGS", ""),
            rc.read_text() if rc.is_file() else ""]


def checks(extra: list, rev: str, src: str) -> list:
    """[(check, what its findings on src at rev depend on)]: for
    coccicheck one check per script (its path), for another checker one
    (None).  A script that coccicheck runs with --no-includes reads src
    and no header but FORCED_INCLUDES: its findings hold while the tree
    less the other headers does, and a header change does not run it
    again; any other reads the headers src includes, as a compile does
    (code_inputs())."""
    scripts = scripts_of(extra)
    if not scripts:
        return [(None, code_inputs(rev, [src]))]
    own = code_inputs(rev, [src], headers=FORCED_INCLUDES)
    compiled = code_inputs(rev, [src])
    # (the scripts' own text: a change to one runs that one again)
    return [(s, [Path(s).read_text(), settings(),
                 own if no_includes(s) else compiled]) for s in scripts]


def checking(env: dict, todo: list) -> dict:
    """The environment of make with a checker that runs only the checks
    todo: for coccicheck, spatch through kt_spatch.py, which runs the
    scripts todo, each one's reports after a line naming it."""
    if todo == [None]:
        return env
    # (the spatch tool_versions() names, whatever PATH make has)
    return dict(env, SPATCH=str(Path(__file__).with_name("kt_spatch.py")),
                KT_SPATCH=shutil.which("spatch") or "spatch",
                KT_SPATCH_SCRIPTS=" ".join(todo))


def by_check(text: str, todo: list, logf: Path) -> dict:
    """{check: the part of text (one object's make output) it printed}."""
    if todo == [None]:
        return {None: text}
    parts = re.split(rf"^{re.escape(MARK)}(\S+)\n", text, flags=re.M)
    if len(set(parts[1::2])) < len(parts[1::2]):
        raise Fail(f"{rel(logf)}: a script's reports twice (a MODE that "
                   "runs spatch more than once): cannot tell them apart")
    # (what make prints after the last script's reports goes with them:
    # no finding's pattern matches it)
    got = dict(zip(parts[1::2], parts[2::2]))
    # (a script that needs a newer spatch (Requires:), coccicheck skips)
    got.update((s, "") for s in todo if os.path.realpath(s) in map(
        os.path.realpath, re.findall(
            r"^Skipping coccinelle SmPL patch: (\S+)$", text, re.M)))
    missing = [s for s in todo if s not in got]
    if missing:
        raise Fail(f"{rel(logf)}: no reports of {Path(missing[0]).name}: "
                   "coccicheck did not run it")
    return got


def own_outputs(text: str, objs: list, logf: Path) -> dict:
    """{object: what make printed from its compile to the next object's}
    of one make of objs, one after another.  What comes before the first
    is the prepare step's (arm64's vDSO, compiled again with W=1's
    flags): counted with an object, it would be "new" wherever that
    object's findings are not cached."""
    at = {}
    for o in objs:
        # ("CC [M]" for an object of a module)
        cc = [m.start() for m in re.finditer(
            rf"^  CC (?:\[M\]|   )  {re.escape(o)}$", text, re.M)]
        if len(cc) != 1:
            raise Fail(f"{rel(logf)}: {len(cc)} 'CC {o}' lines where one "
                       "was asked for: cannot tell its findings apart")
        at[o] = cc[0]
    ends = sorted(at.values())[1:] + [len(text)]
    return {o: text[at[o]:next(e for e in ends if e > at[o])] for o in objs}


def touched_at(t: Target, head: str, since: str = "base") -> list:
    """The objects of t's build that the series (or the patches since a
    commit) touches; head is checked out."""
    git("checkout", "-q", "-f", "--detach", head, cwd=work())
    return touched_objs(head, outs() / t.build, since)
