"""IPv6 duplicate address detection, replayed: which duplicates the kernel catches, and which it cannot.

When an IPv6 address comes up it is *tentative*: after a random delay (up to a second) the
interface sends a neighbour solicitation for it from the unspecified address to the address's
solicited-node group. A holder whose copy is still tentative and hears it marks its own copy
``dadfailed``; one whose copy is already in use answers, and the newcomer's copy fails. Which copy
survives is therefore a race between the probes (measured here: a child coming up beside a station
whose copy is in use loses; brought up together, either may lose, both when the probes cross, or
neither when a probe leaves before its twin's link has carrier). A dadfailed address neither sends
nor accepts packets; the verdicts of pairs that use a raced address are marked timing-dependent.

Whether a solicitation is heard is a frame question, answered by the same simulation as a ping:
macvlan hands the multicast out by mode like a broadcast, a parent drops a frame whose source MAC
is one of its own children's (so two children with one MAC on two parents never hear each other),
a passthru child has its NIC's MAC and so its NIC's very link-local address, but neither sees the
other's frames. Those collisions pass DAD; a third station on the link then gets answers from both.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..model import Design, Iface, IPAddress
from .sim import Frame, Ping, Trail, solicited_node_mac
from .verdict import Hop, Step
from .world import World

__all__ = ["Duplicate", "duplicates", "world_for", "DAD_NS"]

#: the frame kind of a DAD probe (a neighbour solicitation from ::)
DAD_NS = "dad-solicitation"


@dataclass(frozen=True)
class Duplicate:
    """One IPv6 address held by several interfaces on one link, and what DAD makes of it."""

    address: IPAddress
    holders: tuple[str, ...]          # interface ids, design order
    failed: tuple[str, ...]           # holders that hear another's probe: their copy can go dadfailed
    link_local: bool                  # the automatic fe80:: address (same MAC) rather than a configured one

    @property
    def caught(self) -> bool:
        """Whether the kernel notices (a copy goes dadfailed: which one depends on which probes first)."""
        return bool(self.failed)


class _Probe(Ping):
    """A DAD solicitation from one holder, run through the frame world; records who hears it."""

    def __init__(self, world: World, sender: Iface, address: IPAddress, holders: list[Iface]):
        super().__init__(world, sender, sender, addresses=(address, address), relevant={h.ns for h in holders})
        self.address = address
        self.heard: set[str] = set()

    def probe(self) -> set[str]:
        f = Frame(self.a.mac, solicited_node_mac(self.address), DAD_NS, self.address, self.address)
        self.transmit(self.a, f, Trail(Hop(self.a.id, Step.SEND)))
        events = 0
        while (self.queue or self.lane or self.bcq) and events < 20_000:
            if self.bcq and not (self.queue or self.lane):
                self.serve_broadcast_queue()
                continue
            to_stack, node, fr, trail = (self.lane or self.queue).popleft()
            events += 1
            if to_stack:
                self.stack(self.w.by_id[node], fr, trail)
            else:
                self.rx(node, fr, trail)
        return self.heard

    def stack(self, i: Iface, f: Frame, trail: Trail) -> None:
        if i.id != self.a.id and self.w.alive[i.id] and self.address in self.w.own(i):
            self.heard.add(i.id)


def _link_of(world: World) -> dict[str, str]:
    """Interface id -> one id per layer-2 link (children with their parent, cables, bridges and ports)."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(a: str, b: str) -> None:
        parent[find(a)] = find(b)

    for i in world.design.interfaces:
        find(i.id)
        if i.is_child and i.lower:
            union(i.id, i.lower)
        if i.master:
            union(i.id, i.master)
    for a, b in world.wire.items():
        if b is not None:
            union(a, b)
    for port, (br, _k) in world.port_of.items():
        union(port, br.id)
    return {i.id: find(i.id) for i in world.design.interfaces}


def duplicates(world: World) -> list[Duplicate]:
    """Every IPv6 address held twice on one link (an IPv6 world), with the copies DAD fails."""
    if world.family != 6:
        return []
    link = _link_of(world)
    holders: dict[tuple[IPAddress, str], list[Iface]] = {}
    for i in world.design.interfaces:
        if not world.alive[i.id] or i.kind == "bridge-port" or i.master:
            continue
        for ip in world.own(i):
            holders.setdefault((ip, link[i.id]), []).append(i)
    out = []
    for (ip, _link), hs in holders.items():
        if len(hs) < 2:
            continue
        failed: set[str] = set()
        for h in hs:
            failed |= _Probe(world, h, ip, hs).probe()
        out.append(Duplicate(ip, tuple(h.id for h in hs), tuple(h.id for h in hs if h.id in failed),
                             ip.is_link_local))
    return sorted(out, key=lambda d: (d.holders, str(d.address)))


def world_for(design: Design) -> World:
    """The frame world of a design; an IPv6 one knows its duplicates and which of them DAD races over
    (every holder of a caught duplicate: the copy probed second goes dadfailed, both when probes cross)."""
    world = World(design)
    if world.family == 6:
        dups = duplicates(world)
        racing: dict[str, set[IPAddress]] = {}
        for dup in dups:
            if dup.caught:
                for iid in dup.holders:
                    racing.setdefault(iid, set()).add(dup.address)
        world.mark_dad(dups, {k: frozenset(v) for k, v in racing.items()})
    return world
