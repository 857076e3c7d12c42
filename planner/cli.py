"""The ``mvplan`` command line: an edge that reads files, calls the pure core and prints.

Exit codes: 0 clean, 1 errors found (or a verification/apply failure), 2 unusable input.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import __version__
from .errors import DesignError, MvplanError
from .findings import ERROR, INFO, WARNING

EXIT_OK, EXIT_FINDINGS, EXIT_INPUT = 0, 1, 2


def _load(path: str):
    from .model import load_design

    return load_design(path)


def _print_problems(err: DesignError, path: str) -> None:
    print(f"{path}: not a usable design ({len(err.problems)} problem{'s' if len(err.problems) != 1 else ''}):",
          file=sys.stderr)
    for p in err.problems:
        print(f"  {p.path or '(document)'}: {p.message}", file=sys.stderr)


# --------------------------------------------------------------------------- check
def cmd_check(args) -> int:
    from .rules import check_with_prediction

    design = _load(args.design)
    findings, _pred = check_with_prediction(design)
    shown = [f for f in findings if args.all or f.severity != INFO or args.json]
    counts = {s: sum(1 for f in findings if f.severity == s) for s in (ERROR, WARNING, INFO)}
    if args.json:
        print(json.dumps({"design": design.name, "findings": [f.to_dict() for f in findings],
                          "summary": counts}, indent=2))
    else:
        for f in shown:
            print(f"{f.severity.upper():7} {f.code}  {', '.join(f.subjects[:6])}{' ...' if len(f.subjects) > 6 else ''}")
            print(f"        {f.message}")
            if f.fix:
                print(f"        fix: {f.fix}")
            for c in f.commands:
                print(f"          $ {c}")
        hidden = len(findings) - len(shown)
        print(f"{design.name}: {counts[ERROR]} error(s), {counts[WARNING]} warning(s), {counts[INFO]} info"
              + (f" ({hidden} info hidden; --all shows them)" if hidden else ""))
    if counts[ERROR] or (args.strict and counts[WARNING]):
        return EXIT_FINDINGS
    return EXIT_OK


# --------------------------------------------------------------------------- predict
def _what_if(args, path: str):
    """Apply --hairpin/--down overrides to the document before loading it."""
    from .model import design_from_dict, parse_design_text
    from .reachability import apply_what_if

    if not (args.hairpin or args.down):
        return _load(path)
    doc = parse_design_text(Path(path).read_text("utf-8"), path)
    hairpin = {}
    for item in args.hairpin or ():
        port, _, val = item.rpartition("=")
        if val not in ("on", "off") or not port:
            raise _input_error(f"--hairpin {item!r}: write PORT=on or PORT=off, e.g. switch:sw1/p1=on")
        hairpin[port] = val == "on"
    try:
        doc = apply_what_if(doc, hairpin=hairpin, down=args.down or ())
    except ValueError as exc:
        raise _input_error(str(exc)) from None
    return design_from_dict(doc)


def _input_error(message: str) -> DesignError:
    from .errors import InputProblem

    return DesignError(InputProblem("(command line)", message))


def cmd_predict(args) -> int:
    from .reachability import predict

    design = _what_if(args, args.design)
    pred = predict(design)
    if args.json:
        print(json.dumps(pred.to_dict(), indent=2))
        return EXIT_OK
    eps = pred.endpoints
    names = [e.id for e in eps]
    if len(eps) <= 40:
        width = max((len(n) for n in names), default=0)
        print(" " * (width + 1) + "".join(f"{k:>3}" for k in range(len(eps))))
        for i, a in enumerate(eps):
            cells = "".join("  -" if a.id == b.id else ("  Y" if pred.reachable(a.id, b.id) else "  .") for b in eps)
            print(f"{a.id:<{width}} {cells}   [{i}] {a.address.ip}")
        print("Y = ping gets a reply, . = blocked; rows ping columns (column k = endpoint [k])")
    summary = pred.to_dict()["summary"] if len(eps) <= 2000 else None
    blocked = []
    for key, v in sorted(pred.verdicts.items()):
        if not v.reachable:
            blocked.append((pred.examples[key], v, pred.pair_count(key)))
    if blocked:
        print(f"\nblocked ({len(blocked)} kind(s) of pair):")
        for (a, b), v, n in blocked[: args.limit]:
            more = f"  (+{n - 1} similar pair(s))" if n > 1 else ""
            print(f"  {a} -> {b}: {v.reason}{more}\n    {v.message}")
            if v.fix:
                print(f"    fix: {v.fix}")
        if len(blocked) > args.limit:
            print(f"  ... {len(blocked) - args.limit} more (use --limit or --json)")
    if summary:
        print(f"\n{summary['endpoints']} endpoints, {summary['reachable_pairs']}/{summary['pairs']} ordered pairs "
              f"reachable ({summary['classes']} classes)")
    return EXIT_OK


def cmd_explain(args) -> int:
    from .reachability import explain

    design = _what_if(args, args.design)
    try:
        v = explain(design, args.source, args.target)
    except KeyError as exc:
        print(f"mvplan explain: {exc.args[0]}", file=sys.stderr)
        return EXIT_INPUT
    if args.json:
        print(json.dumps(v.to_dict(), indent=2))
    else:
        print(f"{'REACHABLE' if v.reachable else 'BLOCKED'} ({v.reason})")
        print(f"  {v.message}")
        if v.hops:
            print("  hops: " + " -> ".join(v.hops))
        if v.fix:
            print(f"  fix: {v.fix}")
    return EXIT_OK if v.reachable else EXIT_FINDINGS


def cmd_schema(args) -> int:
    from .schema import design_schema

    print(json.dumps(design_schema(), indent=2))
    return EXIT_OK


def cmd_serve(args) -> int:
    from .web import serve

    serve(host=args.host, port=args.port, instance_path=args.instance, allow_apply=args.allow_apply)
    return EXIT_OK


# --------------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="mvplan", description="Plan, check, predict and apply Linux macvlan topologies.")
    ap.add_argument("--version", action="version", version=f"mvplan {__version__}")
    sub = ap.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("check", help="run every rule; exit 1 when errors are found")
    p.add_argument("design")
    p.add_argument("--json", action="store_true", help="machine-readable findings")
    p.add_argument("--all", action="store_true", help="also show info findings")
    p.add_argument("--strict", action="store_true", help="warnings also make the exit code 1")
    p.set_defaults(func=cmd_check)

    def what_if_args(p):
        p.add_argument("--hairpin", action="append", metavar="PORT=on|off",
                       help="what-if: override hairpin on a port (switch:SW/PORT or bridge:HOST/BR/PORT)")
        p.add_argument("--down", action="append", metavar="HOST/PARENT", help="what-if: set a parent down")

    p = sub.add_parser("predict", help="who can ping whom, and why not")
    p.add_argument("design")
    p.add_argument("--json", action="store_true", help="documented machine-readable form (docs/reachability.md)")
    p.add_argument("--limit", type=int, default=20, help="blocked pair kinds to list (default 20)")
    what_if_args(p)
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser("explain", help="explain one ordered pair: mvplan explain FILE A B")
    p.add_argument("design")
    p.add_argument("source")
    p.add_argument("target")
    p.add_argument("--json", action="store_true")
    what_if_args(p)
    p.set_defaults(func=cmd_explain)

    p = sub.add_parser("schema", help="print the JSON Schema of the design format")
    p.set_defaults(func=cmd_schema)

    p = sub.add_parser("serve", help="start the web designer (SQLite, examples loaded)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--instance", default=None, help="instance folder (database); default ./instance")
    p.add_argument("--allow-apply", action="store_true", help="allow applying plans from the browser (token needed)")
    p.set_defaults(func=cmd_serve)

    for extra in _EXTRA_COMMANDS:
        extra(sub)
    return ap


#: commands contributed by edge modules (export, apply, discover, rehearse) register here
_EXTRA_COMMANDS: list = []


def _register_extras() -> None:
    """Collect the edge modules' subcommands once per process (main() may run many times)."""
    for modname in ("planner.cli_plan",):
        try:
            mod = __import__(modname, fromlist=["register"])
        except ImportError:
            continue
        if mod.register not in _EXTRA_COMMANDS:
            _EXTRA_COMMANDS.append(mod.register)


def main(argv: list[str] | None = None) -> int:
    _register_extras()
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except DesignError as err:
        _print_problems(err, getattr(args, "design", "input"))
        return EXIT_INPUT
    except MvplanError as err:
        print(f"mvplan {args.command}: {err}", file=sys.stderr)
        return EXIT_FINDINGS
    except BrokenPipeError:
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
