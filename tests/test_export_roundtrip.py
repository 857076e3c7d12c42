"""import(export(d)) keeps every object and every prediction, for each container/VM format, on
designs the format can express (anything else is a warning of the exporter, tested elsewhere)."""
from __future__ import annotations

import pytest
from test_exporters import VEPA

from planner.core.model import design_from_dict, design_to_dict, load_design
from planner.core.reachability import predict
from planner.exporters import export
from planner.importers import Source, import_sources

STATION = {"name": "gw", "uplink": {"switch": "sw", "port": "p9"}, "mac": "02:00:00:00:00:01",
           "addresses": ["10.0.0.1/24"]}
SWITCH = {"name": "sw", "ports": [{"name": "p1", "hairpin": True}, {"name": "p2"}, {"name": "p9"}]}

DOCKER = {"name": "docker-rt", "hosts": [{"name": "h1", "parents": [
    {"name": "eth0", "uplink": {"switch": "sw", "port": "p1"}},
    {"name": "eth1", "uplink": {"switch": "sw", "port": "p2"}}],
    "children": [
        {"name": "eth0", "parent": "eth0", "mode": "vepa", "namespace": "web", "addresses": ["10.0.0.11/24"],
         "routes": [{"to": "default", "via": "10.0.0.1"}]},
        {"name": "eth0", "parent": "eth0", "mode": "vepa", "namespace": "db", "mac": "02:42:0a:00:00:0c",
         "addresses": ["10.0.0.12/24"], "routes": [{"to": "default", "via": "10.0.0.1"}]},
        {"name": "eth0", "parent": "eth1", "mode": "private", "namespace": "cache", "addresses": ["10.1.0.13/24"],
         "routes": [{"to": "default", "via": "10.1.0.1"}]}]}],
    # one Docker daemon refuses two networks with overlapping subnets: eth1's children have their own
    "switches": [{"name": "sw", "ports": [*SWITCH["ports"], {"name": "p8"}]}],
    "stations": [STATION, {"name": "gw1", "uplink": {"switch": "sw", "port": "p8"}, "mac": "02:00:00:00:00:02",
                           "addresses": ["10.1.0.1/24"]}]}

MULTUS = {"name": "multus-rt", "hosts": [
    {"name": "node-a", "parents": [{"name": "eth0", "uplink": {"switch": "sw", "port": "p1"}}],
     "children": [{"name": "net1", "parent": "eth0", "mode": "vepa", "namespace": "web", "addresses": ["10.0.0.11/24"],
                   "routes": [{"to": "default", "via": "10.0.0.1"}]},
                  {"name": "net1", "parent": "eth0", "mode": "bridge", "mtu": 1400, "namespace": "db",
                   "addresses": ["10.0.0.12/24"]},
                  {"name": "stor", "parent": "eth0", "mode": "bridge", "mtu": 1400, "namespace": "db",
                   "addresses": ["10.7.0.12/24"]}]},
    {"name": "node-b", "parents": [{"name": "eth0", "uplink": {"switch": "sw", "port": "p2"}}],
     "children": [{"name": "net1", "parent": "eth0", "mode": "vepa", "namespace": "api", "addresses": ["10.0.0.21/24"],
                   "routes": [{"to": "default", "via": "10.0.0.1"}]}]}],
    "switches": [SWITCH], "stations": [STATION]}

LIBVIRT = {"name": "libvirt-rt", "hosts": [{"name": "hv1", "parents": [
    {"name": "eth1", "uplink": {"switch": "sw", "port": "p1"}},
    {"name": "eth2", "uplink": {"switch": "sw", "port": "p2"}}],
    "children": [
        {"name": "vm0tap", "type": "macvtap", "parent": "eth1", "mode": "passthru", "namespace": "vm0",
         "addresses": ["10.0.0.10/24"], "routes": [{"to": "default", "via": "10.0.0.1"}]},
        {"name": "vm1-lan", "type": "macvtap", "parent": "eth2", "mode": "bridge", "namespace": "vm1", "mtu": 1400,
         "addresses": ["10.0.0.21/24"], "neighbors": [{"peer": "station:gw"}]},
        {"name": "vm1-bk", "type": "macvtap", "parent": "eth2", "mode": "bridge", "namespace": "vm1",
         "state": "down", "addresses": ["10.9.0.21/24"]}]}],
    "switches": [SWITCH], "stations": [STATION]}

CLAB = {"name": "clab-rt", "hosts": [{
    "name": "h1", "parents": [{"name": "eth0", "uplink": {"switch": "sw", "port": "p1"}}],
    "children": [
        {"name": "lan0", "parent": "eth0", "mode": "vepa", "namespace": "web", "addresses": ["10.0.0.11/24"],
         "routes": [{"to": "default", "via": "10.0.0.1"}]},
        {"name": "lan0", "parent": "eth0", "mode": "private", "namespace": "db", "mtu": 1400,
         "addresses": ["10.0.0.12/24"], "neighbors": [{"address": "10.0.0.1", "mac": "02:00:00:00:00:01"}]},
        {"name": "lan1", "parent": "eth0", "mode": "private", "namespace": "db", "state": "down",
         "addresses": ["10.8.0.12/24"]}],
    "bridges": [{"name": "br0", "ports": [{"name": "vp1", "peer": {"name": "eth1", "namespace": "web",
                                                                 "addresses": ["10.5.0.2/24"]}},
                                         {"name": "vp2", "peer": {"name": "eth1", "namespace": "db",
                                                                 "addresses": ["10.5.0.3/24"]}}]}]}],
    "switches": [SWITCH], "stations": [STATION]}

#: (design, export format, import format, which exported files the import reads)
CASES = {
    "docker-compose": (DOCKER, "docker", "docker", lambda n: n.endswith(".compose.yaml")),
    "multus": (MULTUS, "multus", "kubernetes", lambda n: True),
    "multus-vepa-hairpin": (VEPA, "multus", "kubernetes", lambda n: True),
    "libvirt": (LIBVIRT, "libvirt", "libvirt", lambda n: n.endswith(".domain.xml")),
    "containerlab": (CLAB, "containerlab", "containerlab", lambda n: True),
    "containerlab-vepa-hairpin": (VEPA, "containerlab", "containerlab", lambda n: True),
}


def _design(d):
    return load_design(d) if not isinstance(d, dict) else design_from_dict(d)


def _canonical(design) -> dict:
    doc = design_to_dict(design)
    doc.pop("description", None)
    doc.pop("layout", None)
    return doc


@pytest.mark.parametrize("case", CASES)
def test_import_of_export_keeps_every_object_and_prediction(case):
    raw, efmt, ifmt, pick = CASES[case]
    design = _design(raw)
    res = export(design, efmt)
    assert res.warnings == [], "the fixture is one the format can express"
    back = import_sources(ifmt, [Source(n, t) for n, t in res.files.items() if pick(n)])
    assert [w for w in back.warnings] == []
    again = design_from_dict(back.document)
    assert _canonical(again) == _canonical(design)
    assert predict(again).to_dict() == predict(design).to_dict()
    # and once more: the format is a fixed point
    assert export(again, efmt).files == res.files
