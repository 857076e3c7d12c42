#!/usr/bin/env python3
"""Median latency of POST /api/check on a 500-endpoint design, beside its baselines.

Runs the Flask app in-process (test client: no sockets, so the figure is the server's own cost:
JSON decode, validation, rules, prediction, JSON encode) and prints, side by side:

* baseline 1: ``design_from_dict`` alone (the bare validation cost every request pays);
* baseline 2: validation + rules + prediction (one prediction, as the API does) called directly;
* ``POST /api/check`` through the whole web stack, in the documented full form and in the compact
  form the editor asks for (``?problems=inline&view=editor``, the document without its layout);
* ``POST /api/what-if`` (two predictions) and ``/api/check?problems=inline`` on a broken design.

Usage: python bench/api_check.py [--children 500] [--parents 10] [--runs 15] [--shape scale|routed]
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from planner.core.model import design_from_dict  # noqa: E402


def build_design(children: int, parents: int, shape: str = "scale") -> dict:
    """``scale``: children over parents; ``routed``: containers each with a default route via the
    gateway (the issue's 500-container case: every namespace has its own route)."""
    try:
        from planner.lab.shapes import containers_design, scale_design
    except ImportError:
        if shape != "scale":
            raise SystemExit("--shape routed needs planner.lab") from None
        return _fallback_scale_design(children, parents)
    if shape == "routed":
        return containers_design(children, parents=parents, route=True)
    return scale_design(children=children, parents=parents)


def _fallback_scale_design(children: int, parents: int) -> dict:
    """The same shape as ``scale_design``, built here (for a checkout without the lab package)."""
    ports = [{"name": f"p{k}", "hairpin": k % 2 == 0} for k in range(parents)] + [{"name": "s0"}]
    host_parents = [{"name": f"eth{k}", "uplink": {"switch": "sw1", "port": f"p{k}"}} for k in range(parents)]
    host_children = [{"name": f"c{k}", "parent": f"eth{k % parents}", "mode": ("bridge", "vepa", "private")[k % 3],
                      "namespace": f"n{k}", "addresses": [f"10.0.{(k + 10) // 250}.{(k + 10) % 250 + 1}/16"]}
                     for k in range(children)]
    return {"version": 1, "name": f"scale-{children}x{parents}",
            "hosts": [{"name": "host1", "parents": host_parents, "children": host_children}],
            "switches": [{"name": "sw1", "ports": ports}],
            "stations": [{"name": "gw0", "uplink": {"switch": "sw1", "port": "s0"}, "addresses": ["10.0.0.1/16"]}]}


def timed(fn, runs: int) -> tuple[float, float, float]:
    fn()  # warm-up
    xs = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        xs.append((time.perf_counter() - t0) * 1000)
    xs.sort()
    return statistics.median(xs), xs[0], xs[-1]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--children", type=int, default=500)
    ap.add_argument("--parents", type=int, default=10)
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--shape", choices=("scale", "routed"), default="scale",
                    help="routed: every container has a default route via the gateway")
    args = ap.parse_args(argv)

    from planner.web import core, create_app

    doc = build_design(args.children, args.parents, args.shape)
    body = json.dumps({"document": doc})
    endpoints = len(design_from_dict(doc).endpoints())
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"TESTING": True, "SECRET_KEY": "bench", "DATABASE": f"{tmp}/db.sqlite3",
                          "SEED_EXAMPLES": False}, instance_path=tmp)
        client = app.test_client()
        token = client.get("/api/csrf").get_json()["token"]
        headers = {"X-CSRF-Token": token, "Content-Type": "application/json"}

        def api_check():
            r = client.post("/api/check", data=body, headers=headers)
            assert r.status_code == 200, r.get_data(as_text=True)[:300]
            return r

        size = len(api_check().data)
        editor_body = json.dumps({"document": {k: v for k, v in doc.items() if k != "layout"}})

        def api_check_editor():
            r = client.post("/api/check?problems=inline&view=editor", data=editor_body, headers=headers)
            assert r.status_code == 200, r.get_data(as_text=True)[:300]
            return r

        editor_size = len(api_check_editor().data)
        port = doc["switches"][0]["ports"][0]
        port_id = f"switch:{doc['switches'][0]['name']}/{port['name']}"
        what_if = json.dumps({"document": doc, "hairpin": {port_id: not port.get("hairpin", False)}})
        broken = json.loads(body)
        broken["document"]["hosts"][0]["children"][0]["parent"] = "nope"
        broken = json.dumps(broken)

        def api_what_if():
            assert client.post("/api/what-if", data=what_if, headers=headers).status_code == 200

        def api_inline():
            assert client.post("/api/check?problems=inline", data=broken, headers=headers).status_code == 200

        def direct():
            core.analyse(design_from_dict(doc))  # findings + prediction.to_dict(), one prediction

        rows = [
            ("baseline: validate only (design_from_dict)", timed(lambda: design_from_dict(doc), args.runs)),
            ("baseline: validate + check + predict, no HTTP", timed(direct, args.runs)),
            ("POST /api/check", timed(api_check, args.runs)),
            ("POST /api/check?problems=inline&view=editor", timed(api_check_editor, args.runs)),
            ("POST /api/what-if (one hairpin flipped)", timed(api_what_if, args.runs)),
            ("POST /api/check?problems=inline (invalid)", timed(api_inline, args.runs)),
        ]
    print(f"design {doc['name']}: {endpoints} endpoints, {args.parents} parents; {args.runs} runs each; "
          f"/api/check answer {size / 1024:.0f} KiB (editor view {editor_size / 1024:.0f} KiB)")
    print(f"{'':48} {'median ms':>10} {'min':>8} {'max':>8}")
    base = rows[0][1][0]
    for name, (med, lo, hi) in rows:
        print(f"{name:48} {med:10.1f} {lo:8.1f} {hi:8.1f}   x{med / base:.1f} of validation")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
