"""Advice: information and warnings about fit (Wi-Fi parents, NIC filter overflow, macvtap devices,
macvlan or a Linux bridge) that need no prediction."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable

from ..findings import Finding, finding
from ..model import Design, subnet_key
from .common import children_by_lower

__all__ = ["ADVICE", "MANY_MACS_THRESHOLD"]


#: Many NICs keep 16-128 exact unicast filter entries; beyond that they fall back to
#: promiscuous mode. 32 is a conservative middle ground for an advisory.
MANY_MACS_THRESHOLD = 32


def rule_advice(d: Design) -> Iterable[Finding]:
    kids_by_lower = children_by_lower(d)
    for lower, kids in kids_by_lower.items():
        li = d.iface(lower)
        if li.parent_kind == "wifi":
            yield finding("MV302", [lower] + [k.id for k in kids],
                          f"{lower} is Wi-Fi: in station mode the access point only accepts frames from the MAC that "
                          "associated, so children with their own MACs get no traffic",
                          fix="use a wired parent, ipvlan (shares the parent's MAC), or routing/NAT")
        n = sum(1 for k in kids if k.mode != "passthru")
        if n > MANY_MACS_THRESHOLD:
            yield finding("MV303", [lower],
                          f"{n} MAC addresses on {lower}: most NICs hold 16-128 exact unicast filters and fall back to "
                          "promiscuous mode beyond that, so the host processes every frame on the wire",
                          fix="spread the children over more NICs, or accept promiscuous mode knowingly")
        for k in kids:
            if k.kind == "macvtap" and k.namespace:
                yield finding("MV305", [k.id],
                              f"{k.id} is a macvtap moved into namespace {k.namespace}: its /dev/tapN character "
                              "device still belongs to the host's devtmpfs; the VM or process reading it must open it "
                              "there")
    for h in d.hosts:
        kids = [i for i in d.interfaces if i.host == h.name and i.is_child and i.addresses]
        groups: dict[tuple, int] = defaultdict(int)
        for k in kids:
            groups[(k.lower, subnet_key(k.addresses[0].network))] += 1
        talkers = sum(n * (n - 1) // 2 for n in groups.values())
        if len(kids) >= 2:
            yield finding("MV301", [h.name],
                          f"host {h.name}: {len(kids)} macvlan/macvtap endpoints, {talkers} sibling pair(s) in the "
                          "same subnet. Macvlan fits when workloads mainly talk to the outside network: no learning, "
                          "no STP, less CPU; the host cannot talk to its own children and a parent outage takes them "
                          "all. Prefer a Linux bridge when many workloads on this host talk to each other, or you "
                          "need several bridges, traffic control or FDB management")



ADVICE: tuple[Callable[[Design], Iterable[Finding]], ...] = (rule_advice,)
