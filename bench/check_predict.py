#!/usr/bin/env python3
"""Benchmark: check + predict of a big design, against baselines measured in the same run.

Target (issue: core): 10,000 children over 100 parents on one switch, check + predict under
1 s on a 2-core machine. Printed side by side:

* baseline A - just parsing the JSON text (the floor any tool pays);
* baseline B - the same prediction with equivalence classes switched off, on a design 40x
  smaller (materialising every pair is what classes avoid);
* mvplan    - load + check + predict, with peak memory (tracemalloc).

Usage: python3 bench/check_predict.py [CHILDREN] [PARENTS]
"""
from __future__ import annotations

import json
import sys
import time
import tracemalloc

from planner.core.model import design_from_dict
from planner.core.reachability import predict
from planner.core.rules import check_with_prediction
from planner.lab.generate import scale_design


def timed(fn, repeat=3):
    best, result = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t)
    return best, result


def main() -> int:
    children = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    parents = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    doc = scale_design(children=children, parents=parents)
    text = json.dumps(doc)

    t_parse, _ = timed(lambda: json.loads(text))

    def full():
        d = design_from_dict(json.loads(text))
        findings, pred = check_with_prediction(d)
        return d, findings, pred

    t_full, (d, findings, pred) = timed(full)
    tracemalloc.start()
    full()
    _cur, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    small = design_from_dict(scale_design(children=max(children // 40, 2), parents=max(parents // 10, 1)))
    t_plain, plain = timed(lambda: predict(small, merge=False), repeat=1)
    t_small, merged = timed(lambda: predict(small), repeat=1)
    assert plain.matrix() == merged.matrix(), "classes changed a verdict"

    n = len(pred.endpoints)
    print(f"design: {children} children over {parents} parents, {n} endpoints, {n * (n - 1):,} ordered pairs, "
          f"{len(pred.classes)} classes, {len(findings)} findings")
    print(f"{'measure':44} {'seconds':>9}")
    print(f"{'baseline A: json.loads of the design':44} {t_parse:9.3f}")
    print(f"{'mvplan: load + check + predict':44} {t_full:9.3f}   target < 1.000   "
          f"{'OK' if t_full < 1 else 'OVER'}")
    print(f"{'peak memory (tracemalloc)':44} {peak / 2**20:8.1f} MiB")
    print(f"{f'baseline B: every pair, no classes ({len(small.endpoints())} ep)':44} {t_plain:9.3f}")
    print(f"{'mvplan on that same small design':44} {t_small:9.3f}   ({t_plain / max(t_small, 1e-9):.0f}x faster)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
