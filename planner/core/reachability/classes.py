"""Classes of endpoints whose verdicts are provably the same, and the pairs that must be replayed alone.

Two endpoints share a class when swapping them is a symmetry of the design as far as any ping
can tell: the same configuration of their namespace (mode, kind, state, subnets, the routes and
static entries that apply to every counterpart), and interchangeable positions (children of one
parent; or of parents that are interchangeable because frames between them only meet in a switch
whose learning cannot be fooled - no reflection between two learning devices, no loop).

What a counterpart-specific setting changes is not put in the key - that would give almost every
container of a real design a class of its own. It is listed as *exceptions* instead: the ordered
pairs it can matter for, which are replayed one by one. An address matters only where a route,
neighbour entry, source list or gateway refers to it:

* a static host route (``/32``) or an explicit static neighbour entry in a namespace matters for
  pings between that namespace's endpoints and the owners of the address it names;
* a source-mode list matters for pings between its namespace and the namespaces holding the MACs
  it names;
* routes to wider prefixes, ``all-peers`` and entries for their gateways apply to every
  counterpart alike: they are part of the key, and a gateway they name is a class of its own;
* an endpoint whose MAC or address is used twice, or that the kernel refuses, is a class of its
  own.

``tests/test_reachability_classes.py`` compares merged and unmerged predictions on thousands of
generated and mutated designs.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from ..graph import loops_of
from ..ids import is_switch_port, parse_switch_port
from ..model import ALL_PEERS, Iface, IPAddress, subnet_key
from .world import Port, World

__all__ = ["Classes", "classify"]


@dataclass
class Classes:
    classes: list[list[str]] = field(default_factory=list)
    class_of: dict[str, int] = field(default_factory=dict)
    #: ordered endpoint pairs whose verdict is computed alone
    exceptions: set[tuple[str, str]] = field(default_factory=set)
    #: class index -> True when its members share one namespace (pairs among them are LOCAL)
    shared_ns: dict[int, str] = field(default_factory=dict)


def classify(world: World, *, merge: bool = True) -> Classes:
    d = world.design
    eps = d.endpoints()
    out = Classes()
    if not merge:
        for n, e in enumerate(eps):
            out.classes.append([e.id])
            out.class_of[e.id] = n
        return out
    refs = _References(world)
    out.exceptions = refs.exception_pairs()
    positions = _Positions(world)
    groups: dict[tuple, int] = {}
    for e in eps:
        key = _key(world, e, refs, positions)
        ci = groups.get(key)
        if ci is None:
            ci = groups[key] = len(out.classes)
            out.classes.append([])
            if key[0] == "ns":
                out.shared_ns[ci] = e.ns
        out.classes[ci].append(e.id)
        out.class_of[e.id] = ci
    return out


# --------------------------------------------------------------------------- what is referenced
#: a target named by at least this many namespaces (and by at least one in SHARED_SHARE of them) is
#: part of their keys - and a class of its own - rather than a source of exception pairs: one class
#: pair then covers all the namespaces naming it (every container's entry for the gateway)
SHARED_REFERENCE = 3
SHARED_SHARE = 50


class _References:
    """Addresses and MACs that settings name, and the endpoint pairs those settings can matter for.

    A *target* is an address a host route or an explicit static neighbour entry names, or a MAC a
    source list names. A target named by few namespaces makes exception pairs; one named by many
    (say, every container's entry for the gateway) goes into the key of each namespace naming it,
    and its owners become classes of their own.
    """

    def __init__(self, world: World):
        self.w = world
        self.endpoints = world.design.endpoints()
        #: address -> the endpoints holding it (an endpoint is an interface with an address)
        self.by_ip = world.ip_owners
        self.ns_endpoints: dict[str, list[Iface]] = {}
        for e in self.endpoints:
            self.ns_endpoints.setdefault(e.ns, []).append(e)
        self.gateways: dict[str, set[IPAddress]] = {}
        for ns, ifs in world.stack_ifaces.items():
            gws = {r.via for i in ifs for r in i.routes if r.via is not None and r.to.prefixlen < r.to.max_prefixlen}
            if gws:
                self.gateways[ns] = gws
        self.targets: dict[str, set] = {}
        for ns, ifs in world.stack_ifaces.items():
            ts = self._targets(ifs, ns)
            if ts:
                self.targets[ns] = ts
        counts: dict[tuple, int] = {}
        for ts in self.targets.values():
            for t in ts:
                counts[t] = counts.get(t, 0) + 1
        floor = max(SHARED_REFERENCE, len(world.stack_ifaces) // SHARED_SHARE)
        self.shared: set[tuple] = {t for t, n in counts.items() if n >= floor}
        self.unique: set[str] = set()
        self._mark_unique()

    def _targets(self, ifs: list[Iface], ns: str) -> set:
        out: set = set()
        for i in ifs:
            if not (i.routes or i.neighbors or i.source_macs):
                continue
            out.update(("ip", r.to.network_address) for r in i.routes if r.to.prefixlen == r.to.max_prefixlen)
            if i.neighbors and i.neighbors != ALL_PEERS:
                out.update(("ip", ip) for ip in self.w.static_neighbors(i) if ip not in self.gateways.get(ns, ()))
            out.update(("mac", m) for m in i.source_macs)
        return out

    def owners(self, target: tuple) -> list[Iface]:
        kind, value = target
        if kind == "ip":
            return self.by_ip.get(value, [])
        return [e for o in self.w.mac_owners.get(value, ()) for e in self.ns_endpoints.get(o.ns, ())]

    def _mark_unique(self) -> None:
        w = self.w
        for gws in self.gateways.values():
            for ip in gws:
                self.unique.update(e.id for e in self.by_ip.get(ip, ()))
        for t in self.shared:
            self.unique.update(e.id for e in self.owners(t))
        for owners in self.by_ip.values():  # by_ip is the world's ip_owners
            if len(owners) > 1:
                self.unique.update(e.id for e in owners)
        by_anchor: dict[str, list[Iface]] = {}
        for e in self.endpoints:
            by_anchor.setdefault(w.anchor(e), []).append(e)
        for owners in w.mac_owners.values():
            if len(owners) > 1:
                # a parent takes a frame from a MAC one of its children owns for that child's: the
                # owners' namespaces and everything hanging off the owners' parents are set apart
                for o in owners:
                    self.unique.update(e.id for e in self.ns_endpoints.get(o.ns, ()))
                    self.unique.update(e.id for e in by_anchor.get(w.anchor(o), ()))
        self.unique.update(e.id for e in self.endpoints if e.id in w.refused)
        for br in w.bridges.values():
            # a filtering port's accepted MACs pass where others are dropped, and the switch sends
            # frames for them to that port: their owners are not interchangeable with anyone
            for mac in br.static_fdb:
                for o in w.mac_owners.get(mac, ()):
                    self.unique.update(e.id for e in self.ns_endpoints.get(o.ns, ()))

    def exception_pairs(self) -> set[tuple[str, str]]:
        out: set[tuple[str, str]] = set()
        for ns, targets in self.targets.items():
            mine = self.ns_endpoints.get(ns)
            if not mine:
                continue
            for t in targets - self.shared:
                for o in self.owners(t):
                    for e in mine:
                        if o.id != e.id:
                            out.add((e.id, o.id))
                            out.add((o.id, e.id))
        return out

    def key_settings(self, ns: str) -> tuple:
        """The settings of a namespace that apply to every counterpart alike (canonical)."""
        ifaces = self.w.stack_ifaces.get(ns, ())
        if len(ifaces) == 1 and not (ifaces[0].routes or ifaces[0].neighbors or ifaces[0].source_macs):
            return _PLAIN  # most namespaces: one interface, nothing set
        out: list[tuple | None] = []
        gws = self.gateways.get(ns, set())
        shared = self.shared
        for i in ifaces:
            if not (i.routes or i.neighbors or i.source_macs):
                out.append(None)
                continue
            routes = tuple(sorted((str(r.to), str(r.via) if r.via else "") for r in i.routes
                                  if r.to.prefixlen < r.to.max_prefixlen or ("ip", r.to.network_address) in shared))
            nbr: tuple = ()
            if i.neighbors == ALL_PEERS:
                nbr = ("all-peers",)
            elif i.neighbors:
                nbr = tuple(sorted((str(ip), mac) for ip, mac in self.w.static_neighbors(i).items()
                                   if ip in gws or ("ip", ip) in shared))
            sources = tuple(sorted(m for m in i.source_macs if ("mac", m) in shared))
            out.append((routes, nbr, bool(i.source_macs), sources))
        return tuple(out)


#: the key settings of a namespace with one interface and no routes, neighbours or source list
_PLAIN: tuple = (None,)


# --------------------------------------------------------------------------- where an endpoint sits
class _Positions:
    """Position signatures: equal signatures are interchangeable places to hang an endpoint."""

    def __init__(self, world: World):
        self.w = world
        self.participating = {e.ns for e in world.design.endpoints()}
        self.single = {ns for ns, ifs in world.stack_ifaces.items() if len(ifs) == 1}
        self.risky = _risky_switches(world)
        self.sig: dict[str, tuple] = {}
        for i in world.design.interfaces:
            if i.kind == "parent":
                self.sig[i.id] = self._parent_sig(i)

    def _parent_sig(self, p: Iface) -> tuple:
        w = self.w
        mp = w.macvlan.get(p.id)
        kids = mp.children if mp is not None else []
        simple = (not p.master and mp is not None and mp.passthru is None and p.id not in w.refused
                  and (p.link is None or is_switch_port(p.link))
                  and (p.ns not in self.participating or p.ns in self.single)
                  and all(k.ns not in self.participating or k.ns in self.single for k in kids))
        if p.link and is_switch_port(p.link):
            simple = simple and parse_switch_port(p.link).switch not in self.risky
        if not simple:
            return ("exact", p.id)
        br = w.port_of.get(str(p.link)) if p.link else None
        port = _port_sig(br[0].ports[br[1]]) if br else None
        switch = parse_switch_port(p.link).switch if p.link else None
        return ("nic", switch, port, p.state, w.alive[p.id], p.parent_kind)

    def of(self, e: Iface) -> tuple:
        w = self.w
        if e.is_child and e.lower:
            return self.sig.get(e.lower, ("exact", e.lower))
        if e.kind == "parent":
            return self.sig[e.id]
        if e.kind == "station" and is_switch_port(e.link) and e.ns in self.single:
            sw = parse_switch_port(str(e.link)).switch
            if sw not in self.risky:
                br = w.port_of[str(e.link)]
                return ("station", sw, _port_sig(br[0].ports[br[1]]))
        return ("exact", w.anchor(e))


def _port_sig(port: Port) -> tuple[bool, bool, bool]:
    """What of a switch port can change a verdict for what hangs off it (its accepted MACs make
    their owners unique instead)."""
    return (port.hairpin, port.locked, port.isolated)


def _risky_switches(world: World) -> set[str]:
    """Switches whose learning a reflection or a loop can fool: a link to another learning device
    (a host bridge) with hairpin at either end, or more than one way between two devices."""
    risky: set[str] = set()
    for br_id, br in world.bridges.items():
        if br.dev is not None:
            continue
        sw = br_id.split(":", 1)[1]
        for p in br.ports:
            dev = world.by_id.get(p.out or "")
            if dev is None:
                continue
            learning_peer = dev.id in world.port_of or dev.kind == "bridge"
            if learning_peer:
                far = world.port_of.get(dev.id)
                far_hairpin = far[0].ports[far[1]].hairpin if far else False
                if p.hairpin or far_hairpin:
                    risky.add(sw)
    for br_id in _looped_bridges(world):
        if br_id.startswith("switch:"):
            risky.add(br_id.split(":", 1)[1])
    return risky


def _looped_bridges(world: World) -> Iterable[str]:
    cycles, pingpong = loops_of(world.design)
    out = set()
    for n in (n for c in cycles + pingpong for n in c):
        if n in world.bridges:
            out.add(n)
        elif n in world.port_of:
            out.add(world.port_of[n][0].id)
    return out


def _key(world: World, e: Iface, refs: _References, positions: _Positions) -> tuple:
    if e.id in refs.unique:
        return ("unique", e.id)
    own = (e.kind, e.mode, e.state, world.alive[e.id], e.nopromisc, tuple([subnet_key(a.network) for a in e.addresses]))
    if e.ns in positions.single:
        return ("one", positions.of(e), own, refs.key_settings(e.ns))
    # several interfaces share the namespace: routing and ARP are the namespace's, not the address's
    return ("ns", e.ns, own, world.anchor(e))
