#!/usr/bin/env python3
"""Agreement of prediction and kernel on N seeded random designs (needs root).

Usage: python3 bench/verify_kernel.py N [FIRST_SEED]

Prints, side by side, the prediction time (the baseline: what mvplan costs) and the time the
kernel needs to build each design in throwaway namespaces and ping every ordered pair, then
the agreement rate. Target: 100% agreement on 200 designs. Exit 1 on any disagreement.
"""
from __future__ import annotations

import sys
import time

from planner.core.model import design_from_dict
from planner.core.reachability import predict
from planner.lab import measure, prerequisites
from planner.lab.generate import random_design


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    first = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    missing = prerequisites()
    if missing:
        print("cannot run: " + "; ".join(missing), file=sys.stderr)
        return 2
    pairs = agree = designs_ok = 0
    t_pred = t_kernel = 0.0
    failures = []
    print(f"{'seed':>6} {'pairs':>6} {'agree':>6} {'predict s':>10} {'kernel s':>9}")
    for seed in range(first, first + n):
        design = design_from_dict(random_design(seed))
        t0 = time.perf_counter()
        expected = predict(design).matrix()
        t1 = time.perf_counter()
        measured = measure(design)
        t2 = time.perf_counter()
        ok = sum(1 for k, v in expected.items() if measured.get(k) == v)
        pairs += len(expected)
        agree += ok
        designs_ok += ok == len(expected)
        t_pred += t1 - t0
        t_kernel += t2 - t1
        if ok != len(expected):
            failures.append((seed, [k for k, v in expected.items() if measured.get(k) != v]))
        print(f"{seed:>6} {len(expected):>6} {ok:>6} {t1 - t0:>10.4f} {t2 - t1:>9.2f}")
    print(f"\ndesigns: {designs_ok}/{n} fully agree; pairs: {agree}/{pairs} "
          f"({100.0 * agree / max(pairs, 1):.2f}%)")
    print(f"time per design: predict {t_pred / n:.4f} s, kernel build + ping {t_kernel / n:.2f} s")
    for seed, bad in failures:
        print(f"seed {seed}: disagree on {', '.join(f'{a}->{b}' for a, b in bad[:6])}")
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
