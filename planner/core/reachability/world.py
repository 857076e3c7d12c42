"""The frame world: a design compiled into the devices a frame meets, as the kernel wires them.

Built once per design (and once more, with every hairpin on, for the fixer); every simulated ping
reads it and never changes it. The devices:

* **interfaces** with a stack (children, addressed or not; NICs; bridge devices; veth ends in
  namespaces; stations) and **wires**: what an interface transmits arrives at the far end of its
  cable or veth - an interface, a switch port, or nothing (a NIC cabled to nothing);
* **bridges** - external switches and host Linux bridges alike (a Linux bridge stands in for a
  switch in the lab): ports in flood order (a Linux bridge puts each new port at the head of its
  port list, so the port enslaved last sees a flooded frame first), per-port hairpin, and the
  MACs the bridge itself owns;
* **macvlan ports**: a parent's children in creation order, by MAC (the kernel's hash), the
  source-mode ones, a passthru child, and the order the broadcast queue serves them in (hash
  bucket order, as ``macvlan_broadcast`` walks ``vlan_hash``);
* **routes** per namespace (connected prefixes of up interfaces and static routes; longest prefix,
  ties to the first added) and **static neighbours** per interface.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace

from ..ids import iface_id, is_bridge_uplink, is_switch_port, parse_bridge_uplink, parse_switch_port, switch_id
from ..kernel import Refusal, children_by_lower, refused_children
from ..model import ALL_PEERS, Design, Iface, IPAddress, SwitchPort
from ..schema import Platform
from ..upstream import filtering_platform, port_filters

__all__ = ["World", "Bridge", "Port", "MacvlanPort", "Route", "BCAST", "macvlan_hash"]

BCAST = "ff:ff:ff:ff:ff:ff"
_GOLDEN_RATIO_64 = 0x61C8864680B583EB
_MACVLAN_HASH_BITS = 8


def macvlan_hash(mac: str) -> int:
    """``macvlan_eth_hash()``: the bucket of a MAC in a macvlan port's hash (little-endian load)."""
    # the 6 bytes read as a little-endian u64 (the 2 bytes after them are zero), shifted as the kernel does
    value = int.from_bytes(bytes.fromhex(mac.replace(":", "")), "little") << 16
    return ((value * _GOLDEN_RATIO_64) & ((1 << 64) - 1)) >> (64 - _MACVLAN_HASH_BITS)


@dataclass(slots=True)
class Port:
    """A bridge port: ``node`` receives what the bridge sends out of it (or, for a host bridge, the
    port interface transmits it onto its wire)."""

    id: str                       # switch:S/P, or the port's interface id on a host bridge
    out: str | None               # the node a frame sent out of this port arrives at
    hairpin: bool
    iface: Iface | None = None    # the port's own interface (host bridges)
    learning: bool = True
    locked: bool = False
    isolated: bool = False
    static: frozenset[str] = frozenset()


@dataclass(slots=True)
class Bridge:
    id: str
    ports: list[Port]             # flood order: newest first
    index: dict[str, int]         # port id -> position in ports
    dev: Iface | None             # a host bridge's own device; None for an external switch
    local_macs: frozenset[str]    # frames to these are for the bridge itself
    up: bool = True
    promisc: bool = False         # a macvlan on the bridge device makes it promiscuous
    #: static fdb entries (MAC -> port position) the table starts with: a filtering port's accepted MACs
    static_fdb: dict[str, int] = field(default_factory=dict)


@dataclass(slots=True)
class MacvlanPort:
    lower: Iface
    children: list[Iface]                       # creation order, refused children left out
    by_mac: dict[str, Iface]                    # what macvlan_hash_lookup() finds
    sources: list[Iface]
    passthru: Iface | None
    _by_ns: dict[str, list[tuple[int, Iface]]] | None = None

    @property
    def by_ns(self) -> dict[str, list[tuple[int, Iface]]]:
        """Namespace -> (position in the broadcast order, child): who to hand a broadcast to, fast.
        The order is the kernel's: hash bucket of the MAC, newest first within a bucket."""
        if self._by_ns is None:
            made = self.children
            order = sorted(range(len(made)), key=lambda n: (macvlan_hash(made[n].mac), -n))
            self._by_ns = {}
            for pos, n in enumerate(order):
                self._by_ns.setdefault(made[n].ns, []).append((pos, made[n]))
        return self._by_ns

    @property
    def bc_order(self) -> list[Iface]:
        return [c for _pos, c in sorted(pc for pcs in self.by_ns.values() for pc in pcs)]


@dataclass(frozen=True, slots=True)
class Route:
    prefixlen: int
    order: int
    first: int
    last: int
    iface: Iface
    via: IPAddress | None
    connected: bool


@dataclass
class World:
    """The compiled design; see the module docstring. ``force_hairpin`` turns hairpin on everywhere."""

    design: Design
    force_hairpin: bool = False
    by_id: dict[str, Iface] = field(default_factory=dict)
    refused: dict[str, Refusal] = field(default_factory=dict)
    wire: dict[str, str | None] = field(default_factory=dict)
    bridges: dict[str, Bridge] = field(default_factory=dict)
    port_of: dict[str, tuple[Bridge, int]] = field(default_factory=dict)
    macvlan: dict[str, MacvlanPort] = field(default_factory=dict)
    stack_ifaces: dict[str, list[Iface]] = field(default_factory=dict)
    local_ips: dict[str, frozenset[IPAddress]] = field(default_factory=dict)
    ip_owners: dict[IPAddress, list[Iface]] = field(default_factory=dict)
    mac_owners: dict[str, list[Iface]] = field(default_factory=dict)
    routes: dict[str, list[Route]] = field(default_factory=dict)
    alive: dict[str, bool] = field(default_factory=dict)
    #: namespaces that route packets not addressed to them (``ip_forward=1``)
    forwarding: frozenset[str] = frozenset()

    #: the address family the world routes (the design's: 6 for :meth:`Design.family_view` of 6)
    family: int = 4

    def __post_init__(self) -> None:
        d = self.design
        self.family = d.family
        self.by_id = {i.id: i for i in d.interfaces}
        self.refused = refused_children(d)
        self.alive = {i.id: self._compute_alive(i) for i in d.interfaces}
        self._wires()
        self._switches()
        self._host_bridges()
        self._macvlan_ports()
        self._stacks()
        self._neigh_cache: dict[str, dict[IPAddress, str]] = {}
        self._route_cache: dict[tuple[str, IPAddress], tuple[Iface, IPAddress] | None] = {}
        self._own: dict[str, frozenset[IPAddress]] = {}
        #: IPv6: interface id -> its addresses whose duplicate address detection is a race it may lose
        #: (another holder on the link hears its probe, or it hears theirs: the later one goes dadfailed)
        self.dad_racing: dict[str, frozenset[IPAddress]] = {}
        #: the IPv6 duplicates :func:`.dad.world_for` found (:class:`.dad.Duplicate`)
        self.duplicates: list = []

    # -- state ------------------------------------------------------------------------------
    def _compute_alive(self, i: Iface) -> bool:
        """Admin up and with carrier: a child needs its parent up, a port its bridge up; a child the
        kernel refuses does not exist."""
        if not i.up or i.id in self.refused:
            return False
        if i.is_child and i.lower and not self.by_id[i.lower].up:
            return False
        if i.master and not self.by_id[i.master].up:
            return False
        return True

    # -- wires and bridges ------------------------------------------------------------------
    def _wires(self) -> None:
        d = self.design
        self.wire = {}
        for i in d.interfaces:
            if i.kind in ("parent", "station"):
                if is_switch_port(i.link):
                    self.wire[i.id] = i.link
                elif is_bridge_uplink(i.link):
                    port = iface_id(str(i.host), parse_bridge_uplink(str(i.link)).port)
                    self.wire[i.id] = port
                    self.wire[port] = i.id
                else:
                    self.wire[i.id] = None
            elif i.kind in ("bridge-port", "veth-peer") and i.link:
                self.wire[i.id] = i.link

    def _hairpin(self, flag: bool) -> bool:
        return flag or self.force_hairpin

    def _switches(self) -> None:
        d = self.design
        attached: dict[str, list[Iface]] = {}
        for i in d.interfaces:
            if is_switch_port(i.link):
                attached.setdefault(parse_switch_port(str(i.link)).switch, []).append(i)
        filters = port_filters(d)
        for sw in d.switches:
            conf = {p.name: p for p in sw.ports}
            ports = [self._switch_port(str(i.link), i.id, conf[parse_switch_port(str(i.link)).port], filters)
                     for i in reversed(attached.get(sw.name, []))]
            static = {mac: k for k, p in enumerate(ports) for mac in sorted(p.static)}
            br = Bridge(switch_id(sw.name), ports, {p.id: k for k, p in enumerate(ports)}, None, frozenset(),
                        static_fdb=static)
            self.bridges[br.id] = br
            for k, p in enumerate(ports):
                self.port_of[p.id] = (br, k)

    def platform_behind(self, port: str) -> tuple[Iface, Platform] | None:
        """The parent cabled to switch port ``port`` and its platform, when that platform filters."""
        at = self.port_of.get(port)
        dev = self.by_id.get(at[0].ports[at[1]].out or "") if at else None
        platform = filtering_platform(dev) if dev is not None and dev.kind == "parent" else None
        return (dev, platform) if dev is not None and platform is not None else None

    def _switch_port(self, node: str, out: str, conf: SwitchPort, filters: dict[str, frozenset[str]]) -> Port:
        """A switch port; a filtering one is locked, does not learn, and knows its accepted MACs statically."""
        accepted = filters.get(node)
        locked = accepted is not None
        return Port(id=node, out=out, hairpin=self._hairpin(conf.hairpin), learning=not locked, locked=locked,
                    isolated=conf.isolated, static=accepted or frozenset())

    def _host_bridges(self) -> None:
        d = self.design
        members: dict[str, list[Iface]] = {}
        for i in d.interfaces:  # enslaved NICs and veth ports, in the order the plan enslaves them
            if i.master and (i.kind == "parent" or (i.kind == "bridge-port" and self.wire.get(i.id))):
                members.setdefault(i.master, []).append(i)
        for b in d.interfaces:
            if b.kind != "bridge":
                continue
            ports = [Port(id=p.id, out=self.wire.get(p.id), hairpin=self._hairpin(p.hairpin), iface=p)
                     for p in reversed(members.get(b.id, []))]
            local = frozenset([b.mac] + [p.iface.mac for p in ports if p.iface is not None])
            br = Bridge(b.id, ports, {p.id: k for k, p in enumerate(ports)}, b, local, up=b.up)
            self.bridges[b.id] = br
            for k, p in enumerate(ports):
                self.port_of[p.id] = (br, k)

    def _macvlan_ports(self) -> None:
        for lower_id, kids in children_by_lower(self.design).items():
            made = [k for k in kids if k.id not in self.refused]
            by_mac: dict[str, Iface] = {}
            for k in made:
                by_mac.setdefault(k.mac, k)
            self.macvlan[lower_id] = MacvlanPort(self.by_id[lower_id], made, by_mac,
                                                 [k for k in made if k.mode == "source"],
                                                 next((k for k in made if k.mode == "passthru"), None))
            br = self.bridges.get(lower_id)
            if br is not None and any(k.mode != "passthru" for k in made):
                br.promisc = True  # dev_uc_add on a device without unicast filtering

    # -- layer 3 ----------------------------------------------------------------------------
    def _stacks(self) -> None:
        for i in self.design.interfaces:
            self.mac_owners.setdefault(i.mac, []).append(i)
            if i.kind == "bridge-port" or i.master:
                continue  # a bridge port hands everything to its bridge: no stack of its own
            self.stack_ifaces.setdefault(i.ns, []).append(i)
            for ip in i.ips:
                self.ip_owners.setdefault(ip, []).append(i)
            if i.link_local is not None and self.alive[i.id]:
                self.ip_owners.setdefault(i.link_local, []).append(i)
        self.forwarding = frozenset(i.ns for i in self.design.interfaces if i.forwarding)


    def local(self, ns: str) -> frozenset[IPAddress]:
        """Every address of a namespace's stack (the ones it answers ARP for and accepts packets to;
        with IPv6, the link-local addresses of its interfaces that have carrier too)."""
        got = self.local_ips.get(ns)
        if got is None:
            got = self.local_ips[ns] = frozenset(ip for i in self.stack_ifaces.get(ns, ()) for ip in self.own(i))
        return got

    def mark_dad(self, duplicates: list, racing: dict[str, frozenset[IPAddress]]) -> None:
        """The outcome of duplicate address detection: which holders' copies may go dadfailed."""
        self.duplicates = duplicates
        self.dad_racing = racing

    def own(self, i: Iface) -> frozenset[IPAddress]:
        """The addresses on interface ``i`` itself: what it answers neighbour solicitations for (IPv6
        answers only on the interface that holds the address, unlike ARP)."""
        got = self._own.get(i.id)
        if got is None:
            if self.family == 6 and not self.alive[i.id]:
                got = self._own[i.id] = frozenset()  # tentative until the link has carrier: not usable
                return got
            extra = (i.link_local,) if i.link_local is not None else ()
            got = self._own[i.id] = frozenset(i.ips + extra)
        return got

    def route_table(self, ns: str) -> list[Route]:
        """Connected prefixes of up interfaces (added with the addresses, first) and static routes, in
        lookup order: longest prefix first, then the order they were added. Built when first needed."""
        table = self.routes.get(ns)
        if table is not None:
            return table
        table = []
        order = 0
        ifs = self.stack_ifaces.get(ns, ())
        for i in ifs:
            if not i.up:
                continue
            for a in i.addresses:
                order += 1
                if a.network.prefixlen < a.max_prefixlen:  # a /32 (/128) adds no prefix route
                    net = a.network
                    table.append(Route(net.prefixlen, order, int(net.network_address),
                                       int(net.broadcast_address), i, None, True))
        for i in ifs:
            if not i.up:
                continue
            for r in i.routes:
                order += 1
                table.append(Route(r.to.prefixlen, order, int(r.to.network_address),
                                   int(r.to.broadcast_address), i, r.via, False))
        table.sort(key=lambda r: (-r.prefixlen, r.order))
        self.routes[ns] = table
        return table

    def route(self, ns: str, target: IPAddress) -> tuple[Iface, IPAddress] | None:
        """(egress interface, next hop) for ``target`` in namespace ``ns``, like ``fib_lookup``."""
        key = (ns, target)
        if key in self._route_cache:
            return self._route_cache[key]
        t = int(target)
        got = None
        for r in self.route_table(ns):
            if r.first <= t <= r.last:
                got = (r.iface, r.via or target)
                break
        self._route_cache[key] = got
        return got

    def route_via(self, ns: str, target: IPAddress, oif: Iface) -> tuple[Iface, IPAddress] | None:
        """The route an IPv6 answer takes: ``icmpv6_echo_reply`` asks for the interface the request came
        in on (``flowi6_oif``), which wins a tie between routes of the longest matching prefix (and only
        a tie: a longer prefix through another interface still wins; no route through it, any)."""
        best = self.route(ns, target)
        if best is None or best[0].id == oif.id:
            return best
        t = int(target)
        table = self.route_table(ns)
        plen = next(r.prefixlen for r in table if r.first <= t <= r.last)
        for r in table:
            if r.prefixlen == plen and r.first <= t <= r.last and r.iface.id == oif.id:
                return r.iface, r.via or target
        return best

    def static_neighbors(self, i: Iface) -> dict[IPAddress, str]:
        """Permanent neighbour entries of an interface (first entry per address wins)."""
        got = self._neigh_cache.get(i.id)
        if got is None:
            got = {}
            if i.neighbors == ALL_PEERS:
                nets = [a.network for a in i.addresses]
                for other in self.design.endpoints():
                    ip = other.ips[0]
                    if other.id != i.id and any(ip in n for n in nets):
                        got.setdefault(ip, other.mac)
            elif i.neighbors:
                for ip, mac in self.design.static_neighbors(i):
                    got.setdefault(ip, mac.lower())
            self._neigh_cache[i.id] = got
        return got

    def with_hairpin_everywhere(self) -> World:
        """The same world with hairpin on at every bridge and switch port (the fixer's what-if)."""
        other = copy.copy(self)
        other.force_hairpin = True
        other.bridges, other.port_of = {}, {}
        for bid, br in self.bridges.items():
            ports = [replace(p, hairpin=True) for p in br.ports]
            nb = replace(br, ports=ports)
            other.bridges[bid] = nb
            for k, p in enumerate(ports):
                other.port_of[p.id] = (nb, k)
        other._route_cache = self._route_cache
        return other

    def anchor(self, i: Iface) -> str:
        """The device an endpoint hangs off: a child's parent, else the endpoint itself."""
        return i.lower if i.is_child and i.lower else i.id
