#!/usr/bin/env python3
"""Benchmark: load + check + predict on every design shape of the speed issue, one row each.

The design is a file read as ``mvplan check FILE`` reads it (:func:`planner.core.model.load_design`).

Each row runs in a fresh interpreter (so peak RSS is that row's own) and prints the median of
three runs (wall clock, which the target is about, and beside it the process CPU time, which a
machine shared with other work inflates less), the peak resident memory, the size of the
``--json`` answer, and the target. Beside them, measured in the same run:

* baseline A - ``json.loads`` of the design text (the floor any tool pays);
* baseline B - the prediction without classes on the row's small shape (every pair replayed),
  against mvplan on that same small design (what classes save).

Usage: python3 bench/check_predict.py [ROW ...]      (default: every row; ``--list`` names them)
"""
from __future__ import annotations

import gc
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # the checkout this script is in, not an installed copy


@dataclass(frozen=True)
class Row:
    name: str
    shape: str            # planner.lab.generate.bench_design shape
    what: str
    seconds: float        # target
    rss_mb: float | None  # target
    kwargs: tuple = ()    # overrides for the generator
    export: bool = False  # time the iproute2 export instead of check + predict


ROWS = [
    Row("scale-10k", "scale", "10,000 children / 100 parents, one host", 0.5, None),
    Row("scale-100k", "scale", "100,000 children / 100 parents", 5.0, 600, (("children", 100_000),)),
    Row("multi-host", "multi-host", "100 hosts x 10 containers", 1.0, None),
    Row("routed", "routed", "2,000 containers, default route via the gateway", 2.0, 300),
    Row("neighbours", "neighbours", "2,000 containers, one static neighbour each", 2.0, None),
    Row("worst", "worst", "2,000 genuinely different endpoints", 30.0, 2048),
    Row("host-ns", "host-ns", "rules + predict, 5,000 children in the host namespace", 1.0, None),
    Row("export-10k", "export", "export iproute2, 10,000 children over 10 hosts", 2.0, None, export=True),
]


def _design_doc(row: Row) -> dict:
    from planner.lab.shapes import bench_design, multi_host_design, scale_design

    if row.export:
        return multi_host_design(10, 1000, seed=0)
    if row.kwargs:
        return scale_design(**dict(row.kwargs))
    return bench_design(row.shape)


def _small_doc(row: Row) -> dict:
    from planner.lab.shapes import bench_design

    return bench_design("multi-host" if row.export else row.shape, small=True)


def run_row(name: str) -> dict:
    """One row, in this interpreter: medians, peak RSS, answer size, baselines."""
    row = next(r for r in ROWS if r.name == name)
    text = json.dumps(_design_doc(row))
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        f.write(text)
    try:
        return _measure(row, text, f.name)
    finally:
        os.unlink(f.name)


def _measure(row: Row, text: str, path: str) -> dict:
    """The row's figures; ``path`` holds ``text``, the design as the user's file."""
    from planner.core.model import design_from_dict, load_design
    from planner.core.reachability import predict
    from planner.core.rules import check_with_prediction
    from planner.exporters import export

    name = row.name

    def parse():
        return json.loads(text)

    def full():
        d = load_design(path)  # a file of the user's, read as `mvplan check FILE` reads it
        if row.export:
            return d, export(d, "iproute2")
        findings, pred = check_with_prediction(d)
        return d, (findings, pred)

    cpu: list[float] = []

    def median(fn, n=3):
        times = []
        cpu.clear()
        result = None
        for _ in range(n):
            # the previous run's objects go before the next run allocates: peak RSS is one run's
            result = None
            gc.collect()
            t, c = time.perf_counter(), time.process_time()
            result = fn()
            times.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)
        return statistics.median(times), result

    t_parse, _ = median(parse)
    t_full, (design, result) = median(full)
    out = {"row": name, "parse": t_parse, "seconds": t_full, "cpu": statistics.median(cpu),
           "endpoints": len(design.endpoints())}
    if not row.export:
        findings, pred = result
        answer = json.dumps({"findings": [f.to_dict() for f in findings], "prediction": pred.to_dict()})
        out.update(classes=len(pred.classes), exceptions=len(pred.exceptions), answer_mb=len(answer) / 2**20)
        small = design_from_dict(_small_doc(row))
        t_plain, plain = median(lambda: predict(small, merge=False), 1)
        t_small, merged = median(lambda: predict(small), 1)
        if plain.matrix() != merged.matrix():
            raise SystemExit(f"{name}: classes changed a verdict on the small design")
        out.update(plain=t_plain, small=t_small, small_endpoints=len(small.endpoints()))
    else:
        out.update(answer_mb=sum(len(t) for t in result.files.values()) / 2**20)
    out["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def main(argv: list[str]) -> int:
    if "--row" in argv:
        print(json.dumps(run_row(argv[argv.index("--row") + 1])))
        return 0
    if "--list" in argv:
        for r in ROWS:
            print(f"{r.name:12} {r.what}")
        return 0
    wanted = [a for a in argv if not a.startswith("-")] or [r.name for r in ROWS]
    print(f"{'row':11} {'endpoints':>9} {'classes':>8} {'json.loads':>10} {'mvplan s':>9} {'CPU s':>6} {'target':>7} "
          f"{'RSS MB':>7} {'target':>6} {'answer MB':>9}  {'no classes (small)':>18}  verdict")
    failed = 0
    for name in wanted:
        row = next((r for r in ROWS if r.name == name), None)
        if row is None:
            print(f"unknown row {name!r}; --list names them", file=sys.stderr)
            return 2
        cp = subprocess.run([sys.executable, os.path.abspath(__file__), "--row", name], capture_output=True,
                            text=True, cwd=os.path.dirname(HERE))
        if cp.returncode != 0:
            print(f"{name:11} failed: {cp.stderr.strip()[-400:]}")
            failed += 1
            continue
        r = json.loads(cp.stdout.strip().splitlines()[-1])
        ok = r["seconds"] < row.seconds and (row.rss_mb is None or r["rss_mb"] < row.rss_mb)
        failed += not ok
        small = (f"{r['plain']:.3f}s vs {r['small']:.3f}s ({r['plain'] / max(r['small'], 1e-9):.0f}x)"
                 if "plain" in r else "")
        print(f"{name:11} {r['endpoints']:>9} {r.get('classes', ''):>8} {r['parse']:>10.3f} {r['seconds']:>9.3f} "
              f"{r['cpu']:>6.3f} "
              f"{'<' + format(row.seconds, 'g'):>7} {r['rss_mb']:>7.0f} "
              f"{('<' + format(row.rss_mb, 'g')) if row.rss_mb else '':>6} {r['answer_mb']:>9.2f}  {small:>18}  "
              f"{'OK' if ok else 'OVER'}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
