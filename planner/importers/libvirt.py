"""libvirt: domain XML with ``<interface type='direct'>`` -> macvtap children.

Each ``<interface type='direct'>`` of a domain is a macvtap on ``<source dev=...>`` in
``<source mode=...>`` - libvirt's default is ``vepa``, and libvirt spells passthru ``passthrough`` -
with the guest's ``<mac address>`` (libvirt gives the macvtap that MAC; in passthrough mode it puts
it on the NIC, so it becomes the NIC's MAC, which the passthru child takes), ``<target dev>`` as
its name (when absent libvirt picks ``macvtapN`` at start: warning ``guessed``), ``<mtu size>`` and
``<link state='down'/>``. The guest is a namespace named after the domain:
mvplan plans the macvtap as the guest's interface. libvirt does not know the guest's addresses;
mvplan's exporter keeps them, and the outside fragment, in the domain's ``<metadata>``
(element ``plan`` in namespace :data:`METADATA_NS`) and this importer reads them back. Without it
the children have no address (warning ``no-address``) and the NIC no cable.
"""
from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from typing import Any

from planner.core.errors import InputProblem

from ._build import VLAN_RE, DesignBuilder, fit_ifname, fit_name
from ._result import ImportCode, ImportFailure, Source

__all__ = ["import_libvirt", "METADATA_NS", "LIBVIRT_MODES", "RESERVED_PREFIXES"]

METADATA_NS = "https://mvplan.invalid/libvirt/v1"
#: libvirt's words -> the kernel's
LIBVIRT_MODES = {"vepa": "vepa", "bridge": "bridge", "private": "private", "passthrough": "passthru"}
#: target names libvirt ignores and replaces with its own (docs: "Overriding the target element")
RESERVED_PREFIXES = ("vnet", "vif", "macvtap", "macvlan")
_ENTITY = re.compile(r"<!(DOCTYPE|ENTITY)", re.IGNORECASE)


def _parse(src: Source) -> ET.Element:
    if _ENTITY.search(src.text):
        raise ImportFailure(InputProblem(src.name, "DOCTYPE/ENTITY declarations are not accepted in libvirt XML"))
    try:
        return ET.fromstring(src.text.lstrip("\ufeff"))
    except ET.ParseError as exc:
        raise ImportFailure(InputProblem(src.name, f"not well-formed XML: {exc}")) from None


def _metadata(domain: ET.Element, b: DesignBuilder, source: str) -> dict[str, Any]:
    el = domain.find(f"metadata/{{{METADATA_NS}}}plan")
    if el is None or not (el.text or "").strip():
        return {}
    try:
        meta = json.loads(el.text or "")
    except json.JSONDecodeError as exc:
        b.warn(ImportCode.UNSUPPORTED, source, "metadata/plan", f"mvplan metadata is not JSON ({exc.msg}); ignored")
        return {}
    if not isinstance(meta, dict):
        return {}
    if "outside" in meta:
        b.outside(json.dumps(meta["outside"]), source, "metadata/plan.outside")
    return meta


def _interface(b: DesignBuilder, host: str, ns: str, iface: ET.Element, k: int, meta: dict[str, Any],
               source: str, taken: set[str]) -> None:
    where = f"devices/interface[{k + 1}]"
    kind = iface.get("type")
    if kind != "direct":
        b.warn(ImportCode.NOT_MACVLAN, source, where,
               f"<interface type='{kind}'> is not a macvtap (type='direct'); not imported")
        return
    src = iface.find("source")
    dev = src.get("dev") if src is not None else None
    if not dev:
        b.warn(ImportCode.UNSUPPORTED, source, where, "<source dev=...> is missing; not imported")
        return
    m = VLAN_RE.match(dev)
    if m:
        b.warn(ImportCode.VLAN_PARENT, source, f"{where}/source", f"{dev} is VLAN {m['vid']} on {m['base']}; mvplan "
               "does not model VLANs yet, so it is planned as a NIC of its own that must exist")
    raw_mode = (src.get("mode") if src is not None else None) or "vepa"
    mode = LIBVIRT_MODES.get(raw_mode)
    if mode is None:
        b.warn(ImportCode.UNSUPPORTED, source, f"{where}/source", f"mode {raw_mode!r} is not a libvirt direct mode "
               f"({', '.join(LIBVIRT_MODES)}); vepa (libvirt's default) is used")
        mode = "vepa"
    target = iface.find("target")
    name = target.get("dev") if target is not None else None
    if not name:
        k2 = 0
        while f"macvtap{k2}" in taken:
            k2 += 1
        name = f"macvtap{k2}"
        b.warn(ImportCode.GUESSED, source, where, f"no <target dev>: libvirt names the macvtap at start; planned as "
               f"{name}")
    elif name.startswith(RESERVED_PREFIXES):
        b.warn(ImportCode.GUESSED, source, f"{where}/target", f"libvirt ignores target names starting with "
               f"{'/'.join(RESERVED_PREFIXES)} and picks its own; {name} is kept as the planned name")
    name = fit_ifname(name)
    taken.add(name)
    child: dict[str, Any] = {"name": name, "type": "macvtap", "parent": fit_ifname(dev), "mode": mode,
                             "namespace": ns}
    mac = iface.find("mac")
    if mac is not None and mac.get("address"):
        if mode == "passthru":  # libvirt puts the guest's MAC on the NIC, and the macvtap follows it
            b.parent(host, fit_ifname(dev))["mac"] = mac.get("address", "").lower()
        else:
            child["mac"] = mac.get("address", "").lower()
    mtu = iface.find("mtu")
    if mtu is not None and (mtu.get("size") or "").isdigit():
        child["mtu"] = int(mtu.get("size", "0"))
    link = iface.find("link")
    if link is not None and link.get("state") == "down":
        child["state"] = "down"
    for tag in ("virtualport", "vlan", "bandwidth", "filterref"):
        if iface.find(tag) is not None:
            b.warn(ImportCode.UNSUPPORTED, source, f"{where}/{tag}", f"<{tag}> is not modelled")
    l3 = (meta.get("interfaces") or {}).get(name) or {}
    for key in ("addresses", "routes", "neighbors"):
        if l3.get(key):
            child[key] = l3[key]
    if not child.get("addresses"):
        b.warn(ImportCode.NO_ADDRESS, source, where, f"libvirt does not know the guest's address on {name}; it is "
               "planned without one (add it in the design)")
    b.child(host, child, source, where)


def import_libvirt(sources: list[Source], b: DesignBuilder) -> str:
    for src in sources:
        root = _parse(src)
        domains = [root] if root.tag == "domain" else root.findall("domain")
        if not domains:
            raise ImportFailure(InputProblem(src.name, f"<{root.tag}> is not a libvirt domain; give the output of "
                                                       "'virsh dumpxml DOMAIN'"))
        for domain in domains:
            meta = _metadata(domain, b, src.name)
            dname = (domain.findtext("name") or "").strip()
            if not dname:
                b.warn(ImportCode.GUESSED, src.name, "name", "the domain has no <name>; named 'guest'")
            host = b.host_name(meta.get("host"))
            ns = fit_name(str(meta.get("namespace") or dname or "guest"), "guest")
            taken: set[str] = set()
            for k, iface in enumerate(domain.findall("devices/interface")):
                _interface(b, host, ns, iface, k, meta, src.name, taken)
    return "libvirt"
