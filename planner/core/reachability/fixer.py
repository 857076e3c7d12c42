"""A one-line fix for a blocked pair, found by replaying it in a changed world."""
from __future__ import annotations

from ..model import Design, Iface
from .replay import ping, port_hairpin, port_of
from .verdict import Verdict
from .world import World

__all__ = ["Fixer"]


# --------------------------------------------------------------------------- fixes
class Fixer:
    """Finds a one-line fix for a blocked pair by replaying it in changed worlds."""

    def __init__(self, design: Design, world: World | None = None):
        self.design = design
        self._hairpin_world: World | None = None
        if world is not None:
            self.__dict__["_plain_world"] = world

    def with_fix(self, v: Verdict, a: Iface, b: Iface) -> Verdict:
        fix = self.fix_for(v, a, b)
        return Verdict(v.reachable, v.reason, v.message, v.hops, fix) if fix else v

    def fix_for(self, v: Verdict, a: Iface, b: Iface) -> str:
        lowers_down = [i for i in (a, b) if i.is_child and not self.design.iface(i.lower).up]
        if lowers_down:
            return f"bring the parent up: ip link set dev {lowers_down[0].lower.rsplit('/', 1)[1]} up"
        if v.reason == "SRC_DOWN" or not (a.up and b.up):
            down = a if not a.up else b
            return f"bring {down.id} up: ip link set dev {down.name} up"
        if v.reason in ("NO_ROUTE", "REPLY_NO_ROUTE"):
            return "put both endpoints in one subnet, or add routes (routing is out of mvplan's scope)"
        if self._hairpin_world is None:
            self._hairpin_world = World(self.design, force_hairpin=True)
        if ping(self._hairpin_world, a, b).reachable:
            ports = []
            w = self._hairpin_world
            for i in (a, b):
                if i.is_child:
                    port = port_of(w, w.by_id[i.lower])
                    if port and not port_hairpin(self._plain(), port):
                        ports.append(port)
                elif i.kind == "parent":
                    port = port_of(w, i)
                    if port and not port_hairpin(self._plain(), port):
                        ports.append(port)
            ports = sorted(set(ports))
            if ports:
                return ("turn on hairpin (reflective relay) on " + ", ".join(ports) + ": " +
                        "; ".join(_hairpin_command(p) for p in ports) +
                        " - or put the siblings in bridge mode")
            return "turn on hairpin on the switch ports involved"
        modes = {i.mode for i in (a, b) if i.is_child}
        if "private" in modes or "source" in modes:
            return ("private/source children cannot resolve siblings by ARP: use bridge (or vepa + hairpin) mode, "
                    "or static neighbours on both ends plus a hairpin port")
        return ""

    def _plain(self) -> World:
        w = self.__dict__.get("_plain_world")
        if w is None:
            w = World(self.design)
            self.__dict__["_plain_world"] = w
        return w


def _hairpin_command(port: str) -> str:
    if port.startswith("switch:"):
        sw, p = port[len("switch:"):].rsplit("/", 1)
        return f"bridge link set dev {p} hairpin on (on switch {sw})"
    return f"bridge link set dev {port.rsplit('/', 1)[1]} hairpin on"

