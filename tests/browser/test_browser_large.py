"""Large designs in the browser (issue 10): children collapse per parent into one node showing
count and modes and expand on click; search finds children also inside a collapsed group; the
matrix lists every class's members and counts ordered pairs as `mvplan predict` does; blocked
pairs are grouped by fix like the CLI's; the explanation of A -> B is about A -> B, both ways."""
from __future__ import annotations

import re
import subprocess
import sys

import pytest
import yaml
from editorpage import open_design, settle
from test_browser_canvas import open_copy

pytestmark = pytest.mark.browser


# labels Cytoscape draws (not hidden by min-zoomed-font-size) smaller than 8 px on screen
TINY_LABELS = """() => window.cy.nodes().filter((n) => {
    if (!n.visible() || !n.data('label')) return false;
    const px = parseFloat(n.style('font-size')) * window.cy.zoom();
    return px >= parseFloat(n.style('min-zoomed-font-size')) && px < 8;
}).map((n) => n.id())"""


def cli_predict(tmp_path, document: dict) -> str:
    path = tmp_path / "design.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return subprocess.run([sys.executable, "-m", "planner.cli", "predict", str(path)], capture_output=True, text=True,
                          check=False).stdout


def test_children_collapse_per_parent_expand_on_click_and_search_finds_them(page, live_server, shot):
    from planner.lab.shapes import scale_design

    document = scale_design(children=300, parents=3)
    open_design(page, document)
    groups = page.evaluate("() => window.cy.nodes('.group').map(n => n.data())")
    # one node per parent (each child has a namespace of its own), holding all 300 children
    assert len(groups) == 3 and sum(g["count"] for g in groups) == 300
    assert page.evaluate("() => window.cy.nodes('.child').length") == 0
    modes = {}
    for c in document["hosts"][0]["children"]:
        modes[c["mode"]] = modes.get(c["mode"], 0) + 1
    assert {m: sum(g["modes"].get(m, 0) for g in groups) for m in modes} == modes
    assert all(re.search(rf"{g['count']} children of eth\d", g["label"]) for g in groups)
    assert page.locator("#group-toggle").get_attribute("aria-pressed") == "true"
    # the matrix lists the 302 endpoints' classes behind their summary, opened on a click
    page.click("#tab-matrix")
    summary = page.locator("#class-members summary")
    assert "(302 endpoints)" in summary.inner_text()
    assert not page.evaluate("() => document.querySelector('#class-members details').open")
    summary.click()
    assert page.locator("#class-members li").first.is_visible()
    page.click("#tab-props")
    shot(page, "editor-large-grouped")

    # labels stay readable after fitting: drawn at the minimum size or more, or not drawn at all
    page.click("#fit")
    assert page.evaluate(TINY_LABELS) == []

    # search by mode counts every matching child, the collapsed ones too
    page.fill("#search", "mode:vepa")
    page.wait_for_function("() => /match/.test(document.getElementById('search-count').textContent)")
    assert page.inner_text("#search-count").startswith(f"{modes['vepa']} match")
    with_vepa = sorted(g["id"] for g in groups if g["modes"].get("vepa"))
    assert page.evaluate("() => window.cy.nodes('.group.match').map(n => n.id()).sort()") == with_vepa
    # Enter goes to the first match: its group opens and the child is drawn and selected
    page.press("#search", "Enter")
    page.wait_for_timeout(200)
    sel = page.evaluate("() => window.mvplan.selected")
    assert sel and page.evaluate("id => window.cy.getElementById(id).data('mode')", sel) == "vepa"
    page.fill("#search", "")
    page.wait_for_timeout(250)

    # a click on a group expands it; boxes still enclose the children drawn
    gid = page.evaluate("() => window.cy.nodes('.group').map(n => n.id()).sort()[0]")
    page.evaluate("id => window.mvplanEditor.expandGroup(id)", gid)
    page.wait_for_timeout(100)
    assert page.evaluate("() => window.cy.nodes('.child').length") >= 100
    assert page.evaluate("""() => window.cy.nodes('.child').every(n => {
        const a = n.parent().boundingBox({includeLabels: false}), b = n.boundingBox({includeLabels: false});
        return n.parent().nonempty() && b.x1 >= a.x1 && b.x2 <= a.x2 && b.y1 >= a.y1 && b.y2 <= a.y2; })""")
    assert page.console_errors == [], "\n".join(page.console_errors)


def test_matrix_lists_members_and_counts_ordered_pairs_like_the_cli(page, live_server, tmp_path):
    from planner.lab.shapes import scale_design

    document = scale_design(children=80, parents=4)
    cli = cli_predict(tmp_path, document)
    m = re.search(r"(\d+) endpoints, (\d+)/(\d+) ordered pairs reachable", cli)
    assert m, cli
    endpoints, reachable, pairs = (int(x) for x in m.groups())
    open_design(page, document)
    page.click("#tab-matrix")
    summary = page.inner_text("#matrix .matrix-summary")
    assert f"{reachable} of {pairs} ordered pairs reachable, {pairs - reachable} blocked" in summary, summary
    # every class's members are listed, each endpoint exactly once
    # 82 endpoints: listed open (a bigger list waits behind its summary)
    assert page.evaluate("() => document.querySelector('#class-members details').open")
    members = page.eval_on_selector_all("#class-members li", "els => els.map(e => e.textContent)")
    listed = [x.strip() for li in members for x in li.split(": ", 1)[1].split(",")]
    assert sorted(listed) == sorted(e for e in page.evaluate(
        "() => window.mvplan.check.prediction.endpoints.map(e => e.id)"))
    assert len(listed) == endpoints
    # blocked pairs grouped by fix, as the CLI prints them
    cli_blocked = re.search(r"blocked: (\d+) ordered pair\(s\), (\d+) distinct fix", cli)
    assert cli_blocked, cli
    head = page.inner_text("#blocked-groups h3")
    n_pairs, n_fixes = (int(x) for x in cli_blocked.groups())
    assert f"Blocked: {n_pairs} ordered pair" in head and f"{n_fixes} distinct fix" in head, head
    assert page.locator("#blocked-groups li").count() == n_fixes
    # one endpoint's row and column
    one = page.evaluate("() => window.mvplan.check.prediction.endpoints[0].id")
    page.focus("#matrix-endpoint")  # its suggestions: every endpoint
    assert page.locator("#matrix-endpoints option").count() == endpoints
    page.fill("#matrix-endpoint", one)
    page.dispatch_event("#matrix-endpoint", "change")
    page.wait_for_function(
        "x => document.querySelector('#matrix .matrix-summary').textContent.startsWith(x + ' reaches')", arg=one)


def test_matrix_tooltip_and_explanation_are_about_the_pair_pointed_at(page, live_server):
    open_copy(page, "vepa-hairpin")
    page.evaluate("() => window.mvplanEditor.commit('hairpin off', (d) => { d.switches[0].ports[0].hairpin = false; })")
    settle(page)
    page.click("#tab-matrix")
    web, db = "host1/ns:web/web0", "host1/ns:db/db0"
    for a, b in ((web, db), (db, web)):
        cell = page.locator(f"#matrix td.cell[data-from='{a}'][data-to='{b}']")
        cell.hover()
        # the title is worded for this very pair once the hover asked the server (POST /api/explain)
        page.wait_for_function("([a, b]) => { const t = document.querySelector("
                               "`#matrix td.cell[data-from='${a}'][data-to='${b}']`).title;"
                               " return t.startsWith(`${a} → ${b}:`) && t.includes(' from '); }", arg=[a, b])
        title = cell.get_attribute("title")
        # the message speaks of this source: "from <a>" (not of the other direction)
        assert f"from {a}" in title and f"from {b}" not in title, title
        cell.click()
        page.wait_for_function("([a, b]) => { const e = document.getElementById('explain');"
                               " return e.dataset.from === a && e.dataset.to === b && /BLOCKED/.test(e.textContent); }",
                               arg=[a, b])
        there = page.eval_on_selector_all("#explain [data-direction=there] li", "els => els.map(e => e.textContent)")
        assert there and a in there[0], there
        assert page.locator("#explain [data-direction=back]").count() == 1
    # a reachable pair: both directions' hops
    cell = page.locator(f"#matrix td.cell[data-from='{web}'][data-to='station:gw']")
    cell.click()
    page.wait_for_function("() => /REACHABLE/.test(document.getElementById('explain').textContent)")
    assert page.locator("#explain ol[data-direction=there] li").count() > 0
    assert page.locator("#explain ol[data-direction=back] li").count() > 0


def test_children_sharing_a_namespace_collapse_per_namespace_group(page, live_server):
    children = [{"name": f"{ns}{k}", "parent": "eth0", "mode": "bridge", "namespace": ns,
                 "addresses": [f"10.9.{n}.{k + 1}/16"]} for n, ns in enumerate(("a", "b")) for k in range(12)]
    children += [{"name": f"solo{k}", "parent": "eth0", "mode": "private", "addresses": [f"10.9.5.{k + 1}/16"]}
                 for k in range(3)]
    open_design(page, {"name": "shared namespaces", "hosts": [
        {"name": "host1", "parents": [{"name": "eth0"}], "children": children}]})
    assert page.evaluate("() => window.cy.nodes('.group').length") == 0  # small: not grouped until asked
    page.focus("#cy")
    page.keyboard.press("g")
    page.wait_for_function("() => window.cy.nodes('.group').length > 0")
    groups = {g["id"]: g for g in page.evaluate("() => window.cy.nodes('.group').map(n => n.data())")}
    assert set(groups) == {"group:host1/eth0/ns:a", "group:host1/eth0/ns:b"}, set(groups)
    assert all(g["count"] == 12 and g["modes"] == {"bridge": 12} for g in groups.values())
    assert "ns a: 12 children of eth0" in groups["group:host1/eth0/ns:a"]["label"]
    # the three children in namespaces of their own stay drawn (fewer than a group's minimum)
    assert page.evaluate("() => window.cy.nodes('.child').length") == 3
    # a click on a group expands it
    x, y = page.evaluate("""() => { const p = window.cy.getElementById('group:host1/eth0/ns:a').renderedPosition();
        const r = document.getElementById('cy').getBoundingClientRect(); return [r.left + p.x, r.top + p.y]; }""")
    page.mouse.click(x, y)
    page.wait_for_function("() => window.cy.nodes('.child').length === 15")
    assert "Expanded 12 children of eth0" in page.inner_text("#hint")


def test_reused_child_elements_match_a_fresh_build_after_every_kind_of_edit(page, live_server):
    """The canvas reuses a child's elements while the child object and its context are unchanged
    (M.buildElements): after renames, deletes of children, hosts and parents, mode and parent
    changes and what-if overrides, the elements built equal those built from a fresh copy."""
    from planner.lab.shapes import scale_design

    document = scale_design(children=60, parents=3)
    document["hosts"].append({"name": "h2", "parents": [{"name": "eth0"}],
                              "children": [{"name": "a", "parent": "eth0"}, {"name": "b", "parent": "a"}]})
    open_design(page, document, settled=False)
    mismatches = page.evaluate("""async () => {
        const M = await import('/static/js/model.js');
        let doc = structuredClone(window.mvplan.doc);
        const out = [];
        const same = (label, whatIf) => {
            const a = JSON.stringify(M.buildElements(doc, { whatIf }));
            const b = JSON.stringify(M.buildElements(structuredClone(doc), { whatIf }));
            if (a !== b) out.push(label);
        };
        const child = (h, k) => ({ kind: 'child', host: doc.hosts[h].name, name: doc.hosts[h].children[k].name,
            path: `hosts[${h}].children[${k}]`, id: M.ifaceId(doc.hosts[h].name, doc.hosts[h].children[k].name,
            doc.hosts[h].children[k].namespace || '') });
        same('start');
        const edits = [
            ['mode', () => { doc = M.cloneAlong(doc, 'hosts[0].children[5]');
                doc.hosts[0].children[5].mode = 'private'; }],
            ['delete child', () => { const d = child(0, 3); doc = M.cloneAlong(doc, d.path); M.remove(doc, d); }],
            ['lower changed', () => { doc = M.cloneAlong(doc, 'hosts[0].children[7]');
                doc.hosts[0].children[7].parent = 'nope'; }],
            ['parent down', () => { doc = structuredClone(doc); doc.hosts[0].parents[0].state = 'down'; }],
            ['rename host', () => { doc = structuredClone(doc);
                const h = doc.hosts[0];
                M.rename(doc, { kind: 'host', name: h.name, id: h.name, path: 'hosts[0]' }, 'renamed'); }],
            ['delete host before', () => { doc = { ...doc, hosts: doc.hosts.slice(1) }; }],
            ['chained child down', () => { const i = doc.hosts.findIndex((h) => h.name === 'h2');
                doc = M.cloneAlong(doc, `hosts[${i}].children[0]`); doc.hosts[i].children[0].state = 'down'; }],
        ];
        for (const [label, edit] of edits) { edit(); same(label); }
        same('what-if down', { hairpin: {}, down: ['h2/eth0'] });
        same('what-if off');
        return out;
    }""")
    assert mismatches == []
    assert page.console_errors == [], "\n".join(page.console_errors)


def test_cheaper_cytoscape_internals_give_what_cytoscapes_own_give(page, live_server):
    """static/js/cyfast.js replaces two Cytoscape internals for compound graphs. For a box, one of
    its members, a nested member, a cable and a node outside any box: dirtyStyleCache forgets the
    cached style values of exactly the elements the original forgets, and zDepth (the z-order of
    boxes) is the original's for every element."""
    host = {"name": "h1", "parents": [{"name": "eth0", "uplink": {"switch": "sw", "port": "p1"}}],
            "children": [{"name": "a", "parent": "eth0"}, {"name": "b", "parent": "a"}],
            "bridges": [{"name": "br0", "ports": [{"name": "v0", "peer": {"name": "v0p", "namespace": "x"}}]}]}
    document = {"name": "boxes", "hosts": [host],
                "switches": [{"name": "sw", "ports": [{"name": "p1"}, {"name": "p2"}]}],
                "stations": [{"name": "st", "uplink": {"switch": "sw", "port": "p2"}}]}
    open_design(page, document)
    diff = page.evaluate("""async () => {
        const { originalOf } = await import('/static/js/cyfast.js');
        const cy = window.cy;
        const proto = Object.getPrototypeOf(cy.collection());
        const out = [];
        for (const name of ['dirtyStyleCache', 'zDepth']) {
            if (!originalOf(name) || proto[name] === originalOf(name)) out.push(`${name} not installed`);
        }
        const forgotten = (fn, ele) => {
            cy.elements().forEach((e) => { e._private.styleCache = ['kept']; });
            fn.call(ele);
            return cy.elements().filter((e) => e._private.styleCache === null).map((e) => e.id()).sort();
        };
        for (const id of ['h1', 'h1/eth0', 'h1/a', 'h1/v0', 'switch:sw', 'switch:sw/p1', 'station:st', 'lower:h1/b',
                          'uplink:h1/eth0']) {
            const ele = cy.getElementById(id);
            if (ele.empty()) { out.push(`no ${id}`); continue; }
            const want = forgotten(originalOf('dirtyStyleCache'), ele);
            const got = forgotten(proto.dirtyStyleCache, ele);
            if (JSON.stringify(want) !== JSON.stringify(got)) out.push(`${id}: ${want} != ${got}`);
        }
        cy.elements().forEach((ele) => {
            const want = originalOf('zDepth').call(ele); const got = ele.zDepth();
            if (want !== got) out.push(`zDepth ${ele.id()}: ${want} != ${got}`);
        });
        return out;
    }""")
    assert diff == [], diff
    assert page.console_errors == [], "\n".join(page.console_errors)


def test_first_styling_runs_its_triggers_once_and_leaves_no_stale_bounds(page, live_server):
    """cyfast.js runs the style triggers of an element's first styling (bounds of the element and of
    its boxes, its cables, the z-order) once after it instead of once per property: a node added to
    a box and a cable added between two nodes emit 'bounds' a few times, not once per property as
    with Cytoscape's own triggers, and afterwards every element's cached bounds
    are what a fresh computation gives, with the box around its new member."""
    host = {"name": "h1", "parents": [{"name": "eth0", "uplink": {"switch": "sw", "port": "p1"}}],
            "children": [{"name": "a", "parent": "eth0"}, {"name": "b", "parent": "a"}]}
    document = {"name": "boxes", "hosts": [host], "switches": [{"name": "sw", "ports": [{"name": "p1"}]}]}
    open_design(page, document)
    got = page.evaluate("""async () => {
        const { originalOf } = await import('/static/js/cyfast.js');
        const cy = window.cy;
        const style = Object.getPrototypeOf(cy.style());
        const out = { installed: ['apply', 'checkTriggers'].every((n) => originalOf(n) && style[n] !== originalOf(n)) };
        // 'bounds' events on any element (the node, its box, cables) while `fn` runs
        const count = (fn) => {
            let k = 0; const on = () => { k += 1; };
            cy.on('bounds', on); fn(); cy.off('bounds', on);
            return k;
        };
        const far = cy.getElementById('h1').boundingBox();
        const n = cy.add({ group: 'nodes', data: { id: 'extra', parent: 'h1', label: 'extra' },
                           position: { x: far.x2 + 300, y: far.y2 + 300 } });
        const nodeEvents = count(() => n.boundingBox());
        const e = cy.add({ group: 'edges', data: { id: 'extra-cable', source: 'extra', target: 'switch:sw/p1' } });
        out.events = [nodeEvents, count(() => e.boundingBox())];
        // the same first styling by Cytoscape's own functions, for comparison
        const mine = { apply: style.apply, checkTriggers: style.checkTriggers };
        Object.assign(style, { apply: originalOf('apply'), checkTriggers: originalOf('checkTriggers') });
        try {
            const o = cy.add({ group: 'nodes', data: { id: 'extra2', parent: 'h1', label: 'extra2' },
                               position: { x: far.x2 + 400, y: far.y2 + 300 } });
            out.ownEvents = count(() => o.boundingBox());
        } finally {
            Object.assign(style, mine);
        }
        const box = (el) => { const b = el.boundingBox(); return [b.x1, b.y1, b.x2, b.y2].map(Math.round).join(','); };
        const cached = cy.elements().map((el) => [el.id(), box(el)]);
        cy.elements().dirtyCompoundBoundsCache();
        cy.elements().dirtyBoundingBoxCache();
        out.stale = cached.filter(([id, b]) => box(cy.getElementById(id)) !== b).map(([id]) => id);
        const hb = cy.getElementById('h1').boundingBox({ includeLabels: false });
        const nb = n.boundingBox({ includeLabels: false });
        out.enclosed = nb.x1 >= hb.x1 && nb.x2 <= hb.x2 && nb.y1 >= hb.y1 && nb.y2 <= hb.y2;
        out.styled = [n.style('width'), e.style('curve-style')];
        return out;
    }""")
    assert got["installed"], got
    # (3.34: 21 for the node with Cytoscape's triggers; 3 for it and 7 for the cable with these)
    assert got["ownEvents"] >= 15 and 1 <= got["events"][0] <= 5 and 1 <= got["events"][1] <= 10, got
    assert got["stale"] == [] and got["enclosed"], got
    assert got["styled"] == ["28px", "bezier"], got
    assert page.console_errors == [], "\n".join(page.console_errors)


def test_a_design_too_big_for_the_least_zoom_opens_centred_at_it_as_a_fit_would(page, live_server):
    """A design whose stored places do not fit the screen even at the least zoom opens at that
    zoom, centred on its places without measuring every element first (editor.js firstFit): the
    view is the one the Fit button gives, and so is the label band of the stylesheet; a design
    that fits opens as the Fit button shows it too."""
    far = {"name": "far", "hosts": [{"name": "h1", "parents": [{"name": "eth0"}, {"name": "eth1"}]}],
           "layout": {"positions": {"h1/eth0": {"x": 0, "y": 0}, "h1/eth1": {"x": 200000, "y": 30000}}}}
    near = {**far, "layout": {"positions": {"h1/eth0": {"x": 0, "y": 0}, "h1/eth1": {"x": 300, "y": 40}}}}
    view = """() => ({ zoom: window.cy.zoom(), pan: window.cy.pan(), min: window.cy.minZoom(),
                     font: window.cy.getElementById('h1/eth0').style('font-size'),
                     shown: window.cy.getElementById('h1/eth0').renderedPosition() })"""
    for doc, clamped in ((far, True), (near, False)):
        open_design(page, doc)
        first = page.evaluate(view)
        assert (first["zoom"] == first["min"]) is clamped, first
        page.evaluate("() => window.mvplanEditor.fitView()")
        fitted = page.evaluate(view)
        assert abs(first["zoom"] - fitted["zoom"]) < 1e-9, (first, fitted)
        assert abs(first["pan"]["x"] - fitted["pan"]["x"]) < 3 and abs(first["pan"]["y"] - fitted["pan"]["y"]) < 3, \
            (first, fitted)
        assert first["font"] == fitted["font"], (first, fitted)
    assert page.console_errors == [], "\n".join(page.console_errors)


def test_every_module_of_the_editor_is_preloaded(page, live_server):
    """The editor page names each of its modules in a modulepreload link (fetched side by side
    while a big design's page arrives): a module added to the editor without one is found here."""
    open_design(page, {"name": "tiny", "hosts": [{"name": "h1", "parents": [{"name": "eth0"}]}]})
    preloaded = set(page.eval_on_selector_all("link[rel=modulepreload]", "ls => ls.map(l => new URL(l.href).pathname)"))
    loaded = set(page.evaluate("""() => performance.getEntriesByType('resource').map(r => new URL(r.name).pathname)
        .filter(p => /\\.m?js$/.test(p) && !p.includes('cytoscape-edgehandles'))"""))
    assert loaded and loaded <= preloaded, sorted(loaded - preloaded)
    # the classic scripts (edgehandles) too: found late by the parser, after a big design's document
    paths = "els => els.map(e => new URL(e.href || e.src).pathname)"
    scripts = set(page.eval_on_selector_all("link[rel=preload][as=script]", paths))
    classic = set(page.eval_on_selector_all("script[src]:not([type=module])", paths))
    assert classic and classic <= scripts, sorted(classic - scripts)
    assert page.eval_on_selector_all("script[src]:not([type=module])", "ss => ss.every(s => s.defer)")


# what the canvas draws, element by element: data, the classes that come from the design (not the
# selection's, search's or focus's), a leaf's place; and every member outside its box
DRAWING = """() => {
    const transient = new Set(['hl', 'reach', 'block', 'focus', 'match', 'dimmed']);
    const out = {};
    window.cy.elements().forEach((el) => {
        const d = { ...el.data() };
        out[el.id()] = { data: d, classes: el.classes().filter((c) => !transient.has(c)).sort(),
                         position: el.isNode() && el.isChildless() ? el.position() : null };
    });
    const outside = window.cy.nodes().filter((n) => {
        const p = n.parent();
        if (p.empty()) return false;
        const a = p.boundingBox({includeLabels: false}), b = n.boundingBox({includeLabels: false});
        return !(b.x1 >= a.x1 && b.x2 <= a.x2 && b.y1 >= a.y1 && b.y2 <= a.y2);
    }).map((n) => n.id());
    return { elements: out, outside };
}"""

# an edit of one child as the properties panel or Delete makes it (only the child's path copied)
EDIT_CHILD = """([k, what]) => {
    const S = window.mvplan; const E = window.mvplanEditor; const M = E.model;
    const path = `hosts[0].children[${k}]`;
    const c = M.getAt(S.doc, path);
    const data = S.allData.get(M.ifaceId(S.doc.hosts[0].name, c.name, c.namespace || ''));
    const copy = (d) => M.cloneAlong(d, path);
    if (what === 'delete') return E.commit('delete', (doc) => { M.remove(doc, data); }, { select: null, copy });
    return E.commit('mode', (doc) => { M.getAt(doc, path).mode = what; }, { copy });
}"""


def test_an_edit_at_large_size_restyles_only_what_changed_and_draws_what_a_fresh_load_draws(
        page, live_server, open_page):
    """A 600-child design opens with its children collapsed into groups. Editing one collapsed
    child's mode restyles its group node and its host box only (the other groups and the host's
    other members are left alone), and after that edit, a delete, an undo and a redo the canvas
    draws exactly what opening the edited document afresh draws: the same elements with the same
    data (group counts and modes), classes and places, every member inside its box."""
    from planner.lab.shapes import scale_design

    open_design(page, scale_design(children=600, parents=6))
    assert page.evaluate("() => window.cy.nodes('.group').length") == 6
    fresh = open_page(live_server.url)

    def same_as_fresh(step):
        doc = page.evaluate("() => window.mvplan.doc")
        doc["name"] = f"fresh after {step}"
        open_design(fresh, doc)
        want, got = fresh.evaluate(DRAWING), page.evaluate(DRAWING)
        assert got["outside"] == [] and want["outside"] == [], (step, got["outside"], want["outside"])
        assert set(got["elements"]) == set(want["elements"]), (step, set(got["elements"]) ^ set(want["elements"]))
        wrong = [i for i in want["elements"] if got["elements"][i] != want["elements"][i]]
        assert wrong == [], (step, wrong[:3], [(got["elements"][i], want["elements"][i]) for i in wrong[:1]])

    # child 0 is a bridge child of eth0 (all of whose children are bridges), collapsed in group:host1/eth0
    before = page.evaluate("() => window.cy.getElementById('group:host1/eth0').data('modes')")
    # what the edit itself restyles (listening only around it: a frame or a check answer landing
    # before it on a loaded machine may style other elements, which is not the edit's doing)
    styled = page.evaluate(f"""(args) => {{
        const seen = new Set(); const note = (e) => seen.add(e.target.id());
        window.cy.on('style', note);
        const ok = ({EDIT_CHILD})(args);
        window.cy.off('style', note);
        return ok ? [...seen].sort() : null;
    }}""", [0, "private"])
    assert styled == ["group:host1/eth0", "host1"]
    after = page.evaluate("() => window.cy.getElementById('group:host1/eth0').data('modes')")
    assert after == {**before, "bridge": before["bridge"] - 1, "private": before.get("private", 0) + 1}
    settle(page)
    same_as_fresh("mode edit")

    assert page.evaluate(EDIT_CHILD, [3, "delete"])
    assert page.evaluate("() => window.cy.getElementById('group:host1/eth3').data('count')") == 99
    settle(page)
    same_as_fresh("delete")
    page.evaluate("() => window.mvplanEditor.undo()")
    assert page.evaluate("() => window.cy.getElementById('group:host1/eth3').data('count')") == 100
    settle(page)
    same_as_fresh("undo")
    page.evaluate("() => window.mvplanEditor.redo()")
    settle(page)
    same_as_fresh("redo")
    assert page.console_errors == [] and fresh.console_errors == [], page.console_errors + fresh.console_errors


def test_a_design_without_positions_opens_saved_and_an_edit_and_its_undo_say_so(page, live_server):
    """A design stored without positions gets them on its first drawing; that is not an edit: the
    editor opens saved (the saved version is serialised once, as first drawn), an edit makes it
    unsaved and its undo saved again."""
    from planner.lab.shapes import scale_design

    open_design(page, scale_design(children=300, parents=3))
    status = "() => document.getElementById('save-status').textContent"
    assert page.evaluate(status).startswith("Saved v1") and not page.title().startswith("•")
    assert page.evaluate(EDIT_CHILD, [0, "private"])
    page.wait_for_function(f"() => ({status})().startsWith('Unsaved changes')")
    page.wait_for_function("() => document.title.startsWith('•')")
    page.evaluate("() => window.mvplanEditor.undo()")
    page.wait_for_function(f"() => ({status})().startsWith('Saved v1')")
    page.wait_for_function("() => !document.title.startsWith('•')")
    assert page.console_errors == [], "\n".join(page.console_errors)
