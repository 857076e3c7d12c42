"""Helpers for kernel tests of the applier (and for careful users trying things out).

* :func:`scratch_prefix` - a netns name prefix unique to this process and call;
* :class:`Scratch` - namespaces created under that prefix and always deleted (context manager);
* :func:`full_dump` - an independent dump, through ``ip -json``, of every link, IPv4 address,
  route and neighbour of some namespaces, with ifindex-like noise removed (ifindexes, nsids,
  timers, bridge port numbers, carrier-dependent flags), for before/after comparisons;
* :func:`kernel_prereqs` - what is missing to run kernel tests here.
"""
from __future__ import annotations

import itertools
import json
import os
import subprocess
from collections.abc import Iterable

from .target import list_netns

__all__ = ["KITCHEN", "Scratch", "full_dump", "host_netns", "kernel_prereqs", "netns_with_prefix", "scratch_prefix"]

_seq = itertools.count()

#: keys dropped everywhere: identity noise (indexes, nsids), timers and counters, link-state
#: values that depend on carrier timing, and bridge port numbers that change when a port is re-added
_NOISE = {
    "ifindex", "link_index", "link_netnsid", "operstate", "linkmode", "qdisc", "hold_timer", "message_age_timer",
    "forward_delay_timer", "hello_timer", "tcn_timer", "topology_change_timer", "gc_timer", "id", "no",
    "designated_port", "designated_cost", "bridge_id", "root_id", "root_port", "root_path_cost", "state",
    "topology_change", "topology_change_detected", "stats", "stats64", "valid_life_time", "preferred_life_time",
    "altnames", "parentbus", "parentdev", "vf", "vfinfo_list", "mcast_router_timer", "mcast_querier_state_ipv4",
    "mcast_querier_state_ipv6", "designated_root", "macaddr_count",
}
#: flags that follow carrier, not configuration
_NOISE_FLAGS = {"NO-CARRIER", "LOWER_UP", "M-DOWN", "DORMANT", "linkdown", "dead"}


def scratch_prefix(tag: str = "mvt") -> str:
    """``<tag><pid>x<n>``: no existing netns starts with it."""
    existing = list_netns()
    while True:
        p = f"{tag}{os.getpid() % 100000}x{next(_seq)}"
        if not any(n.startswith(p) for n in existing):
            return p


def netns_with_prefix(prefix: str) -> list[str]:
    return [n for n in list_netns() if n == prefix or n.startswith(prefix + "-")]


class Scratch:
    """Throwaway namespaces named ``<prefix>`` and ``<prefix>-*``; every one of them is deleted
    on exit, also those an apply under test created (``<prefix>-<design namespace>``)."""

    def __init__(self, tag: str = "mvt"):
        self.prefix = scratch_prefix(tag)

    def add(self, suffix: str = "") -> str:
        name = self.prefix + (f"-{suffix}" if suffix else "")
        subprocess.run(["ip", "netns", "add", name], check=True, capture_output=True)
        return name

    def ip(self, netns: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(["ip", "-n", netns, *args], check=check, capture_output=True, text=True)

    def cleanup(self) -> None:
        names = netns_with_prefix(self.prefix)
        if names:
            subprocess.run(["ip", "-force", "-batch", "-"], input="".join(f"netns del {n}\n" for n in names),
                           capture_output=True, text=True, check=False)
        for n in netns_with_prefix(self.prefix):
            subprocess.run(["ip", "netns", "del", n], capture_output=True, check=False)

    def __enter__(self) -> Scratch:
        return self

    def __exit__(self, *exc) -> None:
        self.cleanup()


def _clean(obj):
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            if k in _NOISE or k.endswith("_timer"):
                continue
            if k == "flags" and isinstance(v, list):
                v = sorted(f for f in v if f not in _NOISE_FLAGS)
            out[k] = _clean(v)
        return out
    if isinstance(obj, list):
        return [_clean(x) for x in obj]
    return obj


def _ns_json(netns: str) -> list[list]:
    """links, addresses, routes (all tables), neighbours of one netns: one ``ip -json -batch``."""
    cp = subprocess.run(["ip", "-n", netns, "-j", "-d", "-batch", "-"], capture_output=True, text=True, check=True,
                        input="link show\naddr show\nroute show table all\nneigh show\n")
    dec, text, pos, out = json.JSONDecoder(), cp.stdout, 0, []
    while len(out) < 4:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            out.append([])
            continue
        obj, pos = dec.raw_decode(text, pos)
        out.append(obj)
    return out


def _dump_one(ns: str) -> dict:
    links_j, addrs_j, routes_j, neigh_j = _ns_json(ns)
    links = sorted((_clean(x) for x in links_j), key=lambda x: x.get("ifname", ""))
    addrs = []
    for x in addrs_j:
        for a in x.get("addr_info", []):
            if a.get("family") == "inet":
                addrs.append((x["ifname"], a.get("local"), a.get("prefixlen"), a.get("scope"), a.get("label")))
    routes = sorted(json.dumps(_clean(r), sort_keys=True) for r in routes_j if ":" not in str(r.get("dst", "")))
    neigh = sorted(json.dumps(_clean(n), sort_keys=True) for n in neigh_j
                   if "PERMANENT" in n.get("state", []) and ":" not in n.get("dst", ""))
    return {"links": links, "addresses": sorted(addrs, key=repr), "routes": routes, "neighbours": neigh}


def full_dump(namespaces: Iterable[str], strip_prefix: str = "") -> dict:
    """``{netns: {links, addresses, routes, neighbours}}`` through ``ip -json``, noise removed,
    sorted (two dumps compare with ``==``). IPv4 addresses, routes of every table, permanent
    neighbours. ``strip_prefix`` is removed from the netns names used as keys."""
    from concurrent.futures import ThreadPoolExecutor

    names = sorted(namespaces)
    with ThreadPoolExecutor(max_workers=8) as pool:
        dumps = list(pool.map(_dump_one, names))
    return {(n[len(strip_prefix):] if strip_prefix and n.startswith(strip_prefix) else n): d
            for n, d in zip(names, dumps)}


def kernel_prereqs() -> list[str]:
    """What is missing for kernel tests (root, namespaces, veth/macvlan/macvtap/bridge, ping)."""
    from ..lab import prerequisites

    return prerequisites()


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
