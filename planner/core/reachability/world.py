"""The frame world: a design compiled into lookup tables, and the kernel's data path that carries frames.

Frames are carried by a model of the kernel's data path (``drivers/net/macvlan.c``,
``net/bridge``): a child's transmit path by mode, the parent's receive handler (including the
"reflected multicast from a private/source child goes back only to the sender" rule, the
source-mode MAC lists and passthru), veth pairs, and Linux bridges / external switches that
flood and never send a frame back out its ingress port unless that port has hairpin on.

Endpoints that behave identically (children of one parent, same mode and neighbour policy,
each alone in its own namespace) are grouped into units (classes).
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from ..graph import behind, design_graph, far_end
from ..model import ALL_PEERS, Design, Iface

__all__ = ["World", "Unit", "anchor", "BCAST", "SRC", "DST", "QUEUED"]

BCAST = "ff:ff:ff:ff:ff:ff"
SRC, DST = "\x00src", "\x00dst"  # placeholders in cached hop lists, filled per ping
#: marks broadcasts a parent hands to its children from a work queue: they arrive after the
#: parent's own stack has seen (and answered) the frame
QUEUED = "(macvlan broadcast queue)"


# --------------------------------------------------------------------------- the world
@dataclass
class Unit:
    """A receiver in the frame model: one interface, or a class of interchangeable children.

    A class may span several parents when those parents are interchangeable (same host,
    switch, hairpin, state, kind and MTU, and only classable children); pairs are then told
    apart by whether both ends hang off the same parent.
    """

    id: int
    rep: Iface
    members: list[Iface] = field(default_factory=list)


def anchor(i: Iface) -> str:
    """The parent an endpoint hangs off (itself when it is not a child)."""
    return i.lower if i.is_child and i.lower else i.id


class World:
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
        self.units: list[Unit] = []
        self.unit_of: dict[str, Unit] = {}
        self._build_units(merge)
        self._alive = {i.id: self._compute_alive(i) for i in design.interfaces}
        # every child unit present on a lower, once
        self.children: dict[str, list[Unit]] = {}
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
        groups: dict[tuple, Unit] = {}
        for i in d.interfaces:
            key = None
            if classable(i):
                key = (lower_sig[i.lower], i.kind, i.mode, i.state, i.neighbors == ALL_PEERS,
                       i.addresses[0].network if i.addresses else None)
            if key is not None and key in groups:
                u = groups[key]
                u.members.append(i)
            else:
                u = Unit(len(self.units), i, [i])
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

    def _receive_unit(self, u: Unit, lower: Iface, out: dict, hops: tuple) -> None:
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

    def _lower_info(self, lower_id: str, kids: list[Unit]):
        cache = self.__dict__.setdefault("_lower_cache", {})
        got = cache.get(lower_id)
        if got is None:
            got = ([u for u in kids if u.rep.mode == "source"],
                   next((u for u in kids if u.rep.mode == "passthru"), None))
            cache[lower_id] = got
        return got

    def _macvlan_rx(self, lower: Iface, kids: list[Unit], src: Iface, dst: str, out: dict, hops: tuple,
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

