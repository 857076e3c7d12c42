"""Predict IPv4 reachability between every pair of endpoints, the way the kernel decides it.

A verdict means exactly: ``ping -c1 -I <A's address> <B's address>`` run in A's namespace gets a
reply, starting from cold neighbour caches (only static entries present).

The prediction replays that ping symbolically:

1. A's namespace picks the egress interface E for B's address (longest prefix; between equal
   prefixes the route added first wins, i.e. design order). Same namespace = local delivery.
2. Unless E has a static neighbour entry, E broadcasts an ARP request; every interface of B's
   namespace that receives it answers (``arp_ignore=0``) and learns A's MAC; the first answer
   must travel back to E.
3. The echo request is sent to the learned MAC and must land in B's namespace.
4. B's namespace routes the reply, resolves A (static entry, the entry learned in step 2 on
   that interface, or its own ARP exchange) and the echo reply must land in A's namespace.

Frames are carried by a model of the kernel's data path (``drivers/net/macvlan.c``,
``net/bridge``): a child's transmit path by mode, the parent's receive handler (including the
"reflected multicast from a private/source child goes back only to the sender" rule, the
source-mode MAC lists and passthru), veth pairs, and Linux bridges / external switches that
flood and never send a frame back out its ingress port unless that port has hairpin on.

Endpoints that behave identically (children of one parent, same mode and neighbour policy,
each alone in its own namespace) are grouped into classes; verdicts are computed per pair of
classes, so a design with 10,000 children on 100 parents needs a few hundred simulations, not
10^8.
"""
from __future__ import annotations

import copy
import ipaddress
from dataclasses import dataclass, field
from typing import Iterable

from .graph import behind, design_graph, far_end
from .model import ALL_PEERS, Design, Iface

__all__ = ["Verdict", "Prediction", "predict", "explain", "apply_what_if", "REASONS"]

BCAST = "ff:ff:ff:ff:ff:ff"
SRC, DST = "\x00src", "\x00dst"  # placeholders in cached hop lists, filled per ping
#: marks broadcasts a parent hands to its children from a work queue: they arrive after the
#: parent's own stack has seen (and answered) the frame
QUEUED = "(macvlan broadcast queue)"

#: reason code -> one-line meaning (documented in docs/reachability.md)
REASONS = {
    "OK": "the ping gets its reply",
    "LOCAL": "both addresses live in one namespace: delivered locally",
    "SRC_DOWN": "the pinging interface (or its parent) is down",
    "NO_ROUTE": "the pinging namespace has no route to the target address",
    "ARP_UNANSWERED": "the ARP request never reaches the target's namespace",
    "ARP_REPLY_LOST": "the target answers ARP but the answer never arrives",
    "ECHO_LOST": "the echo request does not arrive in the target's namespace",
    "REPLY_NO_ROUTE": "the target's namespace has no route back",
    "REPLY_ARP_UNANSWERED": "the target's ARP request for the pinger is never answered",
    "REPLY_LOST": "the echo reply does not arrive back",
}


@dataclass(frozen=True)
class Verdict:
    """Reachable or not, a reason code, the hops and the fix (pybatfish ``Trace`` style)."""

    reachable: bool
    reason: str
    message: str
    hops: tuple[str, ...] = ()
    fix: str = ""

    def to_dict(self) -> dict:
        return {"reachable": self.reachable, "reason": self.reason, "message": self.message,
                "hops": list(self.hops), "fix": self.fix}


# --------------------------------------------------------------------------- what-if
def apply_what_if(doc: dict, hairpin: dict[str, bool] | None = None, down: Iterable[str] = ()) -> dict:
    """A copy of a design document with hairpin flags and parent states overridden.

    ``hairpin`` keys are port nodes: ``switch:sw1/p1`` or ``bridge:host1/br0/vb1``; ``down``
    holds iface ids of parents (``host1/eth0``) to set down. Unknown keys raise ValueError.
    """
    doc = copy.deepcopy(doc)
    hairpin = dict(hairpin or {})
    down = set(down)
    single = "hosts" not in doc and any(k in doc for k in ("parents", "children", "bridges"))
    hosts = [{"name": "host", **{k: doc[k] for k in ("parents", "children", "bridges") if k in doc}}] if single \
        else doc.get("hosts") or []
    for sw in doc.get("switches") or []:
        for p in sw.get("ports") or []:
            key = f"switch:{sw['name']}/{p['name']}"
            if key in hairpin:
                p["hairpin"] = bool(hairpin.pop(key))
    for h in hosts:
        for b in h.get("bridges") or []:
            for p in b.get("ports") or []:
                key = f"bridge:{h['name']}/{b['name']}/{p['name']}"
                if key in hairpin:
                    p["hairpin"] = bool(hairpin.pop(key))
        for p in h.get("parents") or []:
            key = f"{h['name']}/{p['name']}"
            if key in down:
                p["state"] = "down"
                down.discard(key)
    if hairpin:
        raise ValueError(f"what-if hairpin: unknown port(s) {', '.join(sorted(hairpin))}; "
                         "use switch:SWITCH/PORT or bridge:HOST/BRIDGE/PORT")
    if down:
        raise ValueError(f"what-if down: unknown parent(s) {', '.join(sorted(down))}; use HOST/PARENT")
    return doc


# --------------------------------------------------------------------------- the world
@dataclass
class _Unit:
    """A receiver in the frame model: one interface, or a class of interchangeable children.

    A class may span several parents when those parents are interchangeable (same host,
    switch, hairpin, state, kind and MTU, and only classable children); pairs are then told
    apart by whether both ends hang off the same parent.
    """

    id: int
    rep: Iface
    members: list[Iface] = field(default_factory=list)


def _anchor(i: Iface) -> str:
    """The parent an endpoint hangs off (itself when it is not a child)."""
    return i.lower if i.is_child and i.lower else i.id


class _World:
    """The design compiled into lookup tables for the frame model; caches frame deliveries."""

    def __init__(self, design: Design, force_hairpin: bool = False, merge: bool = True):
        self.d = design
        self.force_hairpin = force_hairpin
        self.by_id = {i.id: i for i in design.interfaces}
        self.switch_ports: dict[str, list[tuple[str, bool]]] = {}
        self.port_hairpin: dict[tuple[str, str], bool] = {}
        self.attached: dict[str, str] = {}
        for sw in design.switches:
            self.switch_ports[sw.name] = [(p.name, p.hairpin or force_hairpin) for p in sw.ports]
            for p in sw.ports:
                self.port_hairpin[(sw.name, p.name)] = p.hairpin or force_hairpin
        cabling: dict[str, list[str]] = {}
        for i in design.interfaces:
            if i.link and i.link.startswith("switch:"):
                self.attached[i.link] = i.id
                sw, port = i.link[len("switch:"):].rsplit("/", 1)
                cabling.setdefault(sw, []).append(port)
        # flood order: a Linux bridge puts each new port at the head of its port list, so the
        # port cabled last sees a flooded frame first (this decides who answers ARP first)
        self.flood_order: dict[str, list[tuple[str, bool]]] = {
            sw: [(p, self.port_hairpin.get((sw, p), False)) for p in reversed(ports)] for sw, ports in cabling.items()}
        self.units: list[_Unit] = []
        self.unit_of: dict[str, _Unit] = {}
        self._build_units(merge)
        self._alive = {i.id: self._compute_alive(i) for i in design.interfaces}
        # every child unit present on a lower, once
        self.children: dict[str, list[_Unit]] = {}
        for i in design.interfaces:
            if i.is_child and i.lower:
                lst = self.children.setdefault(i.lower, [])
                u = self.unit_of[i.id]
                if not lst or all(x is not u for x in lst):
                    lst.append(u)
        self.mac_owner: dict[str, Iface] = {}
        for i in design.interfaces:
            if i.kind == "bridge-port" or i.mac in self.mac_owner and not i.is_child:
                continue
            self.mac_owner[i.mac] = i
        # the far end of every cable / veth, from the topology graph
        self.graph = design_graph(design)
        self.far: dict[str, str] = {}
        for i in design.interfaces:
            end = far_end(self.graph, i.id)
            if end is not None:
                self.far[i.id] = end
        # ports of host bridges, in flood order (last enslaved first); a port cabled to a parent
        # is enslaved together with that parent
        self.bridge_ports: dict[str, list[Iface]] = {}
        for i in design.interfaces:
            port = None
            if i.master and i.kind in ("parent", "bridge-port") and not (i.kind == "bridge-port" and not i.link):
                port = i
            elif i.kind == "parent" and i.link and i.link.startswith("bridge:"):
                port = self.by_id[f"{i.host}/{i.link.rsplit('/', 1)[1]}"]
            if port is not None:
                self.bridge_ports.setdefault(port.master, []).insert(0, port)
        self.port_mac_to_bridge = {p.mac: m for m, ps in self.bridge_ports.items() for p in ps}
        self.ns_ifaces: dict[str, list[Iface]] = {}
        for i in design.interfaces:
            self.ns_ifaces.setdefault(i.ns, []).append(i)
        self.ip_owners: dict = {}
        for i in design.interfaces:
            for a in i.addresses:
                self.ip_owners.setdefault(a.ip, []).append(i)
        self._cache: dict = {}

    # -- classes --------------------------------------------------------------------
    def _build_units(self, merge: bool) -> None:
        d = self.d
        ns_count: dict[str, int] = {}
        for i in d.interfaces:
            ns_count[i.ns] = ns_count.get(i.ns, 0) + 1
        referenced: set[str] = set()
        for i in d.interfaces:
            referenced.update(m for m in i.source_macs)
            if i.neighbors and i.neighbors != ALL_PEERS:
                for _addr, mac in d.static_neighbors(i):
                    referenced.add(mac)

        def classable(i: Iface) -> bool:
            return (merge and i.is_child and i.mode in ("bridge", "vepa", "private") and ns_count[i.ns] == 1
                    and bool(i.namespace) and not i.routes and (i.neighbors == () or i.neighbors == ALL_PEERS)
                    and i.mac not in referenced and len(i.addresses) <= 1)

        # interchangeable parents share a signature; others get their own id as signature
        lower_ok: dict[str, bool] = {}
        for i in d.interfaces:
            if i.is_child and i.lower:
                lower_ok[i.lower] = lower_ok.get(i.lower, True) and classable(i)
        lower_sig: dict[str, tuple] = {}
        for lid, ok in lower_ok.items():
            low = self.by_id[lid]
            if ok and low.kind == "parent" and not low.master and (low.link is None or low.link.startswith("switch:")):
                sw = port_hp = None
                if low.link:
                    sw, port = low.link[len("switch:"):].rsplit("/", 1)
                    port_hp = self.port_hairpin.get((sw, port), False)
                lower_sig[lid] = ("shared", low.host, sw, port_hp, low.link is None, low.state, low.parent_kind,
                                  low.mtu)
            else:
                lower_sig[lid] = ("own", lid)
        groups: dict[tuple, _Unit] = {}
        for i in d.interfaces:
            key = None
            if classable(i):
                key = (lower_sig[i.lower], i.kind, i.mode, i.state, i.neighbors == ALL_PEERS,
                       i.addresses[0].network if i.addresses else None)
            if key is not None and key in groups:
                u = groups[key]
                u.members.append(i)
            else:
                u = _Unit(len(self.units), i, [i])
                self.units.append(u)
                if key is not None:
                    groups[key] = u
            self.unit_of[i.id] = u

    # -- state ------------------------------------------------------------------------
    def alive(self, i: Iface) -> bool:
        """Admin up, and for a child: its parent is up too (carrier follows the lower device)."""
        return self._alive[i.id]

    def _compute_alive(self, i: Iface) -> bool:
        if not i.up:
            return False
        if i.is_child and i.lower and not self.by_id[i.lower].up:
            return False
        if i.master and not self.by_id[i.master].up:
            return False
        return True

    def hairpin(self, port_iface: Iface) -> bool:
        return port_iface.hairpin or self.force_hairpin

    # -- frame model --------------------------------------------------------------------
    # A delivery result maps "slots" to the hops taken. A broadcast reaches every member of
    # a unit on one parent, so it is recorded as ("u", unit id, parent); a unicast reaches
    # exactly the MAC's owner, recorded as ("i", iface id).
    def deliver(self, src: Iface, dst_mac: str) -> dict[tuple, tuple[str, ...]]:
        """Where a frame that ``src`` sends to ``dst_mac`` is received by an IP stack."""
        key = (src.id, dst_mac)
        got = self._cache.get(key)
        if got is None:
            got = {}
            self._tx(src, dst_mac, got, (SRC,), set())
            self._cache[key] = got
        return got

    def received(self, got: dict, iface: Iface, sender: Iface) -> tuple | None:
        """Hops by which ``iface`` received a delivery from ``sender``, or None."""
        if iface.id == sender.id:
            return None
        hops = got.get(("i", iface.id))
        if hops is None:
            hops = got.get(("u", self.unit_of[iface.id].id, iface.lower if iface.is_child else None))
            if hops is not None:
                hops = tuple(iface.id if h == DST else h for h in hops)
        return hops

    def _receive(self, iface: Iface, out: dict, hops: tuple, dst: str) -> None:
        """Record that ``iface`` (for a broadcast: every member of its unit on its parent) got it."""
        if not hops or hops[-1] != iface.id:
            hops = hops + (iface.id,)
        if dst == BCAST:
            u = self.unit_of[iface.id]
            slot = ("u", u.id, iface.lower if iface.is_child else None)
            if len(u.members) > 1:
                hops = tuple(DST if h == iface.id else h for h in hops)
        else:
            slot = ("i", iface.id)
        out.setdefault(slot, hops)

    def _receive_unit(self, u: _Unit, lower: Iface, out: dict, hops: tuple) -> None:
        """A broadcast reaches every member of ``u`` on ``lower``."""
        slot = ("u", u.id, lower.id)
        if slot not in out:
            out[slot] = hops + ((DST,) if len(u.members) > 1 else (u.rep.id,))

    def _tx(self, src: Iface, dst: str, out: dict, hops: tuple, seen: set) -> None:
        if not self.alive(src):
            return
        if src.is_child:
            lower = self.by_id[src.lower]
            if src.mode == "bridge":
                if dst == BCAST:
                    for u in self.children.get(lower.id, ()):
                        r = u.rep
                        if r.mode == "bridge" and r.state == "up":
                            self._receive_unit(u, lower, out, hops + (f"{lower.id} (bridge mode, direct)",))
                else:
                    owner = self.mac_owner.get(dst)
                    if owner is not None and owner.is_child and owner.lower == lower.id and owner.mode == "bridge":
                        if self.alive(owner):
                            self._receive(owner, out, hops + (f"{lower.id} (bridge mode, direct)",), dst)
                        return
            self._wire_out(lower, src, dst, out, hops + (lower.id,), seen)
            return
        if src.kind == "bridge":
            self._bridge_forward(src, None, src, dst, out, hops, seen)
            return
        self._wire_out(src, src, dst, out, hops, seen)

    def _wire_out(self, dev: Iface, src: Iface, dst: str, out: dict, hops: tuple, seen: set) -> None:
        if not self.alive(dev):
            return
        far = self.far.get(dev.id)
        if far is None:
            return
        if far.startswith("switch:"):
            sw, port = far[len("switch:"):].rsplit("/", 1)
            self._switch(sw, port, src, dst, out, hops + (far,), seen)
        else:
            self._rx(self.by_id[far], src, dst, out, hops + (far,), seen)

    def _switch(self, sw: str, ingress: str, src: Iface, dst: str, out: dict, hops: tuple, seen: set) -> None:
        key = ("sw", sw, ingress)
        if key in seen:
            return
        seen.add(key)
        ports = self.flood_order.get(sw, ())
        ingress_hairpin = self.port_hairpin.get((sw, ingress), False)
        if dst != BCAST:
            # unicast: the switch forwards to the one port the MAC lives behind (flooding an
            # unknown MAC gives the same deliveries, since nobody else accepts the frame)
            port = self._mac_port(sw).get(dst)
            ports = [(port, False)] if port is not None else ()
        for port, _h in ports:
            if port == ingress and not ingress_hairpin:
                continue
            node = f"switch:{sw}/{port}"
            att = self.attached.get(node)
            if att is None:
                continue
            step = f"{node} (hairpin: reflected)" if port == ingress else node
            self._rx(self.by_id[att], src, dst, out, hops + (step,), seen)

    def _mac_port(self, sw: str) -> dict[str, str]:
        """MAC -> the port of switch ``sw`` it lives behind (walking the layer-2 graph)."""
        cache = self.__dict__.setdefault("_mac_port_cache", {})
        table = cache.get(sw)
        if table is None:
            table = {}
            for port, _h in self.switch_ports.get(sw, ()):
                att = self.attached.get(f"switch:{sw}/{port}")
                if att is not None:
                    for mac in self._macs_behind(att, f"switch:{sw}"):
                        table.setdefault(mac, port)
            cache[sw] = table
        return table

    def _macs_behind(self, start: str, avoid: str) -> set[str]:
        return {self.by_id[n].mac for n in behind(self.graph, start, avoid) if n in self.by_id}

    def _bridge_forward(self, br: Iface, ingress: Iface | None, src: Iface, dst: str, out: dict, hops: tuple,
                        seen: set) -> None:
        key = ("br", br.id, ingress.id if ingress else None)
        if key in seen or not br.up:
            return
        seen.add(key)
        if ingress is not None and (dst == BCAST or dst == br.mac or self.port_mac_to_bridge.get(dst) == br.id):
            self._receive(br, out, hops + (br.id,), dst)
        for port in self.bridge_ports.get(br.id, ()):
            if ingress is not None and port.id == ingress.id and not self.hairpin(port):
                continue
            step = f"{port.id} (hairpin: reflected)" if ingress is not None and port.id == ingress.id else port.id
            if port.kind == "bridge-port":
                far = self.far.get(port.id)
                if far:
                    self._rx(self.by_id[far], src, dst, out, hops + (step, far), seen)
            else:  # an enslaved NIC: out through its own cable
                self._wire_out(port, src, dst, out, hops + (step,), seen)

    def _rx(self, dev: Iface, src: Iface, dst: str, out: dict, hops: tuple, seen: set) -> None:
        key = ("rx", dev.id)
        if key in seen or not self.alive(dev):
            return
        seen.add(key)
        if dev.master:
            self._bridge_forward(self.by_id[dev.master], dev, src, dst, out, hops + (dev.master,), seen)
            return
        kids = self.children.get(dev.id)
        if kids:
            self._macvlan_rx(dev, kids, src, dst, out, hops, seen)
            return
        if dst == BCAST or dst == dev.mac:
            self._receive(dev, out, hops, dst)

    def _lower_info(self, lower_id: str, kids: list[_Unit]):
        cache = self.__dict__.setdefault("_lower_cache", {})
        got = cache.get(lower_id)
        if got is None:
            got = ([u for u in kids if u.rep.mode == "source"],
                   next((u for u in kids if u.rep.mode == "passthru"), None))
            cache[lower_id] = got
        return got

    def _macvlan_rx(self, lower: Iface, kids: list[_Unit], src: Iface, dst: str, out: dict, hops: tuple,
                    seen: set) -> None:
        """The parent's receive handler, after macvlan_handle_frame()."""
        sources, passthru = self._lower_info(lower.id, kids)
        # source mode: copies to every source child listing the sender's MAC
        for u in sources:
            r = u.rep
            if src.mac in r.source_macs and r.state == "up":
                if dst == BCAST or dst == r.mac:
                    self._receive(r, out, hops + (f"{r.id} (source list)",), dst)
        # the kernel identifies the sender by source MAC (a passthru child shares its parent's)
        owner = self.mac_owner.get(src.mac)
        src_kid = owner if owner is not None and owner.is_child and owner.lower == lower.id else None
        if dst == BCAST:
            if src_kid is not None and src_kid.mode not in ("vepa", "bridge"):
                # a reflected broadcast from a private/source/passthru child goes back to that child only
                if src_kid.id != src.id and src_kid.state == "up":
                    self._receive(src_kid, out, hops + (src_kid.id,), dst)
                return
            if src_kid is None:
                mask = ("private", "vepa", "passthru", "bridge")
            elif src_kid.mode == "vepa":
                mask = ("vepa", "bridge")
            else:
                mask = ("vepa",)  # bridge-mode siblings already saw it on the way out
            queued = hops + (f"{lower.id} {QUEUED}",)
            for u in kids:
                r = u.rep
                if r.mode in mask and r.state == "up":
                    self._receive_unit(u, lower, out, queued)
            self._receive(lower, out, hops, dst)  # RX_HANDLER_PASS: the parent's own stack sees it too
            return
        if passthru is not None:
            r = passthru.rep
            if dst == r.mac and r.state == "up":
                self._receive(r, out, hops, dst)
            return
        owner = self.mac_owner.get(dst)
        if owner is not None and owner.is_child and owner.lower == lower.id:
            if owner.mode != "source" and owner.state == "up":
                self._receive(owner, out, hops, dst)
            return
        if dst == lower.mac:
            self._receive(lower, out, hops, dst)

    # -- layer 3 -------------------------------------------------------------------------
    def route(self, ns: str, target: ipaddress.IPv4Address) -> tuple[Iface, ipaddress.IPv4Address] | None:
        """(egress interface, next hop) for ``target`` in namespace ``ns``, like fib_lookup."""
        best = None  # (prefixlen, order, iface, nexthop)
        order = 0
        for i in self.ns_ifaces.get(ns, ()):
            if not i.up or i.master or i.kind == "bridge-port":
                continue
            for a in i.addresses:
                order += 1
                if a.network.prefixlen < 32 and target in a.network:  # a /32 adds no prefix route
                    cand = (a.network.prefixlen, -order, i, target)
                    if best is None or cand[:2] > best[:2]:
                        best = cand
        for i in self.ns_ifaces.get(ns, ()):
            if not i.up:
                continue
            for r in i.routes:
                order += 1
                if target in r.to:
                    cand = (r.to.prefixlen, -order, i, r.via or target)
                    if best is None or cand[:2] > best[:2]:
                        best = cand
        return (best[2], best[3]) if best else None

    def neighbor_mac(self, iface: Iface, ip) -> str | None:
        return self.d.static_mac_for(iface, ip) if iface.neighbors else None

    def arp(self, egress: Iface, ip) -> list[tuple[Iface, tuple]]:
        """Broadcast an ARP request for ``ip`` from ``egress``: the interfaces that answer.

        With ``arp_ignore=0`` every interface of the namespace owning ``ip`` answers, not
        only the one holding the address (ARP flux).
        """
        owners = self.ip_owners.get(ip, ())
        if not owners:
            return []
        got = self.deliver(egress, BCAST)
        responders = []
        for ns in dict.fromkeys(o.ns for o in owners):
            for i in self.ns_ifaces[ns]:
                hops = self.received(got, i, egress)
                if hops is not None:
                    responders.append((i, hops))
        if len(responders) > 1:
            # the order frames were handed out (dict insertion order follows the data path)
            rank = {slot: n for n, slot in enumerate(got)}

            def where(i: Iface) -> int:
                slot = ("i", i.id) if ("i", i.id) in rank else ("u", self.unit_of[i.id].id,
                                                                   i.lower if i.is_child else None)
                return rank.get(slot, len(rank))
            responders.sort(key=lambda rh: (any(QUEUED in h for h in rh[1]), where(rh[0])))
        return responders

    def landed(self, got: dict, ns: str, sender: Iface) -> tuple[Iface, tuple] | None:
        """The first interface of namespace ``ns`` that received a delivery, with its hops."""
        for i in self.ns_ifaces.get(ns, ()):
            hops = self.received(got, i, sender)
            if hops is not None:
                return i, hops
        return None


# --------------------------------------------------------------------------- prediction
class Prediction:
    """Verdicts for every ordered pair of endpoints, stored per pair of equivalence classes.

    The verdict of endpoints ``a != b`` is ``verdicts[(class(a), class(b), same)]`` where
    ``same`` tells whether both hang off the same parent (or one is the other's parent).
    """

    def __init__(self, design: Design, world: "_World", endpoints: list[Iface], class_of: dict[str, int],
                 classes: list[list[str]], verdicts: dict[tuple[int, int, bool], Verdict],
                 examples: dict[tuple[int, int, bool], tuple[str, str]]):
        self.design = design
        self._world = world
        self.endpoints = endpoints
        self.class_of = class_of
        self.classes = classes
        self.verdicts = verdicts
        #: the representative pair each class verdict was computed (and worded) for
        self.examples = examples
        self._anchor = {e.id: _anchor(e) for e in endpoints}
        #: the topology graph the prediction walked (planner.core.graph)
        self.graph = world.graph
        self._worded: dict[tuple[str, str], Verdict] = {}

    def key(self, a: str, b: str) -> tuple[int, int, bool]:
        try:
            return self.class_of[a], self.class_of[b], self._anchor[a] == self._anchor[b]
        except KeyError:
            raise KeyError(f"{a!r} or {b!r} is not an endpoint (an interface with an IPv4 address)") from None

    def reachable(self, a: str, b: str) -> bool:
        return self.verdicts[self.key(a, b)].reachable

    def verdict(self, a: str, b: str) -> Verdict:
        """The verdict for endpoint ids ``a`` -> ``b``, worded for that pair."""
        if a == b:
            raise ValueError("an endpoint is not paired with itself")
        key = self.key(a, b)
        v = self.verdicts[key]
        if self.examples[key] == (a, b):
            return v
        worded = self._worded.get((a, b))
        if worded is None:
            d = self.design
            worded = _ping(self._world, d.iface(a), d.iface(b))
            if not worded.reachable:
                worded = _Fixer(d, self._world).with_fix(worded, d.iface(a), d.iface(b))
            if worded.reachable != v.reachable:  # would be a bug in the class construction
                raise AssertionError(f"class verdict for {a} -> {b} disagrees with the pair's own replay")
            self._worded[(a, b)] = worded
        return worded

    def matrix(self) -> dict[tuple[str, str], bool]:
        """Every ordered pair materialised (for tests and small designs)."""
        out = {}
        for a in self.endpoints:
            for b in self.endpoints:
                if a.id != b.id:
                    out[(a.id, b.id)] = self.verdicts[self.key(a.id, b.id)].reachable
        return out

    def members_by_anchor(self, ci: int) -> dict[str, list[str]]:
        """Members of class ``ci`` grouped by the parent they hang off."""
        cache = self.__dict__.setdefault("_mba", {})
        got = cache.get(ci)
        if got is None:
            got = {}
            for m in self.classes[ci]:
                got.setdefault(self._anchor[m], []).append(m)
            cache[ci] = got
        return got

    def anchor(self, endpoint_id: str) -> str:
        """The parent an endpoint hangs off (the endpoint itself when it is no child)."""
        return self._anchor[endpoint_id]

    def pair_count(self, key: tuple[int, int, bool]) -> int:
        """How many ordered endpoint pairs a class verdict stands for."""
        counts = self.__dict__.get("_counts")
        if counts is None:
            counts = {}
            per_class_anchor: list[dict[str, int]] = []
            for members in self.classes:
                ca: dict[str, int] = {}
                for m in members:
                    ca[self._anchor[m]] = ca.get(self._anchor[m], 0) + 1
                per_class_anchor.append(ca)
            for (ci, cj, same) in self.verdicts:
                ai, aj = per_class_anchor[ci], per_class_anchor[cj]
                same_n = sum(n * (aj.get(anc, 0) - (1 if ci == cj else 0)) for anc, n in ai.items())
                total = len(self.classes[ci]) * (len(self.classes[cj]) - (1 if ci == cj else 0))
                counts[(ci, cj, same)] = same_n if same else total - same_n
            self.__dict__["_counts"] = counts
        return counts[key]

    def to_dict(self) -> dict:
        eps = [{"id": e.id, "address": str(e.address.ip), "prefix": e.address.network.prefixlen, "ns": e.ns,
                "kind": e.kind, "mode": e.mode, "host": e.host, "parent": self._anchor[e.id],
                "class": self.class_of[e.id]} for e in self.endpoints]
        verdicts = [{"from": ci, "to": cj, "same_parent": same, "example": list(self.examples[(ci, cj, same)]),
                     "pairs": self.pair_count((ci, cj, same)), **v.to_dict()}
                    for (ci, cj, same), v in sorted(self.verdicts.items())]
        n = len(self.endpoints)
        reach = sum(self.pair_count(k) for k, v in self.verdicts.items() if v.reachable)
        return {"endpoints": eps, "classes": self.classes, "verdicts": verdicts,
                "summary": {"endpoints": n, "classes": len(self.classes), "pairs": n * (n - 1),
                            "reachable_pairs": reach}}


def predict(design: Design, *, merge: bool = True) -> Prediction:
    """Predict every ordered pair of endpoints (interfaces with an IPv4 address).

    ``merge=False`` gives every endpoint its own class (slow; used to test the classes).
    """
    world = _World(design, merge=merge)
    endpoints = design.endpoints()
    classes: list[list[str]] = []
    class_index: dict[int, int] = {}
    class_of: dict[str, int] = {}
    by_anchor: list[dict[str, list[Iface]]] = []
    for e in endpoints:
        u = world.unit_of[e.id]
        if u.id not in class_index:
            class_index[u.id] = len(classes)
            classes.append([])
            by_anchor.append({})
        ci = class_index[u.id]
        classes[ci].append(e.id)
        class_of[e.id] = ci
        by_anchor[ci].setdefault(_anchor(e), []).append(e)
    fixer = _Fixer(design, world)
    verdicts: dict[tuple[int, int, bool], Verdict] = {}
    examples: dict[tuple[int, int, bool], tuple[str, str]] = {}
    single = [len(c) == 1 for c in classes]
    first = [design.iface(c[0]) for c in classes]
    local: dict[str, Verdict] = {}
    for ci in range(len(classes)):
        for cj in range(len(classes)):
            if single[ci] and single[cj]:
                if ci == cj:
                    continue
                a, b = first[ci], first[cj]
                pairs = (((_anchor(a) == _anchor(b)), a, b),)
                if a.ns == b.ns:  # fast path: many endpoints in one namespace are all LOCAL
                    v = local.get(a.ns)
                    if v is None:
                        v = local[a.ns] = _local_verdict(a.ns)
                    verdicts[(ci, cj, pairs[0][0])] = v
                    examples[(ci, cj, pairs[0][0])] = (a.id, b.id)
                    continue
            else:
                pairs = tuple((same,) + pair for same in (True, False)
                              if (pair := _example_pair(by_anchor[ci], by_anchor[cj], same)) is not None)
            for same, a, b in pairs:
                v = _ping(world, a, b)
                if not v.reachable:
                    v = fixer.with_fix(v, a, b)
                verdicts[(ci, cj, same)] = v
                examples[(ci, cj, same)] = (a.id, b.id)
    return Prediction(design, world, endpoints, class_of, classes, verdicts, examples)


def _local_verdict(ns: str) -> Verdict:
    return Verdict(True, "LOCAL", f"both addresses live in namespace {ns}: the kernel delivers locally over lo, "
                                  "whatever the links do", (ns, "lo"))


def _example_pair(ai: dict[str, list[Iface]], aj: dict[str, list[Iface]], same: bool):
    """Two distinct endpoints from two classes, on the same parent or on different ones."""
    if same:
        for anc, xs in ai.items():
            ys = aj.get(anc)
            if ys:
                for x in xs:
                    for y in ys:
                        if x.id != y.id:
                            return x, y
        return None
    for anc, xs in ai.items():
        for anc2, ys in aj.items():
            if anc2 != anc:
                return xs[0], ys[0]
    return None


def explain(design: Design, a: str, b: str) -> Verdict:
    """The verdict for one ordered pair, resolving short references like ``web0`` too."""
    ids = {e.id for e in design.endpoints()}

    def resolve(ref: str) -> str:
        if ref in ids:
            return ref
        hits = [i for i in ids if i.rsplit("/", 1)[-1] == ref or i == f"station:{ref}"]
        if len(hits) == 1:
            return hits[0]
        if not hits:
            raise KeyError(f"{ref!r} is not an endpoint; endpoints: {', '.join(sorted(ids))}")
        raise KeyError(f"{ref!r} is ambiguous: {', '.join(sorted(hits))}")

    a, b = resolve(a), resolve(b)
    if a == b:
        raise KeyError("pick two different endpoints")
    world = _World(design)
    v = _ping(world, design.iface(a), design.iface(b))
    return v if v.reachable else _Fixer(design).with_fix(v, design.iface(a), design.iface(b))


# --------------------------------------------------------------------------- one ping
def _ping(w: _World, a: Iface, b: Iface) -> Verdict:
    aip, bip = a.address.ip, b.address.ip
    if a.ns == b.ns:
        return _local_verdict(a.ns)
    # a's own link may be down: its address stays local and another interface of the
    # namespace may still carry the ping (measured), so only the route decides
    rt = w.route(a.ns, bip)
    if rt is None and not w.alive(a):
        return Verdict(False, "SRC_DOWN", _down_text(w, a) + "; no other interface of " + a.ns +
                       " has a route to " + str(bip), (a.id,))
    if rt is None:
        return Verdict(False, "NO_ROUTE", f"{a.ns} has no route to {bip}: it is outside every connected subnet "
                                          f"there and no static route covers it (routing between subnets is out of "
                                          f"scope)", (a.id,))
    egress, nh = rt
    if not w.alive(egress):
        return Verdict(False, "SRC_DOWN", _down_text(w, egress), (egress.id,))
    # --- A resolves B --------------------------------------------------------------------
    learned_on_b: set[str] = set()
    static = w.neighbor_mac(egress, nh)
    if static is not None:
        mac_b = static
    else:
        responders = w.arp(egress, nh)
        if not responders:
            return Verdict(False, "ARP_UNANSWERED", _why_not(w, egress, b, "ARP request (broadcast)"),
                           (egress.id,))
        learned_on_b = {r.id for r, _h in responders}
        # the first answer that ARRIVES wins (later ones are ignored within locktime): arp()
        # lists interfaces that see the request directly before children served from the
        # broadcast queue, each in the order the data path reaches them
        responder = next((r for r, _h in responders
                          if w.received(w.deliver(r, egress.mac), egress, r) is not None), None)
        if responder is None:
            first, hops_arp = responders[0]
            return Verdict(False, "ARP_REPLY_LOST", _why_not(w, first, egress, "ARP reply (unicast)"),
                           _fill(hops_arp, egress, first))
        mac_b = responder.mac
    # --- echo request ------------------------------------------------------------------------
    dest = w.landed(w.deliver(egress, mac_b), b.ns, egress)
    if dest is None:
        owner = w.mac_owner.get(mac_b)
        if owner is not None and owner.ns == b.ns:
            return Verdict(False, "ECHO_LOST", _why_not(w, egress, owner, "echo request (unicast)"), (egress.id,))
        return Verdict(False, "ECHO_LOST", f"{egress.id} sends the echo request to {mac_b}, which is not an "
                                           f"interface in {b.ns} (a wrong static neighbour entry?)", (egress.id,))
    echo_hops = _fill(dest[1], egress, dest[0])
    # --- B replies -----------------------------------------------------------------------------
    rt_b = w.route(b.ns, aip)
    if rt_b is None:
        return Verdict(False, "REPLY_NO_ROUTE", f"{b.ns} has no route back to {aip}", echo_hops)
    eb, nh_b = rt_b
    if not w.alive(eb):
        return Verdict(False, "REPLY_LOST", f"{b.ns} would answer through {eb.id}, which is down: "
                                            f"{_down_text(w, eb)}", echo_hops)
    mac_a = w.neighbor_mac(eb, nh_b)
    if mac_a is None and eb.id in learned_on_b and nh_b == aip:
        mac_a = egress.mac  # learned from A's ARP request on that interface
    if mac_a is None:
        responders = w.arp(eb, nh_b)
        if not responders:
            return Verdict(False, "REPLY_ARP_UNANSWERED",
                           _why_not(w, eb, a, f"ARP request for {aip} (broadcast)") +
                           (". The pinger used a static entry, so the target never saw an ARP request to learn "
                            "from" if static is not None else ""), echo_hops)
        resp = next((r for r, _h in responders if w.received(w.deliver(r, eb.mac), eb, r) is not None), None)
        if resp is None:
            return Verdict(False, "REPLY_ARP_UNANSWERED", _why_not(w, responders[0][0], eb, "ARP reply (unicast)"),
                           echo_hops)
        mac_a = resp.mac
    back = w.landed(w.deliver(eb, mac_a), a.ns, eb)
    if back is not None:
        back_hops = _fill(back[1], eb, back[0])
        return Verdict(True, "OK", f"{a.id} reaches {b.id}: " + _path_text(echo_hops) +
                       ("" if back_hops == tuple(reversed(echo_hops)) else
                        "; the reply returns " + _path_text(back_hops)), echo_hops)
    owner = w.mac_owner.get(mac_a)
    return Verdict(False, "REPLY_LOST", _why_not(w, eb, owner or a, "echo reply (unicast)"), echo_hops)


def _fill(hops: tuple, src: Iface, dst: Iface) -> tuple:
    """Put the real sender and receiver into a cached hop list."""
    return tuple(src.id if h == SRC else dst.id if h == DST else h for h in hops)


def _path_text(hops: tuple) -> str:
    return " -> ".join(hops)


def _down_text(w: _World, i: Iface) -> str:
    if not i.up:
        return f"{i.id} is administratively down"
    if i.is_child and i.lower and not w.by_id[i.lower].up:
        return (f"parent {i.lower} of {i.id} is down; every macvlan child loses carrier with its parent "
                f"(blast radius)")
    if i.master and not w.by_id[i.master].up:
        return f"bridge {i.master} of port {i.id} is down"
    return f"{i.id} is down"


def _port_of(w: _World, lower: Iface) -> str | None:
    far = w.far.get(lower.id)
    if far is None:
        return None
    if far.startswith("switch:"):
        return far
    port = w.by_id.get(far)
    return port.id if port is not None else None


def _port_hairpin(w: _World, node: str) -> bool:
    if node.startswith("switch:"):
        sw, port = node[len("switch:"):].rsplit("/", 1)
        return next((h for p, h in w.switch_ports.get(sw, ()) if p == port), False)
    p = w.by_id.get(node)
    return bool(p and w.hairpin(p))


def _why_not(w: _World, src: Iface, dst: Iface, what: str) -> str:
    """Explain in words why a frame from ``src`` does not reach ``dst``."""
    if not w.alive(dst):
        return f"the {what} from {src.id} cannot be received: {_down_text(w, dst)}"
    if not w.alive(src):
        return f"the {what} cannot be sent: {_down_text(w, src)}"
    bcast = "broadcast" in what
    s_low = w.by_id[src.lower] if src.is_child else None
    d_low = w.by_id[dst.lower] if dst.is_child else None
    if dst.mode == "source" and src.mac not in dst.source_macs:
        return (f"{dst.id} is in source mode and only accepts frames from the MACs on its list; "
                f"{src.id} ({src.mac}) is not on it, so the {what} is dropped")
    same_lower = s_low is not None and (s_low is d_low or dst.id == s_low.id)
    src_is_lower_of_dst = d_low is not None and src.id == d_low.id
    if same_lower or src_is_lower_of_dst:
        lower = s_low or d_low
        port = _port_of(w, lower)
        if bcast and src.is_child and src.mode in ("private", "source", "passthru") and dst.id != src.id:
            return (f"{src.id} is in {src.mode} mode: the parent {lower.id} hands a {src.mode} child's reflected "
                    f"broadcasts back to that child only, so siblings and the parent never see its "
                    f"{what} - even with hairpin on")
        if bcast and dst.mode == "private" and src.is_child:
            return (f"{dst.id} is in private mode: it drops broadcasts that come from a sibling on {lower.id} "
                    f"(ARP cannot work; unicast needs static neighbours on both ends and a hairpin port)")
        if bcast and dst.mode == "bridge" and src.is_child and src.mode == "bridge":
            return f"{src.id} and {dst.id} are both bridge mode on {lower.id} but one of them is down"
        hp = _port_hairpin(w, port) if port else False
        if port is None:
            return (f"{src.id} ({src.mode or src.kind}) sends through {lower.id}, which is cabled to nothing, so "
                    f"the {what} can only come back to {dst.id} via a reflecting switch port")
        if not hp:
            kind = f"{src.mode} mode" if src.is_child else "the parent's own stack"
            return (f"the {what} from {src.id} ({kind}) leaves through {lower.id} to {port} and must be reflected "
                    f"back to reach {dst.id}; {port} does not reflect frames (hairpin off)")
        return f"the {what} from {src.id} is reflected at {port} but {dst.id} ({dst.mode or dst.kind}) does not accept it"
    return (f"no layer-2 path carries the {what} from {src.id} to {dst.id} (different segments, or a device "
            f"on the way is down)")


# --------------------------------------------------------------------------- fixes
class _Fixer:
    """Finds a one-line fix for a blocked pair by replaying it in changed worlds."""

    def __init__(self, design: Design, world: _World | None = None):
        self.design = design
        self._hairpin_world: _World | None = None
        if world is not None:
            self.__dict__["_plain_world"] = world

    def with_fix(self, v: Verdict, a: Iface, b: Iface) -> Verdict:
        fix = self.fix_for(v, a, b)
        return Verdict(v.reachable, v.reason, v.message, v.hops, fix) if fix else v

    def fix_for(self, v: Verdict, a: Iface, b: Iface) -> str:
        lowers_down = [i for i in (a, b) if i.is_child and not self.design.iface(i.lower).up]
        if lowers_down:
            return f"bring the parent up: ip link set dev {lowers_down[0].lower.rsplit('/', 1)[1]} up"
        if v.reason == "SRC_DOWN" or not (a.up and b.up):
            down = a if not a.up else b
            return f"bring {down.id} up: ip link set dev {down.name} up"
        if v.reason in ("NO_ROUTE", "REPLY_NO_ROUTE"):
            return "put both endpoints in one subnet, or add routes (routing is out of mvplan's scope)"
        if self._hairpin_world is None:
            self._hairpin_world = _World(self.design, force_hairpin=True)
        if _ping(self._hairpin_world, a, b).reachable:
            ports = []
            w = self._hairpin_world
            for i in (a, b):
                if i.is_child:
                    port = _port_of(w, w.by_id[i.lower])
                    if port and not _port_hairpin(self._plain(), port):
                        ports.append(port)
                elif i.kind == "parent":
                    port = _port_of(w, i)
                    if port and not _port_hairpin(self._plain(), port):
                        ports.append(port)
            ports = sorted(set(ports))
            if ports:
                return ("turn on hairpin (reflective relay) on " + ", ".join(ports) + ": " +
                        "; ".join(_hairpin_command(p) for p in ports) +
                        " - or put the siblings in bridge mode")
            return "turn on hairpin on the switch ports involved"
        modes = {i.mode for i in (a, b) if i.is_child}
        if "private" in modes or "source" in modes:
            return ("private/source children cannot resolve siblings by ARP: use bridge (or vepa + hairpin) mode, "
                    "or static neighbours on both ends plus a hairpin port")
        return ""

    def _plain(self) -> _World:
        w = self.__dict__.get("_plain_world")
        if w is None:
            w = _World(self.design)
            self.__dict__["_plain_world"] = w
        return w


def _hairpin_command(port: str) -> str:
    if port.startswith("switch:"):
        sw, p = port[len("switch:"):].rsplit("/", 1)
        return f"bridge link set dev {p} hairpin on (on switch {sw})"
    return f"bridge link set dev {port.rsplit('/', 1)[1]} hairpin on"
