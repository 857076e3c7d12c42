"""Run single operations against the kernel: one op, one netlink request (or one netns call).

:class:`Executor` maps every op type of :mod:`planner.core.ops` to the request ``ip`` would send for
the exporter's command line of that op (see :data:`NETLINK_CALLS`, which the parity test and
``docs/apply.md`` use). Links are addressed by name wherever the kernel allows it
(``RTM_NEWLINK``/``RTM_DELLINK`` with ``IFLA_IFNAME``); addresses, neighbours, routes, masters and
moves need an ifindex, taken from a per-namespace cache that creates fill from the kernel's
``NLM_F_ECHO`` reply and that falls back to one ``RTM_GETLINK`` by name.
"""
from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from typing import Any

from pyroute2 import netns as _pnetns

from planner.core.errors import MvplanError
from planner.core.ops import (
    AddAddress,
    AddNeighbor,
    AddRoute,
    CreateBridge,
    CreateMacvlan,
    CreateNamespace,
    CreateVeth,
    DelAddress,
    DeleteLink,
    DeleteNamespace,
    DelNeighbor,
    DelRoute,
    MoveToNamespace,
    Op,
    SetAlias,
    SetBridgePort,
    SetForwarding,
    SetHairpin,
    SetLinkDown,
    SetLinkUp,
    SetMac,
    SetMode,
    SetMtu,
    SetSourceMacs,
    UnsetBridgePort,
)

from . import _nl
from ._nl import (
    AF_INET,
    AF_INET6,
    ECHO,
    F_CREATE,
    F_REQ,
    FORWARDING_SYSCTLS,
    IFF_UP,
    IFLA_ADDRESS,
    IFLA_BRPORT_MODE,
    IFLA_IFALIAS,
    IFLA_IFNAME,
    IFLA_INFO_DATA,
    IFLA_INFO_KIND,
    IFLA_INFO_SLAVE_DATA,
    IFLA_INFO_SLAVE_KIND,
    IFLA_LINK,
    IFLA_LINKINFO,
    IFLA_MACVLAN_BC_QUEUE_LEN,
    IFLA_MACVLAN_FLAGS,
    IFLA_MACVLAN_MACADDR,
    IFLA_MACVLAN_MACADDR_DATA,
    IFLA_MACVLAN_MACADDR_MODE,
    IFLA_MACVLAN_MODE,
    IFLA_MASTER,
    IFLA_MTU,
    IFLA_NET_NS_FD,
    MACVLAN_FLAG_NOPROMISC,
    MACVLAN_MACADDR_FLUSH,
    MACVLAN_MACADDR_SET,
    MACVLAN_MODES,
    NDA_DST,
    NDA_LLADDR,
    RT_SCOPE_LINK,
    RT_SCOPE_NOWHERE,
    RT_SCOPE_UNIVERSE,
    RTA_DST,
    RTA_GATEWAY,
    RTA_OIF,
    RTM,
    VETH_INFO_PEER,
    NetlinkError,
    ifaddr,
    ifinfo,
    mac_bytes,
    ndmsg,
    nla,
    nla_nest,
    nla_str,
    nla_u32,
    rtmsg,
    sysctls_in,
)
from .target import Target

__all__ = ["NETLINK_CALLS", "Executor", "StepError"]

#: op kind -> the netlink request (or namespace call) the applier makes for it
NETLINK_CALLS = {
    "create-namespace": "pyroute2.netns.create(<prefix>NAME)",
    "delete-namespace": "pyroute2.netns.remove(<prefix>NAME)",
    "create-bridge": "RTM_NEWLINK create|excl IFLA_IFNAME IFLA_ADDRESS IFLA_MTU IFLA_LINKINFO{kind bridge}",
    "create-veth": "RTM_NEWLINK create|excl IFLA_IFNAME ... IFLA_LINKINFO{kind veth, data{VETH_INFO_PEER{"
                   "IFLA_IFNAME IFLA_ADDRESS IFLA_MTU IFLA_NET_NS_FD}}}",
    "create-macvlan": "RTM_NEWLINK create|excl IFLA_IFNAME IFLA_LINK IFLA_ADDRESS IFLA_MTU [IFLA_NET_NS_FD] "
                      "IFLA_LINKINFO{kind macvlan|macvtap, data{IFLA_MACVLAN_MODE [FLAGS nopromisc]}}",
    "delete-link": "RTM_DELLINK IFLA_IFNAME",
    "set-alias": "RTM_NEWLINK IFLA_IFNAME IFLA_IFALIAS",
    "move-to-namespace": "RTM_NEWLINK ifindex IFLA_NET_NS_FD IFLA_IFNAME(new name)",
    "set-mode": "RTM_NEWLINK IFLA_IFNAME IFLA_LINKINFO{kind, data{IFLA_MACVLAN_MODE}}",
    "set-mtu": "RTM_NEWLINK IFLA_IFNAME IFLA_MTU",
    "set-mac": "RTM_NEWLINK IFLA_IFNAME IFLA_ADDRESS",
    "set-source-macs": "RTM_NEWLINK IFLA_IFNAME IFLA_LINKINFO{kind, data{MACADDR_MODE set, MACADDR_DATA}}",
    "set-bridge-port": "RTM_NEWLINK IFLA_IFNAME IFLA_MASTER(ifindex)",
    "unset-bridge-port": "RTM_NEWLINK IFLA_IFNAME IFLA_MASTER(0)",
    "set-hairpin": "RTM_NEWLINK IFLA_IFNAME IFLA_LINKINFO{slave_kind bridge, slave_data{IFLA_BRPORT_MODE}}",
    "add-address": "RTM_NEWADDR create|excl ifindex IFA_LOCAL IFA_ADDRESS",
    "del-address": "RTM_DELADDR ifindex IFA_LOCAL IFA_ADDRESS",
    "add-neighbor": "RTM_NEWNEIGH create|excl ifindex NUD_PERMANENT NDA_DST NDA_LLADDR",
    "del-neighbor": "RTM_DELNEIGH ifindex NDA_DST",
    "add-route": "RTM_NEWROUTE create|excl table main proto boot RTA_DST [RTA_GATEWAY] RTA_OIF",
    "del-route": "RTM_DELROUTE table main RTA_DST [RTA_GATEWAY] RTA_OIF",
    "set-forwarding": "(no netlink) /proc/sys/net/ipv4/ip_forward and /proc/sys/net/ipv6/conf/all/forwarding, "
                      "written inside the namespace",
    "set-link-up": "RTM_NEWLINK IFLA_IFNAME flags IFF_UP",
    "set-link-down": "RTM_NEWLINK IFLA_IFNAME flags ~IFF_UP",
}


class StepError(MvplanError):
    """One op failed in the kernel: names the op and keeps the errno (``code``)."""

    def __init__(self, op: Op, code: int, message: str):
        self.op = op
        self.code = code
        super().__init__(f"{op.describe()}: {message}")


def _mode_number(mode: str) -> int:
    """The kernel's number for a macvlan mode; an unknown mode is what the kernel would say: EINVAL."""
    try:
        return MACVLAN_MODES[mode]
    except KeyError:
        raise NetlinkError(22, f"unknown macvlan mode {mode!r}") from None


def _name(n: str) -> bytes:
    return nla_str(IFLA_IFNAME, n)


class Executor:
    """Executes ops on a :class:`Target`, one synchronous netlink request per op."""

    def __init__(self, target: Target, index_hint: dict[str, dict[str, int]] | None = None):
        self.target = target
        self._idx: dict[str, dict[str, int]] = {ns: dict(m) for ns, m in (index_hint or {}).items()}
        # each handler takes its own op type; run() looks it up by that exact type
        self._dispatch: dict[type[Op], Callable[[Any], None]] = {
            CreateNamespace: self._create_ns, DeleteNamespace: self._delete_ns, CreateBridge: self._bridge,
            CreateVeth: self._veth, CreateMacvlan: self._macvlan, DeleteLink: self._delete,
            SetAlias: self._alias, MoveToNamespace: self._move, SetMode: self._mode, SetMtu: self._mtu,
            SetMac: self._mac, SetSourceMacs: self._sources, SetBridgePort: self._master,
            UnsetBridgePort: self._nomaster, SetHairpin: self._hairpin, AddAddress: self._addr,
            DelAddress: self._addr, AddNeighbor: self._neigh, DelNeighbor: self._neigh, AddRoute: self._route,
            DelRoute: self._route, SetLinkUp: self._updown, SetLinkDown: self._updown,
            SetForwarding: self._forwarding,
        }

    # -- public ---------------------------------------------------------------------
    def run(self, op: Op) -> None:
        try:
            self._dispatch[type(op)](op)
        except NetlinkError as exc:
            raise StepError(op, exc.code, f"{_errname(exc.code)}: {exc.args[1] if len(exc.args) > 1 else exc}") \
                from None
        except OSError as exc:
            raise StepError(op, exc.errno or 0, f"{_errname(exc.errno or 0)}: {exc.strerror or exc}") from None

    def index(self, ns: str, name: str) -> int:
        m = self._idx.setdefault(ns, {})
        i = m.get(name)
        if i is None:
            i = self.target.channel(ns).link_index(name)
            if i is None:
                raise NetlinkError(19, f"no link {name!r} in {self.target.describe(ns)}")
            m[name] = i
        return i

    def forget_all(self) -> None:
        self._idx.clear()

    # -- helpers ----------------------------------------------------------------------
    def _newlink(self, ns: str, attrs: bytes, flags: int = F_REQ, iflags: int = 0, change: int = 0,
                 index: int = 0) -> int | None:
        return self.target.channel(ns).request(RTM["NEWLINK"], flags, ifinfo(index, iflags, change) + attrs)

    def _created(self, ns: str, name: str, index: int | None) -> None:
        if index:
            self._idx.setdefault(ns, {})[name] = index

    # -- namespaces ---------------------------------------------------------------------
    def _create_ns(self, op: CreateNamespace) -> None:
        real = self.target.real_name(op.name)
        if self.target.exists(op.name):
            raise NetlinkError(17, f"network namespace {real} exists")
        _pnetns.create(real)

    def _delete_ns(self, op: DeleteNamespace) -> None:
        real = self.target.real_name(op.name)
        if not self.target.exists(op.name):
            raise NetlinkError(2, f"network namespace {real} does not exist")
        self.target.forget(op.name)
        _pnetns.remove(real)
        self.forget_all()

    # -- links --------------------------------------------------------------------------
    def _common(self, mac: str | None, mtu: int | None) -> bytes:
        out = b""
        if mac:
            out += nla(IFLA_ADDRESS, mac_bytes(mac))
        if mtu:
            out += nla_u32(IFLA_MTU, mtu)
        return out

    def _bridge(self, op: CreateBridge) -> None:
        linkinfo = nla_nest(IFLA_LINKINFO, nla_str(IFLA_INFO_KIND, "bridge"))
        attrs = _name(op.name) + self._common(op.mac, op.mtu) + linkinfo
        self._created(op.ns, op.name, self._newlink(op.ns, attrs, F_CREATE | ECHO))

    def _veth(self, op: CreateVeth) -> None:
        peer = ifinfo() + _name(op.peer) + self._common(op.peer_mac, op.peer_mtu)
        if op.peer_ns != op.ns:
            peer += nla_u32(IFLA_NET_NS_FD, self.target.fd(op.peer_ns))
        info = nla_nest(IFLA_LINKINFO, nla_str(IFLA_INFO_KIND, "veth"),
                        nla_nest(IFLA_INFO_DATA, nla(VETH_INFO_PEER, peer)))
        attrs = _name(op.name) + self._common(op.mac, op.mtu) + info
        self._created(op.ns, op.name, self._newlink(op.ns, attrs, F_CREATE | ECHO))

    def _macvlan(self, op: CreateMacvlan) -> None:
        data = nla_u32(IFLA_MACVLAN_MODE, _mode_number(op.mode))
        if op.nopromisc:
            data += nla(IFLA_MACVLAN_FLAGS, (MACVLAN_FLAG_NOPROMISC).to_bytes(2, "little"))
        if op.bcqueuelen is not None:
            data += nla_u32(IFLA_MACVLAN_BC_QUEUE_LEN, op.bcqueuelen)
        attrs = _name(op.name) + nla_u32(IFLA_LINK, self.index(op.ns, op.link)) + self._common(op.mac, op.mtu)
        into = op.netns if op.netns and op.netns != op.ns else None
        if into is not None:
            attrs += nla_u32(IFLA_NET_NS_FD, self.target.fd(into))
        attrs += nla_nest(IFLA_LINKINFO, nla_str(IFLA_INFO_KIND, op.link_kind), nla_nest(IFLA_INFO_DATA, data))
        index = self._newlink(op.ns, attrs, F_CREATE | ECHO)
        if into is None:
            self._created(op.ns, op.name, index)

    def _delete(self, op: DeleteLink) -> None:
        self.target.channel(op.ns).request(RTM["DELLINK"], F_REQ, ifinfo() + _name(op.name))
        self.forget_all()  # a veth peer or children went with it

    def _alias(self, op: SetAlias) -> None:
        self._newlink(op.ns, _name(op.name) + nla_str(IFLA_IFALIAS, op.alias, nul=False))

    def _move(self, op: MoveToNamespace) -> None:
        index = self.index(op.ns, op.name)
        attrs = nla_u32(IFLA_NET_NS_FD, self.target.fd(op.target_ns)) + _name(op.new_name)
        self._newlink(op.ns, attrs, index=index)
        self._idx.get(op.ns, {}).pop(op.name, None)
        self._idx.get(op.target_ns, {}).pop(op.new_name, None)

    def _mode(self, op: SetMode) -> None:
        info = nla_nest(IFLA_LINKINFO, nla_str(IFLA_INFO_KIND, op.link_kind),
                        nla_nest(IFLA_INFO_DATA, nla_u32(IFLA_MACVLAN_MODE, _mode_number(op.mode))))
        self._newlink(op.ns, _name(op.name) + info)

    def _mtu(self, op: SetMtu) -> None:
        self._newlink(op.ns, _name(op.name) + nla_u32(IFLA_MTU, op.mtu))

    def _mac(self, op: SetMac) -> None:
        self._newlink(op.ns, _name(op.name) + nla(IFLA_ADDRESS, mac_bytes(op.mac)))

    def _sources(self, op: SetSourceMacs) -> None:
        if op.macs:
            data = nla_u32(IFLA_MACVLAN_MACADDR_MODE, MACVLAN_MACADDR_SET) + nla_nest(
                IFLA_MACVLAN_MACADDR_DATA, *(nla(IFLA_MACVLAN_MACADDR, mac_bytes(m)) for m in op.macs))
        else:
            data = nla_u32(IFLA_MACVLAN_MACADDR_MODE, MACVLAN_MACADDR_FLUSH)
        info = nla_nest(IFLA_LINKINFO, nla_str(IFLA_INFO_KIND, op.link_kind), nla_nest(IFLA_INFO_DATA, data))
        self._newlink(op.ns, _name(op.name) + info)

    def _master(self, op: SetBridgePort) -> None:
        self._newlink(op.ns, _name(op.name) + nla_u32(IFLA_MASTER, self.index(op.ns, op.master)))

    def _nomaster(self, op: UnsetBridgePort) -> None:
        self._newlink(op.ns, _name(op.name) + nla_u32(IFLA_MASTER, 0))

    def _hairpin(self, op: SetHairpin) -> None:
        info = nla_nest(IFLA_LINKINFO, nla_str(IFLA_INFO_SLAVE_KIND, "bridge"),
                        nla_nest(IFLA_INFO_SLAVE_DATA, nla(IFLA_BRPORT_MODE, bytes((1 if op.on else 0,)))))
        self._newlink(op.ns, _name(op.name) + info)

    def _forwarding(self, op: SetForwarding) -> None:
        """Both families' forwarding sysctls of the namespace (not a netlink request: /proc/sys)."""
        try:
            sysctls_in(self.target.enter_fd(op.ns), FORWARDING_SYSCTLS, "1" if op.on else "0")
        except OSError as exc:
            raise NetlinkError(exc.errno or 1, f"cannot set forwarding in {self.target.describe(op.ns)}: {exc}") \
                from None

    def _updown(self, op: SetLinkUp | SetLinkDown) -> None:
        self._newlink(op.ns, _name(op.name), iflags=IFF_UP if isinstance(op, SetLinkUp) else 0, change=IFF_UP)

    # -- layer 3 ------------------------------------------------------------------------
    def _addr(self, op: AddAddress | DelAddress) -> None:
        raw, prefixlen, family = _address_bytes(op.address)
        body = ifaddr(self.index(op.ns, op.name), prefixlen, family) + nla(2, raw) + nla(1, raw)
        if isinstance(op, AddAddress):
            self.target.channel(op.ns).request(RTM["NEWADDR"], F_CREATE, body)
        else:
            self.target.channel(op.ns).request(RTM["DELADDR"], F_REQ, body)

    def _neigh(self, op: AddNeighbor | DelNeighbor) -> None:
        ip = ipaddress.ip_address(op.address)
        dst, family = ip.packed, _family(ip.version)
        index = self.index(op.ns, op.name)
        if isinstance(op, AddNeighbor):
            body = ndmsg(index, family=family) + nla(NDA_DST, dst) + nla(NDA_LLADDR, mac_bytes(op.mac))
            self.target.channel(op.ns).request(RTM["NEWNEIGH"], F_CREATE, body)
        else:
            body = ndmsg(index, 0, family) + nla(NDA_DST, dst)
            self.target.channel(op.ns).request(RTM["DELNEIGH"], F_REQ, body)

    def _route(self, op: AddRoute | DelRoute) -> None:
        net = ipaddress.ip_network(op.to)
        family = _family(net.version)
        attrs = b""
        if net.prefixlen:
            attrs += nla(RTA_DST, net.network_address.packed)
        if op.via:
            attrs += nla(RTA_GATEWAY, ipaddress.ip_address(op.via).packed)
        attrs += nla_u32(RTA_OIF, self.index(op.ns, op.name))
        ch = self.target.channel(op.ns)
        if isinstance(op, AddRoute):
            # IPv6 routes are always universe scope (the kernel rejects link scope for them)
            scope = RT_SCOPE_UNIVERSE if op.via or net.version == 6 else RT_SCOPE_LINK
            ch.request(RTM["NEWROUTE"], F_CREATE, rtmsg(net.prefixlen, scope, family=family) + attrs)
        else:
            ch.request(RTM["DELROUTE"], F_REQ,
                       rtmsg(net.prefixlen, RT_SCOPE_NOWHERE, protocol=0, family=family) + attrs)


def _address_bytes(text: str) -> tuple[bytes, int, int]:
    """(packed address, prefix length, family) of ``ADDRESS/PREFIX``: ``inet_pton`` for the form
    the model writes (5,000 addresses in an apply; ``ipaddress`` takes 5 us each), else ``ipaddress``."""
    addr, _, plen = text.partition("/")
    family = AF_INET6 if ":" in addr else AF_INET
    if plen.isdigit():
        try:
            return socket.inet_pton(family, addr), int(plen), family
        except OSError:
            pass
    iface = ipaddress.ip_interface(text)
    return iface.ip.packed, iface.network.prefixlen, _family(iface.version)


def _family(version: int) -> int:
    """The netlink address family of an IP version."""
    return AF_INET6 if version == 6 else AF_INET


def _errname(code: int) -> str:
    import errno

    return errno.errorcode.get(code, f"errno {code}")


# keep flake8 quiet about names only used for documentation tables
_ = _nl
