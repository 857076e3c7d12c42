"""Build any design in throwaway network namespaces and measure who can ping whom.

This is an *edge* module: it has side effects (it creates and deletes network namespaces,
veths, bridges, macvlans and macvtaps through ``ip``) and needs root. It is the kernel test
helper of the product and the engine behind ``mvplan rehearse``.

How a design is mapped onto namespaces:

* every design namespace (``Iface.ns``: a host's own namespace, each container namespace,
  each station) becomes one netns named ``<prefix>-<tag><n>``;
* every external switch becomes a netns holding a Linux bridge ``br0`` (STP off) whose ports
  ``p0, p1, ...`` stand for the switch ports of the design (hairpin per ``SwitchPort.hairpin``);
* every parent is a veth whose far end is the switch port it is cabled to, the host bridge
  port it is cabled to, or - without an uplink - an end parked in a "void" netns;
* a station is a veth (``eth0`` in the station netns) cabled to its switch port;
* children are created on their declared parent in the host netns with an explicit mode,
  then moved into their namespace under a temporary name and renamed there.

Configuration order is fixed and documented because the kernel's behaviour depends on it:
devices in design order, IPv4 addresses in design order, links up in design order (connected
routes of addresses added while a link is down are inserted when it comes up, so the first
address of the design wins the route lookup either way), then static routes (the kernel
refuses routes over a device that is down) and permanent neighbours (taking a device down
flushes even permanent entries).

Each ping starts from cold caches: before a pair, every dynamic neighbour entry (permanent
ones survive ``ip neigh flush``) and every learned bridge fdb entry of the namespaces the
pair can touch is flushed, so a result never depends on who spoke first.
"""
from __future__ import annotations

import ipaddress
import itertools
import os
import re
import shutil
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Iterable, Sequence

from planner.core.model import Design, Iface

__all__ = ["Lab", "LabError", "measure", "endpoint_pairs", "prerequisites", "default_prefix"]

#: Kernel defaults of the IPv4 sysctls that change ARP and routing decisions. A new netns
#: inherits ``conf/all`` and ``conf/default`` from the initial namespace (``devconf_inherit_init_net``
#: = 0), so on a host where e.g. systemd set ``rp_filter=2`` the lab would otherwise differ from
#: what the reachability model assumes. Writing the defaults keeps every netns at kernel defaults.
_IPV4_DEFAULTS = {
    "rp_filter": "0", "arp_ignore": "0", "arp_announce": "0", "arp_filter": "0",
    "accept_local": "0", "proxy_arp": "0", "forwarding": "0",
}

_counter = itertools.count()
_counter_lock = threading.Lock()


class LabError(RuntimeError):
    """Building or driving a lab failed; the message names the failing command and its stderr."""

    def __init__(self, message: str, command: Sequence[str] | str | None = None, stderr: str = ""):
        self.command = command if isinstance(command, str) or command is None else " ".join(command)
        self.stderr = stderr
        super().__init__(message)


# --------------------------------------------------------------------------- process helpers
def _run(argv: Sequence[str], *, input: str | None = None, timeout: float = 60.0,
         check: bool = True) -> subprocess.CompletedProcess:
    try:
        cp = subprocess.run(list(argv), input=input, capture_output=True, text=True, timeout=timeout)
    except FileNotFoundError as exc:
        raise LabError(f"{argv[0]}: not found ({exc})", argv) from None
    except subprocess.TimeoutExpired:
        raise LabError(f"timed out after {timeout}s: {' '.join(argv)}", argv) from None
    if check and cp.returncode != 0:
        err = (cp.stderr or cp.stdout).strip()
        raise LabError(f"command failed (rc={cp.returncode}): {' '.join(argv)}: {err}", argv, err)
    return cp


_NETNS_DIRS = ("/run/netns", "/var/run/netns")


def _netns_exists(name: str) -> bool:
    return any(os.path.exists(os.path.join(d, name)) for d in _NETNS_DIRS)


def _netns_list() -> list[str]:
    cp = _run(["ip", "netns", "list"], check=False)
    return [line.split()[0] for line in cp.stdout.splitlines() if line.strip()]


def default_prefix() -> str:
    """A short prefix unique to this process and call, not used by an existing netns."""
    existing = _netns_list()
    while True:
        with _counter_lock:
            n = next(_counter)
        prefix = f"mvl{os.getpid() % 10000}x{n}"
        taken = re.compile(re.escape(prefix) + r"(?![0-9])")
        if not any(taken.match(name) for name in existing):
            return prefix


_FAILED_LINE = re.compile(r"Command failed (?:\S+):(\d+)")


@dataclass
class _Batch:
    """Commands for one netns, run as one ``ip -n NS -batch -`` process."""

    netns: str
    cmds: list[list[str]] = field(default_factory=list)

    def run(self) -> None:
        if not self.cmds:
            return
        text = "\n".join(" ".join(c) for c in self.cmds) + "\n"
        argv = ["ip", "-n", self.netns, "-batch", "-"]
        cp = _run(argv, input=text, check=False)
        if cp.returncode == 0:
            return
        err = (cp.stderr or cp.stdout).strip()
        m = _FAILED_LINE.search(err)
        cmd = self.cmds[int(m.group(1)) - 1] if m and 0 < int(m.group(1)) <= len(self.cmds) else None
        shown = f"ip -n {self.netns} {' '.join(cmd)}" if cmd else " ".join(argv)
        detail = _FAILED_LINE.sub("", err).strip()
        raise LabError(f"command failed: {shown}: {detail}", shown, detail)


class _Phase:
    """Per-netns ordered command lists; netns batches of one phase run in parallel."""

    def __init__(self, name: str):
        self.name = name
        self.batches: dict[str, _Batch] = {}

    def add(self, netns: str, *args: str) -> None:
        self.batches.setdefault(netns, _Batch(netns)).cmds.append([str(a) for a in args])

    def run(self, pool: ThreadPoolExecutor | None) -> None:
        batches = [b for b in self.batches.values() if b.cmds]
        if pool is None or len(batches) <= 1:
            for b in batches:
                b.run()
            return
        futures = [pool.submit(b.run) for b in batches]
        errors = []
        for f in futures:
            try:
                f.result()
            except LabError as exc:
                errors.append(exc)
        if errors:
            raise errors[0]


# --------------------------------------------------------------------------- prerequisites
def prerequisites() -> list[str]:
    """What is missing to build labs here (empty list: everything is fine).

    Probes by actually creating a tiny netns with a veth, a macvlan, a macvtap and a bridge,
    and pinging its loopback with a fractional timeout, then deleting it.
    """
    missing: list[str] = []
    if os.geteuid() != 0:
        missing.append("must run as root (creating network namespaces needs CAP_SYS_ADMIN and CAP_NET_ADMIN)")
    for tool, pkg in (("ip", "iproute2"), ("ping", "iputils-ping")):
        if shutil.which(tool) is None:
            missing.append(f"`{tool}` not found on PATH (install {pkg})")
    if missing:
        return missing
    ns = f"mvlprobe{os.getpid() % 100000}"
    steps = [
        ("create a network namespace", ["ip", "netns", "add", ns]),
        ("create a veth pair", ["ip", "-n", ns, "link", "add", "name", "pa", "type", "veth", "peer", "name", "pb"]),
        ("create a macvlan", ["ip", "-n", ns, "link", "add", "name", "pm", "link", "pa", "type", "macvlan",
                              "mode", "bridge"]),
        ("create a macvtap", ["ip", "-n", ns, "link", "add", "name", "pt", "link", "pb", "type", "macvtap",
                              "mode", "vepa"]),
        ("create a Linux bridge", ["ip", "-n", ns, "link", "add", "name", "pbr", "type", "bridge", "stp_state", "0"]),
        ("set hairpin on a bridge port", None),
        ("bring up loopback", ["ip", "-n", ns, "link", "set", "dev", "lo", "up"]),
        ("ping with a fractional timeout inside a namespace",
         ["ip", "netns", "exec", ns, "ping", "-n", "-q", "-c1", "-W", "0.5", "127.0.0.1"]),
    ]
    try:
        for what, argv in steps:
            if argv is None:  # hairpin: needs a bridge port
                argv = ["ip", "-n", ns, "link", "add", "name", "ph", "type", "veth", "peer", "name", "pi"]
                cp = _run(argv, check=False)
                if cp.returncode == 0:
                    cp = _run(["ip", "-n", ns, "link", "set", "dev", "ph", "master", "pbr"], check=False)
                if cp.returncode == 0:
                    cp = _run(["ip", "-n", ns, "link", "set", "dev", "ph", "type", "bridge_slave", "hairpin", "on"],
                              check=False)
            else:
                cp = _run(argv, check=False, timeout=10)
            if cp.returncode != 0:
                missing.append(f"cannot {what}: {(cp.stderr or cp.stdout).strip() or 'rc=' + str(cp.returncode)}")
                break
    except LabError as exc:
        missing.append(f"probe failed: {exc}")
    finally:
        if _netns_exists(ns):
            _run(["ip", "netns", "del", ns], check=False)
    return missing


# --------------------------------------------------------------------------- the lab
def _fmt_net(net: ipaddress.IPv4Network) -> str:
    return "default" if net.prefixlen == 0 else str(net)


class Lab:
    """A design built in throwaway network namespaces. Use as a context manager.

    >>> with Lab(design) as lab:                      # doctest: +SKIP
    ...     lab.ping("host1/ns:web/web0", "station:gw")
    """

    def __init__(self, design: Design, prefix: str | None = None, *, ping_timeout: float = 0.5):
        self.design = design
        self.prefix = prefix or default_prefix()
        self.ping_timeout = ping_timeout
        self.warnings: list[str] = []
        self.build_seconds: float | None = None
        self._created: list[str] = []
        self._plan()

    # -- naming -------------------------------------------------------------------
    def _plan(self) -> None:
        d = self.design
        p = self.prefix
        self._netns: dict[str, str] = {}          # design ns id (and switch:S, void) -> netns name
        counters = {"h": 0, "n": 0, "t": 0, "s": 0}

        def alloc(key: str, tag: str) -> str:
            if key not in self._netns:
                self._netns[key] = f"{p}-{tag}{counters[tag]}"
                counters[tag] += 1
            return self._netns[key]

        for h in d.hosts:
            alloc(h.name, "h")
        for i in d.interfaces:
            if i.kind == "station":
                alloc(i.ns, "t")
            elif i.ns not in self._netns:
                alloc(i.ns, "n" if i.namespace else "h")
        self._switch_port: dict[str, str] = {}    # "switch:S/P" -> port ifname in the switch netns
        self._switch_hairpin: dict[str, bool] = {}
        for s in d.switches:
            alloc(f"switch:{s.name}", "s")
            for k, port in enumerate(s.ports):
                self._switch_port[f"switch:{s.name}/{port.name}"] = f"p{k}"
                self._switch_hairpin[f"switch:{s.name}/{port.name}"] = port.hairpin
        self._void_end: dict[str, str] = {}
        n_void = 0
        for i in d.interfaces:
            if i.kind == "parent" and not i.link:
                self._void_end[i.id] = f"v{n_void}"
                n_void += 1
        if self._void_end:
            self._netns["void:"] = f"{p}-v0"
        # device name of every design interface in its netns
        self._dev: dict[str, tuple[str, str]] = {}
        for i in d.interfaces:
            name = "eth0" if i.kind == "station" else i.name
            self._dev[i.id] = (self._netns[i.ns], name)
        # temporary names for children that move into a namespace
        taken = {i.name for i in d.interfaces}
        gen = (f"mvtmp{n}" for n in itertools.count())
        self._tmp: dict[str, str] = {}
        for i in d.interfaces:
            if i.is_child and i.namespace:
                t = next(gen)
                while t in taken:
                    t = next(gen)
                self._tmp[i.id] = t
        # bridges per netns (for fdb flushing)
        self._bridges: dict[str, list[str]] = {}
        for s in d.switches:
            self._bridges.setdefault(self._netns[f"switch:{s.name}"], []).append("br0")
        for i in d.interfaces:
            if i.kind == "bridge":
                self._bridges.setdefault(self._netns[i.ns], []).append(i.name)
        self._components = self._compute_components()

    def _compute_components(self) -> dict[str, frozenset[str]]:
        """netns -> the set of netns a frame can reach from it (cables, veths, macvlan lowers)."""
        parent: dict[str, str] = {n: n for n in self._netns.values()}

        def find(x: str) -> str:
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        def union(a: str, b: str) -> None:
            ra, rb = find(a), find(b)
            if ra != rb:
                parent[ra] = rb

        d = self.design
        for i in d.interfaces:
            here = self._netns[i.ns]
            if i.link and i.link.startswith("switch:"):
                union(here, self._netns[f"switch:{i.link[len('switch:'):].rsplit('/', 1)[0]}"])
            elif i.kind == "parent" and not i.link:
                union(here, self._netns["void:"])
            elif i.kind in ("bridge-port", "veth-peer") and i.link:
                union(here, self._netns[d.iface(i.link).ns])
            if i.is_child and i.lower:
                union(here, self._netns[d.iface(i.lower).ns])
        groups: dict[str, set[str]] = {}
        for n in parent:
            groups.setdefault(find(n), set()).add(n)
        return {n: frozenset(groups[find(n)]) for n in parent}

    def netns_of(self, ns_id: str) -> str:
        """Real netns name for a design namespace id (``host1``, ``host1/ns:web``, ``station:gw``),
        for ``switch:NAME`` (the switch's bridge) or ``void:`` (far ends of parents without uplink)."""
        try:
            return self._netns[ns_id]
        except KeyError:
            raise KeyError(f"no namespace {ns_id!r} in this lab; known: {', '.join(self._netns)}") from None

    def device(self, iface_id: str) -> tuple[str, str]:
        """(netns name, device name) of a design interface (stations are ``eth0``)."""
        return self._dev[iface_id]

    @property
    def namespaces(self) -> list[str]:
        """Every netns name this lab creates."""
        return list(dict.fromkeys(self._netns.values()))

    # -- build --------------------------------------------------------------------
    def __enter__(self) -> "Lab":
        t0 = time.monotonic()
        try:
            self._build()
        except BaseException as exc:
            self.cleanup()
            if isinstance(exc, (LabError, KeyboardInterrupt, SystemExit)):
                raise
            raise LabError(f"building the lab failed: {exc!r}") from exc
        self.build_seconds = time.monotonic() - t0
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.cleanup()

    def cleanup(self) -> None:
        """Delete every netns of this lab that exists (idempotent; never touches other namespaces)."""
        for attempt in range(3):
            present = [n for n in self._created if _netns_exists(n)]
            if not present:
                break
            if attempt == 0:
                _run(["ip", "-force", "-batch", "-"], input="".join(f"netns del {n}\n" for n in present),
                     check=False)
            else:
                for n in present:
                    _run(["ip", "netns", "del", n], check=False)
                time.sleep(0.1 * attempt)

    def _build(self) -> None:
        with ThreadPoolExecutor(max_workers=8) as pool:
            # 0. namespaces; a name that already exists means a prefix clash: fail before creating
            # anything, and only ever delete what this lab created
            clash = [n for n in self.namespaces if _netns_exists(n)]
            if clash:
                raise LabError(f"netns {clash[0]} already exists: pick another lab prefix than {self.prefix!r}",
                               f"ip netns add {clash[0]}", "File exists")
            self._created = list(self.namespaces)
            cp = _run(["ip", "-batch", "-"], input="".join(f"netns add {n}\n" for n in self._created), check=False)
            if cp.returncode != 0:
                self._created = [n for n in self._created if _netns_exists(n)]
                err = _FAILED_LINE.sub("", (cp.stderr or cp.stdout)).strip()
                raise LabError(f"cannot create network namespaces: {err}", "ip netns add", err)
            # 1. sysctls: no IPv6 (no DAD/NDP noise), IPv4 ARP/routing knobs at kernel defaults
            sysctls = ["net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"]
            for scope in ("all", "default"):
                sysctls += [f"net.ipv4.conf.{scope}.{k}={v}" for k, v in _IPV4_DEFAULTS.items()]
            list(pool.map(lambda n: _run(["ip", "netns", "exec", n, "sysctl", "-q", "-w", *sysctls]),
                          self.namespaces))
            for phase in self._phases():
                phase.run(pool)

    def _phases(self) -> list[_Phase]:
        d = self.design
        ns = self._netns
        bridges, create, rename, master, addrs, up, routes, neigh = (
            _Phase(n) for n in ("bridges", "create", "rename", "master", "addresses", "up", "routes", "neighbours"))

        # -- bridges: one per switch, plus the host bridges of the design
        for s in d.switches:
            sw = ns[f"switch:{s.name}"]
            bridges.add(sw, "link", "add", "name", "br0", "type", "bridge", "stp_state", "0")
        for i in d.interfaces:
            if i.kind == "bridge":
                bridges.add(ns[i.ns], "link", "add", "name", i.name, "address", i.mac, "mtu", i.mtu,
                            "type", "bridge", "stp_state", "0")

        # -- devices, in design order (children wait for their declared parent)
        created: set[str] = set()
        pending_children: list[Iface] = []

        def far_end_args(i: Iface) -> list[str]:
            """``peer ...`` arguments of a parent's or station's veth."""
            if i.link and i.link.startswith("switch:"):
                sw_name = i.link[len("switch:"):].rsplit("/", 1)[0]
                return ["peer", "name", self._switch_port[i.link], "mtu", str(i.mtu),
                        "netns", ns[f"switch:{sw_name}"]]
            if i.link and i.link.startswith("bridge:"):
                port = d.iface(f"{i.host}/{i.link[len('bridge:'):].rsplit('/', 1)[1]}")
                return ["peer", "name", port.name, "address", port.mac, "mtu", str(i.mtu)]
            return ["peer", "name", self._void_end[i.id], "netns", ns["void:"]]

        def create_child(c: Iface) -> None:
            host_ns = ns[c.host]
            lower = d.iface(c.lower) if c.lower else None
            declared = d.iface(c.declared_lower or c.lower)
            name = self._tmp.get(c.id, c.name)
            args = ["link", "add", "name", name, "link", declared.name, "address", c.mac]
            if lower is not None and c.mtu != lower.mtu:
                args += ["mtu", str(c.mtu)]
            args += ["type", c.kind, "mode", c.mode]
            if c.mode == "passthru" and c.nopromisc:
                args.append("nopromisc")
            create.add(host_ns, *args)
            if c.mode == "passthru" and lower is not None and c.mac != lower.mac:
                # the kernel ignores the address given at creation in passthru mode and takes
                # the lower device's; setting it afterwards changes the lower device's MAC too
                create.add(host_ns, "link", "set", "dev", name, "address", c.mac)
            for m in c.source_macs:
                create.add(host_ns, "link", "set", "dev", name, "type", c.kind, "macaddr", "add", m)
            if c.namespace:
                create.add(host_ns, "link", "set", "dev", name, "netns", ns[c.ns])
                rename.add(ns[c.ns], "link", "set", "dev", name, "name", c.name)
            created.add(c.id)

        def flush_pending() -> None:
            progress = True
            while progress and pending_children:
                progress = False
                for c in list(pending_children):
                    dep = c.declared_lower or c.lower
                    if dep in created:
                        pending_children.remove(c)
                        create_child(c)
                        progress = True

        for i in d.interfaces:
            here = ns[i.ns]
            if i.kind == "parent":
                create.add(here, "link", "add", "name", i.name, "address", i.mac, "mtu", i.mtu, "type", "veth",
                           *far_end_args(i))
                if i.link and i.link.startswith("switch:"):
                    sw_ns = ns[f"switch:{i.link[len('switch:'):].rsplit('/', 1)[0]}"]
                    self._switch_side(master, up, sw_ns, i.link)
                elif i.link and i.link.startswith("bridge:"):
                    br = i.link[len("bridge:"):].rsplit("/", 1)[0]
                    port = d.iface(f"{i.host}/{i.link[len('bridge:'):].rsplit('/', 1)[1]}")
                    master.add(here, "link", "set", "dev", port.name, "master", br)
                    master.add(here, "link", "set", "dev", port.name, "type", "bridge_slave",
                               "hairpin", "on" if port.hairpin else "off")
                    up.add(here, "link", "set", "dev", port.name, "up")
                    created.add(port.id)
                else:
                    up.add(ns["void:"], "link", "set", "dev", self._void_end[i.id], "up")
                if i.master:
                    master.add(here, "link", "set", "dev", i.name, "master", d.iface(i.master).name)
                    master.add(here, "link", "set", "dev", i.name, "type", "bridge_slave",
                               "hairpin", "on" if i.hairpin else "off")
            elif i.kind == "bridge":
                pass  # created in the bridges phase; MTU re-applied once ports are in
            elif i.kind == "bridge-port":
                if i.link:  # veth to a peer in a namespace
                    peer = d.iface(i.link)
                    args = ["link", "add", "name", i.name, "address", i.mac, "mtu", i.mtu, "type", "veth",
                            "peer", "name", peer.name, "address", peer.mac, "mtu", peer.mtu]
                    if ns[peer.ns] != here:
                        args += ["netns", ns[peer.ns]]
                    create.add(here, *args)
                    created.add(peer.id)
                    master.add(here, "link", "set", "dev", i.name, "master", d.iface(i.master).name)
                    master.add(here, "link", "set", "dev", i.name, "type", "bridge_slave",
                               "hairpin", "on" if i.hairpin else "off")
                    up.add(here, "link", "set", "dev", i.name, "up")
                # a port cabled to a parent is created with that parent
            elif i.kind == "veth-peer":
                pass  # created with its bridge port
            elif i.is_child:
                pending_children.append(i)
            elif i.kind == "station":
                create.add(here, "link", "add", "name", "eth0", "address", i.mac, "type", "veth",
                           *far_end_args(i))
                sw_ns = ns[f"switch:{i.link[len('switch:'):].rsplit('/', 1)[0]}"]
                self._switch_side(master, up, sw_ns, i.link)
            if not i.is_child:
                created.add(i.id)
            flush_pending()
        flush_pending()
        if pending_children:
            names = ", ".join(c.id for c in pending_children)
            raise LabError(f"cannot order the creation of children (parent chain never reaches a device): {names}")
        for i in d.interfaces:
            if i.kind == "bridge":
                master.add(ns[i.ns], "link", "set", "dev", i.name, "mtu", i.mtu)

        # -- addresses in design order, then links up in design order
        for i in d.interfaces:
            netns, dev = self._dev[i.id]
            for a in i.addresses:
                addrs.add(netns, "addr", "add", a.with_prefixlen, "dev", dev)
        for n in self.namespaces:
            up.add(n, "link", "set", "dev", "lo", "up")
        for s in d.switches:
            up.add(ns[f"switch:{s.name}"], "link", "set", "dev", "br0", "up")
        for i in d.interfaces:
            netns, dev = self._dev[i.id]
            if i.kind == "bridge-port":
                continue  # brought up with its veth
            if i.up:
                up.add(netns, "link", "set", "dev", dev, "up")

        # -- static routes (only over links that are up: the kernel refuses others) and neighbours
        for i in d.interfaces:
            netns, dev = self._dev[i.id]
            for r in i.routes:
                if not i.up:
                    self.warnings.append(f"{i.id}: route to {r.to} skipped: the interface is down "
                                         "(the kernel refuses routes over a device that is down)")
                    continue
                args = ["route", "add", _fmt_net(r.to)]
                if r.via is not None:
                    args += ["via", str(r.via)]
                routes.add(netns, *args, "dev", dev)
            for ip, mac in d.static_neighbors(i):
                neigh.add(netns, "neigh", "replace", str(ip), "lladdr", mac, "dev", dev, "nud", "permanent")
        return [bridges, create, rename, master, addrs, up, routes, neigh]

    def _switch_side(self, master: _Phase, up: _Phase, sw_ns: str, link: str) -> None:
        port = self._switch_port[link]
        master.add(sw_ns, "link", "set", "dev", port, "master", "br0")
        master.add(sw_ns, "link", "set", "dev", port, "type", "bridge_slave",
                   "hairpin", "on" if self._switch_hairpin[link] else "off")
        up.add(sw_ns, "link", "set", "dev", port, "up")

    # -- inspection -----------------------------------------------------------------
    def run(self, ns_id: str, *cmd: str, check: bool = False, timeout: float = 30.0) -> subprocess.CompletedProcess:
        """Run a command inside the netns of a design namespace (or ``switch:S``, ``void``)."""
        return _run(["ip", "netns", "exec", self.netns_of(ns_id), *cmd], check=check, timeout=timeout)

    def dump(self, ns_id: str) -> str:
        """Links, addresses, routes, neighbours (and bridge ports / fdb) of one namespace, as text."""
        netns = self.netns_of(ns_id)
        parts = []
        for title, argv in (("links", ["ip", "-n", netns, "-d", "link", "show"]),
                            ("addresses", ["ip", "-n", netns, "-br", "addr", "show"]),
                            ("routes", ["ip", "-n", netns, "route", "show", "table", "all"]),
                            ("neighbours", ["ip", "-n", netns, "neigh", "show"])):
            cp = _run(argv, check=False)
            parts.append(f"## {title} ({netns})\n{cp.stdout}{cp.stderr}")
        if self._bridges.get(netns) and shutil.which("bridge"):
            for title, argv in (("bridge ports", ["bridge", "-n", netns, "-d", "link", "show"]),
                                ("fdb", ["bridge", "-n", netns, "fdb", "show"])):
                cp = _run(argv, check=False)
                parts.append(f"## {title} ({netns})\n{cp.stdout}{cp.stderr}")
        return "\n".join(parts)

    # -- measuring ------------------------------------------------------------------
    def flush_caches(self, netns_names: Iterable[str] | None = None) -> None:
        """Forget dynamic neighbour entries and learned fdb entries (permanent ones stay)."""
        names = list(netns_names) if netns_names is not None else self.namespaces
        procs = []
        try:
            for n in names:
                lines = ["neigh flush all"]
                lines += [f"link set dev {br} type bridge fdb_flush" for br in self._bridges.get(n, ())]
                p = subprocess.Popen(["ip", "-n", n, "-batch", "-"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
                procs.append((n, lines, p))
            errors = []
            for n, lines, p in procs:
                out, err = p.communicate("\n".join(lines) + "\n", timeout=30)
                if p.returncode != 0:
                    errors.append(f"ip -n {n} -batch [{'; '.join(lines)}]: {(err or out).strip()}")
        except subprocess.TimeoutExpired:
            raise LabError("flushing caches timed out") from None
        finally:
            for _, _, p in procs:
                if p.poll() is None:
                    p.kill()
                    p.wait()
        if errors:
            raise LabError("flushing caches failed: " + "; ".join(errors))

    def _pair_scope(self, a: Iface, b: Iface) -> frozenset[str]:
        return self._components[self._netns[a.ns]] | self._components[self._netns[b.ns]]

    def _endpoint(self, iid: str) -> Iface:
        i = self.design.get_iface(iid)
        if i is None:
            raise KeyError(f"no interface {iid!r} in the design")
        if i.address is None:
            raise ValueError(f"{iid} has no IPv4 address; it cannot ping or be pinged")
        return i

    def _ping_once(self, a: Iface, b: Iface, timeout: float) -> bool:
        src, dst = str(a.address.ip), str(b.address.ip)
        # ping bound to a source address (-I ADDR) does not fail fast when there is no route: it
        # counts the refused send as transmitted and waits out the timeout. The same output route
        # lookup done first by `ip route get` settles those pairs at once.
        script = (f"ip route get {dst} from {src} >/dev/null 2>&1 || exit 3; "
                  f"exec ping -n -q -c1 -W {timeout:g} -I {src} {dst}")
        argv = ["ip", "netns", "exec", self._netns[a.ns], "sh", "-c", script]
        cp = _run(argv, check=False, timeout=timeout + 30)
        if cp.returncode == 0:
            return True
        if cp.returncode in (1, 3):
            return False
        msg = (cp.stderr or cp.stdout).strip()
        if "usage" in msg.lower() or "invalid argument" in msg.lower():
            raise LabError(f"ping refused its arguments: {' '.join(argv)}: {msg}", argv, msg)
        return False  # e.g. "connect: Network is unreachable": no route, so not reachable

    def _ping_cold(self, a: Iface, b: Iface, timeout: float, scope) -> bool:
        """One ping from cold caches; a failure is tried twice more (longer waits), cold again.

        A reply never comes from nowhere, so a retry cannot turn a blocked pair into a
        reachable one; it only keeps a loaded machine (a late ARP answer from the macvlan
        broadcast queue) from reporting a reachable pair as blocked.
        """
        for wait in (timeout, max(timeout, 1.0), max(timeout, 2.0)):
            self.flush_caches(scope)
            if self._ping_once(a, b, wait):
                return True
        return False

    def ping(self, a_iface_id: str, b_iface_id: str, timeout: float = 1.0) -> bool:
        """Does A's first address get an echo reply from B's first address, starting from cold caches?

        ``ip netns exec NS(A) ping -c1 -W TIMEOUT -I A.ip B.ip`` after flushing the neighbour
        caches and bridge fdbs of every namespace the pair can reach.
        """
        a, b = self._endpoint(a_iface_id), self._endpoint(b_iface_id)
        return self._ping_cold(a, b, timeout, self._pair_scope(a, b))

    def ping_matrix(self, pairs: Iterable[tuple[str, str]] | None = None, workers: int = 8,
                    timeout: float | None = None) -> dict[tuple[str, str], bool]:
        """Ping every pair (default: all ordered pairs of endpoints) from cold caches.

        Pairs whose namespaces (both endpoints' connected components: switches, bridges,
        host namespaces on any path) are disjoint run concurrently; the others one after the
        other, each after flushing the caches of exactly those namespaces.
        """
        pairs = endpoint_pairs(self.design) if pairs is None else list(pairs)
        t = self.ping_timeout if timeout is None else timeout
        jobs = [(p, self._endpoint(p[0]), self._endpoint(p[1])) for p in pairs]
        scopes = [self._pair_scope(a, b) for _, a, b in jobs]
        results: dict[tuple[str, str], bool] = {}
        if workers <= 1 or len(jobs) <= 1:
            for (p, a, b), scope in zip(jobs, scopes):
                results[p] = self._ping_cold(a, b, t, scope)
            return {p: results[p] for p in pairs}

        cond = threading.Condition()
        busy: set[str] = set()
        todo = list(range(len(jobs)))
        errors: list[BaseException] = []

        def take() -> int | None:
            with cond:
                while True:
                    if errors or not todo:
                        return None
                    for k in todo:
                        if not (scopes[k] & busy):
                            todo.remove(k)
                            busy.update(scopes[k])
                            return k
                    cond.wait()

        def worker() -> None:
            while True:
                k = take()
                if k is None:
                    return
                p, a, b = jobs[k]
                try:
                    ok = self._ping_cold(a, b, t, scopes[k])
                    with cond:
                        results[p] = ok
                except BaseException as exc:  # noqa: BLE001 - re-raised below
                    with cond:
                        errors.append(exc)
                finally:
                    with cond:
                        busy.difference_update(scopes[k])
                        cond.notify_all()

        threads = [threading.Thread(target=worker, daemon=True) for _ in range(min(workers, len(jobs)))]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        if errors:
            raise errors[0]
        return {p: results[p] for p in pairs}


def endpoint_pairs(design: Design) -> list[tuple[str, str]]:
    """Every ordered pair of distinct endpoints (interfaces with an address), in design order."""
    eps = [i.id for i in design.endpoints()]
    return [(x, y) for x in eps for y in eps if x != y]


def measure(design: Design, pairs: Iterable[tuple[str, str]] | None = None, *, replicas: int | None = None,
            prefix: str | None = None, workers: int = 8,
            timeout: float | None = None) -> dict[tuple[str, str], bool]:
    """Build ``design``, ping every pair (default: all ordered endpoint pairs), clean up.

    A failed ping costs its whole timeout, so pairs are spread over ``replicas`` identical copies
    of the lab (default: one per 6 pairs, at most ``workers``), each pinging one pair at a time
    from cold caches. The copies share nothing (own namespaces, own switches), so the result is
    the same as pinging every pair one after the other in a single lab.
    """
    pairs = endpoint_pairs(design) if pairs is None else list(pairs)
    if replicas is None:
        replicas = max(1, min(workers, -(-len(pairs) // 6)))
    replicas = max(1, min(replicas, len(pairs) or 1))
    base = prefix or default_prefix()
    labs = [Lab(design, prefix=base if replicas == 1 else f"{base}r{k}") for k in range(replicas)]
    for a, b in pairs:  # refuse unknown or address-less endpoints before building anything
        labs[0]._endpoint(a), labs[0]._endpoint(b)
    try:
        if replicas == 1:
            with labs[0]:
                return labs[0].ping_matrix(pairs, workers=workers, timeout=timeout)
        with ThreadPoolExecutor(max_workers=replicas) as pool:
            list(pool.map(lambda lab: lab.__enter__(), labs))
            todo = list(reversed(pairs))
            lock = threading.Lock()
            results: dict[tuple[str, str], bool] = {}

            def drain(lab: Lab) -> None:
                while True:
                    with lock:
                        if not todo:
                            return
                        p = todo.pop()
                    ok = lab.ping(p[0], p[1], timeout=lab.ping_timeout if timeout is None else timeout)
                    with lock:
                        results[p] = ok

            list(pool.map(drain, labs))
        return {p: results[p] for p in pairs}
    finally:
        for lab in labs:
            lab.cleanup()
