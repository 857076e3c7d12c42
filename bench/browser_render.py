#!/usr/bin/env python3
"""Editor speed in a real browser: a 1,000-node design against a small one.

Starts the app on 127.0.0.1 (random port, in a thread), drives Debian's chromium with
Playwright at 1280x800 and prints, for the big design and for the baseline (the vepa-hairpin
example, a handful of nodes):

* first render: navigation start -> canvas drawn and the editor ready (``document.body.dataset.ready``);
* first analysis: navigation start -> the first live check (findings + matrix) shown;
* edit round trip: change a child's mode in the properties panel -> new findings and matrix shown
  (median of several edits; includes the editor's 250 ms debounce, also shown without it).

Usage: python bench/browser_render.py [--children 975] [--parents 10] [--edits 5]
(975 children + 10 parents + 12 switch ports + 2 stations + host + switch = 1,001 nodes)
"""
from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run", "--disable-sync"]
DEBOUNCE_MS = 250


def serve(app):
    from werkzeug.serving import make_server

    srv = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, f"http://127.0.0.1:{srv.server_port}"


def measure(page, url: str, edits: int) -> dict:
    page.goto(url)
    page.wait_for_selector("body[data-ready='true']", timeout=120_000)
    page.wait_for_function("() => window.mvplan.timings.checks >= 1", timeout=120_000)
    t = page.evaluate("() => ({...window.mvplan.timings, nodes: window.cy.nodes().length, edges: window.cy.edges().length})")
    children = page.evaluate("() => window.cy.nodes('.child').map(n => n.id()).slice(0, 50)")
    trips = []
    for k in range(edits):
        cid = children[k % len(children)]
        page.evaluate("id => window.mvplanEditor.select(id, {showProps: true})", cid)
        current = page.eval_on_selector("#props select[name=mode]", "s => s.value")
        target = "private" if current != "private" else "bridge"
        before = page.evaluate("() => window.mvplan.timings.checks")
        t0 = page.evaluate("() => performance.now()")
        page.select_option("#props select[name=mode]", target)
        page.wait_for_function("n => window.mvplan.timings.checks > n && document.body.dataset.check === 'ok'", arg=before,
                               timeout=120_000)
        t1 = page.evaluate("() => window.mvplan.timings.checkDone")
        trips.append(t1 - t0)
    return {"nodes": t["nodes"], "edges": t["edges"], "ready": t["ready"], "first_check": t["checkDone"],
            "trip": statistics.median(trips), "trip_min": min(trips), "trip_max": max(trips)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--children", type=int, default=975)
    ap.add_argument("--parents", type=int, default=10)
    ap.add_argument("--edits", type=int, default=5)
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    args = ap.parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)

    from playwright.sync_api import sync_playwright

    from planner.generate import scale_design
    from planner.web import create_app

    big = scale_design(children=args.children, parents=args.parents)
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"SECRET_KEY": "bench", "DATABASE": f"{tmp}/db.sqlite3"}, instance_path=tmp)
        store = app.extensions["mvplan_store"]
        small_id = next(d["id"] for d in store.list() if d["name"] == "vepa-hairpin")
        big_id = store.create(big, "bench")["id"]
        srv, base = serve(app)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=args.chromium, args=ARGS)
                results = {}
                for label, did in (("baseline: vepa-hairpin example", small_id), (f"scale design ({big['name']})", big_id)):
                    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
                    page = ctx.new_page()
                    errors = []
                    page.on("pageerror", lambda e: errors.append(str(e)))
                    results[label] = measure(page, f"{base}/designs/{did}", args.edits)
                    results[label]["errors"] = len(errors)
                    ctx.close()
                browser.close()
        finally:
            srv.shutdown()
    print(f"chromium at 1280x800, {args.edits} edits each; times in ms from navigation start")
    print(f"{'':44} {'nodes':>6} {'first render':>13} {'first check':>12} {'edit trip':>10} {'- debounce':>11}")
    for label, r in results.items():
        print(f"{label:44} {r['nodes']:6d} {r['ready']:13.0f} {r['first_check']:12.0f} {r['trip']:10.0f} "
              f"{r['trip'] - DEBOUNCE_MS:11.0f}" + (f"   ({r['errors']} page errors!)" if r["errors"] else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
