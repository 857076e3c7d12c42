"""The design's objects -> one flat list of interfaces (design order), and the checks that need it.

Here every interface gets its id, its namespace and the device at the far end of its cable; a
child gets its *effective* parent (the kernel re-parents a macvlan declared on a macvlan onto
that macvlan's own parent); enslaved NICs get their bridge. Names that clash in one namespace,
cables into missing or busy ports and neighbours naming nothing are reported as problems.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from ..errors import InputProblem
from ..ids import iface_id, is_switch_port, ns_id, parse_bridge_uplink, parse_switch_port, station_id
from ..ids import short as ids_short
from .types import ALL_PEERS, DEFAULT_MTU, Bridge, Child, Design, Host, Iface, neighbor_entries, resolve_ref

__all__ = ["Flattener"]


@dataclass(frozen=True)
class _Lower:
    """What a child can hang off: a parent NIC, a Linux bridge, or (refused by the kernel) a bridge port."""

    kind: str
    mac: str
    mtu: int


def _lowers(h: Host) -> dict[str, _Lower]:
    out: dict[str, _Lower] = {}
    for b in h.bridges:
        out[b.name] = _Lower("bridge", b.mac, b.mtu)
        for bp in b.ports:
            if not bp.enslave:
                out.setdefault(bp.name, _Lower("bridge-port", bp.mac, b.mtu))
    for p in h.parents:
        out[p.name] = _Lower(p.kind, p.mac, p.mtu)
    return out


class Flattener:
    """Flattens a built design, appending what is wrong to ``problems``."""

    def __init__(self, problems: list[InputProblem]):
        self.problems = problems

    def problem(self, path: str, message: str) -> None:
        self.problems.append(InputProblem(path, message))

    def check_names(self, design: Design) -> None:
        def dupes(items, what, path_fn):
            seen = {}
            for k, n in enumerate(items):
                if n in seen:
                    self.problem(path_fn(k),
                                 f"duplicate {what} {n!r} (first at {path_fn(seen[n])}); names must be unique")
                else:
                    seen[n] = k
        dupes([h.name for h in design.hosts], "host name", lambda k: f"hosts[{k}].name")
        dupes([s.name for s in design.switches], "switch name", lambda k: f"switches[{k}].name")
        dupes([s.name for s in design.stations], "station name", lambda k: f"stations[{k}].name")
        for k, s in enumerate(design.switches):
            dupes([p.name for p in s.ports], f"port name on switch {s.name!r}",
                  lambda j, k=k: f"switches[{k}].ports[{j}].name")

    def run(self, design: Design) -> list[Iface]:
        """The flat interface list of ``design``, after every check that needs it."""
        self.check_names(design)
        ifaces = self.wire_masters(design, self.flatten(design))
        self.check_references(design, ifaces)
        return ifaces

    def host_prefix(self, design: Design, hi: int) -> str:
        return "" if design.hosts[hi].implicit else f"hosts[{hi}]."

    def flatten(self, design: Design) -> list[Iface]:
        """Build the flat interface list in design order and check per-namespace name clashes."""
        ifaces: list[Iface] = []
        seen: dict[str, str] = {}
        candidates: list[Iface] = []
        for hi, h in enumerate(design.hosts):
            pre = self.host_prefix(design, hi)
            candidates.extend(self.parents(h, pre))
            for k, b in enumerate(h.bridges):
                candidates.extend(self.bridge(h, b, f"{pre}bridges[{k}]"))
            candidates.extend(self.children(h, pre))
        candidates.extend(self.stations(design))
        for i in candidates:
            if i.id in seen:
                where = "host namespace" if not i.namespace else f"namespace {i.namespace!r}"
                self.problem(f"{i.path}.name", f"interface name {i.name!r} is already used in the {where} of host "
                                               f"{i.host!r} (by {seen[i.id]}); names must be unique per namespace")
                continue
            seen[i.id] = i.path
            ifaces.append(i)
        return ifaces

    @staticmethod
    def parents(h: Host, pre: str) -> list[Iface]:
        return [Iface(id=iface_id(h.name, p.name), kind="parent", host=h.name, namespace="", ns=ns_id(h.name),
                      name=p.name, mac=p.mac, mtu=p.mtu, state=p.state, addresses=p.addresses,
                      neighbors=p.neighbors, routes=p.routes,
                      addresses6=p.addresses6, routes6=p.routes6, forwarding=p.forwarding, path=f"{pre}parents[{k}]",
                      link=p.uplink.node if p.uplink else None, parent_kind=p.kind, platform=p.platform)
                for k, p in enumerate(h.parents)]

    @staticmethod
    def bridge(h: Host, b: Bridge, bpath: str) -> list[Iface]:
        """A bridge, its veth ports and their peers (enslaved devices are parents: see wire_masters)."""
        bid = iface_id(h.name, b.name)
        out = [Iface(id=bid, kind="bridge", host=h.name, namespace="", ns=ns_id(h.name), name=b.name, mac=b.mac,
                     mtu=b.mtu, state=b.state, addresses=b.addresses, neighbors=b.neighbors, routes=b.routes,
                      addresses6=b.addresses6, routes6=b.routes6, forwarding=b.forwarding,
                     path=bpath)]
        for j, bp in enumerate(b.ports):
            ppath = f"{bpath}.ports[{j}]"
            if bp.enslave:
                continue
            port_id = iface_id(h.name, bp.name)
            peer_id = iface_id(h.name, bp.peer.name, bp.peer.namespace) if bp.peer else None
            out.append(Iface(id=port_id, kind="bridge-port", host=h.name, namespace="", ns=ns_id(h.name),
                             name=bp.name, mac=bp.mac, mtu=b.mtu, state="up", addresses=(), neighbors=(), routes=(),
                             path=ppath, master=bid, hairpin=bp.hairpin, link=peer_id))
            if bp.peer and peer_id:
                pp = bp.peer
                out.append(Iface(id=peer_id, kind="veth-peer", host=h.name, namespace=pp.namespace,
                                 ns=ns_id(h.name, pp.namespace), name=pp.name, mac=pp.mac, mtu=pp.mtu,
                                 state=pp.state, addresses=pp.addresses, neighbors=pp.neighbors, routes=pp.routes,
                      addresses6=pp.addresses6, routes6=pp.routes6, forwarding=pp.forwarding,
                                 path=f"{ppath}.peer", link=port_id))
        return out

    def children(self, h: Host, pre: str) -> list[Iface]:
        lowers = _lowers(h)
        lower_ids = {name: iface_id(h.name, name) for name in lowers}
        host_ns_children = {c.name: c for c in h.children if not c.namespace}
        out = []
        for k, c in enumerate(h.children):
            cpath = f"{pre}children[{k}]"
            lower: str | None
            declared: str | None
            if c.parent in lowers:  # the common case: a child of a NIC, a bridge or a bridge port
                lower = declared = lower_ids[c.parent]
                low: _Lower | None = lowers[c.parent]
            else:
                lower, declared = self.lower_of(h, c, cpath, lowers, host_ns_children)
                low = lowers[ids_short(lower)] if lower else None
            # passthru takes the parent's MAC; a new macvlan takes its lower device's MTU
            mac = low.mac if (low and c.mode == "passthru" and not c.mac_explicit) else c.mac
            mtu = low.mtu if (low and not c.mtu_explicit) else c.mtu
            ns = ns_id(h.name, c.namespace)
            out.append(Iface(id=f"{ns}/{c.name}", kind=c.type, host=h.name, namespace=c.namespace,
                             ns=ns, name=c.name, mac=mac, mtu=mtu, state=c.state,
                             addresses=c.addresses, neighbors=c.neighbors, routes=c.routes,
                             addresses6=c.addresses6, routes6=c.routes6, forwarding=c.forwarding, path=cpath,
                             mode=c.mode, lower=lower, declared_lower=declared, source_macs=c.source_macs,
                             nopromisc=c.nopromisc, parent_kind=low.kind if low else None))
        return out

    def lower_of(self, h: Host, c: Child, cpath: str, lowers: dict[str, _Lower],
                 host_ns_children: dict[str, Child]) -> tuple[str | None, str | None]:
        """(effective parent, declared parent) ids of a child whose parent is not a NIC, bridge or
        bridge port (:meth:`children` takes those directly); a problem when there is none."""
        if c.parent in host_ns_children and c.parent != c.name:
            # the kernel re-parents a macvlan created on a macvlan onto the lower device
            cur, hops = host_ns_children[c.parent], 0
            while cur.parent in host_ns_children and hops < 16:
                cur, hops = host_ns_children[cur.parent], hops + 1
            if cur.parent in lowers:
                return iface_id(h.name, cur.parent), iface_id(h.name, c.parent)
            self.problem(f"{cpath}.parent", f"child chain from {c.name!r} never reaches a parent NIC")
            return None, iface_id(h.name, c.parent)
        known = sorted(lowers) + sorted(n for n in host_ns_children if n != c.name)
        self.problem(f"{cpath}.parent", f"child {c.name!r}: parent {c.parent!r} does not exist on host "
                                        f"{h.name!r}; known parents: {', '.join(known) or '(none)'}")
        return None, None

    @staticmethod
    def stations(design: Design) -> list[Iface]:
        return [Iface(id=station_id(s.name), kind="station", host=None, namespace="", ns=station_id(s.name),
                      name=s.name, mac=s.mac, mtu=DEFAULT_MTU, state="up", addresses=s.addresses,
                      neighbors=s.neighbors, routes=s.routes,
                      addresses6=s.addresses6, routes6=s.routes6, path=f"stations[{k}]",
                      link=s.uplink.node if s.uplink else None, forwarding=s.forwarding)
                for k, s in enumerate(design.stations)]

    def wire_masters(self, design: Design, ifaces: list[Iface]) -> list[Iface]:
        """Set ``master`` on enslaved parents and ``link`` on bridge ports cabled to parents."""
        by_id = {i.id: n for n, i in enumerate(ifaces)}
        for hi, h in enumerate(design.hosts):
            pre = self.host_prefix(design, hi)
            for k, b in enumerate(h.bridges):
                for j, bp in enumerate(b.ports):
                    if not bp.enslave:
                        continue
                    pid = iface_id(h.name, bp.name)
                    n = by_id.get(pid)
                    if n is None or ifaces[n].kind != "parent":
                        self.problem(f"{pre}bridges[{k}].ports[{j}].name",
                                     f"enslaved port {bp.name!r} must name a parent NIC of host {h.name!r}")
                        continue
                    if ifaces[n].master:
                        self.problem(f"{pre}bridges[{k}].ports[{j}].name",
                                     f"{bp.name!r} is already a port of another bridge; a device has one master")
                        continue
                    ifaces[n] = replace(ifaces[n], master=iface_id(h.name, b.name), hairpin=bp.hairpin)
        return ifaces

    def check_references(self, design: Design, ifaces: list[Iface]) -> None:
        ids = {i.id: i for i in ifaces}
        cabled = self.check_uplinks(design, ifaces, ids)
        for i in ifaces:
            if i.kind == "bridge-port" and not i.link and i.id not in cabled:
                self.problem(f"{i.path}", f"bridge port {i.name!r} leads nowhere: give it a 'peer' (veth end in a "
                                          "namespace), set 'enslave: true' for an existing device, or cable a parent "
                                          "to it with uplink: {bridge, port}")
        if not self.problems:
            self.check_neighbor_peers(ifaces, ids)

    def check_uplinks(self, design: Design, ifaces: list[Iface], ids: dict[str, Iface]) -> set[str]:
        """Every cable leads into an existing, free port; returns the bridge ports cabled to parents."""
        used_ports: dict[str, str] = {}
        bridge_ports_cabled: set[str] = set()
        for i in ifaces:
            if i.kind not in ("parent", "station") or not i.link:
                continue
            if is_switch_port(i.link):
                ok = self.check_switch_uplink(design, i)
                port_key = i.link
            else:
                bp = self.check_bridge_uplink(design, i, ids)
                ok = bp is not None
                if bp is not None:
                    bridge_ports_cabled.add(bp.id)
                # host bridges are per host: bridge:br0/vb1 on host1 and on host2 are two ports
                port_key = f"{i.host}:{i.link}"
            if not ok:
                continue
            if port_key in used_ports:
                self.problem(f"{i.path}.uplink.port", f"port {i.link} is already cabled to {used_ports[port_key]}; "
                                                      "one cable per port")
            else:
                used_ports[port_key] = i.id
        return bridge_ports_cabled

    def check_switch_uplink(self, design: Design, i: Iface) -> bool:
        ref = parse_switch_port(str(i.link))
        sw = design.switch(ref.switch)
        if sw is None:
            self.problem(f"{i.path}.uplink.switch", f"switch {ref.switch!r} does not exist; known switches: "
                                                    f"{', '.join(s.name for s in design.switches) or '(none)'}")
            return False
        if sw.port(ref.port) is None:
            self.problem(f"{i.path}.uplink.port", f"switch {ref.switch!r} has no port {ref.port!r}; ports: "
                                                  f"{', '.join(p.name for p in sw.ports) or '(none)'}")
            return False
        return True

    def check_bridge_uplink(self, design: Design, i: Iface, ids: dict[str, Iface]) -> Iface | None:
        """The host bridge port a parent is cabled to, or None (with a problem)."""
        src_path = f"{i.path}.uplink"
        ref = parse_bridge_uplink(str(i.link))
        if i.kind == "station" or i.host is None:
            self.problem(f"{src_path}.bridge", "a station is cabled to an external switch port, not a host bridge")
            return None
        host = design.host(i.host)
        if host is None or not any(b.name == ref.bridge for b in host.bridges):
            self.problem(f"{src_path}.bridge", f"host {i.host!r} has no bridge {ref.bridge!r}")
            return None
        bp = ids.get(iface_id(i.host, ref.port))
        if bp is None or bp.kind != "bridge-port" or bp.master != iface_id(i.host, ref.bridge):
            self.problem(f"{src_path}.port", f"bridge {ref.bridge!r} has no veth port {ref.port!r}")
            return None
        if bp.link:
            self.problem(f"{src_path}.port", f"bridge port {ref.port!r} already has a veth peer; "
                                             "cable the parent to a port without 'peer'")
            return None
        return bp

    def check_neighbor_peers(self, ifaces: list[Iface], ids: dict[str, Iface]) -> None:
        for i in ifaces:
            if i.neighbors == ALL_PEERS or not i.neighbors:
                continue
            for k, n in enumerate(neighbor_entries(i.neighbors)):
                if not n.peer:
                    continue
                target = ids.get(resolve_ref(ids, n.peer, i.host))
                if target is None:
                    self.problem(f"{i.path}.neighbors[{k}].peer",
                                 f"{n.peer!r} names no interface; use an id such as host1/eth0, host1/ns:web/eth0 "
                                 "or station:gw")
                elif not (target.addresses or target.addresses6) and n.address is None:
                    self.problem(f"{i.path}.neighbors[{k}].peer", f"{n.peer!r} has no address; give 'address' too")
