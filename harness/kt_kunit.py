"""The kernel tree's own KUnit tool, tools/testing/kunit/: its KTAP
parser, its kconfig parser and its KernelCI JSON writer.  Their API is internal to the kernel and
changes between versions, so the harness reaches them only through
kt_ktap (KTAP) and kt_kbuild (kconfig), and imports them once, from the
base tree, before any thread starts."""
import importlib
import sys
from pathlib import Path
from types import ModuleType

from kt_common import Fail, rel

MODULES = ("kunit_printer", "kunit_parser", "kunit_config", "kunit_json")
_loaded: dict = {}


def load(tree: Path) -> None:
    """Import MODULES from tree/tools/testing/kunit, once, without writing
    __pycache__ into the kernel tree."""
    d = (Path(tree) / "tools" / "testing" / "kunit").resolve()
    if not all((d / f"{m}.py").exists() for m in MODULES):
        raise Fail(f"{rel(d)} lacks {', '.join(MODULES)}: is {rel(tree)} "
                   "a kernel tree?")
    if _loaded:
        if _loaded["dir"] != d:
            raise Fail(f"the kernel's KUnit tool is already loaded from "
                       f"{rel(_loaded['dir'])}, not {rel(d)}")
        return
    saved = sys.path[:], sys.dont_write_bytecode
    sys.path.insert(0, str(d))
    sys.dont_write_bytecode = True
    try:
        mods = {m: importlib.import_module(m) for m in MODULES}
    except Exception as e:      # SyntaxError, ImportError, ...
        raise Fail(f"cannot import the KUnit tool from {rel(d)}: "
                   f"{type(e).__name__}: {e}") from None
    finally:
        sys.path[:], sys.dont_write_bytecode = saved
    for m in mods.values():
        if Path(m.__file__).resolve().parent != d:
            raise Fail(f"{m.__name__} is already imported from {m.__file__}")
    _loaded.update(mods, dir=d)


def module(name: str) -> ModuleType:
    if name not in _loaded:
        raise Fail(f"the kernel's {name}.py is not loaded (kt_kunit.load())")
    return _loaded[name]
