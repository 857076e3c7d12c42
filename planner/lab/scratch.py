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

from planner.netlink.target import list_netns

__all__ = ["Scratch", "full_dump", "kernel_prereqs", "netns_with_prefix", "scratch_prefix"]

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
    cp = subprocess.run(["ip", "-n", netns, "-j", "-d", "-batch", "-"], capture_output=True, text=True,
                        check=True, input="link show\naddr show\nroute show table all\nneigh show\n")
    dec, text, pos = json.JSONDecoder(), cp.stdout, 0
    out: list[list] = []
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
            for n, d in zip(names, dumps, strict=True)}


def kernel_prereqs() -> list[str]:
    """What is missing for kernel tests (root, namespaces, veth/macvlan/macvtap/bridge, ping)."""
    from .lab import prerequisites

    return prerequisites()
