#!/usr/bin/env python3
"""Agreement of prediction and kernel on seeded generated designs (needs root).

Usage: python3 bench/verify_kernel.py N [FIRST_SEED] [--kind random|tricky|both]

``random`` designs (planner.lab.generate.random_design): every mode, shims, routes, static
neighbours, source lists, bridges with veth ports. ``tricky`` designs (tricky_design): host bridges
that enslave a NIC cabled to the switch with hairpin on the bridge side, the switch side or
neither, containers on the bridge, the bridge as a macvlan parent, one MAC on two parents.
``both`` (the default) alternates them. Half the random designs are dual-stack (their addresses,
routes and entries mirrored into fd00::/96): their IPv6 pairs are pinged and judged too.

Prints, side by side, the prediction time (the baseline: what mvplan costs) and the time the
kernel needs to build each design in throwaway namespaces (outside by hand, hosts by their plan)
and ping every ordered pair from cold caches, then the agreement rate. Target: 100% agreement.
Exit 1 on any disagreement.
"""
from __future__ import annotations

import argparse
import sys
import time

from planner.core.model import design_from_dict
from planner.core.reachability import predict_families
from planner.lab import measure_families, prerequisites
from planner.lab.generate import random_design, tricky_design


def _doc(kind: str, seed: int) -> tuple[str, dict]:
    if kind == "both":
        kind = ("random", "tricky")[seed % 2]
    return kind, random_design(seed) if kind == "random" else tricky_design(seed)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("n", type=int, nargs="?", default=20)
    ap.add_argument("first", type=int, nargs="?", default=0)
    ap.add_argument("--kind", choices=("random", "tricky", "both"), default="both")
    args = ap.parse_args()
    missing = prerequisites()
    if missing:
        print("cannot run: " + "; ".join(missing), file=sys.stderr)
        return 2
    pairs = agree = designs_ok = timing = pairs6 = 0
    t_pred = t_kernel = 0.0
    failures = []
    print(f"{'seed':>6} {'kind':>7} {'family':>6} {'pairs':>6} {'agree':>6} {'predict s':>10} {'kernel s':>9}")
    for seed in range(args.first, args.first + args.n):
        kind, doc = _doc(args.kind, seed)
        design = design_from_dict(doc)
        t0 = time.perf_counter()
        predictions = predict_families(design)
        expected = {f: p.matrix() for f, p in predictions.items()}
        t1 = time.perf_counter()
        measured = measure_families(design)
        t2 = time.perf_counter()
        t_pred += t1 - t0
        t_kernel += t2 - t1
        all_ok = True
        for family, want in expected.items():
            races = predictions[family].timing_pairs()   # either answer is the kernel's; counted apart
            got = measured[family]
            timing += len(races)
            ok = sum(1 for k, v in want.items() if got.get(k) == v or k in races)
            pairs += len(want)
            pairs6 += len(want) if family == 6 else 0
            agree += ok
            all_ok = all_ok and ok == len(want)
            if ok != len(want):
                wrong = [k for k, v in want.items() if got.get(k) != v and k not in races]
                failures.append((seed, kind, family, wrong))
            print(f"{seed:>6} {kind:>7} {'IPv' + str(family):>6} {len(want):>6} {ok:>6} {t1 - t0:>10.4f} "
                  f"{t2 - t1:>9.2f}", flush=True)
        designs_ok += all_ok
    n = args.n
    print(f"\ndesigns: {designs_ok}/{n} fully agree; pairs: {agree}/{pairs} ({pairs6} of them IPv6) "
          f"({100.0 * agree / max(pairs, 1):.2f}%), of which {timing} predicted timing-dependent (either answer)")
    print(f"time per design: predict {t_pred / n:.4f} s, kernel build + ping {t_kernel / n:.2f} s")
    for seed, kind, family, bad in failures:
        print(f"seed {seed} ({kind}, IPv{family}): disagree on {', '.join(f'{a}->{b}' for a, b in bad[:6])}")
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
