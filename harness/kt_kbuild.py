"""Kernel builds: the kconfig of a target, make, the objects a patch
touches, and their code size."""
import contextlib
import json
import os
import re
import shutil
import threading
import time
from pathlib import Path

import kt_kunit
from kt_common import (BUILD, BUILD_ENV, HEADERS, JOBS, SERIES, SRC, TOP, Fail,
                       git, log, outs, rel, require, run, ticking,
                       tool_versions, work)
from kt_cache import Cache, cache_key
from kt_targets import Target
from kt_targets import key as target_key
from kt_tree import at_base, patches_in


# What odir's kernel and modules were last built from (see build()).
BUILT = "kt.built"


def make_args(t: Target, odir: Path) -> list:
    """The make command for t in odir.  Whatever it is run for may change
    odir: the record of what build() last built there is dropped."""
    (odir / BUILT).unlink(missing_ok=True)
    return make_command(t, odir)


def make_command(t: Target, odir: Path) -> list:
    cc = f"ccache {t.cross_compile}gcc"
    # CCACHE_BASEDIR (cache hits from any clone) hands gcc the source as a
    # path relative to odir, which Kbuild's absolute -fmacro-prefix-map
    # misses: strip that prefix too, so __FILE__ stays "mm/vmalloc.c".
    rel_src = os.path.relpath(work(), odir)
    return ["make", "-s", "-C", str(work()), f"O={odir}", f"ARCH={t.arch}",
            f"CROSS_COMPILE={t.cross_compile}", f"CC={cc}",
            "HOSTCC=ccache gcc", f"KCFLAGS=-fmacro-prefix-map={rel_src}/=",
            f"-j{JOBS}"]


def in_tree(sym: str, rev: str = "", tree: Path = None) -> bool:
    """Does the tree being built (or commit rev of tree) know the kconfig
    symbol (without CONFIG_)?"""
    rc, _ = run(["git", "grep", "-q", "-E", f"^(menu)?config {sym}$",
                 *([rev] if rev else []), "--", "*Kconfig*"],
                cwd=tree or work(), check=False)
    return rc == 0


def srcarch(arch: str) -> str:
    """The arch/ directory of an ARCH=."""
    return {"i386": "x86", "x86_64": "x86"}.get(arch, arch)


def kconfig_symbols() -> set:
    """Every kconfig symbol the tree being built defines."""
    _, out = run(["git", "grep", "-h", "-o", "-E", r"^(menu)?config \w+$",
                  "--", "*Kconfig*"], cwd=work(), check=False)
    return {line.split()[1] for line in out.splitlines()}


def unsupported(t: Target, tree: Path = SRC) -> str:
    """Why the base of tree cannot build target t, or "": no arch/ for its
    ARCH=, or a symbol it requires (targets/: requires) is gone."""
    git("rev-parse", "--verify", "base^{commit}", cwd=tree)
    d = f"arch/{srcarch(t.arch)}"
    rc, _ = run(["git", "cat-file", "-e", f"base:{d}"], cwd=tree,
                check=False)
    if rc:
        return f"the tree has no {d}/ (ARCH={t.arch})"
    gone = [s for s in t.requires if not in_tree(s, "base", tree)]
    if gone:
        return (f"the tree has no {', '.join('CONFIG_' + s for s in gone)}"
                f", which the target requires")
    return ""


def unmet(frag: str, config: str) -> list:
    """Entries of the fragment that the .config text does not satisfy
    ("# CONFIG_X is not set" included), among the symbols this tree
    knows: the base tree lacks the series' own test options."""
    kc = kt_kunit.module("kunit_config")
    try:
        have = kc.parse_from_string(config)
        want = kc.parse_from_string(frag)
    except kc.KconfigParseError as e:
        raise Fail(f"a kconfig fragment (config/common.config or a "
                   f"targets/ file) does not parse: {e}") from None
    out = []
    for e in want.as_entries():
        one = kc.Kconfig()
        one.add_entry(e.name, e.value)
        if not one.is_subset_of(have) and in_tree(e.name):
            out.append(str(e))
    return out


def kunit_options(patch: str) -> list:
    """The options that a patch adds to a Kconfig file and that depend on
    KUNIT: the series' KUnit tests."""
    found, name, kconfig = [], None, False
    for line in patch.splitlines():
        if line.startswith("diff --git "):
            kconfig = re.search(r" b/(.*/)?Kconfig[^/]*$", line) is not None
            name = None
        elif not (kconfig and line.startswith("+")):
            name = None
        elif re.match(r"\+(menu)?config \w+\s*$", line):
            name = line.split()[1]
        elif re.match(r"\+\s+(---)?help", line):
            name = None                 # (its text says anything)
        elif name and re.match(r"\+\s+depends on .*\bKUNIT\b", line):
            found.append(name)
            name = None
    return found


def series_options() -> str:
    """CONFIG_X=y for each KUnit test option the series adds (the base
    tree does not know them: unmet() leaves them out there)."""
    names = [n for p in patches_in(SERIES) for n in kunit_options(
        p.read_text(errors="replace"))]
    return "".join(f"CONFIG_{n}=y\n" for n in dict.fromkeys(names))


def kconfig(t: Target, odir: Path, logf: Path) -> None:
    """The target's base config (tinyconfig, or a defconfig) +
    config/common.config + the series' test options + the target's
    fragment.

    Options the tree does not know are left out; the config is made again
    once the tree has them (or written, if it was made before for the
    same fragment, Kconfig files and toolchain: written())."""
    # (the base config's name heads the text: a build dir is made again
    # when it changes, too)
    frag = f"# {t.defconfig}" + \
        (" mod2noconfig\n" if t.defconfig != "tinyconfig" else "\n") + \
        (TOP / "config" / "common.config").read_text() + \
        series_options() + t.kconfig
    fragf, config = odir / "kt.fragment", odir / ".config"
    if fragf.exists() and fragf.read_text() == frag and config.exists() \
            and not unmet(frag, config.read_text()):
        return
    odir.mkdir(parents=True, exist_ok=True)
    fragf.write_text("")                    # invalid until the end
    known = kconfig_symbols()
    left_out = sorted({m for m in re.findall(
        r"^(?:# )?CONFIG_(\w+)[= ]",
        (TOP / "config" / "common.config").read_text() + t.kconfig, re.M)
        if m not in known})
    if left_out:
        log(f"{t.name}: not in this tree, left out of the config: "
            f"{', '.join('CONFIG_' + m for m in left_out)}")
    # (a config is a function of the fragment, of the files kconfig reads
    # and of the toolchain: made once for them, as the series' test
    # options appear at patch 10 of every run; what else Kconfig probes
    # (pahole, a package installed since) written() checks)
    made = CONFIGS / (cache_key(
        frag, t.defconfig, t.arch, t.cross_compile, kconfig_inputs(),
        tool_versions(f"{t.cross_compile}gcc", f"{t.cross_compile}ld",
                      "rustc", "bindgen")) + ".config")
    if written(t, odir, made, logf):
        fragf.write_text(frag)
        return
    run(make_args(t, odir) + [t.defconfig], env=BUILD_ENV, logf=logf)
    if t.defconfig != "tinyconfig":
        # The guest loads no module but the test's (the fragment makes it
        # =m again): a defconfig's hundreds of modules would only cost
        # build time.  Its built-in drivers, what a board needs, stay.
        run(make_args(t, odir) + ["mod2noconfig"], env=BUILD_ENV, logf=logf)
    frag_tmp = odir / "kt.fragment.in"
    frag_tmp.write_text(frag)
    run([str(work() / "scripts/kconfig/merge_config.sh"), "-m", "-O",
         str(odir), str(config), str(frag_tmp)],
        cwd=work(), env=dict(BUILD_ENV, ARCH=t.arch), logf=logf)
    run(make_args(t, odir) + ["olddefconfig"], env=BUILD_ENV, logf=logf)
    lost = unmet(frag, config.read_text())
    if lost:
        raise Fail(f"{t.name}: {', '.join(lost)} did not survive "
                   "olddefconfig (a dependency is missing from the "
                   "fragment)")
    keep_config(config, made)
    fragf.write_text(frag)


# The configs kconfig() made: the KEPT_CONFIGS last used, a file each.
CONFIGS = BUILD / "cache" / "kconfig"
KEPT_CONFIGS = 32


def written(t: Target, odir: Path, made: Path, logf: Path) -> bool:
    """Was the config made before (made) written to odir, and did make's
    syncconfig leave it as it was?  A probe of the host that the key
    does not hold (pahole's version, a compiler plugin or libc package
    installed since) would change it: then it is made again.  (The
    check the build's make would run first, and it writes auto.conf,
    which that make then finds up to date.)"""
    try:
        text = made.read_text()
    except FileNotFoundError:
        return False
    config = odir / ".config"
    config.write_text(text)
    rc, _ = run(make_args(t, odir) + ["syncconfig"], env=BUILD_ENV,
                logf=logf, check=False)
    ok = rc == 0 and config.read_text() == text
    with open(logf, "a") as f:
        f.write("kt: the config of this fragment, Kconfig files and "
                "toolchain was made before: written, not made again\n"
                if ok else "kt: syncconfig failed or changed the config "
                "made before (a probe of the host that the key does not "
                "hold): made again\n")
    if ok:
        with contextlib.suppress(FileNotFoundError):   # (pruned meanwhile)
            os.utime(made)          # (the last used)
    return ok


def keep_config(config: Path, made: Path) -> None:
    """Keep config as made, and forget all but the KEPT_CONFIGS last used
    (written() marks one used)."""
    CONFIGS.mkdir(parents=True, exist_ok=True)
    tmp = made.with_suffix(f".tmp{os.getpid()}-{threading.get_ident()}")
    shutil.copyfile(config, tmp)
    os.replace(tmp, made)

    def age(f: Path) -> float:
        try:
            return f.stat().st_mtime
        except FileNotFoundError:       # (the other builder pruned it)
            return 0
    for f in sorted(CONFIGS.glob("*.config"), key=age)[:-KEPT_CONFIGS]:
        f.unlink(missing_ok=True)


def build(t: Target, odir: Path, logf: Path) -> dict:
    """Configure and build kernel + modules; install modules in odir/mods."""
    require(f"{t.cross_compile}gcc", "ccache", "flex", "bison", "bc",
            "perl", "depmod", files=HEADERS)
    kconfig(t, odir, logf)
    # What odir was last built from (what a build reads of the tree, any
    # local change, the config, the make command and the compiler): when
    # it is the same (the next target on the same build, the LAVA bundle
    # of the build just done, a fixture that changes only a selftest),
    # make would find nothing to do, in 10 to 50 seconds.  Any other make
    # in odir drops the record (make_args()).
    built = odir / BUILT
    key = cache_key(build_inputs("HEAD"),
                    git("diff", "HEAD", "--binary", cwd=work()),
                    (odir / ".config").read_text(), make_command(t, odir),
                    t.image, tool_versions(f"{t.cross_compile}gcc"))
    try:
        record = json.loads(built.read_text())
    except (OSError, ValueError):
        record = {}
    if record.get("key") == key and (odir / t.image).exists():
        with open(logf, "a") as f:
            f.write(f"kt: {rel(odir)} holds the build of this tree, "
                    "config, make command and compiler: make not run "
                    "again\n")
        return record["result"]
    since = time.time()
    with ticking(lambda secs: f"{t.build}: building, {secs:.0f}s: "
                 f"{objects_since(odir, since)} objects compiled so far "
                 f"({odir.name}/, log: {rel(logf)})"):
        run(make_args(t, odir), env=BUILD_ENV, logf=logf)
    mods = odir / "mods"
    shutil.rmtree(mods, ignore_errors=True)
    run(make_args(t, odir) + ["modules_install", f"INSTALL_MOD_PATH={mods}",
                              "INSTALL_MOD_STRIP=1"],
        env=BUILD_ENV, logf=logf)
    warnings = sum(1 for l in logf.read_text(errors="replace").splitlines()
                   if ": warning:" in l)
    result = {"warnings": warnings,
              "image_bytes": (odir / t.image).stat().st_size}
    built.write_text(json.dumps({"key": key, "result": result}))
    return result


def objects_since(odir: Path, since: float) -> int:
    """How many objects under odir were written since a time: a build's
    progress (make -s prints nothing)."""
    n = 0
    for d, _, files in os.walk(odir):
        for f in files:
            if f.endswith(".o"):
                try:
                    n += os.stat(os.path.join(d, f)).st_mtime >= since
                except FileNotFoundError:       # replaced meanwhile
                    pass
    return n


def bloat(old: Path, new: Path) -> tuple:
    """(delta in bytes, bloat-o-meter's text) for two objects."""
    _, out = run([str(work() / "scripts/bloat-o-meter"), str(old), str(new)])
    m = re.search(r"up/down: (\d+)/(-?\d+) \((-?\d+)\)", out)
    return int(m.group(3)), out.strip()


CODE_OBJS = ["mm/vmalloc.o", "mm/memory.o"]


def objs_at(t: Target, rev: str, odir: Path, logf: Path) -> Path:
    """CODE_OBJS as the tree at rev compiles them, kept aside: a copy made
    right after rev was built (in this run or an earlier one), or a build
    of just these objects."""
    sha = git("rev-parse", rev, cwd=work())
    dest = kept_objs(t, sha)
    if not (dest / "complete").exists():
        # (the base's in the base's checkout and build directory)
        base = sha == git("rev-parse", "base", cwd=work())
        with at_base() if base else contextlib.nullcontext():
            d = outs() / t.build if base else odir
            git("checkout", "-q", "-f", "--detach", sha, cwd=work())
            kconfig(t, d, logf)
            run(make_args(t, d) + CODE_OBJS, env=BUILD_ENV, logf=logf)
            copy_objs(d, dest)
    return dest


def kept_objs(t: Target, sha: str) -> Path:
    """Where CODE_OBJS of commit sha, built for target t, are kept: one
    folder per commit and settings, so that touching patch 9 finds patch
    8's objects from the run before instead of checking patch 8 out (which
    changes the kconfig and rebuilds the tree twice)."""
    return outs() / f"{t.build}-objs" / cache_key(sha, target_key(t))


def keep_objs(t: Target, sha: str, odir: Path) -> None:
    """Copy CODE_OBJS of the tree at sha, just built in odir, aside."""
    copy_objs(odir, kept_objs(t, sha))


def copy_objs(odir: Path, dest: Path) -> None:
    """CODE_OBJS of odir copied to dest, marked complete at the end."""
    (dest / "complete").unlink(missing_ok=True)
    for o in CODE_OBJS:
        (dest / o).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(odir / o, dest / o)
    (dest / "complete").write_text(dest.name)


# Where no object or header compile reads a file: the docs, the
# selftests, the licences, Coccinelle's scripts.  (tools/ is read:
# objtool rewrites x86's objects.)
NOT_COMPILED = ("Documentation/", "tools/testing/", "LICENSES/",
                "scripts/coccinelle/")
INCLUDE_C = r'#\s*include\s*["<]([^">]*\.c)[">]'


def compiled(f: str) -> bool:
    """Does a kernel build read file f?  Not MAINTAINERS nor a file in
    NOT_COMPILED, but a header or a Kconfig file wherever it is counts as
    read (lib/test_printf.c includes tools/testing/'s
    kselftest_module.h; the top Kconfig sources Documentation/Kconfig)."""
    return f.endswith(".h") or Path(f).name.startswith("Kconfig") or not (
        f.startswith(NOT_COMPILED) or f == "MAINTAINERS")


def changed_since_base(rev: str) -> list:
    """The files that differ between the base and rev, a rename as a
    deletion and an addition."""
    out = git("-c", "core.quotePath=false", "diff", "--no-renames",
              "--name-only", "-z", "base", rev, cwd=work())
    return [f for f in out.split("\0") if f]


def inputs_of(rev: str, keep: list) -> str:
    """A key of the tree at rev that holds while the files keep (changed
    since the base) do: the base's tree, their names and their blobs."""
    blobs = git("ls-tree", "-r", "-z", rev, "--", *keep, cwd=work()) \
        if keep else ""
    return "\n".join([git("rev-parse", "base^{tree}", cwd=work()), *keep,
                      blobs])


# What a compile reads that kconfig does not: the sources and headers, but
# those under scripts/ (kconfig's own programs; what Kconfig's
# $(shell,...) runs elsewhere, arch/*/tools/*.sh, counts as read).
SOURCES = (".c", ".h", ".S", ".rs")


def kconfig_read(f: str) -> bool:
    """Could file f change the config that kconfig() makes?  The Kconfig
    files, the defconfigs and fragments, the Makefiles and scripts/; not
    the sources and headers that only compiles read (compiled())."""
    return compiled(f) and (f.startswith("scripts/")
                            or not f.endswith(SOURCES))


def kconfig_inputs() -> str:
    """A key for what kconfig reads of the tree checked out: the base's
    tree and the files changed since that kconfig_read(), a local change
    too.  An edit of the header's generator keeps it."""
    keep = [f for f in changed_since_base("HEAD") if kconfig_read(f)]
    local = [f for f in git("diff", "HEAD", "--no-renames", "--name-only",
                            "-z", cwd=work()).split("\0")
             if f and kconfig_read(f)]
    return inputs_of("HEAD", keep) + (git(
        "diff", "HEAD", "--binary", "--", *local, cwd=work()) if local else "")


def build_inputs(rev: str) -> str:
    """A key for what a kernel build reads of the tree at rev: the base's
    tree and the files changed since the base that count as read
    (compiled()).  A fixture that changes only test_vmalloc.sh builds the
    kernel the series does."""
    return inputs_of(rev, [f for f in changed_since_base(rev)
                           if compiled(f)])


def included_c(rev: str) -> set:
    """Names of the .c files that a file #includes somewhere in the tree
    at rev: the base's (found once per base, in build/cache), and what the
    series' diff adds."""
    base = git("rev-parse", "base^{tree}", cwd=work())
    cache = Cache("included-c")
    key = cache_key(base)
    names = cache.get(key)
    if names is None:
        rc, out = run(["git", "grep", "-h", "-o", "-E", INCLUDE_C, "base"],
                      cwd=work(), check=False)
        if rc not in (0, 1):
            raise Fail("git grep for included .c files in the base failed")
        names = sorted({Path(m).name for m in re.findall(INCLUDE_C, out)})
        cache.put(key, names)
    added = [l for l in git("diff", "--no-renames", "base", rev,
                            cwd=work()).splitlines() if l.startswith("+")]
    return set(names) | {Path(m).name for l in added
                         for m in re.findall(INCLUDE_C, l)}


def code_inputs(rev: str, own: list, headers: tuple = None) -> str:
    """A key for results about how objects built from the C files own (or
    a header alone, own empty) compile in the tree at rev: inputs_of()
    the files the series changes, but for those no build reads
    (compiled()) and the other C files in mm/ (none is compiled in
    Kbuild's prepare step, as kernel/bounds.c and asm-offsets.c are),
    unless something #includes a file of that name.  Touching the KUnit
    suite keeps the results about mm/memory.o.  With headers, for results
    that read no header but those (spatch --no-includes), the other
    headers are left out too."""
    changed = changed_since_base(rev)
    inc = included_c(rev) if any(f.endswith(".c") for f in changed) \
        else set()

    def reaches(f: str) -> bool:
        if not compiled(f):
            return False
        if headers is not None and f.endswith(".h") and f not in headers:
            return False
        return not (f.startswith("mm/") and f.endswith(".c")
                    and f not in own and Path(f).name not in inc)
    return inputs_of(rev, [f for f in changed if reaches(f)])


def touched_objs(head: str, odir: Path, since: str = "base") -> list:
    """Objects built from .c files changed since a commit (the base: the
    whole series), or that include a header changed since then."""
    touched = git("diff", "--name-only", since, head, cwd=work()).split()
    srcs = {f for f in touched if f.endswith(".c")}
    for h in (f for f in touched if f.endswith(".h")):
        srcs.update(git("grep", "-l", f'#include.*[</"]{Path(h).name}[>"]',
                        "--", "*.c", cwd=work(), check=False).split())
    return sorted(f[:-2] + ".o" for f in srcs
                  if (odir / (f[:-2] + ".o")).exists())
