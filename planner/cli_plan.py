"""Commands that plan, export, apply, discover and rehearse (registered by :mod:`planner.cli`).

* ``mvplan plan FILE [--live-netns NS] [--host H] [--json]`` - the ordered operations;
* ``mvplan export FILE --format iproute2|nmstate|networkd [--teardown] [--hairpin-style S] [-o OUT]``;
* ``mvplan apply FILE [--yes] [--netns NAME] [--confirm SECONDS]`` (dry run without ``--yes``),
  ``mvplan apply --recover rollback|complete [--netns NAME]``, ``mvplan apply --confirm-keep``;
* ``mvplan discover [--netns NAME] [-o FILE]`` - the live state as a design file;
* ``mvplan rehearse FILE [--json]`` - build in throwaway namespaces, ping every pair, compare
  with the prediction.

Exit codes (as everywhere in mvplan): 0 ok, 1 errors / verification failure / disagreement,
2 unusable input.
"""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from .errors import DesignError, InputProblem

EXIT_OK, EXIT_FAIL, EXIT_INPUT = 0, 1, 2

__all__ = ["register"]


def _load(path: str):
    from .model import load_design

    return load_design(path)


def _input_error(message: str) -> DesignError:
    return DesignError(InputProblem("(command line)", message))


def _print_plan(plan, out=None, limit: int | None = None) -> None:
    out = sys.stdout if out is None else out
    ops = plan.ops
    if not ops:
        print("nothing to do: the live state already matches the design", file=out)
    width = len(str(len(ops)))
    shown = ops if limit is None or len(ops) <= limit else ops[:limit]
    for k, op in enumerate(shown, 1):
        print(f"  {k:>{width}}  {op.kind:<18} {op.describe()}", file=out)
    if len(shown) < len(ops):
        print(f"  ... {len(ops) - len(shown)} more (--json lists every op)", file=out)
    for n in plan.notes:
        print(f"  note: {n}", file=out)
    if ops:
        summary = ", ".join(f"{v} {k}" for k, v in plan.summary().items())
        print(f"{len(ops)} op(s): {summary}", file=out)


# --------------------------------------------------------------------------- plan
def cmd_plan(args) -> int:
    from .compiler import compile_plan

    design = _load(args.design)
    if args.live_netns is not None:
        from .netlink import TargetMissing
        from .netlink.apply import apply

        try:
            res = apply(design, netns=args.live_netns or None, host=args.host, yes=False)
        except TargetMissing as exc:
            raise _input_error(str(exc)) from None
        plan = res.plan
        where = f"against the live state of {res.target} (host {res.host})"
    else:
        hosts = [args.host] if args.host else None
        if args.host and design.host(args.host) is None:
            raise _input_error(f"design {design.name!r} has no host {args.host!r}")
        plan = compile_plan(design, hosts=hosts)
        where = "from scratch (the design's NICs exist, nothing else does)"
    if args.json:
        print(json.dumps(plan.to_dict(), indent=2))
        return EXIT_OK
    print(f"plan for design {design.name!r} {where}:")
    _print_plan(plan)
    return EXIT_OK


# --------------------------------------------------------------------------- export
def cmd_export(args) -> int:
    try:
        from .exporters import export
    except ImportError:  # pragma: no cover - exporters are part of the package
        print("mvplan export: planner.exporters is not available in this build", file=sys.stderr)
        return EXIT_FAIL
    design = _load(args.design)
    opts: dict = {}
    if args.teardown:
        opts["teardown"] = True
    if args.hairpin_style:
        opts["hairpin_style"] = args.hairpin_style
    if args.netns_prefix:
        opts["netns_prefix"] = args.netns_prefix
    if args.batch:
        opts["batch"] = True
    if args.host:
        opts["hosts"] = [args.host]
    if args.kubernetes is not None:
        opts["kubernetes"] = args.kubernetes
    try:
        result = export(design, args.format, **opts)
    except ValueError as exc:
        if isinstance(exc, DesignError):
            raise
        print(f"mvplan export: {exc}", file=sys.stderr)
        return EXIT_INPUT
    for w in result.warnings:
        print(f"warning: {w}", file=sys.stderr)
    out = args.output
    if out is None:
        if len(result.files) == 1:
            sys.stdout.write(next(iter(result.files.values())))
        else:
            for name, text in result.files.items():
                print(f"# ==> {name} <==")
                sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return EXIT_OK
    if out.endswith((".tar", ".tar.gz", ".tgz")):
        data = result.write_tar()
        if not out.endswith(".tar"):
            import gzip

            data = gzip.compress(data, mtime=0)  # deterministic, like the tar itself
        Path(out).write_bytes(data)
        print(f"wrote {len(result.files)} file(s) into {out}", file=sys.stderr)
    elif len(result.files) == 1 and not out.endswith("/") and not Path(out).is_dir():
        Path(out).write_text(next(iter(result.files.values())), "utf-8")
        if out.endswith(".sh"):
            Path(out).chmod(0o755)
        print(f"wrote {out}", file=sys.stderr)
    else:
        paths = result.write_dir(out)
        print(f"wrote {len(paths)} file(s) under {out}", file=sys.stderr)
    return EXIT_OK


# --------------------------------------------------------------------------- apply
def _env_int(name: str) -> int | None:
    v = os.environ.get(name)
    return int(v) if v not in (None, "") else None


def _report_apply(res, args, seconds: float) -> int:
    if args.json:
        print(json.dumps(res.to_dict(), indent=2))
        return EXIT_OK if res.ok else EXIT_FAIL
    if res.dry_run:
        print(f"plan for host {res.host} on {res.target} (dry run, nothing changed):")
        _print_plan(res.plan)
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
    from .netlink import NetlinkError, TargetMissing
    from .netlink.apply import ApplyError, FailAt, apply, confirm_keep, recover

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
            else:
                print(f"recovered: the interrupted apply ({res.applied} of {len(res.plan.ops)} op(s) completed) "
                      f"was rolled back; {res.target} is as before")
            return EXIT_OK if not res.rollback_errors else EXIT_FAIL
        if not args.design:
            raise _input_error("apply needs a design FILE (or --recover / --confirm-keep)")
        design = _load(args.design)
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

    from .netlink import NetlinkError, TargetMissing
    from .netlink.discover import discover

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


# --------------------------------------------------------------------------- rehearse
def cmd_rehearse(args) -> int:
    from .lab import Lab, LabError, prerequisites
    from .reachability import predict

    design = _load(args.design)
    pred = predict(design)
    eps = [e.id for e in design.endpoints()]
    pairs = [(a, b) for a in eps for b in eps if a != b]
    missing = prerequisites()
    if missing:
        print("mvplan rehearse: cannot build a lab here: " + "; ".join(missing), file=sys.stderr)
        return EXIT_FAIL
    t0 = time.perf_counter()
    try:
        with Lab(design, ping_timeout=args.timeout) as lab:
            build = lab.build_seconds or 0.0
            measured = lab.ping_matrix(pairs, workers=args.workers)
            warnings = list(lab.warnings)
            netns = lab.namespaces
    except LabError as exc:
        print(f"mvplan rehearse: {exc}", file=sys.stderr)
        return EXIT_FAIL
    total = time.perf_counter() - t0
    rows = []
    for a, b in pairs:
        v = pred.verdict(a, b)
        m = measured[(a, b)]
        rows.append({"from": a, "to": b, "predicted": v.reachable, "measured": m, "agree": v.reachable == m,
                     "reason": v.reason, "message": v.message})
    bad = [r for r in rows if not r["agree"]]
    summary = {"endpoints": len(eps), "pairs": len(rows), "agree": len(rows) - len(bad), "disagree": len(bad),
               "reachable_measured": sum(r["measured"] for r in rows), "build_seconds": round(build, 3),
               "seconds": round(total, 3), "namespaces": len(netns)}
    if args.json:
        print(json.dumps({"design": design.name, "pairs": rows, "summary": summary, "warnings": warnings}, indent=2))
        return EXIT_FAIL if bad else EXIT_OK
    show = rows if (args.all or len(rows) <= 200) else bad
    width = max((len(r["from"]) for r in rows), default=4)
    width2 = max((len(r["to"]) for r in rows), default=2)
    yn = {True: "reply", False: "-"}
    print(f"rehearsal of {design.name!r}: built in {len(netns)} throwaway namespaces in {build:.2f}s, "
          f"{len(rows)} pings from cold caches")
    if show:
        print(f"  {'from':<{width}}  {'to':<{width2}}  {'predicted':<9}  {'measured':<8}")
    for r in show:
        mark = "" if r["agree"] else f"   <-- DISAGREE (predicted because: {r['reason']})"
        print(f"  {r['from']:<{width}}  {r['to']:<{width2}}  {yn[r['predicted']]:<9}  {yn[r['measured']]:<8}{mark}")
    if len(show) < len(rows):
        print(f"  ({len(rows) - len(show)} agreeing pairs not shown; --all shows them)")
    for w in warnings:
        print(f"  warning: {w}")
    print(f"{summary['agree']}/{summary['pairs']} pairs agree with the prediction"
          + (f"; {len(bad)} DISAGREE" if bad else "") + f" ({total:.1f}s, namespaces removed)")
    return EXIT_FAIL if bad else EXIT_OK


# --------------------------------------------------------------------------- registration
def register(sub) -> None:
    """Add plan, export, apply, discover and rehearse to the ``mvplan`` subparsers.

    Idempotent: ``planner.cli.main`` registers extras on every call, so a second ``main()`` in one
    process (tests) hands the same function twice to one parser."""
    if "plan" in getattr(sub, "_name_parser_map", {}):
        return
    p = sub.add_parser("plan", help="the ordered operations that build a design (or its difference to a live state)")
    p.add_argument("design")
    p.add_argument("--live-netns", metavar="NS", nargs="?", const="", default=None,
                   help="diff against the live state of netns NS (no NS: this machine) instead of from scratch")
    p.add_argument("--host", help="plan only this host of the design")
    p.add_argument("--json", action="store_true", help="ops as JSON (the shape planner.ops.Op.to_dict gives)")
    p.set_defaults(func=cmd_plan)

    p = sub.add_parser("export", help="iproute2 script, nmstate YAML or systemd-networkd files from the plan")
    p.add_argument("design")
    p.add_argument("--format", "-f", required=True, choices=("iproute2", "nmstate", "networkd"))
    p.add_argument("--teardown", action="store_true", help="iproute2: the script that undoes the setup")
    p.add_argument("--hairpin-style", choices=("bridge", "brctl", "sysfs"), help="iproute2: how hairpin is set")
    p.add_argument("--netns-prefix", default="", help="iproute2: design namespace NAME is netns PREFIXNAME")
    p.add_argument("--batch", action="store_true", help="iproute2: group commands into ip -batch blocks")
    p.add_argument("--kubernetes", action="store_true", default=None,
                   help="nmstate: NodeNetworkConfigurationPolicy per host (default for multi-host designs)")
    p.add_argument("--host", help="only this host")
    p.add_argument("-o", "--output", metavar="FILE|DIR|TAR", help="write here instead of stdout")
    p.set_defaults(func=cmd_export)

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

    p = sub.add_parser("discover", help="read the live state into a design file")
    p.add_argument("--netns", metavar="NAME", help="read netns NAME (and NAME-*) as the host")
    p.add_argument("--host", help="host name to write (default: from mvplan's aliases, else 'host')")
    p.add_argument("--name", help="design name to write (default: from mvplan's aliases, else 'discovered')")
    p.add_argument("-o", "--output", metavar="FILE", help="write here (.json: JSON) instead of stdout")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_discover)

    p = sub.add_parser("rehearse", help="build the design in throwaway namespaces, ping every pair, compare with "
                                        "the prediction; exit 1 on any disagreement")
    p.add_argument("design")
    p.add_argument("--json", action="store_true")
    p.add_argument("--all", action="store_true", help="list every pair, not only disagreements, on big designs")
    p.add_argument("--timeout", type=float, default=0.5, help="seconds to wait for each echo reply (default 0.5)")
    p.add_argument("--workers", type=int, default=8, help="pings run in parallel when they cannot interfere")
    p.set_defaults(func=cmd_rehearse)
