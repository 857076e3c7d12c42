"""The properties panel edits what issue 12 added: a parent's platform, a switch port's isolation
and allowed MACs, a station that forwards, routes - and the live check answers with the findings
and verdicts those make (MV118 for a cloud NIC's children)."""
from __future__ import annotations

import pytest
from test_browser_canvas import open_copy
from test_browser_editor import click_node, doc, finding_codes, settle

pytestmark = pytest.mark.browser


def test_platform_port_security_isolation_forwarding_and_routes_are_edited_in_the_panel(page, live_server):
    open_copy(page, "vepa-hairpin")
    click_node(page, "host1/eth0")
    page.wait_for_selector("#prop-platform")
    options = page.eval_on_selector_all("#prop-platform option", "os => os.map(o => o.value)")
    assert {"aws", "esxi", "hyper-v", "bare-metal"} <= set(options), options
    page.select_option("#prop-platform", "aws")
    settle(page)
    assert "MV118" in finding_codes(page)
    assert doc(page)["hosts"][0]["parents"][0]["platform"] == "aws"
    page.select_option("#prop-platform", "")
    settle(page)
    assert "MV118" not in finding_codes(page)

    click_node(page, "switch:sw1/p9")
    page.wait_for_selector("#prop-isolated")
    page.check("#prop-isolated")
    page.fill("#prop-allowed_macs", "02:00:00:00:00:aa, 02:00:00:00:00:bb")
    page.press("#prop-allowed_macs", "Tab")
    settle(page)
    port = doc(page)["switches"][0]["ports"][1]
    assert port["isolated"] is True and port["allowed_macs"] == ["02:00:00:00:00:aa", "02:00:00:00:00:bb"]

    click_node(page, "station:gw")
    page.wait_for_selector("#prop-forwarding")
    page.check("#prop-forwarding")
    page.fill("#prop-routes", "default via 10.10.0.254, 10.10.0.7/32")
    page.press("#prop-routes", "Tab")
    settle(page)
    st = doc(page)["stations"][0]
    assert st["forwarding"] is True
    assert st["routes"] == [{"to": "default", "via": "10.10.0.254"}, {"to": "10.10.0.7/32"}]
    assert page.input_value("#prop-routes") == "default via 10.10.0.254, 10.10.0.7/32"
    assert not page.console_errors
