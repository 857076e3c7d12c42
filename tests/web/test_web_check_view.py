"""The editor's side of /api/check: the compact ``?view=editor`` answer, Server-Timing, and the
garbage collector held out of an analysis (and put back as it was)."""
from __future__ import annotations

import gc
import threading

import pytest
from webhelpers import assert_envelope, no_hairpin

from planner.web import core


def test_editor_view_carries_what_the_editor_reads(api, vepa_doc):
    doc = no_hairpin(vepa_doc)
    full = api.post("/api/check", json={"document": doc}).get_json()
    compact = api.post("/api/check?view=editor", json={"document": doc}).get_json()
    # the same analysis
    assert compact["valid"] is True
    assert compact["findings"] == full["findings"]
    assert compact["counts"] == full["counts"]
    assert compact["summary"] == full["summary"]
    pred, fpred = compact["prediction"], full["prediction"]
    assert pred["summary"] == fpred["summary"]
    # endpoints: id, address, parent, class only; no classes list (the editor regroups by class)
    assert "classes" not in pred
    assert [e["id"] for e in pred["endpoints"]] == [e["id"] for e in fpred["endpoints"]]
    for e, f in zip(pred["endpoints"], fpred["endpoints"], strict=True):
        assert set(e) <= set(core.EDITOR_ENDPOINT_KEYS)
        assert {k: f[k] for k in e} == e
        assert e["class"] == f["class"]
    regrouped = {}
    for e in pred["endpoints"]:
        regrouped.setdefault(e["class"], []).append(e["id"])
    assert [sorted(regrouped[n]) for n in range(len(fpred["classes"]))] == [sorted(m) for m in fpred["classes"]]
    # verdicts: everything but the hops (the example pair stays: the matrix names it, and the
    # blocked pairs are grouped by fix with their examples like the CLI's)
    assert len(pred["verdicts"]) == len(fpred["verdicts"])
    for v, f in zip(pred["verdicts"], fpred["verdicts"], strict=True):
        assert v == {k: x for k, x in f.items() if k not in ("hops", "reply_hops")}
        assert v["example"] == f["example"]
    assert any(not v["reachable"] and v["reason"] for v in pred["verdicts"])
    # interfaces: id, mac, mtu
    assert compact["interfaces"] == [{k: i[k] for k in ("id", "mac", "mtu")} for i in full["interfaces"]]


def test_full_view_is_the_default_and_unchanged(api, vepa_doc):
    a = api.post("/api/check", json={"document": vepa_doc}).get_json()
    b = api.post("/api/check?view=full", json={"document": vepa_doc}).get_json()
    a.pop("elapsed_ms"), b.pop("elapsed_ms")
    assert a == b
    assert "classes" in a["prediction"] and "hops" in a["prediction"]["verdicts"][0]
    assert set(a["interfaces"][0]) == {"id", "kind", "path", "mac", "mtu", "mode", "lower", "link"}


def test_unknown_view_is_400(api, vepa_doc):
    assert_envelope(api.post("/api/check?view=tiny", json={"document": vepa_doc}), 400, "bad_request")
    assert_envelope(api.post("/api/what-if?view=tiny", json={"document": vepa_doc}), 400, "bad_request")


@pytest.mark.parametrize("url,broken,phases", [
    ("/api/check", False, ["parse", "validate", "analyse", "encode"]),
    ("/api/check?problems=inline&view=editor", True, ["parse", "validate", "encode"]),
])
def test_check_answers_carry_server_timing(api, vepa_doc, url, broken, phases):
    if broken:
        vepa_doc["hosts"][0]["children"][0]["parent"] = "nope"
    resp = api.post(url, json={"document": vepa_doc})
    assert resp.status_code == 200
    assert resp.get_json()["valid"] is (not broken)
    parts = [p.strip() for p in resp.headers["Server-Timing"].split(",")]
    assert [p.split(";")[0] for p in parts] == phases
    for p in parts:
        assert float(p.split("dur=")[1]) >= 0


def test_what_if_editor_view_keeps_the_changes(api, vepa_doc):
    body = api.post("/api/what-if?view=editor",
                    json={"document": vepa_doc, "hairpin": {"switch:sw1/p1": False}}).get_json()
    assert body["changes"]["lost_count"] == 2
    assert "classes" not in body["prediction"]
    assert "MV203" in {f["code"] for f in body["findings"]}


def test_check_puts_the_garbage_collector_back(api, vepa_doc):
    assert gc.isenabled()
    assert api.post("/api/check", json={"document": vepa_doc}).status_code == 200
    assert gc.isenabled()
    bad = dict(vepa_doc, hosts="nope")
    assert api.post("/api/check", json={"document": bad}).status_code == 422  # raised inside the hold
    assert gc.isenabled()
    gc.disable()
    try:
        assert api.post("/api/check", json={"document": vepa_doc}).status_code == 200
        assert not gc.isenabled()  # held, then left as it was found: off
    finally:
        gc.enable()


def test_gc_held_counts_overlapping_holders():
    assert gc.isenabled()
    inside = threading.Event()
    release = threading.Event()

    def other():
        with core.gc_held():
            inside.set()
            release.wait(5)

    t = threading.Thread(target=other)
    with core.gc_held():
        assert not gc.isenabled()
        t.start()
        assert inside.wait(5)
    assert not gc.isenabled()  # the other analysis still runs
    release.set()
    t.join(5)
    assert gc.isenabled()


# --------------------------------------------------------------------------- ?ack=1
def _lines(resp) -> list[dict]:
    import json

    assert resp.status_code == 200
    assert resp.mimetype == "application/x-ndjson"
    text = resp.get_data(as_text=True)
    assert text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]


def test_acked_check_answers_the_same_check_after_an_ack_line(api, vepa_doc):
    doc = no_hairpin(vepa_doc)
    plain = api.post("/api/check?view=editor", json={"document": doc}).get_json()
    ack, answer = _lines(api.post("/api/check?view=editor&ack=1", json={"document": doc}))
    assert ack["ack"] is True and set(ack["timing"]) == {"parse"}
    assert set(answer["timing"]) == {"parse", "validate", "analyse", "encode"}
    for x in (plain, answer):
        x.pop("elapsed_ms")
    answer.pop("timing")
    assert answer == plain


def test_acked_check_of_a_broken_document_keeps_problems_inline_or_reports_the_error(api, vepa_doc):
    broken = {**vepa_doc, "hosts": [{"name": "h1", "children": [{"name": "mv0", "mode": "sideways"}]}]}
    ack, answer = _lines(api.post("/api/check?ack=1&problems=inline", json={"document": broken}))
    assert ack["ack"] is True
    assert answer["valid"] is False and answer["problems"] and "timing" in answer
    ack, answer = _lines(api.post("/api/check?ack=1", json={"document": broken}))
    assert answer["status"] == 422 and answer["error"]["code"] == "invalid_design"
    assert answer["error"]["details"]["problems"]


def test_acked_check_refuses_a_bad_body_before_the_stream_starts(api):
    assert_envelope(api.post("/api/check?ack=1", json={"no": "document"}), 400, "bad_request")
    assert_envelope(api.post("/api/check?ack=1", data="{", content_type="application/json"), 400)


def test_acked_check_turns_a_crash_into_an_error_line(api, vepa_doc, monkeypatch):
    def boom(design, view="full"):
        raise RuntimeError("bug")

    monkeypatch.setattr("planner.web.api.check_payload", boom)
    ack, answer = _lines(api.post("/api/check?ack=1", json={"document": vepa_doc}))
    assert answer["status"] == 500 and answer["error"]["code"] == "internal_error"
    assert "bug" not in answer["error"]["message"]
