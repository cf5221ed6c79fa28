"""Boot targets: one declarative file each in targets/, loaded into a
typed, frozen Target.  A missing or unknown key names the file and key."""
import dataclasses
from typing import Optional

from kt_common import TOP, Fail, rel, tool_versions

TARGETS = TOP / "targets"


@dataclasses.dataclass(frozen=True)
class Target:
    name: str
    arch: str                   # ARCH= of the kernel build
    cross_compile: str          # CROSS_COMPILE=, "" for the host gcc
    kconfig: str                # fragment on top of tinyconfig + common
    image: str                  # what QEMU boots, relative to the build
    qemu: tuple                 # QEMU command without kernel and console
    console: str                # console= device
    busybox: Optional[str]      # host path or Debian arch; None: nolibc
    timeout: int                # seconds before the guest is killed
    build: str                  # the build it boots (its own, or inherited)
    cmdline: str = ""           # more kernel parameters
    expect: tuple = ()          # console regexes that must appear (mode)


# Keys a file may set; name and build come from the file name and
# "inherit" (another target's settings, and its kernel build unless this
# file sets kconfig).
KEYS = {f.name for f in dataclasses.fields(Target)} - {"name", "build"}


def names() -> list:
    return sorted(p.stem for p in TARGETS.glob("*.py"))


def _settings(name: str) -> dict:
    path = TARGETS / f"{name}.py"
    if not path.exists():
        raise Fail(f"unknown target '{name}' (targets/: {' '.join(names())})")
    own: dict = {}
    try:
        exec(compile(path.read_text(), str(path), "exec"), {}, own)
    except Exception as e:      # a syntax error, say, names the file
        raise Fail(f"{rel(path)}: {type(e).__name__}: {e}") from None
    unknown = sorted(set(own) - KEYS - {"inherit"})
    if unknown:
        raise Fail(f"{rel(path)}: unknown key {', '.join(unknown)} "
                   f"(known: {', '.join(sorted(KEYS | {'inherit'}))})")
    settings = _settings(own.pop("inherit")) if "inherit" in own else \
        {"build": name}
    if "kconfig" in own:
        settings["build"] = name
    settings.update(own)
    return settings


def load(name: str) -> Target:
    """targets/NAME.py as a Target."""
    s = _settings(name)
    required = {f.name for f in dataclasses.fields(Target)
                if f.default is dataclasses.MISSING} - {"name"}
    missing = sorted(required - set(s))
    if missing:
        raise Fail(f"{rel(TARGETS / (name + '.py'))}: missing key "
                   f"{', '.join(missing)}")
    s["qemu"] = tuple(s["qemu"])
    s["expect"] = tuple(s.get("expect", ()))
    return Target(name=name, **s)


def key(t: Target) -> list:
    """What a cached result of target t depends on besides the tree: its
    settings, and the versions of the tools that build, check and boot."""
    return [sorted(dataclasses.asdict(t).items()),
            tool_versions(t.cross_compile + "gcc", t.qemu[0])]
