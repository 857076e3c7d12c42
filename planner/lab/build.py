"""Building a design in throwaway network namespaces: the outside by hand, every host by its plan.

What stands outside the hosts is the lab's to build, with ``ip``:

* every external switch is a netns holding a Linux bridge ``br0`` (STP off) whose ports ``p0,
  p1, ...`` stand for the switch ports of the design (hairpin per port);
* every station is a netns whose ``eth0`` (a veth) is cabled to its switch port, with the
  station's addresses, routes and neighbours;
* every NIC of a host (a parent that is not ``kind: veth``) is a veth in the host's netns whose
  far end is the switch port it is cabled to or, without an uplink, an end parked in a "void"
  netns. It is created the way hardware comes: down, MTU 1500, with the design's MAC.

Everything *on* a host - its namespaces, bridges, veths, macvlans and macvtaps, addresses,
neighbours, routes, states - is created by the compiler's plan for that host, run by the same
applier as ``mvplan apply --netns`` (netlink, verified against the design afterwards). So every
lab run proves the plan as well as the prediction. The far end of a ``kind: veth`` parent, which
the plan leaves in the host namespace for whoever plays the switch, is then plugged into its
switch port (or the void), as a user would cable it.

Every netns is kept at the kernel's default IPv4 sysctls (a new netns inherits ``conf/all`` and
``conf/default`` from the machine's; a host where systemd set ``rp_filter=2`` would otherwise
differ from what the reachability model assumes), IPv6 is off for designs without IPv6, and
loopback is up everywhere.
"""
from __future__ import annotations

import io
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from planner.core.compiler import far_end_name
from planner.core.ids import is_bridge_uplink, is_switch_port, ns_id, parse_switch_port, switch_id
from planner.core.model import Design, Iface
from planner.core.upstream import port_filters

from .run import Batch, LabError, run, run_batches

__all__ = ["Layout", "layout", "build", "static_fdb_batches", "KERNEL_DEFAULTS", "VOID"]

#: Kernel defaults of the IPv4 sysctls that change ARP and routing decisions.
KERNEL_DEFAULTS = {
    "rp_filter": "0", "arp_ignore": "0", "arp_announce": "0", "arp_filter": "0",
    "accept_local": "0", "proxy_arp": "0", "forwarding": "0",
}
#: the key of the netns holding the far ends of parents cabled to nothing
VOID = "void:"


@dataclass
class Layout:
    """How a design maps onto netns names and devices in one lab."""

    prefix: str
    #: design namespace id (``host1``, ``host1/ns:web``, ``station:gw``), ``switch:S`` or :data:`VOID`
    #: -> netns name; a host's namespace ``X`` is ``<host netns>-X``, where the applier puts it
    netns: dict[str, str] = field(default_factory=dict)
    #: the netns of each host (the target the plan is applied to)
    host_netns: dict[str, str] = field(default_factory=dict)
    #: interface id -> (netns, device name)
    dev: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: ``switch:S/P`` -> port device in the switch netns; its hairpin flag
    switch_port: dict[str, str] = field(default_factory=dict)
    hairpin: dict[str, bool] = field(default_factory=dict)
    #: parent id -> its far end's name in the void netns
    void_end: dict[str, str] = field(default_factory=dict)
    #: netns -> the Linux bridges in it (for flushing learned fdb entries)
    bridges: dict[str, list[str]] = field(default_factory=dict)
    #: ``switch:S/P`` -> ``bridge_slave`` settings beyond hairpin (a filtering port: locked, not
    #: learning; client isolation)
    port_flags: dict[str, list[str]] = field(default_factory=dict)
    #: switch netns -> (MAC, port device) static fdb entries of the filtering ports; static entries
    #: roam like learned ones, so the lab pins them again after every flush
    static_fdb: dict[str, list[tuple[str, str]]] = field(default_factory=dict)

    @property
    def outside(self) -> list[str]:
        """The netns the lab creates itself (hosts, switches, stations, the void)."""
        inner = {self.netns[k] for k in self.netns if "/ns:" in k}
        return [n for n in dict.fromkeys(self.netns.values()) if n not in inner]

    @property
    def namespaces(self) -> list[str]:
        return list(dict.fromkeys(self.netns.values()))


def layout(design: Design, prefix: str) -> Layout:
    lay = Layout(prefix)
    counters = {"h": 0, "t": 0, "s": 0}

    def alloc(key: str, tag: str) -> str:
        if key not in lay.netns:
            lay.netns[key] = f"{prefix}-{tag}{counters[tag]}"
            counters[tag] += 1
        return lay.netns[key]

    for h in design.hosts:
        lay.host_netns[h.name] = alloc(ns_id(h.name), "h")
    for i in design.interfaces:
        if i.kind == "station":
            alloc(i.ns, "t")
        elif i.namespace and i.ns not in lay.netns:
            lay.netns[i.ns] = f"{lay.host_netns[str(i.host)]}-{i.namespace}"
    filters = port_filters(design)
    for s in design.switches:
        sw_ns = alloc(switch_id(s.name), "s")
        for k, port in enumerate(s.ports):
            node = f"{switch_id(s.name)}/{port.name}"
            lay.switch_port[node] = f"p{k}"
            lay.hairpin[node] = port.hairpin
            lay.port_flags[node] = (["learning", "off", "locked", "on"] if node in filters else []) + \
                (["isolated", "on"] if port.isolated else [])
            lay.static_fdb.setdefault(sw_ns, []).extend((mac, f"p{k}") for mac in sorted(filters.get(node, ())))
        lay.bridges.setdefault(lay.netns[switch_id(s.name)], []).append("br0")
    for i in design.interfaces:
        if i.kind == "parent" and not i.link:
            lay.void_end[i.id] = f"v{len(lay.void_end)}"
        lay.dev[i.id] = (lay.netns[i.ns], "eth0" if i.kind == "station" else i.name)
        if i.kind == "bridge":
            lay.bridges.setdefault(lay.netns[i.ns], []).append(i.name)
    if lay.void_end:
        lay.netns[VOID] = f"{prefix}-v0"
    return lay


# --------------------------------------------------------------------------- the outside
class _Outside:
    """Switches, stations, NICs and their far ends, as ``ip -batch`` phases per netns."""

    def __init__(self, design: Design, lay: Layout):
        self.d, self.lay = design, lay
        self.create: dict[str, Batch] = {}
        self.attach: dict[str, Batch] = {}

    def batch(self, phase: dict[str, Batch], netns: str) -> Batch:
        return phase.setdefault(netns, Batch(netns))

    def switch_ns(self, node: str) -> str:
        return self.lay.netns[switch_id(parse_switch_port(node).switch)]

    def enslave(self, node: str, phase: dict[str, Batch]) -> None:
        """Make a switch port of the far end parked under that port's name (hairpin as designed)."""
        sw, port = self.switch_ns(node), self.lay.switch_port[node]
        b = self.batch(phase, sw)
        b.add("link", "set", "dev", port, "master", "br0")
        # port flags before the port is up: an entry learned before ``locked`` would let frames pass
        b.add("link", "set", "dev", port, "type", "bridge_slave", "hairpin", "on" if self.lay.hairpin[node] else "off",
              *self.lay.port_flags.get(node, []))
        b.add("link", "set", "dev", port, "up")

    def plan(self) -> tuple[list[Batch], list[Batch]]:
        """Phases before the hosts' plans: the switches' bridges, the NICs' and stations' veths (far ends
        parked, unattached, in their switch netns), the stations configured."""
        for s in self.d.switches:
            sw = self.lay.netns[switch_id(s.name)]
            self.batch(self.create, sw).add("link", "add", "name", "br0", "type", "bridge", "stp_state", "0")
            self.batch(self.attach, sw).add("link", "set", "dev", "br0", "up")
        for i in self.d.interfaces:
            if i.kind == "parent" and i.parent_kind != "veth":
                self.nic(i)
            elif i.kind == "station":
                self.station(i)
        return list(self.create.values()), list(self.attach.values())

    def far_end(self, i: Iface, mtu: int) -> list[str]:
        """``peer ...`` arguments that park a veth's far end in its switch netns (as its port) or the void."""
        if is_switch_port(i.link):
            return ["peer", "name", self.lay.switch_port[str(i.link)], "mtu", str(mtu), "netns",
                    self.switch_ns(str(i.link))]
        end = self.lay.void_end[i.id]
        self.batch(self.attach, self.lay.netns[VOID]).add("link", "set", "dev", end, "up")
        return ["peer", "name", end, "mtu", str(mtu), "netns", self.lay.netns[VOID]]

    def nic(self, i: Iface) -> None:
        """A NIC as hardware comes: down, default MTU, the design's MAC; the plan configures it."""
        netns, name = self.lay.dev[i.id]
        self.batch(self.create, netns).add("link", "add", "name", name, "address", i.mac, "type", "veth",
                                           *self.far_end(i, max(i.mtu, 1500)))

    def station(self, i: Iface) -> None:
        netns = self.lay.netns[i.ns]
        self.batch(self.create, netns).add("link", "add", "name", "eth0", "address", i.mac, "type", "veth",
                                           *self.far_end(i, 1500))
        b = self.batch(self.attach, netns)
        for a in i.addresses + i.addresses6:
            b.add("addr", "add", a.with_prefixlen, "dev", "eth0")
        b.add("link", "set", "dev", "eth0", "up")
        for r in i.routes + i.routes6:
            b.add("route", "add", str(r.to), *(["via", str(r.via)] if r.via is not None else []), "dev", "eth0")
        for ip, mac in self.d.all_static_neighbors(i):
            b.add("neigh", "replace", str(ip), "lladdr", mac, "dev", "eth0", "nud", "permanent")

    def cable_switches(self) -> list[Batch]:
        """After the hosts' plans: move the far end each ``kind: veth`` parent's plan made into its switch
        port (or the void), then enslave every switch port in design order - the order the
        reachability model floods in (a Linux bridge floods to the port enslaved last first)."""
        moves: dict[str, Batch] = {}
        attach: dict[str, Batch] = {}
        for i in self.d.interfaces:
            if i.kind == "parent" and i.parent_kind == "veth" and not is_bridge_uplink(i.link):
                host_ns = self.lay.host_netns[str(i.host)]
                target = self.switch_ns(str(i.link)) if i.link else self.lay.netns[VOID]
                new = self.lay.switch_port[str(i.link)] if i.link else self.lay.void_end[i.id]
                self.batch(moves, host_ns).add("link", "set", "dev", far_end_name(self.d, i), "netns", target,
                                               "name", new)
                if not i.link:
                    self.batch(attach, target).add("link", "set", "dev", new, "up")
            if is_switch_port(i.link):
                self.enslave(str(i.link), attach)
        return list(moves.values()) + list(attach.values()) + static_fdb_batches(self.lay)


def static_fdb_batches(lay: Layout) -> list[Batch]:
    """``bridge fdb replace MAC dev P master static`` for every accepted MAC of a filtering port."""
    out = []
    for netns, entries in lay.static_fdb.items():
        b = Batch(netns, tool="bridge")
        for mac, port in entries:
            b.add("fdb", "replace", mac, "dev", port, "master", "static")
        out.append(b)
    return out


# --------------------------------------------------------------------------- sysctls and loopback
def _settle(netns: str, ipv6: bool, router: bool = False) -> None:
    """Kernel-default IPv4 sysctls for ``all``, ``default`` and every device; IPv6 on or off; lo up.
    A ``router`` namespace (a host namespace the design has forward) keeps the forwarding its plan
    sets and sends no ICMP redirects (a redirect is a cache; the verdict starts without any)."""
    devices = [line.split(":")[1].strip().split("@")[0]
               for line in run(["ip", "-n", netns, "-o", "link", "show"]).stdout.splitlines() if ":" in line]
    keys = [f"net/ipv6/conf/{scope}/disable_ipv6={0 if ipv6 else 1}" for scope in ("all", "default")]
    for scope in ("all", "default", *[d for d in devices if d != "lo"]):  # slash form: dots stay in names
        keys += [f"net/ipv4/conf/{scope}/{k}={v}" for k, v in KERNEL_DEFAULTS.items()
                 if not (k == "forwarding" and (router or scope not in ("all", "default")))]
        if router:
            keys.append(f"net/ipv4/conf/{scope}/send_redirects=0")
        if ipv6:  # a redirect is a cache like the neighbour table: the verdict starts without any
            keys.append(f"net/ipv6/conf/{scope}/accept_redirects=0")
    run(["ip", "netns", "exec", netns, "sysctl", "-q", "-w", *keys])
    run(["ip", "-n", netns, "link", "set", "dev", "lo", "up"])


def _make_router(netns: str) -> None:
    """A forwarding station: ``ip_forward=1``, and no ICMP redirects - a redirect is a cache like the
    neighbour table (it changes later pings, never the one that triggers it), and cold caches are
    the verdict's definition. Before the station's interface exists, so it inherits ``default``."""
    keys = ["net/ipv4/conf/all/forwarding=1", "net/ipv6/conf/all/forwarding=1"]
    keys += [f"net/ipv4/conf/{s}/send_redirects=0" for s in ("all", "default")]
    run(["ip", "netns", "exec", netns, "sysctl", "-q", "-w", *keys])


def _wants_ipv6(design: Design) -> bool:
    return design.has_ipv6()


def _await_dad(netns: str, deadline_s: float = 8.0) -> None:
    """Wait until no address of ``netns`` is still tentative (duplicate address detection takes about
    a second; a tentative address neither sends nor accepts). Addresses DAD failed stay as they are:
    that is the kernel's verdict, and what the prediction must match."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        out = run(["ip", "-n", netns, "-6", "-o", "addr", "show", "tentative"], check=False).stdout
        if all("dadfailed" in line for line in out.splitlines() if line.strip()):
            return
        time.sleep(0.1)


# --------------------------------------------------------------------------- hosts, by their plan
def _apply_host(design: Design, host: str, netns: str, run_dir: Path) -> list[str]:
    """Run ``host``'s plan in ``netns`` through the applier; return the plan's notes. A failed op or a
    verification difference is a :class:`LabError` (the plan does not build the design)."""
    from planner.exporters.iproute2 import argv
    from planner.netlink.apply import apply

    res = apply(design, netns=netns, host=host, yes=True, check=False, verify=True, use_stamp=False,
                run_dir_path=run_dir, progress=False, stream=io.StringIO())
    if res.error is not None:
        op = res.failed_op
        cmd = None
        if op is not None:
            cmd = argv(op, netns_prefix=f"{netns}-")
            if cmd[:1] == ["ip"] and "-n" not in cmd[:2] and not op.ns:
                cmd[1:1] = ["-n", netns]
        shown = " ".join(cmd) if cmd else "the plan"
        raise LabError(f"building host {host!r} by its plan failed: {shown}: {res.error}", shown, res.error)
    if res.mismatches:
        raise LabError(f"host {host!r}: the applied plan does not verify against the design: "
                       + "; ".join(res.mismatches[:5]), "mvplan apply", "; ".join(res.mismatches))
    return list(res.plan.notes)


def build(design: Design, lay: Layout, pool: ThreadPoolExecutor) -> list[str]:
    """Build every part of ``design`` into the (already created) outside netns; return warnings."""
    ipv6 = _wants_ipv6(design)
    routers = {lay.netns[i.ns] for i in design.interfaces if i.forwarding and i.kind != "station"}
    list(pool.map(lambda n: _settle(n, ipv6, n in routers), lay.outside))
    for i in design.interfaces:
        if i.kind == "station" and i.forwarding:
            _make_router(lay.netns[i.ns])
    outside = _Outside(design, lay)
    create, attach = outside.plan()
    run_batches(create, pool)
    run_batches(attach, pool)
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="mvplan-lab-") as run_dir:
        for h in design.hosts:
            notes += _apply_host(design, h.name, lay.host_netns[h.name], Path(run_dir))
    for batch in outside.cable_switches():
        batch.run()
    inner = [n for n in lay.namespaces if n not in lay.outside]
    list(pool.map(lambda n: _settle(n, ipv6, n in routers), inner))
    if ipv6:
        list(pool.map(_await_dad, lay.namespaces))
    return notes
