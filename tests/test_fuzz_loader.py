"""Fuzzing the loader (issue 9): arbitrary text as YAML and JSON, arbitrary JSON-shaped values, and
valid designs with one value anywhere replaced by something hostile. The only exception allowed
out of ``parse_design_text``/``design_from_dict`` is the documented :class:`DesignError`; a design
that loads must also dump back to strict JSON. Each test prints how many inputs it tried.

``MVPLAN_FUZZ_EXAMPLES`` raises the example count for a longer local run.
"""
from __future__ import annotations

import copy
import json
import os

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner.core.errors import DesignError
from planner.core.model import design_from_dict, parse_design_text
from planner.core.model.dump import design_to_dict

EXAMPLES = int(os.environ.get("MVPLAN_FUZZ_EXAMPLES", "300"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

GOOD = {"version": 1, "name": "ok",
        "hosts": [{"name": "h1", "parents": [{"name": "eth0", "mac": "02:00:00:00:00:01",
                                              "uplink": {"switch": "sw", "port": "p1"}}],
                   "children": [{"name": "mv0", "parent": "eth0", "mode": "bridge", "namespace": "web",
                                 "addresses": ["10.0.0.2/24"]},
                                {"name": "mv1", "parent": "eth0", "mode": "source",
                                 "source_macs": ["02:00:00:00:00:09"]}]}],
        "switches": [{"name": "sw", "ports": [{"name": "p1", "hairpin": True}]}]}

HOSTILE_TEXT = ["\n", "\u2028", "\x85", "\ud800", "\x00", "-", ":", "/", " ", "é", "9" * 40, "\u202e", "*a",
                "&a", "!!python/object:os.system", "---", "{", "["]
scalars = (st.none() | st.booleans() | st.integers() | st.integers(min_value=-(2**70), max_value=2**70)
           | st.floats() | st.text(max_size=20) | st.sampled_from(HOSTILE_TEXT)
           | st.builds(lambda a, b: a + b, st.sampled_from(["h1", "eth0", "02:00:00:00:00:01", "10.0.0.2/24"]),
                       st.sampled_from(HOSTILE_TEXT)))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(st.text(max_size=8) | st.sampled_from(list(GOOD) + ["mode", "parent"]),
                                        inner, max_size=4), max_leaves=12)


def _paths(doc, prefix=()):
    """Every (path) to a value inside ``doc``, containers included."""
    yield prefix
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from _paths(v, prefix + (i,))


PATHS = [p for p in _paths(GOOD) if p]


def _replaced(path, value):
    doc = copy.deepcopy(GOOD)
    target = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return doc


def _load_or_refuse(load) -> bool:
    """True if it loaded; False if refused with the documented error; anything else fails."""
    try:
        design = load()
    except DesignError as exc:
        assert exc.problems and all(p.message for p in exc.problems), exc
        return False
    json.dumps(design_to_dict(design), allow_nan=False)
    return True


class Counter:
    def __init__(self) -> None:
        self.tried = self.loaded = 0

    def report(self, capsys, what: str) -> None:
        with capsys.disabled():
            print(f"\nfuzz: {what}: {self.tried} inputs tried, {self.loaded} loaded, "
                  f"{self.tried - self.loaded} refused with DesignError")
        assert self.tried >= min(EXAMPLES, 50)


def test_fuzz_loader_on_arbitrary_text(capsys):
    n = Counter()

    @FUZZ
    @given(text=st.text(max_size=200) | st.sampled_from(HOSTILE_TEXT), name=st.sampled_from(["d.yaml", "d.json"]))
    def run(text, name):
        n.tried += 1
        n.loaded += _load_or_refuse(lambda: design_from_dict(parse_design_text(text, name)))

    run()
    n.report(capsys, "loader, arbitrary text")


def test_fuzz_loader_on_arbitrary_documents(capsys):
    n = Counter()

    @FUZZ
    @given(doc=values)
    def run(doc):
        n.tried += 1
        n.loaded += _load_or_refuse(lambda: design_from_dict(doc))
        try:
            yaml_text = yaml.safe_dump(doc, allow_unicode=True)
        except Exception:  # noqa: BLE001 - not every Python value has a YAML form; nothing to test then
            return
        n.tried += 1
        n.loaded += _load_or_refuse(lambda: design_from_dict(parse_design_text(yaml_text, "d.yaml")))

    run()
    n.report(capsys, "loader, arbitrary documents (as values and as YAML)")


def test_fuzz_loader_on_designs_with_one_value_replaced(capsys):
    n = Counter()

    @FUZZ
    @given(path=st.sampled_from(PATHS), value=values, as_text=st.sampled_from([None, "d.json", "d.yaml"]))
    def run(path, value, as_text):
        doc = _replaced(path, value)
        n.tried += 1
        if as_text is None:
            n.loaded += _load_or_refuse(lambda: design_from_dict(doc))
            return
        try:
            text = json.dumps(doc) if as_text == "d.json" else yaml.safe_dump(doc, allow_unicode=True)
        except (ValueError, UnicodeEncodeError):
            text = json.dumps(doc, allow_nan=True)
        n.loaded += _load_or_refuse(lambda: design_from_dict(parse_design_text(text, as_text)))

    run()
    n.report(capsys, "loader, a valid design with one value replaced")
