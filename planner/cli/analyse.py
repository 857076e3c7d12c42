"""check, predict, explain, schema: the commands that read a design and print what the core says."""
from __future__ import annotations

import json
import sys

from planner.core.findings import ERROR, INFO, WARNING

from .common import EXIT_FAIL, EXIT_INPUT, EXIT_OK, load, load_with_what_if

__all__ = ["add_check", "add_predict", "add_explain", "add_schema"]


# --------------------------------------------------------------------------- check
def cmd_check(args) -> int:
    from planner.core.rules import check_with_prediction

    design = load(args.design)
    findings, _pred = check_with_prediction(design)
    shown = [f for f in findings if args.all or f.severity != INFO or args.json]
    counts = {s: sum(1 for f in findings if f.severity == s) for s in (ERROR, WARNING, INFO)}
    if args.json:
        print(json.dumps({"design": design.name, "findings": [f.to_dict() for f in findings],
                          "summary": counts}, indent=2))
    else:
        for f in shown:
            more = " ..." if len(f.subjects) > 6 else ""
            print(f"{f.severity.upper():7} {f.code}  {', '.join(f.subjects[:6])}{more}")
            print(f"        {f.message}")
            if f.fix:
                print(f"        fix: {f.fix}")
            for c in f.commands:
                print(f"          $ {c}")
        hidden = len(findings) - len(shown)
        print(f"{design.name}: {counts[ERROR]} error(s), {counts[WARNING]} warning(s), {counts[INFO]} info"
              + (f" ({hidden} info hidden; --all shows them)" if hidden else ""))
    if counts[ERROR] or (args.strict and counts[WARNING]):
        return EXIT_FAIL
    return EXIT_OK




def cmd_predict(args) -> int:
    from planner.core.reachability import predict_families

    design = load_with_what_if(args)
    preds = predict_families(design)
    if args.json:
        out = preds[4].to_dict()
        if 6 in preds:
            out["ipv6"] = preds[6].to_dict()
        print(json.dumps(out, indent=2))
        return EXIT_OK
    for family, pred in preds.items():
        if len(preds) > 1:
            print(f"== IPv{family} ({'ping' if family == 4 else 'ping -6'}) ==")
        _print_prediction(pred, args.limit)
        if family == 6:
            _print_duplicates(pred)
        if len(preds) > 1 and family == 4:
            print()
    return EXIT_OK


def _print_prediction(pred, limit: int) -> None:
    """The matrix (up to 40 endpoints), the blocked pairs grouped by fix, and the totals."""
    eps = pred.endpoints
    names = [e.id for e in eps]
    if len(eps) <= 40:
        width = max((len(n) for n in names), default=0)
        print(" " * (width + 1) + "".join(f"{k:>3}" for k in range(len(eps))))
        for i, a in enumerate(eps):
            cells = "".join("  -" if a.id == b.id else ("  Y" if pred.reachable(a.id, b.id) else "  .") for b in eps)
            print(f"{a.id:<{width}} {cells}   [{i}] {a.address.ip if a.address else '-'}")
        print("Y = ping gets a reply, . = blocked; rows ping columns (column k = endpoint [k])")
    groups = blocked_groups(pred)
    if groups:
        total = sum(g["pairs"] for g in groups)
        print(f"\nblocked: {total} ordered pair(s), {len(groups)} distinct fix(es):")
        for g in groups[: limit]:
            a, b = g["examples"][0]
            more = f" (and {g['pairs'] - 1} more pair(s) with this fix)" if g["pairs"] > 1 else ""
            print(f"  {a} -> {b}: {g['reason']}{more}\n    {g['message']}")
            print(f"    fix: {g['fix'] or '(none found)'}")
        if len(groups) > limit:
            print(f"  ... {len(groups) - limit} more (use --limit or --json)")
    n = len(eps)
    print(f"\n{n} endpoints, {pred.reachable_pairs()}/{n * (n - 1)} ordered pairs reachable "
          f"({len(pred.classes)} classes, {len(pred.exceptions)} pairs computed alone)")


def _print_duplicates(pred) -> None:
    for d in pred.world.duplicates:
        what = ("DAD catches it: the copy probed second goes dadfailed (MV119)" if d.caught
                else "NOT detected by DAD (MV120)")
        print(f"duplicate IPv6 address {d.address} on {', '.join(d.holders)}: {what}")


def blocked_groups(pred) -> list[dict]:
    """Blocked pairs grouped by fix: one entry per distinct (reason, fix), most pairs first."""
    groups: dict[tuple[str, str], dict] = {}
    for v, pair, count in pred.groups():
        if v.reachable:
            continue
        g = groups.setdefault((str(v.reason), v.fix), {"reason": str(v.reason), "fix": v.fix, "message": v.message,
                                                       "pairs": 0, "examples": []})
        g["pairs"] += count
        if len(g["examples"]) < 3:
            g["examples"].append(pair)
    return sorted(groups.values(), key=lambda g: (-g["pairs"], g["reason"], g["fix"]))


def resolve_endpoint(design, ref: str) -> str:
    """An endpoint reference as people write it: an id, an IPv4 address (``10.0.0.5`` or
    ``10.0.0.5/24``), a namespace or station with one endpoint (``web``), ``NS/NAME``; anything else
    is left to :func:`planner.core.reachability.explain` (short interface names). KeyError names the
    choices."""
    import ipaddress

    eps = design.endpoints()
    if any(e.id == ref for e in eps):
        return ref
    try:
        ip = ipaddress.ip_address(ref.split("/", 1)[0])
    except ValueError:
        ip = None
    if ip is not None:
        owners = [e.id for e in eps if ip in e.ips]
        if len(owners) == 1:
            return owners[0]
        if not owners:
            raise KeyError(f"no endpoint has the address {ip}; endpoints: "
                           + ", ".join(f"{e.id} ({e.ip})" for e in eps))
        raise KeyError(f"{ip} is the address of several endpoints: {', '.join(owners)}; name one by its id")
    ns, _, name = ref.rpartition("/")
    by_ns = [e.id for e in eps if (e.namespace == ref and e.host) or (ns and e.namespace == ns and e.name == name)]
    if len(by_ns) == 1:
        return by_ns[0]
    if len(by_ns) > 1 and not ns:
        raise KeyError(f"namespace {ref!r} has several endpoints: {', '.join(by_ns)}; write {ref}/NAME")
    return ref


def cmd_explain(args) -> int:
    from planner.core.reachability import explain

    design = load_with_what_if(args)
    families = [args.family] if args.family else [f for f in (4, 6) if f == 4 or design.has_ipv6()]
    verdicts = []
    errors = []
    for family in families:
        view = design.family_view(family)
        try:
            verdicts.append(explain(view, resolve_endpoint(view, args.source), resolve_endpoint(view, args.target),
                                    family=family))
        except KeyError as exc:
            errors.append(f"IPv{family}: {exc.args[0]}" if len(families) > 1 else exc.args[0])
    if not verdicts:
        print("mvplan explain: " + "; ".join(errors), file=sys.stderr)
        return EXIT_INPUT
    if args.json:
        out = verdicts[0].to_dict() if len(verdicts) == 1 else {f"ipv{v.family}": v.to_dict() for v in verdicts}
        print(json.dumps(out, indent=2))
        return EXIT_OK
    for v in verdicts:
        tag = f"IPv{v.family} " if len(families) > 1 else ""
        print(f"{tag}{'REACHABLE' if v.reachable else 'BLOCKED'} ({v.reason})")
        print(f"  {v.message}")
        if v.hops:
            print("  there: " + " -> ".join(str(h) for h in v.hops))
        if v.reply_hops:
            print("  back:  " + " -> ".join(str(h) for h in v.reply_hops))
        if v.fix:
            print(f"  fix: {v.fix}")
    return EXIT_OK if all(v.reachable for v in verdicts) else EXIT_FAIL


def cmd_schema(args) -> int:
    from planner.core.schema import design_schema

    print(json.dumps(design_schema(), indent=2))
    return EXIT_OK


def _what_if_args(p) -> None:
    p.add_argument("--hairpin", action="append", metavar="PORT=on|off",
                   help="what-if: override hairpin on a port (switch:SW/PORT or bridge:HOST/BR/PORT)")
    p.add_argument("--down", action="append", metavar="HOST/PARENT", help="what-if: set a parent down")


def add_check(sub) -> None:
    p = sub.add_parser("check", help="run every rule; exit 1 when errors are found")
    p.add_argument("design", help="design file ('-' reads standard input)")
    p.add_argument("--json", action="store_true", help="machine-readable findings")
    p.add_argument("--all", action="store_true", help="also show info findings")
    p.add_argument("--strict", action="store_true", help="warnings also make the exit code 1")
    p.set_defaults(func=cmd_check)


def add_predict(sub) -> None:
    p = sub.add_parser("predict", help="who can ping whom, and why not")
    p.add_argument("design", help="design file ('-' reads standard input)")
    p.add_argument("--json", action="store_true", help="documented machine-readable form (docs/reachability.md)")
    p.add_argument("--limit", type=int, default=20, help="blocked pair kinds to list (default 20)")
    _what_if_args(p)
    p.set_defaults(func=cmd_predict)


def add_explain(sub) -> None:
    p = sub.add_parser("explain", help="explain one ordered pair: mvplan explain FILE A B")
    p.add_argument("design", help="design file ('-' reads standard input)")
    p.add_argument("source", help="endpoint: an id (host1/ns:web/web0), a short name (web0), an address "
                                  "(10.10.0.11), a namespace with one endpoint (web) or NS/NAME")
    p.add_argument("target", help="endpoint, written like the source")
    p.add_argument("--json", action="store_true")
    p.add_argument("--family", type=int, choices=(4, 6),
                   help="explain only this address family (default: IPv4, and IPv6 when the design has it)")
    _what_if_args(p)
    p.set_defaults(func=cmd_explain)


def add_schema(sub) -> None:
    p = sub.add_parser("schema", help="print the JSON Schema of the design format")
    p.set_defaults(func=cmd_schema)
