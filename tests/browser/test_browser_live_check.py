"""The live check in a real browser: it goes out with the edit (no debounce), edits made while
it is in flight coalesce into one follow-up, layout changes are not checked, the findings and
the matrix are updated in place, a big design's grid is grouped from the compact answer, and a
redraw of the canvas does not restyle a compound node's children. No timings are asserted here;
bench/browser_render.py measures them."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from editorpage import open_design, settle, wait_ready

pytestmark = pytest.mark.browser

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

# records, synchronously, every POST /api/check the page starts, with the document it stands for:
# the body's "document", or the last one sent with the body's "patch" applied as the server does
# (planner/web/livedocs.py)
SPY = """() => {
  if (window.__checks) { window.__checks.length = 0; return; }
  window.__checks = [];
  const patched = (doc, ops) => {
    const root = { doc: structuredClone(doc) };
    for (const op of ops) {
      let holder = root; let key = 'doc';
      for (const k of op.path) { holder = holder[key]; key = k; }
      if ('value' in op) holder[key] = op.value;
      else if (op.delete) delete holder[key];
      else { const [start, count, items] = op.splice; holder[key].splice(start, count, ...items); }
    }
    return root.doc;
  };
  const orig = window.fetch;
  window.fetch = function (url, opts) {
    const u = String(url);
    if (u.includes('/api/check') && !u.includes('spy=off') && opts && typeof opts.body === 'string') {
      const body = JSON.parse(opts.body);
      window.__sentDoc = body.document || patched(window.__sentDoc, body.patch);
      window.__checks.push({ url: String(url), body: opts.body, patch: !!body.patch, doc: window.__sentDoc });
    }
    return orig.apply(this, arguments);
  };
}"""


def open_example(page, name):
    page.goto("/")
    wait_ready(page)
    page.locator("a.design-link", has_text=name).first.click()
    page.wait_for_url(re.compile(r"/designs/\d+$"))
    wait_ready(page)
    settle(page)


def test_an_edit_sends_its_check_at_once_and_edits_in_flight_coalesce(page, live_server):
    page.add_init_script(f"({SPY})()")  # before the page's first check: it follows the patches from the start
    open_example(page, "vepa-hairpin")
    page.evaluate(SPY)
    # one edit: the request is out before the edit's handler returns (there is no debounce)
    sent = page.evaluate("""() => {
        window.mvplanEditor.commit('hairpin off', (doc) => { doc.switches[0].ports[0].hairpin = false; });
        return {requests: window.__checks.length, state: document.body.dataset.check};
    }""")
    assert sent == {"requests": 1, "state": "pending"}
    sent_doc = page.evaluate("() => window.__checks[0].doc")
    assert "layout" not in sent_doc  # positions are not checked, so not sent
    assert "view=editor" in page.evaluate("() => window.__checks[0].url")
    settle(page)
    assert "MV203" in page.eval_on_selector_all("#findings .finding", "els => els.map(e => e.dataset.code)")

    # five edits in a row: the first goes out, the other four become one follow-up request (for
    # the last document: it differs from the one in flight and from the one on screen)
    page.evaluate(SPY)
    page.evaluate("""() => {
        window.mvplanEditor.commit('hairpin on', (doc) => { doc.switches[0].ports[0].hairpin = true; });
        for (const mode of ['bridge', 'private', 'vepa', 'bridge']) {
            window.mvplanEditor.commit('mode', (doc) => { doc.hosts[0].children[0].mode = mode; });
        }
    }""")
    settle(page)
    assert page.evaluate("() => window.__checks.length") == 2
    last = page.evaluate("() => window.__checks[1].doc")
    assert last["switches"][0]["ports"][0]["hairpin"] is True
    assert last["hosts"][0]["children"][0]["mode"] == "bridge"

    # edits that end where the request in flight started need no follow-up at all
    page.evaluate(SPY)
    page.evaluate("""() => {
        for (const mode of ['vepa', 'private', 'bridge', 'vepa']) {
            window.mvplanEditor.commit('mode', (doc) => { doc.hosts[0].children[0].mode = mode; });
        }
    }""")
    settle(page)
    assert page.evaluate("() => window.__checks.length") == 1
    assert page.evaluate("() => window.__checks[0].doc.hosts[0].children[0].mode") == "vepa"
    assert "MV203" not in page.eval_on_selector_all("#findings .finding", "els => els.map(e => e.dataset.code)")
    # the answer on screen is stamped as the current edit's (after the next paint)
    page.wait_for_function("() => window.mvplan.timings.shown.rev === window.mvplan.rev", timeout=5000)

    # moving everything (auto layout) is an undoable edit, but not one the check sees
    page.evaluate(SPY)
    rev = page.evaluate("() => window.mvplan.rev")
    page.keyboard.press("Escape")
    page.keyboard.press("l")
    settle(page)
    assert page.evaluate("() => window.mvplan.rev") == rev + 1
    assert page.evaluate("() => window.__checks.length") == 0
    assert page.evaluate("() => document.body.dataset.check") == "ok"
    assert page.console_errors == [], "\n".join(page.console_errors)


def test_findings_and_matrix_are_updated_in_place(page, live_server):
    open_example(page, "vepa-hairpin")
    page.click("#tab-matrix")
    web, db = "host1/ns:web/web0", "host1/ns:db/db0"
    page.evaluate("""() => {
        document.querySelector('#matrix table.matrix').dataset.probe = 'kept';
        for (const li of document.querySelectorAll('#findings .finding')) li.dataset.probe = li.dataset.code;
    }""")
    assert page.locator(f"#matrix td.cell.reach[data-from='{web}'][data-to='{db}']").count() == 1
    page.evaluate("() => window.mvplanEditor.select('switch:sw1/p1', {showProps: true})")
    page.uncheck("#props input[name=hairpin]")
    settle(page)
    page.click("#tab-matrix")
    # the same table, its cells rewritten
    assert page.evaluate("() => document.querySelector('#matrix table.matrix').dataset.probe") == "kept"
    blocked = page.locator(f"#matrix td.cell.block[data-from='{web}'][data-to='{db}']")
    assert blocked.count() == 1 and "hairpin" in blocked.get_attribute("title")
    assert page.locator("#matrix td.cell.reach").count() == 4  # the station still reaches both, and back
    assert "2 blocked" in page.inner_text("#matrix .matrix-summary")
    # an unchanged finding keeps its element; a new one is new
    probes = page.eval_on_selector_all("#findings .finding",
                                       "els => els.map(e => [e.dataset.code, e.dataset.probe || null])")
    assert ["MV203", None] in probes
    assert any(code == probe for code, probe in probes)
    # clicking an endpoint still works on the reused table
    page.click(f"#matrix button[data-endpoint='{web}']")
    assert page.evaluate("id => window.cy.getElementById(id).hasClass('block')", db)
    assert page.console_errors == [], "\n".join(page.console_errors)


def test_a_big_design_is_grouped_by_class_from_the_compact_answer(page, live_server):
    from planner.lab.shapes import scale_design

    open_design(page, scale_design(children=120, parents=4))
    assert page.evaluate("() => window.mvplan.check.prediction.classes === undefined")  # the compact answer
    page.click("#tab-matrix")
    labels = page.eval_on_selector_all("#matrix th.col-head span", "els => els.map(e => e.textContent)")
    sizes = [int(re.search(r"\((\d+)\)", x).group(1)) for x in labels]
    endpoints = page.evaluate("() => window.mvplan.check.prediction.endpoints.length")
    assert len(labels) > 1 and sum(sizes) == endpoints
    assert f"{endpoints} endpoints grouped into {len(labels)} classes" in page.inner_text("#matrix")

    child = page.evaluate("() => window.cy.nodes('.child').map(n => n.id())"
                          ".find(id => window.cy.getElementById(id).data('mode') === 'bridge')")
    page.evaluate("id => window.mvplanEditor.select(id, {showProps: true})", child)
    page.select_option("#props select[name=mode]", "private")
    settle(page)
    page.click("#tab-matrix")
    after = page.eval_on_selector_all("#matrix th.col-head span", "els => els.map(e => e.textContent)")
    assert after != labels
    assert sum(int(re.search(r"\((\d+)\)", x).group(1)) for x in after) == endpoints
    assert page.evaluate("id => window.cy.getElementById(id).hasClass('mode-private')", child)
    assert page.console_errors == [], "\n".join(page.console_errors)


def test_redrawing_the_canvas_does_not_restyle_a_hosts_children(page, live_server):
    """Cytoscape draws compound nodes directly each frame; with the default background-image
    'none' every such draw restyled the compound and all its children (style.js)."""
    from planner.lab.shapes import scale_design

    open_design(page, scale_design(children=60, parents=3))
    restyled = page.evaluate("""async () => {
        const cy = window.cy; let n = 0;
        const count = () => { n += 1; };
        const frame = () => new Promise((r) => requestAnimationFrame(r));
        await frame();
        cy.on('style', 'node.child', count);
        cy.$('node.port').first().toggleClass('probe');  // some other node changes: the canvas redraws
        for (let i = 0; i < 4; i++) await frame();
        cy.panBy({ x: 3, y: 0 });
        for (let i = 0; i < 4; i++) await frame();
        cy.off('style', 'node.child', count);
        return n;
    }""")
    assert restyled == 0
    assert page.console_errors == [], "\n".join(page.console_errors)


def test_an_edit_is_acknowledged_at_once_sends_only_its_changes_and_the_findings_say_they_are_updating(
        page, live_server):
    """After the first check an edit sends only its changes ({base, patch}); the server says "got
    it" before its check (?ack=1); until the answer for the current document is drawn, the Findings
    and Reachability panels say they show the design before the edit. The findings drawn are those
    of a whole-document check of the current design, also when the server has forgotten the base."""
    page.add_init_script(f"({SPY})()")
    document = yaml.safe_load((EXAMPLES / "vepa-hairpin.yaml").read_text())
    document["name"] = "acknowledged edits"  # not the example's name: the index lists the example by it
    open_design(page, document)
    page.evaluate(SPY)
    states = page.evaluate("""() => {
        const $ = (sel) => document.querySelector(sel);
        window.mvplanEditor.commit('hairpin off', (doc) => { doc.switches[0].ports[0].hairpin = false; });
        window.__tabs = ['#tab-findings', '#tab-matrix'].map((t) => $(t).classList.contains('updating'));
        return [...document.querySelectorAll('.check-state')].map((el) => [!el.classList.contains('on'), el.textContent,
            !!el.parentElement.querySelector('.stale[aria-busy="true"]')]);
    }""")  # read in the same task as the edit: a small design's answer may come a moment later
    assert len(states) == 2
    assert page.evaluate("() => window.__tabs") == [True, True]  # the tabs say so too (their panels may be hidden)
    for hidden, text, stale in states:
        assert not hidden and "Updating for your last edit" in text and "before it" in text and stale
    settle(page)
    assert page.eval_on_selector_all(".check-state", "els => els.map(e => getComputedStyle(e).visibility)") == [
        "hidden", "hidden"]
    assert page.get_attribute("#findings", "aria-busy") == "false"
    checks = page.evaluate("() => window.__checks.map(c => ({patch: c.patch, url: c.url, size: c.body.length}))")
    assert len(checks) == 1 and checks[0]["patch"] and "ack=1" in checks[0]["url"]
    # the edit's round trip: drawn (after the next paint, which may follow the answer) and acknowledged
    page.wait_for_function("() => { const e = window.mvplan.timings.edit; return e.canvas !== undefined; }")
    edit = page.evaluate("() => window.mvplan.timings.edit")
    assert edit["rev"] == page.evaluate("() => window.mvplan.rev") and edit["acked"] >= edit["input"]

    def shown_is_whole_check():
        current = page.evaluate("() => window.__checks.at(-1).doc")
        assert current == page.evaluate("""() => { const d = {...window.mvplan.doc}; delete d.layout;
            return JSON.parse(JSON.stringify(d)); }""")
        whole = page.evaluate("""async (doc) => {
            const tok = document.querySelector('meta[name="csrf-token"]').content;
            const r = await fetch('/api/check?view=editor&spy=off', {method: 'POST',
                body: JSON.stringify({document: doc}),
                headers: {'Content-Type': 'application/json', 'X-CSRF-Token': tok}});
            return (await r.json()).findings.map((f) => f.code).sort(); }""", current)
        assert sorted(page.eval_on_selector_all("#findings .finding", "els => els.map(e => e.dataset.code)")) == whole
        return whole

    assert "MV203" in shown_is_whole_check()
    # a delete (an array shortened), an undo, a rename: each a patch, each drawn as a whole check
    page.evaluate("() => { window.mvplanEditor.select('host1/ns:db/db0'); document.getElementById('cy').focus(); }")
    page.keyboard.press("Delete")
    settle(page)
    assert page.evaluate("() => window.__checks.at(-1).patch")
    shown_is_whole_check()
    page.keyboard.press("Control+z")
    settle(page)
    assert "MV203" in shown_is_whole_check()
    # the server forgets the documents it had (a restart): the next edit sends the whole document
    live_server.app.extensions["mvplan_live_docs"]._docs.clear()
    page.evaluate(SPY)
    page.evaluate("() => window.mvplanEditor.commit('on', (doc) => { doc.switches[0].ports[0].hairpin = true; })")
    settle(page)
    sent = page.evaluate("() => window.__checks.map(c => c.patch)")
    assert sent == [True, False]  # refused (409 unknown_base), then sent whole
    assert "MV203" not in shown_is_whole_check()
    assert [e for e in page.console_errors if "409" not in e] == []
