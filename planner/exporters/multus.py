"""Kubernetes/Multus: a NetworkAttachmentDefinition per parent (CNI ``macvlan`` config) and the pods.

Built from the hosts as the compiled plan leaves them (:mod:`._guests`). Children in namespaces
are grouped by what a NAD fixes for every pod that uses it - the parent NIC (``master``), the
mode (always explicit), the MTU and the routes - so each group is one NAD:
``{"type": "macvlan", "master", "mode", "mtu", "capabilities": {"ips": true, "mac": true},
"ipam": {"type": "host-local", "ranges": [[{"subnet": ...}, ...]], "routes": [...]}}``.
Each namespace is a pod pinned to its host's node (``nodeName``; see :mod:`._k8s` for node
names) whose ``k8s.v1.cni.cncf.io/networks`` annotation asks for each child by ``interface`` name
with its ``ips`` and ``mac`` - Multus hands them to the plugin as ``runtimeConfig``, so the pod
gets exactly the planned address and MAC. ``multus.yaml`` holds the NADs, then the pods (their
image and command are placeholders). Every NAD carries the annotations ``mvplan/design`` and
``mvplan/outside`` (the switches and stations, see :mod:`planner.importers.outside`).

What a NAD cannot express is a warning, in the file and in the result: children in the host's own
namespace, macvtap, source mode, nopromisc, bcqueuelen, links that stay down, static neighbours,
more than one address, routes without a gateway (host-local's gateway, the subnet's first address,
takes them), a child named ``eth0`` (the pod's cluster interface), other links in a namespace, and
the NICs' own settings.
"""
from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import yaml

from planner.core.compiler import Plan
from planner.core.model import Design
from planner.importers.kubernetes import DESIGN_ANNOTATION, NETWORKS_ANNOTATION
from planner.importers.outside import K8S_ANNOTATION, encode_outside, outside_fragment

from ._common import GENERATOR, ExportResult, comment_text, external_notes, plan_and_hosts, plan_notes, slug
from ._guests import GuestIface, host_guests, ipv4_only
from ._k8s import node_name, pod_name

__all__ = ["export_multus", "cni_config", "NAD_NAMESPACE"]

NAD_NAMESPACE = "default"
CNI_VERSION = "0.4.0"


@dataclass
class _Nad:
    name: str
    master: str
    mode: str
    mtu: int | None
    routes: tuple[tuple[str, str | None], ...]
    subnets: list[str] = field(default_factory=list)


def cni_config(nad: _Nad) -> dict:
    """The CNI macvlan config of one NAD (what ``spec.config`` holds, as a dict)."""
    conf: dict = {"cniVersion": CNI_VERSION, "name": nad.name, "type": "macvlan", "master": nad.master,
                  "mode": nad.mode}
    if nad.mtu is not None:
        conf["mtu"] = nad.mtu
    conf["capabilities"] = {"ips": True, "mac": True}
    ipam: dict = {"type": "host-local", "ranges": [[{"subnet": s} for s in nad.subnets]]} if nad.subnets else {}
    if nad.routes:
        ipam["routes"] = [{"dst": to, **({"gw": via} if via else {})} for to, via in nad.routes]
    conf["ipam"] = ipam
    return conf


class _Export:
    def __init__(self, design: Design, plan: Plan, node_names: Mapping[str, str] | None):
        self.design, self.plan, self.node_names = design, plan, node_names
        self.warnings: list[str] = []
        self.nads: dict[tuple, _Nad] = {}
        self.pods: list[dict] = []
        self.pod_names: set[str] = set()
        self.nad_names: set[str] = set()

    def warn(self, text: str) -> None:
        if text not in self.warnings:
            self.warnings.append(text)

    def ipv4(self, gi: GuestIface) -> GuestIface:
        kept, note = ipv4_only(gi, "Multus (host-local IPAM)")
        if note:
            self.warn(note)
        return kept

    def usable(self, gi: GuestIface) -> bool:
        if gi.kind == "macvtap":
            self.warn(f"{gi.iid}: the CNI macvlan plugin creates macvlan interfaces only; the macvtap {gi.name} is "
                      "not exported")
            return False
        if gi.mode == "source":
            self.warn(f"{gi.iid}: the CNI macvlan plugin has no source mode; {gi.name} is not exported")
            return False
        for flag, what in ((gi.nopromisc, "nopromisc"), (gi.bcqueuelen is not None, "bcqueuelen")):
            if flag:
                self.warn(f"{gi.iid}: the CNI macvlan plugin has no {what} setting; not applied")
        if gi.state == "down":
            self.warn(f"{gi.iid}: the CNI plugin brings the interface up; the design keeps {gi.name} down")
        if gi.neighbors:
            self.warn(f"{gi.iid}: a NAD has no static neighbour entries; add them in the pod: " + "; ".join(
                f"ip neigh replace {n.address} lladdr {n.mac} dev {gi.name} nud permanent" for n in gi.neighbors))
        if len(gi.addresses) > 1:
            self.warn(f"{gi.iid}: one address per attachment; {', '.join(gi.addresses[1:])} are not exported")
        if not gi.addresses:
            self.warn(f"{gi.iid}: the design gives {gi.name} no address; host-local assigns the next free one")
        return True

    def nad_for(self, gi: GuestIface) -> _Nad:
        routes = []
        for r in gi.routes:
            if r.via is None:
                self.warn(f"{gi.iid}: route {r.to} has no gateway; host-local gives every route without one the "
                          "subnet's first address as gateway, so it is exported through that")
            routes.append((r.to, r.via))
        key = (gi.parent, gi.mode, gi.mtu, tuple(routes))
        nad = self.nads.get(key)
        if nad is None:
            base = slug(f"{gi.parent}-{gi.mode}" + (f"-mtu{gi.mtu}" if gi.mtu else ""), "macvlan")
            name, k = base, 1
            while name in self.nad_names:
                k += 1
                name = f"{base}-{k}"
            self.nad_names.add(name)
            nad = self.nads[key] = _Nad(name=name, master=gi.parent, mode=gi.mode, mtu=gi.mtu, routes=tuple(routes))
        if gi.addresses:
            subnet = str(ipaddress.IPv4Interface(gi.addresses[0]).network)
            if subnet not in nad.subnets:
                nad.subnets.append(subnet)
        if gi.declared != gi.parent:
            self.warn(f"{gi.iid}: declared on {gi.declared}, which is itself a macvlan; the kernel puts it on "
                      f"{gi.parent}, and so does the NAD")
        return nad

    def host(self, host: str) -> None:
        view = host_guests(self.design, self.plan, host)
        node, why = node_name(host, self.node_names)
        if why:
            self.warn(why)
        self.warnings[:0] = [n for n in plan_notes(self.plan, host) if n not in self.warnings]
        for gi in view.host_children:
            self.warn(f"{gi.iid}: a NAD attaches interfaces to pods only; a child in the host's own namespace is not "
                      "exported (use the nmstate/NNCP, networkd or iproute2 export)")
        for other in view.host_others:
            self.warn(f"{other}: Multus does not create host bridges or veths; not exported")
        for nic, (mtu, addrs) in view.nic_config.items():
            if mtu is not None or addrs:
                self.warn(f"{host}/{nic}: a NAD does not configure the parent NIC; set it with an NNCP (mvplan "
                          "export -f nmstate --kubernetes)")
        for guest in view.guests:
            if guest.forwarding:
                self.warn(f"{host}/ns:{guest.namespace}: the pod must forward; a NAD cannot say so - allow the sysctl "
                          "and set it in the pod (securityContext.sysctls: net.ipv4.ip_forward=1)")
            for other in guest.others:
                self.warn(f"{other}: Multus attaches only macvlan interfaces here; not exported")
            selections = []
            for k, gi in enumerate(x for x in map(self.ipv4, guest.ifaces) if self.usable(x)):
                nad = self.nad_for(gi)
                ifname = gi.name
                if ifname == "eth0":
                    ifname = f"net{k + 1}"
                    self.warn(f"{gi.iid}: eth0 is the pod's cluster-network interface; Multus attaches this one as "
                              f"{ifname}")
                sel: dict = {"name": nad.name, "namespace": NAD_NAMESPACE, "interface": ifname}
                if gi.addresses:
                    sel["ips"] = [gi.addresses[0]]
                if gi.mac:
                    sel["mac"] = gi.mac
                selections.append(sel)
            if not selections:
                continue
            pod, why = pod_name(guest.namespace, self.pod_names)
            if why:
                self.warn(f"{host}/ns:{guest.namespace}: {why}")
            self.pods.append({
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": pod, "namespace": NAD_NAMESPACE,
                             "annotations": {NETWORKS_ANNOTATION: json.dumps(selections, separators=(",", ":"))}},
                "spec": {"nodeName": node, "containers": [{"name": "main", "image": "busybox",
                                                            "command": ["sleep", "infinity"]}]}})

    def nad_documents(self, hosts: list[str]) -> list[dict]:
        outside = encode_outside(outside_fragment(self.design, hosts))
        return [{"apiVersion": "k8s.cni.cncf.io/v1", "kind": "NetworkAttachmentDefinition",
                 "metadata": {"name": nad.name, "namespace": NAD_NAMESPACE,
                              "annotations": {DESIGN_ANNOTATION: self.design.name, K8S_ANNOTATION: outside}},
                 "spec": {"config": json.dumps(cni_config(nad), indent=2)}}
                for nad in self.nads.values()]


def export_multus(design: Design, *, plan: Plan | None = None, hosts: Iterable[str] | None = None,
                  node_names: Mapping[str, str] | None = None, check: bool = True) -> ExportResult:
    """``multus.yaml``: the NADs, then one pod per namespace."""
    plan, hosts_chosen = plan_and_hosts(design, plan, hosts, check)
    chosen = [h.name for h in hosts_chosen]
    ex = _Export(design, plan, node_names)
    for h in chosen:
        ex.host(h)
    head = [f"# {GENERATOR}: Multus NetworkAttachmentDefinitions (CNI macvlan) and pods",
            f"# design: {design.name}",
            "# kubectl apply -f multus.yaml  (the pods' image and command are placeholders)"]
    head += [f"# WARNING: {w}" for w in ex.warnings]
    head += [f"# note: {n}" for h in chosen for n in external_notes(design, h)]
    docs = ex.nad_documents(chosen) + ex.pods
    body = "".join("---\n" + yaml.safe_dump(d, sort_keys=False, default_flow_style=False, allow_unicode=True,
                                            width=1000) for d in docs)
    return ExportResult(files={"multus.yaml": "\n".join(comment_text(x) for x in head) + "\n" + body},
                        warnings=ex.warnings)
