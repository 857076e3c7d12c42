"""A routed gateway on the LAN (issue "Reach further", part 2).

Host ``h`` has ``eth0`` (10.63.0.2/24) on ``sw1/p1`` with bridge children ``c1``, ``c2`` in their
own namespaces (10.63.0.11, .12, default route via the gateway). Station ``gw`` on ``sw1/p8``
holds 10.63.0.1/24 and 198.51.100.1/24 on one interface and forwards (a router on a stick);
station ``net`` (198.51.100.50/24, default via 198.51.100.1) on ``sw1/p9`` stands for the internet.
"""
from __future__ import annotations

from typing import Any

C1, C2, NIC, GW, NET = "h/ns:c1/c1", "h/ns:c2/c2", "h/eth0", "station:gw", "station:net"


def routed_lan(*, forwarding: bool = True, container_route: bool = True, net_route: bool = True,
               host_route_via_gw: bool = False) -> dict[str, Any]:
    def child(name: str, ip: str, mac: str) -> dict[str, Any]:
        c: dict[str, Any] = {"name": name, "parent": "eth0", "mode": "bridge", "namespace": name, "mac": mac,
                             "addresses": [ip]}
        if container_route:
            c["routes"] = [{"to": "default", "via": "10.63.0.1"}]
        return c

    eth0: dict[str, Any] = {"name": "eth0", "mac": "02:00:00:00:40:01", "uplink": {"switch": "sw1", "port": "p1"},
                            "addresses": ["10.63.0.2/24"]}
    if host_route_via_gw:
        eth0["routes"] = [{"to": "198.51.100.0/24", "via": "10.63.0.1"}]
    net: dict[str, Any] = {"name": "net", "mac": "02:00:00:00:40:fd", "uplink": {"switch": "sw1", "port": "p9"},
                           "addresses": ["198.51.100.50/24"]}
    if net_route:
        net["routes"] = [{"to": "default", "via": "198.51.100.1"}]
    return {
        "name": f"routed-fw{int(forwarding)}-cr{int(container_route)}-nr{int(net_route)}",
        "hosts": [{"name": "h", "parents": [eth0],
                   "children": [child("c1", "10.63.0.11/24", "02:00:00:00:40:11"),
                                child("c2", "10.63.0.12/24", "02:00:00:00:40:12")]}],
        "switches": [{"name": "sw1", "ports": [{"name": "p1"}, {"name": "p8"}, {"name": "p9"}]}],
        "stations": [{"name": "gw", "mac": "02:00:00:00:40:fe", "uplink": {"switch": "sw1", "port": "p8"},
                      "addresses": ["10.63.0.1/24", "198.51.100.1/24"], "forwarding": forwarding},
                     net],
    }


def looped_routers() -> dict[str, Any]:
    """A second gateway gw2 (10.63.0.254): c1 routes the far subnet via gw, gw sends the internet
    station's address to gw2, gw2 back to gw - a routing loop."""
    doc = routed_lan()
    doc["hosts"][0]["children"][0]["routes"] = [{"to": "198.51.100.0/24", "via": "10.63.0.1"}]
    doc["stations"][0]["routes"] = [{"to": "198.51.100.50/32", "via": "10.63.0.254"}]
    doc["stations"].append({"name": "gw2", "mac": "02:00:00:00:40:fc", "uplink": {"switch": "sw1", "port": "p7"},
                            "addresses": ["10.63.0.254/24"], "forwarding": True,
                            "routes": [{"to": "198.51.100.50/32", "via": "10.63.0.1"}]})
    doc["switches"][0]["ports"].append({"name": "p7"})
    doc["name"] = "routed-loop"
    return doc


def host_router(*, where: str, forwarding: bool = True) -> dict[str, Any]:
    """A host namespace that routes (part 2: "a station or a host namespace"). ``where="ns"``: a
    router namespace ``rt`` with two bridge children (10.64.1.1 and 10.64.2.1) on ``eth0``, a
    container ``a`` behind it and a station ``srv`` in the far subnet. ``where="root"``: the host's
    own namespace routes between ``eth0`` (sw1, station ``st``) and ``eth1`` (sw2, station ``srv``).
    Every address also has its IPv6 mirror (fd00::/96), so both families are judged."""
    from planner.lab.generate import mirror6

    def l3(ip: str, gw: str | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {"addresses": [ip, mirror6(ip)]}
        if gw:
            out["routes"] = [{"to": "default", "via": gw}, {"to": "::/0", "via": mirror6(gw)}]
        return out

    srv = {"name": "srv", "mac": "02:00:00:00:41:fd", "uplink": {"switch": "sw1", "port": "p2"},
           **l3("10.64.2.20/24", "10.64.2.1")}
    if where == "ns":
        host = {"name": "h", "parents": [{"name": "eth0", "mac": "02:00:00:00:41:01",
                                          "uplink": {"switch": "sw1", "port": "p1"}}],
                "children": [{"name": "lan", "parent": "eth0", "mode": "bridge", "namespace": "rt",
                              "mac": "02:00:00:00:41:11", "forwarding": forwarding, **l3("10.64.1.1/24")},
                             {"name": "wan", "parent": "eth0", "mode": "bridge", "namespace": "rt",
                              "mac": "02:00:00:00:41:12", **l3("10.64.2.1/24")},
                             {"name": "a", "parent": "eth0", "mode": "bridge", "namespace": "a",
                              "mac": "02:00:00:00:41:13", **l3("10.64.1.10/24", "10.64.1.1")}]}
        return {"name": f"ns-router-fw{int(forwarding)}", "hosts": [host],
                "switches": [{"name": "sw1", "ports": [{"name": "p1"}, {"name": "p2"}]}], "stations": [srv]}
    host = {"name": "h", "parents": [
        {"name": "eth0", "mac": "02:00:00:00:41:01", "uplink": {"switch": "sw1", "port": "p1"},
         "forwarding": forwarding, **l3("10.64.1.1/24")},
        {"name": "eth1", "mac": "02:00:00:00:41:02", "uplink": {"switch": "sw2", "port": "p1"},
         **l3("10.64.2.1/24")}]}
    srv["uplink"] = {"switch": "sw2", "port": "p2"}
    st = {"name": "st", "mac": "02:00:00:00:41:fc", "uplink": {"switch": "sw1", "port": "p2"},
          **l3("10.64.1.10/24", "10.64.1.1")}
    return {"name": f"root-router-fw{int(forwarding)}", "hosts": [host],
            "switches": [{"name": "sw1", "ports": [{"name": "p1"}, {"name": "p2"}]},
                         {"name": "sw2", "ports": [{"name": "p1"}, {"name": "p2"}]}],
            "stations": [st, srv]}
