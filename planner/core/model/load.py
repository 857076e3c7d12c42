"""A document -> the frozen model: schema validation, value parsing, defaults, then the flat view.

Defaults are resolved here so that every consumer sees the same explicit values:

* a child's ``mode`` defaults to :data:`planner.core.schema.DEFAULT_MODE` (``bridge``);
* every interface without a MAC gets a stable, locally administered one derived from its id
  (so plans are deterministic and static neighbours can name peers); a passthru child takes
  its parent's MAC, as the kernel does;
* MTU defaults to 1500 (a child: its parent's), state to ``up``, type to ``macvlan``.

:class:`~planner.core.errors.DesignError` lists every problem found, each with its path in
the document (``hosts[0].children[3].parent``) and what is allowed there.
"""
from __future__ import annotations

import copy
import hashlib
import ipaddress
import re
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..errors import DesignError, InputProblem
from ..gcpause import without_gc_pauses
from ..ids import iface_id, station_id, switch_port_id
from ..schema import (
    DEFAULT_MODE,
    IFNAME_MAX_BYTES,
    IFNAME_PATTERN,
    MAC_PATTERN,
    MTU_MAX,
    MTU_MIN,
    NAME_MAX,
    NAME_PATTERN,
    design_schema,
)
from .flatten import Flattener
from .limits import LOCAL, UPLOAD, Sizes, check_document
from .ports import accepted_macs, allowed_mac_conflicts
from .quickcheck import Check, children_check, strip_accepted_children
from .shorthand import host_documents
from .text import parse_design_text, read_design_text
from .types import (
    ALL_PEERS,
    DEFAULT_MTU,
    Bridge,
    BridgePort,
    Child,
    Design,
    Host,
    Iface,
    Neighbors,
    Parent,
    Route,
    StaticNeighbor,
    Station,
    Switch,
    SwitchPort,
    Uplink,
    VethPeer,
)

__all__ = ["load_design", "design_from_text", "design_from_dict", "stable_mac"]


def load_design(source: str | Path) -> Design:
    """Load a design from a file path (the user's own file: :data:`.limits.LOCAL` sizes)."""
    return design_from_text(*read_design_text(source))


@without_gc_pauses  # the parsed document is one burst of objects that all stay (planner.core.gcpause)
def design_from_text(text: str, name: str = "") -> Design:
    """A design from the text of the user's own file (JSON or YAML by ``name`` and content;
    :data:`.limits.LOCAL` sizes)."""
    return _validated_design(parse_design_text(text, name, LOCAL))


@without_gc_pauses
def design_from_dict(doc: Any, *, sizes: Sizes = UPLOAD) -> Design:
    """Validate a document and build the model; raise :class:`DesignError` listing every problem.

    Whatever path the document took (a file, an upload, a JSON body, a Python caller), it first
    passes :func:`.limits.check_document`: sizes, depth, JSON types, 64-bit integers, no NaN, no
    lone surrogates. ``sizes`` is the server's :data:`.limits.UPLOAD` unless the caller passes
    :data:`.limits.LOCAL` for a document of the machine's owner (a file named on the command line)."""
    if not isinstance(doc, dict):
        raise DesignError(InputProblem("", "a design must be a mapping"))
    check_document(doc, sizes)
    return _validated_design(doc)


@without_gc_pauses
def _validated_design(doc: dict) -> Design:
    """The schema's verdict, then the model (``doc`` has passed :func:`.limits.check_document`)."""
    try:
        # compiled: ~50x faster on big designs than walking the schema; children it needs not see
        _fast_validator()(strip_accepted_children(doc, _child_check()))
    except Exception:  # noqa: BLE001 - any failure: let jsonschema name every problem precisely
        pass
    else:
        return _Builder(doc).build()
    import jsonschema  # the slow, precise validator: only for documents the fast one refuses

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

    # a copy: fastjsonschema rewrites the references of the schema it compiles in place, and the
    # schema is shared (``mvplan schema``, ``/api/schema``, the quick child check read it)
    return fastjsonschema.compile(copy.deepcopy(design_schema()))


@lru_cache(maxsize=1)
def _child_check() -> Check:
    """The schema's child definition as a quick accept (a few us a child instead of ~13)."""
    return children_check(design_schema()) or (lambda child: False)


def _dedupe(problems: list[InputProblem]) -> list[InputProblem]:
    seen, out = set(), []
    for p in problems:
        if (p.path, p.message) not in seen:
            seen.add((p.path, p.message))
            out.append(p)
    return out


_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
#: dotted decimal without leading zeros, and a prefix of one or two digits
_DOTTED_CIDR = re.compile(rf"{_OCTET}\.{_OCTET}\.{_OCTET}\.{_OCTET}/([0-9]{{1,2}})")


def _quick_cidr(text: str) -> ipaddress.IPv4Interface | None:
    """The common case, fast: a plain unicast ``a.b.c.d/n`` host address (anything else: None, and
    :meth:`_Builder.cidr` parses it and says what is wrong). ``ip_interface`` costs six times as much;
    one regular expression does the syntax (each loaded child has an address)."""
    m = _DOTTED_CIDR.fullmatch(text)
    if m is None:
        return None
    a, b, c, d, plen = m.groups()
    first, prefix = int(a), int(plen)
    if not 1 <= prefix <= 32 or first in (0, 127) or first >= 224:
        return None  # the slow path words the problem
    n = (first << 24) | (int(b) << 16) | (int(c) << 8) | int(d)
    host_bits = 32 - prefix
    host = n & ((1 << host_bits) - 1)
    if prefix < 31 and host in (0, (1 << host_bits) - 1):
        return None
    return _interface(n, prefix)


#: (network address, prefix) -> the network object, shared by every address in it
_NETWORKS: dict[tuple[int, int], ipaddress.IPv4Network] = {}


def _interface(n: int, prefix: int) -> ipaddress.IPv4Interface:
    """``IPv4Interface((n, prefix))`` at a third of the cost: the network object (the expensive
    part, and the same for every address of a subnet) is built once per subnet.
    ``tests/test_model.py`` checks the result equals the stdlib's in every attribute."""
    key = (n & ~((1 << (32 - prefix)) - 1) & 0xFFFFFFFF, prefix)
    net = _NETWORKS.get(key)
    if net is None:
        net = ipaddress.IPv4Network(key)
        if len(_NETWORKS) < 65536:
            _NETWORKS[key] = net
    iface = object.__new__(ipaddress.IPv4Interface)
    # the stdlib's own private slots, filled as IPv4Interface.__init__ fills them (tested)
    iface._ip = n  # type: ignore[attr-defined]
    iface.network = net
    iface.netmask = net.netmask
    iface._prefixlen = prefix  # type: ignore[attr-defined]
    return iface


def stable_mac(seed: str) -> str:
    """A locally administered unicast MAC derived from ``seed`` (stable across runs)."""
    return "02:" + hashlib.sha256(("mvplan:" + seed).encode()).digest()[:5].hex(":")


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
        if pat == IFNAME_PATTERN:
            return (f"{error.instance!r} is not a usable interface name: at most {IFNAME_MAX_BYTES} bytes, "
                    "letters, digits, '_', '.', '-', not starting with '-' or '.'")
        if pat == NAME_PATTERN:
            return f"{error.instance!r} is not a usable name: up to {NAME_MAX} letters, digits, '_', '.', '-'"
        if pat == MAC_PATTERN:
            return f"{error.instance!r} is not a MAC address; write six hex pairs like 02:00:00:00:00:01"
        return f"{error.instance!r} does not match {pat}"
    if v in ("minimum", "maximum"):
        return f"{error.instance!r} is out of range (MTU is {MTU_MIN}..{MTU_MAX})"
    if v == "oneOf" and error.instance != ALL_PEERS:
        return "neighbors must be the string 'all-peers' or a list of {peer} / {address, mac} entries"
    if v == "const":
        return f"must be {error.validator_value!r}"
    return error.message



class _Builder:
    """Turns a schema-valid document into a Design, collecting semantic problems."""

    def __init__(self, doc: dict):
        self.doc = doc
        self.problems: list[InputProblem] = []

    def problem(self, path: str, message: str) -> None:
        self.problems.append(InputProblem(path, message))

    # -- value parsers ----------------------------------------------------------------
    def cidrs(self, items, path) -> tuple[tuple[ipaddress.IPv4Interface, ...], tuple[ipaddress.IPv6Interface, ...]]:
        """The addresses of both families, in the order given, split into (IPv4, IPv6)."""
        v4: list[ipaddress.IPv4Interface] = []
        v6: list[ipaddress.IPv6Interface] = []
        for k, text in enumerate(items or ()):
            addr = _quick_cidr(text)
            if addr is not None:
                v4.append(addr)
                continue
            got = self.cidr(text, f"{path}[{k}]")
            if isinstance(got, ipaddress.IPv4Interface):
                v4.append(got)
            elif isinstance(got, ipaddress.IPv6Interface):
                v6.append(got)
        return tuple(v4), tuple(v6)

    def cidr(self, text, p: str) -> ipaddress.IPv4Interface | ipaddress.IPv6Interface | None:
        """One address with prefix, or None with a problem saying what is wrong with it."""
        if "/" not in text:
            self.problem(p, f"{text!r} needs a prefix length, e.g. {text}/{64 if ':' in text else 24}")
            return None
        try:
            addr = ipaddress.ip_interface(text)
        except ValueError:
            self.problem(p, f"{text!r} is not an address with prefix, e.g. 10.0.0.5/24 or 2001:db8::5/64")
            return None
        if isinstance(addr, ipaddress.IPv6Interface):
            return self.cidr6(addr, text, p)
        if addr.network.prefixlen < 31 and addr.ip in (addr.network.network_address, addr.network.broadcast_address):
            self.problem(p, f"{text!r} is the network or broadcast address of {addr.network}; pick a host address")
            return None
        if addr.ip.is_loopback or addr.ip.is_multicast or addr.ip.is_unspecified:
            self.problem(p, f"{text!r} is not a unicast host address")
            return None
        return addr

    def cidr6(self, addr: ipaddress.IPv6Interface, text: str, p: str) -> ipaddress.IPv6Interface | None:
        """An IPv6 address with prefix: global or unique-local unicast (link-local ones are automatic)."""
        ip = addr.ip
        if ip.is_link_local:
            self.problem(p, f"{text!r} is link-local: every interface has its automatic one (EUI-64 of its MAC); "
                            "list global or unique-local addresses (e.g. 2001:db8::5/64, fd00::5/64)")
            return None
        if ip.is_loopback or ip.is_multicast or ip.is_unspecified or ip.ipv4_mapped is not None:
            self.problem(p, f"{text!r} is not a unicast host address")
            return None
        if addr.network.prefixlen < 127 and ip == addr.network.network_address:
            self.problem(p, f"{text!r} is the subnet-router anycast address of {addr.network} (all host bits "
                            "zero); pick a host address such as ...::5")
            return None
        return addr

    def ip(self, text, path) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
        try:
            return ipaddress.ip_address(text)
        except ValueError:
            self.problem(path, f"{text!r} is not an IP address, e.g. 10.0.0.1 or 2001:db8::1")
            return None

    def mac(self, text, path) -> str:
        if not text:
            return ""
        m = text.lower()
        if int(m[:2], 16) & 1:
            self.problem(path, f"{text!r} is a multicast MAC (lowest bit of the first octet set); use a unicast one "
                               "such as 02:..")
        elif m == "00:00:00:00:00:00":
            self.problem(path, "00:00:00:00:00:00 is not a usable MAC")
        return m

    def routes(self, items, path) -> tuple[tuple[Route, ...], tuple[Route, ...]]:
        """Static routes split into (IPv4, IPv6); ``default`` takes the family of its gateway."""
        v4: list[Route] = []
        v6: list[Route] = []
        for k, r in enumerate(items or ()):
            p = f"{path}[{k}]"
            to = r["to"]
            via = self.ip(r["via"], f"{p}.via") if "via" in r else None
            if "via" in r and via is None:
                continue
            if to == "default":
                to = "::/0" if via is not None and via.version == 6 else "0.0.0.0/0"
            try:
                net = ipaddress.ip_network(to, strict=True)
            except ValueError as exc:
                self.problem(f"{p}.to", f"{to!r} is not a prefix ({exc}); e.g. 10.0.0.5/32, 2001:db8:1::/64, "
                                        "default or ::/0")
                continue
            if via is not None and via.version != net.version:
                self.problem(f"{p}.via", f"gateway {via} is IPv{via.version} but {to!r} is IPv{net.version}; "
                                         "a route's gateway has the family of its destination")
                continue
            if isinstance(via, ipaddress.IPv6Address) and via.is_link_local:
                self.problem(f"{p}.via", f"{via} is link-local; name the gateway's global or unique-local address")
                continue
            (v6 if net.version == 6 else v4).append(Route(net, via))
        return tuple(v4), tuple(v6)

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
        """The layer-3 fields of a record (most children have just addresses: those go straight)."""
        texts = d.get("addresses")
        if texts and len(texts) == 1 and (address := _quick_cidr(texts[0])) is not None:
            addresses: tuple = (address,)
            addresses6: tuple = ()
        else:
            addresses, addresses6 = self.cidrs(texts, f"{path}.addresses")
        if "routes" in d or "neighbors" in d:
            routes, routes6 = self.routes(d.get("routes"), f"{path}.routes")
            neighbors = self.neighbors(d.get("neighbors"), f"{path}.neighbors")
        else:
            routes = routes6 = neighbors = ()
        return dict(addresses=addresses, addresses6=addresses6, routes=routes, routes6=routes6,
                    neighbors=neighbors, forwarding=bool(d.get("forwarding", False)))

    @staticmethod
    def uplink(d) -> Uplink | None:
        if d is None:
            return None
        return Uplink(port=d["port"], switch=d.get("switch"), bridge=d.get("bridge"))

    # -- build ------------------------------------------------------------------------
    def build(self) -> Design:
        doc = self.doc
        host_docs, prefixes, problems = host_documents(doc)
        self.problems.extend(problems)
        hosts = tuple(self.host(h, prefix, implicit=not prefix) for h, prefix in zip(host_docs, prefixes, strict=True))
        switches = tuple(Switch(s["name"], tuple(self.switch_port(p, f"switches[{k}].ports[{j}]")
                                                 for j, p in enumerate(s.get("ports") or ())))
                         for k, s in enumerate(doc.get("switches") or ()))
        design = Design(name=str(doc.get("name") or "design"), description=str(doc.get("description") or ""),
                        hosts=hosts, switches=switches, stations=self.stations(doc.get("stations") or ()),
                        layout=dict(doc.get("layout") or {}))
        ifaces = Flattener(self.problems).run(design)
        self.check_port_security(switches, ifaces)
        if self.problems:
            raise DesignError(_dedupe(self.problems))
        return replace(design, interfaces=tuple(ifaces))

    def check_port_security(self, switches: tuple[Switch, ...], ifaces: list[Iface]) -> None:
        for mac, first, second in allowed_mac_conflicts(accepted_macs(switches, ifaces)):
            self.problems.append(InputProblem(
                _port_path(switches, second) + ".allowed_macs",
                f"{mac} is already accepted on {first} (listed there, or the MAC of the device cabled to it): "
                "port security admits a MAC on one port of a switch; list it on one port only"))

    def switch_port(self, p: dict, path: str) -> SwitchPort:
        allowed = p.get("allowed_macs")
        return SwitchPort(p["name"], bool(p.get("hairpin", False)), isolated=bool(p.get("isolated", False)),
                          allowed_macs=None if allowed is None else
                          tuple(self.mac(m, f"{path}.allowed_macs[{j}]") for j, m in enumerate(allowed)))

    def stations(self, items) -> tuple[Station, ...]:
        out = []
        for k, s in enumerate(items):
            p = f"stations[{k}]"
            out.append(Station(name=s["name"], uplink=self.uplink(s.get("uplink")),
                               mac=self.mac(s.get("mac", ""), f"{p}.mac") or stable_mac(station_id(s["name"])),
                               **self.l3(s, p)))
        return tuple(out)

    def host(self, h: dict, prefix: str, implicit: bool) -> Host:
        name = h["name"]
        parents = tuple(self.parent(name, p, f"{prefix}parents[{k}]") for k, p in enumerate(h.get("parents") or ()))
        children = tuple(self.child(name, c, f"{prefix}children[{k}]") for k, c in enumerate(h.get("children") or ()))
        bridges = tuple(self.bridge(name, b, f"{prefix}bridges[{k}]") for k, b in enumerate(h.get("bridges") or ()))
        return Host(name=name, parents=parents, children=children, bridges=bridges, implicit=implicit)

    def parent(self, host: str, p: dict, path: str) -> Parent:
        # a parent cabled to a host bridge port is the other end of that port's veth
        on_bridge = bool((p.get("uplink") or {}).get("bridge"))
        kind = p.get("kind", "veth" if on_bridge else "ethernet")
        if on_bridge and kind != "veth":
            self.problem(f"{path}.kind", f"{p['name']!r} is cabled to a port of host bridge "
                                         f"{p['uplink']['bridge']!r}, so it is the other end of a veth: write "
                                         f"kind: veth (or leave kind out); a {kind} NIC plugs into a switch port, or "
                                         "is enslaved to the bridge with enslave: true")
        return Parent(name=p["name"], kind=kind,
                      mac=self.mac(p.get("mac", ""), f"{path}.mac") or stable_mac(iface_id(host, p["name"])),
                      mtu=p.get("mtu", DEFAULT_MTU), mtu_explicit="mtu" in p, state=p.get("state", "up"),
                      uplink=self.uplink(p.get("uplink")), platform=p.get("platform", ""), **self.l3(p, path))

    def child(self, host: str, c: dict, path: str) -> Child:
        ns = c.get("namespace", "")
        text = c.get("mac")
        mac = self.mac(text, f"{path}.mac") if text else ""
        sources = c.get("source_macs")
        return Child(
            name=c["name"], type=c.get("type", "macvlan"), parent=c["parent"],
            mode=c.get("mode", DEFAULT_MODE), mac=mac or stable_mac(iface_id(host, c["name"], ns)),
            mac_explicit=bool(mac), mtu=c.get("mtu", DEFAULT_MTU), mtu_explicit="mtu" in c,
            state=c.get("state", "up"), nopromisc=bool(c.get("nopromisc", False)),
            source_macs=tuple(self.mac(m, f"{path}.source_macs[{j}]") for j, m in enumerate(sources))
            if sources else (),
            namespace=ns, **self.l3(c, path))

    def bridge(self, host: str, b: dict, path: str) -> Bridge:
        ports = tuple(self.bridge_port(host, bp, f"{path}.ports[{j}]") for j, bp in enumerate(b.get("ports") or ()))
        return Bridge(name=b["name"],
                      mac=self.mac(b.get("mac", ""), f"{path}.mac") or stable_mac(iface_id(host, b["name"])),
                      mtu=b.get("mtu", DEFAULT_MTU), state=b.get("state", "up"), ports=ports, **self.l3(b, path))

    def bridge_port(self, host: str, bp: dict, path: str) -> BridgePort:
        peer = None
        if bp.get("peer") is not None:
            pd = bp["peer"]
            pns = pd.get("namespace", "")
            peer = VethPeer(name=pd["name"], namespace=pns,
                            mac=(self.mac(pd.get("mac", ""), f"{path}.peer.mac")
                                 or stable_mac(iface_id(host, pd["name"], pns))),
                            mtu=pd.get("mtu", DEFAULT_MTU), state=pd.get("state", "up"), **self.l3(pd, f"{path}.peer"))
        if bp.get("enslave") and peer is not None:
            self.problem(f"{path}.peer", "an enslaved device has no veth peer; drop 'peer' or 'enslave'")
        return BridgePort(name=bp["name"], hairpin=bool(bp.get("hairpin", False)),
                          enslave=bool(bp.get("enslave", False)),
                          peer=peer, mac=stable_mac(iface_id(host, bp["name"])))


def _port_path(switches: tuple[Switch, ...], port: str) -> str:
    """``switches[K].ports[J]`` of a switch port id (for a problem's location)."""
    for k, sw in enumerate(switches):
        for j, p in enumerate(sw.ports):
            if switch_port_id(sw.name, p.name) == port:
                return f"switches[{k}].ports[{j}]"
    return "switches"
