"""Rehearse, Drift and Discover from the browser, against the kernel (issue 10): ``mvplan serve
--allow-apply`` in a subprocess; the Rehearse tab builds vepa-hairpin in throwaway namespaces and
shows measured beside predicted with progress, the Drift tab compares the saved version with a
scratch namespace, and Discover on the index page reads that namespace into a new design. Needs
root (skip, or fail with MVPLAN_REQUIRE_ALL=1); every namespace made is deleted."""
from __future__ import annotations

import re

import pytest
from test_browser_apply import ARTIFACTS, Server

pytestmark = [pytest.mark.browser, pytest.mark.kernel]


def test_rehearse_drift_and_discover_from_the_browser(lab_prereqs, open_page, tmp_path):
    from designs import host_netns

    from planner.lab.scratch import Scratch, list_netns, netns_with_prefix

    s = Scratch("mvr")
    srv = None
    try:
        target = host_netns(s)
        srv = Server(tmp_path)
        token = srv.token()
        srv.wait_up()
        did = srv.design_id("vepa-hairpin")
        page = open_page(srv.url, timeout_ms=30000)

        # ---- rehearse: 3 endpoints, 6 ordered pairs, every one as predicted
        page.goto(f"/designs/{did}")
        page.wait_for_selector("body[data-ready='true']")
        page.click("#tab-rehearse")
        page.click("#rehearse-run")                                  # no token: said at the field
        assert page.get_attribute("#rehearse-token", "aria-invalid") == "true"
        page.fill("#rehearse-token", token)
        phases = page.evaluate("""() => { window.__phases = [];
            new MutationObserver(() => { const p = document.body.dataset.rehearse;
                if (p && window.__phases.at(-1) !== p) window.__phases.push(p); })
              .observe(document.body, {attributes: true, attributeFilter: ['data-rehearse']});
            return true; }""")
        assert phases
        page.click("#rehearse-run")
        page.wait_for_function("() => ['agree', 'disagree', 'failed'].includes(document.body.dataset.rehearse)",
                               timeout=120000)
        assert page.evaluate("() => document.body.dataset.rehearse") == "agree", page.inner_text("#rehearse-status")
        assert "All 6 pairs agree with the prediction" in page.inner_text("#rehearse-status")
        rows = page.locator("#rehearse-table tbody tr")
        assert rows.count() == 6
        assert page.locator("#rehearse-table tr.disagree").count() == 0
        web_db = page.locator("#rehearse-table tr[data-from='host1/ns:web/web0'][data-to='host1/ns:db/db0'] td")
        assert web_db.nth(2).inner_text() == "reply" and web_db.nth(3).inner_text() == "reply"
        seen = page.evaluate("() => window.__phases")
        assert "building" in seen or "pinging" in seen, seen
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "rehearse-agree.png"))
        # the lab is gone: none of the namespaces it reports is left
        assert "namespaces" in page.inner_text("#rehearse-result")
        lab = f"mvl{srv.proc.pid % 10000}x"  # planner.lab.run.default_prefix of the server process
        assert [n for n in list_netns() if n.startswith(lab)] == []

        # ---- drift: the saved version against the scratch namespace (nothing applied there)
        page.click("#tab-drift")
        page.fill("#drift-netns", target)
        page.click("#drift-run")
        page.wait_for_function("() => ['in-sync', 'drift', 'failed'].includes(document.body.dataset.drift)")
        assert page.evaluate("() => document.body.dataset.drift") == "drift", page.inner_text("#drift-status")
        result = page.inner_text("#drift-result")
        assert re.search(r"An apply would run \d+ operations", result), result
        assert "host1/ns:web" in result and "missing live" in result, result
        page.screenshot(path=str(ARTIFACTS / "drift.png"))

        # ---- discover: the scratch namespace, given a macvlan on eth0, becomes a new design
        s.ip(target, "link", "add", "mv0", "link", "eth0", "type", "macvlan", "mode", "private")
        s.ip(target, "addr", "add", "10.77.0.5/24", "dev", "mv0")
        page.goto("/")
        page.wait_for_selector("body[data-ready='true']")
        page.click("#discover summary")
        page.fill("#discover-token", token)
        page.fill("#discover-netns", target)
        page.fill("#discover-name", "discovered-lab")
        page.click("#discover-run")
        page.wait_for_url(re.compile(r"/designs/\d+$"))
        page.wait_for_selector("body[data-ready='true']")
        d = page.evaluate("() => JSON.parse(JSON.stringify(window.mvplan.doc))")
        assert d["name"] == "discovered-lab"
        host = d["hosts"][0]
        assert [p["name"] for p in host["parents"]] == ["eth0"]
        (child,) = host["children"]
        assert (child["name"], child["parent"], child["mode"]) == ("mv0", "eth0", "private")
        assert child["addresses"] == ["10.77.0.5/24"]
        # console errors and exceptions; warnings are not this test's business
        errors = [e for e in page.console_errors if not e.startswith("console.warning")]
        assert errors == [], errors
    finally:
        if srv is not None:
            srv.stop()
        s.cleanup()
    assert netns_with_prefix(s.prefix) == []
