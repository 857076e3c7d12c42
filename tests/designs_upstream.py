"""Designs whose upstream filters MACs or isolates ports (issue "Reach further", part 3).

Host ``h`` has ``eth0`` (the platform under test, on ``sw1/p1``) with a bridge child ``a``, a
VEPA child ``v`` and a private child ``p`` (each in its own namespace), ``eth1`` on ``sw1/p2``
with a bridge child ``b``; stations ``gw`` and ``st`` sit on ``sw1/p8`` and ``sw1/p9``.
"""
from __future__ import annotations

from typing import Any

A, V, P, B, NIC, GW, ST = "h/ns:a/a", "h/ns:v/v", "h/ns:p/p", "h/ns:b/b", "h/eth0", "station:gw", "station:st"
MAC_A, MAC_V, MAC_P, MAC_B = "02:00:00:00:30:0a", "02:00:00:00:30:0b", "02:00:00:00:30:0c", "02:00:00:00:30:0d"


def filtered_host(*, platform: str | None = None, allowed: list[str] | None = None, hairpin: bool = False,
                  isolated: tuple[str, ...] = ()) -> dict[str, Any]:
    """``platform`` on eth0; ``allowed`` as p1's ``allowed_macs``; hairpin on p1; ``isolated`` port names."""
    eth0: dict[str, Any] = {"name": "eth0", "mac": "02:00:00:00:30:01", "uplink": {"switch": "sw1", "port": "p1"},
                            "addresses": ["10.62.0.2/24"]}
    if platform:
        eth0["platform"] = platform
    p1: dict[str, Any] = {"name": "p1", "hairpin": hairpin}
    if allowed is not None:
        p1["allowed_macs"] = allowed
    ports = [p1, {"name": "p2"}, {"name": "p8"}, {"name": "p9"}]
    for port in ports:
        if port["name"] in isolated:
            port["isolated"] = True

    def child(name: str, parent: str, mode: str, mac: str, ip: str) -> dict[str, Any]:
        return {"name": name, "parent": parent, "mode": mode, "namespace": name, "mac": mac, "addresses": [ip]}

    return {
        "name": f"upstream-{platform or 'none'}-{'allow' if allowed else 'plain'}-hp{int(hairpin)}",
        "hosts": [{
            "name": "h",
            "parents": [eth0, {"name": "eth1", "mac": "02:00:00:00:30:02", "uplink": {"switch": "sw1", "port": "p2"}}],
            "children": [child("a", "eth0", "bridge", MAC_A, "10.62.0.11/24"),
                         child("v", "eth0", "vepa", MAC_V, "10.62.0.12/24"),
                         child("p", "eth0", "private", MAC_P, "10.62.0.13/24"),
                         child("b", "eth1", "bridge", MAC_B, "10.62.0.14/24")],
        }],
        "switches": [{"name": "sw1", "ports": ports}],
        "stations": [{"name": "gw", "mac": "02:00:00:00:30:fe", "uplink": {"switch": "sw1", "port": "p8"},
                      "addresses": ["10.62.0.1/24"]},
                     {"name": "st", "mac": "02:00:00:00:30:fd", "uplink": {"switch": "sw1", "port": "p9"},
                      "addresses": ["10.62.0.3/24"]}],
    }
