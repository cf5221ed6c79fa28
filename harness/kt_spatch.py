#!/usr/bin/python3
"""The spatch that the coccicheck gate hands scripts/coccicheck (SPATCH=,
kt_findings.checking()): spatch ($KT_SPATCH) for the scripts named in
$KT_SPATCH_SCRIPTS, after a line naming the script, so that each one's
reports can be told apart; nothing, and success, for any other script,
whose findings the gate has kept.  coccicheck still decides how each
script is run (its Options: and Requires: lines) and runs them all in
one start of its own."""
import os
import shutil
import sys

# (what comes before each script's reports)
MARK = "kt-spatch: "


def script_of(args: list) -> str:
    """The script a coccicheck command line of spatch runs, or ""."""
    for a, b in zip(args, args[1:]):
        if a in ("--cocci-file", "--sp-file"):
            return os.path.realpath(b)
    return ""


def main() -> None:
    args = sys.argv[1:]
    s = script_of(args)
    if s:       # (not --version or --help, which coccicheck asks first)
        todo = {os.path.realpath(p) for p in
                os.environ.get("KT_SPATCH_SCRIPTS", "").split()}
        if s not in todo:
            sys.exit(0)
        print(f"{MARK}{s}", flush=True)
    spatch = shutil.which(os.environ.get("KT_SPATCH", "spatch"))
    os.execv(spatch, [spatch, *args])


if __name__ == "__main__":
    main()
