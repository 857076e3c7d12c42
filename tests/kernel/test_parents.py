"""What the kernel accepts as a parent, measured: a Linux bridge (its children reach peers through the
bridge), a bridge's veth port (refused: EBUSY), and passthru beside other children (only the
refused child fails, in creation order)."""
from __future__ import annotations

import pytest

from planner.core.model import design_from_dict
from planner.core.reachability import predict
from planner.core.rules import check
from planner.lab import Lab, LabError, measure

pytestmark = [pytest.mark.kernel, pytest.mark.usefixtures("lab_prereqs")]


def bridge_parent(hairpin: bool = False) -> dict:
    """br0 enslaves eth0 (cabled to the switch) and has a container port; macvlans hang off br0."""
    return {"name": "bridge-parent", "hosts": [{
        "name": "h",
        "parents": [{"name": "eth0", "mac": "02:00:00:00:30:01", "uplink": {"switch": "sw1", "port": "p1"}}],
        "bridges": [{"name": "br0", "mac": "02:00:00:00:30:02", "addresses": ["10.62.0.2/24"], "ports": [
            {"name": "eth0", "enslave": True, "hairpin": hairpin},
            {"name": "vb1", "peer": {"name": "eth0", "namespace": "c1", "mac": "02:00:00:00:30:11",
                                     "addresses": ["10.62.0.11/24"]}}]}],
        "children": [
            {"name": "m1", "parent": "br0", "mode": "bridge", "namespace": "m1", "mac": "02:00:00:00:30:21",
             "addresses": ["10.62.0.21/24"]},
            {"name": "m2", "parent": "br0", "mode": "bridge", "namespace": "m2", "mac": "02:00:00:00:30:22",
             "addresses": ["10.62.0.22/24"]},
            {"name": "m3", "parent": "br0", "mode": "vepa", "namespace": "m3", "mac": "02:00:00:00:30:23",
             "addresses": ["10.62.0.23/24"]}]}],
        "switches": [{"name": "sw1", "ports": [{"name": "p1"}, {"name": "p9"}]}],
        "stations": [{"name": "gw", "mac": "02:00:00:00:30:fe", "uplink": {"switch": "sw1", "port": "p9"},
                      "addresses": ["10.62.0.1/24"]}]}


@pytest.mark.parametrize("hairpin", [False, True])
def test_a_linux_bridge_as_a_parent_agrees_with_the_kernel(hairpin):
    design = design_from_dict(bridge_parent(hairpin))
    assert not [f for f in check(design) if f.severity == "error"]
    pred = predict(design)
    got = measure(design)
    wrong = [(a, b, got[(a, b)], pred.verdict(a, b).reason) for (a, b) in got if got[(a, b)] != pred.reachable(a, b)]
    assert not wrong, wrong
    assert got[("h/ns:m1/m1", "h/ns:m2/m2")], "bridge-mode siblings meet directly"
    if not hairpin:  # with hairpin on the uplink port the switch learns the station behind the host
        assert got[("station:gw", "h/ns:m1/m1")] and got[("h/ns:m1/m1", "station:gw")], "children reach peers"


def test_a_child_on_a_bridge_veth_port_is_refused_with_ebusy():
    doc = bridge_parent()
    doc["hosts"][0]["children"] = [{"name": "x", "parent": "vb1", "mode": "bridge", "namespace": "x",
                                    "addresses": ["10.62.0.30/24"]}]
    design = design_from_dict(doc)
    assert "MV104" in {f.code for f in check(design) if f.severity == "error"}
    with pytest.raises(LabError) as exc:
        with Lab(design):
            pass
    assert "Device or resource busy" in f"{exc.value} {exc.value.stderr}"


def _passthru_doc(modes: list[str]) -> dict:
    kids = [{"name": f"k{n}", "parent": "eth0", "mode": m, "namespace": f"k{n}"} for n, m in enumerate(modes)]
    return {"name": "passthru-order", "hosts": [{"name": "h", "parents": [{"name": "eth0"}], "children": kids}]}


def test_only_the_child_the_kernel_refuses_is_named_and_it_fails_first():
    """a, b (bridge), p (passthru), d (vepa): the plan fails at p - a and b were created fine - and MV101
    names p alone; without p, the same children build."""
    design = design_from_dict(_passthru_doc(["bridge", "bridge", "passthru", "vepa"]))
    assert [f.subjects[0] for f in check(design) if f.code == "MV101"] == ["h/ns:k2/k2"]
    with pytest.raises(LabError) as exc:
        with Lab(design):
            pass
    assert "mode passthru" in str(exc.value.command) and "Invalid argument" in f"{exc.value} {exc.value.stderr}"
    with Lab(design_from_dict(_passthru_doc(["bridge", "bridge", "vepa"]))):
        pass
