"""containerlab: topology files with macvlan links (and Linux bridges) -> a design.

* ``endpoints: ["NODE:IFACE", "macvlan:HOSTIF"]`` and the extended form ``type: macvlan`` with
  ``endpoint: {node, interface, mac}``, ``host-interface``, ``mode`` (containerlab's default:
  ``bridge``) and ``mtu`` are macvlan children named IFACE in the namespace NODE, on the host NIC
  HOSTIF;
* a node of ``kind: bridge`` is a Linux bridge of the host (containerlab expects it to exist); a
  veth link between a node and a bridge is a bridge port whose peer lives in the node's namespace;
* addresses, routes and neighbours come from the nodes' ``exec:`` commands of the forms
  ``ip addr add A dev IF``, ``ip route add DST [via GW] dev IF``, ``ip neigh add|replace A lladdr MAC
  dev IF`` and ``ip link set [dev] IF down``; any other command is a warning.

containerlab runs everything on one host; its name is ``--host``, the outside fragment's (label
``mvplan.outside`` in ``topology.defaults.labels``), or ``clab-host``.
"""
from __future__ import annotations

import shlex
from typing import Any

from planner.core.errors import InputProblem
from planner.core.schema import MODES

from ._build import VLAN_RE, DesignBuilder, fit_ifname, fit_name, ipv4_interface, parse_documents
from ._result import ImportCode, ImportFailure, Source
from ._shape import require_shape
from .outside import DOCKER_LABEL

__all__ = ["import_containerlab", "HOST_LABEL"]

HOST_LABEL = "mvplan.host"
_NS_KINDS = {"linux"}
_ENDPOINT = {"node": str, "interface": str, "mac": str}
#: what the importer reads of a topology file (other fields are not looked at)
TOPOLOGY_SHAPE = {
    "name": str,
    "topology": {"defaults": {"kind": str, "labels": {str: str}},
                 "nodes": {str: {"kind": str, "exec": [str]}},
                 "links": [{"type": str, "endpoint": _ENDPOINT, "host-interface": str, "mode": str, "mtu": int,
                            "endpoints": [(str, _ENDPOINT)]}]},
}


class _Clab:
    def __init__(self, b: DesignBuilder, source: str, doc: dict):
        self.b, self.source, self.doc = b, source, doc
        topo = doc.get("topology") or {}
        self.nodes: dict[str, dict] = {str(k): (v or {}) for k, v in (topo.get("nodes") or {}).items()}
        self.links: list[Any] = topo.get("links") or []
        labels = (topo.get("defaults") or {}).get("labels") or {}
        if DOCKER_LABEL in labels:
            b.outside(labels[DOCKER_LABEL], source, f"topology.defaults.labels.{DOCKER_LABEL}")
        self.host = b.host_name(labels.get(HOST_LABEL))
        self.l3: dict[tuple[str, str], dict[str, Any]] = {}  # (node, iface) -> addresses/routes/... from exec

    def warn(self, code: ImportCode, where: str, message: str) -> None:
        self.b.warn(code, self.source, where, message)

    def kind(self, node: str) -> str:
        n = self.nodes.get(node) or {}
        kinds = ((self.doc.get("topology") or {}).get("defaults") or {}).get("kind")
        return str(n.get("kind") or kinds or "linux")

    # -- exec ---------------------------------------------------------------------------------
    def exec_lines(self) -> None:
        for node, spec in self.nodes.items():
            for k, line in enumerate(spec.get("exec") or []):
                self.exec_line(node, str(line), f"topology.nodes.{node}.exec[{k}]")

    def exec_line(self, node: str, line: str, where: str) -> None:
        try:
            argv = shlex.split(line)
        except ValueError:
            argv = []
        if argv[:1] == ["ip"] and len(argv) > 2:
            obj, verb, rest = argv[1], argv[2], argv[3:]
            if obj in ("a", "addr", "address") and verb == "add" and "dev" in rest:
                addr = ipv4_interface(rest[0])
                if addr is not None:
                    self._l3(node, rest[rest.index("dev") + 1]).setdefault("addresses", []).append(str(addr))
                    return
            if obj in ("r", "route") and verb in ("add", "replace") and "dev" in rest:
                route: dict[str, str] = {"to": "default" if rest[0] in ("default", "0.0.0.0/0") else rest[0]}
                if "via" in rest:
                    route["via"] = rest[rest.index("via") + 1]
                self._l3(node, rest[rest.index("dev") + 1]).setdefault("routes", []).append(route)
                return
            if obj in ("n", "neigh", "neighbor") and verb in ("add", "replace") and "lladdr" in rest and "dev" in rest:
                entry = {"address": rest[0], "mac": rest[rest.index("lladdr") + 1].lower()}
                self._l3(node, rest[rest.index("dev") + 1]).setdefault("neighbors", []).append(entry)
                return
            if obj in ("l", "link") and verb == "set" and rest[-1:] == ["down"]:
                dev = rest[1] if rest[0] == "dev" else rest[0]
                self._l3(node, dev)["state"] = "down"
                return
        self.warn(ImportCode.UNSUPPORTED, where, f"exec command {line!r} is not one mvplan reads (ip addr/route/neigh "
                  "add, ip link set IF down); not imported")

    def _l3(self, node: str, iface: str) -> dict[str, Any]:
        return self.l3.setdefault((node, iface), {})

    # -- links --------------------------------------------------------------------------------
    def links_all(self) -> None:
        for k, link in enumerate(self.links):
            where = f"topology.links[{k}]"
            if not isinstance(link, dict):
                self.warn(ImportCode.UNSUPPORTED, where, "not a link mapping; skipped")
            elif link.get("type") == "macvlan":
                ep = link.get("endpoint") or {}
                self.macvlan(str(ep.get("node") or ""), str(ep.get("interface") or ""), str(link.get("host-interface")
                             or ""), link, ep.get("mac"), where)
            elif "type" in link and link["type"] != "veth":
                self.warn(ImportCode.NOT_MACVLAN, where, f"link type {link['type']!r} is not modelled; skipped")
            elif link.get("type") == "veth":
                eps = [(str(e.get("node") or ""), str(e.get("interface") or ""), e.get("mac"))
                       for e in link.get("endpoints") or [] if isinstance(e, dict)]
                self.veth(eps, link, where)
            else:
                eps = []
                for e in link.get("endpoints") or []:
                    node, _, iface = str(e).partition(":")
                    eps.append((node, iface, None))
                macvlan = [e for e in eps if e[0] == "macvlan"]
                if macvlan and len(eps) == 2:
                    other = eps[0] if eps[1][0] == "macvlan" else eps[1]
                    self.macvlan(other[0], other[1], macvlan[0][1], link, None, where)
                else:
                    self.veth(eps, link, where)

    def macvlan(self, node: str, iface: str, hostif: str, link: dict, mac: Any, where: str) -> None:
        if not node or not iface or not hostif:
            self.warn(ImportCode.UNSUPPORTED, where, "a macvlan link needs a node, an interface and a host interface")
            return
        if node not in self.nodes:
            self.warn(ImportCode.UNRESOLVED, where, f"node {node} is not in topology.nodes; skipped")
            return
        m = VLAN_RE.match(hostif)
        if m:
            self.warn(ImportCode.VLAN_PARENT, where, f"{hostif} is VLAN {m['vid']} on {m['base']}; mvplan does not "
                      "model VLANs yet, so it is planned as a NIC of its own that must exist")
        mode = str(link.get("mode") or "bridge")
        if mode not in MODES:
            self.warn(ImportCode.UNSUPPORTED, f"{where}.mode", f"mode {mode!r} is not a macvlan mode; bridge is used")
            mode = "bridge"
        if self.kind(node) not in _NS_KINDS:
            self.warn(ImportCode.UNSUPPORTED, where, f"node {node} is of kind {self.kind(node)}: its own network OS "
                      "configures its addresses, which the topology does not say")
        child: dict[str, Any] = {"name": fit_ifname(iface), "parent": fit_ifname(hostif), "mode": mode,
                                 "namespace": fit_name(node)}
        if mac:
            child["mac"] = str(mac).lower()
        if isinstance(link.get("mtu"), int):
            child["mtu"] = link["mtu"]
        child.update(self.l3.pop((node, iface), {}))
        self.b.child(self.host, child, self.source, where)

    def veth(self, eps: list[tuple[str, str, Any]], link: dict, where: str) -> None:
        bridges = [e for e in eps if self.kind(e[0]) == "bridge"]
        nodes = [e for e in eps if self.kind(e[0]) in _NS_KINDS and e[0] in self.nodes]
        if len(eps) != 2 or len(bridges) != 1 or len(nodes) != 1:
            self.warn(ImportCode.NOT_MACVLAN, where, "a veth link that is not between a node and a Linux bridge "
                      f"({', '.join(e[0] + ':' + e[1] for e in eps)}) is not modelled; skipped")
            return
        (br, port, _), (node, iface, mac) = bridges[0], nodes[0]
        peer: dict[str, Any] = {"name": fit_ifname(iface), "namespace": fit_name(node)}
        if mac:
            peer["mac"] = str(mac).lower()
        if isinstance(link.get("mtu"), int):
            peer["mtu"] = link["mtu"]
        peer.update({k: v for k, v in self.l3.pop((node, iface), {}).items() if k != "neighbors" or v})
        host = self.b.host_doc(self.host)
        bridge = next((x for x in host.setdefault("bridges", []) if x["name"] == br), None)
        if bridge is None:
            bridge = {"name": fit_ifname(br), "ports": []}
            host["bridges"].append(bridge)
        bridge["ports"].append({"name": fit_ifname(port), "peer": peer})

    def leftovers(self) -> None:
        for (node, iface), l3 in self.l3.items():
            self.warn(ImportCode.UNRESOLVED, f"topology.nodes.{node}.exec",
                      f"{iface} of {node} is configured by exec ({', '.join(l3)}) but no macvlan or bridge link "
                      "creates it; not imported")


def import_containerlab(sources: list[Source], b: DesignBuilder) -> str:
    fallback = "containerlab"
    for src in sources:
        for doc in parse_documents(src):
            if not isinstance(doc, dict) or "topology" not in doc:
                raise ImportFailure(InputProblem(src.name, "not a containerlab topology (no 'topology' key)"))
            require_shape(doc, TOPOLOGY_SHAPE, src.name, "")
            clab = _Clab(b, src.name, doc)
            fallback = str(doc.get("name") or fallback)
            clab.exec_lines()
            clab.links_all()
            clab.leftovers()
    return fallback
