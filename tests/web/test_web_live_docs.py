"""The editor's checks after the first send only what changed (``{"base", "patch"}``): the patched
document is checked exactly as if it had been sent whole, the server's copy is never changed in
place, and a bad patch or a forgotten base is a clear 4xx, never a 500."""
from __future__ import annotations

import copy
import json

import pytest
from webhelpers import assert_envelope, no_hairpin

from planner.web.errors import ApiError
from planner.web.livedocs import LiveDocs, apply_patch


def _lines(resp) -> list[dict]:
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return [json.loads(line) for line in resp.get_data(as_text=True).splitlines()]


def _check(api, body) -> tuple[dict, dict]:
    ack, answer = _lines(api.post("/api/check?ack=1&view=editor&problems=inline", json=body))
    answer.pop("timing"), answer.pop("elapsed_ms", None)
    return ack, answer


def test_a_patched_document_is_checked_like_the_whole_one(api, vepa_doc):
    doc = no_hairpin(vepa_doc)
    ack, _ = _check(api, {"document": doc})
    port = doc["switches"][0]["ports"][0]
    edited = copy.deepcopy(doc)
    edited["switches"][0]["ports"][0]["hairpin"] = True
    _, whole = _check(api, {"document": edited})
    ack2, patched = _check(api, {"base": ack["doc"], "patch": [
        {"path": ["switches", 0, "ports", 0, "hairpin"], "value": True}]})
    assert patched == whole
    assert port["hairpin"] is False
    # the next patch builds on the patched document, under its new token
    _, back = _check(api, {"base": ack2["doc"], "patch": [{"path": ["switches", 0, "ports", 0, "hairpin"],
                                                           "value": False}]})
    _, original = _check(api, {"document": doc})
    assert back == original


def test_a_used_or_unknown_base_is_409_so_the_editor_sends_the_whole_document(api, vepa_doc):
    ack, _ = _check(api, {"document": vepa_doc})
    _check(api, {"base": ack["doc"], "patch": []})
    again = api.post("/api/check?ack=1", json={"base": ack["doc"], "patch": []})
    assert_envelope(again, 409, "unknown_base")
    assert_envelope(api.post("/api/check?ack=1", json={"base": "nope", "patch": []}), 409, "unknown_base")
    assert_envelope(api.post("/api/check?ack=1", json={"base": ["x"], "patch": []}), 409, "unknown_base")
    assert_envelope(api.post("/api/check?ack=1", json={"base": "nope"}), 400, "bad_request")


@pytest.mark.parametrize("op, words", [
    ({"path": ["hosts", 99, "name"], "value": "x"}, "not an index"),
    ({"path": ["nope", "x"], "value": 1}, "no key 'nope'"),
    ({"path": ["name", "x"], "value": 1}, "goes through a str"),
    ({"path": ["hosts", "0"], "value": 1}, "not an index"),
    ({"path": ["hosts"], "delete": True}, None),
    ({"path": [], "delete": True}, "removes a key"),
    ({"path": ["hosts"], "splice": [5, 1, []]}, "outside an array"),
    ({"path": ["hosts"], "splice": [0, 1]}, "[start, count, [items...]]"),
    ({"path": ["name"], "splice": [0, 0, []]}, "works on an array"),
    ({"path": ["name"]}, "'value', 'delete': true or 'splice'"),
    ({"path": "name", "value": 1}, "'path' list"),
    ("op", "'path' list"),
])
def test_bad_operations_are_400_naming_the_operation(api, vepa_doc, op, words):
    ack, _ = _check(api, {"document": vepa_doc})
    resp = api.post("/api/check?ack=1", json={"base": ack["doc"], "patch": [op]})
    if words is None:  # a valid operation (the design then has problems: answered inline)
        assert resp.status_code == 200
        return
    assert_envelope(resp, 400, "bad_patch")
    err = resp.get_json()["error"]
    assert words in err["message"] and err["details"] == {"operation": 0}


def test_a_patch_that_is_not_a_list_or_replaces_the_document_with_a_non_object(api, vepa_doc):
    ack, _ = _check(api, {"document": vepa_doc})
    assert_envelope(api.post("/api/check?ack=1", json={"base": ack["doc"], "patch": {}}), 400, "bad_patch")
    ack, _ = _check(api, {"document": vepa_doc})
    assert_envelope(api.post("/api/check?ack=1", json={"base": ack["doc"], "patch": [{"path": [], "value": 3}]}),
                    422, "invalid_design")


def test_operations_copy_what_they_change_and_share_the_rest():
    doc = {"hosts": [{"name": "a", "children": [{"name": "c0"}, {"name": "c1"}]}, {"name": "b"}], "x": 1}
    before = copy.deepcopy(doc)
    out = apply_patch(doc, [
        {"path": ["hosts", 0, "children", 1, "mode"], "value": "vepa"},
        {"path": ["hosts", 0, "children"], "splice": [0, 1, [{"name": "n0"}, {"name": "n1"}]]},
        {"path": ["x"], "delete": True},
        {"path": ["y"], "value": [1]},
    ])
    assert doc == before
    children = [{"name": "n0"}, {"name": "n1"}, {"name": "c1", "mode": "vepa"}]
    assert out == {"hosts": [{"name": "a", "children": children}, {"name": "b"}], "y": [1]}
    assert out["hosts"][1] is doc["hosts"][1]
    assert apply_patch(doc, [{"path": [], "value": {"z": 1}}]) == {"z": 1}


def test_live_docs_keep_the_most_recent_ones():
    docs = LiveDocs(keep=2)
    a, b, c = docs.put({"n": 1}), docs.put({"n": 2}), docs.put({"n": 3})
    assert len(docs) == 2
    with pytest.raises(ApiError) as exc:
        docs.take(a)
    assert exc.value.status == 409
    assert docs.take(c) == {"n": 3} and docs.take(b) == {"n": 2} and len(docs) == 0


def test_too_many_operations_is_400():
    with pytest.raises(ApiError) as exc:
        apply_patch({}, [{"path": ["k"], "value": 1}] * 1001)
    assert exc.value.code == "bad_patch"
