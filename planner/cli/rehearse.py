"""rehearse: build a design in throwaway namespaces, ping every pair, compare with the prediction."""
from __future__ import annotations

import json
import sys
import time
from typing import Any

from .common import EXIT_FAIL, EXIT_OK, load

__all__ = ["add_rehearse"]


def cmd_rehearse(args) -> int:
    from planner.core.reachability import predict_families
    from planner.lab import Lab, LabError, prerequisites

    design = load(args.design)
    preds = predict_families(design)
    pairs_of = {f: [(a.id, b.id) for a in p.endpoints for b in p.endpoints if a.id != b.id] for f, p in preds.items()}
    eps = [e.id for e in design.endpoints()]
    missing = prerequisites()
    if missing:
        print("mvplan rehearse: cannot build a lab here: " + "; ".join(missing), file=sys.stderr)
        return EXIT_FAIL
    t0 = time.perf_counter()
    try:
        with Lab(design, ping_timeout=args.timeout) as lab:
            build = lab.build_seconds or 0.0
            measured = {f: lab.ping_matrix(pairs, workers=args.workers, family=f) for f, pairs in pairs_of.items()}
            warnings = list(lab.warnings)
            netns = lab.namespaces
    except LabError as exc:
        print(f"mvplan rehearse: {exc}", file=sys.stderr)
        return EXIT_FAIL
    total = time.perf_counter() - t0
    rows: list[dict[str, Any]] = []
    for f, pairs in pairs_of.items():
        for a, b in pairs:
            v = preds[f].verdict(a, b)
            m = measured[f][(a, b)]
            agree = v.reachable == m or v.timing  # a race the model names: either answer is the kernel's
            rows.append({"family": f, "from": a, "to": b, "predicted": v.reachable, "measured": m, "agree": agree,
                         "timing": v.timing, "reason": v.reason, "message": v.message})
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
        print(f"  {'':4}{'from':<{width}}  {'to':<{width2}}  {'predicted':<9}  {'measured':<8}")
    for r in show:
        mark = "" if r["agree"] else f"   <-- DISAGREE (predicted because: {r['reason']})"
        mark = mark or ("   (a race: either answer is the kernel's)" if r["timing"] and r["predicted"] != r["measured"]
                        else "")
        print(f"  v{r['family']}  {r['from']:<{width}}  {r['to']:<{width2}}  {yn[r['predicted']]:<9}  "
              f"{yn[r['measured']]:<8}{mark}")
    if len(show) < len(rows):
        print(f"  ({len(rows) - len(show)} agreeing pairs not shown; --all shows them)")
    for w in warnings:
        print(f"  warning: {w}")
    print(f"{summary['agree']}/{summary['pairs']} pairs agree with the prediction"
          + (f"; {len(bad)} DISAGREE" if bad else "") + f" ({total:.1f}s, namespaces removed)")
    return EXIT_FAIL if bad else EXIT_OK


def add_rehearse(sub) -> None:
    p = sub.add_parser("rehearse", help="build the design in throwaway namespaces, ping every pair, compare with "
                                        "the prediction; exit 1 on any disagreement")
    p.add_argument("design")
    p.add_argument("--json", action="store_true")
    p.add_argument("--all", action="store_true", help="list every pair, not only disagreements, on big designs")
    p.add_argument("--timeout", type=float, default=0.5, help="seconds to wait for each echo reply (default 0.5)")
    p.add_argument("--workers", type=int, default=8, help="pings run in parallel when they cannot interfere")
    p.set_defaults(func=cmd_rehearse)
