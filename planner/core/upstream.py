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

from .model import Design, Iface
from .model.ports import accepted_macs
from .schema import PLATFORMS, Platform

__all__ = ["port_filters", "platform_of", "filtering_platform"]


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
