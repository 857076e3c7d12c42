"""Helpers the rule modules share: quoting for commands, short names, children per parent, subnets."""
from __future__ import annotations

from collections import defaultdict
from shlex import quote

from ..ids import bridge_port_id, is_switch_port, parse_bridge_port, parse_bridge_uplink, parse_switch_port, short
from ..model import Design, Iface

__all__ = ["q", "short", "children_by_lower", "connected", "same_subnet", "port_node", "hairpin_commands"]


def q(name: str) -> str:
    return quote(name)


def children_by_lower(d: Design) -> dict[str, list[Iface]]:
    out: dict[str, list[Iface]] = defaultdict(list)
    for i in d.interfaces:
        if i.is_child and i.lower:
            out[i.lower].append(i)
    return out


def connected(i: Iface) -> list:
    """Prefix routes the kernel adds for an interface's addresses (none for a /32)."""
    return [a.network for a in i.addresses if a.network.prefixlen < 32]


def same_subnet(a: Iface, b: Iface) -> bool:
    return bool(a.addresses and b.addresses and a.addresses[0].ip in b.addresses[0].network
                and b.addresses[0].ip in a.addresses[0].network)


def port_node(d: Design, lower_id: str) -> str | None:
    """The switch port or host bridge port (absolute id) a parent is cabled to."""
    li = d.iface(lower_id)
    if not li.link:
        return None
    if is_switch_port(li.link):
        return li.link
    ref = parse_bridge_uplink(li.link)
    return bridge_port_id(str(li.host), ref.bridge, ref.port)


def hairpin_commands(port: str) -> tuple[str, ...]:
    """The three ways to turn hairpin on for a port (a Linux bridge standing in for a switch has its name)."""
    if is_switch_port(port):
        ref = parse_switch_port(port)
        br, p = ref.switch, ref.port
    else:
        bref = parse_bridge_port(port)
        br, p = bref.bridge, bref.port
    return (f"bridge link set dev {q(p)} hairpin on",
            f"brctl hairpin {q(br)} {q(p)} on",
            f"echo 1 > /sys/class/net/{br}/brif/{p}/hairpin_mode")
