"""The design model: frozen types (:mod:`.types`), loading from text or documents (:mod:`.text`,
:mod:`.load`, :mod:`.flatten`, :mod:`.shorthand`) and dumping back to the canonical document
(:mod:`.dump`).

>>> d = design_from_dict({"parents": [{"name": "eth0"}], "children": [{"name": "mv0", "parent": "eth0"}]})
>>> d.iface("host/mv0").mode, d.iface("host/mv0").lower
('bridge', 'host/eth0')
"""
from __future__ import annotations

from ..ids import iface_id, ns_id
from .dump import design_to_dict
from .load import design_from_dict, design_from_text, load_design, stable_mac
from .shorthand import host_documents, uses_shorthand
from .text import parse_design_text, read_design_text
from .types import (
    ALL_PEERS,
    DEFAULT_MTU,
    IMPLICIT_HOST,
    Bridge,
    BridgePort,
    Child,
    Design,
    Host,
    Iface,
    IPAddress,
    IPInterface,
    IPNetwork,
    Neighbors,
    Parent,
    Route,
    StaticNeighbor,
    Station,
    Switch,
    SwitchPort,
    Uplink,
    VethPeer,
    eui64_link_local,
    neighbor_entries,
    resolve_ref,
    subnet_key,
)

__all__ = [
    "Route", "StaticNeighbor", "Uplink", "Parent", "Child", "VethPeer", "BridgePort", "Bridge",
    "Host", "SwitchPort", "Switch", "Station", "Design", "Iface", "Neighbors",
    "load_design", "design_from_text", "parse_design_text", "read_design_text", "design_from_dict", "design_to_dict",
    "stable_mac",
    "resolve_ref", "neighbor_entries", "host_documents", "uses_shorthand", "iface_id", "ns_id", "IMPLICIT_HOST",
    "ALL_PEERS", "DEFAULT_MTU", "IPAddress", "IPInterface", "IPNetwork", "subnet_key",
    "eui64_link_local",
]
