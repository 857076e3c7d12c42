"""Node ids: one scheme everywhere (graph nodes, findings, verdicts, the UI), parsed and formatted here.

========================  ==========================================================
``host1/eth0``            an interface in host1's own namespace
``host1/ns:web/eth0``     an interface in namespace ``web`` of host1
``host1``, ``host1/ns:web``  the namespaces themselves
``station:gw``            an external station (its one interface and its namespace)
``switch:sw1``            an external switch; ``switch:sw1/p1`` is one of its ports
``bridge:br0/vp0``        a port of host bridge ``br0`` as a parent's uplink names it
                          (relative to the parent's host)
``bridge:host1/br0/vp0``  the same port, absolute (what-if overrides, findings)
========================  ==========================================================

No other module splits these strings by hand.

>>> iface_id("host1", "eth0", "web")
'host1/ns:web/eth0'
>>> parse_iface("host1/ns:web/eth0")
IfaceRef(host='host1', namespace='web', name='eth0')
>>> parse_switch_port("switch:sw1/p1")
SwitchPortRef(switch='sw1', port='p1')
>>> short("host1/ns:web/eth0"), short("switch:sw1/p1")
('eth0', 'p1')
"""
from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "SWITCH", "STATION", "BRIDGE", "NS",
    "IfaceRef", "SwitchPortRef", "BridgeUplinkRef", "BridgePortRef",
    "ns_id", "iface_id", "station_id", "switch_id", "switch_port_id", "bridge_uplink_id", "bridge_port_id",
    "parse_iface", "parse_switch_port", "parse_bridge_uplink", "parse_bridge_port",
    "is_switch_port", "is_bridge_uplink", "is_station", "short", "ns_of",
]

SWITCH, STATION, BRIDGE, NS = "switch:", "station:", "bridge:", "ns:"


@dataclass(frozen=True)
class IfaceRef:
    """An interface of a host: ``host/name`` or ``host/ns:namespace/name``."""

    host: str
    namespace: str
    name: str

    @property
    def id(self) -> str:
        return iface_id(self.host, self.name, self.namespace)

    @property
    def ns(self) -> str:
        return ns_id(self.host, self.namespace)


@dataclass(frozen=True)
class SwitchPortRef:
    """A port of an external switch: ``switch:SW/PORT``."""

    switch: str
    port: str

    @property
    def id(self) -> str:
        return switch_port_id(self.switch, self.port)

    @property
    def switch_id(self) -> str:
        return switch_id(self.switch)


@dataclass(frozen=True)
class BridgeUplinkRef:
    """A host bridge port named from the host's side: ``bridge:BR/PORT``."""

    bridge: str
    port: str

    @property
    def id(self) -> str:
        return bridge_uplink_id(self.bridge, self.port)


@dataclass(frozen=True)
class BridgePortRef:
    """A host bridge port, absolute: ``bridge:HOST/BR/PORT``."""

    host: str
    bridge: str
    port: str

    @property
    def id(self) -> str:
        return bridge_port_id(self.host, self.bridge, self.port)

    @property
    def port_iface(self) -> str:
        """The port's own interface id (``HOST/PORT``)."""
        return iface_id(self.host, self.port)


# --------------------------------------------------------------------------- formatting
def ns_id(host: str | None, namespace: str = "", station: str | None = None) -> str:
    """Id of a network namespace: ``host1``, ``host1/ns:web`` or ``station:gw``."""
    if station is not None:
        return station_id(station)
    return f"{host}/{NS}{namespace}" if namespace else str(host)


def iface_id(host: str | None, name: str, namespace: str = "", station: str | None = None) -> str:
    """Id of an interface: ``host1/eth0``, ``host1/ns:web/eth0`` or ``station:gw``."""
    if station is not None:
        return station_id(station)
    return f"{ns_id(host, namespace)}/{name}"


def station_id(name: str) -> str:
    return f"{STATION}{name}"


def switch_id(name: str) -> str:
    return f"{SWITCH}{name}"


def switch_port_id(switch: str, port: str) -> str:
    return f"{SWITCH}{switch}/{port}"


def bridge_uplink_id(bridge: str, port: str) -> str:
    return f"{BRIDGE}{bridge}/{port}"


def bridge_port_id(host: str, bridge: str, port: str) -> str:
    return f"{BRIDGE}{host}/{bridge}/{port}"


# --------------------------------------------------------------------------- parsing
def _bad(text: str, what: str, example: str) -> ValueError:
    return ValueError(f"{text!r} is not {what}; write it like {example}")


def parse_iface(text: str) -> IfaceRef:
    """``host/name`` or ``host/ns:NS/name``; raises ValueError for anything else."""
    parts = text.split("/")
    if len(parts) == 2 and parts[0] and parts[1] and ":" not in parts[0]:
        return IfaceRef(parts[0], "", parts[1])
    if len(parts) == 3 and parts[1].startswith(NS) and all(parts) and len(parts[1]) > len(NS):
        return IfaceRef(parts[0], parts[1][len(NS):], parts[2])
    raise _bad(text, "an interface id", "host1/eth0 or host1/ns:web/eth0")


def parse_switch_port(text: str) -> SwitchPortRef:
    if text.startswith(SWITCH):
        sw, sep, port = text[len(SWITCH):].rpartition("/")
        if sep and sw and port:
            return SwitchPortRef(sw, port)
    raise _bad(text, "a switch port", "switch:sw1/p1")


def parse_bridge_uplink(text: str) -> BridgeUplinkRef:
    if text.startswith(BRIDGE):
        parts = text[len(BRIDGE):].split("/")
        if len(parts) == 2 and all(parts):
            return BridgeUplinkRef(parts[0], parts[1])
    raise _bad(text, "a bridge uplink", "bridge:br0/vp0")


def parse_bridge_port(text: str) -> BridgePortRef:
    if text.startswith(BRIDGE):
        parts = text[len(BRIDGE):].split("/")
        if len(parts) == 3 and all(parts):
            return BridgePortRef(*parts)
    raise _bad(text, "a bridge port", "bridge:host1/br0/vp0")


def is_switch_port(text: str | None) -> bool:
    return text is not None and text.startswith(SWITCH)


def is_bridge_uplink(text: str | None) -> bool:
    return text is not None and text.startswith(BRIDGE)


def is_station(text: str | None) -> bool:
    return text is not None and text.startswith(STATION)


def short(node: str) -> str:
    """The last name of an id: the interface, port or station name."""
    if node.startswith(STATION):
        return node[len(STATION):]
    return node.rsplit("/", 1)[-1]


def ns_of(iid: str) -> str:
    """The namespace id of an interface id (``host1/ns:web/eth0`` -> ``host1/ns:web``)."""
    if iid.startswith(STATION):
        return iid
    return iid.rsplit("/", 1)[0]
