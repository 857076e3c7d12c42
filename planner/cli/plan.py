"""plan and export: the ordered operations, and the text every back end makes of them."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from planner.core.errors import DesignError

from .common import EXIT_INPUT, EXIT_OK, STDIO, input_error, load

__all__ = ["add_plan", "add_export", "print_plan"]


def print_plan(plan, out=None, limit: int | None = None) -> None:
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
    from planner.core.compiler import compile_plan

    design = load(args.design)
    if args.live_netns is not None:
        from planner.netlink import TargetMissing
        from planner.netlink.apply import apply

        try:
            res = apply(design, netns=args.live_netns or None, host=args.host, yes=False)
        except TargetMissing as exc:
            raise input_error(str(exc)) from None
        plan = res.plan
        where = f"against the live state of {res.target} (host {res.host})"
    else:
        hosts = [args.host] if args.host else None
        if args.host and design.host(args.host) is None:
            raise input_error(f"design {design.name!r} has no host {args.host!r}")
        plan = compile_plan(design, hosts=hosts)
        where = "from scratch (the design's NICs exist, nothing else does)"
    if args.json:
        print(json.dumps(plan.to_dict(), indent=2))
        return EXIT_OK
    print(f"plan for design {design.name!r} {where}:")
    print_plan(plan)
    return EXIT_OK


# --------------------------------------------------------------------------- export
def cmd_export(args) -> int:
    from planner.exporters import export

    design = load(args.design)
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
    if args.node:
        nodes = {}
        for item in args.node:
            host, sep, node = item.partition("=")
            if not sep or not host or not node:
                raise input_error(f"--node {item!r}: write HOST=NODE, e.g. --node Node_A=node-a")
            nodes[host] = node
        opts["node_names"] = nodes
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
    if out is None or out == STDIO:
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



def add_plan(sub) -> None:
    p = sub.add_parser("plan", help="the ordered operations that build a design (or its difference to a live state)")
    p.add_argument("design", help="design file ('-' reads standard input)")
    p.add_argument("--live-netns", metavar="NS", nargs="?", const="", default=None,
                   help="diff against the live state of netns NS (no NS: this machine) instead of from scratch")
    p.add_argument("--host", help="plan only this host of the design")
    p.add_argument("--json", action="store_true", help="ops as JSON (the shape planner.core.ops.Op.to_dict gives)")
    p.set_defaults(func=cmd_plan)


def add_export(sub) -> None:
    from planner.exporters import FORMATS

    p = sub.add_parser("export", help="iproute2, nmstate/NNCP, systemd-networkd, Docker, Multus, libvirt or "
                                      "containerlab files from the plan")
    p.add_argument("design", help="design file ('-' reads standard input)")
    p.add_argument("--format", "-f", required=True, choices=FORMATS)
    p.add_argument("--teardown", action="store_true", help="iproute2: the script that undoes the setup")
    p.add_argument("--hairpin-style", choices=("bridge", "brctl", "sysfs"), help="iproute2: how hairpin is set")
    p.add_argument("--netns-prefix", default="", help="iproute2: design namespace NAME is netns PREFIXNAME")
    p.add_argument("--batch", action="store_true", help="iproute2: group commands into ip -batch blocks")
    p.add_argument("--kubernetes", action="store_true", default=None,
                   help="nmstate: NodeNetworkConfigurationPolicy per host (default for multi-host designs)")
    p.add_argument("--node", action="append", metavar="HOST=NODE",
                   help="nmstate --kubernetes, multus: the Kubernetes node a design host is (repeatable)")
    p.add_argument("--host", help="only this host")
    p.add_argument("-o", "--output", metavar="FILE|DIR|TAR", help="write here instead of stdout ('-': stdout)")
    p.set_defaults(func=cmd_export)
