"""Read the live network state of a host (or of namespaces standing for one) into a LiveState.

One link dump, one IPv4 address dump, one route dump and one neighbour dump per namespace, parsed
with ``struct`` (statistics skipped by the kernel via ``IFLA_EXT_MASK``), so reading 1,000
macvlans takes milliseconds. What is read, in design words (see :mod:`planner.core.livestate`):

* links (not ``lo``): kind (``veth``/``bridge``/``macvlan``/``macvtap``/... or None for a NIC),
  macvlan mode, ``nopromisc``, the source-MAC list, MAC, MTU, admin state, master, bridge-port
  hairpin, ifalias, and the lower device / veth peer with the design namespace it is in;
* IPv4 addresses, static routes of the main table (not ``proto kernel``), permanent neighbours.

``read_live(netns=None)`` reads the machine; ``read_live("lab1")`` reads netns ``lab1`` as the
host's own namespace and ``lab1-<ns>`` as its namespaces (see :mod:`planner.netlink.target`).
"""
from __future__ import annotations

import os
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field

from planner.core.livestate import (
    LiveAddress,
    LiveHost,
    LiveLink,
    LiveNamespace,
    LiveNeighbor,
    LiveRoute,
    LiveState,
)

from . import _nl
from ._nl import (
    AF_INET,
    AF_INET6,
    FORWARDING_SYSCTLS,
    IFA,
    IFF_LOWER_UP,
    IFF_UP,
    IFI,
    IFLA_ADDRESS,
    IFLA_BRPORT_MODE,
    IFLA_IFALIAS,
    IFLA_IFNAME,
    IFLA_INFO_DATA,
    IFLA_INFO_KIND,
    IFLA_INFO_SLAVE_DATA,
    IFLA_INFO_SLAVE_KIND,
    IFLA_LINK,
    IFLA_LINK_NETNSID,
    IFLA_LINKINFO,
    IFLA_MACVLAN_FLAGS,
    IFLA_MACVLAN_MACADDR,
    IFLA_MACVLAN_MACADDR_DATA,
    IFLA_MACVLAN_MODE,
    IFLA_MASTER,
    IFLA_MTU,
    MACVLAN_FLAG_NOPROMISC,
    MACVLAN_MODE_NAMES,
    NDA_DST,
    NDA_LLADDR,
    NDM,
    NUD_PERMANENT,
    RT_TABLE_MAIN,
    RTA_DST,
    RTA_GATEWAY,
    RTA_OIF,
    RTA_TABLE,
    RTM,
    RTMSG,
    RTN_UNICAST,
    RTPROT_KERNEL,
    cstr,
    i32,
    mac_str,
    parse_attrs,
    parse_list,
    sysctls_in,
    u32,
)
from .target import Target

__all__ = ["NsSnapshot", "RawLink", "read_live", "read_namespaces"]

IFF_LOOPBACK = 0x8
CHILD_KINDS = ("macvlan", "macvtap")


@dataclass
class RawLink:
    """A link as the kernel reports it, before names of other namespaces are resolved."""

    index: int
    name: str
    kind: str | None
    flags: int
    mac: str | None
    mtu: int | None
    master: int | None
    alias: str | None
    link: int | None
    link_netnsid: int | None
    mode: str | None = None
    nopromisc: bool | None = None
    source_macs: tuple[str, ...] | None = None
    slave_kind: str | None = None
    hairpin: bool | None = None


@dataclass
class NsSnapshot:
    """Everything read from one namespace (design name ``ns``)."""

    ns: str
    links: list[RawLink] = field(default_factory=list)
    addresses: list[LiveAddress] = field(default_factory=list)
    routes: list[LiveRoute] = field(default_factory=list)
    neighbors: list[LiveNeighbor] = field(default_factory=list)
    by_index: dict[int, RawLink] = field(default_factory=dict)
    forwarding: bool | None = None

    def index_of(self) -> dict[str, int]:
        return {lk.name: lk.index for lk in self.links}


_LINK_ATTRS = frozenset({IFLA_ADDRESS, IFLA_IFNAME, IFLA_MTU, IFLA_LINK, IFLA_MASTER, IFLA_LINKINFO, IFLA_IFALIAS,
                         IFLA_LINK_NETNSID})


def _ip4(raw: bytes) -> str:
    return socket.inet_ntoa(raw)


def _parse_link(m: bytes) -> RawLink | None:
    """One RTM_NEWLINK message (not ``lo``) as a RawLink. Runs once per link per read (10,000
    times in an apply of 5,000 children), hence the look-ups by ``get`` and positional fields."""
    _family, _type, index, flags, _change = IFI.unpack_from(m, 16)
    if flags & IFF_LOOPBACK:
        return None
    a = parse_attrs(m, 32, len(m), _LINK_ATTRS)
    get = a.get
    raw_name = get(IFLA_IFNAME)
    kind, mode, nopromisc, sources, slave_kind, hairpin = _link_info(get(IFLA_LINKINFO))
    mac, mtu, master, alias = get(IFLA_ADDRESS), get(IFLA_MTU), get(IFLA_MASTER), get(IFLA_IFALIAS)
    raw_link, raw_netnsid = get(IFLA_LINK), get(IFLA_LINK_NETNSID)
    link = u32(raw_link) if raw_link is not None else None
    netnsid = i32(raw_netnsid) if raw_netnsid is not None else None
    if link == index and netnsid is None:
        link = None
    return RawLink(index, cstr(raw_name) if raw_name is not None else f"if{index}", kind, flags,
                   mac_str(mac) if mac is not None and len(mac) == 6 else None,
                   u32(mtu) if mtu is not None else None, u32(master) if master is not None else None,
                   (cstr(alias) or None) if alias is not None else None, link, netnsid, mode, nopromisc, sources,
                   slave_kind, hairpin)


def _link_info(li: bytes | None) -> tuple[str | None, str | None, bool | None, tuple[str, ...] | None,
                                          str | None, bool | None]:
    """(kind, macvlan mode, nopromisc, source MACs, slave kind, hairpin) from ``IFLA_LINKINFO``;
    the macvlan fields are None for other kinds, hairpin for a link that is no bridge port."""
    if li is None:
        return None, None, None, None, None, None
    info = parse_attrs(li, 0, len(li))
    raw_kind = info.get(IFLA_INFO_KIND)
    kind = cstr(raw_kind) if raw_kind is not None else None
    mode = slave_kind = None
    nopromisc = hairpin = None
    sources: tuple[str, ...] | None = None
    if kind in CHILD_KINDS:
        sources = ()
        data = info.get(IFLA_INFO_DATA)
        if data is not None:
            d = parse_attrs(data, 0, len(data))
            raw_mode = d.get(IFLA_MACVLAN_MODE)
            if raw_mode is not None:
                number = u32(raw_mode)
                mode = MACVLAN_MODE_NAMES.get(number) or str(number)
            fl = d.get(IFLA_MACVLAN_FLAGS)
            nopromisc = bool(fl[0] & MACVLAN_FLAG_NOPROMISC) if fl else False
            macs = d.get(IFLA_MACVLAN_MACADDR_DATA)
            if macs:
                sources = tuple(mac_str(p) for t, p in parse_list(macs) if t == IFLA_MACVLAN_MACADDR and len(p) == 6)
    raw_slave = info.get(IFLA_INFO_SLAVE_KIND)
    if raw_slave is not None:
        slave_kind = cstr(raw_slave)
        sdata = info.get(IFLA_INFO_SLAVE_DATA)
        if slave_kind == "bridge" and sdata is not None:
            port = parse_attrs(sdata, 0, len(sdata)).get(IFLA_BRPORT_MODE)
            if port is not None:
                hairpin = bool(port[0])
    return kind, mode, nopromisc, sources, slave_kind, hairpin


def _read_ns(ch: _nl.Channel, ns: str) -> NsSnapshot:
    snap = NsSnapshot(ns=ns)
    for m in ch.link_dump():
        lk = _parse_link(m)
        if lk is not None:
            snap.links.append(lk)
            snap.by_index[lk.index] = lk
    names = {lk.index: lk.name for lk in snap.links}
    for family in (AF_INET, AF_INET6):
        _read_l3(ch, family, names, snap)
    return snap


#: IFA_F_PERMANENT: an address configured by hand (not one the kernel made itself, like a link-local)
_IFA_F_PERMANENT = 0x80
_RT_SCOPE_LINK = 253


def _read_l3(ch, family: int, names: dict[int, str], snap: NsSnapshot) -> None:
    """Addresses, static routes and permanent neighbour entries of one family. IPv6 link-local
    addresses and the kernel's own routes (connected, fe80::/64, multicast) are not the design's."""
    ip = _ip4 if family == AF_INET else _ip6
    for _t, m in ch.dump(RTM["GETADDR"], IFA.pack(family, 0, 0, 0, 0)):
        fam, plen, _fl, scope, index = IFA.unpack_from(m, 16)
        if fam != family or index not in names or (family == AF_INET6 and scope == _RT_SCOPE_LINK):
            continue
        a = parse_attrs(m, 24, len(m))
        raw = a.get(2) or a.get(1)  # IFA_LOCAL, else IFA_ADDRESS
        if raw is None:
            continue
        snap.addresses.append(LiveAddress(names[index], f"{ip(raw)}/{plen}"))
    for _t, m in ch.dump(RTM["GETROUTE"], RTMSG.pack(family, 0, 0, 0, RT_TABLE_MAIN, 0, 0, 0, 0)):
        fam, dst_len, _src_len, _tos, table, proto, _scope, rtype, _flags = RTMSG.unpack_from(m, 16)
        # cheap header checks first: most of a dump is local/broadcast and connected routes
        if fam != family or rtype != RTN_UNICAST or proto == RTPROT_KERNEL or table not in (RT_TABLE_MAIN, 252):
            continue
        a = parse_attrs(m, 28, len(m))
        if RTA_TABLE in a:
            table = u32(a[RTA_TABLE])
        if table != RT_TABLE_MAIN:
            continue
        if RTA_OIF not in a or u32(a[RTA_OIF]) not in names:
            continue
        dst = ip(a[RTA_DST]) if RTA_DST in a else ("0.0.0.0" if family == AF_INET else "::")
        via = ip(a[RTA_GATEWAY]) if RTA_GATEWAY in a else None
        snap.routes.append(LiveRoute(names[u32(a[RTA_OIF])], f"{dst}/{dst_len}", via))
    for _t, m in ch.dump(RTM["GETNEIGH"], NDM.pack(family, 0, 0, 0, 0)):
        fam, index, state, _fl, _type = NDM.unpack_from(m, 16)
        if fam != family or not state & NUD_PERMANENT or index not in names:
            continue
        a = parse_attrs(m, 28, len(m))
        if NDA_DST not in a or NDA_LLADDR not in a:
            continue
        snap.neighbors.append(LiveNeighbor(names[index], ip(a[NDA_DST]), mac_str(a[NDA_LLADDR])))


def _ip6(raw: bytes) -> str:
    return socket.inet_ntop(socket.AF_INET6, raw)


def read_namespaces(target: Target, namespaces: Iterable[str]) -> dict[str, NsSnapshot]:
    """Raw snapshots of the existing design namespaces among ``namespaces`` ("" always read)."""
    out: dict[str, NsSnapshot] = {}
    for ns in dict.fromkeys(["", *namespaces]):
        if not target.exists(ns):
            continue
        out[ns] = _read_ns(target.channel(ns), ns)
        out[ns].forwarding = read_forwarding(target, ns)
    return out


def read_forwarding(target: Target, ns: str) -> bool | None:
    """Whether a namespace routes: ``net.ipv4.ip_forward`` and, where IPv6 is there, its ``all``
    forwarding both 1 (None: the files cannot be read)."""
    try:
        got = sysctls_in(target.enter_fd(ns), FORWARDING_SYSCTLS)
    except OSError:
        return None
    v4, v6 = got[FORWARDING_SYSCTLS[0]], got[FORWARDING_SYSCTLS[1]]
    if v4 is None:
        return None
    return v4 == "1" and v6 in (None, "1")


def _resolve_ns(target: Target, snaps: dict[str, NsSnapshot], ns: str, nsid: int, cache: dict) -> str | None:
    """Design namespace behind ``nsid`` as seen from ``ns`` (None: not one of ours)."""
    key = (ns, nsid)
    if key in cache:
        return cache[key]
    ch = target.channel(ns)
    found = None
    for other in snaps:
        if other == ns:
            continue
        if ch.nsid_of(target.fd(other)) == nsid:
            found = other
            break
    cache[key] = found
    return found


def to_live_host(target: Target, snaps: dict[str, NsSnapshot], host: str) -> LiveHost:
    """Resolve indexes to names across namespaces and build the LiveHost."""
    cache: dict = {}
    namespaces = []
    for ns, snap in snaps.items():
        links = []
        for lk in snap.links:
            link = link_ns = None
            if lk.link is not None and lk.kind in CHILD_KINDS + ("veth",):
                other_ns = ns if lk.link_netnsid is None else _resolve_ns(target, snaps, ns, lk.link_netnsid, cache)
                if other_ns is not None and other_ns in snaps:
                    other = snaps[other_ns].by_index.get(lk.link)
                    if other is not None:
                        link, link_ns = other.name, other_ns
            master = snap.by_index.get(lk.master) if lk.master else None
            links.append(LiveLink(
                name=lk.name, kind=lk.kind, mode=lk.mode, mac=lk.mac, mtu=lk.mtu,
                state="up" if lk.flags & IFF_UP else "down",
                master=master.name if master else None,
                hairpin=lk.hairpin if (master is not None and master.kind == "bridge") else None,
                alias=lk.alias, link=link, link_ns=link_ns, source_macs=lk.source_macs, nopromisc=lk.nopromisc,
                carrier=bool(lk.flags & IFF_LOWER_UP)))
        namespaces.append(LiveNamespace(name=ns, links=tuple(links), addresses=tuple(snap.addresses),
                                        routes=tuple(snap.routes), neighbors=tuple(snap.neighbors),
                                        forwarding=snap.forwarding))
    return LiveHost(name=host, namespaces=tuple(namespaces))


def read_live(netns: str | None = None, *, host: str = "host", namespaces: Iterable[str] | None = None,
              prefix: str | None = None, target: Target | None = None) -> LiveState:
    """Read a host's live state.

    ``netns`` names the netns standing for the host (None: this machine). ``namespaces`` lists
    the design namespaces to read besides the host's own; by default every existing netns named
    ``<prefix><ns>`` (inside a target netns), or - on the machine, where the prefix is empty -
    every named netns with a link whose lower device or veth peer is in the host namespace.
    """
    own = target is None
    if target is None:
        target = Target(netns, prefix)
    try:
        if namespaces is None:
            namespaces = discover_namespaces(target)
        snaps = read_namespaces(target, namespaces)
        return LiveState(hosts=(to_live_host(target, snaps, host),))
    finally:
        if own:
            target.close()


def discover_namespaces(target: Target) -> list[str]:
    """The design namespaces of a target: prefixed netns, or (empty prefix) connected ones."""
    if target.prefix:
        return target.design_namespaces()
    from .target import list_netns

    out = []
    own = target.fd("")
    for name in list_netns():
        if target.netns is not None and name == target.netns:
            continue
        try:
            fd = _nl.ns_fd(name)
        except (OSError, _nl.NetlinkError):
            continue
        try:
            ch = _nl.Channel(fd)
        finally:
            os.close(fd)
        try:
            nsid = ch.nsid_of(own)
            if nsid is None:
                continue
            links = (_parse_link(m) for m in ch.link_dump())
            if any(lk is not None and lk.link_netnsid == nsid for lk in links):
                out.append(name)
        finally:
            ch.close()
    return out
