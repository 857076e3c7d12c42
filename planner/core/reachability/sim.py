"""One ping, frame by frame: the reference simulation every verdict comes from.

``ping -c1 -I A B`` from cold caches is replayed as the kernel processes it: every frame a device
receives is queued (``netif_rx`` - the per-CPU backlog, first in first out) and then handled in one
go until it is queued again at the next device; the macvlan broadcast queue is served once the
backlog is empty (a work item). Bridges and switches start with empty learning tables and learn
the source MAC of every frame on its ingress port; unicast goes to the learned port, unknown
destinations and broadcasts flood; a port sends a frame back out of itself only with hairpin on.
Stacks answer ARP for every address of their namespace (``arp_ignore=0``), learn the asker, keep
the first answer to their own request (within the lock time), and send what waited for it.

Only the namespaces a ping can involve (the two ends, and the owners of their addresses and next
hops) have their stacks run; frames still travel through every device, so learning, reflection
and loops are seen wherever they happen. A frame that comes back to a bridge port it already
passed is a broadcast storm: the ping is reported as a loop, never as reachable.
"""
from __future__ import annotations

import ipaddress
import itertools
from collections import deque
from dataclasses import dataclass, field

from ..model import Iface
from .verdict import Hop, Step
from .world import BCAST, Bridge, MacvlanPort, World

__all__ = ["Ping", "Frame", "Outcome", "ARP_REQ", "ARP_REP", "ECHO", "ECHO_REPLY", "MAX_EVENTS", "is_group",
           "solicited_node_mac"]

ARP_REQ, ARP_REP, ECHO, ECHO_REPLY = "arp-request", "arp-reply", "echo-request", "echo-reply"
IP4 = ipaddress.IPv4Address | ipaddress.IPv6Address  # either family: the world decides which


def is_group(mac: str) -> bool:
    """A broadcast or multicast destination (the group bit of the first octet): flooded like a broadcast."""
    return mac == BCAST or int(mac[1], 16) & 1 == 1


def solicited_node_mac(ip: IP4) -> str:
    """The Ethernet group a neighbour solicitation for ``ip`` goes to: 33:33:ff + the address's last 3 bytes
    (ff02::1:ffXX:XXXX, which every holder of the address has joined)."""
    tail = ip.packed[-3:]
    return "33:33:ff:" + ":".join(f"{b:02x}" for b in tail)
#: a ping that needs more deliveries than this is circling (a storm the loop check did not catch)
MAX_EVENTS = 200_000
_ids = itertools.count(1)


@dataclass(frozen=True, slots=True)
class Frame:
    src: str
    dst: str
    kind: str
    sip: IP4            # ARP sender / IP source
    tip: IP4            # ARP target / IP destination
    ttl: int = 64       # IP time to live (a router decrements it; 1 is not forwarded)
    id: int = field(default_factory=lambda: next(_ids), compare=False)


@dataclass(slots=True)
class Trail:
    """The hops a copy of a frame took, as a linked list (appending is O(1))."""

    hop: Hop
    prev: Trail | None = None

    def add(self, node: str, step: Step) -> Trail:
        return Trail(Hop(node, step), self)

    def passed(self, node: str) -> bool:
        """Whether this copy arrived at ``node`` earlier on its way (a router sends a new frame: what
        came before the routing step is another frame's way, and a routing loop ends by TTL)."""
        t: Trail | None = self
        while t is not None and t.hop.step is not Step.ROUTED:
            if t.hop.node == node and t.hop.step is Step.WIRE:
                return True
            t = t.prev
        return False

    def hops(self) -> tuple[Hop, ...]:
        out = []
        t: Trail | None = self
        while t is not None:
            out.append(t.hop)
            t = t.prev
        return tuple(reversed(out))


@dataclass
class Drop:
    """Where and why a copy of a frame died (what the verdict's message explains)."""

    kind: str
    node: str
    why: str
    frame: Frame
    detail: str = ""


@dataclass
class Outcome:
    """What happened during one ping (the milestones a reason code is read from)."""

    storm: bool = False
    queued: bool = False     # a broadcast went through a macvlan broadcast queue
    relearned: bool = False  # a bridge learned a MAC it knew on one port on another
    arp_sent: bool = False
    responders: list[Iface] = field(default_factory=list)
    arp_trail: Trail | None = None
    echo_sent: bool = False
    echo_to: str | None = None
    echo_at: Iface | None = None
    echo_trail: Trail | None = None
    reply_route: tuple[Iface, IP4] | None = None
    reply_arp_sent: bool = False
    reply_responders: list[Iface] = field(default_factory=list)
    reply_sent: bool = False
    reply_to: str | None = None
    reply_trail: Trail | None = None
    done: bool = False
    drops: list[Drop] = field(default_factory=list)
    #: (namespace, packet kind, egress interface id) of every routing step, in order
    routed: list[tuple[str, str, str]] = field(default_factory=list)


class Ping:
    """``Ping(world, a, b).run()``: the outcome of A pinging B (A and B endpoints in other namespaces)."""

    def __init__(self, world: World, a: Iface, b: Iface, *, eager_broadcast: bool = False,
                 addresses: tuple[IP4, IP4] | None = None, relevant: set[str] | None = None):
        """``addresses`` and ``relevant`` (the namespaces whose stacks run) default to the ping's own:
        the two endpoint addresses, and the namespaces a ping between them can involve."""
        self.w, self.a, self.b = world, a, b
        #: serve the macvlan broadcast queue at once (its worker on another CPU winning every race)
        #: instead of when the backlog is empty (the usual order)
        self.eager_broadcast = eager_broadcast
        self.aip, self.bip = addresses if addresses is not None else (a.ips[0], b.ips[0])
        self.out = Outcome()
        self.queue: deque[tuple[bool, str, Frame, Trail]] = deque()   # (to a stack?, node, frame, trail)
        #: with ``eager_broadcast``: what the broadcast worker's deliveries set off, run to the end
        #: ahead of the backlog (the worker on the other CPU wins the race outright)
        self.lane: deque[tuple[bool, str, Frame, Trail]] = deque()
        self.in_lane = False
        self.bcq: deque[tuple[MacvlanPort, Frame, Iface | None, Trail]] = deque()
        self.fdb: dict[str, dict[str, int]] = {}
        self.neigh: dict[tuple[str, IP4], str | None] = {}             # learned entries; None: resolving
        self.waiting: dict[tuple[str, IP4], list[tuple[str, IP4, IP4, Trail, int]]] = {}
        self.relevant = self._relevant() if relevant is None else relevant

    def _relevant(self) -> set[str]:
        w = self.w
        out = {self.a.ns, self.b.ns} | w.forwarding
        hops = [self.aip, self.bip]
        for ns, target in ((self.a.ns, self.bip), (self.b.ns, self.aip)):
            rt = w.route(ns, target)
            if rt is not None:
                hops.append(rt[1])
        if w.family == 6:  # the reply may leave through the interface the request came in on
            for i in w.stack_ifaces.get(self.b.ns, ()):
                rt = w.route_via(self.b.ns, self.aip, i)
                if rt is not None:
                    hops.append(rt[1])
        for ip in hops:
            out.update(o.ns for o in w.ip_owners.get(ip, ()))
        return out

    # ---------------------------------------------------------------- the loop
    def run(self) -> Outcome:
        self.send_ip(self.a.ns, ECHO, self.aip, self.bip, Trail(Hop(self.a.ns, Step.SEND)))
        events = 0
        while (self.queue or self.lane or self.bcq) and not self.out.done:
            if self.bcq and (self.eager_broadcast or not (self.queue or self.lane)):
                self.in_lane = self.eager_broadcast
                self.serve_broadcast_queue()
                continue
            self.in_lane = bool(self.lane)
            to_stack, node, f, trail = (self.lane or self.queue).popleft()
            events += 1
            if events > MAX_EVENTS:
                self.out.storm = True
                break
            if to_stack:
                self.stack(self.w.by_id[node], f, trail)
            else:
                self.rx(node, f, trail)
        return self.out

    def enqueue(self, node: str, f: Frame, trail: Trail, to_stack: bool = False) -> None:
        (self.lane if self.in_lane else self.queue).append((to_stack, node, f, trail))

    def drop(self, f: Frame, node: str, why: str, detail: str = "") -> None:
        if len(self.out.drops) < 64:
            self.out.drops.append(Drop(f.kind, node, why, f, detail))

    # ---------------------------------------------------------------- devices
    def rx(self, node: str, f: Frame, trail: Trail) -> None:
        """A device receives a frame from its wire (or a macvlan child injects it into its lower)."""
        w = self.w
        at = w.port_of.get(node)
        if at is not None:
            self.bridge_in(at[0], at[1], f, trail)
            return
        i = w.by_id[node]
        if not w.alive[node]:
            self.drop(f, node, "down")
            return
        mp = w.macvlan.get(node)
        if mp is not None:
            self.macvlan_rx(mp, f, trail)
        else:
            self.stack(i, f, trail)

    def transmit(self, i: Iface, f: Frame, trail: Trail) -> None:
        """``dev_queue_xmit`` on an interface of a stack."""
        if not self.w.alive[i.id]:
            self.drop(f, i.id, "down")
            return
        if i.is_child:
            self.macvlan_tx(i, f, trail)
        elif i.kind == "bridge":
            self.bridge_xmit(self.w.bridges[i.id], f, trail)
        else:
            self.wire_out(i, f, trail)

    def wire_out(self, dev: Iface, f: Frame, trail: Trail) -> None:
        out = self.w.wire.get(dev.id)
        if out is None:
            self.drop(f, dev.id, "no-cable")
            return
        if out in self.w.by_id and not self.w.alive[out]:
            self.drop(f, out, "down")
            return
        self.enqueue(out, f, trail.add(out, Step.WIRE))

    # ---------------------------------------------------------------- bridges and switches
    def bridge_in(self, br: Bridge, k: int, f: Frame, trail: Trail) -> None:
        port = br.ports[k]
        if not br.up or (port.iface is not None and not self.w.alive[port.iface.id]):
            self.drop(f, port.id, "down")
            return
        if trail.prev is not None and trail.prev.passed(port.id):
            # this very copy came in through this port before: it will go round again and again
            self.out.storm = True
            self.drop(f, port.id, "loop")
            return
        table = self.fdb.get(br.id)
        if table is None:
            table = self.fdb[br.id] = dict(br.static_fdb)
        if port.locked and (table.get(f.src) != k or f.src in br.local_macs):
            # br_handle_frame_finish: a locked port admits a source MAC only with an fdb entry on it
            self.drop(f, port.id, "locked")
            return
        if port.learning and f.src not in br.local_macs:
            if table.setdefault(f.src, k) != k:
                self.out.relearned = True
                table[f.src] = k
        if is_group(f.dst):
            self.flood(br, k, f, trail)
            if br.dev is not None:
                self.bridge_up(br, f, trail)
            return
        if f.dst in br.local_macs:
            self.bridge_up(br, f, trail)
            return
        dst = table.get(f.dst)
        if dst is None:
            self.flood(br, k, f, trail)
        elif dst == k and not port.hairpin:
            self.drop(f, port.id, "learned-on-ingress", f.dst)
        elif port.isolated and br.ports[dst].isolated:
            self.drop(f, br.ports[dst].id, "isolated")
        else:
            self.egress(br, dst, f, trail.add(br.ports[dst].id, Step.REFLECTED if dst == k else Step.FORWARDED))
        if br.promisc and br.dev is not None:
            self.bridge_up(br, f, trail)

    def flood(self, br: Bridge, ingress: int | None, f: Frame, trail: Trail) -> None:
        iso = ingress is not None and br.ports[ingress].isolated
        for j, p in enumerate(br.ports):
            if j == ingress and not p.hairpin:
                self.drop(f, p.id, "hairpin-off")
                continue
            if iso and p.isolated:
                self.drop(f, p.id, "isolated")
                continue
            self.egress(br, j, f, trail.add(p.id, Step.REFLECTED if j == ingress else Step.FLOODED))

    def egress(self, br: Bridge, j: int, f: Frame, trail: Trail) -> None:
        p = br.ports[j]
        if p.iface is not None:  # a host bridge port transmits onto its own wire
            if not self.w.alive[p.iface.id]:
                self.drop(f, p.id, "down")
                return
            self.wire_out(p.iface, f, trail)
            return
        if p.out is None or not self.w.alive[p.out]:
            self.drop(f, p.id, "down")
            return
        self.enqueue(p.out, f, trail.add(p.out, Step.WIRE))

    def bridge_up(self, br: Bridge, f: Frame, trail: Trail) -> None:
        """``br_pass_frame_up``: the bridge device receives (its macvlans first, if it is a parent)."""
        dev = br.dev
        assert dev is not None
        if not self.w.alive[dev.id]:
            return
        trail = trail.add(dev.id, Step.UP)
        mp = self.w.macvlan.get(dev.id)
        if mp is not None:
            self.macvlan_rx(mp, f, trail)
        else:
            self.stack(dev, f, trail)

    def bridge_xmit(self, br: Bridge, f: Frame, trail: Trail) -> None:
        """``br_dev_xmit``: the bridge device sends; no learning, no ingress port."""
        dst = self.fdb.get(br.id, br.static_fdb).get(f.dst) if not is_group(f.dst) else None
        if dst is None:
            self.flood(br, None, f, trail)
        else:
            self.egress(br, dst, f, trail.add(br.ports[dst].id, Step.FORWARDED))

    # ---------------------------------------------------------------- macvlan
    def macvlan_rx(self, mp: MacvlanPort, f: Frame, trail: Trail) -> None:
        """``macvlan_handle_frame`` on the parent ``mp.lower``."""
        alive = self.w.alive
        for s in mp.sources:  # macvlan_forward_source: a copy for every list naming the sender
            if f.src in s.source_macs and alive[s.id] and (is_group(f.dst) or f.dst == s.mac):
                self.enqueue(s.id, f, trail.add(s.id, Step.SOURCE_LIST), to_stack=True)
        lower = mp.lower
        if is_group(f.dst):
            src = mp.by_mac.get(f.src)
            if src is not None and src.mode not in ("vepa", "bridge"):
                # a reflected broadcast of a private/source/passthru child goes back to that child only
                self.drop(f, lower.id, "reflected-to-sender-only", src.id)
                if alive[src.id]:
                    self.enqueue(src.id, f, trail.add(src.id, Step.QUEUED), to_stack=True)
                return
            self.bcq.append((mp, f, src, trail))
            self.out.queued = True
            self.stack(lower, f, trail)  # RX_HANDLER_PASS: the parent's own stack sees it too
            return
        vlan = mp.passthru or mp.by_mac.get(f.dst)
        if vlan is None or vlan.mode == "source":
            self.stack(lower, f, trail)
            return
        if not alive[vlan.id]:
            self.drop(f, vlan.id, "down")
            return
        self.stack(vlan, f, trail.add(vlan.id, Step.DELIVER))

    def serve_broadcast_queue(self) -> None:
        """``macvlan_process_broadcast``: the queued broadcasts go to the children by mode."""
        batch, self.bcq = self.bcq, deque()
        alive = self.w.alive
        for mp, f, src, trail in batch:
            if src is None:  # from outside
                modes: tuple[str, ...] = ("private", "vepa", "passthru", "bridge")
            elif src.mode == "vepa":
                modes = ("vepa", "bridge")
            else:  # from a bridge-mode child: its bridge siblings saw it on the way out
                modes = ("vepa",)
            # only children of the namespaces the ping involves can answer; hand out in queue order
            takers = sorted(pc for ns in self.relevant for pc in mp.by_ns.get(ns, ()))
            for _pos, c in takers:
                if c is src or c.mode not in modes:
                    if c.mode == "private" and src is not None and c is not src:
                        self.drop(f, c.id, "private-sibling")
                    continue
                if alive[c.id]:
                    self.enqueue(c.id, f, trail.add(c.id, Step.QUEUED), to_stack=True)

    def macvlan_tx(self, c: Iface, f: Frame, trail: Trail) -> None:
        """``macvlan_queue_xmit``: bridge mode meets its siblings directly, every mode else the wire."""
        mp = self.w.macvlan[str(c.lower)]
        lower = mp.lower
        if c.mode == "bridge":
            if is_group(f.dst):
                for _pos, s in sorted(pc for ns in self.relevant for pc in mp.by_ns.get(ns, ())):
                    if s is not c and s.mode == "bridge" and self.w.alive[s.id]:
                        self.enqueue(s.id, f, trail.add(s.id, Step.DIRECT), to_stack=True)
            else:
                dest = mp.by_mac.get(f.dst)
                if dest is not None and dest.mode == "bridge":
                    # dev_forward_skb(lowerdev): back in through the parent's receive handler
                    self.enqueue(lower.id, f, trail.add(lower.id, Step.DIRECT))
                    return
        self.lower_tx(lower, f, trail.add(lower.id, Step.LOWER))

    def lower_tx(self, lower: Iface, f: Frame, trail: Trail) -> None:
        if not self.w.alive[lower.id]:
            self.drop(f, lower.id, "down")
            return
        if lower.kind == "bridge":
            self.bridge_xmit(self.w.bridges[lower.id], f, trail)
        else:
            self.wire_out(lower, f, trail)

    # ---------------------------------------------------------------- stacks
    def stack(self, i: Iface, f: Frame, trail: Trail) -> None:
        """The IPv4/ARP stack of ``i``'s namespace receives ``f`` on ``i``."""
        if i.ns not in self.relevant or not self.w.alive[i.id]:
            return
        if f.dst != i.mac and not is_group(f.dst):
            return  # PACKET_OTHERHOST
        local = self.w.local(i.ns)
        if f.kind == ARP_REQ:
            self.arp_request(i, f, trail, local)
        elif f.kind == ARP_REP:
            self.learn(i, f.sip, f.src)
        elif f.kind == ECHO:
            if f.tip in local and f.sip not in local:
                self.echo(i, f, trail)
            elif f.tip not in local:
                self.forward(i, f, trail)
        elif f.kind == ECHO_REPLY:
            if i.ns == self.a.ns and f.tip == self.aip:
                self.out.done = True
                self.out.reply_trail = trail.add(i.id, Step.DELIVER)
            elif f.tip not in local:
                self.forward(i, f, trail)

    def forward(self, i: Iface, f: Frame, trail: Trail) -> None:
        """``ip_forward``: a routing namespace sends on a packet for someone else (others drop it)."""
        if f.dst != i.mac:
            return
        if i.ns not in self.w.forwarding:
            self.drop(f, i.id, "not-forwarding", str(f.tip))
            return
        if f.ttl <= 1:
            self.drop(f, i.id, "ttl")
            return
        rt = self.w.route(i.ns, f.tip)
        if rt is None:
            self.drop(f, i.id, "no-route-at-router", str(f.tip))
            return
        self.out.routed.append((i.ns, f.kind, rt[0].id))
        self.send_ip(i.ns, f.kind, f.sip, f.tip, trail.add(i.id, Step.ROUTED), ttl=f.ttl - 1)

    def arp_request(self, i: Iface, f: Frame, trail: Trail, local: frozenset[IP4]) -> None:
        """An ARP request (IPv4: answered for any address of the namespace, ``arp_ignore=0``) or a
        neighbour solicitation (IPv6: answered only on the interface holding the target address)."""
        if f.sip in local:
            return  # a source address of our own: martian (accept_local=0)
        if self.w.family == 6:
            if f.tip not in self.w.own(i):
                return  # ndisc_recv_ns: not our target on this interface - no answer, nothing learned
        else:
            self.learn(i, f.sip, f.src, create=False)
            if f.tip not in local:
                return
        self.learn(i, f.sip, f.src, create=True)  # neigh_event_ns: the asker is learned
        if f.sip == self.aip and i.ns != self.a.ns:
            self.out.responders.append(i)
            if self.out.arp_trail is None:
                self.out.arp_trail = trail.add(i.id, Step.DELIVER)
        elif f.sip == self.bip:
            self.out.reply_responders.append(i)
        self.transmit(i, Frame(i.mac, f.src, ARP_REP, f.tip, f.sip), Trail(Hop(i.id, Step.SEND)))

    def learn(self, i: Iface, ip: IP4, mac: str, create: bool = False) -> None:
        """A neighbour entry learns ``mac``: the first answer wins (within the lock time); permanent
        entries never change; what waited for the address is sent."""
        key = (i.id, ip)
        if ip in self.w.static_neighbors(i):
            return
        if key in self.neigh:
            if self.neigh[key] is not None:
                return
        elif not create:
            return
        self.neigh[key] = mac
        for kind, sip, tip, trail, ttl in self.waiting.pop(key, ()):
            self._note_send(i.ns, kind, mac)
            self.transmit(i, Frame(i.mac, mac, kind, sip, tip, ttl), trail.add(i.id, Step.SEND))

    def echo(self, i: Iface, f: Frame, trail: Trail) -> None:
        # IPv6 answers through the interface the request came in on when a route of the longest prefix
        # allows it (icmpv6_echo_reply sets flowi6_oif); IPv4 routes the reply like any packet
        oif = i if self.w.family == 6 else None
        if i.ns == self.b.ns and f.tip == self.bip and self.out.echo_at is None:
            self.out.echo_at = i
            self.out.echo_trail = trail.add(i.id, Step.DELIVER)
            self.out.reply_route = self.w.route_via(i.ns, f.sip, i) if oif else self.w.route(i.ns, f.sip)
        self.send_ip(i.ns, ECHO_REPLY, f.tip, f.sip, Trail(Hop(i.ns, Step.SEND)), oif=oif)

    def send_ip(self, ns: str, kind: str, sip: IP4, tip: IP4, trail: Trail, ttl: int = 64,
                oif: Iface | None = None) -> None:
        """Route ``tip`` in ``ns`` (preferring ``oif`` among equal routes), resolve the next hop
        (permanent entry, learned entry, or ARP), and send - or queue the packet until the answer comes."""
        rt = self.w.route_via(ns, tip, oif) if oif is not None else self.w.route(ns, tip)
        if rt is None:
            return
        e, nh = rt
        if not self.w.alive[e.id]:
            return
        mac = self.w.static_neighbors(e).get(nh)
        key = (e.id, nh)
        if mac is None:
            mac = self.neigh.get(key)
        self._note_send(ns, kind, mac)
        if mac is not None:
            self.transmit(e, Frame(e.mac, mac, kind, sip, tip, ttl), trail.add(e.id, Step.SEND))
            return
        self.waiting.setdefault(key, []).append((kind, sip, tip, trail, ttl))
        if key in self.neigh:
            return  # already asking
        self.neigh[key] = None
        if self._originated(ns, kind):
            if kind == ECHO:
                self.out.arp_sent = True
            else:
                self.out.reply_arp_sent = True
        ask = solicited_node_mac(nh) if self.w.family == 6 else BCAST
        self.transmit(e, Frame(e.mac, ask, ARP_REQ, self._arp_source(ns, e, sip, nh), nh),
                      Trail(Hop(e.id, Step.SEND)))

    def _originated(self, ns: str, kind: str) -> bool:
        """``ns`` sends the ping's own packet (A its echo, B its reply), not one a router forwards."""
        return ns == (self.a.ns if kind == ECHO else self.b.ns)

    def _arp_source(self, ns: str, e: Iface, sip: IP4, nh: IP4) -> IP4:
        """``arp_solicit`` with arp_announce=0: the packet's source when it is ours, else (forwarding)
        an address of the egress interface, one in the next hop's subnet first. ``ndisc_solicit``:
        the packet's source only when it is on the egress interface itself, else the interface's
        address in the next hop's subnet, its first one, or its link-local address."""
        if self.w.family == 6:
            if sip in self.w.own(e):
                return sip
            pick = next((a.ip for a in e.addresses if nh in a.network), e.addresses[0].ip if e.addresses else None)
            return pick or e.link_local or sip
        if sip in self.w.local(ns) or not e.addresses:
            return sip
        return next((a.ip for a in e.addresses if nh in a.network), e.addresses[0].ip)

    def _note_send(self, ns: str, kind: str, mac: str | None) -> None:
        if mac is None or not self._originated(ns, kind):
            return
        if kind == ECHO and not self.out.echo_sent:
            self.out.echo_sent, self.out.echo_to = True, mac
        elif kind == ECHO_REPLY and not self.out.reply_sent:
            self.out.reply_sent, self.out.reply_to = True, mac
