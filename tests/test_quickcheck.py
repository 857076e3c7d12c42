"""The quick child check accepts only what the schema accepts (it may send anything else the slow way)."""
from __future__ import annotations

import json
import random

import fastjsonschema
import jsonschema
import pytest

from planner.core.errors import DesignError
from planner.core.model import design_from_dict
from planner.core.model.load import _child_check
from planner.core.model.quickcheck import children_check, record_check, strip_accepted_children
from planner.core.schema import design_schema
from planner.lab.generate import random_design
from planner.lab.shapes import bench_design

SCHEMA = design_schema()
PRECISE = jsonschema.Draft202012Validator(SCHEMA)
COMPILED = fastjsonschema.compile(json.loads(json.dumps(SCHEMA)))  # it rewrites its input

# values that break one rule or another of some key (type, pattern, range, enum, trailing newline)
ODD_VALUES = [None, 0, 1, -1, 68, 67, 1500, 65535, 65536, 1500.0, True, False, "", "a", "eth0", "eth0\n",
              "-eth", ".eth", "a" * 15, "a" * 16, "a" * 63, "a" * 64, "bridge", "vepa", "Bridge", "macvtap",
              "up", "down", "UP", "02:00:00:00:00:01", "02:00:00:00:00:01\n", "02-00-00-00-00-01",
              "10.0.0.5/24", [], ["10.0.0.5/24"], [1], ["02:00:00:00:00:01"], ["x"], [["10.0.0.5/24"]], {},
              {"address": "10.0.0.1"}, "all-peers", [{"peer": "a"}], "é", "eth 0"]
KEYS = list(SCHEMA["$defs"]["child"]["properties"]) + ["unknown", "Name"]


def _children(seed_count: int = 40) -> list[dict]:
    out = []
    for seed in range(seed_count):
        doc = random_design(seed)
        for host in doc.get("hosts", []):
            out.extend(host.get("children", []))
        out.extend(doc.get("children", []))
    return out


def _valid(child) -> bool:
    doc = {"version": 1, "name": "q", "children": [child]}
    return not any(True for _ in PRECISE.iter_errors(doc))


def _compiled_valid(child) -> bool:
    try:
        COMPILED({"version": 1, "name": "q", "children": [child]})
    except fastjsonschema.JsonSchemaException:
        return False
    return True


def test_the_quick_path_is_on_for_this_schema():
    assert children_check(SCHEMA) is not None
    doc = bench_design("scale", small=True)
    stripped = strip_accepted_children(doc, _child_check())
    assert stripped is not doc and all(h["children"] == [] for h in stripped["hosts"])
    assert doc["hosts"][0]["children"], "the caller's document is not touched"


def test_generated_children_are_accepted_quickly():
    children = _children()
    accepts = _child_check()
    assert len(children) > 100
    assert sum(map(accepts, children)) / len(children) > 0.6  # the rest: static neighbour lists


def test_whatever_it_accepts_the_schema_accepts():
    accepts = _child_check()
    rng = random.Random(7)
    base = _children(20)
    accepted = refused_by_schema = 0
    for _ in range(3000):
        child = json.loads(json.dumps(rng.choice(base)))
        for _ in range(rng.randint(1, 2)):
            key = rng.choice(KEYS)
            if rng.random() < 0.15:
                child.pop(key, None)
            else:
                child[key] = rng.choice(ODD_VALUES)
        quick = accepts(child)
        if quick:
            accepted += 1
            assert _valid(child) and _compiled_valid(child), child
        if not _valid(child):
            refused_by_schema += 1
            assert not quick
    assert accepted > 250 and refused_by_schema > 1000  # both sides of the line were tried


def test_a_non_object_schema_gets_no_quick_check():
    assert record_check("mtu", SCHEMA) is None
    tampered = json.loads(json.dumps(SCHEMA))
    tampered["$defs"]["host"]["properties"]["children"]["maxItems"] = 3
    assert children_check(tampered) is None  # a list constraint the quick path would skip


@pytest.mark.parametrize("bad, where", [
    ({"mtu": 10}, "hosts[0].children[1].mtu"),
    ({"mode": "Bridge"}, "hosts[0].children[1].mode"),
    ({"colour": "red"}, "hosts[0].children[1]"),
])
def test_a_bad_child_among_good_ones_is_still_named_precisely(bad, where):
    doc = bench_design("scale", small=True)
    doc["hosts"][0]["children"][1].update(bad)
    with pytest.raises(DesignError) as err:
        design_from_dict(doc)
    assert [p.path for p in err.value.problems] == [where]


def test_loading_a_design_leaves_the_shared_schema_as_it_was():
    design_from_dict(bench_design("scale", small=True))
    assert design_schema() == design_schema.__wrapped__()
    assert SCHEMA["$defs"]["addresses"]["items"] == {"$ref": "#/$defs/cidr"}
