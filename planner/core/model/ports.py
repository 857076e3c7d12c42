"""Which source MACs each filtering switch port accepts, computed from the design's parts (the loader
validates with it before the design exists; :mod:`planner.core.upstream` reads it for a design)."""
from __future__ import annotations

from collections.abc import Iterable

from ..ids import switch_port_id
from ..schema import PLATFORMS
from .types import Iface, Switch

__all__ = ["accepted_macs", "allowed_mac_conflicts"]


def _filters(i: Iface) -> bool:
    p = PLATFORMS.get(i.platform) if i.platform else None
    return p is not None and p.filters


def accepted_macs(switches: Iterable[Switch], interfaces: Iterable[Iface]) -> dict[str, frozenset[str]]:
    """Switch port id -> accepted source MACs (:func:`planner.core.upstream.port_filters`), from the
    parts of a design (the loader calls it before the design exists)."""
    cabled: dict[str, Iface] = {}
    for i in interfaces:
        if i.link and i.link.startswith("switch:"):
            cabled[i.link] = i
    out: dict[str, frozenset[str]] = {}
    for sw in switches:
        for p in sw.ports:
            node = switch_port_id(sw.name, p.name)
            dev = cabled.get(node)
            platform_filters = dev is not None and dev.kind == "parent" and _filters(dev)
            if p.allowed_macs is None and not platform_filters:
                continue
            own = {dev.mac} if dev is not None else set()
            out[node] = frozenset(own | set(p.allowed_macs or ()))
    return out


def allowed_mac_conflicts(filters: dict[str, frozenset[str]]) -> list[tuple[str, str, str]]:
    """(MAC, first port, second port) for a MAC that two filtering ports accept. Port security
    secures a MAC on one port of a switch (a Linux bridge holds one fdb entry per MAC), so a
    design that lists it twice cannot be built as drawn."""
    seen: dict[tuple[str, str], str] = {}
    out = []
    for port, macs in filters.items():
        switch = port.split("/", 1)[0]
        for mac in sorted(macs):
            first = seen.setdefault((switch, mac), port)
            if first != port:
                out.append((mac, first, port))
    return out
