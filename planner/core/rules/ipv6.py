"""IPv6 rules: duplicates on one link, as duplicate address detection (DAD) sees them - or does not.

Both read :func:`planner.core.reachability.dad.world_for` on the design's IPv6 view, so they say
exactly what the prediction assumes: a copy DAD fails is unusable (MV119), a duplicate DAD cannot
see stays in place and answers for the address alongside its twin (MV120).
"""
from __future__ import annotations

from collections.abc import Iterable

from ..findings import ERROR, Finding, finding
from ..model import Design
from ..reachability.dad import Duplicate, world_for
from .common import short

__all__ = ["IPV6_RULES", "rule_dad_catches", "rule_dad_blind"]


def _duplicates(d: Design) -> list[Duplicate]:
    """The IPv6 view's duplicates (a design without IPv6 addresses is planned as IPv4 only: none)."""
    if d.family != 4 or not d.has_ipv6():
        return []
    return world_for(d.family_view(6)).duplicates


def rule_dad_catches(d: Design) -> Iterable[Finding]:
    """MV119: an address held twice on one link whose DAD probe a holder hears - that copy goes dadfailed."""
    for dup in _duplicates(d):
        if not dup.caught:
            continue
        what = "link-local address (made from the same MAC)" if dup.link_local else "address"
        yield finding("MV119", list(dup.holders),
                      f"{dup.address} is the {what} of {', '.join(dup.holders)} on one link; duplicate address "
                      f"detection marks the copy that probes second dadfailed (both, when the probes cross - "
                      f"{', '.join(dup.failed)} can hear a twin's probe): a dadfailed address neither sends nor "
                      "receives, and which copy survives depends on which came up first",
                      fix=_fix(dup))


def rule_dad_blind(d: Design) -> Iterable[Finding]:
    """MV120: an address held twice on one link where no holder hears the other's DAD probe."""
    for dup in _duplicates(d):
        if dup.caught:
            continue
        why = _blind_because(d, dup)
        yield finding("MV120", list(dup.holders),
                      f"{dup.address} is held by {', '.join(dup.holders)} on one link and duplicate address "
                      f"detection passes: {why}. Other stations on the link get answers from both",
                      fix=_fix(dup), severity=None if dup.link_local else ERROR)


def _blind_because(d: Design, dup: Duplicate) -> str:
    """Why no holder hears another's DAD probe, in the kernel's terms."""
    ifs = [d.iface(h) for h in dup.holders]
    held = {i.id for i in ifs}
    if any(i.is_child and i.mode == "passthru" and i.lower in held for i in ifs):
        return ("a passthru child takes its NIC's MAC, so its automatic link-local address is the NIC's, and the "
                "NIC never sees the frames its passthru child sends or receives")
    if len({i.mac for i in ifs}) == 1 and len({i.lower for i in ifs if i.is_child}) > 1:
        return ("they share one MAC on different parents, and a parent drops a frame whose source MAC is one of its "
                "own children's: each takes the other's probe for its own child's frame")
    return ("neither holder hears the other's neighbour solicitation (private and source children never see their "
            "siblings' multicasts; a parent drops frames whose source MAC is one of its own children's)")


def _fix(dup: Duplicate) -> str:
    if dup.link_local:
        return (f"give {short(dup.holders[-1])} its own MAC (the link-local address is made from it), or do not "
                "use the link-local address of either")
    return f"give {short(dup.holders[-1])} another IPv6 address"


IPV6_RULES = (rule_dad_catches, rule_dad_blind)
