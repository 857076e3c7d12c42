"""libvirt: ``<interface type='direct'>`` XML for the macvtap children, per guest.

Built from the host as the compiled plan leaves it (:mod:`._guests`). A namespace holding macvtap
children stands for a guest: ``<guest>.domain.xml`` is a minimal domain (name, memory, os, its
interfaces) to merge into the real one, and ``<guest>-<iface>.interface.xml`` each interface alone
(``virsh attach-device GUEST FILE --config``). Each interface says ``<source dev=PARENT
mode=MODE>`` in libvirt's words (``passthrough`` for passthru; always explicit, libvirt's default is
vepa), ``<mac address>`` (libvirt gives the macvtap the guest's MAC; for passthrough the NIC's own,
so libvirt changes nothing), ``<target dev>``, ``<mtu size>`` and ``<link state='down'/>`` for a
child the design keeps down.

libvirt does not know what the guest configures inside: the addresses, routes and neighbours of
each interface, with the outside fragment (see :mod:`planner.importers.outside`), go into the
domain's ``<metadata>`` (element ``plan`` of namespace ``https://mvplan.invalid/libvirt/v1``), which
libvirt keeps and ``mvplan import --from libvirt`` reads.

What libvirt cannot express is a warning, in the files and in the result: macvlan children (a
``direct`` interface is always a macvtap), source mode, nopromisc, bcqueuelen, a macvtap in the
host's own namespace (no guest), target names libvirt reserves (``vnet``, ``vif``, ``macvtap``,
``macvlan``), and everything not on a macvtap.
"""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from typing import Any

from planner.core.compiler import Plan
from planner.core.model import Design, design_to_dict
from planner.importers.libvirt import METADATA_NS, RESERVED_PREFIXES
from planner.importers.outside import outside_fragment

from ._common import GENERATOR, ExportResult, comment_text, external_notes, plan_and_hosts, plan_notes
from ._guests import GuestIface, host_guests

__all__ = ["export_libvirt", "interface_element"]

_MODES = {"vepa": "vepa", "bridge": "bridge", "private": "private", "passthru": "passthrough"}


def interface_element(gi: GuestIface, mac: str | None) -> ET.Element:
    """``<interface type='direct'>`` for one macvtap child."""
    el = ET.Element("interface", type="direct")
    if mac:
        ET.SubElement(el, "mac", address=mac)
    ET.SubElement(el, "source", dev=gi.parent, mode=_MODES[gi.mode])
    ET.SubElement(el, "target", dev=gi.name)
    ET.SubElement(el, "model", type="virtio")
    if gi.mtu is not None:
        ET.SubElement(el, "mtu", size=str(gi.mtu))
    if gi.state == "down":
        ET.SubElement(el, "link", state="down")
    return el


def _xml(el: ET.Element, comments: list[str]) -> str:
    ET.indent(el)
    body = ET.tostring(el, encoding="unicode")
    # an XML comment may not contain "--"
    head = "".join(f"<!-- {comment_text(c).replace('--', '- -')} -->\n" for c in comments)
    return head + body + "\n"


def _l3_of(design: Design) -> dict[str, dict[str, Any]]:
    """Each child's layer 3 as the design document writes it (peer references kept)."""
    out = {}
    doc = design_to_dict(design)
    for h in doc["hosts"]:
        for c in h.get("children", []):
            ns = c.get("namespace", "")
            iid = f"{h['name']}/ns:{ns}/{c['name']}" if ns else f"{h['name']}/{c['name']}"
            out[iid] = {k: c[k] for k in ("addresses", "neighbors", "routes") if c.get(k)}
    return out


class _HostExport:
    def __init__(self, design: Design, plan: Plan, host: str, prefix: str):
        self.design, self.plan, self.host, self.prefix = design, plan, host, prefix
        self.warnings: list[str] = list(plan_notes(plan, host))
        self.files: dict[str, str] = {}
        #: domain files are rendered last, when every warning of the host is known
        self.domains: dict[str, tuple[list[str], ET.Element]] = {}
        self.l3 = _l3_of(design)
        self.parent_mac = {p.name: p.mac for h in design.hosts if h.name == host for p in h.parents}

    def warn(self, text: str) -> None:
        if text not in self.warnings:
            self.warnings.append(text)

    def usable(self, gi: GuestIface) -> bool:
        if gi.kind != "macvtap":
            self.warn(f"{gi.iid}: a libvirt direct interface is a macvtap; the macvlan {gi.name} is not exported")
            return False
        if gi.mode == "source":
            self.warn(f"{gi.iid}: libvirt's direct modes are vepa, bridge, private and passthrough; source mode is "
                      f"not one: {gi.name} is not exported")
            return False
        for flag, what in ((gi.nopromisc, "nopromisc"), (gi.bcqueuelen is not None, "bcqueuelen")):
            if flag:
                self.warn(f"{gi.iid}: libvirt has no {what} setting; not applied")
        if gi.name.startswith(RESERVED_PREFIXES):
            self.warn(f"{gi.iid}: libvirt ignores target names starting with {'/'.join(RESERVED_PREFIXES)} and "
                      f"picks its own: {gi.name} will get another name")
        if gi.declared != gi.parent:
            self.warn(f"{gi.iid}: declared on {gi.declared}, which is itself a macvlan; the kernel puts it on "
                      f"{gi.parent}, and so does the export")
        return True

    def guest(self, guest_name: str, namespace: str, ifaces: list[GuestIface]) -> None:
        meta = {"host": self.host, "namespace": namespace, "design": self.design.name,
                "interfaces": {gi.name: self.l3.get(gi.iid, {}) for gi in ifaces},
                "outside": outside_fragment(self.design, [self.host])}
        domain = ET.Element("domain", type="kvm")
        ET.SubElement(domain, "name").text = guest_name
        md = ET.SubElement(domain, "metadata")
        ET.SubElement(md, f"{{{METADATA_NS}}}plan").text = json.dumps(meta, sort_keys=True)
        ET.SubElement(domain, "memory", unit="MiB").text = "512"
        os_el = ET.SubElement(domain, "os")
        ET.SubElement(os_el, "type", arch="x86_64").text = "hvm"
        devices = ET.SubElement(domain, "devices")
        head = [f"{GENERATOR}: libvirt domain skeleton for guest {guest_name}", f"design: {self.design.name}",
                f"host: {self.host}",
                "merge the <interface> elements (and <metadata>) into the real domain, or define it as is"]
        for gi in ifaces:
            mac = self.parent_mac.get(gi.parent) if gi.mode == "passthru" else gi.mac
            devices.append(interface_element(gi, mac))
            single = interface_element(gi, mac)
            self.files[f"{self.prefix}{guest_name}-{gi.name}.interface.xml"] = _xml(single, [
                f"{GENERATOR}: {gi.iid}",
                f"virsh attach-device {guest_name} THIS-FILE (a running guest; virsh edit {guest_name} keeps it)"])
        ET.register_namespace("mvplan", METADATA_NS)
        self.domains[f"{self.prefix}{guest_name}.domain.xml"] = (head, domain)

    def build(self) -> None:
        view = host_guests(self.design, self.plan, self.host)
        for nic, (mtu, addrs) in view.nic_config.items():
            if mtu is not None or addrs:
                self.warn(f"{self.host}/{nic}: libvirt does not configure the parent NIC; not exported")
        for other in view.host_others:
            self.warn(f"{other}: not a macvtap; libvirt does not create it (not exported)")
        for gi in view.host_children:
            if self.usable(gi):
                self.warn(f"{gi.iid}: a macvtap in the host's own namespace has no guest; exported as guest "
                          f"{gi.name} (the import reads it back into namespace {gi.name})")
                self.guest(gi.name, "", [gi])
        for guest in view.guests:
            if guest.forwarding:
                self.warn(f"{view.host}/ns:{guest.namespace}: the guest must forward; libvirt does not configure "
                          "the guest's kernel - set net.ipv4.ip_forward=1 inside it")
            for other in guest.others:
                self.warn(f"{other}: not a macvtap; libvirt does not create it (not exported)")
            ifaces = [gi for gi in guest.ifaces if self.usable(gi)]
            if ifaces:
                self.guest(guest.namespace, guest.namespace, ifaces)

    def render(self) -> dict[str, str]:
        notes = [f"note: {n}" for n in external_notes(self.design, self.host)]
        out = {name: _xml(domain, head + [f"WARNING: {w}" for w in self.warnings] + notes)
               for name, (head, domain) in self.domains.items()}
        out.update(self.files)
        return out


def export_libvirt(design: Design, *, plan: Plan | None = None, hosts: Iterable[str] | None = None,
                   check: bool = True) -> ExportResult:
    """Per guest ``<guest>.domain.xml`` and ``<guest>-<iface>.interface.xml`` (in ``<host>/`` when the
    design has several hosts)."""
    plan, chosen = plan_and_hosts(design, plan, hosts, check)
    files: dict[str, str] = {}
    warnings: list[str] = []
    multi = len(design.hosts) > 1
    for h in chosen:
        he = _HostExport(design, plan, h.name, f"{h.name}/" if multi else "")
        he.build()
        warnings += he.warnings
        files.update(he.render())
        if not he.domains and he.warnings:
            lines = [f"# {GENERATOR}: libvirt export of design {design.name}, host {h.name}: no macvtap guests"]
            files[f"{h.name}/README.txt" if multi else "README.txt"] = "\n".join(
                comment_text(x) for x in lines + [f"# WARNING: {w}" for w in he.warnings]) + "\n"
    return ExportResult(files=files, warnings=warnings)
