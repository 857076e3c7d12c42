"""Text fields cannot break out of a comment or inject YAML documents in any export format.

Issue 9: a design name holding U+2028 / U+0085 survived into nmstate YAML and the NNCP documents
as a line break, so ``---`` plus a Kubernetes object in the name became an extra ``Namespace``
document. Every line break YAML, a shell or a systemd unit file could see - C0, DEL, C1 (NEL),
U+2028/U+2029 - and the bidirectional overrides that hide text from a reviewer are neutralised.
"""
from __future__ import annotations

import copy

import pytest
import yaml

from planner.core.model import design_from_dict
from planner.exporters import FORMATS, export
from planner.exporters._common import comment_text

BASE = {
    "name": "x",
    "hosts": [
        {"name": "node-a", "parents": [{"name": "eth0", "uplink": {"switch": "sw", "port": "p1"}}],
         "children": [{"name": "mv0", "parent": "eth0", "mode": "bridge", "addresses": ["10.1.0.10/24"]}]},
        {"name": "node-b", "parents": [{"name": "eth0", "uplink": {"switch": "sw", "port": "p2"}}],
         "children": [{"name": "mv0", "parent": "eth0", "mode": "bridge", "addresses": ["10.1.0.20/24"]}]},
    ],
    "switches": [{"name": "sw", "ports": [{"name": "p1"}, {"name": "p2"}]}],
}
SEPARATORS = ["\n", "\r", "\x0b", "\x0c", "\x1c", "\x85", "\u2028", "\u2029"]
INJECTED = "{sep}---{sep}apiVersion: v1{sep}kind: Namespace{sep}metadata:{sep}  name: evil{sep}"


def _design(sep: str):
    doc = copy.deepcopy(BASE)
    doc["name"] = "lab" + INJECTED.format(sep=sep)
    return design_from_dict(doc)


@pytest.mark.parametrize("sep", SEPARATORS, ids=[f"U+{ord(s):04X}" for s in SEPARATORS])
@pytest.mark.parametrize("kubernetes", [True, False], ids=["nncp", "nmstate"])
def test_a_name_with_line_separators_injects_no_yaml_document(sep, kubernetes):
    files = export(_design(sep), "nmstate", kubernetes=kubernetes).files
    assert files
    for name, text in files.items():
        docs = [d for d in yaml.safe_load_all(text) if d is not None]
        assert len(docs) == 1, f"{name}: {len(docs)} documents"
        if kubernetes:
            assert docs[0]["kind"] == "NodeNetworkConfigurationPolicy"
        assert "Namespace" not in [d.get("kind") for d in docs]
        for line in text.splitlines():  # Python's splitlines knows every Unicode line break
            assert not line.startswith(("apiVersion: v1", "kind: Namespace", "---")) or line == "---"


@pytest.mark.parametrize("sep", SEPARATORS, ids=[f"U+{ord(s):04X}" for s in SEPARATORS])
@pytest.mark.parametrize("fmt", ["iproute2", "networkd"])
def test_a_name_with_line_separators_stays_inside_its_comment(sep, fmt):
    for name, text in export(_design(sep), fmt).files.items():
        for line in text.splitlines():
            assert "Namespace" not in line or line.lstrip().startswith("#"), (name, line)


def test_comment_text_neutralises_every_line_break_and_bidi_override():
    hostile = "a\u2028b\x85c\u2029d\u202ee\u2066f\ufeffg\x9bh"
    out = comment_text(hostile)
    assert len(out.splitlines()) == 1
    assert out == "a?b?c?d?e?f?g?h"
    assert comment_text("Bob's \"lab\" é ✓") == "Bob's \"lab\" é ✓"


@pytest.mark.parametrize("sep", SEPARATORS, ids=[f"U+{ord(s):04X}" for s in SEPARATORS])
@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_no_format_lets_a_name_start_a_line_of_its_own(fmt, sep):
    """Every exporter, present and future: the injected text never begins a line, and YAML files
    hold no injected document."""
    for name, text in export(_design(sep), fmt).files.items():
        for line in text.splitlines():
            assert not line.strip().startswith(("kind: Namespace", "apiVersion: v1", "name: evil")), (name, line)
        if name.endswith((".yaml", ".yml")):
            kinds = [d.get("kind") for d in yaml.safe_load_all(text) if isinstance(d, dict)]
            assert "Namespace" not in kinds, name
