"""The kernel tree's own KUnit tool, tools/testing/kunit/: its KTAP
parser and its kconfig parser.  Their API is internal to the kernel and
changes between versions, so the harness reaches them only through
kt_ktap (KTAP) and kt_kbuild (kconfig), and imports them once, from the
base tree, before any thread starts."""
import importlib
import sys
from pathlib import Path
from types import ModuleType

from kt_common import Fail, rel

MODULES = ("kunit_printer", "kunit_parser", "kunit_config")
_loaded: dict = {}


def load(tree: Path) -> None:
    """Import MODULES from tree/tools/testing/kunit (once)."""
    if _loaded:
        return
    d = Path(tree) / "tools" / "testing" / "kunit"
    if not all((d / f"{m}.py").exists() for m in MODULES):
        raise Fail(f"{rel(d)} lacks {', '.join(MODULES)}: is {rel(tree)} "
                   "a kernel tree?")
    sys.path.insert(0, str(d))
    try:
        for m in MODULES:
            _loaded[m] = importlib.import_module(m)
    finally:
        sys.path.remove(str(d))


def module(name: str) -> ModuleType:
    if name not in _loaded:
        raise Fail(f"the kernel's {name}.py is not loaded (kt_kunit.load())")
    return _loaded[name]
