"""What the upstream of each switch port lets in: port security and the platform a NIC lives on.

A switch port filters when it lists ``allowed_macs`` or when the device cabled to it is a parent
whose ``platform`` filters (clouds, ESXi, Hyper-V, VirtualBox - :data:`planner.core.schema.PLATFORMS`).
A filtering port accepts frames only from the cabled device's own MAC and the listed ones; the lab
builds it as a Linux bridge port with ``locked on``, ``learning off`` and one static fdb entry per
accepted MAC, which is what the reachability model and the rules read from :func:`port_filters`.

>>> from planner.core.model import design_from_dict
>>> d = design_from_dict({"hosts": [{"name": "h", "parents": [{"name": "eth0", "mac": "02:00:00:00:00:01",
...     "platform": "aws", "uplink": {"switch": "sw", "port": "p1"}}]}],
...     "switches": [{"name": "sw", "ports": [{"name": "p1"}, {"name": "p2", "allowed_macs": []}]}]})
>>> port_filters(d)
{'switch:sw/p1': frozenset({'02:00:00:00:00:01'}), 'switch:sw/p2': frozenset()}
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from .ids import switch_port_id
from .schema import PLATFORMS, Platform

if TYPE_CHECKING:  # the loader validates with this module: no import of the model at run time
    from .model import Design, Iface, Switch

__all__ = ["port_filters", "accepted_macs", "allowed_mac_conflicts", "platform_of", "filtering_platform"]


def platform_of(i: Iface) -> Platform | None:
    """The platform a parent NIC declares (None when it says nothing)."""
    return PLATFORMS.get(i.platform) if i.platform else None


def filtering_platform(i: Iface) -> Platform | None:
    """The platform of a parent whose upstream drops other MACs' frames (None otherwise)."""
    p = platform_of(i)
    return p if p is not None and p.filters else None


def port_filters(design: Design) -> dict[str, frozenset[str]]:
    """Switch port id -> the source MACs it accepts, for every filtering port (others: absent)."""
    return accepted_macs(design.switches, design.interfaces)


def accepted_macs(switches: Iterable[Switch], interfaces: Iterable[Iface]) -> dict[str, frozenset[str]]:
    """:func:`port_filters` from the parts of a design (the loader calls it before the design exists)."""
    cabled: dict[str, Iface] = {}
    for i in interfaces:
        if i.link and i.link.startswith("switch:"):
            cabled[i.link] = i
    out: dict[str, frozenset[str]] = {}
    for sw in switches:
        for p in sw.ports:
            node = switch_port_id(sw.name, p.name)
            dev = cabled.get(node)
            platform_filters = dev is not None and dev.kind == "parent" and filtering_platform(dev) is not None
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
