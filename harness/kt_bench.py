"""make bench: test_vmalloc's performance mode and a page-fault loop, the
base against the series, in figures that hold from one run to the next.

Wall-clock time under TCG on a shared machine is noise.  The guests run
with QEMU's -icount (shift=0: one nanosecond of guest time per guest
instruction; sleep=off: an idle guest does not wait for the host) on one
vCPU, so that the times the guest reports follow the instructions it
executes, not the host's load.  What varied next was the guest itself:
QEMU hands every boot a new random seed, which test_vmalloc's random sizes
and alignments follow, and with them the shape of the vmap space that the
later cases find.  Each boot gets a seed of its own from a fixed sequence
(QEMU's -seed): the boots of one kernel draw differently, as two kernels
do, and the next run draws the same again.  What else varies is when the
kernel's own background work (a purge of lazily freed areas, RCU
callbacks, the random pool's reseeding) lands: QEMU delivers timer
interrupts at points that depend on the host.  That work lands in many
rounds and makes them longer, and on ppc64le makes one round at a fixed
place shorter in most boots (kvfree_rcu_2_arg_vmalloc_test's 10th):
each boot counts the second least of its rounds (the first round is a
warm-up), or their mean for the cases whose sizes are drawn at random,
whose work differs from round to round; each kernel boots several
times, alternating base, series and
base again (the A/A arm: the same image, booted apart, must come out
alike), and each figure is the ratio of the medians over the boots with
a bootstrap interval.  Not cached: every run measures."""
import hashlib
import json
import random
import re
import shutil
import statistics
import subprocess
import time
from pathlib import Path

from kt_common import (HARNESS_GIT, RESULTS, Fail, log, outs, rel, require,
                       say, work)
from kt_guest import (GUEST, cpio, kernel_cmdline, nolibc, qemu_options,
                      without)
from kt_results import VMALLOC_XFAIL
from kt_job import digest
from kt_kbuild import build
from kt_targets import Target
from kt_targets import key as target_key
from kt_tree import apply, at_base, worktree

ICOUNT = ["-icount", "shift=0,sleep=off,align=off"]
# test_vmalloc.sh's performance mode (every case of the default mask, in
# order), with fewer loops than its 1000000: TCG's speed.  Its 3 repeats
# become rounds of one repeat each: the module prints only the mean of its
# repeats, and a boot counts the second least of its rounds.
VMALLOC = "sequential_test_order=1 test_repeat_count=1 test_loop_count=1000"
ROUNDS = 10         # per boot; the first is a warm-up and not counted
PAGEFAULT_MIB, PAGEFAULT_REPS = 64, 1
BOOTS = 5           # per arm
# No KUnit suite at boot: the series kernel has suites of its own, which
# map and free vmalloc areas before test_vmalloc loads, work the base
# kernel does not do.  (Two different kernels still draw different random
# sizes: the random pool takes in the kernel's release string and its
# interrupts' timing.)  tinyconfig has no watchdogs, no audit: nothing
# else to quiet.
CMDLINE = "kunit.enable=0"
ARMS = ("base", "series", "base-again")
SUMMARY = re.compile(r"Summary: (\w+) passed: (\d+) failed: (\d+) "
                     r"repeat: \d+ loops: \d+ avg: (\d+) usec")
ROUND = re.compile(r"KT-BENCH: round (\d+)$")
FAULTS = re.compile(r"KT-BENCH: round (\d+) pagefault faults (\d+) "
                    r"usec (\d+)")
LOADED = re.compile(r"KT-BENCH: round \d+ test_vmalloc (-?\d+) usec (\d+)")
PAGEFAULT = "pagefault (nsec/fault)"
# test_vmalloc's load from start to end: every case, and whatever the
# cases left to the kernel's background work that ran meanwhile
LOAD = "test_vmalloc_load"


def bench_initramfs(t: Target, odir: Path, dest: Path) -> None:
    """dest (a cpio): the bench /init, test_vmalloc.ko, its parameters."""
    root = odir / "bench-root"
    shutil.rmtree(root, ignore_errors=True)
    (root / "kt").mkdir(parents=True)
    shutil.copy(nolibc(t, "bench.c", ("-lgcc",)), root / "init")
    shutil.copytree(odir / "mods" / "lib", root / "lib",
                    ignore=shutil.ignore_patterns("build", "source"))
    (root / "kt" / "bench.params").write_text(
        f"{ROUNDS}\n{VMALLOC}\n{PAGEFAULT_MIB}\n{PAGEFAULT_REPS}\n")
    cpio(root, dest)


def kernel(t: Target, patches: list, odir: Path, dest: Path) -> tuple:
    """The tree with patches, built for t in odir; (image, initrd) copied
    to dest."""
    dest.mkdir(parents=True, exist_ok=True)
    apply(worktree(), patches, env=HARNESS_GIT)
    log(f"bench {t.name}: building {dest.name} ({len(patches)} patches)")
    build(t, odir, dest / "build.log")
    image = dest / Path(t.image).name
    shutil.copy(odir / t.image, image)
    bench_initramfs(t, odir, dest / "bench.cpio")
    return image, dest / "bench.cpio"


def parse(lines: list, where: str = "the console") -> dict:
    """{case: [value per counted round]}: test_vmalloc's avg usec per
    case, and nanoseconds per page fault.  A round whose test_vmalloc did
    not run (its init returns -EAGAIN once every case ran), or a case that
    failed (but the one that fails by design), fails the bench: a failed
    case returns early and would look fast."""
    out: dict = {}
    rnd = 0
    for l in lines:
        m = ROUND.search(l)
        if m:
            rnd = int(m.group(1))
            continue
        m = LOADED.search(l)
        if m and m.group(1) != "-11":
            raise Fail(f"bench: round {rnd}: loading test_vmalloc returned "
                       f"{m.group(1)}, not -EAGAIN ({where})")
        if m and rnd > 1:
            out.setdefault(LOAD, []).append(int(m.group(2)))
            continue
        m = SUMMARY.search(l)
        if m and int(m.group(3)) and m.group(1) not in VMALLOC_XFAIL:
            raise Fail(f"bench: {m.group(1)} failed in round {rnd} "
                       f"({where}): {m.group(0)}")
        if rnd <= 1:
            continue            # the warm-up round
        if m:
            out.setdefault(m.group(1), []).append(int(m.group(4)))
        m = FAULTS.search(l)
        if m and int(m.group(2)):
            out.setdefault(PAGEFAULT, []).append(
                1000 * int(m.group(3)) / int(m.group(2)))
    return out


# QEMU machines that hand the guest a random seed taken from QEMU's own
# random numbers, which -seed fixes: "pc" in the boot protocol's
# setup_data, "virt" in the device tree's rng-seed, as pseries and
# powernv9 do.  Each boot gets a seed of its own from a fixed sequence.
# With no seed (or one for every boot), every boot of one kernel draws
# the same random sizes (on arm64 every boot of a kernel was then the same
# to the instruction) while the other kernel draws others (the pool also
# takes in the release string): the cases that follow the random ones
# inherit a vmap space shaped by those draws (fix_align_alloc_test came
# out 0.945 and 1.000 in two arm64 runs of the same code), and an interval
# over boots that repeat one draw shows none of it.
SEEDED = {"pc", "virt", "pseries", "powernv9"}


def bench_options(t: Target, seed: int) -> list:
    """t's QEMU options, on one vCPU, the guest's random seed from QEMU's
    random numbers, fixed by seed."""
    opts = qemu_options(t, "tcg")       # (-icount is TCG's)
    if "-smp" in opts:
        i = opts.index("-smp")
        opts = opts[:i] + opts[i + 2:]
    if "-machine" in opts:
        name = opts[opts.index("-machine") + 1].partition(",")[0]
        if name not in SEEDED:
            raise Fail(f"bench: QEMU machine {name} is not known to take "
                       "the guest's random seed from -seed (known: "
                       f"{', '.join(sorted(SEEDED))})")
    # (a target's own -icount, from its tcg options, gives way to the
    # method's)
    opts = without(opts, "-icount")
    return [*opts, "-smp", "1", *ICOUNT, "-seed", str(seed)]


def boot(t: Target, image: Path, initrd: Path, log_file: Path,
         drawn: set, seed: int) -> dict:
    """One boot: {case: its figure over the counted rounds} (see
    per_boot()).  The console goes to a file, not a pipe that the host may
    drain late."""
    opts = bench_options(t, seed)
    i = opts.index("-serial") + 1
    opts[i] = f"file:{log_file}"
    cmd = [t.qemu[0], *opts, "-kernel", str(image), "-initrd", str(initrd),
           "-append", f"{kernel_cmdline(t)} {CMDLINE}".strip()]
    require(t.qemu[0])
    timeout = t.timeout * 4
    with GUEST:
        try:
            subprocess.run(cmd, stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=timeout)
            timed_out = False
        except subprocess.TimeoutExpired:
            timed_out = True
    lines = log_file.read_text(errors="replace").split("\n") \
        if log_file.exists() else []
    if any("KTAP version" in l for l in lines):
        raise Fail(f"bench {rel(log_file)}: KUnit ran at boot, despite "
                   f"{CMDLINE}")
    if timed_out or not any("KT: done" in l for l in lines):
        raise Fail(f"bench {rel(log_file)}: the guest did not finish"
                   + (f" in {timeout}s" if timed_out else "")
                   + "; last lines:\n" + "\n".join(lines[-15:]))
    return per_boot(parse(lines, rel(log_file)), rel(log_file), drawn)


def per_boot(values: dict, where: str, drawn: set,
             counted: int = ROUNDS - 1) -> dict:
    """{case: one figure for the boot}.  Under -icount a round's time is
    the instructions it executed: the case's own, plus whatever the kernel
    ran meanwhile (a purge of lazily freed areas, an RCU callback), which
    lands in some rounds and not in others.  It makes most of them
    longer (x86_64's vm_map_ram_test: 789 or 2077 us, 2077 in up to
    seven of a boot's nine rounds, so the median is no figure), and on
    ppc64le one round at a fixed place shorter in most boots
    (kvfree_rcu_2_arg_vmalloc_test's 10th, by 16%, so the least is
    none): the second least round is the case's cost.  But a case in
    drawn does different work each round (sizes drawn at random): its
    figure is the mean of its rounds.  A case with fewer figures than
    rounds counted fails."""
    if not values:
        raise Fail(f"bench: no figures in {where}")
    short = sorted(c for c, v in values.items() if len(v) != counted)
    if short:
        raise Fail(f"bench: {', '.join(short)}: not {counted} figures in "
                   f"{where}")
    return {c: statistics.mean(v) if c in drawn else sorted(v)[1]
            for c, v in values.items()}


def drawn_cases(text: str) -> set:
    """The cases of lib/test_vmalloc.c (text) whose own work is drawn at
    random: their function calls get_random_*()."""
    return {m.group(1) for m in re.finditer(
        r"^(?:static\s+int\s+)?(\w+)\(void\)\s*\{(.*?)^\}", text,
        re.M | re.S) if "get_random_" in m.group(2)}


def interval(a: list, b: list, n: int = 4000) -> tuple:
    """median(b) / median(a), and its 95% bootstrap interval (boots
    resampled; a fixed seed, so the same figures give the same
    interval)."""
    rng = random.Random(1)
    med = statistics.median
    ratios = sorted(med(rng.choices(b, k=len(b))) /
                    med(rng.choices(a, k=len(a))) for _ in range(n))
    return med(b) / med(a), ratios[int(0.025 * n)], ratios[int(0.975 * n)]


def spread(v: list) -> float:
    """(max - min) / median of one arm's boots."""
    return (max(v) - min(v)) / statistics.median(v)


def run_target(t: Target, patches: list, boots: int = BOOTS) -> tuple:
    """Every arm of t booted boots times, in turn (the order rotates each
    cycle); ({case: figures}, what identifies the kernels booted)."""
    out = RESULTS / f"bench-{t.name}"
    shutil.rmtree(out, ignore_errors=True)
    with at_base():     # (see at_base(): the series' build stays warm)
        base = kernel(t, [], outs() / t.build, out / "base")
        base_root = outs() / t.build / "bench-root"
    kernels = {
        "base": base,
        "series": kernel(t, patches, outs() / t.build, out / "series")}
    kernels["base-again"] = kernels["base"]
    # (what a later run must boot to be a run of the same kernels: the
    # images, the initramfs contents, the machine and its tools)
    ident = hashlib.sha1(repr([
        digest(kernels["base"][0], base_root),
        digest(kernels["series"][0], outs() / t.build / "bench-root"),
        target_key(t)]).encode()).hexdigest()
    drawn = drawn_cases((work() / "lib/test_vmalloc.c").read_text())
    runs: dict = {a: [] for a in ARMS}
    for cycle in range(boots):
        order = ARMS[cycle % 3:] + ARMS[:cycle % 3]
        for arm in order:
            s = time.time()
            r = boot(t, *kernels[arm], out / f"{arm}-{cycle + 1}.log",
                     drawn, seed=1 + cycle * len(ARMS) + ARMS.index(arm))
            runs[arm].append(r)
            log(f"bench {t.name}: {arm} boot {cycle + 1}/{boots} "
                f"({time.time() - s:.0f}s)")
    (out / "boots.json").write_text(json.dumps(runs, indent=1) + "\n")
    every = set().union(*(r for a in ARMS for r in runs[a]))
    missing = sorted(f"{c} ({a} boot {i + 1})" for c in every
                     for a in ARMS for i, r in enumerate(runs[a])
                     if c not in r)
    if missing:
        raise Fail(f"bench {t.name}: no figure for {', '.join(missing[:6])}")
    figures = {}
    for c in sorted(every, key=list(runs["base"][0]).index):
        if c in VMALLOC_XFAIL:
            # (its time is that of warn_alloc()'s report, a stack dump on
            # the serial console, not of vmalloc: 200 to 600 us at random)
            figures[c] = {"untimed": "fails by design"}
            continue
        if min(r[c] for a in ARMS for r in runs[a]) <= 0:
            # (timed at 0 usec, as pcpu_alloc_test's is: no ratio)
            figures[c] = {"untimed": "0 usec"}
            continue
        v = {a: [r[c] for r in runs[a]] for a in ARMS}
        ab, ab_lo, ab_hi = interval(v["base"], v["series"])
        aa, aa_lo, aa_hi = interval(v["base"], v["base-again"])
        figures[c] = {"base": statistics.median(v["base"]),
                      "series": statistics.median(v["series"]),
                      "ratio": ab, "interval": [ab_lo, ab_hi],
                      "aa_ratio": aa, "aa_interval": [aa_lo, aa_hi],
                      "spread": {a: spread(v[a]) for a in ARMS},
                      "boots": v}
    return figures, ident


def timed(figs: dict) -> dict:
    return {c: f for c, f in figs.items() if not f.get("untimed")}


def table(results: dict) -> str:
    rows = [["target", "case", "base", "series", "ratio", "95% interval",
             "A/A", "A/A interval", "spread"]]
    for tn, figs in results.items():
        for c, f in timed(figs).items():
            rows.append([tn, c, f"{f['base']:.0f}", f"{f['series']:.0f}",
                         f"{f['ratio']:.3f}",
                         "{:.3f}-{:.3f}".format(*f["interval"]),
                         f"{f['aa_ratio']:.3f}",
                         "{:.3f}-{:.3f}".format(*f["aa_interval"]),
                         f"{100 * max(f['spread'].values()):.1f}%"])
    w = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    untimed = sorted({f"{c} ({f['untimed']})" for figs in results.values()
                      for c, f in figs.items() if f.get("untimed")})
    return "\n".join("  ".join(c.ljust(w[i]) for i, c in enumerate(r))
                     for r in rows) + \
        ("\nno ratio: " + ", ".join(untimed) if untimed else "")


def plot(results: dict, svg: Path) -> None:
    """One bar group per case (a bar per target: the ratio), the 95%
    interval as error bars, with gnuplot."""
    require("gnuplot")
    data = svg.with_suffix(".dat")
    names = list(results)
    cases = list(dict.fromkeys(c for f in results.values()
                               for c in timed(f)))
    with open(data, "w") as f:
        for c in cases:
            f.write(f'"{c}"')
            for tn in names:
                x = timed(results[tn]).get(c)
                f.write(" " + (" ".join(f"{v:.4f}" for v in (
                    x["ratio"], *x["interval"])) if x else "NaN NaN NaN"))
            f.write("\n")
    plots = ", ".join(
        f"'{data}' using {2 + 3 * i}:{3 + 3 * i}:{4 + 3 * i}"
        f"{':xtic(1)' if i == 0 else ''} title '{tn}'"
        for i, tn in enumerate(names))
    script = f"""
set terminal svg size 1100,520 dynamic
set output '{svg}'
set title 'series / base (virtual time under -icount; 95% interval)'
set style data histograms
set style histogram errorbars gap 1 lw 1
set style fill solid 0.5 border -1
set xtics rotate by -35
set ylabel 'ratio'
set autoscale y
set grid y
plot {plots}, 1 notitle lc rgb 'black'
"""
    subprocess.run(["gnuplot"], input=script, text=True, check=True)


# A difference smaller than this is no difference, whatever the interval
# says (on a target whose boots are all alike, the interval is a point).
EFFECT = 0.01


def differs(ratio: float, lo: float, hi: float) -> bool:
    """Is this ratio a difference: its interval without 1.00, and more
    than EFFECT away from it?"""
    return not lo <= 1.0 <= hi and abs(ratio - 1) > EFFECT


def verdict(results: dict, fixture: Path = None) -> list:
    """What makes the method wrong: an A/A ratio that differs (it finds a
    difference where there is none); with a fixture, a case its
    Expect-slower: line names that is not slower, beyond EFFECT and
    outside its interval."""
    bad = [f"{tn} {c}: A/A {f['aa_ratio']:.3f} "
           "({:.3f}-{:.3f}) differs from 1.00".format(*f["aa_interval"])
           for tn, figs in results.items() for c, f in timed(figs).items()
           if differs(f["aa_ratio"], *f["aa_interval"])]
    if fixture:
        m = re.search(r"^Expect-slower: (.+)$", fixture.read_text(), re.M)
        if not m:
            raise Fail(f"{rel(fixture)}: no 'Expect-slower: CASE...' line")
        for tn, figs in results.items():
            for c in m.group(1).split():
                f = timed(figs).get(c)
                if f is None or not (f["ratio"] > 1 and
                                     differs(f["ratio"], *f["interval"])):
                    bad.append(f"{tn} {c}: the fixture's slowdown not seen"
                               + (" ({:.3f}-{:.3f})".format(*f["interval"])
                                  if f else " (no figure)"))
    return bad


# Two runs of the same kernels agree if their ratios do, within these
# (the median case, the worst): what make bench is meant to hold to.
AGREE_MEDIAN, AGREE_WORST = 0.01, 0.03


def agreement(old: dict, new: dict) -> str:
    """How the ratios of a run (new) agree with an earlier run (old, as
    bench.json holds it) on the targets where both booted the same kernels
    the same way: the median and worst relative difference over the cases
    both timed, or why they cannot be compared."""
    if not old:
        return ""
    same = [tn for tn in new["results"]
            if old.get("method") == new["method"] and
            old.get("kernels", {}).get(tn) == new["kernels"][tn]]
    if not same:
        return "again: the previous run booted other kernels or used " \
            "another method: nothing to compare"
    diffs, alone = [], []
    for tn in same:
        a, b = timed(old["results"][tn]), timed(new["results"][tn])
        alone += [f"{tn} {c}" for c in sorted(set(a) ^ set(b))]
        diffs += [(abs(b[c]["ratio"] / a[c]["ratio"] - 1), f"{tn} {c}")
                  for c in b if c in a]
    if not diffs:
        return "again: no case timed in both runs"
    diffs.sort()
    med, (worst, where) = statistics.median(d for d, _ in diffs), diffs[-1]
    held = med <= AGREE_MEDIAN and worst <= AGREE_WORST
    return (f"again: the ratios {'agree' if held else 'do not agree'} with "
            f"the previous run of the same kernels ({len(diffs)} cases on "
            f"{' '.join(same)}): median {100 * med:.2f}%, worst "
            f"{100 * worst:.2f}% ({where}); aim {100 * AGREE_MEDIAN:.0f}% "
            f"and {100 * AGREE_WORST:.0f}%"
            + (f"; timed in one run only: {', '.join(alone)}" if alone
               else ""))


def cmd_bench(targets: list, patches: list, boots: int = BOOTS,
              fixture: Path = None) -> int:
    """make bench; with a fixture, the series arm has it on top, and its
    slowdown must show."""
    s = time.time()
    series = patches + ([fixture] if fixture else [])
    results, kernels = {}, {}
    for t in targets:
        results[t.name], kernels[t.name] = run_target(t, series, boots)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / "bench.json"
    try:
        old = json.loads(out.read_text())
    except (FileNotFoundError, ValueError):
        old = {}
    if old:
        shutil.copy(out, RESULTS / "bench-previous.json")
    new = {"fixture": rel(fixture) if fixture else None,
           "kernels": kernels,
           "method": {"icount": ICOUNT[1], "vmalloc": VMALLOC,
                      "rounds": ROUNDS, "boots": boots,
                      "per_boot": "the second least of rounds 2 and "
                                  "on; the mean for cases whose sizes are "
                                  "drawn at random",
                      "pagefault_mib": PAGEFAULT_MIB,
                      "pagefault_reps": PAGEFAULT_REPS, "cmdline": CMDLINE},
           "results": results}
    out.write_text(json.dumps(new, indent=1) + "\n")
    again = new["again"] = agreement(old, new)
    out.write_text(json.dumps(new, indent=1) + "\n")
    plot(results, RESULTS / "bench.svg")
    say(table(results))
    if again:
        say(again)
    say(f"bench: {time.time() - s:.0f}s; {rel(RESULTS)}/bench.json, "
        f"{rel(RESULTS)}/bench.svg")
    bad = verdict(results, fixture)
    for b in bad:
        say(f"FAIL  {b}")
    return 1 if bad else 0
