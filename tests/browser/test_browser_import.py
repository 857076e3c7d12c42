"""Import from the browser's design list: the formats come from the server, the files go through the
same importers as ``mvplan import``, what could not be mapped is listed before the design opens."""
from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

DATA = Path(__file__).resolve().parents[1] / "data" / "import"


def test_import_docker_files_lists_what_was_not_mapped_then_opens_the_design(page, live_server):
    page.goto("/")
    options = page.eval_on_selector_all("#import-format option", "os => os.map(o => o.value)")
    assert {"docker", "kubernetes", "libvirt", "containerlab"} <= set(options), options
    page.select_option("#import-format", "docker")
    page.set_input_files("#import-file", [str(DATA / "docker" / "network-lan50.json"),
                                          str(DATA / "docker" / "inspect-web-db.json")])
    page.wait_for_selector("#import-result:not([hidden])")
    summary = page.inner_text("#import-summary")
    assert "Imported network-lan50.json, inspect-web-db.json as design" in summary
    warnings = page.eval_on_selector_all("#import-warnings li", "ls => ls.map(l => l.textContent)")
    assert warnings and any("network-lan50.json" in w for w in warnings), warnings
    page.click("#import-open")
    page.wait_for_url("**/designs/*")
    page.wait_for_function("() => window.cy && window.cy.nodes().length > 0")
    names = page.evaluate("() => window.cy.nodes().map(n => n.data('label') || n.id()).join(' ')")
    assert "web" in names and "db" in names, names
    assert not page.console_errors


def test_a_file_that_is_not_of_the_format_says_why(page, live_server):
    page.goto("/")
    page.select_option("#import-format", "libvirt")
    page.set_input_files("#import-file", str(DATA / "docker" / "network-lan50.json"))
    page.wait_for_function("() => document.querySelector('#index-status').textContent.length > 0")
    text = page.inner_text("#index-status")
    assert "network-lan50.json" in text and "import" in text, text
    assert page.is_hidden("#import-result")
