"""planner.core.diff: objects by stable id, reachability gained/lost over common endpoints."""
from __future__ import annotations

import copy

from webhelpers import no_hairpin

from planner.core.diff import diff_designs, diff_objects, diff_predictions
from planner.core.model import design_from_dict


def test_identical_designs_have_no_diff(vepa_doc):
    d = diff_designs(vepa_doc, copy.deepcopy(vepa_doc))
    assert d["summary"] == {"added": 0, "removed": 0, "changed": 0, "gained": 0, "lost": 0}


def test_layout_and_order_only(vepa_doc):
    b = copy.deepcopy(vepa_doc)
    b["layout"] = {"positions": {"host1/eth0": {"x": 1, "y": 2}}}
    b["hosts"][0]["children"].reverse()
    d = diff_designs(vepa_doc, b)
    assert d["summary"]["changed"] == 0 and d["objects"]["layout_changed"] is True


def test_added_removed_changed(vepa_doc):
    b = copy.deepcopy(vepa_doc)
    b["hosts"][0]["children"][0]["mode"] = "bridge"
    b["hosts"][0]["children"][1]["name"] = "db1"
    b["stations"][0]["addresses"] = ["10.10.0.2/24"]
    b["name"] = "renamed"
    o = diff_objects(design_from_dict(vepa_doc), design_from_dict(b))
    assert {"id": "host1/ns:db/db1", "kind": "macvlan"} in o["added"]
    assert {"id": "host1/ns:db/db0", "kind": "macvlan"} in o["removed"]
    changed = {c["id"]: c["fields"] for c in o["changed"]}
    assert changed["host1/ns:web/web0"]["mode"] == {"from": "vepa", "to": "bridge"}
    assert changed["station:gw"]["addresses"] == {"from": ["10.10.0.1/24"], "to": ["10.10.0.2/24"]}
    assert o["meta"]["name"] == {"from": "vepa-hairpin", "to": "renamed"}


def test_reachability_gained(vepa_doc):
    a = no_hairpin(copy.deepcopy(vepa_doc))
    d = diff_designs(a, vepa_doc)
    gained = {(p["from"], p["to"]) for p in d["reachability"]["gained"]}
    assert gained == {("host1/ns:web/web0", "host1/ns:db/db0"), ("host1/ns:db/db0", "host1/ns:web/web0")}
    assert all(p["reason"] == "OK" for p in d["reachability"]["gained"])
    assert d["reachability"]["lost"] == []


def test_without_reachability(vepa_doc):
    d = diff_designs(vepa_doc, no_hairpin(copy.deepcopy(vepa_doc)), reachability=False)
    assert d["reachability"] is None and d["summary"]["changed"] == 1


def _pred(eps, verdicts):
    return {"endpoints": [{"id": i, "class": c, "parent": p} for i, c, p in eps], "verdicts": verdicts}


def test_prediction_diff_uses_same_parent_and_limits():
    old = _pred([("a", 0, "x"), ("b", 0, "x"), ("c", 0, "y")],
                [{"from": 0, "to": 0, "same_parent": True, "reachable": True},
                 {"from": 0, "to": 0, "same_parent": False, "reachable": True}])
    new = _pred([("a", 0, "x"), ("b", 0, "x"), ("c", 0, "y")],
                [{"from": 0, "to": 0, "same_parent": True, "reachable": False, "reason": "NO_HAIRPIN"},
                 {"from": 0, "to": 0, "same_parent": False, "reachable": True}])
    d = diff_predictions(old, new)
    assert {(p["from"], p["to"]) for p in d["lost"]} == {("a", "b"), ("b", "a")}
    assert d["lost_count"] == 2 and d["compared_pairs"] == 6
    assert diff_predictions(old, new, limit=1)["truncated"] is True


def test_scales_by_groups():
    n = 2000
    eps = [(f"e{i}", 0, "x") for i in range(n)]
    old = _pred(eps, [{"from": 0, "to": 0, "same_parent": True, "reachable": True}])
    new = _pred(eps, [{"from": 0, "to": 0, "same_parent": True, "reachable": False}])
    d = diff_predictions(old, new)
    assert d["lost_count"] == n * (n - 1) and len(d["lost"]) == 500
