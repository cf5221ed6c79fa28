#!/usr/bin/env python3
"""Apply the series to Debian's kernel tree, build, boot in QEMU, test, report.

  kt.py tree                 build/src/KVER: base commit + series as commits
  kt.py export               series/KVER/ from build/src/KVER (format-patch)
  kt.py run [TARGET...]      the main job: series applied, built, booted, tested
  kt.py check                every check: targets, then the fixtures in tests/

Everything generated lands under build/.  Exit status is non-zero on failure.
"""
import concurrent.futures
import fcntl
import functools
import hashlib
import json
from collections import Counter
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

TOP = Path(__file__).resolve().parent.parent
BUILD = TOP / "build"
KVER = os.environ.get("KVER", "6.12")
SRC = BUILD / "src" / KVER          # the tree a developer edits
SECOND = BUILD / "builder2"         # check's second builder: work/, out/
SERIES = TOP / "series" / KVER
RESULTS = BUILD / "results"
JOBS = str(os.cpu_count() or 2)

# Deterministic base commit and build identity.
BASE_DATE = "1970-01-01T00:00:01Z"
BUILD_ENV = {
    "KBUILD_BUILD_TIMESTAMP": "1970-01-01",
    "KBUILD_BUILD_USER": "kt",
    "KBUILD_BUILD_HOST": "kt",
    "CCACHE_BASEDIR": str(TOP),
    "CCACHE_NOHASHDIR": "1",
}
HARNESS_GIT = {
    "GIT_COMMITTER_NAME": "kt harness",
    "GIT_COMMITTER_EMAIL": "kt@harness.invalid",
}

# A console line matching this fails the run, whatever the tests said.
BAD_CONSOLE = re.compile(
    r"BUG:|WARNING:|Oops|KASAN|Kernel panic|Call Trace:|kernel BUG at|"
    r"general protection fault|Unable to handle kernel|UBSAN:|"
    r"RCU stall|soft lockup|hung_task")

# test_vmalloc cases left out of every run, with the reason.
VMALLOC_SKIP = {
    "align_shift_alloc_test":
        "fails by design (lib/test_vmalloc.c: 'supposed to be failed') "
        "and dumps a stack",
}
VMALLOC_LOOPS = "test_loop_count=1000 test_repeat_count=1"


class Fail(Exception):
    """A one-line, user-facing error."""


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def run(cmd, cwd=None, env=None, logf=None, check=True, timeout=None):
    """Run cmd; return (status, output).  With logf, output goes there."""
    full_env = dict(os.environ, **(env or {}))
    if logf:
        with open(logf, "a") as f:
            f.write(f"$ {' '.join(map(str, cmd))}\n")
            f.flush()
            r = subprocess.run(cmd, cwd=cwd, env=full_env, stdout=f,
                               stderr=subprocess.STDOUT, timeout=timeout)
        out = ""
    else:
        r = subprocess.run(cmd, cwd=cwd, env=full_env, text=True,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=timeout)
        out = r.stdout
    if check and r.returncode:
        where = f"see {rel(logf)}" if logf else out.strip()[-300:]
        raise Fail(f"{' '.join(map(str, cmd[:2]))} failed: {where}")
    return r.returncode, out


def git(*args, cwd=SRC, env=None, check=True):
    return run(["git", *args], cwd=cwd, env=env, check=check)[1].strip()


def deb_field(pkg, field):
    return run(["dpkg-query", "-W", f"-f=${{{field}}}", pkg])[1].strip()


# The Debian package that has each command the harness or a gate runs
# (harness/deps.sh installs them all), and each module that Debian's
# python3 must import for a gate (checkpatch's spdxcheck.py, the docs).
PACKAGE = {
    "ccache": "ccache", "cpio": "cpio", "perl": "perl", "sparse": "sparse",
    "spatch": "coccinelle", "ocamlopt": "ocaml", "depmod": "kmod",
    "flex": "flex", "bison": "bison", "bc": "bc", "dpkg-deb": "dpkg",
    "sphinx-build": "python3-sphinx", "qemu-system-x86_64": "qemu-system-x86",
    "qemu-system-i386": "qemu-system-x86", "qemu-system-ppc64":
    "qemu-system-ppc", "qemu-system-ppc": "qemu-system-ppc",
}
PY_PACKAGE = {"ply": "python3-ply", "git": "python3-git",
              "sphinx_rtd_theme": "python3-sphinx-rtd-theme",
              "yaml": "python3-yaml"}


def package_of(cmd):
    """The Debian package of a command: a cross gcc is gcc-TRIPLET."""
    if cmd.endswith("-gcc"):
        return "gcc-" + cmd[:-len("-gcc")]
    return PACKAGE.get(cmd, cmd)


# Headers a kernel build needs from the host (objtool, sign-file).
HEADERS = {"/usr/include/gelf.h": "libelf-dev",
           "/usr/include/openssl/ssl.h": "libssl-dev"}


def require(*cmds, py=(), files=None):
    """Fail, naming the Debian packages, unless every command is on PATH,
    Debian's python3 imports every module in py and every file in files
    ({path: package}) exists."""
    missing = {c: package_of(c) for c in cmds if not shutil.which(c)}
    missing.update({f: p for f, p in (files or {}).items()
                    if not Path(f).exists()})
    for m in py:
        rc, _ = run(["/usr/bin/python3", "-c", f"import {m}"], check=False) \
            if Path("/usr/bin/python3").exists() else (1, "")
        if rc:
            missing[f"python3 module {m}"] = PY_PACKAGE[m]
    if missing:
        pkgs = " ".join(sorted(set(missing.values())))
        raise Fail(f"{', '.join(missing)} not found: install Debian "
                   f"package{'s' if ' ' in pkgs else ''} {pkgs} "
                   f"(make deps, or apt-get install {pkgs})")


# ---------------------------------------------------------------- the tree

def base_tree():
    """build/src/KVER: Debian's tarball as one deterministic base commit."""
    pkg = f"linux-source-{KVER}"
    tarball = Path(f"/usr/src/{pkg}.tar.xz")
    if not tarball.exists():
        raise Fail(f"{tarball} is missing: install Debian package {pkg} "
                   "(make deps)")
    version = deb_field(pkg, "Version")
    stamp = SRC / ".git" / "kt-debian-version"
    if stamp.exists() and stamp.read_text().strip() == version and \
            git("rev-parse", "-q", "--verify", "base", check=False):
        return version
    log(f"tree: unpacking {tarball.name} ({pkg} {version}) into {SRC}")
    t0 = time.time()
    shutil.rmtree(SRC, ignore_errors=True)
    for d in (BUILD / "work", SECOND / "work"):
        shutil.rmtree(d, ignore_errors=True)
    tmp = BUILD / "src" / "unpack.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    run(["tar", "-xJf", str(tarball), "-C", str(tmp)])
    (tmp / pkg).rename(SRC)
    tmp.rmdir()
    log(f"tree: creating the base commit ({time.time() - t0:.0f}s so far)")
    git("init", "-q", "-b", "series")
    git("config", "gc.auto", "0")
    git("add", "-A", "-f")
    maint = deb_field(pkg, "Maintainer")
    name, email = re.match(r"(.*?)\s*<(.*)>", maint).groups()
    env = {"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email,
           "GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": email,
           "GIT_AUTHOR_DATE": BASE_DATE, "GIT_COMMITTER_DATE": BASE_DATE}
    git("commit", "-q", "--no-gpg-sign", "-m", f"{pkg} {version}", "-m",
        f"Unpacked from {tarball} of Debian package {pkg} {version}.",
        env=env)
    git("tag", "base")
    stamp.write_text(version + "\n")
    log(f"tree: base {git('rev-parse', '--short', 'base')} = {pkg} "
        f"{version} ({time.time() - t0:.0f}s)")
    return version


def patches_in(d):
    return sorted(p for p in Path(d).glob("[0-9][0-9][0-9][0-9]-*.patch")
                  if not p.name.startswith("0000-"))


def apply(tree, patches, env=None, reuse=True):
    """Check out base plus each patch, git-am'd; name the one that fails.

    With reuse, a patch already applied on the same parent commit is not
    applied again: its commit is kept under refs/kt/am/.  Moving straight
    from one series to the next rewrites only the files that differ, so
    the next build recompiles only those."""
    git("am", "--abort", cwd=tree, check=False)
    cur = git("rev-parse", "base", cwd=tree)
    commits = []
    for p in patches:
        ref = "refs/kt/am/" + hashlib.sha1(
            cur.encode() + b"\0" + p.read_bytes()).hexdigest()
        done = reuse and git("rev-parse", "-q", "--verify", ref, cwd=tree,
                             check=False)
        if not done:
            git("checkout", "-q", "-f", "--detach", cur, cwd=tree)
            rc, out = run(["git", "am", "-q", str(p)], cwd=tree, env=env,
                          check=False)
            if rc:
                git("am", "--abort", cwd=tree, check=False)
                files = re.findall(r"^error: (?:patch failed: )?(\S+?):",
                                   out, re.M)
                raise Fail(f"{rel(p)} does not apply to {rel(tree)}: "
                           f"{', '.join(dict.fromkeys(files)) or out.strip()}")
            done = git("rev-parse", "HEAD", cwd=tree)
            if reuse:
                git("update-ref", ref, done, cwd=tree)
        cur = done
        commits.append(cur)
    git("checkout", "-q", "-f", "--detach", cur, cwd=tree)
    return commits


def rel(p):
    p = Path(p)
    return str(p.relative_to(TOP)) if p.is_relative_to(TOP) else str(p)


_thread = threading.local()


def root():
    """Where this thread's checkout and kernel builds live: build/, or
    build/builder2/ for check's second builder.  The layout is the same,
    so the compiler sees the same relative paths and ccache hits."""
    return getattr(_thread, "root", BUILD)


def work():
    """The harness's checkout (a git worktree)."""
    return root() / "work" / KVER


def outs():
    """Kernel build directories, built from work() only."""
    return root() / "out"


def worktree():
    """The harness's checkout, separate from the tree a developer edits."""
    if not (work() / ".git").exists():
        shutil.rmtree(work(), ignore_errors=True)
        git("worktree", "prune")
        log(f"tree: checking out a work tree in {rel(work())}")
        git("worktree", "add", "-q", "--detach", str(work()), "base")
    return work()


def cmd_tree():
    base_tree()
    identity = {} if git("config", "user.email", check=False) else HARNESS_GIT
    if git("status", "--porcelain", "-uno"):
        raise Fail(f"{rel(SRC)} has uncommitted changes: commit or drop them")
    commits = apply(SRC, patches_in(SERIES), env=identity, reuse=False)
    git("checkout", "-q", "-B", "series")
    log(f"tree: {rel(SRC)} is on branch 'series', {len(commits)} patches "
        "on 'base'; edit, commit, then 'make export'")


def cmd_export():
    if not git("rev-parse", "-q", "--verify", "base", check=False):
        raise Fail(f"no tree in {rel(SRC)}: run 'make tree' first")
    cover = SERIES / "0000-cover-letter.patch"
    old = cover.read_text() if cover.exists() else ""
    tmp = BUILD / "export.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    git("format-patch", "-q", "--cover-letter", "--base=base", "-o",
        str(tmp), "base..HEAD")
    if old:     # keep the cover letter's subject and text
        new = tmp / "0000-cover-letter.patch"
        new.write_text(keep_cover(old, new.read_text()))
    for p in SERIES.glob("*.patch"):
        p.unlink()
    SERIES.mkdir(parents=True, exist_ok=True)
    for p in sorted(tmp.iterdir()):
        shutil.move(str(p), SERIES / p.name)
    tmp.rmdir()
    log(f"export: {len(patches_in(SERIES))} patches + cover letter "
        f"in {rel(SERIES)}")


def keep_cover(old, new):
    """New cover letter: old subject and body, new shortlog/diffstat/base."""
    def parts(text):
        hdr, _, body = text.partition("\n\n")
        return hdr, body
    old_hdr, old_body = parts(old)
    new_hdr, new_body = parts(new)
    # The subject's text, under the new "[PATCH 0/N]" prefix.
    subj = re.search(r"^Subject: \[[^\]]*\] (.*(?:\n .*)*)", old_hdr, re.M)
    new_hdr = re.sub(r"^(Subject: \[[^\]]*\] ).*(?:\n .*)*",
                     lambda m: m.group(1) + subj.group(1),
                     new_hdr, flags=re.M) if subj else new_hdr
    # The text a human wrote ends where git's shortlog starts.
    text = re.split(r"\n(?=\S.* \(\d+\):\n)", old_body, maxsplit=1)[0]
    generated = re.split(r"\n(?=\S.* \(\d+\):\n)", new_body, maxsplit=1)
    return f"{new_hdr}\n\n{text}\n{generated[1] if len(generated) > 1 else ''}"


# ------------------------------------------------------------ the targets

def load_target(name):
    path = TOP / "targets" / f"{name}.py"
    if not path.exists():
        known = " ".join(sorted(p.stem for p in (TOP / "targets").glob("*.py")))
        raise Fail(f"unknown target '{name}' (targets/: {known})")
    own = {}
    exec(compile(path.read_text(), str(path), "exec"), {}, own)
    # "inherit": another target's settings, and its kernel build unless
    # this file changes the kconfig.
    t = load_target(own["inherit"]) if "inherit" in own else {}
    t.update(own, name=name)
    if "inherit" not in own or "kconfig" in own:
        t["build"] = name
    return t


def all_targets():
    return sorted(p.stem for p in (TOP / "targets").glob("*.py"))


def make_args(t, odir):
    cc = f"ccache {t['cross_compile']}gcc"
    # CCACHE_BASEDIR (cache hits from any clone) hands gcc the source as a
    # path relative to odir, which Kbuild's absolute -fmacro-prefix-map
    # misses: strip that prefix too, so __FILE__ stays "mm/vmalloc.c".
    rel_src = os.path.relpath(work(), odir)
    return ["make", "-s", "-C", str(work()), f"O={odir}", f"ARCH={t['arch']}",
            f"CROSS_COMPILE={t['cross_compile']}", f"CC={cc}",
            "HOSTCC=ccache gcc", f"KCFLAGS=-fmacro-prefix-map={rel_src}/=",
            f"-j{JOBS}"]


def in_tree(line):
    """Does the tree being built know the symbol of 'CONFIG_X=...'?"""
    sym = line.split("=")[0][len("CONFIG_"):]
    rc, _ = run(["git", "grep", "-q", "-E", f"^(menu)?config {sym}$", "--",
                 "*Kconfig*"], cwd=work(), check=False)
    return rc == 0


def kconfig(t, odir, logf):
    """tinyconfig + config/common.config + the target's fragment.

    Options the tree does not know (the series' own test, on the base
    tree) are left out; the config is made again once the tree has them."""
    frag = (TOP / "config" / "common.config").read_text() + t["kconfig"]
    want = [l.strip() for l in frag.splitlines()
            if l.strip().startswith("CONFIG_")]
    fragf = odir / "kt.fragment"
    if fragf.exists() and fragf.read_text() == frag and \
            (odir / ".config").exists():
        have = set((odir / ".config").read_text().splitlines())
        if all(l in have or not in_tree(l) for l in want):
            return
    odir.mkdir(parents=True, exist_ok=True)
    fragf.write_text("")                    # invalid until the end
    run(make_args(t, odir) + ["tinyconfig"], env=BUILD_ENV, logf=logf)
    frag_tmp = odir / "kt.fragment.in"
    frag_tmp.write_text(frag)
    run([str(work() / "scripts/kconfig/merge_config.sh"), "-m", "-O",
         str(odir), str(odir / ".config"), str(frag_tmp)],
        cwd=work(), env=dict(BUILD_ENV, ARCH=t["arch"]), logf=logf)
    run(make_args(t, odir) + ["olddefconfig"], env=BUILD_ENV, logf=logf)
    have = set((odir / ".config").read_text().splitlines())
    for line in want:
        if line not in have and in_tree(line):
            raise Fail(f"{t['name']}: {line} did not survive olddefconfig "
                       "(a dependency is missing from the fragment)")
    fragf.write_text(frag)


def build(t, odir, logf):
    """Configure and build kernel + modules; install modules in odir/mods."""
    require(f"{t['cross_compile']}gcc", "ccache", "flex", "bison", "bc",
            "perl", "depmod", files=HEADERS)
    kconfig(t, odir, logf)
    run(make_args(t, odir), env=BUILD_ENV, logf=logf)
    mods = odir / "mods"
    shutil.rmtree(mods, ignore_errors=True)
    run(make_args(t, odir) + ["modules_install", f"INSTALL_MOD_PATH={mods}",
                              "INSTALL_MOD_STRIP=1"],
        env=BUILD_ENV, logf=logf)
    warnings = sum(1 for l in open(logf, errors="replace")
                   if re.search(r": warning:", l))
    return {"warnings": warnings,
            "image_bytes": (odir / t["image"]).stat().st_size}


# ---------------------------------------------------------- boot and test

def busybox(t):
    """A static busybox: the host's, or Debian's busybox-static for the
    target's Debian architecture, fetched with a private apt state (the
    host's dpkg architectures are left alone)."""
    arch = t["busybox"]
    if arch.startswith("/"):
        return Path(arch)
    dest = BUILD / "userland" / arch
    bb = dest / "bin" / "busybox"
    if bb.exists():
        return bb
    state = BUILD / "apt" / arch
    for d in ("lists/partial", "cache/archives/partial", "deb"):
        (state / d).mkdir(parents=True, exist_ok=True)
    opts = ["-q", "-o", f"APT::Architectures={arch}",
            "-o", f"APT::Architecture={arch}",
            "-o", f"Dir::State::Lists={state}/lists",
            "-o", f"Dir::Cache={state}/cache",
            "-o", "Dir::State::status=/dev/null", "-o", "Debug::NoLocking=1"]
    log(f"userland: downloading Debian's busybox-static:{arch}")
    run(["apt-get", *opts, "update"], check=False)
    rc, out = run(["apt-get", *opts, "download", "busybox-static"],
                  cwd=state / "deb", check=False)
    debs = list((state / "deb").glob("busybox-static_*.deb"))
    if not debs:
        raise Fail(f"cannot download Debian package busybox-static:{arch}: "
                   f"{out.strip().splitlines()[-1] if out.strip() else rc}")
    dest.mkdir(parents=True, exist_ok=True)
    run(["dpkg-deb", "-x", str(debs[0]), str(dest)])
    return bb


def nolibc_init(t, odir, dest):
    """guest/init-nolibc.c, static, against the tree's nolibc."""
    run(make_args(t, odir) + ["headers"], env=BUILD_ENV)
    run([f"{t['cross_compile']}gcc", "-static", "-nostdlib", "-Os",
         "-fno-stack-protector", "-include",
         str(work() / "tools/include/nolibc/nolibc.h"),
         "-I", str(odir / "usr/include"), "-o", str(dest),
         str(TOP / "guest" / "init-nolibc.c"), "-lgcc"])


def initramfs(t, odir):
    """A cpio with busybox, the modules, the selftest and guest/init."""
    root = odir / "initramfs"
    shutil.rmtree(root, ignore_errors=True)
    (root / "bin").mkdir(parents=True)
    (root / "kt" / "selftests").mkdir(parents=True)
    if t["busybox"]:
        shutil.copy(busybox(t), root / "bin" / "busybox")
        shutil.copy(TOP / "guest" / "init", root / "init")
    else:
        nolibc_init(t, odir, root / "init")
    shutil.copytree(odir / "mods" / "lib", root / "lib",
                    ignore=shutil.ignore_patterns("build", "source"))
    shutil.copy(work() / "tools/testing/selftests/mm/test_vmalloc.sh",
                root / "kt" / "selftests")
    mask = sum(1 << i for i, c in enumerate(vmalloc_cases())
               if c not in VMALLOC_SKIP)
    (root / "kt" / "vmalloc.params").write_text(
        f"{VMALLOC_LOOPS} run_test_mask={mask}\n")
    out = odir / "initramfs.cpio"
    files = subprocess.run(["find", "."], cwd=root, capture_output=True,
                           check=True).stdout
    with open(out, "wb") as f:
        subprocess.run(["cpio", "-o", "-H", "newc", "--quiet"], cwd=root,
                       input=files, stdout=f, check=True)
    return out


def added_kunit_suites():
    """Names of the KUnit suites in files the applied patches add."""
    files = git("diff", "--name-only", "--diff-filter=A", "base", "HEAD",
                "--", "*kunit*.c", cwd=work()).split()
    return [n for f in files for n in re.findall(
        r'\.name\s*=\s*"(\w+)"', (work() / f).read_text())]


def vmalloc_cases():
    """Case names in the order of lib/test_vmalloc.c's test_case_array."""
    text = (work() / "lib" / "test_vmalloc.c").read_text()
    body = text[text.index("test_case_array[] = {"):]
    body = body[:body.index("};")]
    return re.findall(r'\{\s*"(\w+)"', body)


def boot(t, image, initrd, console_log, timeout):
    """Boot under QEMU (TCG); return (console lines, timed_out)."""
    append = f"console={t['console']} panic=-1 oops=panic {t['cmdline']}"
    cmd = t["qemu"] + ["-accel", "tcg", "-smp", "1", "-display", "none",
                       "-serial", "stdio", "-monitor", "none", "-no-reboot",
                       "-kernel", str(image),
                       "-initrd", str(initrd), "-append", append.strip()]
    lines = []
    with open(console_log, "w") as f:
        f.write(f"$ {' '.join(cmd)}\n")
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

        def reader():
            for raw in p.stdout:
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
                lines.append(line)
                f.write(line + "\n")
                f.flush()
        th = threading.Thread(target=reader, daemon=True)
        th.start()
        try:
            p.wait(timeout=timeout)
            timed_out = False
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            timed_out = True
        th.join(5)
    return lines, timed_out


TIMESTAMP = re.compile(r"^\[\s*\d+\.\d+\] ")


def evaluate(lines, timed_out, timeout, t):
    """Results from real signals: the console, Summary lines, KTAP."""
    text = [TIMESTAMP.sub("", l) for l in lines]
    res = {}
    # The guest must reach init and power off by itself.
    reached = any(l.startswith("KT: init") for l in text)
    done = any(l.startswith("KT: done") for l in text)
    if timed_out:
        res["boot"] = ("fail", f"guest killed after {timeout}s timeout; "
                       "last console lines:\n" + "\n".join(lines[-30:]))
    elif not reached:
        res["boot"] = ("fail", "guest never reached /init; last lines:\n"
                       + "\n".join(lines[-30:]))
    elif not done:
        res["boot"] = ("fail", "guest stopped before the tests ended; "
                       "last lines:\n" + "\n".join(lines[-30:]))
    else:
        res["boot"] = ("pass", "")
    # The MMU mode the target is for, from what the guest printed.
    res["mode"] = []
    for pattern in t.get("expect", ()):
        hit = next((l for l in text if re.search(pattern, l)), None)
        res["mode"].append((pattern, ("pass", hit) if hit else
                            ("fail", f"no console line matches /{pattern}/")))
    bad = [l for l in text if BAD_CONSOLE.search(l)]
    res["console"] = ("fail", "\n".join(bad[:20])) if bad else ("pass", "")
    # test_vmalloc: one Summary line per case that ran.
    # (busybox modprobe retries once when the module's init returns
    # -EAGAIN, as test_vmalloc's always does: a case may report twice.)
    vm = {}
    for l in text:
        m = re.search(r"Summary: (\w+) passed: (\d+) failed: (\d+)", l)
        if m:
            ok = int(m.group(3)) == 0 and int(m.group(2)) > 0
            if vm.get(m.group(1), ("pass",))[0] == "pass":
                vm[m.group(1)] = ("pass" if ok else "fail", m.group(0))
    res["test_vmalloc"] = vm
    m = next((re.match(r"KT: test_vmalloc.sh exit=(\d+)", l) for l in text
              if l.startswith("KT: test_vmalloc.sh exit=")), None)
    if m:
        res["script"] = ("pass" if m.group(1) == "0" else "fail", m.group(0))
    elif not t["busybox"]:
        res["script"] = ("skip", "no shell on this target: "
                         "guest/init-nolibc.c loads the module itself")
    else:
        res["script"] = ("fail", "test_vmalloc.sh did not finish")
    # KTAP printed by KUnit: "ok N name" at suite level, indented cases.
    # (From kernel lines only: test_vmalloc.sh prints KTAP of its own.)
    kunit, diag = {}, {}
    for l in (TIMESTAMP.sub("", l) for l in lines if TIMESTAMP.match(l)):
        d = re.match(r"^\s*# (\w+): (.*)", l)
        if d:                       # "# case: EXPECTATION FAILED at ..."
            diag.setdefault(d.group(1), []).append(d.group(2))
        m = re.match(r"^(\s*)(not ok|ok) \d+ (\S+)(?:\s+#\s*(SKIP.*))?", l)
        if not m:
            continue
        indent, status, name, skip = m.groups()
        result = "skip" if skip else ("pass" if status == "ok" else "fail")
        detail = skip or "\n".join(diag.pop(name, []))
        if indent:
            kunit.setdefault("pending", {})[name] = (result, detail)
        else:
            kunit[name] = kunit.pop("pending", {})
            kunit[name]["(suite)"] = (result, skip or "")
    kunit.pop("pending", None)
    res["kunit"] = kunit
    return res


def verdict(res, expected_vmalloc):
    """suite -> test -> (result, detail); a case that did not run fails."""
    out = {"boot": {"boot": res["boot"],
                    **{f"mode /{p}/": r for p, r in res["mode"]}},
           "console": {"clean": res["console"]}, "test_vmalloc": {}}
    for case in expected_vmalloc:
        if case in VMALLOC_SKIP:
            r = ("skip", VMALLOC_SKIP[case])
        else:
            r = res["test_vmalloc"].get(
                case, ("fail", "no Summary line: the case did not run"))
        out["test_vmalloc"][case] = r
    out["test_vmalloc"]["test_vmalloc.sh"] = res["script"]
    for suite, cases in res["kunit"].items():
        out[f"kunit.{suite}"] = cases
    return out


def failed(tests):
    return [f"{s}.{c}" for s, cases in tests.items()
            for c, (r, _) in cases.items() if r == "fail"]


# ------------------------------------------------------------- one job

def job(name, t, patches, timeout=None, odir=None, boots=None):
    """Apply, build, boot, test one target; write build/results/NAME/.

    The tree is applied and built here.  With boots (an executor), the
    guest boots there while the caller builds the next one: the result is
    then a Future."""
    out = RESULTS / name
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    odir = odir or outs() / t["build"]
    timeout = timeout or t["timeout"]
    r = {"job": name, "target": t["name"], "kernel": f"linux-source-{KVER}",
         "patches": [rel(p) for p in patches], "stages": {}, "tests": {},
         "error": None}
    t0 = time.time()

    def stage(what, fn):
        log(f"{name}: {what} ...")
        s = time.time()
        try:
            return fn()
        finally:
            r["stages"][what] = round(time.time() - s, 1)
            log(f"{name}: {what} done in {r['stages'][what]:.0f}s")

    def finish():
        r["seconds"] = round(time.time() - t0, 1)
        as_json = dict(r, tests={
            s: {c: {"result": v, "detail": d} for c, (v, d) in cases.items()}
            for s, cases in r["tests"].items()})
        (out / "results.json").write_text(json.dumps(as_json, indent=1)
                                          + "\n")
        return r
    try:
        require(t["qemu"][0], "cpio", *(["dpkg-deb"] if t["busybox"] else []))
        stage("apply", lambda: apply(worktree(), patches, env=HARNESS_GIT))
        r["build"] = stage("build",
                           lambda: build(t, odir, out / "build.log"))
        # The guest gets copies: the next build replaces odir's.
        image, initrd = out / Path(t["image"]).name, out / "initramfs.cpio"
        shutil.copy(odir / t["image"], image)
        shutil.move(initramfs(t, odir), initrd)
        cases, suites = vmalloc_cases(), added_kunit_suites()
    except Fail as e:
        r["error"] = str(e)
        return done_future(finish()) if boots else finish()

    def guest():
        try:
            lines, timed_out = stage("boot+test", lambda: boot(
                t, image, initrd, out / "console.log", timeout))
        finally:
            image.unlink()
            initrd.unlink()
        r["tests"] = verdict(evaluate(lines, timed_out, timeout, t), cases)
        # A KUnit suite the patches add must have reported, or it did not
        # run (config dropped, init hung): that is a failure, not a "-".
        for suite in suites:
            r["tests"].setdefault(f"kunit.{suite}", {
                "(suite)": ("fail", "no KTAP result: the suite did not run")})
        bad = failed(r["tests"])
        if bad:
            r["error"] = f"{name}: failed: {', '.join(bad[:8])}"
        return finish()
    return boots.submit(guest) if boots else guest()


def done_future(result):
    f = concurrent.futures.Future()
    f.set_result(result)
    return f


def summary_row(r):
    def cell(suite, cases=None):
        cases = cases if cases is not None else r["tests"].get(suite, {})
        if not cases:
            return "-"
        n = {k: sum(1 for v, _ in cases.values() if v == k)
             for k in ("pass", "fail", "skip")}
        txt = f"{n['pass']}/{len(cases) - n['skip']}"
        return txt + (f" ({n['skip']} skip)" if n["skip"] else "") + \
            (" FAIL" if n["fail"] else "")
    kunit = {c: v for s, cases in r["tests"].items() if s.startswith("kunit.")
             for c, v in cases.items()}
    st = r["stages"]
    def stg(k):
        return f"{st[k]:.0f}s" if k in st else "-"
    return [r["job"], "FAIL" if r["error"] else "ok", stg("apply"),
            stg("build"), stg("boot+test"), cell("boot"),
            cell("test_vmalloc"), cell("kunit", kunit), cell("console"),
            f"{r['seconds']:.0f}s"]


def table(rows):
    head = ["job", "verdict", "apply", "build", "boot+test", "boot",
            "test_vmalloc", "kunit", "console", "total"]
    rows = [head] + rows
    w = [max(len(str(r[i])) for r in rows) for i in range(len(head))]
    return "\n".join("  ".join(str(c).ljust(w[i]) for i, c in enumerate(r))
                     for r in rows)


def cmd_run(names):
    base_tree()
    patches = patches_in(SERIES)
    results = [job(n, load_target(n), patches) for n in names]
    print(table([summary_row(r) for r in results]))
    for r in results:
        if r["error"]:
            print(f"FAIL {r['error']}")
    print(f"results: {rel(RESULTS)}/<target>/results.json")
    return 1 if any(r["error"] for r in results) else 0


# ----------------------------------------------------------- the gates

def cache_key(*parts):
    """A key for a result that holds while parts, the common kconfig
    fragment and this harness do."""
    return hashlib.sha1(repr([*parts, (TOP / "config/common.config")
                              .read_text(), Path(__file__).read_text()])
                        .encode()).hexdigest()


class Cache:
    """build/cache/NAME.json: results that passed, by cache_key()."""

    def __init__(self, name):
        self.path = BUILD / "cache" / f"{name}.json"
        self.data = json.loads(self.path.read_text()) \
            if self.path.exists() else {}

    def get(self, key):
        return self.data.get(key)

    def put(self, key, value):
        self.data[key] = value
        self.path.parent.mkdir(exist_ok=True)
        self.path.write_text(json.dumps(self.data, indent=1))


def target_key(t):
    """What a cached result of target t depends on besides the tree: its
    settings, and the versions of the tools that build, check and boot."""
    return [sorted(t.items()), tool_versions(t["cross_compile"] + "gcc",
                                             t["qemu"][0])]


@functools.lru_cache(maxsize=None)
def tool_versions(*extra):
    return [run([c, "--version"], check=False)[1].splitlines()[:1]
            if shutil.which(c) else f"{c}: missing"
            for c in ("sparse", "spatch", *extra)]


def commit_subject(c):
    return git("log", "-1", "--format=%s", c, cwd=work())


def bloat(old, new):
    """(delta in bytes, bloat-o-meter's text) for two objects."""
    _, out = run([str(work() / "scripts/bloat-o-meter"), str(old), str(new)])
    m = re.search(r"up/down: (\d+)/(-?\d+) \((-?\d+)\)", out)
    return int(m.group(3)), out.strip()


CODE_OBJS = ["mm/vmalloc.o", "mm/memory.o"]


def gate_builds(t, patches, record):
    """Each patch builds on its own; no-change patches keep the code size."""
    name = t["build"]
    odir, base_dir = outs() / name, outs() / f"{name}-base"
    logf = RESULTS / f"{name}-bisect.log"
    logf.unlink(missing_ok=True)
    commits = apply(worktree(), patches, env=HARNESS_GIT)
    # A tree that passed before, with the same config and harness, is not
    # built again: touching one patch rebuilds it and the ones after it.
    cache = Cache(name)
    key = cache_key("base", git("rev-parse", "base^{tree}", cwd=work()),
                    target_key(t))
    if cache.get(key) is not None and (base_dir / "vmlinux").exists():
        record(f"{name}: base tree builds (cached: it built before)", True)
    else:
        s = time.time()
        git("checkout", "-q", "-f", "--detach", "base", cwd=work())
        log(f"{name}: building the base tree for comparison ...")
        build(t, base_dir, logf)
        record(f"{name}: base tree builds", True, "", time.time() - s)
        cache.put(key, [])
    for i, c in enumerate(commits, 1):
        key = cache_key(git("rev-parse", f"{c}^{{tree}}", cwd=work()),
                        target_key(t))
        if cache.get(key) is not None:
            for n, ok, d in cache.get(key):
                record(n.replace("{i}", str(i))
                       + " (cached: this tree passed before)",
                       ok, d)
            continue
        found = []
        gate_patch(t, i, c, len(commits), odir, base_dir, logf,
                   lambda n, ok, d="", secs=None:
                   (found.append((n, ok, d)),
                    record(n.replace("{i}", str(i)), ok, d, secs)))
        if all(ok for _, ok, _ in found):
            cache.put(key, found)
    return commits[-1]


def objs_at(t, rev, odir, logf):
    """CODE_OBJS as the tree at rev compiles them, kept aside: a copy made
    right after rev was built, or a build of just these objects."""
    dest = outs() / f"{t['build']}-before"
    sha = git("rev-parse", rev, cwd=work())
    tag = dest / "commit"
    if not (tag.exists() and tag.read_text() == sha):
        git("checkout", "-q", "-f", "--detach", sha, cwd=work())
        run(make_args(t, odir) + CODE_OBJS, env=BUILD_ENV, logf=logf)
        keep_objs(t, sha, odir)
    return dest


def keep_objs(t, sha, odir):
    """Copy CODE_OBJS of the tree at sha, just built in odir, aside."""
    dest = outs() / f"{t['build']}-before"
    for o in CODE_OBJS:
        (dest / o).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(odir / o, dest / o)
    (dest / "commit").write_text(sha)


def gate_patch(t, i, c, n, odir, base_dir, logf, record):
    """Patch i (commit c) builds; if it changes nothing, code size holds."""
    name = t["build"]
    s = time.time()
    subj = commit_subject(c)
    # A patch that says "No functional change" must not grow the code
    # that the patch before it (the base, for patch 1) built.
    nfc = "No functional change" in git("log", "-1", "--format=%b", c,
                                        cwd=work())
    before = base_dir if i == 1 or not nfc else \
        objs_at(t, f"{c}^", odir, logf)
    git("checkout", "-q", "-f", "--detach", c, cwd=work())
    log(f"{name}: building patch {i}/{n}: {subj}")
    try:
        build(t, odir, logf)
    except Fail as e:
        record(f"{name}: patch {{i}} builds ({subj})", False, str(e),
               time.time() - s)
        return
    record(f"{name}: patch {{i}} builds", True, subj, time.time() - s)
    # A shrink is shown (compilers reallocate registers) but passes.
    sizes = [(o,) + bloat(before / o, odir / o) for o in CODE_OBJS] \
        if nfc else []
    keep_objs(t, git("rev-parse", c, cwd=work()), odir)  # for the next one
    if not nfc:
        return
    grown = [f"{o}: {d:+d} bytes\n{txt}" for o, d, txt in sizes if d > 0]
    record(f"{name}: patch {{i}} does not grow the code (bloat-o-meter "
           f"against {'the base' if i == 1 else 'the patch before'}: "
           + ", ".join(f"{o} {d:+d}" for o, d, _ in sizes) + ")",
           not grown, "\n".join(grown))


def gate_checkpatch(patches, record):
    """checkpatch --strict; a finding passes only if tests/ allows it."""
    allow = [l.split(" | ", 1) for l in
             (TOP / "tests" / "checkpatch.allow").read_text().splitlines()
             if " | " in l and not l.startswith("#")]
    # (checkpatch quietly drops its SPDX checks when spdxcheck.py cannot
    # import its modules)
    require("perl", py=("ply", "git"))
    for p in patches:
        # (Debian's python3 first: spdxcheck.py needs its python3-ply.)
        _, out = run(["perl", str(work() / "scripts/checkpatch.pl"),
                      "--strict", "--terse", "--no-summary", str(p)],
                     cwd=work(),
                     env={"PATH": "/usr/bin:" + os.environ["PATH"]},
                     check=False)
        subj = re.search(r"^Subject: (?:\[PATCH[^\]]*\] )?(.*)",
                         p.read_text(), re.M).group(1)
        found = [l.split(": ", 1)[1] for l in out.splitlines() if ": " in l]
        new = [f for f in found if not any(
            subj.startswith(a) and f.startswith(b) for a, b in allow)]
        note = f" ({len(found) - len(new)} allowed, see tests/checkpatch.allow)" \
            if len(found) != len(new) else ""
        record(f"checkpatch --strict {p.name}{note}", not new, "\n".join(new))


WARNING = re.compile(r"^(\S+?):(\d+)(?::\d+)?: (warning|error): (.*)$")
COCCI = re.compile(r"^(\S+?):(\d+):\d+-\d+: (.*)$")


def findings(text, pattern, fmt):
    """{finding without its line number: [(file, line)]} from a log."""
    found = {}
    for m in map(pattern.match, text.splitlines()):
        if m:
            f = os.path.normpath(m.group(1)).replace(str(work()) + "/", "")
            found.setdefault(fmt(f, m), []).append((f, m.group(2)))
    return found


def blame(head, where):
    """Which patch brought a finding at file:line: the last to change that
    line, or if the line is the base's, the last to change the file."""
    f, line = where
    rc, out = run(["git", "blame", "--porcelain", "-L", f"{line},+1", head,
                   "--", f], cwd=work(), check=False)
    sha = out.split(" ", 1)[0] if rc == 0 else ""
    if sha and sha != git("rev-parse", "base", cwd=work()):
        return f'"{commit_subject(sha)}"'
    return last_change(head, f)


def last_change(head, f):
    """The last patch to change file f, or the base tree."""
    subj = git("log", "-1", "--format=%s", f"base..{head}", "--", f,
               cwd=work(), check=False)
    return f'"{subj}" (the last patch to change {f})' if subj else \
        "the base tree"


def touched_objs(head, odir, since="base"):
    """Objects built from .c files changed since a commit (the base: the
    whole series), or that include a header changed since then."""
    touched = git("diff", "--name-only", since, head, cwd=work()).split()
    srcs = {f for f in touched if f.endswith(".c")}
    for h in (f for f in touched if f.endswith(".h")):
        srcs.update(git("grep", "-l", f'#include.*[</"]{Path(h).name}[>"]',
                        "--", "*.c", cwd=work(), check=False).split())
    return sorted(f[:-2] + ".o" for f in srcs
                  if (odir / (f[:-2] + ".o")).exists())


def gate_new_findings(t, head, record, what, extra, pattern, fmt,
                      since="base", each=False):
    """Build the objects changed since a commit (the base: all the series
    touches), in base and at head, with extra make arguments (W=1 C=2, or
    coccicheck as the checker); fail on findings the base does not have,
    naming the patch that brought each.

    The findings are kept while the sources (the objects', any header the
    series changes, scripts/) and the command hold.  With each, every
    object is checked and kept on its own: touching one file checks one."""
    name = t["build"]
    # (spatch compiles the OCaml parts of some scripts with ocamlopt)
    require(*(["spatch", "ocamlopt"] if any("coccicheck" in a for a in extra)
              else ["sparse"]))
    odir, base_dir = outs() / name, outs() / f"{name}-base"
    git("checkout", "-q", "-f", "--detach", head, cwd=work())
    objs = touched_objs(head, odir, since)
    if not objs:
        record(f"{name}: {what}", None,
               "the series touches no object this target builds")
        return
    s = time.time()
    found = {"base": {}, "series": {}}
    slug = re.sub(r"\W+", "-", what.split(" (")[0]).strip("-").lower()
    cache = Cache(f"{name}-{slug}")
    # (a checker's script, e.g. COCCI=, is a source too)
    scripts = [Path(a.split("=", 1)[1]).read_text() for a in extra
               if a.startswith("COCCI=")]
    for label, rev, d in (("base", "base", base_dir), ("series", head, odir)):
        git("checkout", "-q", "-f", "--detach", rev, cwd=work())
        have = [o for o in objs if (work() / (o[:-2] + ".c")).exists()]
        headers = git("diff", "base", rev, "--", "*.h", cwd=work())
        logf = RESULTS / f"{name}-{slug}-{label}.log"
        logf.unlink(missing_ok=True)
        for group in ([[o] for o in have] if each else [have] * bool(have)):
            # (make -s would send the checker's stdout, coccicheck's
            # reports, to /dev/null.)
            args = [a for a in make_args(t, d) if a != "-s"] + extra + group
            key = cache_key(args, target_key(t), headers, scripts,
                            git("rev-parse", f"{rev}:scripts"),
                            [git("rev-parse", f"{rev}:{o[:-2]}.c")
                             for o in group])
            if cache.get(key) is None:
                for o in group:     # compile them again: warnings show
                    (d / o).unlink(missing_ok=True)
                rc, _ = run(args, env=BUILD_ENV, logf=logf, check=False)
                if rc:
                    record(f"{name}: {what} build of {label}", False,
                           f"make failed, see {rel(logf)}")
                    return
                cache.put(key, findings(logf.read_text(errors="replace"),
                                        pattern, fmt))
            for k, where in cache.get(key).items():
                found[label].setdefault(k, []).extend(map(tuple, where))
    git("checkout", "-q", "-f", "--detach", head, cwd=work())
    new = []
    for k, where in found["series"].items():
        extra_n = len(where) - len(found["base"].get(k, []))
        if extra_n > 0:
            new.append(f"{k} (x{extra_n}; from {blame(head, where[-1])})")
    n_base = sum(map(len, found["base"].values()))
    record(f"{name}: {what} on {' '.join(objs)}: {len(new)} new "
           f"({n_base} in base)", not new, "\n".join(new), time.time() - s)


def gate_warnings(t, head, record):
    """W=1 + sparse (C=2) on what the series touches: nothing new."""
    gate_new_findings(t, head, record, "W=1 + sparse", ["W=1", "C=2"],
                      WARNING, lambda f, m: f"{f}: {m.group(3)}: "
                      f"{m.group(4)}")


def gate_cocci(t, head, record, since="base", cocci=None):
    """make coccicheck MODE=report (every script, the series' own too, or
    only the script cocci) on the files the series touches: nothing new."""
    def key(f, m):      # "preceding lock on line 1138": lines move
        return f"{f}: {re.sub(r'[0-9]+', 'N', m.group(3))}"
    gate_new_findings(t, head, record, "coccicheck MODE=report"
                      + (f" COCCI={Path(cocci).name}" if cocci else ""),
                      ["C=2", f"CHECK={work()}/scripts/coccicheck",
                       "MODE=report"] + ([f"COCCI={cocci}"] if cocci else []),
                      COCCI, key, since, each=True)


def gate_docs(head, record):
    """kernel-doc -Wall and 'make SPHINXDIRS=mm htmldocs': nothing new,
    naming the patch that brought each new warning."""
    require("perl", "sphinx-build")
    touched = git("diff", "--name-only", "base", head, cwd=work()).split()
    srcs = [f for f in touched if f.endswith((".c", ".h"))]
    s = time.time()
    found = {}
    # The base's warnings change only with the base, the files looked at
    # and the tools.
    cache = Cache("docs-base")
    key = cache_key(git("rev-parse", "base^{tree}", cwd=work()), srcs,
                    tool_versions("sphinx-build", "perl"))
    if cache.get(key) is not None:
        found["base"] = cache.get(key)
    for label, rev in (("base", "base"), ("series", head)):
        if label in found:
            continue
        git("checkout", "-q", "-f", "--detach", rev, cwd=work())
        present = [f for f in srcs if (work() / f).exists()]
        _, kdoc = run(["perl", "scripts/kernel-doc", "-none", "-Wall"]
                      + present, cwd=work(), check=False) \
            if present else (0, "")
        out = outs() / f"docs-{label}"
        shutil.rmtree(out, ignore_errors=True)
        logf = RESULTS / f"htmldocs-{label}.log"
        logf.unlink(missing_ok=True)
        rc, _ = run(["make", "-C", str(work()), f"O={out}", "SPHINXDIRS=mm",
                     "htmldocs"], logf=logf, check=False)
        if rc:
            record(f"htmldocs ({label})", False, f"failed, see {rel(logf)}")
            return
        lines = kdoc.splitlines() + logf.read_text().splitlines()
        # (lines move: compared without their numbers, which are kept)
        found[label] = [(re.sub(r":\d+:", ":", l), l) for l in
                        (l.replace(str(work()) + "/", "") for l in lines)
                        if re.search(r"warning|error", l, re.I)
                        and "dot(1) not found" not in l]
    cache.put(key, found["base"])
    new = list((Counter(k for k, _ in found["series"])
                - Counter(k for k, _ in found["base"])).elements())
    # (kernel-doc reports the line of the declaration, not of the comment
    # that is wrong: name the last patch to change the file)
    named = []
    for k in dict.fromkeys(new):
        f = re.match(r"(\S+?):", k)
        named.append(f"{k} (from {last_change(head, f.group(1))})"
                     if f and (work() / f.group(1)).is_file() else k)
    record(f"kernel-doc + htmldocs (SPHINXDIRS=mm): {len(new)} new warnings "
           f"({len(found['base'])} in base)", not new, "\n".join(named),
           time.time() - s)


def gate_header(t, head, record):
    """Touched headers compile alone; pgalloc-track.h stays inside mm/."""
    git("checkout", "-q", "-f", "--detach", head, cwd=work())
    touched = git("diff", "--name-only", "base", head, cwd=work()).split()
    for h in (f for f in touched if f.endswith(".h")):
        d = BUILD / "hdrtest"
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir(parents=True)
        (d / "Kbuild").write_text("obj-m := hdrtest.o\n")
        (d / "hdrtest.c").write_text(
            f'#include "{work() / h}"\n#include <linux/module.h>\n'
            'MODULE_LICENSE("GPL");\n')
        logf = RESULTS / "hdrtest.log"
        logf.unlink(missing_ok=True)
        rc, _ = run(make_args(t, outs() / t["build"])
                 + [f"M={d}", "modules"], env=BUILD_ENV, logf=logf,
                 check=False)
        record(f"{h} compiles as the first include ({t['name']})", rc == 0,
               f"see {rel(logf)}" if rc else "")
    users = git("grep", "-l", "-E", r'#\s*include\s*[<"].*pgalloc-track\.h',
                cwd=work(), check=False).split()
    outside = [u for u in users if not u.startswith("mm/")]
    record("mm/pgalloc-track.h is included only inside mm/ ("
           + ", ".join(users) + ")", not outside, "\n".join(outside))


def gate_maintainers(head, patches, record):
    """get_maintainer.pl names the mm list and maintainer on every patch."""
    want = ["akpm@linux-foundation.org", "linux-mm@kvack.org"]
    git("checkout", "-q", "-f", "--detach", head, cwd=work())
    for p in patches:
        _, out = run(["perl", "scripts/get_maintainer.pl", "--no-git",
                      "--no-rolestats", str(p)], cwd=work(), check=False)
        missing = [w for w in want if w not in out]
        record(f"get_maintainer.pl {p.name}", not missing,
               f"missing {', '.join(missing)}:\n{out}" if missing else "")


def fixture_expect(p):
    """[(check, regex)], timeout: what tests/fixtures/X.patch must trip."""
    text = p.read_text()
    expects = re.findall(r"^Expect: (\S+) (.*)$", text, re.M)
    if not expects:
        raise Fail(f"{rel(p)}: no 'Expect: <check> <regex>' line")
    tmo = re.search(r"^Expect-timeout: (\d+)$", text, re.M)
    target = re.search(r"^Expect-target: (.+)$", text, re.M)
    return (expects, int(tmo.group(1)) if tmo else None,
            target.group(1).split() if target else ["x86_64"])


def fixture_gates(f, expects, targets, patches):
    """Run the gates that a fixture names (gate.NAME) on the series plus
    the fixture: [(check, ok, detail)] as they would be recorded."""
    out = []

    def rec(name, ok, detail="", secs=None):
        out.append((name, ok, detail))

    try:
        commits = apply(worktree(), patches + [f], env=HARNESS_GIT)
    except Fail as e:
        return [("apply", False, str(e))]
    head, n = commits[-1], len(commits)
    want = {c[len("gate."):] for c, _ in expects}
    ts = [load_target(x) for x in targets]
    if "checkpatch" in want:
        gate_checkpatch([f], rec)
    if "builds" in want:            # and the code size, if it says so
        for t in ts:
            out_dir = outs() / t["build"]
            logf = RESULTS / f"fixture-{f.stem}-{t['build']}.log"
            logf.unlink(missing_ok=True)
            gate_patch(t, n, head, n, out_dir, Path(f"{out_dir}-base"), logf,
                       lambda m, ok, d="", secs=None:
                       rec(m.replace("{i}", str(n)), ok, d))
    if "warnings" in want:
        gate_warnings(ts[0], head, rec)
    if "docs" in want:
        gate_docs(head, rec)
    if "coccicheck" in want:
        # The fixtures test the series' own check: run it alone (a copy,
        # the base has none), on what the fixture touches.  All scripts
        # take minutes a file.
        added = git("diff", "--name-only", "--diff-filter=A", "base", head,
                    "--", "scripts/coccinelle/", cwd=work()).split()
        cocci = None
        if added:
            cocci = BUILD / "cocci" / Path(added[0]).name
            cocci.parent.mkdir(exist_ok=True)
            cocci.write_text(git("show", f"{head}:{added[0]}", cwd=work())
                             + "\n")
        gate_cocci(ts[0], head, rec, since=f"{head}^", cocci=cocci)
    return out


def caught(r, check, pattern):
    """Did the run fail in the expected check, with the expected text?"""
    if check == "apply":
        return "build" not in r["stages"] and bool(
            r["error"] and re.search(pattern, r["error"]))
    # suite names have dots too ("kunit.pgalloc_track"): take the longest
    suite = max((s for s in r["tests"] if check.startswith(s + ".")),
                key=len, default="")
    case = check[len(suite) + 1:]
    res, detail = r["tests"].get(suite, {}).get(case, ("missing", ""))
    return res == "fail" and bool(re.search(pattern, detail, re.S))


def base_job(n, t, boots):
    """The unpatched base booted on target n (a Future).  Its result
    depends only on the base tree, the configs and the harness: reuse it
    while they hold."""
    key = cache_key(git("rev-parse", "base^{tree}"), target_key(t),
                    (TOP / "guest/init").read_text(),
                    (TOP / "guest/init-nolibc.c").read_text())
    cache = Cache(f"{n}-base-job")
    r = cache.get(key)
    if r and (RESULTS / f"{n}-base").exists():
        r["tests"] = {s: {c: tuple(v) for c, v in cases.items()}
                      for s, cases in r["tests"].items()}
        r["job"] += " (cached)"
        return done_future(r)

    def keep(f):
        if not f.result()["error"]:
            cache.put(key, f.result())
    f = job(f"{n}-base", t, [], odir=outs() / f"{t['build']}-base",
            boots=boots)
    f.add_done_callback(keep)
    return f


def cmd_check(names):
    # The guests boot in the background (TCG runs on one core), one at a
    # time, while the next trees build in the foreground.
    boots = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    try:
        return check_all(names, boots)
    finally:
        boots.shutdown(cancel_futures=True)


def check_all(names, boots):
    t_start = time.time()
    base_tree()
    patches = patches_in(SERIES)
    rows, checks = [], []

    def record(name, ok, detail="", secs=None):
        """ok: True, False, or None for a check skipped (say why)."""
        checks.append((name, ok, detail))
        took = f" ({secs:.0f}s)" if secs is not None else ""
        word = {True: "PASS", False: "FAIL", None: "SKIP"}[ok]
        print(f"{word}  {name}{took}", flush=True)
        if ok is not True and detail:
            print("      " + detail.strip().replace("\n", "\n      "))

    def stage_done(what, since):
        log(f"check: {what} took {time.time() - since:.0f}s")

    def guarded(what, fn, *args):
        """fn(*args); a Fail (a missing tool, a tree that does not build)
        is a FAIL line of its own, and the run goes on."""
        try:
            return fn(*args)
        except Fail as e:
            record(what, False, str(e))
            return None

    RESULTS.mkdir(parents=True, exist_ok=True)
    fixtures = [(f, *fixture_expect(f)) for f in
                sorted((TOP / "tests" / "fixtures").glob("*.patch"))]
    builds = {}
    for n in names:                 # targets that share a kernel build
        builds.setdefault(load_target(n)["build"], load_target(n))

    def build_and_boot(group):
        """The series on each build: every patch builds, code size,
        warnings.  Then its targets boot, unpatched and with the series
        (a failure that the base has too is pre-existing), while the next
        build goes on."""
        s, jobs, head = time.time(), [], None
        for b in group:
            head = guarded(f"{b}: the series builds", gate_builds,
                           builds[b], patches, record)
            if head is None:
                continue
            guarded(f"{b}: W=1 + sparse", gate_warnings, builds[b], head,
                    record)
            jobs += [(n, base_job(n, load_target(n), boots),
                      job(n, load_target(n), patches, boots=boots))
                     for n in names if load_target(n)["build"] == b]
        stage_done(f"builds of every patch on {' '.join(group)}", s)
        return head, jobs

    # Two builders, each in a checkout of its own: this thread takes the
    # builds that the fixtures use, then the patch gates and the
    # fixtures; a second thread takes the other builds meanwhile.
    mine = [b for b in builds if any(load_target(x)["build"] == b
                                     for _, _, _, ts in fixtures
                                     for x in ts)] or list(builds)[:1]
    others = [b for b in builds if b not in mine]
    with concurrent.futures.ThreadPoolExecutor(
            max_workers=1, initializer=lambda: setattr(
                _thread, "root", SECOND)) as side:
        theirs = side.submit(build_and_boot, others) if others else None
        head, jobs = build_and_boot(mine)
        # The patches themselves.
        s = time.time()
        t0 = builds[mine[0]]
        guarded("checkpatch", gate_checkpatch, patches, record)
        if head is None:
            record("patch gates on the series", False,
                   f"{t0['build']} did not build: see above")
        else:
            guarded(f"{t0['build']}: coccicheck", gate_cocci, t0, head,
                    record)
            guarded("get_maintainer.pl", gate_maintainers, head, patches,
                    record)
            guarded("touched headers", gate_header, t0, head, record)
            guarded("kernel-doc + htmldocs", gate_docs, head, record)
        stage_done("patch gates", s)
        # The harness itself: each known-bad fixture must be caught, by
        # the boot checks it names or by the gates (gate.NAME) it names.
        s = time.time()
        booted = [(f, e, job(f"fixture-{f.stem}", load_target(ts[0]),
                             patches + [f], timeout=tmo, boots=boots))
                  for f, e, tmo, ts in fixtures if set(ts) <= set(names)
                  and any(not c.startswith("gate.") for c, _ in e)]
        for f, expects, _, targets in fixtures:
            if not set(targets) <= set(names):
                record(f"fixture {f.stem}: its target "
                       f"{' '.join(sorted(set(targets) - set(names)))} is "
                       "not in this run", None)
            elif any(c.startswith("gate.") for c, _ in expects):
                fixture_gated(f, expects, targets, patches, record)
        stage_done("fixture builds and gates", s)
        if theirs:
            s = time.time()
            log("check: waiting for the second builder")
            jobs += theirs.result()[1]
            stage_done("waiting for the second builder", s)
    s = time.time()
    log("check: all trees built; waiting for the guests")
    for n, b, r in sorted(jobs, key=lambda j: names.index(j[0])):
        b, r = b.result(), r.result()
        rows += [summary_row(b), summary_row(r)]
        old_fails = set(failed(b["tests"]))
        new_fails = [f for f in failed(r["tests"]) if f not in old_fails]
        pre = [f for f in failed(r["tests"]) if f in old_fails]
        ok = bool(r["tests"]) and not new_fails
        detail = r["error"] or ""
        if pre:
            detail += "\npre-existing (the base fails them too): " + \
                ", ".join(pre)
        record(f"{n}: series applied, built, booted, tested"
               + (f" ({len(pre)} pre-existing failures)" if pre else ""),
               ok, detail.strip(), r["seconds"])
    for f, expects, r in booted:
        r = r.result()
        booted_checks = [(c, p) for c, p in expects
                         if not c.startswith("gate.")]
        row = summary_row(r)
        row[1] = "caught" if all(caught(r, c, p) for c, p in booted_checks) \
            else "MISSED"
        rows.append(row)
        for check, pattern in booted_checks:
            record(f"fixture {f.stem}: caught by {check}",
                   caught(r, check, pattern),
                   f"expected {check} to fail matching /{pattern}/; got: "
                   f"{r['error']}", r["seconds"])
    stage_done("waiting for the last guests", s)
    print()
    print(table(rows))
    word = {True: "pass", False: "fail", None: "skip"}
    n = {w: sum(1 for _, ok, _ in checks if word[ok] == w) for w in
         word.values()}
    (RESULTS / "check.json").write_text(json.dumps(
        [{"check": c, "result": word[ok], "detail": d}
         for c, ok, d in checks], indent=1) + "\n")
    log(f"check: {time.time() - t_start:.0f}s in all; "
        f"results in {rel(RESULTS)}/")
    print(f"{n['pass']} passed, {n['fail']} failed, {n['skip']} skipped")
    return 1 if n["fail"] else 0


def fixture_gated(f, expects, targets, patches, record):
    """Run the gates a fixture names (gate.NAME); each must catch it."""
    gated = [(c, p) for c, p in expects if c.startswith("gate.")]
    s = time.time()
    log(f"fixture {f.stem}: running "
        + ", ".join(sorted({c for c, _ in gated})))
    try:
        out = fixture_gates(f, gated, targets, patches)
    except Fail as e:           # a gate that could not run misses it
        out = [("the gates", False, str(e))]
    for check, pattern in gated:
        hit = [n for n, ok, d in out if ok is False and
               re.search(pattern, f"{n}\n{d}", re.S)]
        got = "\n".join(f"{'FAIL' if ok is False else 'pass'} {n}"
                        f"{': ' + d if d and ok is False else ''}"
                        for n, ok, d in out)
        record(f"fixture {f.stem}: caught by {check}"
               + (f" ({hit[0]})" if hit else ""), bool(hit),
               "" if hit else f"expected a failure matching "
               f"/{pattern}/; got:\n{got}", time.time() - s)


def main(argv):
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    cmd, args = argv[0], argv[1:]
    # Called from our Makefile: its variables (TARGETS=...) must not reach
    # the kernel's own makes through MAKEFLAGS.
    for v in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES"):
        os.environ.pop(v, None)
    BUILD.mkdir(exist_ok=True)
    lock = open(BUILD / ".lock", "w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        print("error: another kt.py is running on this build/", file=sys.stderr)
        return 1
    try:
        if cmd == "tree":
            cmd_tree()
        elif cmd == "export":
            cmd_export()
        elif cmd == "run":
            return cmd_run(args or ["x86_64"])
        elif cmd == "check":
            return cmd_check(args or all_targets())
        else:
            raise Fail(f"unknown command '{cmd}' (see kt.py --help)")
    except Fail as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
