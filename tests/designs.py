"""Designs and namespace set-ups that several test modules share (fixtures, not part of the wheel)."""
from __future__ import annotations

from planner.lab.scratch import Scratch

__all__ = ["KITCHEN", "host_netns"]


#: a design with every feature the applier has to get right: namespaces, passthru with nopromisc, a source-mode
#: macvtap with its list, a macvlan declared on a macvlan, a veth parent cabled to a bridge port,
#: an enslaved NIC with hairpin, a veth port with a peer in a namespace, neighbours and routes
KITCHEN = {
    "version": 1, "name": "apply-kitchen",
    "hosts": [{
        "name": "host1",
        "parents": [
            {"name": "eth0", "mac": "52:54:00:00:00:10", "uplink": {"switch": "sw1", "port": "p1"},
             "addresses": ["10.20.0.2/24"], "neighbors": [{"peer": "station:gw"}],
             "routes": [{"to": "10.99.0.0/16", "via": "10.20.0.1"}]},
            {"name": "eth1", "mtu": 9000},
            {"name": "eth2"},
            {"name": "vparent", "kind": "veth", "uplink": {"bridge": "br0", "port": "vp0"}},
        ],
        "children": [
            {"name": "web0", "parent": "eth0", "mode": "vepa", "namespace": "web", "addresses": ["10.20.0.11/24"],
             "neighbors": [{"peer": "station:gw"}], "routes": [{"to": "default", "via": "10.20.0.1"}]},
            {"name": "pt0", "parent": "eth1", "mode": "passthru", "nopromisc": True, "namespace": "vm",
             "addresses": ["10.30.0.5/24"]},
            {"name": "src0", "type": "macvtap", "parent": "eth0", "mode": "source",
             "source_macs": ["02:00:00:00:aa:01", "02:00:00:00:aa:02"]},
            {"name": "outer0", "parent": "eth0", "mode": "bridge", "mtu": 1400},
            {"name": "inner0", "parent": "outer0", "mode": "bridge", "namespace": "nested",
             "addresses": ["10.20.0.31/24"]},
            {"name": "priv0", "parent": "vparent", "mode": "private", "namespace": "app",
             "addresses": ["10.40.0.11/24"], "neighbors": [{"peer": "host1/ns:app2/priv1"}]},
            {"name": "priv1", "parent": "vparent", "mode": "private", "namespace": "app2",
             "addresses": ["10.40.0.12/24"], "neighbors": [{"peer": "host1/ns:app/priv0"}]},
        ],
        "bridges": [{
            "name": "br0", "addresses": ["10.40.0.1/24"],
            "ports": [
                {"name": "vp0", "hairpin": True},
                {"name": "vp1", "peer": {"name": "eth0", "namespace": "ctr", "addresses": ["10.40.0.20/24"],
                                         "routes": [{"to": "10.20.0.0/24", "via": "10.40.0.1"}]}},
                {"name": "eth2", "enslave": True, "hairpin": True},
            ],
        }],
    }],
    "switches": [{"name": "sw1", "ports": [{"name": "p1", "hairpin": True}, {"name": "p9"}]}],
    "stations": [{"name": "gw", "uplink": {"switch": "sw1", "port": "p9"}, "addresses": ["10.20.0.1/24"]}],
}


def host_netns(s: Scratch) -> str:
    """A netns standing for :data:`KITCHEN`'s host1: its NICs eth0, eth1 (MTU 9000) and eth2 are veths
    whose other ends are up in a '<prefix>-wire' netns (so they have carrier). The host netns is
    '<prefix>-h', so the design's namespaces ('<prefix>-h-<ns>') never include the wire."""
    n = s.add("h")
    wire = s.add("wire")
    for k, e in enumerate(("eth0", "eth1", "eth2")):
        s.ip(n, "link", "add", e, "address", f"52:54:00:00:01:{k:02x}", "type", "veth", "peer", "name",
             f"w{e}", "address", f"52:54:00:00:02:{k:02x}", "netns", wire)
        s.ip(wire, "link", "set", f"w{e}", "up")
    s.ip(n, "link", "set", "eth0", "address", "52:54:00:00:00:10")
    s.ip(n, "link", "set", "eth1", "mtu", "9000")
    return n
