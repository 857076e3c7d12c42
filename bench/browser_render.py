#!/usr/bin/env python3
"""Editor speed in a real browser: a 1,000-node design against a small one.

Starts the app on 127.0.0.1 (random port, in a thread), drives Debian's chromium with
Playwright at 1280x800 and prints, for the big design and for the baseline (the vepa-hairpin
example, a handful of nodes), what the user waits for:

* first render: navigation start -> the canvas painted (Cytoscape's first draw of the whole
  design, then the browser's paint after it);
* first check: navigation start -> the first live check's findings and matrix painted;
* edit (props): the user changes a child's mode in the properties panel -> the edit is drawn
  on the canvas (the paint after the editor's redraw) AND the server has acknowledged it (the
  first line of ``/api/check?ack=1``'s answer, sent as soon as the server has read the
  document), whichever comes last. This is the edit round trip of issue 10. Starts at the
  ``change`` event's timestamp (taken by the bench's own listener, before the editor sees the
  event). "Painted" is the first paint after the DOM/canvas change (``requestAnimationFrame``,
  then a message, which arrives after that frame's paint).
* findings (props): from the same event to the findings and matrix of the changed design
  painted: the editor's own work on the edit (document copy, canvas update), serialising and
  sending the document, the server's validation, rules and prediction, the answer's transfer
  and parsing, rendering the findings and matrix, layout and paint. Until then the Findings and
  Reachability panels say that they show the design before the edit. There is no debounce to
  subtract: the editor sends the check at once.
* edit / findings (matrix on screen): with the Reachability tab open, the user presses Delete on
  a selected child, then Ctrl+Z, alternately; timed from the ``keydown`` event in the same way;
  this is the case where the matrix's layout and paint are on screen, not in a hidden tab.

Each trip is the median of ``--edits`` edits (min and max are printed too), spaced ``--pause`` ms
apart like a user's edits, so the autosave of the previous edit is not in the way. The bench
checks that each edit really changed the findings or the matrix. Below the table, each big
design's first render is split by the editor's ``mvplan:*`` performance marks, and its median
trip into phases (the editor's ``window.mvplan.timings`` and the server's timing of the check:
parse, validate, analyse, encode).

Beside them, ``--routed`` sizes (default 500) add designs of containers that each have a default
route via the gateway: issue 8's row, edit round trip under 300 ms at 500 containers.

Usage: python bench/browser_render.py [--children 975,10000] [--routed 500] [--parents 10] [--edits 5]
[--pause 1000]
(975 children + 10 parents + 12 switch ports + 2 stations + host + switch = 1,001 nodes; the
10,000-child design gets 103 parents, and opens with each parent's children collapsed into one
node - issue 10's target: rendered in under 3 s, edit round trip under 300 ms; the findings of
an edit follow when the server's check of the whole design is done)
"""
from __future__ import annotations

import argparse
import logging
import statistics
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run", "--disable-sync"]

# the bench's own record of the user's input: a capture listener on the document runs before
# any listener of the editor's
LISTEN = """() => {
  if (window.__benchInput) return;
  window.__benchInput = {};
  for (const type of ['change', 'keydown']) {
    document.addEventListener(type, (e) => { window.__benchInput[type] = e.timeStamp; }, true);
  }
}"""
FINGERPRINT = ("() => document.getElementById('findings').textContent + '|' + "
               "document.getElementById('matrix').textContent")
SHOWN_AFTER = """rev => { const s = window.mvplan.timings.shown;
  return !!(s && s.rev > rev && s.painted && ['ok', 'invalid'].includes(document.body.dataset.check)); }"""
EDIT_SETTLED = """rev => { const e = window.mvplan.timings.edit;
  return !!(e && e.rev > rev && e.canvas !== undefined && e.acked !== undefined); }"""
# the first render's phases: the editor's performance marks and the page's own arrival
BOOT_PHASES = """() => { const nav = performance.getEntriesByType('navigation')[0];
  const out = [['page: first byte', nav.responseStart], ['page: last byte', nav.responseEnd]];
  for (const m of performance.getEntriesByType('mark')) {
    if (m.name.startsWith('mvplan:')) out.push([m.name, m.startTime]);
  }
  out.push(['canvas painted', window.mvplan.timings.drawn]);
  return out; }"""


def _console_errors_into(errors: list[str]):
    """A console listener that keeps the page's error messages."""
    def listen(m) -> None:
        if m.type == "error":
            errors.append(m.text)
    return listen


def _page_errors_into(errors: list[str]):
    """A pageerror listener that keeps the uncaught exceptions' text."""
    def listen(e) -> None:
        errors.append(str(e))
    return listen


def serve(app):
    """Serve ``app`` from a thread of this process (for tests and quick looks)."""
    from werkzeug.serving import make_server

    srv = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, f"http://127.0.0.1:{srv.server_port}"


def serve_process(instance: str):
    """Serve the instance from a process of its own, like ``mvplan serve`` (threaded Werkzeug):
    the server should not share a CPU-bound interpreter (GIL, garbage collector) with Playwright."""
    proc = subprocess.Popen([sys.executable, __file__, "--serve-instance", instance], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    if not line.startswith("http://"):
        proc.kill()
        raise SystemExit(f"the server did not start: {line!r}")
    return proc, line


def _serve_instance(instance: str) -> int:
    from werkzeug.serving import make_server

    from planner.web import create_app

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    app = create_app({"SECRET_KEY": "bench", "DATABASE": f"{instance}/db.sqlite3"}, instance_path=instance)
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    print(f"http://127.0.0.1:{srv.server_port}", flush=True)
    srv.serve_forever()
    return 0


def settle(page, pause_ms: int) -> None:
    page.wait_for_timeout(pause_ms)
    page.evaluate("() => window.mvplanEditor.runCheck()")  # resolves when no check is pending
    page.evaluate("() => performance.clearResourceTimings()")


# the network's view of the last POST /api/check: when its answer had fully arrived in the
# browser, whether or not the page's main thread was free to read it
NET = """t0 => { const e = performance.getEntriesByType('resource')
    .filter(x => x.name.includes('/api/check') && x.startTime >= t0).pop();
  return e ? {requestStart: e.requestStart, responseStart: e.responseStart, responseEnd: e.responseEnd} : null; }"""


def trip(page, act, event: str) -> dict:
    """Do one user action; return its round trip (edit event -> findings and matrix painted)."""
    rev = page.evaluate("() => window.mvplan.rev")
    before = page.evaluate(FINGERPRINT)
    act()
    page.wait_for_function(EDIT_SETTLED, arg=rev, timeout=120_000)
    page.wait_for_function(SHOWN_AFTER, arg=rev, timeout=120_000)
    t0 = page.evaluate(f"() => window.__benchInput[{event!r}]")
    shown = page.evaluate("() => window.mvplan.timings.shown")
    edit = page.evaluate("() => window.mvplan.timings.edit")
    return {"trip": max(edit["canvas"], edit["acked"]) - t0, "findings": shown["painted"] - t0, "input": t0,
            "edit": edit, "shown": shown, "net": page.evaluate(NET, t0),
            "changed": page.evaluate(FINGERPRINT) != before}


def measure(page, url: str, edits: int, pause_ms: int) -> dict:
    page.goto(url)
    page.wait_for_selector("body[data-ready='true']", timeout=120_000)
    page.wait_for_function("() => window.mvplan.timings.drawn && window.mvplan.timings.shown", timeout=120_000)
    t = page.evaluate("() => ({...window.mvplan.timings, nodes: window.cy.nodes().length})")
    boot = page.evaluate(BOOT_PHASES)
    page.evaluate(LISTEN)
    # children of the design (a big one opens with its children collapsed into groups: selecting
    # one draws its group's members, as a search hit or a click on the group would)
    children = page.evaluate("""() => { const all = window.mvplan.allData;
        const ids = all ? [...all.values()].filter(d => d.kind === 'child').map(d => d.id)
                        : window.cy.nodes('.child').map(n => n.id());
        return ids.slice(0, 50); }""")

    props = []
    for k in range(edits):
        cid = children[k % len(children)]
        page.evaluate("id => window.mvplanEditor.select(id, {showProps: true})", cid)
        current = page.eval_on_selector("#props select[name=mode]", "s => s.value")
        target = "private" if current != "private" else "bridge"
        settle(page, pause_ms)
        props.append(trip(page, lambda t=target: page.select_option("#props select[name=mode]", t), "change"))

    matrix = []
    page.click("#tab-matrix")
    for k in range(edits):
        cid = children[(k + edits) % len(children)]
        page.evaluate("id => window.mvplanEditor.select(id)", cid)
        page.focus("#tab-matrix")
        settle(page, pause_ms)
        matrix.append(trip(page, lambda: page.keyboard.press("Delete"), "keydown"))
        settle(page, pause_ms)
        matrix.append(trip(page, lambda: page.keyboard.press("Control+z"), "keydown"))
    assert page.is_visible("#matrix table.matrix"), "the matrix is not on screen"
    design_nodes = page.evaluate("() => window.mvplan.allData ? "
                                 "[...window.mvplan.allData.values()].filter(d => !d.source).length : "
                                 "window.cy.nodes().length")
    first_check = t["shown"]["painted"] if t["shown"]["rev"] == 0 else float("nan")
    return {"nodes": t["nodes"], "design_nodes": design_nodes, "drawn": t["drawn"], "first_check": first_check,
            "props": props, "matrix": matrix, "boot": boot}


def med(trips: list[dict], key=lambda x: x["trip"]) -> float:
    return statistics.median(key(x) for x in trips)


def phases(trips: list[dict]) -> list[tuple[str, float]]:
    """Median of each phase of the trips, from the editor's and the server's marks."""
    def ph(name, fn):
        vals = [fn(x) for x in trips if fn(x) is not None]
        return (name, statistics.median(vals) if vals else float("nan"))

    def srv(key):
        return lambda x: (x["shown"].get("server") or {}).get(key)

    def span(a, b):
        def f(x):
            s = x["shown"]
            return (s[b] - s[a]) if s.get(a) is not None and s.get(b) is not None else None
        return f

    def net(key, start):
        def f(x):
            n = x.get("net")
            if not n or not n.get(key):
                return None
            return n[key] - (x["shown"][start] if start in x["shown"] else x["input"])
        return f

    def read(x):
        n = x.get("net")
        if not (n and n.get("responseEnd") and x["shown"].get("answered")):
            return None
        return x["shown"]["answered"] - n["responseEnd"]

    def edit(key):
        return lambda x: (x["edit"][key] - x["input"]) if x["edit"].get(key) is not None else None

    return [
        ph("input event -> the editor's edit handler done", edit("handled")),
        ph("input event -> canvas painted (the edit drawn)", edit("canvas")),
        ph("input event -> acknowledged by the server", edit("acked")),
        ph("  sent -> acknowledged (upload, read)", span("sent", "acked")),
        ph("input event -> editor's edit handler",
           lambda x: (x["shown"]["edit"] - x["input"]) if x["shown"].get("edit") else None),
        ph("edit -> request sent (copy, serialise)", span("edit", "sent")),
        ph("sent -> answer received (HTTP + server)", net("responseEnd", "sent")),
        ph("  server: parse JSON body", srv("parse")),
        ph("  server: validate (design_from_dict)", srv("validate")),
        ph("  server: rules + prediction", srv("analyse")),
        ph("  server: encode JSON answer", srv("encode")),
        ph("answer waits for the page (canvas redraw)", read),
        ph("answer body parsed", span("answered", "parsed")),
        ph("parsed -> findings/matrix in the DOM", span("parsed", "drawn")),
        ph("DOM -> painted (layout, paint)", span("drawn", "painted")),
    ]


def _sizes(text: str) -> list[int]:
    """A comma-separated list of design sizes (empty for none)."""
    return [int(x) for x in str(text).split(",") if x.strip()]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--children", default="975,10000",
                    help="comma-separated sizes: one scale design per size (default 975,10000)")
    ap.add_argument("--routed", default="500",
                    help="comma-separated sizes: one design per size of containers, each with a default route "
                         "via the gateway (issue 8's row: edit round trip under 300 ms at 500; default 500; "
                         "'' for none)")
    ap.add_argument("--parents", type=int, default=10)
    ap.add_argument("--edits", type=int, default=5)
    ap.add_argument("--pause", type=int, default=1000, help="ms between edits (default 1000)")
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    ap.add_argument("--serve-instance", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.serve_instance:
        return _serve_instance(args.serve_instance)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)

    from playwright.sync_api import sync_playwright

    from planner.lab.shapes import containers_design, scale_design
    from planner.web import create_app

    sizes, routed = _sizes(args.children), _sizes(args.routed)
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"SECRET_KEY": "bench", "DATABASE": f"{tmp}/db.sqlite3"}, instance_path=tmp)
        store = app.extensions["mvplan_store"]
        small_id = next(d["id"] for d in store.list() if d["name"] == "vepa-hairpin")
        designs = [("baseline: vepa-hairpin example", small_id)]
        for n in sizes:
            # 10 parents per 975 children (the 1,000-node design), at least as many as asked
            big = scale_design(children=n, parents=max(args.parents, round(n * args.parents / 975)))
            designs.append((f"scale design ({big['name']})", store.create(big, "bench")["id"]))
        for n in routed:
            doc = containers_design(n, parents=args.parents, route=True)
            designs.append((f"routed containers ({doc['name']})", store.create(doc, "bench")["id"]))
        del app, store
        server, base = serve_process(tmp)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=args.chromium, args=ARGS)
                results = {}
                for label, did in designs:
                    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
                    page = ctx.new_page()
                    errors: list[str] = []
                    page.on("pageerror", _page_errors_into(errors))
                    page.on("console", _console_errors_into(errors))
                    results[label] = measure(page, f"{base}/designs/{did}", args.edits, args.pause)
                    results[label]["errors"] = errors
                    ctx.close()
                browser.close()
        finally:
            server.terminate()
            server.wait(10)
    print(f"chromium at 1280x800; {args.edits} mode edits in the properties panel and {args.edits} Delete + "
          f"{args.edits} Ctrl+Z with the matrix on screen, {args.pause} ms apart; ms, medians (min-max)")
    print("nodes: drawn (the design's, when its children are collapsed into groups)")
    print("edit: the input event -> the edit drawn on the canvas (painted) and acknowledged by the server")
    print("findings: the input event -> the findings and matrix of the edited design painted")
    print(f"{'':40} {'nodes':>13} {'first render':>13} {'first check':>12} {'edit (props)':>16} "
          f"{'findings (props)':>20} {'edit (matrix)':>16} {'findings (matrix)':>20}")

    def cell(xs, key):
        return f"{med(xs, lambda x: x[key]):5.0f} ({min(x[key] for x in xs):.0f}-{max(x[key] for x in xs):.0f})"

    for label, r in results.items():
        cells = [cell(r["props"], "trip"), cell(r["props"], "findings"),
                 cell(r["matrix"], "trip"), cell(r["matrix"], "findings")]
        note = ""
        unchanged = sum(not x["changed"] for x in r["props"] + r["matrix"])
        if unchanged:
            note += f"   ({unchanged} edits did not change findings or matrix!)"
        if r["errors"]:
            note += f"   ({len(r['errors'])} console/page errors: {r['errors'][0]})"
        shown = f"{r['nodes']}" + (f" ({r['design_nodes']})" if r["design_nodes"] != r["nodes"] else "")
        print(f"{label:40} {shown:>13} {r['drawn']:13.0f} {r['first_check']:12.0f} {cells[0]:>16} {cells[1]:>20} "
              f"{cells[2]:>16} {cells[3]:>20}{note}")
    for big_label in list(results)[1:]:
        print(f"\nthe {big_label} first render, ms after navigation start:")
        print("  " + ", ".join(f"{name.removeprefix('mvplan:')} {at:.0f}" for name, at in results[big_label]["boot"]))
        trips = results[big_label]["props"] + results[big_label]["matrix"]
        print(f"\nwhere the {big_label} trips go (median of each phase over all its edits; the canvas redraws "
              "while the server works, so the phases need not add up to the trip):")
        for name, v in phases(trips):
            print(f"  {name:44} {v:6.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
