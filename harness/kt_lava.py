"""LAVA: a job definition per bundle, and the job run here by Debian's
lava-dispatcher (lava-run: no server, no network) on a QEMU device whose
dictionary is rendered from lava-server's own device-type templates.

The job reports each KUnit case and each test_vmalloc case as a LAVA test
case, with a monitor on the console: every KTAP result line the guest
prints, from the first KTAP header to /init's "KT: done"."""
import json
import os
import re
import shutil
import subprocess
import threading
from pathlib import Path

from kt_common import DEBIAN_PYTHON, FAIL, PASS, SKIP, Fail, log, require, run
from kt_guest import GUEST, debian_package, kernel_cmdline, qemu_options
from kt_results import SILENT_SCRIPT, VMALLOC_XFAIL
from kt_targets import Target

# The "arch" of LAVA's qemu device type (qemu.jinja2) that runs each QEMU
# binary a target may use.
LAVA_ARCH = {"qemu-system-x86_64": "amd64", "qemu-system-i386": "i386",
             "qemu-system-ppc64": "ppc64", "qemu-system-ppc": "ppc",
             "qemu-system-arm": "arm", "qemu-system-aarch64": "arm64"}
# A KTAP result line, whole: "ok 3 name", "not ok 3 name",
# "ok 3 name # SKIP reason", indented or not, after a printk timestamp or
# not.  LAVA takes one "result" group (through fixupdict) and one
# "test_case_id": the lookahead captures SKIP as the result where the line
# has it, "ok" or "not ok" where it does not.  The console reaches LAVA in
# chunks and LAVA searches a window of its buffer: the pattern starts
# after a newline and ends at one, so half a line ("...new # SK", or a
# window that starts at "ot ok") never matches, nor does a diagnostic
# line that quotes a result ("# x: ok 3 foo").  (Lines end in "\r\r\n"
# there: the guest's "\r\n", through the pty LAVA runs QEMU on.)
KTAP_PATTERN = (r"(?<=\n)[ \t]*(?:\[[ \d.]+\][ \t]*)?"
                r"(?=(?:ok \d+ [\w.-]+ # )?(?P<result>SKIP|not ok|ok)\b)"
                r"(?:not ok|ok) \d+ (?P<test_case_id>[\w.-]+)"
                r"(?=(?: #[^\r\n]*)?\r*\n)")
FIXUP = {"ok": PASS, "not ok": FAIL, "SKIP": SKIP}
MONITOR_START = "KTAP version 1"
MONITOR_END = "KT: done"
DEVICE_TYPES = "usr/share/lava-server/device-types"


def job_minutes(t: Target) -> int:
    """The test action's timeout: t's guest timeout, in whole minutes."""
    return max(5, t.timeout // 60 + 1)


def context(t: Target) -> dict:
    """The job context of t on LAVA's qemu device type: the architecture
    and the options of the harness's own QEMU command."""
    if t.qemu[0] not in LAVA_ARCH:
        raise Fail(f"{t.name}: LAVA's qemu device type has no arch for "
                   f"{t.qemu[0]}")
    opts, memory, extra = qemu_options(t, "tcg"), "512", []
    for i, o in enumerate(opts):
        if not o.startswith("-"):
            continue
        v = opts[i + 1] if i + 1 < len(opts) and \
            not opts[i + 1].startswith("-") else None
        if o == "-m":
            m = re.fullmatch(r"(\d+)([MG]?)", v or "")
            if not m:
                raise Fail(f"{t.name}: -m {v}: not a size this job knows "
                           "(N, NM or NG)")
            memory = str(int(m.group(1)) * (1024 if m.group(2) == "G"
                                            else 1))
        # (qemu.jinja2 gives -nographic, which is -serial stdio and no
        # display, and -monitor none)
        elif o not in ("-display", "-serial", "-monitor"):
            extra.append(f"{o} {v}" if v else o)
    return {"arch": LAVA_ARCH[t.qemu[0]], "no_kvm": True, "memory": memory,
            "extra_options": extra}


def _q(v) -> str:
    """A YAML scalar: JSON's quoting, which YAML reads alike."""
    return json.dumps(v)


def _header(device_type: str, name: str, minutes: int) -> str:
    return f"""\
device_type: {device_type}
job_name: {_q(name)}
priority: medium
visibility: public
timeouts:
  job:
    minutes: {minutes + 10}
  action:
    minutes: {minutes}
  connection:
    minutes: 2
"""


def _test(t: Target, minutes: int) -> str:
    """The test action: a monitor that makes each KTAP result line on the
    console a LAVA test case."""
    return f"""\
- test:
    timeout:
      minutes: {minutes}
    monitors:
    - name: {_q("kt-" + t.name)}
      start: {_q(MONITOR_START)}
      end: {_q(MONITOR_END)}
      pattern: {_q(KTAP_PATTERN)}
      fixupdict:
{"".join(f"        {_q(k)}: {_q(v)}{chr(10)}" for k, v in FIXUP.items())}"""


def job_yaml(t: Target, name: str, kernel_url: str, initrd_url: str,
             minutes: int) -> str:
    """The LAVA job of t's bundle on LAVA's qemu device type: what make
    check runs with lava-run."""
    ctx = context(t)
    return f"""\
# LAVA job: the bundle's kernel and initramfs on LAVA's qemu device type,
# every KUnit and test_vmalloc case reported as a LAVA test case.  make
# check runs it with lava-run; in a lab: lavacli jobs submit lava-job.yaml
# (with URLs the lab can fetch).
{_header("qemu", name, minutes)}\
context:
  arch: {_q(ctx["arch"])}
  no_kvm: true
  memory: {ctx["memory"]}
  extra_options:
{"".join(f"  - {_q(o)}{chr(10)}" for o in ctx["extra_options"])}\
actions:
- deploy:
    to: tmpfs
    timeout:
      minutes: 2
    images:
      kernel:
        image_arg: {_q("-kernel {kernel} -append '" + kernel_cmdline(t) + "'")}
        url: {_q(kernel_url)}
      initrd:
        image_arg: "-initrd {{initrd}}"
        url: {_q(initrd_url)}
- boot:
    method: qemu
    media: tmpfs
    timeout:
      minutes: 2
{_test(t, minutes)}"""


def x86_job_yaml(t: Target, name: str, kernel_url: str, initrd_url: str,
                 minutes: int) -> str:
    """The same test on an x86 board of a lab (LAVA device type x86: the
    kernel and ramdisk over TFTP, booted by iPXE; the console and its
    speed are the device's)."""
    args = " ".join(a for a in kernel_cmdline(t).split()
                    if not a.startswith("console="))
    return f"""\
# LAVA job: the bundle on an x86 board (device type x86: TFTP and iPXE),
# every KUnit and test_vmalloc case reported as a LAVA test case.
# lavacli jobs submit lava-job-x86.yaml, with URLs the lab can fetch.
{_header("x86", name, minutes)}\
context:
  extra_kernel_args: {_q(args)}
actions:
- deploy:
    to: tftp
    timeout:
      minutes: 5
    kernel:
      url: {_q(kernel_url)}
    ramdisk:
      url: {_q(initrd_url)}
    os: oe
- boot:
    method: ipxe
    commands: ramdisk
    timeout:
      minutes: 5
{_test(t, minutes)}"""


def validate(job: Path) -> None:
    """The job against LAVA's own job schema (lava_common, as a LAVA
    server checks a submission); Fail naming what is wrong."""
    script = ("import sys, yaml\n"
              "from lava_common.schemas import validate\n"
              "validate(yaml.safe_load(open(sys.argv[1])), strict=True)\n")
    rc, out = run([DEBIAN_PYTHON, "-c", script, str(job)], check=False)
    if rc:
        raise Fail(f"{job.name}: not a valid LAVA job: "
                   f"{out.strip().splitlines()[-1]}")


def device_yaml(ctx: dict) -> str:
    """A device dictionary for LAVA's qemu device type, rendered with
    jinja2 (Debian's python3-jinja2) from the templates in Debian's
    lava-server package (downloaded and extracted, not installed), with
    the job's context, as a LAVA server would render it."""
    require(DEBIAN_PYTHON, py=("jinja2",))
    types = debian_package("lava-server", host_arch()) / DEVICE_TYPES
    if not (types / "qemu.jinja2").exists():
        raise Fail(f"no qemu.jinja2 in Debian's lava-server ({types})")
    script = ("import jinja2, json, sys\n"
              "d, ctx = sys.argv[1], json.loads(sys.argv[2])\n"
              "env = jinja2.Environment(loader=jinja2.FileSystemLoader(d),"
              " trim_blocks=True, autoescape=False)\n"
              "print(env.from_string(\"{% extends 'qemu.jinja2' %}\")"
              ".render(**ctx))\n")
    return run([DEBIAN_PYTHON, "-c", script, str(types), json.dumps(ctx)])[1]


def host_arch() -> str:
    return run(["dpkg", "--print-architecture"])[1].strip()


def lava_run(job: Path, ctx: dict, out: Path, timeout: int) -> dict:
    """Run the job with lava-run on a QEMU device rendered for ctx.
    Returns {case: result} as LAVA recorded them; a job that LAVA did not
    complete fails, with LAVA's own error."""
    require("lava-run")
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    dev = out / "device.yaml"
    dev.write_text(device_yaml(ctx))
    log(f"lava: lava-run {job.name} ({out})")
    # (a job id of its own: lava-run keeps its files in
    # /var/lib/lava/dispatcher/tmp/ID, and another run may be going)
    job_id = f"kt{os.getpid()}{threading.get_ident() % 100000}"
    try:
        with GUEST:             # (its QEMU is a guest like the others)
            p = subprocess.run(["lava-run", "--job-id", job_id,
                                "--output-dir", str(out / "run"),
                                "--device", str(dev), str(job)],
                               stdin=subprocess.DEVNULL,
                               capture_output=True, text=True,
                               timeout=timeout)
    except subprocess.TimeoutExpired:
        raise Fail(f"lava-run {job}: no end after {timeout}s") from None
    (out / "lava-run.log").write_text(p.stdout + p.stderr)
    return parse_log(p.stdout + p.stderr, out / "lava-run.log")


def case_id(name: str) -> str:
    """A case's name as LAVA records it (lava_dispatcher's monitor:
    lower case, every run of non-word characters one "_")."""
    return re.sub(r"\W+", "_", name.strip().lower())


def parse_log(text: str, where: Path) -> dict:
    """{case: result} from lava-run's log: one YAML flow mapping per line
    (JSON, mostly; "results" entries carry the test cases).  Fail with
    LAVA's errors when the job did not complete, or when a case reports
    twice."""
    require(py=("yaml",))
    import yaml                 # (Debian's python3-yaml)
    cases, errors, status = {}, [], None
    for line in text.split("\n"):
        if not line.startswith("{"):
            continue
        try:
            e = yaml.safe_load(line)
        except yaml.YAMLError:
            continue            # (a line of the guest's, not LAVA's)
        if not isinstance(e, dict):
            continue
        msg = e.get("msg")
        if e.get("lvl") == "results" and isinstance(msg, dict):
            if msg.get("definition") == "lava":
                if msg.get("case") == "job":
                    status = msg.get("result")
                continue
            if msg.get("case") in cases:
                raise Fail(f"LAVA reports {msg['case']} twice ({where})")
            cases[msg.get("case")] = msg.get("result")
        elif e.get("lvl") == "error":
            errors.append(str(msg))
    if status != PASS:
        raise Fail(f"LAVA job {status or 'did not finish'}: "
                   f"{'; '.join(errors[-3:]) or 'see ' + str(where)}")
    return cases


def vmalloc_unseen(tests: dict) -> bool:
    """Does this tree's test_vmalloc.sh print no results?  LAVA reads the
    cases from its KTAP, so it has none of them; the harness judges them
    from the kernel's Summary lines."""
    script = tests.get("test_vmalloc", {}).get("test_vmalloc.sh")
    return bool(script) and script[1] == SILENT_SCRIPT


def compare(lava: dict, tests: dict) -> list:
    """Differences between LAVA's cases and the harness's results of the
    same boot: every KUnit case and suite, every test_vmalloc case (but
    where LAVA cannot see them: vmalloc_unseen()), by the name LAVA gives
    it (two of the harness's cases that LAVA would name alike are a
    difference too)."""
    mine: dict = {}
    for suite, cases in tests.items():
        if suite == "test_vmalloc" and vmalloc_unseen(tests):
            continue
        if suite.startswith("kunit."):
            named = {suite[len("kunit."):] if c == "(suite)" else c: r
                     for c, (r, _) in cases.items()}
        elif suite == "test_vmalloc":
            # (a by-design failure is a skip here and an expected failure
            # in test_vmalloc.sh's KTAP, "ok ... # XFAIL", which LAVA
            # records as a pass)
            named = {c: PASS if c in VMALLOC_XFAIL and r == SKIP else r
                     for c, (r, _) in cases.items()
                     if c != "test_vmalloc.sh"}
        else:
            continue
        for c, r in named.items():
            mine.setdefault(case_id(c), []).append(r)
    diff = [f"{c}: {len(rs)} cases of the harness that LAVA names alike"
            for c, rs in sorted(mine.items()) if len(rs) > 1]
    mine = {c: rs[0] for c, rs in mine.items()}
    return diff + [f"{c}: LAVA {lava.get(c, 'missing')}, harness "
                   f"{mine.get(c, 'missing')}"
                   for c in sorted(set(lava) | set(mine))
                   if lava.get(c) != mine.get(c)]
