"""What-if: a copy of a design document with hairpin flags and parent states overridden."""
from __future__ import annotations

import copy
from collections.abc import Iterable

from ..ids import bridge_port_id, iface_id, switch_port_id
from ..model import host_documents

__all__ = ["apply_what_if"]


def apply_what_if(doc: dict, hairpin: dict[str, bool] | None = None, down: Iterable[str] = ()) -> dict:
    """A copy of a design document with hairpin flags and parent states overridden.

    ``hairpin`` keys are port nodes: ``switch:sw1/p1`` or ``bridge:host1/br0/vb1``; ``down``
    holds iface ids of parents (``host1/eth0``) to set down. Unknown keys raise ValueError.
    """
    doc = copy.deepcopy(doc)
    hairpin = dict(hairpin or {})
    down = set(down)
    hosts, _prefixes, _problems = host_documents(doc)  # a shorthand host shares the document's lists
    for sw in doc.get("switches") or []:
        for p in sw.get("ports") or []:
            key = switch_port_id(sw["name"], p["name"])
            if key in hairpin:
                p["hairpin"] = bool(hairpin.pop(key))
    for h in hosts:
        for b in h.get("bridges") or []:
            for p in b.get("ports") or []:
                key = bridge_port_id(h["name"], b["name"], p["name"])
                if key in hairpin:
                    p["hairpin"] = bool(hairpin.pop(key))
        for p in h.get("parents") or []:
            key = iface_id(h["name"], p["name"])
            if key in down:
                p["state"] = "down"
                down.discard(key)
    if hairpin:
        raise ValueError(f"what-if hairpin: unknown port(s) {', '.join(sorted(hairpin))}; "
                         "use switch:SWITCH/PORT or bridge:HOST/BRIDGE/PORT")
    if down:
        raise ValueError(f"what-if down: unknown parent(s) {', '.join(sorted(down))}; use HOST/PARENT")
    return doc

