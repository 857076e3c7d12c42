"""IPv6 in the editor: an IPv6 address typed in the properties panel reaches the check (and a child's
`forwarding` makes its namespace route), and the
reachability panel switches between the IPv4 and the IPv6 prediction - cells, tooltips and the
explanation are those of the family shown."""
from __future__ import annotations

import pytest
from test_browser_canvas import open_copy
from test_browser_editor import click_node, doc, settle

pytestmark = pytest.mark.browser

WEB, BATCH = "node1/ns:web/eth0", "node1/ns:batch/eth0"


def test_the_matrix_shows_each_family_and_explains_over_it(page, live_server):
    open_copy(page, "dual-stack-gateway")
    page.click("#tab-matrix")
    assert page.is_visible("#matrix-family")
    assert "over IPv6" not in page.inner_text("#matrix")
    page.select_option("#matrix-family", "6")
    page.wait_for_function("() => /over IPv6/.test(document.getElementById('matrix').textContent)")
    cell = page.locator(f"#matrix td.cell.block[data-from='{BATCH}'][data-to='{WEB}']")
    assert cell.count() == 1
    assert "NDP_UNANSWERED" in (cell.get_attribute("data-reason") or "")
    cell.click()
    page.wait_for_function("() => /BLOCKED/.test(document.getElementById('explain').textContent)")
    assert "neighbour" in page.inner_text("#explain")
    page.select_option("#matrix-family", "4")
    page.wait_for_function("() => !/over IPv6/.test(document.getElementById('matrix').textContent)")
    assert "ARP_UNANSWERED" in (page.locator(f"#matrix td.cell[data-from='{BATCH}'][data-to='{WEB}']")
                                .get_attribute("data-reason") or "")
    assert not page.console_errors


def test_an_ipv6_address_typed_in_the_panel_is_checked(page, live_server):
    open_copy(page, "vepa-hairpin")
    page.click("#tab-matrix")
    assert page.is_hidden("#matrix-family")  # an IPv4-only design has no family to pick
    click_node(page, "host1/ns:web/web0")
    page.wait_for_selector("#props input[name=addresses]")
    value = page.input_value("#props input[name=addresses]")
    page.fill("#props input[name=addresses]", value + ", 2001:db8::11/64")
    page.press("#props input[name=addresses]", "Tab")
    settle(page)
    web = next(c for c in doc(page)["hosts"][0]["children"] if c["namespace"] == "web")
    assert "2001:db8::11/64" in web["addresses"]
    page.click("#tab-matrix")
    assert page.is_visible("#matrix-family")
    click_node(page, "host1/ns:web/web0")       # a container that routes: forwarding on a child
    page.wait_for_selector("#prop-forwarding")
    page.check("#prop-forwarding")
    settle(page)
    web = next(c for c in doc(page)["hosts"][0]["children"] if c["namespace"] == "web")
    assert web["forwarding"] is True
    assert not page.console_errors
