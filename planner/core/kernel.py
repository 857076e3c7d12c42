"""What the kernel refuses to create, child by child, in the order the plan creates them.

One source for the refusal rules (which name the refused children) and the reachability engine
(where a refused child simply does not exist). Measured on Linux 6.18:

* a passthru child is refused (EINVAL) when any child already exists on its parent; once a
  passthru child exists, every later child of that parent is refused - so for children a, b
  (bridge), p (passthru), d (vepa) created in that order only p is refused;
* every child of a parent that is a bridge port (an enslaved NIC or a bridge's veth port) is
  refused (EBUSY), as is every child of a loopback device (EINVAL);
* a child asking for an MTU above its parent's is refused (EINVAL), as is passthru declared on a
  macvlan (EINVAL);
* a second child with a MAC already used on the same parent is created but cannot be brought up
  (EADDRINUSE).

>>> from planner.core.model import design_from_dict
>>> d = design_from_dict({"parents": [{"name": "eth0"}], "children": [
...     {"name": "a", "parent": "eth0"}, {"name": "p", "parent": "eth0", "mode": "passthru"},
...     {"name": "d", "parent": "eth0", "mode": "vepa"}]})
>>> {k: v.code for k, v in refused_children(d).items()}
{'host/p': 'MV101'}
"""
from __future__ import annotations

from dataclasses import dataclass

from .model import Design, Iface

__all__ = ["Refusal", "refused_children", "children_by_lower"]


@dataclass(frozen=True)
class Refusal:
    code: str
    errno: str
    why: str


def children_by_lower(design: Design) -> dict[str, list[Iface]]:
    """Children per effective parent, in creation (design) order (computed once per design)."""
    return design.children_index()


def _lower_refusal(lower: Iface) -> Refusal | None:
    if lower.master or lower.kind == "bridge-port":
        return Refusal("MV104", "EBUSY", f"{lower.id} is a bridge port: it already has a receive handler")
    if lower.parent_kind == "loopback":
        return Refusal("MV105", "EINVAL", f"{lower.id} is a loopback device, not Ethernet")
    return None


def refused_children(design: Design) -> dict[str, Refusal]:
    """Child id -> why the kernel refuses it (or refuses to bring it up). Computed once per design
    (the rules, the world and the fixer's world all ask); callers read it, never change it."""
    known = design.__dict__.get("_refused_children")
    if known is None:
        known = _refusals(design)
        object.__setattr__(design, "_refused_children", known)
    return known


def _refusals(design: Design) -> dict[str, Refusal]:
    out: dict[str, Refusal] = {}
    for lower_id, kids in children_by_lower(design).items():
        lower = design.iface(lower_id)
        whole = _lower_refusal(lower)
        existing: list[Iface] = []
        macs = {lower.mac}
        for k in kids:
            why = whole or _child_refusal(k, lower, existing, macs)
            if why is not None:
                out[k.id] = why
                continue
            existing.append(k)
            if not (k.mode == "passthru" and k.mac == lower.mac):
                macs.add(k.mac)
    return out


def _child_refusal(k: Iface, lower: Iface, existing: list[Iface], macs: set[str]) -> Refusal | None:
    if k.mode == "passthru" and k.declared_lower and k.declared_lower != k.lower:
        return Refusal("MV114", "EINVAL", f"passthru cannot be created on top of the macvlan {k.declared_lower}")
    if existing and existing[0].mode == "passthru":
        return Refusal("MV101", "EINVAL", f"{existing[0].id} holds {lower.id} in passthru mode")
    if k.mode == "passthru" and existing:
        return Refusal("MV101", "EINVAL", f"{lower.id} already has {existing[0].id}; passthru needs the parent alone")
    if k.mtu > lower.mtu:
        return Refusal("MV107", "EINVAL", f"MTU {k.mtu} is above {lower.id}'s {lower.mtu}")
    if k.mac in macs and not (k.mode == "passthru" and k.mac == lower.mac):
        return Refusal("MV108", "EADDRINUSE", f"MAC {k.mac} is already used on {lower.id}")
    return None
