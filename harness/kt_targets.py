"""Boot targets: one declarative file each in targets/, loaded into a
typed, frozen Target.  A missing or unknown key names the file and key."""
import dataclasses
import re
from pathlib import Path
from typing import Optional

from kt_common import TOP, Fail, rel, tool_versions

TARGETS = TOP / "targets"


@dataclasses.dataclass(frozen=True)
class Target:
    name: str
    arch: str                   # ARCH= of the kernel build
    cross_compile: str          # CROSS_COMPILE=, "" for the host gcc
    kconfig: str                # fragment on top of defconfig + common
    image: str                  # what QEMU boots, relative to the build
    qemu: tuple                 # QEMU command without kernel and console
    console: str                # console= device
    busybox: Optional[str]      # host path or Debian arch; None: nolibc
    timeout: int                # seconds before the guest is killed
    build: str                  # the build it boots (its own, or inherited)
    cmdline: str = ""           # more kernel parameters
    expect: tuple = ()          # console regexes that must appear (mode)
    # KUnit cases ("suite.case", fnmatch globs) that must run and pass on
    # this target, and those that must skip: a case the target should
    # exercise cannot quietly turn into a skip, nor the other way round.
    exercise: tuple = ()
    skip: tuple = ()
    vmalloc: str = ""           # test_vmalloc.sh parameters, if not the default
    # Build every patch on its own here (bisectability, code size per
    # patch), or only the whole series: make check stays within its time.
    bisect: bool = True
    # Built and booted by make check (python3 harness/kt.py check); the
    # others only when named, or with TARGETS=all: on two cores with an
    # empty ccache, make check builds three kernels within its hour.
    in_check: bool = True
    # The config the fragments go on: tinyconfig (QEMU), or an
    # architecture's defconfig (the hw profile: real machines).
    defconfig: str = "tinyconfig"
    # Kconfig symbols (without CONFIG_) the target is not itself without:
    # a tree that lacks one skips it, saying so.  (Other symbols of the
    # fragment that a tree lacks are left out of its config.)
    requires: tuple = ()
    # QEMU options only where TCG runs the guest (-icount, which KVM
    # refuses).
    tcg: tuple = ()


# Keys a file may set; name and build come from the file name and
# "inherit" (another target's settings, and its kernel build unless this
# file sets kconfig or defconfig).
KEYS = {f.name for f in dataclasses.fields(Target)} - {"name", "build"}


# Profiles: targets/PROFILE/TARGET-PROFILE.py, outside make check.  "hw":
# the architecture's defconfig, for bundles booted on real machines.
PROFILES = ("hw",)


def names(profile: str = "") -> list:
    """Every target, or those of a profile."""
    return sorted(p.stem for p in (TARGETS / profile).glob("*.py"))


def check_names() -> list:
    """The targets make check builds and boots unless told otherwise."""
    return [n for n in names() if load(n).in_check]


def profile_name(name: str, profile: str) -> str:
    """Target name's variant in profile: x86_64 -> x86_64-hw."""
    if profile and profile not in PROFILES:
        raise Fail(f"unknown profile '{profile}' (known: "
                   f"{', '.join(PROFILES)})")
    return f"{name}-{profile}" if profile else name


def _path(name: str) -> Path:
    for d in ("", *PROFILES):
        if (TARGETS / d / f"{name}.py").exists():
            return TARGETS / d / f"{name}.py"
    raise Fail(f"unknown target '{name}' (targets/: {' '.join(names())}; "
               + "; ".join(f"targets/{p}/: {' '.join(names(p))}"
                           for p in PROFILES) + ")")


def _settings(name: str) -> dict:
    path = _path(name)
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
    if "kconfig" in own or "defconfig" in own:
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
        raise Fail(f"{rel(_path(name))}: missing key "
                   f"{', '.join(missing)}")
    for k, v in s.items():
        if not _typed(k, v):
            raise Fail(f"{rel(_path(name))}: {k} = {v!r} is not "
                       f"{KINDS.get(k, (None, 'a string'))[1]}")
    s["qemu"] = tuple(s["qemu"])
    for k in ("expect", "exercise", "skip", "requires", "tcg"):
        s[k] = tuple(s.get(k, ()))
    return Target(name=name, **s)


# What each key must hold: a check, and what to say when it does not.
def _strings(v) -> bool:
    return isinstance(v, (list, tuple)) and all(isinstance(x, str) for x in v)


KINDS = {"qemu": (_strings, "a list of strings"),
         "tcg": (_strings, "a list of strings"),
         "expect": (_strings, "a list of regexes"),
         "exercise": (_strings, "a list of suite.case globs"),
         "skip": (_strings, "a list of suite.case globs"),
         "requires": (lambda v: _strings(v) and all(
             re.fullmatch(r"[A-Z0-9_]+", x) and
             not x.startswith("CONFIG_") for x in v),
             "a list of Kconfig symbols without CONFIG_"),
         "timeout": (lambda v: isinstance(v, int) and v > 0,
                     "a number of seconds"),
         "bisect": (lambda v: isinstance(v, bool), "True or False"),
         "in_check": (lambda v: isinstance(v, bool), "True or False"),
         "busybox": (lambda v: v is None or isinstance(v, str),
                     "a path, a Debian architecture or None")}


def _typed(key: str, value) -> bool:
    check, _ = KINDS.get(key, (lambda v: isinstance(v, str), "a string"))
    return check(value)


def key(t: Target) -> list:
    """What a cached result of target t depends on besides the tree: its
    settings, and the versions of the tools that build, check and boot."""
    # (requires says where the target is built at all, not how)
    return [sorted((k, v) for k, v in dataclasses.asdict(t).items()
                   if k != "requires"),
            tool_versions(t.cross_compile + "gcc", t.qemu[0])]
