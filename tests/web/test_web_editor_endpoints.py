"""The editor's second-round endpoints: ``/api/explain`` (one ordered pair, worded for it, hops
both ways, what-if aware), ``/api/designs/<id>/status`` (the index's per-design status), and the
gates of ``/api/rehearse``, ``/api/discover`` and ``/api/designs/<id>/drift`` (off without
``--allow-apply``, the apply token, clear errors). Kernel runs are in tests/browser/test_browser_live.py."""
from __future__ import annotations

import copy

import pytest
from test_web_apply import TOKEN, ApplyApi, create
from webhelpers import assert_envelope, no_hairpin

from planner.core.model import design_from_dict
from planner.core.reachability import predict
from planner.web import create_app, ui

WEB, DB, GW = "host1/ns:web/web0", "host1/ns:db/db0", "station:gw"


@pytest.fixture
def apply_app(tmp_path):
    return create_app({"TESTING": True, "SECRET_KEY": "test", "DATABASE": str(tmp_path / "apply.sqlite3"),
                       "SEED_EXAMPLES": False, "ALLOW_APPLY": True, "APPLY_TOKEN": TOKEN,
                       "APPLY_RUN_DIR": str(tmp_path)}, instance_path=str(tmp_path))


def explain(api, doc, a, b, **what_if):
    return api.post("/api/explain", json={"document": doc, "from": a, "to": b, **what_if})


def test_explain_words_the_pair_asked_for_in_both_directions(api, vepa_doc):
    doc = no_hairpin(copy.deepcopy(vepa_doc))
    there = explain(api, doc, WEB, DB).get_json()
    back = explain(api, doc, DB, WEB).get_json()
    assert (there["from"], there["to"], back["from"], back["to"]) == (WEB, DB, DB, WEB)
    assert not there["reachable"] and not back["reachable"]
    assert f"from {WEB}" in there["message"] and f"from {DB}" not in there["message"]
    assert f"from {DB}" in back["message"] and f"from {WEB}" not in back["message"]
    assert there["fix"] and there["meaning"] and there["hops"]
    ok = explain(api, doc, WEB, GW).get_json()
    assert ok["reachable"] and ok["hops"] and ok["reply_hops"]  # every hop of both directions


def test_explain_applies_the_what_if(api, vepa_doc):
    assert explain(api, vepa_doc, WEB, DB).get_json()["reachable"]
    v = explain(api, vepa_doc, WEB, DB, hairpin={"switch:sw1/p1": False}).get_json()
    assert not v["reachable"] and "hairpin" in v["fix"]
    v = explain(api, vepa_doc, WEB, GW, down=["host1/eth0"]).get_json()
    assert not v["reachable"]


@pytest.mark.parametrize("body, code, words", [
    ({"document": None, "from": WEB, "to": DB}, "bad_request", "'document'"),
    ({"to": DB}, "bad_request", "'from' and 'to'"),
    ({"from": WEB, "to": "host9/nope"}, "bad_endpoint", "host9/nope"),
    ({"from": WEB, "to": DB, "hairpin": {"switch:sw1/p1": "yes"}}, "bad_request", "'hairpin'"),
    ({"from": WEB, "to": DB, "down": "host1/eth0"}, "bad_request", "'down'"),
])
def test_explain_rejects_bad_requests_clearly(api, vepa_doc, body, code, words):
    err = assert_envelope(api.post("/api/explain", json={"document": vepa_doc, **body}), 400, code)
    assert words in err["message"]


def test_explain_of_an_invalid_design_names_the_field(api, vepa_doc):
    doc = copy.deepcopy(vepa_doc)
    doc["hosts"][0]["children"][0]["mode"] = "sideways"
    resp = api.post("/api/explain", json={"document": doc, "from": WEB, "to": DB})
    assert resp.status_code in (400, 422)
    assert "mode" in resp.get_data(as_text=True)


def test_status_counts_findings_and_blocked_ordered_pairs(api, vepa_doc):
    designs = api.get("/api/designs").get_json()["designs"]
    example = next(d for d in designs if d["name"] == "vepa-hairpin")
    s = api.get(f"/api/designs/{example['id']}/status").get_json()
    assert s["example"] is True and s["valid"] is True
    assert s["description"].startswith("Two containers with VEPA macvlans")
    assert (s["endpoints"], s["pairs"], s["blocked_pairs"]) == (3, 6, 0)

    doc = no_hairpin(copy.deepcopy(vepa_doc))
    rec = api.post("/api/designs", json={"document": doc, "message": "mine"}).get_json()
    s = api.get(f"/api/designs/{rec['id']}/status").get_json()
    pred = predict(design_from_dict(doc))
    assert s["example"] is False
    assert s["blocked_pairs"] == pred.to_dict()["summary"]["pairs"] - pred.to_dict()["summary"]["reachable_pairs"] == 2
    assert s["errors"] + s["warnings"] >= 1  # MV203
    # a new version is analysed anew
    api.put(f"/api/designs/{rec['id']}", json={"document": vepa_doc, "base_version": 1, "message": "fixed"})
    assert api.get(f"/api/designs/{rec['id']}/status").get_json()["blocked_pairs"] == 0
    assert_envelope(api.get("/api/designs/99999/status"), 404, "not_found")


def test_grouped_matrix_lists_every_member_and_cells_name_their_pair(vepa_doc):
    pred = predict(design_from_dict(no_hairpin(copy.deepcopy(vepa_doc)))).to_dict()
    grouped = ui.matrix(pred, limit=1)
    assert grouped["grouped"]
    assert sorted(m for label in grouped["labels"] for m in label["members"]) == sorted([WEB, DB, GW])
    full = ui.matrix(pred)
    row = next(r for r in full["rows"] if r["label"]["id"] == DB)
    cell = next(c for c, b in zip(row["cells"], full["labels"], strict=True) if b["id"] == WEB)
    assert cell["pair"] == (DB, WEB) and not cell["reachable"]
    # the class verdict is worded for its example pair: the cell of the other direction says so
    # (the printed review's cell of db0 -> web0 must not pass web0's words off as its own)
    assert cell["message"].startswith(f"as for {WEB} -> {DB}: the ARP request (broadcast) from {WEB}")


def test_rehearse_discover_and_drift_are_off_without_allow_apply(api, vepa_doc):
    rec = api.post("/api/designs", json={"document": vepa_doc}).get_json()
    target = {"target": {"kind": "netns", "netns": "x"}}
    for url, body in (("/api/rehearse", {"document": vepa_doc}), ("/api/discover", target),
                      (f"/api/designs/{rec['id']}/drift", target)):
        resp = api.post(url, json=body)
        assert resp.status_code == 403, (url, resp.get_data(as_text=True))
        assert "--allow-apply" in resp.get_json()["error"]["message"]


def test_rehearse_needs_the_token_and_refuses_what_it_cannot_do(apply_app, vepa_doc):
    a = ApplyApi(apply_app)
    assert_envelope(a.post("/api/rehearse", json={"document": vepa_doc}, token=None), 403, "apply_token")
    assert_envelope(a.post("/api/rehearse", json={"document": vepa_doc}, token="wrong"), 403, "apply_token")
    assert_envelope(a.post("/api/rehearse", json={}), 400, "bad_request")
    one = copy.deepcopy(vepa_doc)
    one["hosts"][0]["children"] = one["hosts"][0]["children"][:1]
    one["stations"] = []
    assert_envelope(a.post("/api/rehearse", json={"document": one}), 400, "bad_request")
    apply_app.config["REHEARSE_MAX_PAIRS"] = 4
    err = assert_envelope(a.post("/api/rehearse", json={"document": vepa_doc}), 400, "too_many_pairs")
    assert "mvplan rehearse" in err["message"] and err["details"] == {"pairs": 6, "limit": 4}
    assert_envelope(a.get("/api/rehearse/nope"), 404)


def test_drift_and_discover_reject_bad_targets(apply_app, vepa_doc):
    a = ApplyApi(apply_app)
    rec = create(a, vepa_doc)
    for body in ({"target": {"kind": "netns", "netns": "bad name!"}}, {"target": {"kind": "moon"}}, {}):
        resp = a.post(f"/api/designs/{rec['id']}/drift", json=body)
        assert resp.status_code == 400, resp.get_data(as_text=True)
        resp = a.post("/api/discover", json=body)
        assert resp.status_code == 400, resp.get_data(as_text=True)
    assert_envelope(a.post(f"/api/designs/{rec['id']}/drift", json={"target": {"kind": "netns", "netns": "x"},
                                                                   "version": "1"}), 400, "bad_request")
    assert_envelope(a.post("/api/designs/99999/drift", json={"target": {"kind": "netns", "netns": "x"}}), 404)
    assert_envelope(a.post("/api/discover", json={"target": {"kind": "netns", "netns": "x"}, "name": 5}), 400)
