"""IPv6 over the web API and pages: the check answer carries the IPv6 prediction beside the IPv4 one,
``/api/explain`` explains a pair over IPv6, the what-if answers IPv6 changes, and the review page
shows an IPv6 matrix with the duplicates duplicate address detection sees."""
from __future__ import annotations

from pathlib import Path

import yaml
from test_web_apply import create
from webhelpers import assert_envelope

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "dual-stack-gateway.yaml"
WEB, BATCH, REMOTE = "node1/ns:web/eth0", "node1/ns:batch/eth0", "station:remote"


def dual_doc() -> dict:
    return yaml.safe_load(EXAMPLE.read_text())


def test_check_answers_both_families(api):
    out = api.post("/api/check", json={"document": dual_doc()}).get_json()
    pred = out["prediction"]
    assert pred["summary"]["family"] == 4 and pred["ipv6"]["summary"]["family"] == 6
    assert {e["address"] for e in pred["ipv6"]["endpoints"]} >= {"2001:db8:60::11", "2001:db8:99::10"}
    assert all(v["family"] == 6 for v in pred["ipv6"]["verdicts"])
    editor = api.post("/api/check?view=editor", json={"document": dual_doc()}).get_json()
    assert editor["prediction"]["ipv6"]["summary"]["endpoints"] == 5
    v4_only = api.post("/api/check", json={"document": yaml.safe_load(
        (EXAMPLE.parent / "vepa-hairpin.yaml").read_text())}).get_json()
    assert "ipv6" not in v4_only["prediction"]


def test_explain_over_ipv6(api):
    v = api.post("/api/explain", json={"document": dual_doc(), "from": BATCH, "to": WEB, "family": 6}).get_json()
    assert (v["reachable"], v["reason"], v["family"]) == (False, "NDP_UNANSWERED", 6)
    assert "neighbour" in v["message"] and v["meaning"].startswith("IPv6")
    ok = api.post("/api/explain", json={"document": dual_doc(), "from": WEB, "to": REMOTE, "family": 6}).get_json()
    assert ok["reachable"] and ok["routers"] == ["station:gateway"]
    err = assert_envelope(api.post("/api/explain", json={"document": dual_doc(), "from": WEB, "to": REMOTE,
                                                         "family": 5}), 400, "bad_request")
    assert "'family'" in err["message"]


def test_what_if_reports_ipv6_changes(api):
    out = api.post("/api/what-if", json={"document": dual_doc(), "down": ["node1/eth0"]}).get_json()
    assert out["changes"]["lost_count"] > 0 and out["changes"]["ipv6"]["lost_count"] > 0


def test_review_page_shows_the_ipv6_matrix_and_duplicates(api):
    doc = dual_doc()
    doc["stations"][1]["addresses"].append("2001:db8:60::12/64")   # remote also holds api's IPv6 address
    rec = create(api, doc)
    page = api.get(f"/designs/{rec['id']}/versions/1").get_data(as_text=True)
    assert 'id="reachability-ipv6"' in page and "ping -6" in page
    assert "2001:db8:60::12" in page and "MV119" in page
