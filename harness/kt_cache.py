"""Results kept while their inputs hold: build/cache/NAME.json."""
import hashlib
import json
import os
import threading
from pathlib import Path

from kt_common import BUILD, TOP

HARNESS = Path(__file__).resolve().parent


# Modules whose work is never cached: the command line, the order of
# make check's work and its report, bundles, LAVA and make bench.  An edit
# to them keeps the cache.
UNCACHED = {"kt.py", "kt_check.py", "kt_report.py", "kt_bundle.py",
            "kt_lava.py", "kt_bench.py"}


def harness_text() -> str:
    """Every module of the harness that computes a result, and the common
    kconfig fragment: a change to any of them invalidates every cached
    result."""
    files = sorted(f for f in HARNESS.glob("kt*.py")
                   if f.name not in UNCACHED) + \
        [TOP / "config/common.config"]
    return "".join(f"{f.name}\0{f.read_text()}\0" for f in files)


# (read once, at the start: an edit during a long run must not file the
# old code's results under the new text)
_HARNESS = harness_text()


def cache_key(*parts) -> str:
    """A key for a result that holds while parts and the harness do."""
    return hashlib.sha1(repr([*parts, _HARNESS]).encode()).hexdigest()


class Cache:
    """build/cache/NAME.json: results that passed, by cache_key().

    Written to a temporary file and renamed, so an interrupted run never
    leaves a half-written file behind; safe to share between threads."""

    _lock = threading.Lock()

    def __init__(self, name: str, where: Path = BUILD / "cache"):
        self.path = where / f"{name}.json"
        try:
            self.data = json.loads(self.path.read_text())
        except (FileNotFoundError, ValueError):
            self.data = {}

    def get(self, key: str) -> object:
        return self.data.get(key)

    def put(self, key: str, value) -> None:
        self.update({key: value})

    def update(self, values: dict) -> None:
        """put() each key and value, the file written once."""
        with self._lock:
            self.data.update(values)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(f".tmp{threading.get_ident()}")
            tmp.write_text(json.dumps(self.data, indent=1))
            os.replace(tmp, self.path)
