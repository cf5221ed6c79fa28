"""What every stage shares: paths, the build identity, running commands,
the one-line error, and the Debian package behind each tool."""
import contextlib
import functools
import glob
import os
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import Callable

TOP = Path(__file__).resolve().parent.parent
# Tree mode (kt.py --tree PATH --range A..B): a git tree of the user's and
# a range of its commits, in place of Debian's tarball and series/KVER/.
# kt.py sets these, and KVER from the tree's Makefile, before importing
# anything of the harness.
TREE = os.environ.get("KT_TREE", "")
RANGE = os.environ.get("KT_RANGE", "")
# (tree mode keeps its own build/tree/, laid out as build/ is, so that
# the compiler sees the same relative paths and ccache hits)
BUILD = TOP / "build" / "tree" if TREE else TOP / "build"
KVER = os.environ.get("KVER", "6.12")
SRC = BUILD / "src" / KVER          # the tree a developer edits
SECOND = BUILD / "builder2"         # check's second builder: work/, out/
# the patches: series/KVER/, or in tree mode the range, format-patch'ed
SERIES = BUILD / "series" if TREE else TOP / "series" / KVER
# The postings under SERIES, each a directory (a cover letter when it has
# more than one patch), sent on their own and applied in this order: the
# x86 fix (the x86 tree), the mm fixes (mm-hotfixes), then the feature
# (mm-new) on top of them.
POSTINGS = ("x86", "fixes", "track")
RESULTS = BUILD / "results"
JOBS = str(os.cpu_count() or 2)

# Deterministic base commit and build identity.
BASE_DATE = "1970-01-01T00:00:01Z"
BUILD_ENV = {
    "KBUILD_BUILD_TIMESTAMP": "1970-01-01",
    "KBUILD_BUILD_USER": "kt",
    "KBUILD_BUILD_HOST": "kt",
    # (not the .version counter: the same tree links the same image, and
    # a boot of the same bits is not repeated)
    "KBUILD_BUILD_VERSION": "1",
    "CCACHE_BASEDIR": str(TOP),
    "CCACHE_NOHASHDIR": "1",
}
HARNESS_GIT = {
    "GIT_COMMITTER_NAME": "kt harness",
    "GIT_COMMITTER_EMAIL": "kt@harness.invalid",
}


class Fail(Exception):
    """A one-line, user-facing error."""


# The one vocabulary of results, for tests and checks alike.
PASS, FAIL, SKIP = "pass", "fail", "skip"
# record(name, result, detail="", secs=None): how every stage reports a
# check (kt_report.Checks.record).
Record = Callable[..., None]


_print_lock = threading.Lock()


def say(text: str) -> None:
    """Print whole lines, also from several threads."""
    with _print_lock:
        print(text, flush=True)


def log(msg: str) -> None:
    say(f"[{time.strftime('%H:%M:%S')}] {msg}")


class ticking:
    """with ticking(what): a log line every `every` seconds while the body
    runs, with what() as its text: long steps show they are alive."""

    def __init__(self, what: Callable[[float], str], every: float = 30):
        self.what, self.every = what, every
        self.done = threading.Event()

    def __enter__(self):
        t0 = time.time()

        def tick():
            while not self.done.wait(self.every):
                log(self.what(time.time() - t0))
        threading.Thread(target=tick, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.done.set()


def rel(p: "str | Path") -> str:
    p = Path(p)
    return str(p.relative_to(TOP)) if p.is_relative_to(TOP) else str(p)


def run(cmd: list, cwd: Path = None, env: dict = None, logf: Path = None,
        check: bool = True, timeout: float = None) -> tuple:
    """Run cmd; return (status, output).  With logf, output goes there.
    Nothing it runs reads the terminal: make's syncconfig would stop at a
    Kconfig symbol it has no value for and wait for an answer."""
    full_env = dict(os.environ, **(env or {}))
    try:
        if logf:
            with open(logf, "a") as f:
                f.write(f"$ {' '.join(map(str, cmd))}\n")
                f.flush()
                r = subprocess.run(cmd, cwd=cwd, env=full_env, stdout=f,
                                   stderr=subprocess.STDOUT, timeout=timeout,
                                   stdin=subprocess.DEVNULL)
            out = ""
        else:
            r = subprocess.run(cmd, cwd=cwd, env=full_env, text=True,
                               stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, timeout=timeout,
                               stdin=subprocess.DEVNULL)
            out = r.stdout
    except FileNotFoundError:
        require(str(cmd[0]))
        raise
    if check and r.returncode:
        where = f"see {rel(logf)}" if logf else out.strip()[-300:]
        raise Fail(f"{' '.join(map(str, cmd[:2]))} failed: {where}")
    return r.returncode, out


def git(*args: str, cwd: Path = SRC, env: dict = None,
        check: bool = True) -> str:
    return run(["git", *args], cwd=cwd, env=env, check=check)[1].strip()


def deb_field(pkg: str, field: str) -> str:
    return run(["dpkg-query", "-W", f"-f=${{{field}}}", pkg])[1].strip()


# ------------------------------------------------ which builder am I

_thread = threading.local()


def second_builder() -> None:
    """This thread builds in build/builder2/ (a thread initializer)."""
    _thread.root = SECOND


# Checkouts of their own beside a builder's, for trees that are not the
# series' (see sub_root()): the base's, and the fixes' alone.
SUBROOTS = ("base", "alone")


def root() -> Path:
    """Where this thread's checkout and kernel builds live: build/, or
    build/builder2/ for check's second builder, or a SUBROOTS directory
    in either (see sub_root()).  The layout is the same, so the compiler
    sees the same relative paths and ccache hits."""
    r = getattr(_thread, "root", BUILD)
    sub = getattr(_thread, "sub", "")
    return r / sub if sub else r


@contextlib.contextmanager
def sub_root(name: str):
    """root() is its SUBROOTS directory name/ inside the body: a checkout
    and build directories of their own, so that the series' checkout
    never moves to another tree (git would write every file that differs,
    and Kbuild, which goes by modification times, would compile every
    object that includes one of them again on the series' next build)."""
    assert name in SUBROOTS, name
    was = getattr(_thread, "sub", "")
    _thread.sub = name
    try:
        yield
    finally:
        _thread.sub = was


def checkouts() -> list:
    """Every checkout root() may have: each builder's and their
    SUBROOTS'."""
    return [r / s / "work" for r in (BUILD, SECOND) for s in ("", *SUBROOTS)]


def work() -> Path:
    """The harness's checkout (a git worktree)."""
    return root() / "work" / KVER


def outs() -> Path:
    """Kernel build directories, built from work() only."""
    return root() / "out"


# ------------------------------------------------ tools and packages

# The Debian package that has each command the harness or a gate runs
# (harness/deps.sh installs them all), and each module that Debian's
# python3 must import for a gate (checkpatch's spdxcheck.py).
PACKAGE = {
    "ccache": "ccache", "cpio": "cpio", "perl": "perl", "sparse": "sparse",
    "apt-get": "apt", "find": "findutils",
    "spatch": "coccinelle", "ocamlopt": "ocaml", "depmod": "kmod",
    "flex": "flex", "bison": "bison", "bc": "bc", "dpkg-deb": "dpkg",
    "git": "git", "make": "make", "tar": "tar", "xz": "xz-utils",
    "sphinx-build": "python3-sphinx", "qemu-system-x86_64": "qemu-system-x86",
    "qemu-system-i386": "qemu-system-x86", "qemu-system-ppc64":
    "qemu-system-ppc", "qemu-system-ppc": "qemu-system-ppc",
    "qemu-system-arm": "qemu-system-arm",
    "qemu-system-aarch64": "qemu-system-arm",
    "lava-run": "lava-dispatcher", "gnuplot": "gnuplot-nox",
    "ctags": "universal-ctags", "cscope": "cscope",
}
PY_PACKAGE = {"ply": "python3-ply", "git": "python3-git",
              "jinja2": "python3-jinja2"}
# Headers a kernel build needs from the host (objtool, sign-file).
HEADERS = {"/usr/include/gelf.h": "libelf-dev",
           "/usr/include/openssl/ssl.h": "libssl-dev"}
# What spatch needs besides itself: ocamlopt for the OCaml parts of some
# scripts, and libpython3.X.so (unversioned, from the -dev package) for
# the Python parts: pyml dlopens it, or spatch stops with "unable to find
# the Python library".
SPATCH = {"cmds": ("spatch", "ocamlopt"),
          "files": {"/usr/lib/*-linux-gnu/libpython3.*.so": "libpython3-dev"}}
DEBIAN_PYTHON = "/usr/bin/python3"


def package_of(cmd: str) -> str:
    """The Debian package of a command: a cross gcc is gcc-TRIPLET."""
    if cmd.endswith("-gcc"):
        return "gcc-" + cmd[:-len("-gcc")]
    return PACKAGE.get(cmd, cmd)


def require(*cmds: str, py: tuple = (), files: dict = None) -> None:
    """Fail, naming the Debian packages, unless every command is on PATH,
    Debian's python3 imports every module in py and every file in files
    ({path or glob pattern: package}) exists."""
    missing = {c: package_of(c) for c in cmds if not shutil.which(c)}
    missing.update({f: p for f, p in (files or {}).items()
                    if not glob.glob(f)})
    for m in py:
        ok = Path(DEBIAN_PYTHON).exists() and subprocess.run(
            [DEBIAN_PYTHON, "-c", f"import {m}"], capture_output=True
        ).returncode == 0
        if not ok:
            missing[f"python3 module {m}"] = PY_PACKAGE[m]
    if missing:
        pkgs = " ".join(sorted(set(missing.values())))
        raise Fail(f"{', '.join(missing)} not found: install Debian "
                   f"package{'s' if ' ' in pkgs else ''} {pkgs} "
                   f"(make deps, or apt-get install {pkgs})")


@functools.lru_cache(maxsize=None)
def tool_versions(*extra) -> list:
    """The first line of each tool's --version: part of every cache key."""
    return [run([c, "--version"], check=False)[1].splitlines()[:1]
            if shutil.which(c) else f"{c}: missing"
            for c in ("sparse", "spatch", *extra)]
