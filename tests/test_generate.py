"""planner.lab.generate: seeded random designs and scale designs are deterministic and valid."""
from __future__ import annotations

import collections
import json

import pytest

from planner.core.model import design_from_dict
from planner.lab.generate import random_design
from planner.lab.shapes import scale_design

SEEDS = range(200)


def test_random_design_is_deterministic():
    for seed in (0, 1, 7, 123, 99999):
        assert json.dumps(random_design(seed), sort_keys=True) == json.dumps(random_design(seed), sort_keys=True)
    docs = {json.dumps(random_design(s), sort_keys=True) for s in range(20)}
    assert len(docs) == 20


@pytest.fixture(scope="module")
def designs():
    return {seed: (random_design(seed), design_from_dict(random_design(seed))) for seed in SEEDS}


def test_random_designs_are_valid(designs):
    for seed, (doc, design) in designs.items():
        assert doc["version"] == 1 and design.name == f"random-{seed}"
        assert design.interfaces


def test_random_designs_respect_kernel_constraints(designs):
    for seed, (doc, design) in designs.items():
        ifaces = design.interfaces
        children = [i for i in ifaces if i.is_child]
        assert 2 <= len(children) <= 6, seed
        # explicit MACs on every child and station
        for h in doc["hosts"]:
            assert all("mac" in c for c in h.get("children", ())), seed
        assert all("mac" in s for s in doc["stations"]), seed
        # unique MACs, except a passthru child, which carries its parent's
        macs = collections.Counter(i.mac for i in ifaces if not (i.is_child and i.mode == "passthru"))
        assert max(macs.values()) == 1, (seed, macs.most_common(2))
        for c in children:
            lower = design.iface(c.lower)
            if c.mode == "passthru":
                assert c.mac == lower.mac, seed
                assert design.children_of(c.lower) == [c], (seed, "passthru beside siblings")
            assert c.mtu <= lower.mtu, seed
            if c.mode == "source":
                assert c.source_macs, seed
                known = {i.mac for i in ifaces}
                assert set(c.source_macs) <= known and c.mac not in c.source_macs, seed
        # unique addresses
        addrs = collections.Counter(a.ip for i in ifaces for a in i.addresses)
        assert not addrs or max(addrs.values()) == 1, seed
        # static neighbours resolve
        for i in ifaces:
            for ip, mac in design.static_neighbors(i):
                assert ip and mac, seed


def test_random_designs_cover_the_feature_space(designs):
    seen = collections.Counter()
    for _doc, design in designs.values():
        seen[f"hosts={len(design.hosts)}"] += 1
        seen[f"switches={len(design.switches)}"] += 1
        seen[f"stations={len(design.stations)}"] += 1
        subnets = {str(a.network) for i in design.interfaces for a in i.addresses}
        seen["second-subnet"] += "10.43.0.0/24" in subnets
        for i in design.interfaces:
            if i.is_child:
                seen[f"mode:{i.mode}"] += 1
                seen[f"type:{i.kind}"] += 1
                seen["host-ns-child" if not i.namespace else "ns-child"] += 1
                seen["stacked"] += i.declared_lower != i.lower
                seen["nopromisc"] += i.nopromisc
            if i.kind == "parent":
                seen["parent-no-uplink"] += i.link is None
                seen["parent-to-bridge"] += bool(i.link and i.link.startswith("bridge:"))
                seen["parent-address"] += bool(i.addresses)
                seen["parent-mtu-9000"] += i.mtu == 9000
            if i.kind == "bridge":
                seen["host-bridge"] += 1
            if i.kind == "bridge-port":
                seen["bridge-port-hairpin"] += i.hairpin
            seen[f"{i.kind}-down"] += i.state == "down"
            seen["all-peers"] += i.neighbors == "all-peers"
            seen["explicit-neighbour"] += bool(i.neighbors) and i.neighbors != "all-peers"
        for s in design.switches:
            seen["hairpin-port"] += sum(p.hairpin for p in s.ports)
    for key in ("hosts=1", "hosts=2", "switches=1", "switches=2", "stations=0", "stations=1", "stations=2",
                "second-subnet", "mode:bridge", "mode:vepa", "mode:private", "mode:source", "mode:passthru",
                "type:macvlan", "type:macvtap", "host-ns-child", "ns-child", "stacked", "nopromisc",
                "parent-no-uplink", "parent-to-bridge", "parent-address", "parent-mtu-9000", "host-bridge",
                "bridge-port-hairpin", "parent-down", "macvlan-down", "all-peers", "explicit-neighbour",
                "hairpin-port"):
        assert seen[key] > 0, f"200 seeds never produce {key}: {dict(seen)}"


def test_scale_design_sizes():
    doc = scale_design()
    host = doc["hosts"][0]
    assert len(doc["hosts"]) == 1
    assert len(host["parents"]) == 100 and len(host["children"]) == 10000
    assert len(doc["stations"]) == 2
    sw = doc["switches"][0]
    assert sw["name"] == "sw1"
    parent_ports = {p["uplink"]["port"] for p in host["parents"]}
    assert sum(p["hairpin"] for p in sw["ports"] if p["name"] in parent_ports) == 50
    per_parent = collections.Counter(c["parent"] for c in host["children"])
    assert set(per_parent.values()) == {100}
    modes = collections.Counter(c["mode"] for c in host["children"])
    assert set(modes) == {"bridge", "vepa", "private"} and max(modes.values()) - min(modes.values()) <= 1
    assert len({c["namespace"] for c in host["children"]}) == 10000
    design = design_from_dict(doc)
    assert len(design.endpoints()) == 10002
    assert len({i.address.ip for i in design.endpoints()}) == 10002
    assert len({i.mac for i in design.interfaces}) == len(design.interfaces)


def test_scale_design_small_and_seeded():
    a = scale_design(children=30, parents=4, modes=("bridge", "source"), seed=1)
    assert a == scale_design(children=30, parents=4, modes=("bridge", "source"), seed=1)
    design = design_from_dict(a)
    assert len([i for i in design.interfaces if i.is_child]) == 30
    assert {i.mode for i in design.interfaces if i.is_child} == {"bridge", "source"}
    big = scale_design(children=70000, parents=10)
    design_from_dict({**big, "hosts": [{**big["hosts"][0], "children": big["hosts"][0]["children"][64990:65010]}]})
    with pytest.raises(ValueError):
        scale_design(children=10, parents=2, modes=("passthru",))
