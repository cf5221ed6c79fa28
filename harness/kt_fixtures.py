"""The harness's own fixtures: known-bad patches in tests/fixtures/ that
make check applies on top of the series and must see caught, by the boot
checks or by the gates their Expect: lines name."""
import dataclasses
import re
import time
from pathlib import Path
from typing import Optional

import kt_targets
import kt_results
from kt_common import (FAIL, HARNESS_GIT, PASS, RESULTS, SKIP, TOP,
                       Fail, Record, git, log, outs, rel, root, work)
from kt_gates import (gate_checkpatch, gate_cocci, gate_docs, gate_kunit,
                      gate_lava, gate_patch, gate_tags, gate_warnings)
from kt_tree import apply, worktree

FIXTURES = TOP / "tests" / "fixtures"
# The series they are written against (make check on another KVER skips
# them: their context is that tree's)
KVER = "6.12"
GATES = ("builds", "warnings", "checkpatch", "docs", "coccicheck", "kunit",
         "lava", "tags")
# What an Expect: line may name: a boot check (suite.case, as in
# results.json) or a gate.
CHECK = re.compile(r"^(apply|boot\.boot|console\.clean|"
                   r"test_vmalloc\.[\w.]+|kunit\.\w+\.(\(suite\)|[\w.-]+)|"
                   rf"gate\.({'|'.join(GATES)}))$")


@dataclasses.dataclass(frozen=True)
class Fixture:
    path: Path
    expects: tuple              # ((check, regex), ...)
    timeout: int                # 0: the target's own
    targets: tuple              # the first boots it
    skips: tuple = ()           # ((check, regex), ...) that must skip

    @property
    def name(self) -> str:
        return self.path.stem

    def gated(self) -> list:
        return [(c, p) for c, p in self.expects if c.startswith("gate.")]

    def booted(self) -> list:
        """Checks of a boot that must fail."""
        return [(c, p) for c, p in self.expects if not c.startswith("gate.")]

    def boots(self) -> bool:
        return bool(self.booted() or self.skips)

    def must_pass(self) -> bool:
        """A fixture of only Expect-skip: lines: the run must not fail."""
        return not self.expects


def load(p: Path) -> Fixture:
    """tests/fixtures/X.patch, its Expect: lines checked: a check name
    the harness does not know, a bad regex or an unknown target fails
    here, in a second, not after a whole run."""
    text = p.read_text()
    expects = tuple(re.findall(r"^Expect: (\S+) (.*)$", text, re.M))
    skips = tuple(re.findall(r"^Expect-skip: (\S+) (.*)$", text, re.M))
    if not expects and not skips:
        raise Fail(f"{rel(p)}: no 'Expect: <check> <regex>' line")
    if any(c.startswith("gate.") for c, _ in skips):
        raise Fail(f"{rel(p)}: a gate cannot be expected to skip")
    for check, pattern in expects + skips:
        if not CHECK.match(check):
            raise Fail(f"{rel(p)}: unknown check '{check}' in Expect: (apply, "
                       "boot.boot, console.clean, test_vmalloc.CASE, "
                       "kunit.SUITE.CASE, gate.{" + ",".join(GATES) + "})")
        try:
            re.compile(pattern)
        except re.error as e:
            raise Fail(f"{rel(p)}: bad regex /{pattern}/: {e}") from None
    tmo = re.search(r"^Expect-timeout: (\d+)$", text, re.M)
    target = re.search(r"^Expect-target: (.+)$", text, re.M)
    targets = tuple(target.group(1).split()) if target else ("x86_64",)
    for t in targets:
        kt_targets.load(t)          # an unknown one fails, naming it
    return Fixture(p, expects, int(tmo.group(1)) if tmo else 0, targets,
                   skips)


def all_fixtures() -> list:
    return [load(p) for p in sorted(FIXTURES.glob("*.patch"))]


def caught(r: dict, check: str, pattern: str, want: str = FAIL) -> bool:
    """Did the run fail (or skip) in the expected check, with the expected
    text?"""
    if check == "apply":
        return "build" not in r["stages"] and bool(
            r["error"] and re.search(pattern, r["error"]))
    res, detail = result_of(r, check)
    return res == want and bool(re.search(pattern, detail, re.S))


def result_of(r: dict, check: str) -> tuple:
    """(result, detail) of a boot check, as the run recorded it."""
    # suite names have dots too ("kunit.pgalloc_track"): take the longest
    suite = max((s for s in r["tests"] if check.startswith(s + ".")),
                key=len, default="")
    return r["tests"].get(suite, {}).get(check[len(suite) + 1:],
                                         ("missing", ""))


def run_gates(f: Fixture, patches: list) -> list:
    """The gates that a fixture names, on the series plus the fixture:
    [(check, result, detail)] as they would be recorded."""
    out: list = []

    def rec(name, res, detail="", secs=None):
        out.append((name, res, detail))

    commits = apply(worktree(), patches + [f.path], env=HARNESS_GIT)
    head, n = commits[-1], len(commits)
    ts = [kt_targets.load(x) for x in f.targets]

    def builds():                   # and the code size, if it says so
        for t in ts:
            out_dir = outs() / t.build
            logf = RESULTS / f"fixture-{f.name}-{t.build}.log"
            logf.unlink(missing_ok=True)
            gate_patch(t, n, head, n, out_dir, logf,
                       lambda m, res, d="", secs=None:
                       rec(m.replace("{i}", str(n)), res, d))
    gates = {
        "checkpatch": lambda: gate_checkpatch([f.path], rec),
        "builds": builds,
        "warnings": lambda: gate_warnings(ts[0], head, rec),
        "docs": lambda: gate_docs(head, rec),
        "coccicheck": lambda: gate_cocci(ts[0], head, rec, since=f"{head}^",
                                         cocci=own_cocci(head)),
        "kunit": lambda: gate_kunit(ts[0], head, rec),
        "lava": lambda: gate_lava(ts[0], patches + [f.path], rec,
                                  f"fixture-{f.name}-lava"),
        "tags": lambda: gate_tags(head, rec),
    }
    for g in dict.fromkeys(c[len("gate."):] for c, _ in f.gated()):
        try:
            gates[g]()
        except Fail as e:           # a gate that could not run
            rec(f"gate.{g}", FAIL, str(e))
    return out


def own_cocci(head: str) -> Optional[Path]:
    """A copy of the Coccinelle script the series adds (the base has
    none), or None.  The fixtures test the series' own check alone: all
    the tree's scripts take minutes a file."""
    added = git("diff", "--name-only", "--diff-filter=A", "base", head,
                "--", "scripts/coccinelle/", cwd=work()).split()
    if not added:
        return None
    cocci = root() / "cocci" / Path(added[0]).name  # (a builder's own)
    cocci.parent.mkdir(parents=True, exist_ok=True)
    cocci.write_text(git("show", f"{head}:{added[0]}", cwd=work()) + "\n")
    return cocci


def check_gated(f: Fixture, patches: list, record: Record) -> None:
    """Run the gates a fixture names (gate.NAME); each must catch it."""
    s = time.time()
    log(f"fixture {f.name}: running "
        + ", ".join(sorted({c for c, _ in f.gated()})))
    try:
        out = run_gates(f, patches)
    except Fail as e:           # it does not apply: every gate misses it
        out = [("apply", FAIL, str(e))]
    for check, pattern in f.gated():
        hit = [n for n, res, d in out if res == FAIL and
               re.search(pattern, f"{n}\n{d}", re.S)]
        got = "\n".join(f"{'FAIL' if res == FAIL else res} {n}"
                        f"{': ' + d if d and res == FAIL else ''}"
                        for n, res, d in out)
        record(f"fixture {f.name}: caught by {check}"
               + (f" ({hit[0]})" if hit else ""), PASS if hit else FAIL,
               "" if hit else f"expected a failure matching "
               f"/{pattern}/; got:\n{got}", time.time() - s)


def check_booted(f: Fixture, r: dict, record: Record) -> None:
    """Each boot check a fixture names must have failed as it says, and
    each Expect-skip: check skipped as it says."""
    def got(check: str) -> str:
        error = r["error"] or "no error"
        if check == "apply":
            return f"stages {', '.join(r['stages'])}: {error}"
        res, detail = result_of(r, check)
        return f"{res}: {detail}; the run: {error}"
    for check, pattern in f.booted():
        record(f"fixture {f.name}: caught by {check}",
               PASS if caught(r, check, pattern) else FAIL,
               f"expected {check} to fail matching /{pattern}/; got "
               f"{got(check)}", r["seconds"])
    for check, pattern in f.skips:
        record(f"fixture {f.name}: {check} skips",
               PASS if caught(r, check, pattern, SKIP) else FAIL,
               f"expected {check} to skip matching /{pattern}/; got "
               f"{got(check)}", r["seconds"])
    if f.must_pass():
        bad = kt_results.failed(r["tests"])
        record(f"fixture {f.name}: nothing fails", FAIL if bad else PASS,
               "\n".join(bad) or (r["error"] or ""))
