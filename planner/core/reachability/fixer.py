"""A one-line fix for a blocked pair, found by replaying it in a changed world.

In order: bring a down end (or its parent) up; add a route; turn hairpin on at the ports of the
two ends (if that makes the ping work, the fix names the ports and gives the commands); turn a
hairpin *off* where a reflection fools a learning switch or closes a loop; let a MAC through the
port security that dropped it (the platform's own switch, where the NIC says where it lives); turn
client isolation off; otherwise the mode advice for private and source children.
"""
from __future__ import annotations

from dataclasses import replace

from ..commands import allow_mac_command, hairpin_command, isolation_command
from ..ids import is_switch_port, parse_switch_port, short
from ..model import Design, Iface
from .dad import world_for
from .sim import Ping
from .verdict import Filter, Reason, Remedy, Verdict
from .words import ndp_words
from .world import World

__all__ = ["Fixer"]


class Fixer:
    """Finds fixes for blocked verdicts of one design (the changed worlds are built once)."""

    def __init__(self, design: Design, world: World):
        self.design = design
        self.world = world
        self._hairpin_world: World | None = None

    def with_fix(self, v: Verdict, a: Iface, b: Iface) -> Verdict:
        if v.reachable:
            return v
        fix, remedy, ports = self.fix_for(v, a, b)
        if fix and v.family == 6:
            fix = ndp_words(fix)
        return v.with_fix(fix, remedy, ports) if fix else v

    def fix_for(self, v: Verdict, a: Iface, b: Iface) -> tuple[str, Remedy, tuple[str, ...]]:
        """(the fix in words, its kind, the ports it changes)."""
        w = self.world
        if v.reason == Reason.NOT_CREATED:
            return "fix the error finding that makes the kernel refuse it (mvplan check)", Remedy.DESIGN_ERROR, ()
        lowers_down = [i for i in (a, b) if i.is_child and i.lower and not w.by_id[i.lower].up]
        if lowers_down:
            return f"bring the parent up: ip link set dev {short(str(lowers_down[0].lower))} up", Remedy.BRING_UP, ()
        if v.reason == Reason.SRC_DOWN or not (a.up and b.up):
            down = a if not a.up else b
            return f"bring {down.id} up: ip link set dev {down.name} up", Remedy.BRING_UP, ()
        if v.reason == Reason.NOT_FORWARDED:
            gw = v.hops[0].node if v.hops else "the gateway"
            return (f"turn forwarding on at {gw} (forwarding: true; sysctl -w net.ipv4.ip_forward=1), or route "
                    "through a gateway that forwards", Remedy.FORWARDING, ())
        if v.reason in (Reason.ROUTER_NO_ROUTE, Reason.ROUTING_LOOP):
            return ("give the gateway a route to the destination (and the destination one back); check that the "
                    "routers' routes do not point at each other", Remedy.ROUTE, ())
        if v.reason in (Reason.NO_ROUTE, Reason.REPLY_NO_ROUTE):
            return ("put both endpoints in one subnet, or add routes (mvplan predicts within the subnets it is given)",
                    Remedy.ROUTE, ())
        if v.filtered_by == Filter.PORT_SECURITY:
            return self._allow_mac(v), Remedy.ALLOW_MAC, (v.filtered_at,)
        if v.filtered_by == Filter.ISOLATION:
            return (f"turn client isolation off on {v.filtered_at} (or on the sender's port): "
                    + isolation_command(v.filtered_at)), Remedy.ISOLATION_OFF, (v.filtered_at,)
        if v.reason == Reason.L2_LOOP or v.mislearned:
            off, port = self._hairpin_off(a, b)
            if off:
                return off, Remedy.HAIRPIN_OFF, (port,)
        on, ports = self._hairpin_on(a, b)
        if on:
            return on, Remedy.HAIRPIN_ON, ports
        modes = {i.mode for i in (a, b) if i.is_child}
        if "private" in modes or "source" in modes:
            return ("private/source children cannot resolve siblings by ARP: use bridge (or vepa + hairpin) mode, "
                    "or static neighbours on both ends plus a hairpin port"), Remedy.MODE, ()
        return "", Remedy.NONE, ()

    def _allow_mac(self, v: Verdict) -> str:
        """Let the refused MAC through: the platform's own switch setting, or the port's allowed list."""
        behind = self.world.platform_behind(v.filtered_at)
        if behind is not None:
            return f"on {behind[1].name}: {behind[1].fix}"
        return (f"add {v.filtered_mac} to the allowed_macs of {v.filtered_at}: "
                + allow_mac_command(v.filtered_at, v.filtered_mac))

    # -- hairpin on ------------------------------------------------------------------------
    def _hairpin_on(self, a: Iface, b: Iface) -> tuple[str, tuple[str, ...]]:
        if self._hairpin_world is None:
            self._hairpin_world = self.world.with_hairpin_everywhere()
        hw = self._hairpin_world
        if not Ping(hw, a, b).run().done:
            return "", ()
        ports = sorted({p for p in (self._port(a), self._port(b)) if p and not self._hairpin(p)})
        if not ports:
            return "turn on hairpin on the switch ports involved", ()
        return ("turn on hairpin (reflective relay) on " + ", ".join(ports) + ": " +
                "; ".join(hairpin_command(p) for p in ports) + " - or put the siblings in bridge mode"), tuple(ports)

    def _port(self, i: Iface) -> str | None:
        w = self.world
        dev = w.by_id[i.lower] if i.is_child and i.lower else i
        if dev.kind not in ("parent",):
            return None
        return w.wire.get(dev.id)

    def _hairpin(self, port: str) -> bool:
        at = self.world.port_of.get(port)
        return bool(at and at[0].ports[at[1]].hairpin)

    # -- hairpin off -------------------------------------------------------------------------
    def _hairpin_off(self, a: Iface, b: Iface) -> tuple[str, str]:
        """Try turning hairpin off on each hairpin port: the first that makes the ping work."""
        for port in self._hairpin_ports():
            world = world_for(self._without_hairpin(port))
            if Ping(world, a, b).run().done:
                return (f"turn hairpin off on {port}: it reflects frames back into a learning switch or bridge, "
                        f"which then learns MACs behind the wrong port (or the reflection closes a loop): "
                        f"{hairpin_command(port, on=False)}"), port
        return "", ""

    def _hairpin_ports(self) -> list[str]:
        out = []
        for br in self.world.bridges.values():
            out += [p.id for p in br.ports if p.hairpin]
        return sorted(out)

    def _without_hairpin(self, port: str) -> Design:
        d = self.design
        if is_switch_port(port):
            ref = parse_switch_port(port)
            switches = tuple(replace(s, ports=tuple(replace(p, hairpin=False) if p.name == ref.port else p
                                                    for p in s.ports)) if s.name == ref.switch else s
                             for s in d.switches)
            return replace(d, switches=switches)
        ifaces = tuple(replace(i, hairpin=False) if i.id == port else i for i in d.interfaces)
        return replace(d, interfaces=ifaces)
