"""apply and discover: the commands that talk netlink to a live host or namespace."""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from .common import EXIT_FAIL, EXIT_INPUT, EXIT_OK, input_error, load
from .plan import print_plan

__all__ = ["add_apply", "add_discover"]


def _env_int(name: str) -> int | None:
    v = os.environ.get(name)
    return int(v) if v not in (None, "") else None


def _report_apply(res, args, seconds: float) -> int:
    if args.json:
        print(json.dumps(res.to_dict(), indent=2))
        return EXIT_OK if res.ok else EXIT_FAIL
    for w in res.warnings:
        print(f"warning: {w}", file=sys.stderr)
    if res.dry_run:
        print(f"plan for host {res.host} on {res.target} (dry run, nothing changed):")
        print_plan(res.plan)
        if res.plan.ops:
            print("run again with --yes to apply it")
        return EXIT_OK
    if res.cached:
        print(f"nothing to do on {res.target}: the live state is exactly what the last verified apply of this "
              "design left (verified then; --no-stamp re-checks)")
        return EXIT_OK
    if not res.plan.ops and res.error is None:
        print(f"nothing to do on {res.target}: the live state already matches the design")
    elif res.error is None:
        print(f"applied {res.applied} op(s) on {res.target} in {seconds:.2f}s")
    if res.error is not None:
        print(f"apply failed: {res.error}", file=sys.stderr)
        if res.rolled_back:
            if res.rollback_errors:
                print(f"rollback incomplete ({len(res.rollback_errors)} problem(s)); the journal is kept - "
                      "fix and run 'mvplan apply --recover rollback':", file=sys.stderr)
                for e in res.rollback_errors:
                    print(f"  {e}", file=sys.stderr)
            elif res.vanished:
                print(f"rolled back the {res.applied} completed op(s), but {res.target} is NOT as before:",
                      file=sys.stderr)
                for v in res.vanished:
                    print(f"  {v}", file=sys.stderr)
            else:
                print(f"rolled back: the {res.applied} completed op(s) were undone; {res.target} is as before",
                      file=sys.stderr)
    if res.verified:
        if res.mismatches:
            print(f"verification FAILED: {len(res.mismatches)} difference(s) between the live state and the design:")
            for m in res.mismatches:
                print(f"  {m}")
        elif res.error is None or res.confirmed is False:
            print("verified: the live state matches the design")
    if res.confirmed:
        print("confirmed: the changes are kept")
    return EXIT_OK if res.ok else EXIT_FAIL


def cmd_apply(args) -> int:
    from planner.netlink import NetlinkError, TargetMissing
    from planner.netlink.apply import ApplyError, FailAt, apply, confirm_keep, recover

    netns = args.netns or None
    try:
        if args.confirm_keep:
            path = confirm_keep(netns, args.run_dir)
            print(f"confirmed ({path})")
            return EXIT_OK
        t0 = time.perf_counter()
        if args.recover:
            res = recover(args.recover, netns=netns, run_dir_path=args.run_dir)
            if args.recover == "complete":
                if not args.json:
                    print("recovering by completing the interrupted apply:")
                return _report_apply(res, args, time.perf_counter() - t0)
            if args.json:
                print(json.dumps(res.to_dict(), indent=2))
            elif res.rollback_errors:
                print(f"rollback incomplete ({len(res.rollback_errors)} problem(s)); the journal is kept:",
                      file=sys.stderr)
                for e in res.rollback_errors:
                    print(f"  {e}", file=sys.stderr)
            elif res.vanished:
                print(f"recovered: the interrupted apply ({res.applied} of {len(res.plan.ops)} op(s) completed) "
                      f"was rolled back, but {res.target} is NOT as before:")
                for v in res.vanished:
                    print(f"  {v}")
            else:
                print(f"recovered: the interrupted apply ({res.applied} of {len(res.plan.ops)} op(s) completed) "
                      f"was rolled back; {res.target} is as before")
            return EXIT_OK if not res.rollback_errors else EXIT_FAIL
        if not args.design:
            raise input_error("apply needs a design FILE (or --recover / --confirm-keep)")
        design = load(args.design)
        fault = _env_int("MVPLAN_FAULT_AT")
        res = apply(design, netns=netns, host=args.host, yes=args.yes, verify=not args.no_verify,
                    confirm_seconds=args.confirm, run_dir_path=args.run_dir,
                    fault=FailAt(fault) if fault is not None else None, progress=args.progress,
                    use_stamp=not args.no_stamp, kill_at=_env_int("MVPLAN_KILL_AT"))
        return _report_apply(res, args, time.perf_counter() - t0)
    except TargetMissing as exc:
        print(f"mvplan apply: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except ApplyError as exc:
        print(f"mvplan apply: {exc}", file=sys.stderr)
        return EXIT_FAIL
    except (NetlinkError, OSError) as exc:  # reading the live state failed (permissions, ...)
        print(f"mvplan apply: {exc}", file=sys.stderr)
        return EXIT_FAIL


# --------------------------------------------------------------------------- discover
def cmd_discover(args) -> int:
    import yaml

    from planner.netlink import NetlinkError, TargetMissing
    from planner.netlink.discover import discover

    try:
        doc, skipped = discover(args.netns or None, host=args.host, name=args.name)
    except TargetMissing as exc:
        print(f"mvplan discover: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except (NetlinkError, OSError) as exc:
        print(f"mvplan discover: {exc}", file=sys.stderr)
        return EXIT_FAIL
    as_json = args.json or (args.output or "").endswith(".json")
    if as_json:
        text = json.dumps(doc, indent=2) + "\n"
        for s in skipped:
            print(f"skipped {s}", file=sys.stderr)
    else:
        text = "".join(f"# skipped {s}\n" for s in skipped) + yaml.safe_dump(doc, sort_keys=False)
    if args.output:
        Path(args.output).write_text(text, "utf-8")
        n = sum(len(h.get("children", [])) for h in doc["hosts"])
        print(f"wrote {args.output}: design {doc['name']!r}, {n} child(ren)", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return EXIT_OK



def add_apply(sub) -> None:
    p = sub.add_parser("apply", help="apply a design with netlink (dry run unless --yes), verify, roll back on failure")
    p.add_argument("design", nargs="?")
    p.add_argument("--yes", "-y", action="store_true", help="really apply (without it: show the plan, change nothing)")
    p.add_argument("--netns", metavar="NAME", help="apply inside netns NAME standing for the host; design namespace "
                                                   "X becomes netns NAME-X")
    p.add_argument("--host", help="which host of the design this machine is (needed for multi-host designs)")
    p.add_argument("--confirm", type=float, metavar="SECONDS",
                   help="like netplan try: roll back unless confirmed within SECONDS (Enter, or --confirm-keep)")
    p.add_argument("--confirm-keep", action="store_true", help="confirm a pending --confirm apply on the target")
    p.add_argument("--recover", choices=("rollback", "complete"),
                   help="finish an apply that was killed, from its journal")
    p.add_argument("--no-verify", action="store_true", help="skip re-reading and comparing after apply")
    p.add_argument("--no-stamp", action="store_true", help="always compile and verify, even when the live state is "
                                                           "what the last verified apply left")
    p.add_argument("--progress", action="store_true", default=None, help="force the progress display")
    p.add_argument("--run-dir", default=None, help="locks, journals and confirm files (default $MVPLAN_RUN_DIR or "
                                                   "/run/mvplan)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_apply)


def add_discover(sub) -> None:
    p = sub.add_parser("discover", help="read the live state into a design file")
    p.add_argument("--netns", metavar="NAME", help="read netns NAME (and NAME-*) as the host")
    p.add_argument("--host", help="host name to write (default: from mvplan's aliases, else 'host')")
    p.add_argument("--name", help="design name to write (default: from mvplan's aliases, else 'discovered')")
    p.add_argument("-o", "--output", metavar="FILE", help="write here (.json: JSON) instead of stdout")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_discover)
