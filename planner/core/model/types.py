"""The frozen model of a design: the objects a document describes and the flat interface view.

The model is description only (like Mininet's ``Topo``): it never touches the system. Every default
is already resolved when these objects exist (see :mod:`planner.core.model.load`). Interface ids
follow :mod:`planner.core.ids`.
"""
from __future__ import annotations

import ipaddress
from dataclasses import field, replace
from typing import Any

from ..ids import STATION, bridge_uplink_id, switch_port_id
from ..record import record
from ..schema import CHILD_TYPES, DEFAULT_MODE

__all__ = [
    "Route", "StaticNeighbor", "Uplink", "Parent", "Child", "VethPeer", "BridgePort", "Bridge",
    "Host", "SwitchPort", "Switch", "Station", "Design", "Iface", "Neighbors",
    "IMPLICIT_HOST", "ALL_PEERS", "DEFAULT_MTU", "resolve_ref", "neighbor_entries", "IPInterface", "IPAddress",
    "IPNetwork", "subnet_key", "eui64_link_local",
]

IMPLICIT_HOST = "host"
ALL_PEERS = "all-peers"
DEFAULT_MTU = 1500

# --------------------------------------------------------------------------- small values
@record(slots=True)
class Route:
    """A static route on an interface: ``ip route add TO [via VIA] dev IFACE``."""

    to: ipaddress.IPv4Network | ipaddress.IPv6Network
    via: ipaddress.IPv4Address | ipaddress.IPv6Address | None = None

    def to_dict(self) -> dict:
        d: dict[str, Any] = {"to": str(self.to)}
        if self.via is not None:
            d["via"] = str(self.via)
        return d


@record(slots=True)
class StaticNeighbor:
    """A permanent neighbour entry; either names a peer endpoint or gives address and MAC."""

    peer: str | None = None
    address: ipaddress.IPv4Address | ipaddress.IPv6Address | None = None
    mac: str | None = None

    def to_dict(self) -> dict:
        d: dict[str, Any] = {}
        if self.peer:
            d["peer"] = self.peer
        if self.address is not None:
            d["address"] = str(self.address)
        if self.mac:
            d["mac"] = self.mac
        return d


@record
class Uplink:
    """Where a parent NIC or a station is cabled: a switch port or a Linux bridge port."""

    port: str
    switch: str | None = None
    bridge: str | None = None

    def to_dict(self) -> dict:
        d = {"switch": self.switch} if self.switch else {"bridge": self.bridge}
        d["port"] = self.port
        return d

    @property
    def node(self) -> str:
        return switch_port_id(self.switch, self.port) if self.switch else bridge_uplink_id(str(self.bridge), self.port)


Neighbors = tuple[StaticNeighbor, ...] | str  # a tuple, or the literal ALL_PEERS
IPInterface = ipaddress.IPv4Interface | ipaddress.IPv6Interface
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def subnet_key(net: IPNetwork) -> tuple[int, int, int]:
    """(version, first address, prefix length): equal exactly when the networks are, and hashed
    by the interpreter, where a network's own ``__hash__`` is Python code (~1 us). For the rules'
    and the classes' dictionaries of subnets, which a 10,000-child design fills 10,000 times."""
    return net.version, net.network_address._ip, net._prefixlen  # type: ignore[union-attr]


def eui64_link_local(mac: str) -> ipaddress.IPv6Address:
    """The link-local address the kernel gives an interface (``addr_gen_mode`` eui64, the default):
    fe80::/64 with the MAC's universal/local bit flipped and ff:fe in the middle.

    >>> str(eui64_link_local("02:00:00:00:00:01"))
    'fe80::ff:fe00:1'
    """
    b = bytes.fromhex(mac.replace(":", ""))
    iid = bytes([b[0] ^ 0x02]) + b[1:3] + b"\xff\xfe" + b[3:6]
    return ipaddress.IPv6Address(b"\xfe\x80" + bytes(6) + iid)


def neighbor_entries(neighbors: Neighbors) -> tuple[StaticNeighbor, ...]:
    """The listed entries (none for ALL_PEERS, which the world expands itself)."""
    return () if isinstance(neighbors, str) else neighbors


@record(slots=True)
class _L3:
    """Layer-3 configuration shared by every addressable interface."""

    addresses: tuple[ipaddress.IPv4Interface, ...] = ()
    neighbors: Neighbors = ()
    routes: tuple[Route, ...] = ()
    #: the IPv6 addresses and routes (a document lists both families in one list; the loader splits them)
    addresses6: tuple[ipaddress.IPv6Interface, ...] = ()
    routes6: tuple[Route, ...] = ()
    #: the interface's namespace routes packets between its subnets (both families; the sysctls are the
    #: namespace's: ``net.ipv4.ip_forward``, ``net.ipv6.conf.all.forwarding``)
    forwarding: bool = False


@record(slots=True)
class Parent(_L3):
    """A NIC of a host that children hang off. Exists before mvplan runs (or is a veth)."""

    name: str = ""
    kind: str = "ethernet"
    mac: str = ""
    mtu: int = DEFAULT_MTU
    #: the design says the MTU (the plan then sets it); otherwise 1500 is only what mvplan assumes
    mtu_explicit: bool = False
    state: str = "up"
    uplink: Uplink | None = None
    #: where the NIC lives (:data:`planner.core.schema.PLATFORMS`); "" when the design does not say
    platform: str = ""


@record(slots=True)
class Child(_L3):
    """A macvlan or macvtap interface on a parent, optionally moved into a namespace."""

    name: str = ""
    type: str = "macvlan"
    parent: str = ""
    mode: str = DEFAULT_MODE
    mac: str = ""
    mac_explicit: bool = False
    mtu: int = DEFAULT_MTU
    mtu_explicit: bool = False
    state: str = "up"
    nopromisc: bool = False
    source_macs: tuple[str, ...] = ()
    namespace: str = ""


@record(slots=True)
class VethPeer(_L3):
    """The far end of a bridge port's veth pair, living in a namespace."""

    name: str = ""
    namespace: str = ""
    mac: str = ""
    mtu: int = DEFAULT_MTU
    state: str = "up"


@record
class BridgePort:
    """A port of a Linux bridge: a veth end (with a peer, or cabled to a parent) or an enslaved device."""

    name: str
    hairpin: bool = False
    enslave: bool = False
    peer: VethPeer | None = None
    mac: str = ""


@record(slots=True)
class Bridge(_L3):
    """A Linux bridge on a host (host namespace)."""

    name: str = ""
    mac: str = ""
    mtu: int = DEFAULT_MTU
    state: str = "up"
    ports: tuple[BridgePort, ...] = ()


@record
class Host:
    name: str
    parents: tuple[Parent, ...] = ()
    children: tuple[Child, ...] = ()
    bridges: tuple[Bridge, ...] = ()
    implicit: bool = False


@record
class SwitchPort:
    name: str
    hairpin: bool = False
    #: client isolation (``bridge link set dev P isolated on``)
    isolated: bool = False
    #: port security: only these source MACs (and the cabled device's own) get in; None: no filter
    allowed_macs: tuple[str, ...] | None = None


@record
class Switch:
    """An external switch; ports may reflect frames (hairpin / reflective relay)."""

    name: str
    ports: tuple[SwitchPort, ...] = ()

    def port(self, name: str) -> SwitchPort | None:
        return next((p for p in self.ports if p.name == name), None)


@record(slots=True)
class Station(_L3):
    """An external machine on a switch port (a gateway, a server)."""

    name: str = ""
    uplink: Uplink | None = None
    mac: str = ""


@record(slots=True)
class Iface:
    """One interface of the design, flattened, with every default resolved.

    ``kind`` is one of ``parent``, ``macvlan``, ``macvtap``, ``bridge``, ``bridge-port``,
    ``veth-peer``, ``station``. ``link`` is the node at the far end of the cable or veth
    (another iface id, ``switch:S/P``, or ``None``); ``lower`` is the effective parent of a
    child (after the kernel's re-parenting of macvlan-on-macvlan); ``master`` is the bridge
    a port belongs to.
    """

    id: str
    kind: str
    host: str | None
    namespace: str
    ns: str
    name: str
    mac: str
    mtu: int
    state: str
    #: the addresses of the design's family (IPv4; in :meth:`Design.family_view` of 6, the IPv6 ones)
    addresses: tuple[IPInterface, ...]
    neighbors: Neighbors
    routes: tuple[Route, ...]
    path: str
    mode: str | None = None
    lower: str | None = None
    declared_lower: str | None = None
    link: str | None = None
    master: str | None = None
    hairpin: bool = False
    source_macs: tuple[str, ...] = ()
    nopromisc: bool = False
    parent_kind: str | None = None
    platform: str = ""
    #: the interface's namespace forwards packets not addressed to it (a gateway)
    forwarding: bool = False
    addresses6: tuple[ipaddress.IPv6Interface, ...] = ()
    routes6: tuple[Route, ...] = ()
    #: the automatic IPv6 link-local address (EUI-64 of the MAC); set in the IPv6 view only
    link_local: ipaddress.IPv6Address | None = None
    #: the addresses without their prefixes (``IPv4Interface.ip`` builds a new object on every access)
    ips: tuple[IPAddress, ...] = field(init=False, repr=False, compare=False)
    #: a macvlan or macvtap device (asked ~20 times per interface by the rules and the prediction)
    is_child: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "ips", tuple(a.ip for a in self.addresses))
        object.__setattr__(self, "is_child", self.kind in CHILD_TYPES)

    @property
    def up(self) -> bool:
        return self.state == "up"

    @property
    def address(self) -> IPInterface | None:
        """The endpoint address: the first one configured."""
        return self.addresses[0] if self.addresses else None

    @property
    def ip(self) -> IPAddress | None:
        """The endpoint address without its prefix."""
        ips = self.ips
        return ips[0] if ips else None


# --------------------------------------------------------------------------- design
@record
class Design:
    name: str = "design"
    description: str = ""
    hosts: tuple[Host, ...] = ()
    switches: tuple[Switch, ...] = ()
    stations: tuple[Station, ...] = ()
    layout: dict = field(default_factory=dict, compare=False, hash=False)
    interfaces: tuple[Iface, ...] = field(default=(), compare=False, hash=False, repr=False)
    #: the address family the interfaces' ``addresses``/``routes`` are of (see :meth:`family_view`)
    family: int = field(default=4, compare=False, hash=False)

    def family_view(self, family: int) -> Design:
        """The design as one address family sees it: for 6, every interface's ``addresses`` and
        ``routes`` are its IPv6 ones and it has its automatic link-local address (built once)."""
        if family == self.family:
            return self
        if family != 6 or self.family != 4:
            raise ValueError(f"no family view {family} of a family-{self.family} design")
        view = self.__dict__.get("_view6")
        if view is None:
            ifaces = tuple(replace(i, addresses=i.addresses6, routes=i.routes6, addresses6=(), routes6=(),
                                   link_local=eui64_link_local(i.mac) if i.mac else None)
                           for i in self.interfaces)
            view = Design(name=self.name, description=self.description, hosts=self.hosts, switches=self.switches,
                          stations=self.stations, layout=self.layout, interfaces=ifaces, family=6)
            object.__setattr__(self, "_view6", view)
        return view

    def has_ipv6(self) -> bool:
        """Whether any interface has an IPv6 address (the IPv6 view then has endpoints)."""
        got = self.__dict__.get("_has_ipv6")
        if got is None:
            got = any(i.addresses6 for i in self.interfaces)
            object.__setattr__(self, "_has_ipv6", got)
        return got

    # -- lookups ----------------------------------------------------------------------
    def iface(self, iid: str) -> Iface:
        return self._index()[iid]

    def get_iface(self, iid: str) -> Iface | None:
        return self._index().get(iid)

    def _index(self) -> dict[str, Iface]:
        idx = self.__dict__.get("_iface_index")
        if idx is None:
            idx = {i.id: i for i in self.interfaces}
            object.__setattr__(self, "_iface_index", idx)
        return idx

    def host(self, name: str) -> Host | None:
        return next((h for h in self.hosts if h.name == name), None)

    def switch(self, name: str) -> Switch | None:
        return next((s for s in self.switches if s.name == name), None)

    def children_of(self, lower_id: str) -> list[Iface]:
        """Children whose effective parent is ``lower_id``, in design order."""
        return self.children_index().get(lower_id, [])

    def children_index(self) -> dict[str, list[Iface]]:
        """Effective parent id -> its children, in design (creation) order; built once."""
        groups = self.__dict__.get("_children_index")
        if groups is None:
            groups = {}
            for i in self.interfaces:
                if i.is_child and i.lower:
                    groups.setdefault(i.lower, []).append(i)
            object.__setattr__(self, "_children_index", groups)
        return groups

    def endpoints(self) -> list[Iface]:
        """Interfaces with an address of the design's family, in design order: the things that ping
        (built once)."""
        eps = self.__dict__.get("_endpoints")
        if eps is None:
            eps = [i for i in self.interfaces if i.addresses]
            object.__setattr__(self, "_endpoints", eps)
        return list(eps)

    def namespaces(self) -> list[str]:
        seen: dict[str, None] = {}
        for i in self.interfaces:
            seen.setdefault(i.ns, None)
        return list(seen)

    def static_neighbors(self, iface: Iface) -> list[tuple[IPAddress, str]]:
        """Resolve an interface's static neighbour entries of the design's family to (address, MAC)
        pairs (a peer entry names the peer's first address of that family; a peer without one is skipped)."""
        if iface.neighbors == ALL_PEERS:
            out = []
            nets = [a.network for a in iface.addresses]
            for other in self.endpoints():
                if other.id == iface.id:
                    continue
                ip = other.ips[0]
                if any(ip in n for n in nets):
                    out.append((ip, other.mac))
            return out
        out = []
        for n in neighbor_entries(iface.neighbors):
            if n.address is not None and n.address.version != self.family:
                continue
            if n.peer:
                peer = self.iface(resolve_ref(self, n.peer, iface.host))
                got = n.address or (peer.ips[0] if peer.ips else None)
                if got is not None:
                    out.append((got, n.mac or peer.mac))
            else:
                assert n.address is not None and n.mac is not None, "the loader requires both without a peer"
                out.append((n.address, n.mac))
        return out

    def all_static_neighbors(self, iface: Iface) -> list[tuple[IPAddress, str]]:
        """The static entries of both families (what the applier and the exporters write)."""
        out = self.static_neighbors(iface)
        if self.family == 4 and iface.neighbors and self.has_ipv6():
            view = self.family_view(6)
            out += view.static_neighbors(view.iface(iface.id))
        return out

    def static_mac_for(self, iface: Iface, ip: IPAddress) -> str | None:
        """MAC of a static neighbour entry on ``iface`` for ``ip``, or None (fast path for all-peers)."""
        if iface.neighbors == ALL_PEERS:
            if not any(ip in a.network for a in iface.addresses):
                return None
            owner = self.address_owner(ip)
            return owner.mac if owner is not None and owner.id != iface.id else None
        for addr, mac in self.static_neighbors(iface):
            if addr == ip:
                return mac
        return None

    def address_owner(self, ip: IPAddress) -> Iface | None:
        """The first interface (design order) whose endpoint address is ``ip``."""
        idx = self.__dict__.get("_addr_index")
        if idx is None:
            idx = {}
            for i in self.endpoints():
                idx.setdefault(i.ips[0], i)
            object.__setattr__(self, "_addr_index", idx)
        return idx.get(ip)


def resolve_ref(design_or_ids: Design | dict[str, Any], ref: str, host: str | None) -> str:
    """Turn an endpoint reference into an iface id.

    ``station:gw``, ``host1/eth0``, ``host1/ns:web/eth0`` are absolute; ``eth0`` and
    ``ns:web/eth0`` are relative to ``host``.
    """
    if ref.startswith(STATION):
        return ref
    ids = design_or_ids._index() if isinstance(design_or_ids, Design) else design_or_ids
    if ref in ids:
        return ref
    if host is not None:
        rel = f"{host}/{ref}"
        if rel in ids:
            return rel
    return ref
