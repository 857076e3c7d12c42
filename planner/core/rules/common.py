"""Helpers the rule modules share: quoting for commands, short names, children per parent, subnets."""
from __future__ import annotations

from ..commands import hairpin_commands, q
from ..ids import bridge_port_id, is_switch_port, parse_bridge_uplink, short
from ..kernel import children_by_lower
from ..model import Design, Iface

__all__ = ["q", "short", "children_by_lower", "connected", "same_subnet", "port_node", "hairpin_commands"]


def connected(i: Iface) -> list:
    """Prefix routes the kernel adds for an interface's addresses (none for a /32)."""
    return [a.network for a in i.addresses if a.network.prefixlen < a.max_prefixlen]


def same_subnet(a: Iface, b: Iface) -> bool:
    return bool(a.addresses and b.addresses and a.ips[0] in b.addresses[0].network
                and b.ips[0] in a.addresses[0].network)


def port_node(d: Design, lower_id: str) -> str | None:
    """The switch port or host bridge port (absolute id) a parent is cabled to."""
    li = d.iface(lower_id)
    if not li.link:
        return None
    if is_switch_port(li.link):
        return li.link
    ref = parse_bridge_uplink(li.link)
    return bridge_port_id(str(li.host), ref.bridge, ref.port)
