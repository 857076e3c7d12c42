"""Issue 10's small things, in the browser: nothing cut off at 1280x800, fix commands wrapped
with a copy button, Tab walks the canvas, invalid fields get aria-invalid, the index shows each
design's description, status and example tag, new objects appear in view, Upload... into an
open design can import as a new design, and the printed review keeps the matrix on one page."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from test_browser_canvas import open_copy
from test_browser_editor import doc, new_design, settle, upload_into_editor, wait_ready

pytestmark = pytest.mark.browser

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def inside_viewport(page, selector):
    box = page.locator(selector).bounding_box()
    vp = page.viewport_size
    assert box is not None, selector
    return box["x"] >= 0 and box["y"] >= 0 and box["x"] + box["width"] <= vp["width"] + 0.5 \
        and box["y"] + box["height"] <= vp["height"] + 0.5


def test_tabs_and_legend_fit_at_1280x800_and_fix_commands_wrap(page, live_server, shot):
    open_copy(page, "vepa-hairpin")
    for tab in page.eval_on_selector_all(".tabs [role=tab]", "els => els.map(e => '#' + e.id)"):
        assert inside_viewport(page, tab), f"{tab} is cut off"
    assert inside_viewport(page, ".legend")
    page.evaluate("() => window.mvplanEditor.commit('hairpin off', (d) => { d.switches[0].ports[0].hairpin = false; })")
    settle(page)
    page.click("#tab-findings")
    box = page.locator("#findings .finding[data-code='MV203'] pre.commands").first
    assert box.count() == 1
    # wrapped, not clipped: nothing scrolls sideways, and there is a copy button
    assert box.evaluate("e => e.scrollWidth <= e.clientWidth + 1")
    assert box.evaluate("e => getComputedStyle(e).whiteSpace") in ("pre-wrap", "break-spaces")
    assert page.locator("#findings .finding[data-code='MV203'] button.copy").is_visible()
    shot(page, "findings-commands")


def test_tab_walks_the_canvas_elements(page, live_server):
    open_copy(page, "vepa-hairpin")
    page.focus("#cy")
    seen = []
    for _ in range(4):
        page.keyboard.press("Tab")
        seen.append(page.evaluate("() => window.mvplan.selected"))
    assert all(seen) and len(set(seen)) == 4, seen
    assert page.evaluate("() => document.activeElement.id") == "cy"
    page.keyboard.press("Shift+Tab")
    assert page.evaluate("() => window.mvplan.selected") == seen[2]


def test_an_invalid_field_is_marked_aria_invalid(page, live_server):
    new_design(page)
    page.keyboard.press("h")
    page.keyboard.press("p")
    page.fill("#props input[name=mtu]", "10")
    page.press("#props input[name=mtu]", "Tab")
    settle(page, "invalid")
    assert page.get_attribute("#props input[name=mtu]", "aria-invalid") == "true"
    page.keyboard.press("Control+z")
    settle(page)
    assert page.get_attribute("#props input[name=mtu]", "aria-invalid") in (None, "false")


def test_the_index_shows_description_status_and_example_tag(page, live_server):
    page.goto("/")
    wait_ready(page)
    page.wait_for_selector("body[data-statuses='done']", timeout=60000)
    row = page.locator("tr[data-design-id]", has=page.locator("a.design-link", has_text="vepa-hairpin")).first
    assert row.locator(".example-tag").is_visible()
    assert "Two containers with VEPA macvlans" in row.locator(".design-desc").inner_text()
    assert row.get_attribute("data-status") in ("ok", "warning")
    assert "0 of 6 pairs blocked" in row.locator(".status-cell").inner_text()


def test_new_objects_appear_in_view_and_on_the_selected_host(page, live_server):
    new_design(page)
    for key in "hpcc":
        page.keyboard.press(key)
    page.keyboard.press("s")                                  # a switch: the host must stay in view
    page.keyboard.press("t")                                  # and a station
    visible = page.evaluate("""() => { const ext = window.cy.extent();
        return window.cy.nodes().filter(n => { const b = n.boundingBox();
            return !(b.x1 >= ext.x1 - 1 && b.x2 <= ext.x2 + 1 && b.y1 >= ext.y1 - 1 && b.y2 <= ext.y2 + 1); })
          .map(n => n.id()); }""")
    assert visible == [], f"off screen: {visible}"
    # a second host selected: a parent added goes on it
    page.evaluate("() => window.mvplanEditor.select(null)")
    page.keyboard.press("h")
    second = page.evaluate("() => window.mvplan.selected")
    page.keyboard.press("p")
    d = doc(page)
    assert second == d["hosts"][1]["name"] and len(d["hosts"][1]["parents"]) == 1


def test_upload_into_an_open_design_can_import_it_as_a_new_design(page, live_server, tmp_path):
    open_copy(page, "two-parent-host")
    before = page.url
    name = doc(page)["name"]
    upload = tmp_path / "imported.yaml"
    upload.write_text((EXAMPLES / "private-isolation.yaml").read_text().replace("name: private-isolation",
                                                                               "name: imported isolation"))
    upload_into_editor(page, upload, choice="new")
    page.wait_for_url(lambda url: url != before and re.search(r"/designs/\d+$", url) is not None)
    wait_ready(page)
    settle(page)
    assert doc(page)["name"] == "imported isolation"
    page.goto(before)
    wait_ready(page)
    assert doc(page)["name"] == name  # the open design was not replaced


def test_printed_review_keeps_the_matrix_on_one_page_with_readable_labels(page, live_server, tmp_path):
    open_copy(page, "two-parent-host")
    version = page.evaluate("() => window.mvplan.version")
    page.goto(page.url + f"/versions/{version}")
    wait_ready(page)
    page.emulate_media(media="print")
    page.wait_for_timeout(200)
    assert page.locator(".topbar").first.is_hidden()
    assert page.evaluate("() => getComputedStyle(document.querySelector('table.matrix')).breakInside") == "avoid"
    # the drawing, redrawn for the page, draws its labels at 8 px or more (or not at all)
    tiny = page.evaluate("""() => window.cy.nodes().filter(n => { if (!n.data('label')) return false;
        const px = parseFloat(n.style('font-size')) * window.cy.zoom();
        return px >= parseFloat(n.style('min-zoomed-font-size')) && px < 8; }).length""")
    assert tiny == 0
    pdf = tmp_path / "review.pdf"
    page.pdf(path=str(pdf), prefer_css_page_size=True)
    assert pdf.stat().st_size > 1000


def _drag_fast(page, src, dst_xy):
    """Press on `src`, move straight to `dst_xy` and release at once (no hover delay)."""
    from test_browser_editor import node_xy

    x1, y1 = node_xy(page, src)
    x2, y2 = dst_xy
    page.mouse.move(x1, y1)
    page.mouse.down()
    page.mouse.move((x1 + x2) / 2, (y1 + y2) / 2, steps=6)
    page.mouse.move(x2, y2, steps=8)
    page.mouse.up()
    page.wait_for_timeout(100)


def test_a_drag_in_connect_mode_makes_a_cable_or_says_why_not(page, live_server):
    from test_browser_editor import node_xy

    new_design(page)
    for key in "hpcs":
        page.keyboard.press(key)
    page.click("#fit")
    d = doc(page)
    child = d["hosts"][0]["children"][0]
    child_id = f"host1/ns:{child['namespace']}/{child['name']}"
    page.evaluate("id => window.mvplanEditor.commit('detach', (d) => { d.hosts[0].children[0].parent = ''; })")
    page.click("#connect-mode")
    # child -> switch port: not a cable mvplan can draw; the hint says why
    _drag_fast(page, child_id, node_xy(page, "switch:sw1/p1"))
    assert "No cable:" in page.inner_text("#hint"), page.inner_text("#hint")
    # released on empty canvas: the hint says what to drop it on
    box = page.locator("#cy").bounding_box()
    _drag_fast(page, child_id, (box["x"] + 5, box["y"] + box["height"] - 5))
    assert "Drop the end on a node" in page.inner_text("#hint")
    # released on the parent before the hover delay: still a cable
    _drag_fast(page, child_id, node_xy(page, "host1/eth0"))
    assert doc(page)["hosts"][0]["children"][0]["parent"] == "eth0"
    assert "lower:" not in page.inner_text("#hint")
