"""Assembling a design document from what an importer found, and the parsing every importer shares.

Importers call :class:`DesignBuilder` (hosts, parents, children, switch ports, stations, the outside
fragment) and it writes the format-v1 document in one place, so every importer names and dedupes
things the same way.
"""
from __future__ import annotations

import ipaddress
import json
import re
from typing import Any

import yaml

from planner.core.errors import InputProblem
from planner.core.model.text import _StrictLoader
from planner.core.schema import IFNAME_MAX_BYTES, IFNAME_RE, NAME_MAX, NAME_RE, name_ok

from ._result import ImportCode, ImportFailure, ImportWarning, Source
from .outside import decode_outside

__all__ = ["DesignBuilder", "parse_documents", "fit_name", "fit_ifname", "ipv4_interface", "VLAN_RE"]

#: ``eth0.50``: the form Docker and others use for "VLAN 50 on eth0"
VLAN_RE = re.compile(r"^(?P<base>.+)\.(?P<vid>[0-9]{1,4})$")
_BAD = re.compile(r"[^A-Za-z0-9_.-]+")


def fit_name(text: str, fallback: str = "x") -> str:
    """``text`` as a design object name (hosts, namespaces, switches, stations)."""
    s = _BAD.sub("-", text).lstrip("-._")[:NAME_MAX] or fallback
    return s if name_ok(NAME_RE, s) else fallback


def fit_ifname(text: str, fallback: str = "if0") -> str:
    """``text`` as an interface name (at most 15 bytes)."""
    s = _BAD.sub("-", text).lstrip("-._")[:IFNAME_MAX_BYTES] or fallback
    return s if name_ok(IFNAME_RE, s) else fallback


def ipv4_interface(text: object) -> ipaddress.IPv4Interface | None:
    """``10.0.0.5/24`` (or a bare address) as an IPv4 interface; None for IPv6 or garbage."""
    if not isinstance(text, str) or not text:
        return None
    try:
        addr = ipaddress.ip_interface(text.strip())
    except ValueError:
        return None
    return addr if isinstance(addr, ipaddress.IPv4Interface) else None


def parse_documents(src: Source) -> list[Any]:
    """Every document of a JSON or (multi-document) YAML file. YAML is read with the design loader's
    YAML 1.2-like scalars, so a MAC such as 02:42:00:11:00:02 stays a string."""
    text = src.text.lstrip("\ufeff")
    if not text.strip():
        raise ImportFailure(InputProblem(src.name, "the file is empty"))
    if text.lstrip()[:1] in "[{":
        try:
            return [json.loads(text)]
        except json.JSONDecodeError as exc:
            if src.name.endswith(".json"):
                raise ImportFailure(InputProblem(
                    src.name, f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}")) from None
    try:
        return [d for d in yaml.load_all(text, Loader=_StrictLoader) if d is not None]  # noqa: S506 - SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        loc = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
        raise ImportFailure(InputProblem(src.name, f"not valid YAML or JSON{loc}: {getattr(exc, 'problem', exc)}")) \
            from None


class DesignBuilder:
    """Collects hosts, parents, children, switch ports and stations; writes the document once.

    The outside fragment (:mod:`.outside`), when a file carries one, is authoritative for what is
    outside the hosts: its switches, stations and uplinks replace the derived ones (one switch per
    network, gateways as stations).
    """

    def __init__(self, *, name: str | None = None, host: str | None = None, default_host: str = "host"):
        self.name = name
        self.host_override = host
        self.default_host = default_host
        self.hosts: dict[str, dict[str, Any]] = {}
        self.switches: dict[str, dict[str, bool]] = {}
        self.stations: dict[str, dict[str, Any]] = {}
        self.warnings: list[ImportWarning] = []
        self.fragments: list[dict[str, Any]] = []
        self.design_names: list[str] = []

    # -- warnings ---------------------------------------------------------------------------
    def warn(self, code: ImportCode, source: str, where: str, message: str) -> None:
        w = ImportWarning(code, source, where, message)
        if w not in self.warnings:
            self.warnings.append(w)

    # -- names --------------------------------------------------------------------------------
    def host_name(self, *candidates: str | None) -> str:
        """The host to put things on: ``--host``, else the first candidate the file gives."""
        if self.host_override:
            return self.host_override
        for c in candidates:
            if c:
                return fit_name(c, self.default_host)
        return self.default_host

    # -- hosts ----------------------------------------------------------------------------------
    def host_doc(self, host: str) -> dict[str, Any]:
        return self.hosts.setdefault(host, {"name": host, "parents": {}, "children": []})

    def parent(self, host: str, name: str) -> dict[str, Any]:
        """The parent NIC ``name`` of ``host`` (created on first use)."""
        parents = self.host_doc(host)["parents"]
        return parents.setdefault(name, {"name": name})

    def has_child(self, host: str, namespace: str, name: str) -> bool:
        return any(c["name"] == name and c.get("namespace", "") == namespace
                   for c in self.host_doc(host)["children"])

    def child(self, host: str, child: dict[str, Any], source: str, where: str) -> bool:
        """Add a child (its parent must have been added); refuse a second one of the same name in
        the same namespace with a warning."""
        ns = child.get("namespace", "")
        if self.has_child(host, ns, child["name"]):
            self.warn(ImportCode.CONFLICT, source, where,
                      f"host {host} already has {child['name']}" + (f" in namespace {ns}" if ns else "")
                      + "; this one is not imported")
            return False
        self.parent(host, child["parent"])
        self.host_doc(host)["children"].append(child)
        return True

    def uplink(self, host: str, parent: str, switch: str, port: str, hairpin: bool = False) -> None:
        """Cable ``host``'s NIC ``parent`` to ``switch`` port ``port`` (first cable wins)."""
        p = self.parent(host, parent)
        if "uplink" not in p:
            p["uplink"] = {"switch": switch, "port": self.port(switch, port, hairpin)}

    def port(self, switch: str, port: str, hairpin: bool = False) -> str:
        ports = self.switches.setdefault(switch, {})
        ports[port] = ports.get(port, False) or hairpin
        return port

    def free_port(self, switch: str, base: str) -> str:
        """A port name on ``switch`` derived from ``base`` that is not taken yet."""
        taken = self.switches.get(switch, {})
        name = fit_ifname(base, "p1")
        k = 1
        while name in taken:
            k += 1
            tail = f"-{k}"
            name = fit_ifname(base, "p")[: IFNAME_MAX_BYTES - len(tail)] + tail
        return name

    def station(self, name: str, address: str, switch: str, source: str, where: str,
                mac: str | None = None, port: str | None = None) -> str | None:
        """An external machine at ``address`` on ``switch`` (one per address: the first wins); its
        name when it is new."""
        for s in self.stations.values():
            if address.split("/")[0] in (a.split("/")[0] for a in s["addresses"]):
                return None
        base = fit_name(name, "station")
        sname, k = base, 1
        while sname in self.stations:
            k += 1
            sname = f"{base}-{k}"
        uplink = {"switch": switch, "port": self.free_port(switch, port or sname)}
        doc: dict[str, Any] = {"name": sname, "uplink": uplink, "addresses": [address]}
        if mac:
            doc["mac"] = mac
        self.port(switch, doc["uplink"]["port"])
        self.stations[sname] = doc
        return sname

    # -- the outside fragment ---------------------------------------------------------------------
    def outside(self, text: object, source: str, where: str) -> None:
        """Read an outside fragment (see :mod:`.outside`) carried by a file's metadata."""
        frag, why = decode_outside(text)
        if frag is None:
            self.warn(ImportCode.UNSUPPORTED, source, where, f"the mvplan outside fragment {why}; ignored")
            return
        if frag not in self.fragments:
            self.fragments.append(frag)
        if isinstance(frag.get("design"), str) and frag["design"] not in self.design_names:
            self.design_names.append(frag["design"])

    # -- the document -----------------------------------------------------------------------------
    def document(self, fallback_name: str) -> dict[str, Any]:
        name = self.name or (self.design_names[0] if self.design_names else fallback_name)
        if self.fragments:  # the fragment says what is outside: nothing was derived after all
            self.warnings = [w for w in self.warnings if w.code != ImportCode.DERIVED]
        switches, stations = self._outside_world()
        hosts = []
        for h in self.hosts.values():
            hd: dict[str, Any] = {"name": h["name"]}
            parents = [dict(p) for p in h["parents"].values()]
            if self.fragments:
                cables = self._fragment_uplinks(h["name"])
                for p in parents:
                    p.pop("uplink", None)
                    if p["name"] in cables:
                        p["uplink"] = cables[p["name"]]
            if parents:
                hd["parents"] = parents
            if h["children"]:
                hd["children"] = h["children"]
            if h.get("bridges"):
                hd["bridges"] = h["bridges"]
            hosts.append(hd)
        return {"version": 1, "name": name, "hosts": hosts, "switches": switches, "stations": stations}

    def _fragment_uplinks(self, host: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for frag in self.fragments:
            for parent, up in (frag.get("uplinks", {}).get(host) or {}).items():
                out.setdefault(parent, up)
        return out

    def _outside_world(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        if not self.fragments:
            switches = [{"name": sw, "ports": [{"name": p, "hairpin": hp} if hp else {"name": p}
                                               for p, hp in ports.items()]}
                        for sw, ports in self.switches.items()]
            return switches, list(self.stations.values())
        switches_by: dict[str, dict[str, Any]] = {}
        stations_by: dict[str, dict[str, Any]] = {}
        for frag in self.fragments:
            for sw in frag.get("switches", []):
                if isinstance(sw, dict) and isinstance(sw.get("name"), str):
                    switches_by.setdefault(sw["name"], sw)
            for st in frag.get("stations", []):
                if isinstance(st, dict) and isinstance(st.get("name"), str):
                    stations_by.setdefault(st["name"], st)
        return list(switches_by.values()), list(stations_by.values())
