"""nmstate desired-state YAML, or one Kubernetes NodeNetworkConfigurationPolicy per host.

The state is the host as the compiled plan leaves it (the same op list as every other back end,
replayed by :func:`planner.core.compiler.simulate`), written in nmstate's schema (nmstate.io YAML API):

* ``type: mac-vlan`` / ``mac-vtap`` with ``mac-vlan: {base-iface, mode, promiscuous}`` - mode
  always explicit, ``promiscuous`` is the inverse of mvplan's ``nopromisc``;
* ``type: linux-bridge`` with ``bridge.port[].stp-hairpin-mode`` for hairpin;
* ``type: veth`` with ``veth.peer``;
* ``ipv4.address`` in design order, ``routes.config`` for static routes.

nmstate has no network namespaces, no static ARP entries, no source-MAC lists and no
bcqueuelen: each such thing becomes a warning, in the file and in the result - never silently
dropped. A NIC mvplan does not create is listed by name only (nmstate keeps what a desired
state does not mention), with the addresses the design gives it.
"""
from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping

import yaml

from planner.core.compiler import Plan
from planner.core.model import Design
from planner.core.ops import CreateMacvlan

from ._common import (
    GENERATOR,
    ExportResult,
    comment_text,
    external_notes,
    final_host,
    iface_of,
    plan_and_hosts,
    plan_notes,
    slug,
)
from ._k8s import node_name

__all__ = ["export_nmstate", "host_state"]

_TYPES = {"macvlan": "mac-vlan", "macvtap": "mac-vtap", "bridge": "linux-bridge", "veth": "veth"}


def _family(addresses: list[str], version: int) -> dict:
    """nmstate's ``ipv4`` or ``ipv6`` section: static addresses of that family, no DHCP/autoconf."""
    out = []
    for a in addresses:
        i = ipaddress.ip_interface(a)
        if i.version == version:
            out.append({"ip": str(i.ip), "prefix-length": i.network.prefixlen})
    if not out:
        return {"enabled": False}
    got: dict = {"enabled": True, "dhcp": False, "address": out}
    if version == 6:
        got["autoconf"] = False
    return got


def _configured(root, lk, ports: set[str]) -> bool:
    """Whether the design says anything about a NIC beyond carrying children."""
    return bool(lk.mtu or root.addresses_of(lk.name) or root.routes_of(lk.name) or root.neighbors_of(lk.name)
                or lk.state == "down" or lk.name in ports)


def host_state(design: Design, plan: Plan, host: str, notes: list[str] | None = None) -> tuple[dict, list[str]]:
    """(nmstate desired state, warnings) for one host; ``notes`` collects what is left out on purpose."""
    final = final_host(design, plan, host)
    warnings: list[str] = plan_notes(plan, host)
    notes = notes if notes is not None else []
    bcq = {op.subject: op.bcqueuelen for op in plan.for_host(host).ops
           if isinstance(op, CreateMacvlan) and op.bcqueuelen is not None}
    root = final.ns("")
    for ns in final.namespaces:
        if ns.name == "":
            continue
        for lk in ns.links:
            warnings.append(f"{iface_of(design, host, ns.name, lk)}: nmstate has no network namespaces; "
                            f"{lk.name} (namespace {ns.name}) is not configured - use the iproute2 export or a "
                            "CNI plugin (e.g. Multus macvlan) for it")
    interfaces: list[dict] = []
    routes: list[dict] = []
    enslaved = {p.name for p in root.links if p.master}
    for lk in root.links:
        iid = iface_of(design, host, "", lk)
        if lk.kind is None and not _configured(root, lk, enslaved):
            # a NIC that only carries children: listing it would make nmstate write a profile for it
            # from what the design says (nothing), replacing its own - e.g. IPv6 and DHCP disabled
            notes.append(f"{iid}: not listed, so nmstate leaves {lk.name} as it is (the design expects it up)")
            continue
        if lk.kind is None:
            warnings.append(f"{iid}: listed because the design configures it; nmstate applies this entry on top of "
                            f"{lk.name}'s current profile (settings not given, such as IPv6, stay as they are on "
                            "'nmstatectl apply'; 'nmstatectl gc' has no current profile and writes them disabled)")
        if lk.kind == "veth" and (lk.link_ns or ""):
            warnings.append(f"{iid}: its veth peer {lk.link} lives in namespace {lk.link_ns}, which nmstate cannot "
                            f"express; {lk.name} is not configured")
            continue
        d: dict = {"name": lk.name}
        if lk.kind:
            d["type"] = _TYPES.get(lk.kind, lk.kind)
        d["state"] = lk.state or "up"
        if lk.kind and lk.mac:
            d["mac-address"] = lk.mac.upper()
        if lk.mtu:  # a NIC's MTU is in the final state only when the design sets it
            d["mtu"] = lk.mtu
        if lk.kind in ("macvlan", "macvtap"):
            key = _TYPES[lk.kind]
            d[key] = {"base-iface": lk.link, "mode": lk.mode, "promiscuous": not lk.nopromisc}
            if lk.source_macs:
                warnings.append(f"{iid}: nmstate cannot list the source MACs of a source-mode {lk.kind} "
                                f"({', '.join(lk.source_macs)}); set them after apply with "
                                f"'ip link set dev {lk.name} type {lk.kind} macaddr set ...'")
            if iid in bcq:
                warnings.append(f"{iid}: nmstate has no bcqueuelen; {bcq[iid]} is not applied")
        elif lk.kind == "veth":
            d["veth"] = {"peer": lk.link}
        elif lk.kind == "bridge":
            ports = [p for p in root.links if p.master == lk.name and not (p.kind == "veth" and (p.link_ns or ""))]
            d["bridge"] = {"options": {"stp": {"enabled": False}},
                           "port": [{"name": p.name, "stp-hairpin-mode": bool(p.hairpin)} for p in ports]}
        addrs = root.addresses_of(lk.name)
        if addrs or lk.kind:
            d["ipv4"] = _family(addrs, 4)
            v6 = _family(addrs, 6)
            if lk.kind or v6["enabled"]:
                d["ipv6"] = v6
        neigh = root.neighbors_of(lk.name)
        if neigh:
            warnings.append(f"{iid}: nmstate has no static neighbour entries; add them after apply: " + "; ".join(
                f"ip neigh replace {n.address} lladdr {n.mac} dev {lk.name} nud permanent" for n in neigh))
        for r in root.routes_of(lk.name):
            rd = {"destination": r.to, "next-hop-interface": lk.name}
            if r.via:
                rd["next-hop-address"] = r.via
            routes.append(rd)
        interfaces.append(d)
    if root.forwarding:
        warnings.append(f"{host}: nmstate sets no sysctls, and the design has the host namespace forward; after "
                        "apply: sysctl -w net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 (persist it in "
                        "/etc/sysctl.d)")
    state: dict = {"interfaces": interfaces}
    if routes:
        state["routes"] = {"config": routes}
    return state, warnings


def _dump(doc: dict) -> str:
    return yaml.safe_dump(doc, sort_keys=False, default_flow_style=False, allow_unicode=True, width=100)


def export_nmstate(design: Design, *, plan: Plan | None = None, kubernetes: bool | None = None,
                   hosts: Iterable[str] | None = None, node_names: Mapping[str, str] | None = None,
                   check: bool = True) -> ExportResult:
    """``<host>.nmstate.yml`` per host, or with ``kubernetes`` (the default for multi-host designs)
    ``<host>.nncp.yaml``: a NodeNetworkConfigurationPolicy selecting the node by
    ``kubernetes.io/hostname`` - the host's name, or ``node_names[host]``; a host that is no
    Kubernetes node name is refused (:class:`~planner.exporters._k8s.NodeNameError`), an uppercase one
    lowercased with a warning."""
    plan, chosen = plan_and_hosts(design, plan, hosts, check)
    k8s = len(design.hosts) > 1 if kubernetes is None else kubernetes
    files: dict[str, str] = {}
    all_warnings: list[str] = []
    nodes = {h.name: node_name(h.name, node_names) for h in chosen} if k8s else {}
    for h in chosen:
        notes: list[str] = []
        state, warnings = host_state(design, plan, h.name, notes)
        if k8s and nodes[h.name][1]:
            warnings.insert(0, str(nodes[h.name][1]))
        all_warnings += warnings
        head = [f"# {GENERATOR}: nmstate desired state", f"# design: {design.name}", f"# host: {h.name}"]
        head += [f"# WARNING: {w}" for w in warnings]
        head += [f"# note: {n}" for n in notes + external_notes(design, h.name)]
        head = [comment_text(x) for x in head]
        if k8s:
            doc = {"apiVersion": "nmstate.io/v1", "kind": "NodeNetworkConfigurationPolicy",
                   "metadata": {"name": slug(f"{design.name}-{nodes[h.name][0]}")},
                   "spec": {"nodeSelector": {"kubernetes.io/hostname": nodes[h.name][0]}, "desiredState": state}}
            files[f"{h.name}.nncp.yaml"] = "\n".join(head) + "\n" + _dump(doc)
        else:
            files[f"{h.name}.nmstate.yml"] = "\n".join(head) + "\n---\n" + _dump(state)
    return ExportResult(files=files, warnings=all_warnings)
