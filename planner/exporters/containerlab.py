"""containerlab: a topology per host - a node per namespace, macvlan links, Linux bridges.

Built from the host as the compiled plan leaves it (:mod:`._guests`). Each namespace with
children is a ``kind: linux`` node (image ``busybox``, a placeholder with ``ip``); each child is a
``type: macvlan`` link (``endpoint: {node, interface, mac}``, ``host-interface``, ``mode`` - always
explicit - and ``mtu``); each bridge port whose veth peer lives in a namespace is a veth link to a
``kind: bridge`` node (containerlab expects that bridge to exist: create it first, e.g. with the
iproute2 export). Addresses, routes, static neighbours and links kept down are ``exec:`` lines of
their node (``ip addr add``, ``ip route add``, ``ip neigh replace ... nud permanent``, ``ip link set
dev X down``). ``topology.defaults.labels`` carries ``mvplan.design``, ``mvplan.host`` and
``mvplan.outside`` (the switches and stations, see :mod:`planner.importers.outside`).

What containerlab cannot express is a warning, in the file and in the result: children in the
host's own namespace, macvtap, source mode, nopromisc, bcqueuelen, the bridges' own settings
(addresses, hairpin, enslaved NICs, veth parents), and the NICs' own settings.
"""
from __future__ import annotations

from collections.abc import Iterable

import yaml

from planner.core.compiler import Plan
from planner.core.model import Design
from planner.importers.containerlab import HOST_LABEL
from planner.importers.docker import DESIGN_LABEL
from planner.importers.outside import DOCKER_LABEL, encode_outside, outside_fragment

from ._common import GENERATOR, ExportResult, comment_text, external_notes, plan_and_hosts, plan_notes, slug
from ._guests import GuestIface, host_guests

__all__ = ["export_containerlab"]


def _exec_lines(name: str, addresses: Iterable[str], routes, neighbors, state: str) -> list[str]:
    lines = [f"ip addr add {a} dev {name}" for a in addresses]
    lines += [f"ip neigh replace {n.address} lladdr {n.mac} dev {name} nud permanent" for n in neighbors]
    if state == "down":
        lines.append(f"ip link set dev {name} down")
    else:
        lines += [f"ip route add {'default' if r.to == '0.0.0.0/0' else r.to}" + (f" via {r.via}" if r.via else "")
                  + f" dev {name}" for r in routes]
    return lines


class _HostExport:
    def __init__(self, design: Design, plan: Plan, host: str):
        self.design, self.plan, self.host = design, plan, host
        self.warnings: list[str] = list(plan_notes(plan, host))
        self.nodes: dict[str, dict] = {}
        self.links: list[dict] = []

    def warn(self, text: str) -> None:
        if text not in self.warnings:
            self.warnings.append(text)

    def node(self, name: str, kind: str = "linux") -> dict:
        return self.nodes.setdefault(name, {"kind": kind, "image": "busybox"} if kind == "linux" else {"kind": kind})

    def child(self, gi: GuestIface) -> None:
        if gi.kind == "macvtap":
            self.warn(f"{gi.iid}: containerlab has macvlan links only; the macvtap {gi.name} is not exported")
            return
        if gi.mode == "source":
            self.warn(f"{gi.iid}: a containerlab macvlan link cannot list source MACs; {gi.name} (source mode) is not "
                      "exported")
            return
        for flag, what in ((gi.nopromisc, "nopromisc"), (gi.bcqueuelen is not None, "bcqueuelen")):
            if flag:
                self.warn(f"{gi.iid}: containerlab has no {what} setting for macvlan links; not applied")
        if gi.declared != gi.parent:
            self.warn(f"{gi.iid}: declared on {gi.declared}, which is itself a macvlan; the kernel puts it on "
                      f"{gi.parent}, and so does the export")
        node = self.node(gi.namespace)
        endpoint: dict = {"node": gi.namespace, "interface": gi.name}
        if gi.mac:
            endpoint["mac"] = gi.mac
        link: dict = {"type": "macvlan", "endpoint": endpoint, "host-interface": gi.parent, "mode": gi.mode}
        if gi.mtu is not None:
            link["mtu"] = gi.mtu
        self.links.append(link)
        node.setdefault("exec", []).extend(_exec_lines(gi.name, gi.addresses, gi.routes, gi.neighbors, gi.state))

    def bridges(self) -> None:
        """Bridge ports whose peers live in namespaces: veth links from a bridge node to the node."""
        for h in self.design.hosts:
            if h.name != self.host:
                continue
            for br in h.bridges:
                if br.addresses or br.routes or br.neighbors:
                    self.warn(f"{self.host}/{br.name}: containerlab does not configure the bridge itself (addresses, "
                              "routes); set it up before deploying")
                for port in br.ports:
                    pid = f"{self.host}/{port.name}"
                    if port.hairpin:
                        self.warn(f"{pid}: containerlab does not set hairpin on bridge ports; run 'bridge link set "
                                  f"dev {port.name} hairpin on' after deploying")
                    if port.peer is None or not port.peer.namespace:
                        self.warn(f"{pid}: only bridge ports whose veth peer lives in a namespace are containerlab "
                                  "links; this one is not exported")
                        continue
                    pe = port.peer
                    self.node(br.name, "bridge")
                    node = self.node(pe.namespace)
                    peer_ep: dict = {"node": pe.namespace, "interface": pe.name, "mac": pe.mac}
                    link: dict = {"type": "veth", "endpoints": [{"node": br.name, "interface": port.name}, peer_ep]}
                    if pe.mtu != 1500:
                        link["mtu"] = pe.mtu
                    self.links.append(link)
                    live = self.design.iface(f"{self.host}/ns:{pe.namespace}/{pe.name}")
                    routes = [_Route(r.to, r.via) for r in pe.routes]
                    neighbors = [_Neigh(str(a), m) for a, m in self.design.static_neighbors(live)]
                    node.setdefault("exec", []).extend(_exec_lines(pe.name, [str(a) for a in pe.addresses], routes,
                                                                   neighbors, pe.state))

    def build(self) -> None:
        view = host_guests(self.design, self.plan, self.host)
        for nic, (mtu, addrs) in view.nic_config.items():
            if mtu is not None or addrs:
                self.warn(f"{self.host}/{nic}: containerlab does not configure the host's NICs; not exported")
        for gi in view.host_children:
            self.warn(f"{gi.iid}: containerlab attaches macvlan links to nodes only; a child in the host's own "
                      "namespace is not exported")
        bridge_ids = {f"{self.host}/{p.name}" for h in self.design.hosts if h.name == self.host for b in h.bridges
                      for p in b.ports} | {f"{self.host}/{b.name}" for h in self.design.hosts if h.name == self.host
                                           for b in h.bridges}
        for other in view.host_others:
            if other not in bridge_ids:
                self.warn(f"{other}: containerlab does not create it; not exported")
        for guest in view.guests:
            for gi in guest.ifaces:
                self.child(gi)
            if guest.forwarding:
                self.node(guest.namespace).setdefault("exec", []).append(
                    "sysctl -q -e -w net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1")
        self.bridges()


class _Route:
    def __init__(self, to, via):
        self.to, self.via = str(to), (str(via) if via else None)


class _Neigh:
    def __init__(self, address: str, mac: str):
        self.address, self.mac = address, mac


def export_containerlab(design: Design, *, plan: Plan | None = None, hosts: Iterable[str] | None = None,
                        check: bool = True) -> ExportResult:
    """``<host>.clab.yml`` per host."""
    plan, chosen = plan_and_hosts(design, plan, hosts, check)
    files: dict[str, str] = {}
    warnings: list[str] = []
    multi = len(design.hosts) > 1
    for h in chosen:
        he = _HostExport(design, plan, h.name)
        he.build()
        warnings += he.warnings
        labels = {DESIGN_LABEL: design.name, HOST_LABEL: h.name,
                  DOCKER_LABEL: encode_outside(outside_fragment(design, [h.name]))}
        topo = {"name": slug(f"{design.name}-{h.name}" if multi else design.name, "mvplan"),
                "topology": {"defaults": {"labels": labels}, "nodes": he.nodes, "links": he.links}}
        head = [f"# {GENERATOR}: containerlab topology", f"# design: {design.name}", f"# host: {h.name}",
                f"# containerlab deploy -t {h.name}.clab.yml  (node images are placeholders with 'ip')"]
        head += [f"# WARNING: {w}" for w in he.warnings] + [f"# note: {n}" for n in external_notes(design, h.name)]
        files[f"{h.name}.clab.yml"] = "\n".join(comment_text(x) for x in head) + "\n" + yaml.safe_dump(
            topo, sort_keys=False, default_flow_style=False, allow_unicode=True, width=1000)
    return ExportResult(files=files, warnings=warnings)
