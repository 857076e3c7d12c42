"""The compiled plan seen as container, pod or VM formats see it: namespaces ("guests") and their
macvlan/macvtap children on the host's NICs.

Docker networks, Multus NADs, libvirt ``direct`` interfaces and containerlab macvlan links all
describe children from the guest's side. :func:`host_guests` reads them from the host as the
compiled plan leaves it (:func:`~planner.exporters._common.final_host`: the same op list as every
other back end) plus each child's ``create-macvlan`` op, which says what the design pins (a MAC
or MTU of its own) and what the kernel chooses (``None``).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

from planner.core.compiler import Plan
from planner.core.livestate import LiveNeighbor, LiveRoute
from planner.core.model import Design
from planner.core.ops import CreateMacvlan

from ._common import final_host, iface_of

__all__ = ["GuestIface", "Guest", "HostView", "host_guests", "ipv4_only"]


@dataclass(frozen=True)
class GuestIface:
    """One child as the plan leaves it."""

    iid: str
    name: str
    kind: str  # macvlan | macvtap
    namespace: str  # "" = the host's own namespace
    parent: str  # the effective lower device (after the kernel's re-parenting)
    declared: str  # the parent the design names
    mode: str
    mac: str | None  # the MAC the plan sets (None: the kernel's choice, e.g. passthru)
    mtu: int | None  # the MTU the design pins (None: the parent's)
    state: str
    nopromisc: bool
    source_macs: tuple[str, ...]
    bcqueuelen: int | None
    addresses: tuple[str, ...]
    routes: tuple[LiveRoute, ...]
    neighbors: tuple[LiveNeighbor, ...]


@dataclass(frozen=True)
class Guest:
    """A namespace with its children; ``others`` are its links that are not children (veth ends)."""

    namespace: str
    ifaces: tuple[GuestIface, ...]
    others: tuple[str, ...] = ()
    #: the design has the namespace route (``forwarding: true`` on one of its interfaces)
    forwarding: bool = False


@dataclass(frozen=True)
class HostView:
    host: str
    guests: tuple[Guest, ...]
    #: children in the host's own namespace (no guest holds them)
    host_children: tuple[GuestIface, ...]
    #: the host's NICs and their final state (name -> (mtu set by the design, addresses))
    nic_config: dict[str, tuple[int | None, tuple[str, ...]]] = field(default_factory=dict)
    #: other links mvplan creates in the host's namespace (bridges, veths), by design id
    host_others: tuple[str, ...] = ()


def host_guests(design: Design, plan: Plan, host: str) -> HostView:
    """The guests and children of ``host`` as the compiled plan leaves them."""
    final = final_host(design, plan, host)
    creates = {op.subject: op for op in plan.for_host(host).ops if isinstance(op, CreateMacvlan)}
    guests: list[Guest] = []
    host_children: list[GuestIface] = []
    host_others: list[str] = []
    nic_config: dict[str, tuple[int | None, tuple[str, ...]]] = {}
    for ns in final.namespaces:
        ifaces: list[GuestIface] = []
        others: list[str] = []
        for lk in ns.links:
            iid = iface_of(design, host, ns.name, lk)
            op = creates.get(iid)
            if lk.kind not in ("macvlan", "macvtap") or op is None:
                if ns.name:
                    others.append(iid)
                elif lk.kind is None:
                    nic_config[lk.name] = (lk.mtu, tuple(ns.addresses_of(lk.name)))
                else:
                    host_others.append(iid)
                continue
            gi = GuestIface(
                iid=iid, name=lk.name, kind=lk.kind, namespace=ns.name, parent=lk.link or op.link, declared=op.link,
                mode=op.mode, mac=op.mac, mtu=op.mtu, state=lk.state or "up", nopromisc=op.nopromisc,
                source_macs=tuple(lk.source_macs or ()), bcqueuelen=op.bcqueuelen,
                addresses=tuple(ns.addresses_of(lk.name)), routes=tuple(ns.routes_of(lk.name)),
                neighbors=tuple(ns.neighbors_of(lk.name)))
            (ifaces if ns.name else host_children).append(gi)
        if ns.name:
            guests.append(Guest(namespace=ns.name, ifaces=tuple(ifaces), others=tuple(others),
                                forwarding=bool(ns.forwarding)))
    return HostView(host=host, guests=tuple(guests), host_children=tuple(host_children), nic_config=nic_config,
                    host_others=tuple(host_others))


def ipv4_only(gi: GuestIface, fmt: str) -> tuple[GuestIface, str | None]:
    """``gi`` with only its IPv4 addresses, routes and neighbour entries, and the warning naming the
    IPv6 ones ``fmt`` does not export (None when there are none)."""
    v6 = [a for a in gi.addresses if ":" in a]
    v6 += [f"route {r.to}" for r in gi.routes if ":" in r.to]
    v6 += [f"neighbour {n.address}" for n in gi.neighbors if ":" in n.address]
    if not v6:
        return gi, None
    kept = replace(gi, addresses=tuple(a for a in gi.addresses if ":" not in a),
                   routes=tuple(r for r in gi.routes if ":" not in r.to),
                   neighbors=tuple(n for n in gi.neighbors if ":" not in n.address))
    return kept, (f"{gi.iid}: the {fmt} export carries IPv4 only; IPv6 {', '.join(v6)} is not exported (configure it "
                  "in the guest, or use the iproute2 export)")
