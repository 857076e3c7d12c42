"""Bad input is a clear error, never a traceback: the recorded fixtures of every import format,
mutated at random (values replaced by values of other types and forms), give either a design
with warnings or an ImportFailure whose problems name the file - and, for a value of the wrong
type, the field."""
from __future__ import annotations

import copy
import json
import random
import xml.etree.ElementTree as ET

import pytest
import yaml
from importhelp import DATA

from planner.importers import ImportFailure, ImportResult, Source, import_sources

#: (format, the fixture mutated, a fixture given alongside unchanged)
FIXTURES = [("docker", "docker/network-lan50.json", None), ("docker", "docker/network-lan50-lan60.json", None),
            ("docker", "docker/inspect-web-db.json", "docker/network-lan50.json"),
            ("kubernetes", "kubernetes/multus-macvlan.yaml", None),
            ("containerlab", "containerlab/macvlan.clab.yml", None)]
VALUES = [None, 0, -1, 7, 1.5, True, "", "x", "eth0.50", "10.0.0.1/33", "::1", [], {}, [1], {"a": 1}, "A" * 300]
PER_FIXTURE = 150


def _paths(obj, path=()):
    yield path
    items = obj.items() if isinstance(obj, dict) else enumerate(obj) if isinstance(obj, list) else ()
    for key, value in items:
        yield from _paths(value, (*path, key))


def _mutate(docs: list, rng: random.Random) -> list:
    docs = copy.deepcopy(docs)
    for _ in range(rng.randint(1, 3)):
        path = rng.choice([p for p in _paths(docs) if p])
        target = docs
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = copy.deepcopy(rng.choice(VALUES))
    return docs


def _outcome(fmt: str, text: str, alongside: str | None = None) -> ImportResult | ImportFailure:
    extra = [Source("alongside", (DATA / alongside).read_text())] if alongside else []
    try:
        return import_sources(fmt, [Source("in.txt", text), *extra])
    except ImportFailure as exc:
        assert exc.problems and all(p.path.startswith(("in.txt", "alongside", "imported design"))
                                    for p in exc.problems), exc.problems
        return exc


@pytest.mark.parametrize("fmt,rel,alongside", FIXTURES, ids=[r for _, r, _ in FIXTURES])
def test_mutated_fixtures_import_or_fail_cleanly(fmt, rel, alongside):
    rng = random.Random(rel)
    docs = list(yaml.safe_load_all((DATA / rel).read_text()))
    outcomes = [_outcome(fmt, "\n---\n".join(json.dumps(d) for d in _mutate(docs, rng)), alongside)
                for _ in range(PER_FIXTURE)]
    failures = [o for o in outcomes if isinstance(o, ImportFailure)]
    assert failures and len(failures) < len(outcomes), "the mutations reach both outcomes"


def test_mutated_libvirt_attributes_import_or_fail_cleanly():
    rng = random.Random("libvirt")
    root = ET.fromstring((DATA / "libvirt/vm1.xml").read_text())
    for _ in range(PER_FIXTURE):
        tree = copy.deepcopy(root)
        elements = [e for e in tree.iter() if e.attrib]
        for _ in range(rng.randint(1, 3)):
            e = rng.choice(elements)
            e.set(rng.choice(sorted(e.attrib)), str(rng.choice(VALUES)))
        _outcome("libvirt", ET.tostring(tree, encoding="unicode"))


@pytest.mark.parametrize("fmt,text,where", [
    ("docker", '[{"Name": "n", "Driver": "macvlan", "IPAM": {}, "Options": {"parent": ["eth0"]}}]',
     "in.txt: [0].Options.parent: must be a string, not a list"),
    ("docker", "networks: {lan: {driver: macvlan, driver_opts: [parent=eth0]}}\n",
     "in.txt: networks.lan.driver_opts: must be an object (mapping), not a list"),
    ("kubernetes", "kind: NetworkAttachmentDefinition\nmetadata: {name: n}\nspec: {config: {type: macvlan}}\n",
     "in.txt: document 1 (NAD n).spec.config: must be a string, not an object"),
    ("kubernetes", 'kind: NetworkAttachmentDefinition\nmetadata: {name: n}\nspec: {config: \'{"type": "macvlan", '
     '"mtu": "1500"}\'}\n', "in.txt: document 1 (NAD n).spec.config.mtu: must be a number, not a string"),
    ("containerlab", "topology: {nodes: {a: {exec: ip addr add 10.0.0.1/24 dev eth1}}}\n",
     "in.txt: topology.nodes.a.exec: must be a list, not a string"),
])
def test_a_value_of_the_wrong_type_names_the_field(fmt, text, where):
    with pytest.raises(ImportFailure) as exc:
        import_sources(fmt, [Source("in.txt", text)])
    assert str(exc.value.problems[0]) == where
