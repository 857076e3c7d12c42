"""Seeded random designs (for agreement tests against the kernel) and large designs (for benchmarks).

Pure: no I/O, no global state; the same seed always gives the same document. Every document is
valid for :func:`planner.core.model.design_from_dict` and is something the kernel accepts when built
by :mod:`planner.lab`: unique MACs (a passthru child deliberately shares its parent's, as the
kernel forces), unique addresses, no child MTU above its parent's, passthru only as the sole
child of its parent, source-mode children listing peer MACs.
"""
from __future__ import annotations

import ipaddress
import random
from typing import Any

__all__ = ["random_design", "scale_design", "MAIN_SUBNET", "SECOND_SUBNET"]

MAIN_SUBNET = ipaddress.ip_network("10.42.0.0/24")
SECOND_SUBNET = ipaddress.ip_network("10.43.0.0/24")
MODES = ("bridge", "vepa", "private", "source", "passthru")


class _Macs:
    def __init__(self, tag: int):
        self.tag = tag & 0xFF
        self.n = 0

    def next(self) -> str:
        self.n += 1
        n = self.n
        return f"02:6d:{self.tag:02x}:{(n >> 16) & 0xFF:02x}:{(n >> 8) & 0xFF:02x}:{n & 0xFF:02x}"


class _Addrs:
    """Unique host addresses drawn at random from a subnet."""

    def __init__(self, rng: random.Random, net: ipaddress.IPv4Network):
        self.net = net
        self.free = list(range(1, net.num_addresses - 1))
        rng.shuffle(self.free)

    def next(self) -> str:
        return f"{self.net.network_address + self.free.pop()}/{self.net.prefixlen}"


def random_design(seed: int) -> dict:
    """A small random design document (1-2 hosts, a shared switch, 2-6 children...), deterministic per seed."""
    rng = random.Random(seed)
    macs = _Macs(seed)
    main, second = _Addrs(rng, MAIN_SUBNET), _Addrs(rng, SECOND_SUBNET)

    def address() -> str:
        return (second if rng.random() < 0.15 else main).next()

    switches: dict[str, list[dict]] = {"sw1": []}
    if rng.random() < 0.3:
        switches["sw2"] = []

    def new_port(switch: str, hairpin: bool | None = None) -> str:
        ports = switches[switch]
        name = f"p{len(ports) + 1}"
        ports.append({"name": name, "hairpin": rng.random() < 0.5 if hairpin is None else hairpin})
        return name

    endpoints: list[tuple[str, dict]] = []   # (iface id, document entry) of everything with an address
    all_macs: list[tuple[str, str]] = []     # (iface id, mac) of every child, station, parent
    hosts: list[dict] = []
    parents_all: list[tuple[dict, dict]] = []  # (host doc, parent doc)
    n_hosts = 1 if rng.random() < 0.6 else 2
    for h in range(n_hosts):
        hname = f"host{h + 1}"
        host: dict[str, Any] = {"name": hname, "parents": [], "children": []}
        bridge = None
        if rng.random() < 0.25:
            bridge = {"name": "br0", "mac": macs.next(), "ports": []}
            if rng.random() < 0.3:
                bridge["addresses"] = [main.next()]
                endpoints.append((f"{hname}/br0", bridge))
            for k in range(rng.randint(1, 2)):
                peer = {"name": "veth0", "namespace": f"b{k}", "mac": macs.next(), "addresses": [address()]}
                bridge["ports"].append({"name": f"vb{h + 1}{k}", "hairpin": rng.random() < 0.5, "peer": peer})
                endpoints.append((f"{hname}/ns:b{k}/veth0", peer))
                all_macs.append((f"{hname}/ns:b{k}/veth0", peer["mac"]))
            host["bridges"] = [bridge]
        cabled_to_bridge = False
        for k in range(rng.randint(1, 3)):
            p: dict[str, Any] = {"name": f"eth{k}", "mac": macs.next()}
            r = rng.random()
            if bridge is not None and not cabled_to_bridge and r < 0.3:
                # port names are unique across hosts: the model keys bridge cables by
                # "bridge:BR/PORT" without the host, so two hosts' br0/vb1 would clash
                port = f"vb{h + 1}{len(bridge['ports'])}"
                bridge["ports"].append({"name": port, "hairpin": rng.random() < 0.5})
                p["uplink"] = {"bridge": "br0", "port": port}
                cabled_to_bridge = True
            elif r < 0.9 or k == 0:
                sw = "sw2" if "sw2" in switches and rng.random() < 0.35 else "sw1"
                p["uplink"] = {"switch": sw, "port": new_port(sw)}
            # else: no uplink at all (a NIC with no cable)
            if rng.random() < 0.1:
                p["mtu"] = 9000
            if rng.random() < 0.3:
                p["addresses"] = [address()]
                endpoints.append((f"{hname}/eth{k}", p))
            if rng.random() < 0.1:
                p["state"] = "down"
            host["parents"].append(p)
            parents_all.append((host, p))
            all_macs.append((f"{hname}/eth{k}", p["mac"]))
        hosts.append(host)

    # children, spread over the parents
    exclusive: set[int] = set()      # id() of parents holding a passthru child
    n_children: dict[int, int] = {}
    host_ns_children: dict[str, list[dict]] = {}
    child_no: dict[str, int] = {}
    source_children: list[tuple[str, dict]] = []
    n_total = rng.randint(2, 6)
    for n in range(n_total):
        choices = [(h, p) for h, p in parents_all if id(p) not in exclusive]
        host, parent = rng.choice(choices)
        hname = host["name"]
        k = child_no.get(hname, 0)
        child_no[hname] = k + 1
        mode = rng.choice(MODES)
        # passthru only as the sole child, and never taking the last parent the remaining
        # children could use
        if mode == "passthru" and (n_children.get(id(parent), 0) or (n < n_total - 1 and len(choices) == 1)):
            mode = rng.choice(("bridge", "vepa", "private"))
        c: dict[str, Any] = {"name": f"mv{k}", "type": "macvtap" if rng.random() < 0.15 else "macvlan",
                             "parent": parent["name"], "mode": mode}
        if mode == "passthru":
            c["mac"] = parent["mac"]  # the kernel gives a passthru child its parent's MAC
            exclusive.add(id(parent))
        else:
            c["mac"] = macs.next()
            # sometimes stack the child on a host-namespace child of the same parent: the kernel
            # re-parents it onto the parent NIC
            siblings = [s for s in host_ns_children.get(hname, []) if s["_lower"] is parent]
            if siblings and rng.random() < 0.25:
                c["parent"] = rng.choice(siblings)["name"]
        if rng.random() < 0.8:
            c["namespace"] = f"ns{k}"
            cid = f"{hname}/ns:ns{k}/mv{k}"
        else:
            cid = f"{hname}/mv{k}"
        if parent.get("mtu", 1500) > 1500 and rng.random() < 0.5:
            c["mtu"] = 1500
        if rng.random() < 0.9:
            c["addresses"] = [address()]
            endpoints.append((cid, c))
        if mode == "passthru" and rng.random() < 0.3:
            c["nopromisc"] = True
        if rng.random() < 0.1 and mode != "passthru":
            c["state"] = "down"
        n_children[id(parent)] = n_children.get(id(parent), 0) + 1
        if not c.get("namespace") and mode != "passthru" and c["parent"] == parent["name"]:
            host_ns_children.setdefault(hname, []).append({"name": c["name"], "_lower": parent})
        if mode == "passthru":
            pass
        else:
            all_macs.append((cid, c["mac"]))
        if mode == "source":
            source_children.append((cid, c))
        host["children"].append(c)

    stations = []
    for k in range(rng.randint(0, 2)):
        sw = "sw2" if "sw2" in switches and rng.random() < 0.4 else "sw1"
        name = ("gw", "srv")[k]
        st = {"name": name, "uplink": {"switch": sw, "port": new_port(sw, hairpin=False)},
              "mac": macs.next(), "addresses": [address()]}
        stations.append(st)
        endpoints.append((f"station:{name}", st))
        all_macs.append((f"station:{name}", st["mac"]))

    # source mode: accept frames from a random subset of the other MACs
    for cid, c in source_children:
        others = [m for i, m in all_macs if i != cid and m != c["mac"]]
        if others:
            c["source_macs"] = sorted(rng.sample(others, rng.randint(1, min(3, len(others)))))

    # static neighbours
    for eid, entry in endpoints:
        r = rng.random()
        if r < 0.12:
            entry["neighbors"] = "all-peers"
        elif r < 0.22:
            others = [o for o, _ in endpoints if o != eid]
            if others:
                entry["neighbors"] = [{"peer": rng.choice(others)}]

    for h in hosts:
        if not h["children"]:
            del h["children"]
    doc: dict[str, Any] = {
        "version": 1,
        "name": f"random-{seed}",
        "description": f"random design for seed {seed} (planner.lab.generate.random_design)",
        "hosts": hosts,
        "switches": [{"name": s, "ports": ports} for s, ports in switches.items()],
        "stations": stations,
    }
    _add_shims_and_routes(doc, random.Random(f"routes-{seed}"))
    return doc


def _add_shims_and_routes(doc: dict, rng: random.Random) -> None:
    """Turn some host-namespace children into shims (/32 address, /32 routes to peers) and give
    some endpoints a /32 route to a peer, so route lookups and ARP flux get exercised.

    A separate random stream, so the rest of a seed's design does not change. Never two routes
    to one prefix in a namespace (the kernel refuses the second: EEXIST).
    """
    entries = []
    for h in doc["hosts"]:
        for kind in ("parents", "children"):
            for e in h.get(kind, ()):
                if e.get("addresses"):
                    entries.append((h["name"], kind, e))
    ips = [e["addresses"][0].split("/")[0] for _h, _k, e in entries]
    routed: set[tuple] = set()

    def add_route(host: str, e: dict, ip: str) -> None:
        ns = (host, e.get("namespace", ""))
        if (ns, ip) not in routed:
            routed.add((ns, ip))
            e.setdefault("routes", []).append({"to": f"{ip}/32"})

    for host, kind, e in entries:
        own = e["addresses"][0].split("/")[0]
        peers = [ip for ip in ips if ip != own]
        if not peers:
            continue
        if kind == "children" and not e.get("namespace") and rng.random() < 0.6:
            e["addresses"] = [f"{own}/32"]
            for ip in rng.sample(peers, min(len(peers), rng.randint(1, 3))):
                add_route(host, e, ip)
        elif rng.random() < 0.15:
            add_route(host, e, rng.choice(peers))


def scale_design(children: int = 10000, parents: int = 100, modes: tuple[str, ...] = ("bridge", "vepa", "private"),
                 seed: int = 0) -> dict:
    """One host, ``parents`` NICs on switch ``sw1`` (hairpin on half the ports), ``children``
    macvlans spread evenly with modes cycling, each in its own namespace with its own address,
    plus two stations. For benchmarks."""
    if parents < 1:
        raise ValueError("scale_design needs at least one parent")
    if "passthru" in modes and children > parents:
        raise ValueError("passthru children need a parent each; drop passthru or add parents")
    rng = random.Random(seed)
    macs = _Macs(seed)
    hairpin = set(rng.sample(range(parents), parents // 2))
    ports = [{"name": f"p{k}", "hairpin": k in hairpin} for k in range(parents)]
    ports += [{"name": "s0", "hairpin": False}, {"name": "s1", "hairpin": False}]
    parent_docs = [{"name": f"eth{k}", "mac": macs.next(), "uplink": {"switch": "sw1", "port": f"p{k}"}}
                   for k in range(parents)]

    def addr(n: int) -> str:
        # 10.0.0.0/16, then 10.1.0.0/16, ...: 65000 endpoints per subnet
        net, host = divmod(n, 65000)
        base = ipaddress.ip_address(f"10.{net}.0.0")
        return f"{base + host + 1}/16"

    child_docs = []
    for k in range(children):
        p = parent_docs[k % parents]
        mode = modes[k % len(modes)]
        child_docs.append({"name": f"c{k}", "parent": p["name"], "mode": mode,
                           "mac": p["mac"] if mode == "passthru" else macs.next(),
                           "namespace": f"n{k}", "addresses": [addr(k + 10)]})
    stations = [{"name": f"gw{k}", "uplink": {"switch": "sw1", "port": f"s{k}"}, "mac": macs.next(),
                 "addresses": [addr(k)]} for k in range(2)]
    return {
        "version": 1,
        "name": f"scale-{children}x{parents}",
        "description": f"{children} children on {parents} parents, modes {', '.join(modes)} (seed {seed})",
        "hosts": [{"name": "host1", "parents": parent_docs, "children": child_docs}],
        "switches": [{"name": "sw1", "ports": ports}],
        "stations": stations,
    }
