"""What the user reads: one PASS/FAIL/SKIP line per check, the table of
jobs, and build/results/check.json."""
import json
import threading
from pathlib import Path

from kt_common import FAIL, PASS, SKIP, say

WORD = {PASS: "PASS", FAIL: "FAIL", SKIP: "SKIP"}


class Checks:
    """The checks of one run, recorded from any thread, in order."""

    def __init__(self):
        self.items: list = []
        self._lock = threading.Lock()

    def record(self, name: str, result: str, detail: str = "",
               secs: float = None) -> None:
        """result: "pass", "fail", or "skip" (detail says why)."""
        if result not in WORD:
            raise ValueError(f"{name}: result {result!r} is not one of "
                             f"{', '.join(WORD)}")
        took = f" ({secs:.0f}s)" if secs is not None else ""
        text = f"{WORD[result]}  {name}{took}"
        if result != PASS and detail:
            text += "\n      " + detail.strip().replace("\n", "\n      ")
        with self._lock:
            self.items.append({"check": name, "result": result,
                               "detail": detail,
                               "seconds": None if secs is None
                               else round(secs, 1)})
            say(text)

    def counts(self) -> dict:
        with self._lock:
            return {w: sum(1 for c in self.items if c["result"] == w)
                    for w in WORD}

    def write(self, path: Path, tested: dict = None) -> None:
        """{"tested": what the run tested, "checks": [each check]}."""
        with self._lock:
            path.write_text(json.dumps({"tested": tested or {},
                                        "checks": self.items},
                                       indent=1) + "\n")


def cell(cases: dict) -> str:
    """"passed/run (N skip) FAIL" for a group of (result, detail)."""
    if not cases:
        return "-"
    n = {k: sum(1 for v, _ in cases.values() if v == k)
         for k in (PASS, FAIL, SKIP)}
    txt = f"{n[PASS]}/{len(cases) - n[SKIP]}"
    return txt + (f" ({n[SKIP]} skip)" if n[SKIP] else "") + \
        (" FAIL" if n[FAIL] else "")


def summary_row(r: dict) -> list:
    """One job's row of the table."""
    tests = r["tests"]
    # (counted per suite: two suites have a "(suite)" entry, the result
    # of the suite itself, which counts only where no case reported)
    kunit = {f"{s}.{c}": v for s, cases in tests.items()
             if s.startswith("kunit.") for c, v in cases.items()
             if c != "(suite)" or len(cases) == 1}
    st = r["stages"]

    def stg(k):
        return f"{st[k]:.0f}s" if k in st else "-"
    return [r["job"], "FAIL" if r["error"] else "ok", stg("apply"),
            stg("build"), stg("boot+test"), cell(tests.get("boot", {})),
            cell(tests.get("test_vmalloc", {})), cell(kunit),
            cell(tests.get("console", {})), f"{r['seconds']:.0f}s"]


HEAD = ["job", "verdict", "apply", "build", "boot+test", "boot",
        "test_vmalloc", "kunit", "console", "total"]


def table(rows: list) -> str:
    rows = [HEAD] + rows
    w = [max(len(str(r[i])) for r in rows) for i in range(len(HEAD))]
    return "\n".join("  ".join(str(c).ljust(w[i]) for i, c in enumerate(r))
                     for r in rows)
