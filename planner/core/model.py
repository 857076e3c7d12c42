"""Typed, frozen model of a design, loaded from JSON or YAML (format v1).

The model is description only (like Mininet's ``Topo``): it never touches the system. Defaults
are resolved at load time so that every consumer sees the same explicit values:

* a child's ``mode`` defaults to :data:`planner.core.schema.DEFAULT_MODE` (``bridge``);
* every interface without a MAC gets a stable, locally administered one derived from its id
  (so plans are deterministic and static neighbours can name peers); a passthru child takes
  its parent's MAC, as the kernel does;
* MTU defaults to 1500, state to ``up``, type to ``macvlan``.

Interface ids follow one scheme everywhere (graph nodes, findings, reachability, the UI):
``host1/eth0`` (host namespace), ``host1/ns:web/eth0`` (namespace ``web`` of ``host1``),
``station:gw`` (an external station), ``switch:sw1/p1`` (a port of an external switch).
"""
from __future__ import annotations

import hashlib
import ipaddress
import json
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

import yaml

from .errors import DesignError, InputProblem
from .schema import DEFAULT_MODE, FORMAT_VERSION, IFNAME_MAX_BYTES, design_schema

__all__ = [
    "Route", "StaticNeighbor", "Uplink", "Parent", "Child", "VethPeer", "BridgePort", "Bridge",
    "Host", "SwitchPort", "Switch", "Station", "Design", "Iface",
    "load_design", "parse_design_text", "design_from_dict", "iface_id", "ns_id",
    "IMPLICIT_HOST", "ALL_PEERS",
]

IMPLICIT_HOST = "host"
ALL_PEERS = "all-peers"
DEFAULT_MTU = 1500


# --------------------------------------------------------------------------- small values
@dataclass(frozen=True)
class Route:
    """A static route on an interface: ``ip route add TO [via VIA] dev IFACE``."""

    to: ipaddress.IPv4Network
    via: ipaddress.IPv4Address | None = None

    def to_dict(self) -> dict:
        d: dict[str, Any] = {"to": str(self.to)}
        if self.via is not None:
            d["via"] = str(self.via)
        return d


@dataclass(frozen=True)
class StaticNeighbor:
    """A permanent neighbour entry; either names a peer endpoint or gives address and MAC."""

    peer: str | None = None
    address: ipaddress.IPv4Address | None = None
    mac: str | None = None

    def to_dict(self) -> dict:
        d: dict[str, Any] = {}
        if self.peer:
            d["peer"] = self.peer
        if self.address is not None:
            d["address"] = str(self.address)
        if self.mac:
            d["mac"] = self.mac
        return d


@dataclass(frozen=True)
class Uplink:
    """Where a parent NIC or a station is cabled: a switch port or a Linux bridge port."""

    port: str
    switch: str | None = None
    bridge: str | None = None

    def to_dict(self) -> dict:
        d = {"switch": self.switch} if self.switch else {"bridge": self.bridge}
        d["port"] = self.port
        return d

    @property
    def node(self) -> str:
        return f"switch:{self.switch}/{self.port}" if self.switch else f"bridge:{self.bridge}/{self.port}"


Neighbors = tuple[StaticNeighbor, ...] | str  # a tuple, or the literal ALL_PEERS


@dataclass(frozen=True)
class _L3:
    """Layer-3 configuration shared by every addressable interface."""

    addresses: tuple[ipaddress.IPv4Interface, ...] = ()
    neighbors: Neighbors = ()
    routes: tuple[Route, ...] = ()


@dataclass(frozen=True)
class Parent(_L3):
    """A NIC of a host that children hang off. Exists before mvplan runs (or is a veth)."""

    name: str = ""
    kind: str = "ethernet"
    mac: str = ""
    mtu: int = DEFAULT_MTU
    state: str = "up"
    uplink: Uplink | None = None


@dataclass(frozen=True)
class Child(_L3):
    """A macvlan or macvtap interface on a parent, optionally moved into a namespace."""

    name: str = ""
    type: str = "macvlan"
    parent: str = ""
    mode: str = DEFAULT_MODE
    mac: str = ""
    mac_explicit: bool = False
    mtu: int = DEFAULT_MTU
    mtu_explicit: bool = False
    state: str = "up"
    nopromisc: bool = False
    source_macs: tuple[str, ...] = ()
    namespace: str = ""


@dataclass(frozen=True)
class VethPeer(_L3):
    """The far end of a bridge port's veth pair, living in a namespace."""

    name: str = ""
    namespace: str = ""
    mac: str = ""
    mtu: int = DEFAULT_MTU
    state: str = "up"


@dataclass(frozen=True)
class BridgePort:
    """A port of a Linux bridge: a veth end (with a peer, or cabled to a parent) or an enslaved device."""

    name: str
    hairpin: bool = False
    enslave: bool = False
    peer: VethPeer | None = None
    mac: str = ""


@dataclass(frozen=True)
class Bridge(_L3):
    """A Linux bridge on a host (host namespace)."""

    name: str = ""
    mac: str = ""
    mtu: int = DEFAULT_MTU
    state: str = "up"
    ports: tuple[BridgePort, ...] = ()


@dataclass(frozen=True)
class Host:
    name: str
    parents: tuple[Parent, ...] = ()
    children: tuple[Child, ...] = ()
    bridges: tuple[Bridge, ...] = ()
    implicit: bool = False


@dataclass(frozen=True)
class SwitchPort:
    name: str
    hairpin: bool = False


@dataclass(frozen=True)
class Switch:
    """An external switch; ports may reflect frames (hairpin / reflective relay)."""

    name: str
    ports: tuple[SwitchPort, ...] = ()

    def port(self, name: str) -> SwitchPort | None:
        return next((p for p in self.ports if p.name == name), None)


@dataclass(frozen=True)
class Station(_L3):
    """An external machine on a switch port (a gateway, a server)."""

    name: str = ""
    uplink: Uplink | None = None
    mac: str = ""


# --------------------------------------------------------------------------- flat view
def ns_id(host: str | None, namespace: str = "", station: str | None = None) -> str:
    """Id of a network namespace: ``host1``, ``host1/ns:web`` or ``station:gw``."""
    if station is not None:
        return f"station:{station}"
    return f"{host}/ns:{namespace}" if namespace else str(host)


def iface_id(host: str | None, name: str, namespace: str = "", station: str | None = None) -> str:
    """Id of an interface: ``host1/eth0``, ``host1/ns:web/eth0`` or ``station:gw``."""
    if station is not None:
        return f"station:{station}"
    return f"{ns_id(host, namespace)}/{name}"


@dataclass(frozen=True)
class Iface:
    """One interface of the design, flattened, with every default resolved.

    ``kind`` is one of ``parent``, ``macvlan``, ``macvtap``, ``bridge``, ``bridge-port``,
    ``veth-peer``, ``station``. ``link`` is the node at the far end of the cable or veth
    (another iface id, ``switch:S/P``, or ``None``); ``lower`` is the effective parent of a
    child (after the kernel's re-parenting of macvlan-on-macvlan); ``master`` is the bridge
    a port belongs to.
    """

    id: str
    kind: str
    host: str | None
    namespace: str
    ns: str
    name: str
    mac: str
    mtu: int
    state: str
    addresses: tuple[ipaddress.IPv4Interface, ...]
    neighbors: Neighbors
    routes: tuple[Route, ...]
    path: str
    mode: str | None = None
    lower: str | None = None
    declared_lower: str | None = None
    link: str | None = None
    master: str | None = None
    hairpin: bool = False
    source_macs: tuple[str, ...] = ()
    nopromisc: bool = False
    parent_kind: str | None = None

    @property
    def is_child(self) -> bool:
        return self.kind in ("macvlan", "macvtap")

    @property
    def up(self) -> bool:
        return self.state == "up"

    @property
    def address(self) -> ipaddress.IPv4Interface | None:
        """The endpoint address: the first one configured."""
        return self.addresses[0] if self.addresses else None


# --------------------------------------------------------------------------- design
@dataclass(frozen=True)
class Design:
    name: str = "design"
    description: str = ""
    hosts: tuple[Host, ...] = ()
    switches: tuple[Switch, ...] = ()
    stations: tuple[Station, ...] = ()
    layout: dict = field(default_factory=dict, compare=False, hash=False)
    interfaces: tuple[Iface, ...] = field(default=(), compare=False, hash=False, repr=False)

    # -- lookups ----------------------------------------------------------------------
    def iface(self, iid: str) -> Iface:
        return self._index()[iid]

    def get_iface(self, iid: str) -> Iface | None:
        return self._index().get(iid)

    def _index(self) -> dict[str, Iface]:
        idx = self.__dict__.get("_iface_index")
        if idx is None:
            idx = {i.id: i for i in self.interfaces}
            object.__setattr__(self, "_iface_index", idx)
        return idx

    def host(self, name: str) -> Host | None:
        return next((h for h in self.hosts if h.name == name), None)

    def switch(self, name: str) -> Switch | None:
        return next((s for s in self.switches if s.name == name), None)

    def children_of(self, lower_id: str) -> list[Iface]:
        """Children whose effective parent is ``lower_id``, in design order."""
        groups = self.__dict__.get("_children_index")
        if groups is None:
            groups = {}
            for i in self.interfaces:
                if i.is_child and i.lower:
                    groups.setdefault(i.lower, []).append(i)
            object.__setattr__(self, "_children_index", groups)
        return groups.get(lower_id, [])

    def endpoints(self) -> list[Iface]:
        """Interfaces with an IPv4 address, in design order: the things that ping."""
        return [i for i in self.interfaces if i.addresses]

    def namespaces(self) -> list[str]:
        seen: dict[str, None] = {}
        for i in self.interfaces:
            seen.setdefault(i.ns, None)
        return list(seen)

    def static_neighbors(self, iface: Iface) -> list[tuple[ipaddress.IPv4Address, str]]:
        """Resolve an interface's static neighbour entries to (address, MAC) pairs."""
        if iface.neighbors == ALL_PEERS:
            out = []
            nets = [a.network for a in iface.addresses]
            for other in self.endpoints():
                if other.id == iface.id:
                    continue
                ip = other.address.ip
                if any(ip in n for n in nets):
                    out.append((ip, other.mac))
            return out
        out = []
        for n in iface.neighbors:
            if n.peer:
                peer = self.iface(resolve_ref(self, n.peer, iface.host))
                out.append((n.address or peer.address.ip, n.mac or peer.mac))
            else:
                out.append((n.address, n.mac))
        return out

    def static_mac_for(self, iface: Iface, ip: ipaddress.IPv4Address) -> str | None:
        """MAC of a static neighbour entry on ``iface`` for ``ip``, or None (fast path for all-peers)."""
        if iface.neighbors == ALL_PEERS:
            if not any(ip in a.network for a in iface.addresses):
                return None
            owner = self.address_owner(ip)
            return owner.mac if owner is not None and owner.id != iface.id else None
        for addr, mac in self.static_neighbors(iface):
            if addr == ip:
                return mac
        return None

    def address_owner(self, ip: ipaddress.IPv4Address) -> Iface | None:
        """The first interface (design order) whose endpoint address is ``ip``."""
        idx = self.__dict__.get("_addr_index")
        if idx is None:
            idx = {}
            for i in self.endpoints():
                idx.setdefault(i.address.ip, i)
            object.__setattr__(self, "_addr_index", idx)
        return idx.get(ip)

    # -- serialisation ----------------------------------------------------------------
    def to_dict(self, resolved: bool = True) -> dict:
        """Canonical document. With ``resolved`` every default is written out explicitly."""
        return _design_to_dict(self, resolved)

    def to_graph(self):
        from .graph import design_graph

        return design_graph(self)


# --------------------------------------------------------------------------- loading
class _StrictLoader(yaml.SafeLoader):
    """YAML 1.2-like booleans/ints: 'on'/'no' stay strings, 12:34:56 is not a base-60 int."""


_StrictLoader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v
        if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float",
                       "tag:yaml.org,2002:timestamp")]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
import re as _re  # noqa: E402

_StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", _re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
_StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:int", _re.compile(r"^[-+]?(?:0|[1-9][0-9]*)$"), list("-+0123456789"))


def parse_design_text(text: str, filename: str = "") -> dict:
    """Parse JSON or YAML text into a plain document (no validation beyond syntax)."""
    text = text.lstrip("\ufeff")
    stripped = text.lstrip()
    try:
        if filename.endswith(".json") or stripped.startswith("{"):
            doc = json.loads(text)
        else:
            doc = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - strict safe loader
    except json.JSONDecodeError as exc:
        raise DesignError(InputProblem("", f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}")) from None
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        loc = f" at line {where.line + 1} column {where.column + 1}" if where else ""
        raise DesignError(InputProblem("", f"not valid YAML{loc}: {getattr(exc, 'problem', exc)}")) from None
    if not isinstance(doc, dict):
        raise DesignError(InputProblem("", "a design must be a mapping with keys such as 'hosts', 'switches', 'stations'"))
    return doc


def load_design(source: str | Path) -> Design:
    """Load a design from a file path."""
    path = Path(source)
    try:
        text = path.read_text("utf-8")
    except OSError as exc:
        raise DesignError(InputProblem("", f"cannot read {path}: {exc.strerror}")) from None
    except UnicodeDecodeError:
        raise DesignError(InputProblem("", f"{path} is not UTF-8 text")) from None
    return design_from_dict(parse_design_text(text, path.name))


def _schema_path(error) -> str:
    out = ""
    for part in error.absolute_path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _schema_message(error) -> str:
    v = error.validator
    if v == "additionalProperties":
        allowed = sorted((error.schema.get("properties") or {}).keys())
        extra = sorted(set(error.instance) - set(allowed)) if isinstance(error.instance, dict) else []
        return f"unknown key {', '.join(repr(e) for e in extra)}; allowed keys: {', '.join(allowed)}"
    if v == "required":
        return error.message.replace("is a required property", "is required")
    if v == "enum":
        return f"{error.instance!r} is not allowed; use one of: {', '.join(map(str, error.validator_value))}"
    if v == "type":
        return f"expected {error.validator_value}, got {type(error.instance).__name__} {error.instance!r}"
    if v == "pattern":
        pat = error.validator_value
        if "{0,14}" in pat:
            return (f"{error.instance!r} is not a usable interface name: at most {IFNAME_MAX_BYTES} bytes, "
                    "letters, digits, '_', '.', '-', not starting with '-' or '.'")
        if "{0,62}" in pat:
            return f"{error.instance!r} is not a usable name: up to 63 letters, digits, '_', '.', '-'"
        if "{2}" in pat:
            return f"{error.instance!r} is not a MAC address; write six hex pairs like 02:00:00:00:00:01"
        return f"{error.instance!r} does not match {pat}"
    if v in ("minimum", "maximum"):
        return f"{error.instance!r} is out of range (MTU is 68..65535)"
    if v == "oneOf" and error.instance != ALL_PEERS:
        return "neighbors must be the string 'all-peers' or a list of {peer} / {address, mac} entries"
    if v == "const":
        return f"must be {error.validator_value!r}"
    return error.message


def design_from_dict(doc: Any) -> Design:
    """Validate a document and build the model; raise :class:`DesignError` listing every problem."""
    if not isinstance(doc, dict):
        raise DesignError(InputProblem("", "a design must be a mapping"))
    try:
        _fast_validator()(doc)  # compiled: ~50x faster on big designs than walking the schema
    except Exception:  # noqa: BLE001 - any failure: let jsonschema name every problem precisely
        pass
    else:
        return _Builder(doc).build()
    import jsonschema

    validator = jsonschema.Draft202012Validator(design_schema())
    problems = []
    for err in sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path))):
        # oneOf errors hide the useful branch error; prefer the deepest context
        if err.validator == "oneOf" and err.context:
            deep = max(err.context, key=lambda e: len(e.absolute_path))
            if len(deep.absolute_path) > len(err.absolute_path):
                err = deep
        problems.append(InputProblem(_schema_path(err), _schema_message(err)))
    if problems:
        raise DesignError(_dedupe(problems))
    return _Builder(doc).build()


@lru_cache(maxsize=1)
def _fast_validator():
    import fastjsonschema

    return fastjsonschema.compile(design_schema())


def _dedupe(problems: list[InputProblem]) -> list[InputProblem]:
    seen, out = set(), []
    for p in problems:
        if (p.path, p.message) not in seen:
            seen.add((p.path, p.message))
            out.append(p)
    return out


def stable_mac(seed: str) -> str:
    """A locally administered unicast MAC derived from ``seed`` (stable across runs)."""
    digest = hashlib.sha256(("mvplan:" + seed).encode()).digest()
    return "02:" + ":".join(f"{b:02x}" for b in digest[:5])


def resolve_ref(design_or_ids, ref: str, host: str | None) -> str:
    """Turn an endpoint reference into an iface id.

    ``station:gw``, ``host1/eth0``, ``host1/ns:web/eth0`` are absolute; ``eth0`` and
    ``ns:web/eth0`` are relative to ``host``.
    """
    if ref.startswith("station:"):
        return ref
    ids = design_or_ids._index() if isinstance(design_or_ids, Design) else design_or_ids
    if ref in ids:
        return ref
    if host is not None:
        rel = f"{host}/{ref}"
        if rel in ids:
            return rel
    return ref


class _Builder:
    """Turns a schema-valid document into a Design, collecting semantic problems."""

    def __init__(self, doc: dict):
        self.doc = doc
        self.problems: list[InputProblem] = []

    def problem(self, path: str, message: str) -> None:
        self.problems.append(InputProblem(path, message))

    # -- value parsers ----------------------------------------------------------------
    def cidrs(self, items, path) -> tuple[ipaddress.IPv4Interface, ...]:
        out = []
        for k, text in enumerate(items or ()):
            p = f"{path}[{k}]"
            if "/" not in text:
                self.problem(p, f"{text!r} needs a prefix length, e.g. {text}/24")
                continue
            try:
                addr = ipaddress.ip_interface(text)
            except ValueError:
                self.problem(p, f"{text!r} is not an IPv4 address with prefix, e.g. 10.0.0.5/24")
                continue
            if addr.version != 4:
                self.problem(p, f"{text!r} is IPv6; format v1 plans IPv4 only (IPv6 is out of scope)")
                continue
            if addr.network.prefixlen < 32 and addr.ip in (addr.network.network_address, addr.network.broadcast_address) \
                    and addr.network.prefixlen < 31:
                self.problem(p, f"{text!r} is the network or broadcast address of {addr.network}; pick a host address")
                continue
            if addr.ip.is_loopback or addr.ip.is_multicast or addr.ip.is_unspecified:
                self.problem(p, f"{text!r} is not a unicast host address")
                continue
            out.append(addr)
        return tuple(out)

    def ip(self, text, path) -> ipaddress.IPv4Address | None:
        try:
            a = ipaddress.ip_address(text)
        except ValueError:
            self.problem(path, f"{text!r} is not an IPv4 address")
            return None
        if a.version != 4:
            self.problem(path, f"{text!r} is IPv6; format v1 plans IPv4 only")
            return None
        return a

    def mac(self, text, path) -> str:
        if not text:
            return ""
        m = text.lower()
        if int(m[:2], 16) & 1:
            self.problem(path, f"{text!r} is a multicast MAC (lowest bit of the first octet set); use a unicast one such as 02:..")
        elif m == "00:00:00:00:00:00":
            self.problem(path, "00:00:00:00:00:00 is not a usable MAC")
        return m

    def routes(self, items, path) -> tuple[Route, ...]:
        out = []
        for k, r in enumerate(items or ()):
            p = f"{path}[{k}]"
            to = r["to"]
            try:
                net = ipaddress.ip_network("0.0.0.0/0" if to == "default" else to, strict=True)
            except ValueError as exc:
                self.problem(f"{p}.to", f"{to!r} is not an IPv4 prefix ({exc}); e.g. 10.0.0.5/32 or default")
                continue
            if net.version != 4:
                self.problem(f"{p}.to", f"{to!r} is IPv6; format v1 plans IPv4 only")
                continue
            via = self.ip(r["via"], f"{p}.via") if "via" in r else None
            out.append(Route(net, via))
        return tuple(out)

    def neighbors(self, value, path) -> Neighbors:
        if value is None:
            return ()
        if value == ALL_PEERS:
            return ALL_PEERS
        out = []
        for k, n in enumerate(value):
            p = f"{path}[{k}]"
            addr = self.ip(n["address"], f"{p}.address") if "address" in n else None
            mac = self.mac(n.get("mac", ""), f"{p}.mac")
            if not n.get("peer") and (addr is None or not mac):
                self.problem(p, "a static neighbour needs 'peer' (an endpoint reference) or both 'address' and 'mac'")
                continue
            out.append(StaticNeighbor(n.get("peer"), addr, mac or None))
        return tuple(out)

    def l3(self, d, path) -> dict:
        return dict(addresses=self.cidrs(d.get("addresses"), f"{path}.addresses"),
                    neighbors=self.neighbors(d.get("neighbors"), f"{path}.neighbors"),
                    routes=self.routes(d.get("routes"), f"{path}.routes"))

    @staticmethod
    def uplink(d) -> Uplink | None:
        if d is None:
            return None
        return Uplink(port=d["port"], switch=d.get("switch"), bridge=d.get("bridge"))

    # -- build ------------------------------------------------------------------------
    def build(self) -> Design:
        doc = self.doc
        hosts_doc = list(doc.get("hosts") or [])
        shorthand = [k for k in ("parents", "children", "bridges") if k in doc]
        host_paths = []
        if shorthand and hosts_doc:
            self.problem(shorthand[0], "top-level parents/children/bridges describe the implicit single host; "
                                       "with 'hosts' present, move them into a host")
        if shorthand and not hosts_doc:
            hosts_doc = [{"name": IMPLICIT_HOST, **{k: doc[k] for k in shorthand}}]
            host_paths = [""]
        else:
            host_paths = [f"hosts[{i}]." for i in range(len(hosts_doc))]

        hosts = []
        for h, prefix in zip(hosts_doc, host_paths):
            hosts.append(self.host(h, prefix, implicit=not prefix))
        switches = tuple(Switch(s["name"], tuple(SwitchPort(p["name"], bool(p.get("hairpin", False)))
                                                 for p in s.get("ports") or ()))
                         for s in doc.get("switches") or ())
        stations = []
        for k, s in enumerate(doc.get("stations") or ()):
            p = f"stations[{k}]"
            stations.append(Station(name=s["name"], uplink=self.uplink(s.get("uplink")),
                                    mac=self.mac(s.get("mac", ""), f"{p}.mac") or stable_mac(f"station:{s['name']}"),
                                    **self.l3(s, p)))
        design = Design(name=str(doc.get("name") or "design"), description=str(doc.get("description") or ""),
                        hosts=tuple(hosts), switches=switches, stations=tuple(stations),
                        layout=dict(doc.get("layout") or {}))
        self.check_names(design)
        ifaces = self.flatten(design)
        self.check_references(design, ifaces)
        if self.problems:
            raise DesignError(_dedupe(self.problems))
        return replace(design, interfaces=tuple(ifaces))

    def host(self, h: dict, prefix: str, implicit: bool) -> Host:
        name = h["name"]
        parents = []
        for k, p in enumerate(h.get("parents") or ()):
            path = f"{prefix}parents[{k}]"
            parents.append(Parent(name=p["name"], kind=p.get("kind", "ethernet"),
                                  mac=self.mac(p.get("mac", ""), f"{path}.mac") or stable_mac(f"{name}/{p['name']}"),
                                  mtu=p.get("mtu", DEFAULT_MTU), state=p.get("state", "up"),
                                  uplink=self.uplink(p.get("uplink")), **self.l3(p, path)))
        children = []
        for k, c in enumerate(h.get("children") or ()):
            path = f"{prefix}children[{k}]"
            ns = c.get("namespace", "")
            mac = self.mac(c.get("mac", ""), f"{path}.mac")
            children.append(Child(
                name=c["name"], type=c.get("type", "macvlan"), parent=c["parent"],
                mode=c.get("mode", DEFAULT_MODE), mac=mac or stable_mac(iface_id(name, c["name"], ns)),
                mac_explicit=bool(mac), mtu=c.get("mtu", DEFAULT_MTU), mtu_explicit="mtu" in c,
                state=c.get("state", "up"),
                nopromisc=bool(c.get("nopromisc", False)),
                source_macs=tuple(self.mac(m, f"{path}.source_macs[{j}]") for j, m in enumerate(c.get("source_macs") or ())),
                namespace=ns, **self.l3(c, path)))
        bridges = []
        for k, b in enumerate(h.get("bridges") or ()):
            path = f"{prefix}bridges[{k}]"
            ports = []
            for j, bp in enumerate(b.get("ports") or ()):
                ppath = f"{path}.ports[{j}]"
                peer = None
                if bp.get("peer") is not None:
                    pd = bp["peer"]
                    pns = pd.get("namespace", "")
                    peer = VethPeer(name=pd["name"], namespace=pns,
                                    mac=self.mac(pd.get("mac", ""), f"{ppath}.peer.mac") or stable_mac(iface_id(name, pd["name"], pns)),
                                    mtu=pd.get("mtu", DEFAULT_MTU), state=pd.get("state", "up"),
                                    **self.l3(pd, f"{ppath}.peer"))
                if bp.get("enslave") and peer is not None:
                    self.problem(f"{ppath}.peer", "an enslaved device has no veth peer; drop 'peer' or 'enslave'")
                ports.append(BridgePort(name=bp["name"], hairpin=bool(bp.get("hairpin", False)),
                                        enslave=bool(bp.get("enslave", False)), peer=peer,
                                        mac=stable_mac(f"{name}/{bp['name']}")))
            bridges.append(Bridge(name=b["name"], mac=self.mac(b.get("mac", ""), f"{path}.mac") or stable_mac(f"{name}/{b['name']}"),
                                  mtu=b.get("mtu", DEFAULT_MTU), state=b.get("state", "up"), ports=tuple(ports),
                                  **self.l3(b, path)))
        return Host(name=name, parents=tuple(parents), children=tuple(children), bridges=tuple(bridges), implicit=implicit)

    def check_names(self, design: Design) -> None:
        def dupes(items, what, path_fn):
            seen = {}
            for k, n in enumerate(items):
                if n in seen:
                    self.problem(path_fn(k), f"duplicate {what} {n!r} (first at {path_fn(seen[n])}); names must be unique")
                else:
                    seen[n] = k
        dupes([h.name for h in design.hosts], "host name", lambda k: f"hosts[{k}].name")
        dupes([s.name for s in design.switches], "switch name", lambda k: f"switches[{k}].name")
        dupes([s.name for s in design.stations], "station name", lambda k: f"stations[{k}].name")
        for k, s in enumerate(design.switches):
            dupes([p.name for p in s.ports], f"port name on switch {s.name!r}", lambda j, k=k: f"switches[{k}].ports[{j}].name")

    def host_prefix(self, design: Design, hi: int) -> str:
        return "" if design.hosts[hi].implicit else f"hosts[{hi}]."

    def flatten(self, design: Design) -> list[Iface]:
        """Build the flat interface list in design order and check per-namespace name clashes."""
        ifaces: list[Iface] = []
        seen: dict[str, str] = {}

        def add(i: Iface) -> None:
            if i.id in seen:
                where = "host namespace" if not i.namespace else f"namespace {i.namespace!r}"
                self.problem(f"{i.path}.name", f"interface name {i.name!r} is already used in the {where} of host "
                                               f"{i.host!r} (by {seen[i.id]}); names must be unique per namespace")
                return
            seen[i.id] = i.path
            ifaces.append(i)

        for hi, h in enumerate(design.hosts):
            pre = self.host_prefix(design, hi)
            parent_names = {p.name: p for p in h.parents}
            for k, p in enumerate(h.parents):
                add(Iface(id=iface_id(h.name, p.name), kind="parent", host=h.name, namespace="", ns=ns_id(h.name),
                          name=p.name, mac=p.mac, mtu=p.mtu, state=p.state, addresses=p.addresses,
                          neighbors=p.neighbors, routes=p.routes, path=f"{pre}parents[{k}]",
                          link=p.uplink.node if p.uplink else None, parent_kind=p.kind))
            for k, b in enumerate(h.bridges):
                bpath = f"{pre}bridges[{k}]"
                bid = iface_id(h.name, b.name)
                add(Iface(id=bid, kind="bridge", host=h.name, namespace="", ns=ns_id(h.name), name=b.name, mac=b.mac,
                          mtu=b.mtu, state=b.state, addresses=b.addresses, neighbors=b.neighbors, routes=b.routes,
                          path=bpath))
                for j, bp in enumerate(b.ports):
                    ppath = f"{bpath}.ports[{j}]"
                    if bp.enslave:
                        continue  # the enslaved device is a parent; its master is set below
                    peer_id = iface_id(h.name, bp.peer.name, bp.peer.namespace) if bp.peer else None
                    add(Iface(id=iface_id(h.name, bp.name), kind="bridge-port", host=h.name, namespace="",
                              ns=ns_id(h.name), name=bp.name, mac=bp.mac, mtu=b.mtu, state="up", addresses=(),
                              neighbors=(), routes=(), path=ppath, master=bid, hairpin=bp.hairpin, link=peer_id))
                    if bp.peer:
                        pp = bp.peer
                        add(Iface(id=peer_id, kind="veth-peer", host=h.name, namespace=pp.namespace,
                                  ns=ns_id(h.name, pp.namespace), name=pp.name, mac=pp.mac, mtu=pp.mtu,
                                  state=pp.state, addresses=pp.addresses, neighbors=pp.neighbors, routes=pp.routes,
                                  path=f"{ppath}.peer", link=iface_id(h.name, bp.name)))
            parent_by_id = {iface_id(h.name, p.name): p for p in h.parents}
            host_ns_children = {c.name: c for c in h.children if not c.namespace}
            for k, c in enumerate(h.children):
                cpath = f"{pre}children[{k}]"
                lower, declared, pkind = None, None, None
                if c.parent in parent_names:
                    lower = declared = iface_id(h.name, c.parent)
                    pkind = parent_names[c.parent].kind
                elif c.parent in host_ns_children and c.parent != c.name:
                    declared = iface_id(h.name, c.parent)
                    # the kernel re-parents a macvlan created on a macvlan onto the lower device
                    cur, hops = host_ns_children[c.parent], 0
                    while cur.parent in host_ns_children and hops < 16:
                        cur, hops = host_ns_children[cur.parent], hops + 1
                    if cur.parent in parent_names:
                        lower = iface_id(h.name, cur.parent)
                        pkind = parent_names[cur.parent].kind
                    else:
                        self.problem(f"{cpath}.parent", f"child chain from {c.name!r} never reaches a parent NIC")
                elif any(b.name == c.parent for b in h.bridges):
                    self.problem(f"{cpath}.parent", f"{c.parent!r} is a Linux bridge; format v1 supports parents that are "
                                                    "NICs or veths: cable a veth parent to a bridge port with "
                                                    "uplink: {bridge: ..., port: ...}")
                else:
                    known = sorted(parent_names) + sorted(n for n in host_ns_children if n != c.name)
                    self.problem(f"{cpath}.parent", f"child {c.name!r}: parent {c.parent!r} does not exist on host "
                                                    f"{h.name!r}; known parents: {', '.join(known) or '(none)'}")
                mac = c.mac
                if c.mode == "passthru" and not c.mac_explicit and lower:
                    mac = parent_by_id[lower].mac
                mtu = c.mtu
                if not c.mtu_explicit and lower:
                    # the kernel gives a new macvlan its lower device's MTU
                    mtu = parent_by_id[lower].mtu
                add(Iface(id=iface_id(h.name, c.name, c.namespace), kind=c.type, host=h.name, namespace=c.namespace,
                          ns=ns_id(h.name, c.namespace), name=c.name, mac=mac, mtu=mtu, state=c.state,
                          addresses=c.addresses, neighbors=c.neighbors, routes=c.routes, path=cpath, mode=c.mode,
                          lower=lower, declared_lower=declared, source_macs=c.source_macs, nopromisc=c.nopromisc,
                          parent_kind=pkind))
        for k, s in enumerate(design.stations):
            add(Iface(id=f"station:{s.name}", kind="station", host=None, namespace="", ns=f"station:{s.name}",
                      name=s.name, mac=s.mac, mtu=DEFAULT_MTU, state="up", addresses=s.addresses,
                      neighbors=s.neighbors, routes=s.routes, path=f"stations[{k}]",
                      link=s.uplink.node if s.uplink else None))
        return self.wire_masters(design, ifaces)

    def wire_masters(self, design: Design, ifaces: list[Iface]) -> list[Iface]:
        """Set ``master`` on enslaved parents and ``link`` on bridge ports cabled to parents."""
        by_id = {i.id: n for n, i in enumerate(ifaces)}
        for hi, h in enumerate(design.hosts):
            pre = self.host_prefix(design, hi)
            for k, b in enumerate(h.bridges):
                for j, bp in enumerate(b.ports):
                    if not bp.enslave:
                        continue
                    pid = iface_id(h.name, bp.name)
                    n = by_id.get(pid)
                    if n is None or ifaces[n].kind != "parent":
                        self.problem(f"{pre}bridges[{k}].ports[{j}].name",
                                     f"enslaved port {bp.name!r} must name a parent NIC of host {h.name!r}")
                        continue
                    if ifaces[n].master:
                        self.problem(f"{pre}bridges[{k}].ports[{j}].name",
                                     f"{bp.name!r} is already a port of another bridge; a device has one master")
                        continue
                    ifaces[n] = replace(ifaces[n], master=iface_id(h.name, b.name), hairpin=bp.hairpin)
        return ifaces

    def check_references(self, design: Design, ifaces: list[Iface]) -> None:
        ids = {i.id: i for i in ifaces}
        used_ports: dict[str, str] = {}
        bridge_ports_cabled: set[str] = set()
        for i in ifaces:
            if i.kind not in ("parent", "station") or not i.link:
                continue
            src_path = f"{i.path}.uplink"
            if i.link.startswith("switch:"):
                sw_name, port = i.link[len("switch:"):].rsplit("/", 1)
                sw = design.switch(sw_name)
                if sw is None:
                    self.problem(f"{src_path}.switch", f"switch {sw_name!r} does not exist; known switches: "
                                                       f"{', '.join(s.name for s in design.switches) or '(none)'}")
                    continue
                if sw.port(port) is None:
                    self.problem(f"{src_path}.port", f"switch {sw_name!r} has no port {port!r}; ports: "
                                                     f"{', '.join(p.name for p in sw.ports) or '(none)'}")
                    continue
            else:
                br_name, port = i.link[len("bridge:"):].rsplit("/", 1)
                if i.kind == "station":
                    self.problem(f"{src_path}.bridge", "a station is cabled to an external switch port, not a host bridge")
                    continue
                bp = ids.get(iface_id(i.host, port))
                if not any(b.name == br_name for b in design.host(i.host).bridges):
                    self.problem(f"{src_path}.bridge", f"host {i.host!r} has no bridge {br_name!r}")
                    continue
                if bp is None or bp.kind != "bridge-port" or bp.master != iface_id(i.host, br_name):
                    self.problem(f"{src_path}.port", f"bridge {br_name!r} has no veth port {port!r}")
                    continue
                if bp.link:
                    self.problem(f"{src_path}.port", f"bridge port {port!r} already has a veth peer; "
                                                     "cable the parent to a port without 'peer'")
                    continue
                bridge_ports_cabled.add(bp.id)
            # host bridges are per host: bridge:br0/vb1 on host1 and on host2 are two ports
            port_key = i.link if i.link.startswith("switch:") else f"{i.host}:{i.link}"
            if port_key in used_ports:
                self.problem(f"{src_path}.port", f"port {i.link} is already cabled to {used_ports[port_key]}; "
                                                 "one cable per port")
            else:
                used_ports[port_key] = i.id
        for i in ifaces:
            if i.kind == "bridge-port" and not i.link and i.id not in bridge_ports_cabled:
                self.problem(f"{i.path}", f"bridge port {i.name!r} leads nowhere: give it a 'peer' (veth end in a "
                                          "namespace), set 'enslave: true' for an existing device, or cable a parent "
                                          "to it with uplink: {bridge, port}")
        if self.problems:
            return
        for i in ifaces:
            if i.neighbors == ALL_PEERS or not i.neighbors:
                continue
            for k, n in enumerate(i.neighbors):
                if not n.peer:
                    continue
                target = ids.get(resolve_ref(ids, n.peer, i.host))
                if target is None:
                    self.problem(f"{i.path}.neighbors[{k}].peer",
                                 f"{n.peer!r} names no interface; use an id such as host1/eth0, host1/ns:web/eth0 "
                                 "or station:gw")
                elif not target.addresses and n.address is None:
                    self.problem(f"{i.path}.neighbors[{k}].peer", f"{n.peer!r} has no address; give 'address' too")

    # end _Builder


# --------------------------------------------------------------------------- dumping
def _l3_dict(obj: _L3, resolved: bool) -> dict:
    d: dict[str, Any] = {}
    if obj.addresses or resolved:
        d["addresses"] = [str(a) for a in obj.addresses]
    if obj.neighbors == ALL_PEERS:
        d["neighbors"] = ALL_PEERS
    elif obj.neighbors:
        d["neighbors"] = [n.to_dict() for n in obj.neighbors]
    if obj.routes:
        d["routes"] = [r.to_dict() for r in obj.routes]
    return d


def _design_to_dict(design: Design, resolved: bool) -> dict:
    out: dict[str, Any] = {"version": FORMAT_VERSION, "name": design.name}
    if design.description:
        out["description"] = design.description
    hosts = []
    for h in design.hosts:
        hd: dict[str, Any] = {"name": h.name}
        if h.parents:
            hd["parents"] = []
            for p in h.parents:
                pd = {"name": p.name, "kind": p.kind, "mac": p.mac, "mtu": p.mtu, "state": p.state, **_l3_dict(p, resolved)}
                if p.uplink:
                    pd["uplink"] = p.uplink.to_dict()
                hd["parents"].append(pd)
        if h.children:
            hd["children"] = []
            for c in h.children:
                cd = {"name": c.name, "type": c.type, "parent": c.parent, "mode": c.mode}
                if c.mac_explicit or resolved:
                    cd["mac"] = c.mac
                if c.mtu_explicit:
                    cd["mtu"] = c.mtu
                cd["state"] = c.state
                if c.nopromisc:
                    cd["nopromisc"] = True
                if c.source_macs:
                    cd["source_macs"] = list(c.source_macs)
                if c.namespace:
                    cd["namespace"] = c.namespace
                cd.update(_l3_dict(c, resolved))
                hd["children"].append(cd)
        if h.bridges:
            hd["bridges"] = []
            for b in h.bridges:
                bd = {"name": b.name, "mac": b.mac, "mtu": b.mtu, "state": b.state, **_l3_dict(b, resolved), "ports": []}
                for bp in b.ports:
                    pd = {"name": bp.name, "hairpin": bp.hairpin}
                    if bp.enslave:
                        pd["enslave"] = True
                    if bp.peer:
                        pe = bp.peer
                        pd["peer"] = {"name": pe.name, "mac": pe.mac, "mtu": pe.mtu, "state": pe.state,
                                      **_l3_dict(pe, resolved)}
                        if pe.namespace:
                            pd["peer"]["namespace"] = pe.namespace
                    bd["ports"].append(pd)
                hd["bridges"].append(bd)
        hosts.append(hd)
    out["hosts"] = hosts
    out["switches"] = [{"name": s.name, "ports": [{"name": p.name, "hairpin": p.hairpin} for p in s.ports]}
                       for s in design.switches]
    out["stations"] = [{"name": s.name, "uplink": s.uplink.to_dict(), "mac": s.mac, **_l3_dict(s, resolved)}
                       for s in design.stations]
    if design.layout:
        out["layout"] = design.layout
    return out


def iter_children(design: Design) -> Iterable[Iface]:
    return (i for i in design.interfaces if i.is_child)
