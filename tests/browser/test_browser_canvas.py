"""The drawing must never lie (issue 10): compound boxes enclose their members after every load,
upload, undo and layout; the what-if is drawn on the canvas and its banner stays off the
drawing; errors and warnings are badged on their subjects and highlights go with their
finding; a click inside a box selects the box, and messages name objects in words."""
from __future__ import annotations

import itertools
from pathlib import Path

import pytest
import yaml
from editorpage import open_design, settle, wait_ready
from test_browser_editor import click_node, doc, node_xy, upload_into_editor

pytestmark = pytest.mark.browser

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
_copies = itertools.count(1)


def open_copy(page, example: str, rename: bool = True) -> int:
    """Open a fresh copy of an example (the seeded ones are shared by every test of the session:
    an edit would leave a draft on them). The copy's name does not contain the example's."""
    document = yaml.safe_load((EXAMPLES / f"{example}.yaml").read_text())
    if rename:
        document["name"] = f"copy {next(_copies)} of {example.replace('-', ' ')}"
    return open_design(page, document)

# every drawn node whose design object sits in a box (host, switch): is it drawn inside that box?
OUTSIDE = """async () => {
    const M = await import('/static/js/model.js');
    const intended = new Map(M.buildElements(window.mvplan.doc, {}).nodes.map((e) => [e.data.id, e.data.parent]));
    const bad = [];
    window.cy.nodes().forEach((n) => {
        const want = intended.get(n.id());
        if (!want) return;
        const box = window.cy.getElementById(want);
        if (n.parent().id() !== want) { bad.push(`${n.id()}: drawn without its box ${want}`); return; }
        const a = box.boundingBox({includeLabels: false}), b = n.boundingBox({includeLabels: false});
        if (b.x1 < a.x1 - 0.5 || b.x2 > a.x2 + 0.5 || b.y1 < a.y1 - 0.5 || b.y2 > a.y2 + 0.5)
            bad.push(`${n.id()} outside ${want}`);
    });
    return bad;
}"""


def boxes_enclose_members(page):
    bad = page.evaluate(OUTSIDE)
    assert bad == [], bad
    # and something was checked: the example has members in boxes
    assert page.evaluate("() => window.cy.nodes().filter(n => n.parent().nonempty()).length") >= 3


def test_compound_boxes_enclose_members_after_draft_upload_undo_and_layout(page, live_server, tmp_path):
    open_copy(page, "two-parent-host")
    boxes_enclose_members(page)

    # a draft autosaved and reopened
    x, y = node_xy(page, "host1/eth0")
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 40, y + 30, steps=5)
    page.mouse.up()
    page.evaluate("() => window.mvplanEditor.commit('rename', (d) => { d.name = 'drafted-boxes'; })")
    settle(page)
    page.wait_for_function("() => /draft/i.test(document.getElementById('save-status').textContent)")
    page.reload()
    wait_ready(page)
    settle(page)
    assert doc(page)["name"] == "drafted-boxes"
    boxes_enclose_members(page)

    # Upload... replacing the open design
    upload = tmp_path / "uploaded.yaml"
    upload.write_text((EXAMPLES / "vepa-hairpin.yaml").read_text().replace("name: vepa-hairpin", "name: uploaded"))
    upload_into_editor(page, upload)
    page.wait_for_function("() => window.mvplan.doc.name === 'uploaded'")
    settle(page)
    boxes_enclose_members(page)

    # undo of a delete brings a member back inside its box; so does redo of it
    click_node(page, "host1/eth0")
    page.keyboard.press("Delete")
    settle(page, "invalid")
    page.evaluate("() => window.mvplanEditor.undo()")
    settle(page)
    assert page.evaluate("() => window.cy.getElementById('host1/eth0').nonempty()")
    boxes_enclose_members(page)

    # auto layout
    page.click("#layout")
    page.wait_for_timeout(300)
    boxes_enclose_members(page)


def test_what_if_is_drawn_and_its_banner_stays_off_the_drawing(page, live_server, shot):
    open_copy(page, "vepa-hairpin")
    assert not page.evaluate("() => window.cy.getElementById('host1/eth0').hasClass('down')")
    # hairpin on in the design: drawn as such
    assert page.evaluate("() => window.cy.getElementById('switch:sw1/p1').hasClass('hairpin')")
    page.click("#tab-whatif")
    page.check("input[data-parent='host1/eth0']")
    page.wait_for_function("() => document.body.dataset.whatif === 'ok'")
    state = page.evaluate("""() => {
        const g = (id) => window.cy.getElementById(id);
        const web = window.cy.nodes('.child').filter(n => n.data('name') === 'web0');
        const lower = window.cy.edges().filter(e => e.source().same(web));
        return {parent: g('host1/eth0').hasClass('down'), whatif: g('host1/eth0').hasClass('whatif'),
                child: web.hasClass('down-lower'), lower: lower.nonempty() && lower.every(e => e.hasClass('down')),
                dashed: lower.style('line-style'), opacity: Number(g('host1/eth0').style('background-opacity'))};
    }""")
    assert state["parent"] and state["whatif"] and state["child"] and state["lower"], state
    assert state["dashed"] == "dashed" and state["opacity"] < 1
    # the banner is above the canvas, never over a node
    banner = page.locator("#whatif-banner").bounding_box()
    canvas = page.locator("#cy").bounding_box()
    assert banner is not None and canvas is not None
    assert banner["y"] + banner["height"] <= canvas["y"] + 0.5
    shot(page, "editor-whatif-down")

    # the hairpin turned off in the what-if: the port loses its mark, and turned back, it returns
    page.uncheck("input[data-parent='host1/eth0']")
    page.uncheck("input[data-port='switch:sw1/p1']")
    page.wait_for_function("() => document.body.dataset.whatif === 'ok'")
    assert not page.evaluate("() => window.cy.getElementById('switch:sw1/p1').hasClass('hairpin')")
    assert not page.evaluate("() => window.cy.getElementById('host1/eth0').hasClass('down')")
    page.click("#whatif-reset")
    assert page.evaluate("() => window.cy.getElementById('switch:sw1/p1').hasClass('hairpin')")
    assert page.locator("#whatif-banner").is_hidden()


def test_findings_are_badged_on_their_subjects_and_highlights_go_with_them(page, live_server):
    open_copy(page, "vepa-hairpin")
    # hairpin off: the VEPA pair is blocked, MV203 names the port - badged without clicking a card
    page.evaluate("() => window.mvplanEditor.commit('hairpin off', (d) => { d.switches[0].ports[0].hairpin = false; })")
    settle(page)
    codes = page.eval_on_selector_all(
        "#findings .finding",
        "els => els.map(e => [e.dataset.code, [...e.classList].find(c => c.startsWith('sev-')).slice(4)])")
    assert any(c == "MV203" for c, _ in codes), codes
    marked = page.evaluate("() => window.cy.elements('.sev-error, .sev-warning').map(e => e.id())")
    assert "switch:sw1/p1" in marked, marked
    # the findings count shows errors and warnings only, not info notes
    count = page.inner_text("#findings-count").strip()
    nonzero = [s for c, s in codes if s in ("error", "warning")]
    assert count == str(len(nonzero)), (count, codes)

    # hovering a marked element says how many findings concern it and which
    x, y = node_xy(page, "switch:sw1/p1")
    page.mouse.move(x, y)
    page.wait_for_selector("#cy-tip:not([hidden])")
    tip = page.inner_text("#cy-tip")
    assert "MV203" in tip and ("1 error" in tip or "1 warning" in tip), tip

    # pick the finding: its subject is highlighted; fix it: badge and highlight both go
    page.click("#tab-findings")
    page.click("#findings .finding[data-code='MV203']")
    assert page.evaluate("() => window.cy.getElementById('switch:sw1/p1').hasClass('hl')")
    page.evaluate("() => window.mvplanEditor.commit('hairpin on', (d) => { d.switches[0].ports[0].hairpin = true; })")
    settle(page)
    assert "MV203" not in page.eval_on_selector_all("#findings .finding", "els => els.map(e => e.dataset.code)")
    assert page.evaluate("() => window.cy.elements('.hl').length") == 0
    assert not page.evaluate("() => window.cy.getElementById('switch:sw1/p1').is('.sev-error, .sev-warning')")


def test_a_click_inside_a_box_selects_the_box_and_messages_use_words(page, live_server):
    open_copy(page, "vepa-hairpin")
    # a point inside host1 a few pixels beside a cable: Cytoscape's hit test gives the cable
    spot = page.evaluate("""() => {
        const e = window.cy.edges().filter(e => e.data('kind') === 'lower')[0];
        const a = e.sourceEndpoint(), b = e.targetEndpoint();
        const len = Math.hypot(b.x - a.x, b.y - a.y);
        const z = window.cy.zoom(), off = 9 / z;   // 9 px on screen beside the line
        const m = {x: (a.x + b.x) / 2 - (b.y - a.y) / len * off, y: (a.y + b.y) / 2 + (b.x - a.x) / len * off};
        const pan = window.cy.pan(), r = document.getElementById('cy').getBoundingClientRect();
        window.__taps = [];
        window.cy.on('tap', (ev) => window.__taps.push(ev.target === window.cy ? 'core' : ev.target.id()));
        return {x: r.left + m.x * z + pan.x, y: r.top + m.y * z + pan.y, edge: e.id()};
    }""")
    page.mouse.click(spot["x"], spot["y"])
    page.wait_for_timeout(100)
    assert page.evaluate("() => window.mvplan.selected") == "host1"
    assert "lower:" not in page.inner_text("#hint")

    # the cable itself, clicked on its line, is selected and named in words when deleted
    mid = page.evaluate("""(id) => {
        const e = window.cy.getElementById(id); const p = e.midpoint();
        const z = window.cy.zoom(), pan = window.cy.pan(), r = document.getElementById('cy').getBoundingClientRect();
        return [r.left + p.x * z + pan.x, r.top + p.y * z + pan.y];
    }""", spot["edge"])
    page.mouse.click(*mid)
    page.wait_for_timeout(100)
    assert page.evaluate("() => window.mvplan.selected") == spot["edge"]
    page.keyboard.press("Delete")
    settle(page, "invalid")
    hint = page.inner_text("#hint")
    assert "Deleted connection" in hint and "-> eth0" in hint and "lower:" not in hint and "ns:" not in hint, hint
    # the child left without a parent is told what to do, not given a schema error
    problems = page.inner_text("#problems")
    assert "has no parent NIC - press E and drag it onto one" in problems, problems


def test_an_unattached_child_says_what_to_do(page, live_server):
    open_design(page, {"name": "orphan", "hosts": [{"name": "host1", "parents": [{"name": "eth0"}]}]})
    page.evaluate("""() => window.mvplanEditor.commit('add child', (d) => {
        d.hosts[0].children = [{name: 'mv1', parent: '', mode: 'bridge'}]; })""")
    wait_ready(page)
    settle(page, "invalid")
    problems = page.inner_text("#problems")
    assert "mv1 has no parent NIC - press E and drag it onto one" in problems, problems
    assert "No findings" not in page.inner_text("#panel-findings")


def test_labels_keep_a_minimum_size_after_fitting(page, live_server):
    from test_browser_large import TINY_LABELS

    open_copy(page, "two-parent-host")
    page.click("#fit")
    page.wait_for_timeout(100)
    assert page.evaluate(TINY_LABELS) == []
    # zoomed out to where 10 px labels would be 7 px or 5 px, labels are still drawn at 8 px or
    # more (bigger in drawing units); further out they are hidden rather than shrunk
    for zoom, drawn in ((0.7, True), (0.5, True), (0.3, False)):
        page.evaluate("z => { window.cy.zoom(z); window.cy.center(); }", zoom)
        page.wait_for_timeout(150)
        px = page.evaluate("""() => window.cy.nodes('.child').map((n) => [
            parseFloat(n.style('font-size')) * window.cy.zoom(), parseFloat(n.style('min-zoomed-font-size'))])""")
        assert px, "no children drawn"
        if drawn:
            assert all(size >= 8 and size >= least for size, least in px), (zoom, px)
        else:
            assert all(size < least for size, least in px), (zoom, px)
        assert page.evaluate(TINY_LABELS) == []
