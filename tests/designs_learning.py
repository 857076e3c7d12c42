"""Designs where bridges' learning decides the verdict (issue: "Switches and Linux bridges learn").

A host bridge ``br0`` enslaves the NIC ``eth0`` that is cabled to switch port ``sw1/p1``; two
containers hang off ``br0`` through veth ports; a station sits on ``sw1/p9``. Where hairpin is on
decides who mislearns what.
"""
from __future__ import annotations

C1, C2, GW = "h/ns:c1/eth0", "h/ns:c2/eth0", "station:gw"


def bridged_host(*, bridge_hairpin: bool, switch_hairpin: bool) -> dict:
    return {
        "name": f"learning-br{int(bridge_hairpin)}-sw{int(switch_hairpin)}",
        "hosts": [{
            "name": "h",
            "parents": [{"name": "eth0", "mac": "02:00:00:00:10:01", "uplink": {"switch": "sw1", "port": "p1"}}],
            "bridges": [{"name": "br0", "mac": "02:00:00:00:10:02", "ports": [
                {"name": "eth0", "enslave": True, "hairpin": bridge_hairpin},
                {"name": "vb1", "peer": {"name": "eth0", "namespace": "c1", "mac": "02:00:00:00:10:11",
                                         "addresses": ["10.60.0.11/24"]}},
                {"name": "vb2", "peer": {"name": "eth0", "namespace": "c2", "mac": "02:00:00:00:10:12",
                                         "addresses": ["10.60.0.12/24"]}},
            ]}],
        }],
        "switches": [{"name": "sw1", "ports": [{"name": "p1", "hairpin": switch_hairpin}, {"name": "p9"}]}],
        "stations": [{"name": "gw", "mac": "02:00:00:00:10:fe", "uplink": {"switch": "sw1", "port": "p9"},
                      "addresses": ["10.60.0.1/24"]}],
    }


X, Y, Z, ST = "h/ns:x/x", "h/ns:y/y", "h/ns:z/z", "station:st"


def shared_mac() -> dict:
    """x (on eth0) and y (on eth1) have one MAC; z is x's sibling; a station on the switch."""
    mac = "02:00:00:00:20:aa"
    return {
        "name": "shared-mac",
        "hosts": [{
            "name": "h",
            "parents": [{"name": "eth0", "mac": "02:00:00:00:20:01", "uplink": {"switch": "sw1", "port": "p1"}},
                        {"name": "eth1", "mac": "02:00:00:00:20:02", "uplink": {"switch": "sw1", "port": "p2"}}],
            "children": [
                {"name": "x", "parent": "eth0", "mode": "bridge", "namespace": "x", "mac": mac,
                 "addresses": ["10.61.0.11/24"]},
                {"name": "y", "parent": "eth1", "mode": "bridge", "namespace": "y", "mac": mac,
                 "addresses": ["10.61.0.12/24"]},
                {"name": "z", "parent": "eth0", "mode": "bridge", "namespace": "z", "mac": "02:00:00:00:20:0c",
                 "addresses": ["10.61.0.13/24"]},
            ],
        }],
        "switches": [{"name": "sw1", "ports": [{"name": "p1"}, {"name": "p2"}, {"name": "p9"}]}],
        "stations": [{"name": "st", "mac": "02:00:00:00:20:fe", "uplink": {"switch": "sw1", "port": "p9"},
                      "addresses": ["10.61.0.1/24"]}],
    }


def two_mirrors() -> dict:
    """Two hosts whose bridges both reflect back into one switch: the switch floods each reflection
    to the other mirror - a broadcast storm without any cable loop."""
    doc = bridged_host(bridge_hairpin=True, switch_hairpin=False)
    h2 = {"name": "h2", "parents": [{"name": "eth0", "mac": "02:00:00:00:11:01", "uplink": {"switch": "sw1", "port": "p2"}}],
          "bridges": [{"name": "br0", "mac": "02:00:00:00:11:02", "ports": [
              {"name": "eth0", "enslave": True, "hairpin": True},
              {"name": "vb1", "peer": {"name": "eth0", "namespace": "c1", "mac": "02:00:00:00:11:11",
                                       "addresses": ["10.60.0.21/24"]}}]}]}
    doc["hosts"].append(h2)
    doc["switches"][0]["ports"].insert(1, {"name": "p2"})
    doc["name"] = "two-mirrors"
    return doc


M = "h/ns:m/m"


def reflected_bridge_parent(*, switch_hairpin: bool = True) -> dict:
    """The host bridge is also a macvlan parent: a bridge-mode child ``m`` on ``br0``, a container on
    ``vb1``, the switch port facing ``br0``'s uplink reflecting (or not). The container's ARP request
    comes back from the switch and teaches ``br0`` the container is behind ``eth0``; whether ``m``'s
    answer leaves before or after that is a race between the macvlan broadcast worker and the backlog."""
    doc = bridged_host(bridge_hairpin=False, switch_hairpin=switch_hairpin)
    doc["name"] = f"reflected-bridge-parent-sw{int(switch_hairpin)}"
    doc["hosts"][0]["children"] = [{"name": "m", "parent": "br0", "mode": "bridge", "namespace": "m",
                                    "mac": "02:00:00:00:10:21", "addresses": ["10.60.0.21/24"]}]
    return doc
