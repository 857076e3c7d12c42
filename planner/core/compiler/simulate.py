"""The kernel simulator: ops replayed on a live state with the kernel's rules (pure).

The tests use it to prove plans are executable and idempotent, the exporters to render the state
a plan leaves.
"""
from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any, NoReturn

from ..errors import MvplanError
from ..livestate import (
    LiveAddress,
    LiveHost,
    LiveLink,
    LiveNamespace,
    LiveNeighbor,
    LiveRoute,
    LiveState,
    address_subnet,
)
from ..ops import (
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
from .wants import CHILD_KINDS

__all__ = ["simulate", "SimulationError"]


class SimulationError(MvplanError, ValueError):
    """An op the kernel would refuse in the simulated state (names the op and the errno)."""


def simulate(live: LiveState, ops: Iterable[Op], *, gateways: bool = True) -> LiveState:
    """Replay ops on a live state with the kernel's rules; raise :class:`SimulationError` on an op
    the kernel would refuse (EEXIST, ENODEV, ENETDOWN, ENETUNREACH). Pure: returns a new state.

    Side effects modelled: a move or a delete takes the link's addresses, routes and neighbours
    (and a deleted veth its peer, a deleted lower device its children); taking a link down or
    removing its last IPv4 address flushes its routes and neighbour entries, permanent ones
    included; a MAC change flushes its neighbour entries; deleting the primary address of a
    subnet deletes its secondaries (net.ipv4.conf.*.promote_secondaries=0, the kernel default).
    ``gateways=False`` accepts a route whose gateway is on no subnet of its link (the kernel
    refuses it: "Nexthop has invalid gateway"); the exporters replay that way, so that a design
    with such a route still renders."""
    hosts: dict[str, dict[str, dict[str, Any]]] = {
        h.name: {n.name: {"links": {lk.name: lk for lk in n.links}, "addresses": list(n.addresses),
                          "routes": list(n.routes), "neighbors": list(n.neighbors), "forwarding": n.forwarding}
                 for n in h.namespaces}
        for h in live.hosts}
    for op in ops:
        _sim_op(hosts.setdefault(op.host, {"": {**_sim_ns(), "forwarding": None}}), op, gateways)
    return LiveState(hosts=tuple(
        LiveHost(name=h, namespaces=tuple(
            LiveNamespace(name=k, links=tuple(v["links"].values()), addresses=tuple(v["addresses"]),
                          routes=tuple(v["routes"]), neighbors=tuple(v["neighbors"]), forwarding=v["forwarding"])
            for k, v in nss.items()))
        for h, nss in hosts.items()))


def _sim_ns() -> dict:
    return {"links": {}, "addresses": [], "routes": [], "neighbors": [], "forwarding": False}


def _on_link(b: dict, dev: str, via: str) -> bool:
    """Whether the kernel finds gateway ``via`` on ``dev``: in the subnet of one of its addresses or
    of a route through it without a gateway (a link-scope route, as the compiler plans them)."""
    gw = ipaddress.ip_address(via)

    def holds(net: ipaddress.IPv4Network | ipaddress.IPv6Network) -> bool:
        return net.version == gw.version and gw in net  # `in` does not compare families itself

    return (any(holds(address_subnet(a.address)) for a in b["addresses"] if a.dev == dev)
            or any(holds(ipaddress.ip_network(r.to)) for r in b["routes"] if r.dev == dev and not r.via))


def _sim_op(h: dict, op: Op, gateways: bool = True) -> None:
    _Host(h, op, gateways).run()


class _Host:
    """One op applied to one host's simulated namespaces (``h``: ns name -> links and layer 3)."""

    def __init__(self, h: dict, op: Op, gateways: bool):
        self.h, self.op, self.gateways = h, op, gateways

    def fail(self, errno: str, why: str) -> NoReturn:
        raise SimulationError(f"{errno}: {self.op.describe()}: {why}")

    def ns(self, name: str) -> dict:
        if name not in self.h:
            self.fail("ENOENT", f"namespace {name!r} does not exist")
        return self.h[name]

    def get(self, nsname: str, name: str) -> LiveLink:
        lk = self.ns(nsname)["links"].get(name)
        if lk is None:
            self.fail("ENODEV", f"no link {name!r} in namespace {nsname!r}")
        return lk

    def put(self, nsname: str, lk: LiveLink, new: bool = False) -> None:
        links = self.ns(nsname)["links"]
        if new and lk.name in links:
            self.fail("EEXIST", f"{lk.name!r} already exists in namespace {nsname!r}")
        links[lk.name] = lk

    def flush_l3(self, nsname: str, name: str, addresses: bool = True, routes: bool = True,
                 only_ipv4: bool = False) -> None:
        b = self.h[nsname]

        def hit(dev: str, address: str) -> bool:
            return dev == name and not (only_ipv4 and ":" in address)

        if addresses:
            b["addresses"] = [a for a in b["addresses"] if not hit(a.dev, a.address)]
        if routes:
            b["routes"] = [r for r in b["routes"] if not hit(r.dev, r.to)]
        b["neighbors"] = [n for n in b["neighbors"] if not hit(n.dev, n.address)]

    def remove(self, nsname: str, name: str) -> None:
        """Delete a link with what goes along: its layer 3, its veth peer, its children, its ports' master."""
        b = self.h.get(nsname)
        if b is None or name not in b["links"]:
            return
        lk = b["links"].pop(name)
        self.flush_l3(nsname, name)
        if lk.kind == "veth" and lk.link:
            peer = self.h.get(lk.link_ns or "", {"links": {}})["links"].get(lk.link)
            if peer is not None and peer.kind == "veth":
                self.remove(lk.link_ns or "", lk.link)
        if lk.kind in CHILD_KINDS:
            return  # a macvlan is never a lower device (the kernel re-parents) nor a master
        for other_ns, ob in list(self.h.items()):
            for other in list(ob["links"].values()):
                if other.kind in CHILD_KINDS and other.link == name and (other.link_ns or "") == nsname:
                    self.remove(other_ns, other.name)
                if other_ns == nsname and other.master == name and other.name in ob["links"]:
                    ob["links"][other.name] = replace(other, master=None, hairpin=None)

    def run(self) -> None:
        handler = _HANDLERS.get(type(self.op))
        if handler is None:  # pragma: no cover
            raise SimulationError(f"unknown op {self.op.kind}")
        handler(self, self.op)

    # -- namespaces and links ------------------------------------------------------------------
    def create_namespace(self, op: CreateNamespace) -> None:
        if op.name in self.h:
            self.fail("EEXIST", f"namespace {op.name!r} exists")
        self.h[op.name] = _sim_ns()

    def delete_namespace(self, op: DeleteNamespace) -> None:
        for name in list(self.ns(op.name)["links"]):
            self.remove(op.name, name)
        del self.h[op.name]

    def create_bridge(self, op: CreateBridge) -> None:
        self.put(op.ns, LiveLink(name=op.name, kind="bridge", mac=op.mac, mtu=op.mtu or 1500, state="down"), new=True)

    def create_veth(self, op: CreateVeth) -> None:
        self.ns(op.peer_ns)
        if op.peer in self.h[op.peer_ns]["links"]:
            self.fail("EEXIST", f"{op.peer!r} already exists in namespace {op.peer_ns!r}")
        self.put(op.ns, LiveLink(name=op.name, kind="veth", mac=op.mac, mtu=op.mtu or 1500, state="down",
                                 link=op.peer, link_ns=op.peer_ns), new=True)
        self.put(op.peer_ns, LiveLink(name=op.peer, kind="veth", mac=op.peer_mac, mtu=op.peer_mtu or 1500,
                                      state="down", link=op.name, link_ns=op.ns), new=True)

    def create_macvlan(self, op: CreateMacvlan) -> None:
        lower = self.get(op.ns, op.link)
        if lower.kind in CHILD_KINDS:  # the kernel re-parents onto the lower device
            lower = self.get(lower.link_ns or "", lower.link or "")
        mac = op.mac if op.mac else (lower.mac if op.mode == "passthru" else None)
        self.put(op.netns or op.ns, LiveLink(name=op.name, kind=op.link_kind, mode=op.mode, mac=mac,
                                             mtu=op.mtu or lower.mtu, state="down", link=lower.name, link_ns=op.ns,
                                             source_macs=(), nopromisc=op.nopromisc), new=True)

    def delete_link(self, op: DeleteLink) -> None:
        self.get(op.ns, op.name)
        self.remove(op.ns, op.name)

    def move(self, op: MoveToNamespace) -> None:
        s = op.ns
        lk = self.get(s, op.name)
        self.ns(op.target_ns)
        if op.new_name in self.h[op.target_ns]["links"]:
            self.fail("EEXIST", f"{op.new_name!r} already exists in namespace {op.target_ns!r}")
        self.flush_l3(s, op.name)
        del self.h[s]["links"][op.name]
        self.h[op.target_ns]["links"][op.new_name] = replace(lk, name=op.new_name, state="down", master=None,
                                                             hairpin=None)
        if lk.kind == "veth" and lk.link:  # its peer now points at the new place
            peer_ns = self.h.get(lk.link_ns or "")
            peer = peer_ns["links"].get(lk.link) if peer_ns else None
            if peer_ns is not None and peer is not None and peer.link == op.name:
                peer_ns["links"][peer.name] = replace(peer, link=op.new_name, link_ns=op.target_ns)

    # -- link settings -------------------------------------------------------------------------
    def set_alias(self, op: SetAlias) -> None:
        self.put(op.ns, replace(self.get(op.ns, op.name), alias=op.alias or None))

    def set_mode(self, op: SetMode) -> None:
        lk = self.get(op.ns, op.name)
        if (lk.mode == "passthru") != (op.mode == "passthru"):
            self.fail("EINVAL", "passthru cannot be set or cleared in place")
        self.put(op.ns, replace(lk, mode=op.mode))

    def set_forwarding(self, op: SetForwarding) -> None:
        self.ns(op.ns)["forwarding"] = op.on

    def set_mtu(self, op: SetMtu) -> None:
        self.put(op.ns, replace(self.get(op.ns, op.name), mtu=op.mtu))

    def set_mac(self, op: SetMac) -> None:
        lk = self.get(op.ns, op.name)
        self.put(op.ns, replace(lk, mac=op.mac))
        if (lk.mac or "").lower() != op.mac.lower():  # NETDEV_CHANGEADDR: neighbour entries go
            self.flush_l3(op.ns, op.name, addresses=False, routes=False)

    def set_source_macs(self, op: SetSourceMacs) -> None:
        self.put(op.ns, replace(self.get(op.ns, op.name), source_macs=tuple(op.macs)))

    def set_bridge_port(self, op: SetBridgePort) -> None:
        if self.get(op.ns, op.master).kind != "bridge":
            self.fail("EOPNOTSUPP", f"{op.master!r} is not a bridge")
        self.put(op.ns, replace(self.get(op.ns, op.name), master=op.master, hairpin=False))

    def unset_bridge_port(self, op: UnsetBridgePort) -> None:
        self.put(op.ns, replace(self.get(op.ns, op.name), master=None, hairpin=None))

    def set_hairpin(self, op: SetHairpin) -> None:
        lk = self.get(op.ns, op.name)
        if lk.master != op.bridge:
            self.fail("EOPNOTSUPP", f"{op.name!r} is not a port of {op.bridge!r}")
        self.put(op.ns, replace(lk, hairpin=op.on))

    def set_up(self, op: SetLinkUp) -> None:
        if op.name == "lo":  # every namespace has a loopback; live states leave it out
            self.ns(op.ns)
            return
        self.put(op.ns, replace(self.get(op.ns, op.name), state="up"))

    def set_down(self, op: SetLinkDown) -> None:
        lk = self.get(op.ns, op.name)
        self.put(op.ns, replace(lk, state="down"))
        if lk.state != "down":  # NETDEV_DOWN: routes and neighbour entries, permanent ones too
            self.flush_l3(op.ns, op.name, addresses=False)

    # -- layer 3 -------------------------------------------------------------------------------
    def add_address(self, op: AddAddress) -> None:
        self.get(op.ns, op.name)
        a = LiveAddress(op.name, op.address)
        if a in self.h[op.ns]["addresses"]:
            self.fail("EEXIST", "address already present")
        self.h[op.ns]["addresses"].append(a)

    def del_address(self, op: DelAddress) -> None:
        self.get(op.ns, op.name)
        a = LiveAddress(op.name, op.address)
        b = self.h[op.ns]["addresses"]
        if a not in b:
            self.fail("EADDRNOTAVAIL", "no such address")
        if ":" in a.address:  # IPv6 has no primaries and secondaries, and keeps routes without addresses
            self.h[op.ns]["addresses"] = [x for x in b if x != a]
            return
        same = [x for x in b if x.dev == op.name and address_subnet(x.address) == address_subnet(a.address)]
        # a primary (the first of its subnet) takes its secondaries along: promote_secondaries=0
        gone = same if same[0] == a else [a]
        self.h[op.ns]["addresses"] = b = [x for x in b if x not in gone]
        if not any(x.dev == op.name and ":" not in x.address for x in b):  # the last IPv4 address: fib_disable_ip
            self.flush_l3(op.ns, op.name, addresses=False, only_ipv4=True)

    def add_neighbor(self, op: AddNeighbor) -> None:
        self.get(op.ns, op.name)
        b = self.h[op.ns]["neighbors"]
        if any(n.dev == op.name and n.address == op.address for n in b):
            self.fail("EEXIST", "neighbour entry exists")
        b.append(LiveNeighbor(op.name, op.address, op.mac))

    def del_neighbor(self, op: DelNeighbor) -> None:
        self.get(op.ns, op.name)
        b = self.h[op.ns]["neighbors"]
        if not any(n.dev == op.name and n.address == op.address for n in b):
            self.fail("ENOENT", "no such neighbour entry")
        self.h[op.ns]["neighbors"] = [n for n in b if not (n.dev == op.name and n.address == op.address)]

    def add_route(self, op: AddRoute) -> None:
        lk = self.get(op.ns, op.name)
        if lk.state != "up":
            self.fail("ENETDOWN", "device for nexthop is not up")
        if any(x.to == op.to for x in self.h[op.ns]["routes"]):
            self.fail("EEXIST", f"a route to {op.to} exists")
        if op.via and self.gateways and not _on_link(self.h[op.ns], op.name, op.via):
            self.fail("ENETUNREACH", f"nexthop has invalid gateway: {op.via} is in no subnet of {op.name}")
        self.h[op.ns]["routes"].append(LiveRoute(op.name, op.to, op.via))

    def del_route(self, op: DelRoute) -> None:
        r = LiveRoute(op.name, op.to, op.via)
        if r not in self.h[op.ns]["routes"]:
            self.fail("ESRCH", "no such route")
        self.h[op.ns]["routes"].remove(r)


_HANDLERS: dict[type, Callable[[_Host, Any], None]] = {
    CreateNamespace: _Host.create_namespace, DeleteNamespace: _Host.delete_namespace,
    CreateBridge: _Host.create_bridge, CreateVeth: _Host.create_veth, CreateMacvlan: _Host.create_macvlan,
    DeleteLink: _Host.delete_link, MoveToNamespace: _Host.move, SetAlias: _Host.set_alias, SetMode: _Host.set_mode,
    SetMtu: _Host.set_mtu, SetMac: _Host.set_mac, SetSourceMacs: _Host.set_source_macs,
    SetBridgePort: _Host.set_bridge_port, UnsetBridgePort: _Host.unset_bridge_port, SetHairpin: _Host.set_hairpin,
    SetLinkUp: _Host.set_up, SetLinkDown: _Host.set_down, AddAddress: _Host.add_address,
    DelAddress: _Host.del_address, AddNeighbor: _Host.add_neighbor, DelNeighbor: _Host.del_neighbor,
    AddRoute: _Host.add_route, DelRoute: _Host.del_route, SetForwarding: _Host.set_forwarding,
}
