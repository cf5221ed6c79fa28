"""make check: every target built patch by patch and booted (the base and
the series), the patch gates, and the fixtures, on both cores.

Two builders, each in a checkout of its own: this thread takes the build
that the LAVA job and the fixes alone use, then the patch gates that read
the patches and the tree; a second thread takes the other builds
meanwhile, then the gates that look at a build.  Each builder then runs
the fixtures on its own builds, rebuilding them incrementally (a fixture
that needs builds of both is the first's, which builds the other's again
in its tree, from ccache).  Guests boot two at a time in the background
while the next trees build."""
import concurrent.futures
import dataclasses
import os
import re
import threading
import time
from concurrent.futures import Executor, Future
from typing import Callable, Optional

import kt_fixtures
import kt_targets
from kt_common import (FAIL, HARNESS_GIT, KVER, PASS, POSTINGS, RESULTS,
                       SERIES, SKIP, TREE, Fail, log, rel, say,
                       second_builder, sub_root, work)
from kt_gates import (gate_builds, gate_checkpatch, gate_cocci, gate_docs,
                      gate_header, gate_kunit, gate_lava, gate_maintainers,
                      gate_tags, gate_warnings)
from kt_guest import GUEST_LANES
from kt_job import base_job, expected_tests, job
from kt_kbuild import compiled, unsupported
from kt_report import Checks, summary_row, table
from kt_results import failed, target_verdict
from kt_tree import apply, mail_subject, patches_in, tested, worktree


# The target whose bundle make check runs as a LAVA job, with lava-run.
LAVA_TARGET = "x86_64"
# The target the postings before the last (the fixes) are also tested on
# alone, as the x86 tree and mm-hotfixes would take them without the rest.
ALONE_TARGET = "x86_64"


# Every gate make check runs, by the name kt.py check --gate takes; those
# in TREE_GATES look at a build of the series (the first target's).
ALL_GATES = ("builds", "warnings", "checkpatch", "coccicheck",
             "maintainers", "header", "kunit", "docs", "tags", "lava")
TREE_GATES = {"builds", "warnings", "coccicheck", "header", "kunit", "lava"}


def selection(names: list, gates: list, fixtures: list) -> tuple:
    """(targets to build, targets to boot) of kt.py check: every one, or
    with --gate/--fixture, what those need (and the targets named)."""
    if not gates and not fixtures:
        names = names or kt_targets.check_names()
        return names, names
    unknown = sorted(set(gates) - set(ALL_GATES))
    if unknown:
        raise Fail(f"unknown gate {', '.join(unknown)} (gates: "
                   f"{', '.join(ALL_GATES)})")
    known = {f.name: f for f in kt_fixtures.all_fixtures()}
    bad = sorted(set(fixtures) - set(known))
    if bad:
        raise Fail(f"unknown fixture {', '.join(bad)} (tests/fixtures/: "
                   f"{' '.join(sorted(known))})")
    build = list(names)
    if set(gates) & TREE_GATES and not build:
        build = ["x86_64"]
    for f in fixtures:
        build += [x for x in known[f].targets if x not in build]
    return build, list(names)


class Run:
    """One make check: what it checks, and what it has found so far.
    names: the targets built; boot: those booted; gates, fixtures: the
    gates and fixtures run (None: every one)."""

    def __init__(self, names: list, boots: Executor, boot: list = None,
                 gates: list = None, fixtures: list = None):
        self.names = names
        self.boot = names if boot is None else boot
        self.gates = gates
        self.boots = boots
        self.patches = patches_in(SERIES)
        self.fixtures = [f for f in kt_fixtures.all_fixtures()
                         if fixtures is None or f.name in fixtures]
        self.lava: Optional[Future] = None     # the LAVA gate's boots
        # target -> why the tree cannot build it (unsupported_of())
        self.gone: dict = {}
        # the second builder's builds are done (or failed): a fixture that
        # needs them in the first's tree is built from ccache after that,
        # not compiled a second time from nothing beside them
        self.others_built = threading.Event()
        self.checks = Checks()
        # build name -> the target of that name (its settings key the
        # build's cached results, whichever targets boot it)
        self.builds = {b: kt_targets.load(b) for b in dict.fromkeys(
            kt_targets.load(n).build for n in names)}

    def gate(self, name: str) -> bool:
        return self.gates is None or name in self.gates

    def record(self, name: str, result: str, detail: str = "",
               secs: float = None) -> None:
        self.checks.record(name, result, detail, secs)

    def guarded(self, what: str, fn: Callable, *args) -> object:
        """fn(*args); a Fail (a missing tool, a tree that does not build)
        is a FAIL line of its own, and the run goes on."""
        s = time.time()
        try:
            return fn(*args)
        except Fail as e:
            self.record(what, FAIL, str(e))
            return None
        finally:
            log(f"check: {what} took {time.time() - s:.0f}s")

    def stage_done(self, what: str, since: float) -> None:
        log(f"check: {what} took {time.time() - since:.0f}s")

    def runnable(self, f: kt_fixtures.Fixture) -> bool:
        return set(f.targets) <= set(self.names)


def build_and_boot(run: Run, group: list) -> tuple:
    """The series on each build of group: every patch builds, code size,
    warnings.  Then its targets boot, unpatched and with the series (a
    failure that the base has too is pre-existing), while the next build
    goes on.  Returns (the last build's head or None, [(target, base
    future, series future)])."""
    s, jobs, head = time.time(), [], None
    for b in group:
        t = run.builds[b]
        head = run.guarded(f"{b}: the series builds", gate_builds, t,
                           run.patches, run.record)
        lava = LAVA_TARGET in run.names and run.gate("lava") and \
            kt_targets.load(LAVA_TARGET).build == b
        if head is None:
            if lava:
                run.record(f"{LAVA_TARGET}: LAVA job", SKIP,
                           f"{b} did not build: see above")
            continue
        # (the jobs first: the build at head is still in place, and their
        # guests start while the warnings gate recompiles)
        for n in run.boot:
            tn = kt_targets.load(n)
            if tn.build == b:
                jobs.append((n, n, job(n, tn, run.patches, run.boots,
                                       replay=True)))
        if lava:
            # (its bundle is this build, still in place: the warnings gate
            # compiles objects again with other flags, and a bundle built
            # after it would build the tree again)
            run.lava = run.guarded(f"{LAVA_TARGET}: LAVA job", gate_lava,
                                   kt_targets.load(LAVA_TARGET), run.patches,
                                   run.record, "", run.boots)
        wider = wider_build(run, b)
        if run.gate("warnings") and wider:
            run.record(f"{b}: W=1 + sparse", SKIP,
                       f"{wider} (in this run) is built from every option of "
                       f"{b} and more: its W=1 + sparse pass compiles the "
                       "same code")
        elif run.gate("warnings"):
            run.guarded(f"{b}: W=1 + sparse", gate_warnings, t, head,
                        run.record)
    if group:
        run.stage_done(f"builds of every patch on {' '.join(group)}", s)
    return head, jobs


def options(t: kt_targets.Target) -> set:
    """The lines of t's fragment that set or unset an option."""
    return set(re.findall(r"^(?:CONFIG_\w+=.*|# CONFIG_\w+ is not set)$",
                          t.kconfig, re.M))


def wider_build(run: Run, b: str) -> Optional[str]:
    """Another build of the run, for the same architecture from the same
    base config, whose fragment has every option of b's and more (the
    debug build of x86_64), or None."""
    t = run.builds[b]
    return next((o for o, u in run.builds.items()
                 if o != b and (u.arch, u.defconfig) == (t.arch, t.defconfig)
                 and options(t) < options(u)), None)


# The patch gates that look at a build of the series (the others read the
# patches and the tree): with two builders, the second runs them on its
# last build while the first runs the others.
BUILT_GATES = {"coccicheck", "header", "kunit"}


def gates_of(run: Run, first: bool) -> set:
    """The patch gates a builder runs: with a second builder, the second
    runs those that look at a build, the first the others."""
    others = partition(run)[1]
    if first:
        return set(ALL_GATES) - (BUILT_GATES if others else set())
    return set(BUILT_GATES)


def patch_gates(run: Run, t: kt_targets.Target, head: Optional[str],
                which: set = frozenset(ALL_GATES)) -> None:
    """The patches themselves (the gates in which), on the build of target
    t at head."""
    s = time.time()
    if run.gate("checkpatch") and "checkpatch" in which:
        run.guarded("checkpatch", gate_checkpatch, run.patches, run.record)
    gates = [g for g in (
        ("coccicheck", f"{t and t.build}: coccicheck", gate_cocci, (t,)),
        ("maintainers", "get_maintainer.pl", gate_maintainers, ()),
        ("header", "touched headers", gate_header, (t,)),
        ("kunit", f"{t and t.build}: no test code in mm/", gate_kunit, (t,)),
        ("docs", "kernel-doc + htmldocs", gate_docs, ()),
        ("tags", "make tags", gate_tags, ()))
        if run.gate(g[0]) and g[0] in which]
    if t is None:
        # (every target that would have been built is skipped: see above)
        for g in [g for g in gates if g[0] in TREE_GATES]:
            run.record(f"gate {g[0]}", SKIP, "it reads a build, and no "
                       "target of this run can be built on this tree")
        gates = [g for g in gates if g[0] not in TREE_GATES]
    if head is None:
        if gates:
            run.record(f"gates {', '.join(g[0] for g in gates)} on the series",
                       FAIL, f"{t.build} did not build: see above")
        return
    for name, what, fn, args in gates:
        extra = (run.patches,) if name == "maintainers" else ()
        run.guarded(what, fn, *args, head, *extra, run.record)
    ran = (["checkpatch"] if run.gate("checkpatch") and "checkpatch" in which
           else []) + [g[0] for g in gates]
    run.stage_done(f"patch gates ({' '.join(ran)})", s)


def fixture_builds(f: kt_fixtures.Fixture) -> set:
    """The builds fixture f needs: its targets'."""
    return {kt_targets.load(x).build for x in f.targets}


def partition(run: Run) -> tuple:
    """(the first builder's builds, the second's).  The first keeps the
    build of the LAVA job and of the fixes alone; the second takes the
    others, those whose guests take longest first, so that their boots do
    not end the run."""
    builds = list(run.builds)
    keep = {kt_targets.load(n).build for n in (LAVA_TARGET, ALONE_TARGET)
            if n in run.names}
    mine = [b for b in builds if b in keep] or builds[:1]
    others = sorted((b for b in builds if b not in mine),
                    key=lambda b: -max(kt_targets.load(n).timeout
                                       for n in run.names
                                       if kt_targets.load(n).build == b))
    return mine, others


def fixtures_of(run: Run, builds: list, first: bool) -> list:
    """The runnable fixtures a builder with these builds runs: those whose
    builds are all its own.  The first builder also takes those that need
    builds of both (it builds the other's in its own tree)."""
    others = partition(run)[1]
    return [f for f in run.fixtures if run.runnable(f) and
            (fixture_builds(f) <= set(builds) or
             (first and not fixture_builds(f) <= set(others)))]


def unrunnable_fixtures(run: Run) -> None:
    """A fixture whose target is not in the run: a skip, with that."""
    for f in run.fixtures:
        if not run.runnable(f):
            out = sorted(set(f.targets) - set(run.names))
            run.record(f"fixture {f.name}: its target {' '.join(out)} is not "
                       "in this run", SKIP, "; ".join(
                           f"{n}: {run.gone[n]}" for n in out
                           if n in run.gone))


def fixture_target(f: kt_fixtures.Fixture) -> kt_targets.Target:
    """The target fixture f boots: its first, and where every check it
    names is a KUnit case's, without test_vmalloc (kt.vmalloc=0), which
    takes most of a boot and can tell nothing about it."""
    t = kt_targets.load(f.targets[0])
    if all(c.startswith("kunit.") for c, _ in f.booted() + list(f.skips)):
        t = dataclasses.replace(t, cmdline=f"{t.cmdline} kt.vmalloc=0")
    return t


def changes_code(f: kt_fixtures.Fixture) -> bool:
    """Does fixture f change a file that a build reads?  Those that do
    not (a selftest's) go first: where the builder's gates made nothing
    in its build directory since the series (the first builder's, in
    make check), build() finds the series' kernel there."""
    files = re.findall(r"^diff --git a/(\S+) b/(\S+)$", f.path.read_text(),
                       re.M)
    return any(map(compiled, sum(files, ())))


def fixtures_run(run: Run, fixtures: list) -> list:
    """Each fixture in turn (those that change no code first): the gates
    it names, each of which must catch it, then its build on this
    builder's build of its target (incremental: one patch more than the
    series), handed to the guests.  A fixture's gates and its boot read
    the same tree, built once (the LAVA gate's bundle is the kernel the
    fixture boots).  Returns [(fixture, future)] of those that boot."""
    s, out = time.time(), []
    for f in sorted(fixtures, key=changes_code):
        if f.gated():
            kt_fixtures.check_gated(f, run.patches, run.record)
        if f.boots():
            out.append((f, job(f"fixture-{f.name}", fixture_target(f),
                               run.patches + [f.path], run.boots,
                               timeout=f.timeout, expected=False,
                               replay=True)))
    if fixtures:
        run.stage_done(f"{len(fixtures)} fixture"
                       f"{'s' * (len(fixtures) != 1)} ({len(out)} built to "
                       "boot)", s)
    return out


def fixes_alone(run: Run) -> tuple:
    """(name, target, future): the postings before the last (the fixes)
    applied to the base without it, built, booted and tested on
    ALONE_TARGET."""
    t = kt_targets.load(ALONE_TARGET)
    firsts = POSTINGS[:-1]
    # (in a checkout and build directory of their own: in the series',
    # the next build of the series would configure again, as the fixes
    # lack the test options it adds, and compile what they change again)
    with sub_root("alone"):
        return (f"{ALONE_TARGET} ({' + '.join(firsts)} alone)", ALONE_TARGET,
                job(f"{ALONE_TARGET}-{'-'.join(firsts)}", t,
                    [p for d in firsts for p in patches_in(SERIES / d)],
                    run.boots, replay=True))


def second_builder_work(run: Run, builds: list) -> tuple:
    """The second builder: its builds, the gates that look at a build (on
    its last, still in place), then the fixtures on its builds."""
    try:
        head, jobs = build_and_boot(run, builds)
    finally:
        run.others_built.set()
    patch_gates(run, run.builds[builds[-1]], head, gates_of(run, False))
    fixtures = fixtures_of(run, builds, first=False)
    return jobs, fixtures_run(run, fixtures)


def first_builder(run: Run) -> tuple:
    """The first builder's builds, the patch gates and its fixtures; the
    second builder's meanwhile (see partition())."""
    mine, others = partition(run)
    with concurrent.futures.ThreadPoolExecutor(
            max_workers=1, initializer=second_builder) as side:
        theirs = side.submit(second_builder_work, run, others) \
            if others else None
        head, jobs = build_and_boot(run, mine)
        if not mine:            # (kt.py check --gate checkpatch, say)
            head = apply(worktree(), run.patches, env=HARNESS_GIT)[-1]
        patch_gates(run, run.builds[mine[0]] if mine else None, head,
                    gates_of(run, True))
        unrunnable_fixtures(run)
        fixtures = fixtures_of(run, mine, first=True)
        own = [f for f in fixtures if fixture_builds(f) <= set(mine)]
        booted = fixtures_run(run, own)
        span = [f for f in fixtures if f not in own]
        if span and theirs:
            s = time.time()
            log("check: waiting for the second builder's builds "
                f"({' '.join(f.name for f in span)} needs them)")
            run.others_built.wait()
            run.stage_done("waiting for the second builder's builds", s)
        booted += fixtures_run(run, span)
        # (in tree mode the range is one series: no postings)
        if ALONE_TARGET in run.boot and (SERIES / POSTINGS[0]).is_dir():
            jobs.append(fixes_alone(run))
        if theirs:
            s = time.time()
            log("check: waiting for the second builder")
            more_jobs, more_booted = theirs.result()
            jobs += more_jobs
            booted += more_booted
            run.stage_done("waiting for the second builder", s)
    return jobs, sorted(booted, key=lambda b: b[0].name)


def first_bad(n: int, bad: Callable[[int], bool]) -> int:
    """The first k of 1..n with bad(k), bad(n) being known true, as git
    bisect finds it: log2(n) calls of bad()."""
    lo, hi = 1, n
    while lo < hi:
        mid = (lo + hi) // 2
        if bad(mid):
            hi = mid
        else:
            lo = mid + 1
    return lo


def first_failing_patch(run: Run, n: str, fails: list) -> str:
    """Which patch brought the new failures fails of target n: the tree at
    each patch probed is built (incrementally: every patch was built on
    its own already, or is close to one that was) and booted, without
    test_vmalloc where only KUnit cases failed, until the first patch
    with any of them is found.  A probe that does not build or boot
    counts as failing."""
    t = kt_targets.load(n)
    if all(f.startswith("kunit.") for f in fails):
        t = dataclasses.replace(t, cmdline=f"{t.cmdline} kt.vmalloc=0")
    probes: list = []

    def bad(k: int) -> bool:
        r = job(f"{n}-at-{k}", t, run.patches[:k], run.boots,
                replay=True).result()
        probes.append(k)
        # (no tests: it did not build or boot)
        return not r["tests"] or bool(set(failed(r["tests"])) & set(fails))
    s = time.time()
    k = first_bad(len(run.patches), bad)
    apply(worktree(), run.patches, env=HARNESS_GIT)
    log(f"check: {n}: patch {k} brought the failures ({len(probes)} "
        f"probes, {time.time() - s:.0f}s)")
    text = run.patches[k - 1].read_text(errors="replace")
    sha = text.split(maxsplit=2)[1][:12] if text.startswith("From ") \
        else "?"
    return (f"first failing at patch {k}/{len(run.patches)}, {sha} "
            f"\"{mail_subject(text)}\" (found in {len(probes)} boots: "
            f"patches {', '.join(map(str, probes))})")


def judge(run: Run, n: str, base: Optional[dict], r: dict) -> None:
    """A target's verdict: the series' failures that the base does not
    have (base: the unpatched tree's record, None if nothing failed), and
    the patch that brought them."""
    old_fails = set(failed(base["tests"])) if base else set()
    new_fails = [f for f in failed(r["tests"]) if f not in old_fails]
    pre = [f for f in failed(r["tests"]) if f in old_fails]
    detail = r["error"] or ""
    if new_fails and r["tests"] and len(run.patches) > 1 and \
            n in run.names:
        detail += "\n" + first_failing_patch(run, n, new_fails)
    if pre:
        detail += "\npre-existing (the base fails them too): " + \
            ", ".join(pre)
    run.record(f"{n}: series applied, built, booted, tested"
               + (f" ({len(pre)} pre-existing failures)" if pre else ""),
               PASS if r["tests"] and not new_fails else FAIL,
               detail.strip(), r["seconds"])


def judged_again(run: Run, n: str, r: dict, cases: list,
                 suites: list) -> None:
    """kt.py judge on target n's console.log, as saved, gives make check's
    verdict of it: the log carries everything the verdict needs, and a
    log captured elsewhere is judged alike."""
    name = f"{n}: kt.py judge on its console.log agrees"
    f = RESULTS / n / "console.log"
    if not f.exists():
        run.record(name, SKIP, "no console.log: the guest never booted")
        return
    again = target_verdict(f.read_text(errors="replace").split("\n"),
                           kt_targets.load(n), cases, suites)

    def words(tests):
        return {f"{s}.{c}": v[0] for s, cs in tests.items()
                for c, v in cs.items()}
    want, got = words(r["tests"]), words(again)
    diff = [f"{k}: make check {want.get(k, 'missing')}, judge "
            f"{got.get(k, 'missing')}" for k in sorted(set(want) | set(got))
            if want.get(k) != got.get(k)]
    run.record(name, FAIL if diff else PASS, "\n".join(diff))


def the_base(run: Run, n: str, r: dict) -> Optional[dict]:
    """The unpatched base's record on target n, where the series' record
    r has a failure that the base may share (a pre-existing failure).
    Where nothing failed, the base has nothing to tell, and is neither
    built nor booted: make check builds each target once when it is
    cold."""
    if not r["error"] and not failed(r["tests"]):
        return None
    log(f"check: {r['job']} failed: the base on {n}, to tell pre-existing "
        "failures from new ones")
    return base_job(n, kt_targets.load(n), run.boots).result()


def wait_for_guests(run: Run, jobs: list, booted: list) -> list:
    """Wait for the guests; judge each target and fixture; table rows."""
    s, rows = time.time(), []
    log("check: all trees built; waiting for the guests")
    cases, suites = expected_tests(run.patches)
    for n, tn, r in sorted(jobs, key=lambda j: (run.names.index(j[1]),
                                                j[0])):
        r = r.result()
        b = the_base(run, tn, r)
        rows += ([summary_row(b)] if b else []) + [summary_row(r)]
        judge(run, n, b, r)
        if n in run.names:
            judged_again(run, n, r, cases, suites)
    for f, r in booted:
        r = r.result()
        row = summary_row(r)
        row[1] = "caught" if all(kt_fixtures.caught(r, c, p)
                                 for c, p in f.booted()) and all(
            kt_fixtures.caught(r, c, p, kt_fixtures.SKIP)
            for c, p in f.skips) else "MISSED"
        rows.append(row)
        kt_fixtures.check_booted(f, r, run.record)
    if run.lava:
        run.guarded(f"{LAVA_TARGET}: LAVA job", run.lava.result)
    run.stage_done("waiting for the last guests", s)
    return rows


# Builds yield the CPU to the guests (Linux keeps a nice value per thread,
# and a thread's children and new threads inherit it).  A guest with two
# vCPUs whose one vCPU waits for a core while holding a lock leaves the
# other spinning: under two builders, x86_64-debug's guest took 800 s,
# against about 100 s on idle cores.  The builds lose nothing by waiting.
BUILD_NICE = 10
GUEST_NICE = os.getpriority(os.PRIO_PROCESS, 0)


def guest_priority() -> None:
    """A guest lane runs at the priority the run started with (lowering a
    nice value takes root; without it, guests stay at the builds')."""
    try:
        os.setpriority(os.PRIO_PROCESS, 0, GUEST_NICE)
    except PermissionError:
        log(f"check: not root: guests run at nice {BUILD_NICE}, as the "
            "builds do (x86_64-debug's guest is then slow)")


def unsupported_of(names: list) -> dict:
    """{target: why} for the targets of names that the tree cannot build
    (kt_kbuild.unsupported(), of the target or of the build it boots)."""
    gone = {}
    for n in dict.fromkeys(names):
        t = kt_targets.load(n)
        why = unsupported(t) or (t.build != n and unsupported(
            kt_targets.load(t.build)))
        if why:
            gone[n] = why
    return gone


def covers_name(run: Run, tree: str) -> None:
    """Each posting's cover letter (the notes of a posting of one patch)
    says what the series was tested on as this run found it (the Debian
    package moved under the series once, and nothing noticed)."""
    for d in [SERIES / p for p in POSTINGS if (SERIES / p).is_dir()]:
        cover = d / "0000-cover-letter.patch"
        alone = patches_in(d)
        if not cover.exists() and len(alone) == 1:
            cover = alone[0]
        text = cover.read_text() if cover.exists() else ""
        run.record(f"{rel(cover)} names the tree tested ({tree})",
                   PASS if tree in " ".join(text.split()) else FAIL,
                   "" if cover.exists() else "no cover letter")


def cmd_check(names: list, gates: list = (), fixtures: list = (),
              no_fixtures: bool = False) -> int:
    """kt.py check: every target, gate and fixture, or (gates, fixtures)
    only those, on the targets they need; no_fixtures: none of them."""
    t_start = time.time()
    RESULTS.mkdir(parents=True, exist_ok=True)
    # Two guests at a time: once the builds are done (warm, after one
    # patch changed: within minutes), a second lane halves the wait for
    # the guests, of which x86_64-debug's alone takes minutes.
    boots = concurrent.futures.ThreadPoolExecutor(
        max_workers=GUEST_LANES, initializer=guest_priority)
    # (this thread's, and the second builder's, which it starts)
    os.setpriority(os.PRIO_PROCESS, 0, max(GUEST_NICE, BUILD_NICE))
    try:
        build, boot = selection(names, list(gates), list(fixtures))
        gone = unsupported_of(build + boot)
        build = [n for n in build if n not in gone]
        boot = [n for n in boot if n not in gone]
        selected = bool(gates or fixtures)
        # (named ones are tried anyway: a fixture that does not apply is
        # reported missed)
        other_tree = not (TREE or fixtures or no_fixtures) and \
            KVER != kt_fixtures.KVER
        run = Run(build, boots, boot, list(gates) if selected else None,
                  [] if no_fixtures or other_tree else
                  list(fixtures) if selected else None)
        run.gone = gone
        for n, why in gone.items():
            run.record(f"{n}: not built or booted", SKIP, why)
        if other_tree:
            run.record("fixtures", SKIP,
                       f"tests/fixtures/ are patches on series/"
                       f"{kt_fixtures.KVER}/, not on series/{KVER}/")
        jobs, booted = first_builder(run)
        rows = wait_for_guests(run, jobs, booted)
    finally:
        boots.shutdown(cancel_futures=True)
    say("\n" + table(rows))
    apply(worktree(), run.patches, env=HARNESS_GIT)
    what = tested(work())
    if run.gates is None:
        covers_name(run, what["tree"])
    run.checks.write(RESULTS / "check.json", what)
    # (in tree mode, the head of the range in the user's tree: git am's
    # commits are the harness's own)
    head = what.get("range_head", what["head"])
    say(f"tested: {what['tree']} ({what['kernelversion']}), base "
        f"{what['base'][:12]}, head {head[:12]} "
        f"\"{what['head_subject']}\"")
    n = run.checks.counts()
    log(f"check: {time.time() - t_start:.0f}s in all; "
        f"results in {rel(RESULTS)}/")
    say(f"{n[PASS]} passed, {n[FAIL]} failed, {n[SKIP]} skipped")
    return 1 if n[FAIL] else 0
