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

from planner.core.schema import PLATFORMS

__all__ = ["random_design", "tricky_design", "MAIN_SUBNET", "SECOND_SUBNET"]

MAIN_SUBNET = ipaddress.IPv4Network("10.42.0.0/24")
SECOND_SUBNET = ipaddress.IPv4Network("10.43.0.0/24")
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
    return _RandomDesign(seed).build()


class _RandomDesign:
    """The draws of :func:`random_design`, one room per part, in a fixed order (a seed's design
    must never change: kernel-agreement results are quoted by seed)."""

    def __init__(self, seed: int):
        self.seed = seed
        self.rng = random.Random(seed)
        self.macs = _Macs(seed)
        self.main, self.second = _Addrs(self.rng, MAIN_SUBNET), _Addrs(self.rng, SECOND_SUBNET)
        self.switches: dict[str, list[dict]] = {"sw1": []}
        self.endpoints: list[tuple[str, dict]] = []   # (iface id, document entry) of everything with an address
        self.all_macs: list[tuple[str, str]] = []     # (iface id, mac) of every child, station, parent
        self.hosts: list[dict] = []
        self.parents_all: list[tuple[dict, dict]] = []  # (host doc, parent doc)
        self.source_children: list[tuple[str, dict]] = []

    def address(self) -> str:
        return (self.second if self.rng.random() < 0.15 else self.main).next()

    def new_port(self, switch: str, hairpin: bool | None = None) -> str:
        ports = self.switches[switch]
        name = f"p{len(ports) + 1}"
        ports.append({"name": name, "hairpin": self.rng.random() < 0.5 if hairpin is None else hairpin})
        return name

    def build(self) -> dict:
        if self.rng.random() < 0.3:
            self.switches["sw2"] = []
        for h in range(1 if self.rng.random() < 0.6 else 2):
            self.hosts.append(self.host(h))
        self.children()
        stations = self.stations()
        self.source_lists()
        self.neighbours()
        for host in self.hosts:
            if not host["children"]:
                del host["children"]
        doc: dict[str, Any] = {
            "version": 1,
            "name": f"random-{self.seed}",
            "description": f"random design for seed {self.seed} (planner.lab.generate.random_design)",
            "hosts": self.hosts,
            "switches": [{"name": s, "ports": ports} for s, ports in self.switches.items()],
            "stations": stations,
        }
        _add_shims_and_routes(doc, random.Random(f"routes-{self.seed}"))
        _add_upstream_filters(doc, random.Random(f"upstream-{self.seed}"), [m for _, m in self.all_macs])
        _add_gateway(doc, random.Random(f"gateway-{self.seed}"))
        _add_ipv6(doc, random.Random(f"ipv6-{self.seed}"))
        return doc

    def host(self, h: int) -> dict[str, Any]:
        hname = f"host{h + 1}"
        host: dict[str, Any] = {"name": hname, "parents": [], "children": []}
        bridge = self.bridge(h, hname) if self.rng.random() < 0.25 else None
        if bridge is not None:
            host["bridges"] = [bridge]
        cabled_to_bridge = False
        for k in range(self.rng.randint(1, 3)):
            p, cabled = self.parent(h, hname, k, bridge, cabled_to_bridge)
            cabled_to_bridge = cabled_to_bridge or cabled
            host["parents"].append(p)
            self.parents_all.append((host, p))
            self.all_macs.append((f"{hname}/eth{k}", p["mac"]))
        return host

    def bridge(self, h: int, hname: str) -> dict[str, Any]:
        rng = self.rng
        bridge: dict[str, Any] = {"name": "br0", "mac": self.macs.next(), "ports": []}
        if rng.random() < 0.3:
            bridge["addresses"] = [self.main.next()]
            self.endpoints.append((f"{hname}/br0", bridge))
        for k in range(rng.randint(1, 2)):
            peer: dict[str, Any] = {"name": "veth0", "namespace": f"b{k}", "mac": self.macs.next(),
                                    "addresses": [self.address()]}
            bridge["ports"].append({"name": f"vb{h + 1}{k}", "hairpin": rng.random() < 0.5, "peer": peer})
            self.endpoints.append((f"{hname}/ns:b{k}/veth0", peer))
            self.all_macs.append((f"{hname}/ns:b{k}/veth0", peer["mac"]))
        return bridge

    def parent(self, h: int, hname: str, k: int, bridge: dict | None, cabled_to_bridge: bool
               ) -> tuple[dict[str, Any], bool]:
        """NIC ``eth{k}``: on the host bridge (at most one), a switch port, or no cable at all."""
        rng = self.rng
        p: dict[str, Any] = {"name": f"eth{k}", "mac": self.macs.next()}
        r = rng.random()
        cabled = False
        if bridge is not None and not cabled_to_bridge and r < 0.3:
            # port names are unique across hosts: the model keys bridge cables by
            # "bridge:BR/PORT" without the host, so two hosts' br0/vb1 would clash
            port = f"vb{h + 1}{len(bridge['ports'])}"
            bridge["ports"].append({"name": port, "hairpin": rng.random() < 0.5})
            p["uplink"] = {"bridge": "br0", "port": port}
            cabled = True
        elif r < 0.9 or k == 0:
            sw = "sw2" if "sw2" in self.switches and rng.random() < 0.35 else "sw1"
            p["uplink"] = {"switch": sw, "port": self.new_port(sw)}
        if rng.random() < 0.1:
            p["mtu"] = 9000
        if rng.random() < 0.3:
            p["addresses"] = [self.address()]
            self.endpoints.append((f"{hname}/eth{k}", p))
        if rng.random() < 0.1:
            p["state"] = "down"
        return p, cabled

    def children(self) -> None:
        """2-6 children spread over the parents (passthru only alone on its parent)."""
        state = _ChildState()
        n_total = self.rng.randint(2, 6)
        for n in range(n_total):
            self.child(n, n_total, state)

    def child(self, n: int, n_total: int, st: _ChildState) -> None:
        rng = self.rng
        choices = [(h, p) for h, p in self.parents_all if id(p) not in st.exclusive]
        host, parent = rng.choice(choices)
        hname = host["name"]
        k = st.child_no.get(hname, 0)
        st.child_no[hname] = k + 1
        mode = rng.choice(MODES)
        # passthru only as the sole child, and never taking the last parent the remaining
        # children could use
        if mode == "passthru" and (st.n_children.get(id(parent), 0) or (n < n_total - 1 and len(choices) == 1)):
            mode = rng.choice(("bridge", "vepa", "private"))
        c: dict[str, Any] = {"name": f"mv{k}", "type": "macvtap" if rng.random() < 0.15 else "macvlan",
                             "parent": parent["name"], "mode": mode}
        if mode == "passthru":
            c["mac"] = parent["mac"]  # the kernel gives a passthru child its parent's MAC
            st.exclusive.add(id(parent))
        else:
            c["mac"] = self.macs.next()
            # sometimes stack the child on a host-namespace child of the same parent: the kernel
            # re-parents it onto the parent NIC
            siblings = [s for s in st.host_ns_children.get(hname, []) if s["_lower"] is parent]
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
            c["addresses"] = [self.address()]
            self.endpoints.append((cid, c))
        if mode == "passthru" and rng.random() < 0.3:
            c["nopromisc"] = True
        if rng.random() < 0.1 and mode != "passthru":
            c["state"] = "down"
        st.n_children[id(parent)] = st.n_children.get(id(parent), 0) + 1
        if not c.get("namespace") and mode != "passthru" and c["parent"] == parent["name"]:
            st.host_ns_children.setdefault(hname, []).append({"name": c["name"], "_lower": parent})
        if mode != "passthru":
            self.all_macs.append((cid, c["mac"]))
        if mode == "source":
            self.source_children.append((cid, c))
        host["children"].append(c)

    def stations(self) -> list[dict[str, Any]]:
        out = []
        for k in range(self.rng.randint(0, 2)):
            sw = "sw2" if "sw2" in self.switches and self.rng.random() < 0.4 else "sw1"
            name = ("gw", "srv")[k]
            st: dict[str, Any] = {"name": name, "uplink": {"switch": sw, "port": self.new_port(sw, hairpin=False)},
                                  "mac": self.macs.next(), "addresses": [self.address()]}
            out.append(st)
            self.endpoints.append((f"station:{name}", st))
            self.all_macs.append((f"station:{name}", st["mac"]))
        return out

    def source_lists(self) -> None:
        """Source mode: accept frames from a random subset of the other MACs."""
        for cid, c in self.source_children:
            others = [m for i, m in self.all_macs if i != cid and m != c["mac"]]
            if others:
                c["source_macs"] = sorted(self.rng.sample(others, self.rng.randint(1, min(3, len(others)))))

    def neighbours(self) -> None:
        for eid, entry in self.endpoints:
            r = self.rng.random()
            if r < 0.12:
                entry["neighbors"] = "all-peers"
            elif r < 0.22:
                others = [o for o, _ in self.endpoints if o != eid]
                if others:
                    entry["neighbors"] = [{"peer": self.rng.choice(others)}]


class _ChildState:
    """What the children drawn so far constrain (passthru exclusivity, names, stacking)."""

    def __init__(self) -> None:
        self.exclusive: set[int] = set()      # id() of parents holding a passthru child
        self.n_children: dict[int, int] = {}
        self.host_ns_children: dict[str, list[dict]] = {}
        self.child_no: dict[str, int] = {}


def _add_gateway(doc: dict, rng: random.Random) -> None:
    """Now and then a station becomes a router on a stick (an address in both subnets, forwarding on)
    and some endpoints get a default route via it (one default per namespace)."""
    if not doc["stations"] or rng.random() >= 0.3:
        return
    gw = rng.choice(doc["stations"])
    gw["forwarding"] = True
    used = {a.split("/")[0] for h in doc["hosts"] for kind in ("parents", "children", "bridges")
            for e in h.get(kind, ()) for a in e.get("addresses", ())}
    used |= {a.split("/")[0] for s in doc["stations"] for a in s.get("addresses", ())}
    used |= {a.split("/")[0] for h in doc["hosts"] for b in h.get("bridges", ()) for p in b.get("ports", ())
             for a in (p.get("peer") or {}).get("addresses", ())}
    legs = {net: next(str(ip) for ip in reversed(list(net.hosts())) if str(ip) not in used)
            for net in (MAIN_SUBNET, SECOND_SUBNET)}
    gw["addresses"] = [f"{ip}/24" for ip in legs.values()]
    gw.pop("routes", None)
    defaulted: set[tuple[str, str]] = set()
    endpoints = [((h["name"], e.get("namespace", "")), e) for h in doc["hosts"]
                 for kind in ("parents", "children") for e in h.get(kind, ())]
    endpoints += [((s["name"], "station"), s) for s in doc["stations"] if s is not gw]
    for ns, e in endpoints:
        if not e.get("addresses") or ns in defaulted or rng.random() >= 0.5:
            continue
        own = ipaddress.ip_interface(e["addresses"][0])
        via = next((ip for net, ip in legs.items() if own.ip in net and own.network.prefixlen <= 24), None)
        if via is None or any(r.get("to") == "default" for r in e.get("routes", ())):
            continue
        defaulted.add(ns)
        e.setdefault("routes", []).append({"to": "default", "via": via})


#: the IPv6 prefix IPv4 addresses are mirrored into (fd00::a.b.c.d, the IPv4 prefix length + 96)
IPV6_MIRROR = ipaddress.IPv6Network("fd00::/96")
#: the share of random designs that are dual-stack
IPV6_SHARE = 0.5


def mirror6(text: str) -> str:
    """An IPv4 address, prefix or address with prefix, embedded in :data:`IPV6_MIRROR` (same subnets,
    same members: the IPv6 half of a dual-stack random design asks the kernel the same questions
    over neighbour discovery).

    >>> mirror6("10.0.0.5/24"), mirror6("10.0.1.0/24"), mirror6("0.0.0.0/0"), mirror6("10.0.0.1")
    ('fd00::a00:5/120', 'fd00::a00:100/120', '::/0', 'fd00::a00:1')
    """
    if text == "default":
        return "::/0"
    if "/" not in text:
        return str(ipaddress.IPv6Address(int(IPV6_MIRROR.network_address) + int(ipaddress.IPv4Address(text))))
    addr = ipaddress.ip_interface(text)
    if addr.network.prefixlen == 0:
        return "::/0"
    v6 = ipaddress.IPv6Interface((int(IPV6_MIRROR.network_address) + int(addr.ip), addr.network.prefixlen + 96))
    return str(v6) if addr.ip != addr.network.network_address else str(v6.network)


def _add_ipv6(doc: dict, rng: random.Random) -> None:
    """Half the designs become dual-stack: every address, route and explicit neighbour entry gets its
    IPv6 mirror (``peer`` and ``all-peers`` entries cover both families by themselves)."""
    if rng.random() >= IPV6_SHARE:
        return
    for entry in _addressed_entries(doc):
        entry["addresses"] = entry.get("addresses", []) + [mirror6(a) for a in entry.get("addresses", [])]
        routes = entry.get("routes") or []
        if routes:
            entry["routes"] = routes + [_mirror_route(r) for r in routes]
        neigh = entry.get("neighbors")
        if isinstance(neigh, list):
            entry["neighbors"] = neigh + [{**n, "address": mirror6(n["address"])} for n in neigh if "address" in n]


def _mirror_route(r: dict) -> dict:
    to = "0.0.0.0/0" if r["to"] == "default" else r["to"]
    out = {"to": mirror6(to)}
    if "via" in r:
        out["via"] = mirror6(r["via"])
    return out


def _addressed_entries(doc: dict) -> list[dict]:
    """Every document entry that can carry addresses: parents, children, bridges, veth peers, stations."""
    out = []
    for h in doc.get("hosts", ()):
        out += list(h.get("parents", ())) + list(h.get("children", ()))
        for b in h.get("bridges", ()):
            out.append(b)
            out += [p["peer"] for p in b.get("ports", ()) if p.get("peer")]
    return out + list(doc.get("stations", ()))


def _add_upstream_filters(doc: dict, rng: random.Random, macs: list[str]) -> None:
    """Now and then a parent on a filtering platform, a port with port security (allowed MACs drawn
    from the design's own) or client isolation. Its own generator keeps every other choice per seed.
    A MAC is accepted on one port of a switch at most (as port security requires)."""
    if rng.random() >= 0.35:
        return
    filtering = sorted(name for name, p in PLATFORMS.items() if p.filters)
    cabled: dict[tuple[str, str], tuple[str, dict | None]] = {}   # (switch, port) -> (MAC, parent doc)
    for h in doc["hosts"]:
        for parent in h.get("parents", ()):
            up = parent.get("uplink", {})
            if up.get("switch"):
                cabled[(up["switch"], up["port"])] = (parent["mac"], parent)
                if rng.random() < 0.2:
                    parent["platform"] = rng.choice(filtering)
    for st in doc["stations"]:
        cabled[(st["uplink"]["switch"], st["uplink"]["port"])] = (st["mac"], None)
    for sw in doc["switches"]:
        lists = {p["name"]: rng.random() < 0.2 for p in sw["ports"]}
        used = set()
        for name in lists:
            mac, parent = cabled.get((sw["name"], name), ("", None))
            if mac and (lists[name] or (parent or {}).get("platform")):
                used.add(mac)   # a filtering port accepts its cabled device's MAC
        for port in sw["ports"]:
            if lists[port["name"]]:
                free = [m for m in macs if m not in used]
                port["allowed_macs"] = sorted(rng.sample(free, rng.randint(0, min(3, len(free)))))
                used.update(port["allowed_macs"])
            if rng.random() < 0.15:
                port["isolated"] = True


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

def tricky_design(seed: int, *, loops: bool = False) -> dict:
    """A random design built around what learning bridges, shared MACs and bridge parents do.

    One or two hosts on switch ``sw1``; a host may have a Linux bridge ``br0`` that enslaves a NIC
    cabled to the switch (hairpin on the bridge side, the switch side, or neither - both only with
    ``loops``: that is a broadcast storm), containers on veth ports of the bridge, and macvlan
    children of its own (the bridge as a parent); NICs carry macvlan children in every mode but
    passthru; sometimes two children on two parents share one MAC; stations on the switch.
    Deterministic per seed; every document loads.
    """
    rng = random.Random(f"tricky-{seed}")
    macs = _Macs(seed ^ 0x5A)
    addrs = _Addrs(rng, MAIN_SUBNET)
    ports: list[dict] = []

    def port(hairpin: bool) -> str:
        ports.append({"name": f"p{len(ports) + 1}", "hairpin": hairpin})
        return ports[-1]["name"]

    hosts = []
    child_macs: list[tuple[dict, dict]] = []   # (child doc, its parent doc)
    mirrors = [0]  # host bridges reflecting back into the switch: two of them make a storm
    for h in range(rng.randint(1, 2)):
        host: dict[str, Any] = {"name": f"host{h + 1}", "parents": [], "children": []}
        for k in range(rng.randint(1, 2)):
            p: dict[str, Any] = {"name": f"eth{k}", "mac": macs.next(), "uplink": {"switch": "sw1",
                                                                                     "port": port(rng.random() < 0.4)}}
            if rng.random() < 0.2:
                p["addresses"] = [addrs.next()]
            host["parents"].append(p)
        if rng.random() < 0.6:
            _tricky_bridge(host, rng, macs, addrs, ports, loops, mirrors)
        lowers = [p for p in host["parents"] if not p.get("_enslaved")]
        lowers += [{"name": "br0", "_bridge": True}] if host.get("bridges") and rng.random() < 0.5 else []
        for k in range(rng.randint(1, 4) if lowers else 0):
            low = rng.choice(lowers)
            c: dict[str, Any] = {"name": f"mv{k}", "parent": low["name"], "mode": rng.choice(MODES[:4]),
                                 "mac": macs.next(), "namespace": f"m{k}", "addresses": [addrs.next()]}
            if c["mode"] == "source":
                c["mode"] = "bridge" if rng.random() < 0.5 else "source"
            host["children"].append(c)
            if not low.get("_bridge"):
                child_macs.append((c, low))
        for p in host["parents"]:
            p.pop("_enslaved", None)
        hosts.append(host)
    # one MAC on two parents: two children of different parents share it
    pairs = [(a, b) for a, pa in child_macs for b, pb in child_macs if pa is not pb and a["mac"] < b["mac"]]
    if pairs and rng.random() < 0.4:
        a, b = rng.choice(pairs)
        b["mac"] = a["mac"]
    all_macs = [c["mac"] for hd in hosts for c in hd["children"]]
    for hd in hosts:
        for c in hd["children"]:
            if c["mode"] == "source":
                c["source_macs"] = sorted(set(rng.sample(all_macs, min(2, len(all_macs)))) - {c["mac"]}) or \
                    [macs.next()]
        if not hd["children"]:
            del hd["children"]
    stations = [{"name": f"st{k}", "mac": macs.next(), "uplink": {"switch": "sw1", "port": port(False)},
                 "addresses": [addrs.next()]} for k in range(rng.randint(1, 2))]
    return {"version": 1, "name": f"tricky-{seed}", "description": "learning bridges, shared MACs, bridge parents",
            "hosts": hosts, "switches": [{"name": "sw1", "ports": ports}], "stations": stations}


def _tricky_bridge(host: dict, rng: random.Random, macs: _Macs, addrs: _Addrs, switch_ports: list[dict],
                   loops: bool, mirrors: list[int]) -> None:
    """A host bridge enslaving the host's first NIC, with containers on veth ports."""
    nic = host["parents"][0]
    nic["_enslaved"] = True
    sw_port = next(p for p in switch_ports if p["name"] == nic["uplink"]["port"])
    bridge_hp = rng.random() < 0.4 and (loops or mirrors[0] == 0)
    mirrors[0] += bridge_hp
    ports = [{"name": nic["name"], "enslave": True, "hairpin": bridge_hp}]
    if bridge_hp and not loops:
        sw_port["hairpin"] = False  # hairpin at both ends of the NIC's cable is a storm
    for k in range(rng.randint(1, 2)):
        ports.append({"name": f"vb{k}", "hairpin": rng.random() < 0.3,
                      "peer": {"name": "eth0", "namespace": f"b{k}", "mac": macs.next(), "addresses": [addrs.next()]}})
    bridge: dict[str, Any] = {"name": "br0", "mac": macs.next(), "ports": ports}
    if rng.random() < 0.3:
        bridge["addresses"] = [addrs.next()]
    host["bridges"] = [bridge]
    nic.pop("addresses", None)  # an enslaved NIC's addresses would be the bridge's


# --------------------------------------------------------------------------- benchmark shapes
