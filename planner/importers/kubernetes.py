"""Kubernetes/Multus: NetworkAttachmentDefinitions with a CNI macvlan config, and pods -> a design.

* A NAD whose ``spec.config`` is (or whose plugin list starts with) ``"type": "macvlan"`` describes
  children on the NIC ``master`` of each node, in ``mode`` (CNI's default: ``bridge``) with ``mtu``;
* a pod whose ``k8s.v1.cni.cncf.io/networks`` annotation names the NAD (``name``,
  ``namespace/name``, ``name@ifname`` or the JSON list form with ``interface``, ``ips``, ``mac``) is
  a namespace named after the pod, on the host ``spec.nodeName``; each attachment is a child named
  ``interface`` (Multus' default: ``net1``, ``net2``, ... in annotation order);
* addresses: the pod's ``ips`` when given; else ``static`` IPAM's address; else ``host-local``
  (or whereabouts) ranges, allocated as host-local does on a fresh node - from ``rangeStart`` (or the
  subnet's second address) upwards, skipping the gateway and addresses asked for explicitly, in the
  order the pods appear (warning ``guessed``); ``dhcp`` has no address (warning ``no-address``);
* the IPAM ``routes`` are the child's routes (``gw``, else the range's gateway); the gateway is a
  station on the NAD's LAN (one switch per NAD, each node's NIC on a port) - unless the NAD
  carries mvplan's outside fragment (annotation ``mvplan/outside``).

Workload controllers (Deployment, StatefulSet, ...) name their pods at run time: they are not
imported (warning); give the pods (``kubectl get pods -o yaml``).
"""
from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from planner.core.schema import MODES

from ._build import VLAN_RE, DesignBuilder, fit_ifname, fit_name, ipv4_interface, parse_documents
from ._result import ImportCode, Source
from ._shape import require_shape
from .outside import K8S_ANNOTATION

__all__ = ["import_kubernetes", "NETWORKS_ANNOTATION", "DESIGN_ANNOTATION"]

NETWORKS_ANNOTATION = "k8s.v1.cni.cncf.io/networks"
DESIGN_ANNOTATION = "mvplan/design"
_CONTROLLERS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "ReplicationController"}
_CNI_MODES = {"passthrough": "passthru"}


@dataclass
class _Range:
    subnet: ipaddress.IPv4Network
    start: ipaddress.IPv4Address
    end: ipaddress.IPv4Address
    gateway: ipaddress.IPv4Address | None
    #: the config names the gateway (host-local's default, .1, is only used by routes without gw)
    explicit_gateway: bool = False


@dataclass
class _Nad:
    """A NetworkAttachmentDefinition with a macvlan CNI config."""

    key: str  # namespace/name
    source: str
    where: str
    master: str
    mode: str
    mtu: int | None
    ipam: str
    ranges: list[_Range] = field(default_factory=list)
    static: list[tuple[ipaddress.IPv4Interface, ipaddress.IPv4Address | None]] = field(default_factory=list)
    routes: list[dict[str, str]] = field(default_factory=list)
    #: (host) -> addresses handed out so far, as host-local would on a fresh node
    used: dict[str, set[ipaddress.IPv4Address]] = field(default_factory=dict)


#: what the importer reads of any object, of a NAD, of its CNI config, of a pod (others not looked at)
OBJECT_SHAPE = {"kind": str, "items": list,
                "metadata": {"name": str, "namespace": str, "annotations": {str: str}}}
NAD_SHAPE = {"spec": {"config": str}}
_RANGE = {"subnet": str, "range": str, "rangeStart": str, "rangeEnd": str, "gateway": str}
CNI_SHAPE = {"type": str, "master": str, "mode": str, "mtu": int, "plugins": [dict],
             "ipam": {"type": str, "ranges": [([_RANGE], _RANGE)], "addresses": [{"address": str, "gateway": str}],
                      "routes": [{"dst": str, "gw": str}], **_RANGE}}
POD_SHAPE = {"spec": {"nodeName": str}}
SELECTION_SHAPE = {"name": str, "namespace": str, "interface": str, "mac": str, "ips": [str]}


def _objects(doc: Any) -> Iterator[tuple[str, dict]]:
    """Every Kubernetes object of a document (``kind: List`` unpacked)."""
    if isinstance(doc, list):
        for k, x in enumerate(doc):
            for where, obj in _objects(x):
                yield f"[{k}]{where}", obj
    elif isinstance(doc, dict):
        kind = str(doc.get("kind") or "")
        if kind == "List" or (kind.endswith("List") and "items" in doc):
            for k, x in enumerate(doc.get("items") or []):
                if isinstance(x, dict):
                    yield f".items[{k}]", x
        else:
            yield "", doc


class _Kubernetes:
    def __init__(self, b: DesignBuilder):
        self.b = b
        self.nads: dict[str, _Nad] = {}
        self.pods: list[tuple[str, str, dict]] = []

    def read(self, src: Source) -> None:
        for k, doc in enumerate(parse_documents(src)):
            require_shape(doc, (OBJECT_SHAPE, list), src.name, f"document {k + 1}")
            for where, obj in _objects(doc):
                where = f"document {k + 1}{where}"
                require_shape(obj, OBJECT_SHAPE, src.name, where)
                kind = obj.get("kind")
                name = (obj.get("metadata") or {}).get("name", "?")
                if kind == "NetworkAttachmentDefinition":
                    self.nad(src.name, f"{where} (NAD {name})", obj)
                elif kind == "Pod":
                    self.pods.append((src.name, f"{where} (pod {name})", obj))
                elif kind in _CONTROLLERS:
                    self.b.warn(ImportCode.UNSUPPORTED, src.name, f"{where} ({kind} {name})",
                                f"the pods of {kind} {name} get their names when they run: not imported; give "
                                "the running pods ('kubectl get pods -o yaml')")
                else:
                    self.b.warn(ImportCode.UNSUPPORTED, src.name, where,
                                f"kind {kind!r} is neither a NetworkAttachmentDefinition nor a Pod; skipped")

    # -- NADs -------------------------------------------------------------------------------
    def nad(self, source: str, where: str, obj: dict) -> None:
        require_shape(obj, NAD_SHAPE, source, where)
        meta = obj.get("metadata") or {}
        key = f"{meta.get('namespace') or 'default'}/{meta.get('name')}"
        ann = meta.get("annotations") or {}
        if K8S_ANNOTATION in ann:
            self.b.outside(ann[K8S_ANNOTATION], source, f"{where}.metadata.annotations")
        if ann.get(DESIGN_ANNOTATION) and ann[DESIGN_ANNOTATION] not in self.b.design_names:
            self.b.design_names.append(ann[DESIGN_ANNOTATION])
        text = (obj.get("spec") or {}).get("config")
        if not text:
            self.b.warn(ImportCode.UNRESOLVED, source, where, "the NAD has no spec.config (Multus then reads it from "
                        "a file on each node): give the CNI config in the NAD; not imported")
            return
        try:
            conf = json.loads(text)
        except json.JSONDecodeError as exc:
            self.b.warn(ImportCode.UNSUPPORTED, source, f"{where}.spec.config",
                        f"not JSON ({exc.msg} at line {exc.lineno}); not imported")
            return
        if not isinstance(conf, dict):
            self.b.warn(ImportCode.UNSUPPORTED, source, f"{where}.spec.config", "not a JSON object; not imported")
            return
        require_shape(conf, CNI_SHAPE, source, f"{where}.spec.config")
        listed = conf.get("plugins")
        plugins: list = listed if isinstance(listed, list) else [conf]
        main = plugins[0] if plugins and isinstance(plugins[0], dict) else {}
        require_shape(main, CNI_SHAPE, source, f"{where}.spec.config.plugins[0]" if main is not conf
                      else f"{where}.spec.config")
        for extra in plugins[1:]:
            self.b.warn(ImportCode.UNSUPPORTED, source, f"{where}.spec.config",
                        f"chained CNI plugin {extra.get('type')!r} is not modelled; only the macvlan step is imported")
        if main.get("type") != "macvlan":
            self.b.warn(ImportCode.NOT_MACVLAN, source, where,
                        f"CNI type {main.get('type')!r} is not macvlan; NAD {key} is not imported")
            return
        mode = _CNI_MODES.get(str(main.get("mode") or "bridge"), str(main.get("mode") or "bridge"))
        if mode not in MODES or mode == "source":
            self.b.warn(ImportCode.UNSUPPORTED, source, f"{where}.mode",
                        f"mode {main.get('mode')!r} is not a CNI macvlan mode; bridge (CNI's default) is used")
            mode = "bridge"
        master = main.get("master")
        if not master:
            self.b.warn(ImportCode.GUESSED, source, f"{where}.master",
                        "no master: the CNI plugin uses the interface of each node's default route, which the file "
                        "does not say; eth0 is assumed")
            master = "eth0"
        m = VLAN_RE.match(str(master))
        if m:
            self.b.warn(ImportCode.VLAN_PARENT, source, f"{where}.master",
                        f"{master} is VLAN {m['vid']} on {m['base']}; mvplan does not model VLANs yet, so it is "
                        "planned as a NIC of its own that must exist on each node")
        mtu = main.get("mtu") if isinstance(main.get("mtu"), int) and main.get("mtu") else None
        ipam = main.get("ipam") or {}
        nad = _Nad(key=key, source=source, where=where, master=fit_ifname(str(master)), mode=mode, mtu=mtu,
                   ipam=str(ipam.get("type") or ""))
        for opt in sorted(set(main) - {"cniVersion", "name", "type", "master", "mode", "mtu", "ipam",
                                       "capabilities", "runtimeConfig", "linkInContainer"}):
            self.b.warn(ImportCode.UNSUPPORTED, source, f"{where}.spec.config.{opt}", f"{opt} is not modelled")
        self._ipam(nad, ipam)
        self.nads[key] = nad

    def _ipam(self, nad: _Nad, ipam: dict) -> None:
        where = f"{nad.where}.spec.config.ipam"
        if nad.ipam in ("host-local", "whereabouts"):
            blocks = ipam.get("ranges") or [[ipam]]
            for ri, rset in enumerate(blocks):
                for r in (rset if isinstance(rset, list) else [rset]):
                    self._range(nad, r, f"{where}.ranges[{ri}]")
        elif nad.ipam == "static":
            for k, a in enumerate(ipam.get("addresses") or []):
                addr = ipv4_interface(a.get("address"))
                if addr is None:
                    self.b.warn(ImportCode.IPV6, nad.source, f"{where}.addresses[{k}]",
                                f"{a.get('address')!r} is not an IPv4 address with prefix; skipped")
                    continue
                gw = ipv4_interface(a.get("gateway"))
                nad.static.append((addr, gw.ip if gw else None))
        elif nad.ipam == "dhcp":
            self.b.warn(ImportCode.NO_ADDRESS, nad.source, where,
                        f"DHCP IPAM: the pods on {nad.key} get addresses at run time; they are planned without one")
        elif nad.ipam:
            self.b.warn(ImportCode.NO_ADDRESS, nad.source, where,
                        f"IPAM type {nad.ipam!r} is not modelled; the pods on {nad.key} get no address "
                        "(unless their annotation gives 'ips')")
        for k, r in enumerate(ipam.get("routes") or []):
            dst = str(r.get("dst") or "")
            try:
                net = ipaddress.ip_network(dst, strict=False)
            except ValueError:
                net = None
            if net is None or net.version != 4:
                self.b.warn(ImportCode.IPV6, nad.source, f"{where}.routes[{k}]", f"route {dst!r} is not IPv4; skipped")
                continue
            route = {"to": "default" if net.prefixlen == 0 else str(net)}
            if r.get("gw"):
                route["via"] = str(r["gw"])
            nad.routes.append(route)

    def _range(self, nad: _Nad, r: dict, where: str) -> None:
        text = r.get("subnet") or r.get("range")
        try:
            subnet = ipaddress.ip_network(str(text), strict=False)
        except ValueError:
            self.b.warn(ImportCode.UNSUPPORTED, nad.source, where, f"subnet {text!r} is not an IP prefix; skipped")
            return
        if not isinstance(subnet, ipaddress.IPv4Network):
            self.b.warn(ImportCode.IPV6, nad.source, where, f"IPv6 range {subnet} is not planned (IPv4 only)")
            return
        hosts = list(subnet.hosts()) if subnet.prefixlen < 31 else list(subnet)
        first = hosts[1] if len(hosts) > 1 else hosts[0]
        start = ipaddress.IPv4Address(str(r.get("rangeStart") or r.get("range_start") or first))
        end = ipaddress.IPv4Address(str(r.get("rangeEnd") or r.get("range_end") or hosts[-1]))
        gw = ipaddress.IPv4Address(str(r["gateway"])) if r.get("gateway") else (hosts[0] if nad.ipam == "host-local"
                                                                                 else None)
        nad.ranges.append(_Range(subnet, start, end, gw, explicit_gateway=bool(r.get("gateway"))))

    # -- pods -------------------------------------------------------------------------------
    def _selections(self, source: str, where: str, raw: Any, pod_ns: str) -> list[dict]:
        if isinstance(raw, str) and raw.strip().startswith("["):
            try:
                raw = json.loads(raw)
            except json.JSONDecodeError as exc:
                self.b.warn(ImportCode.UNSUPPORTED, source, where, f"network annotation is not JSON ({exc.msg})")
                return []
        if isinstance(raw, list):
            return [x for x in raw if isinstance(x, dict) and x.get("name")]
        out = []
        for item in str(raw or "").split(","):
            item = item.strip()
            if not item:
                continue
            ref, _, ifname = item.partition("@")
            ns, _, name = ref.rpartition("/")
            sel = {"name": name, "namespace": ns or pod_ns}
            if ifname:
                sel["interface"] = ifname
            out.append(sel)
        return out

    def pod(self, source: str, where: str, obj: dict, pod_names: dict[str, int]) -> None:
        require_shape(obj, POD_SHAPE, source, where)
        meta = obj.get("metadata") or {}
        pod_ns = meta.get("namespace") or "default"
        name = str(meta.get("name") or "pod")
        raw = (meta.get("annotations") or {}).get(NETWORKS_ANNOTATION)
        if not raw:
            return
        node = (obj.get("spec") or {}).get("nodeName")
        host = self.b.host_name(node)
        if not node and not self.b.host_override:
            self.b.warn(ImportCode.GUESSED, source, f"{where}.spec.nodeName",
                        f"pod {name} has no nodeName; it is planned on host {host}")
        ns = fit_name(name if pod_names.get(name, 0) <= 1 else f"{pod_ns}.{name}", "pod")
        sels = self._selections(source, f"{where}.metadata.annotations", raw, pod_ns)
        for k, sel in enumerate(sels):
            require_shape(sel, SELECTION_SHAPE, source, f"{where}.metadata.annotations[{k}]")
        for k, sel in enumerate(sels):
            key = f"{sel.get('namespace') or pod_ns}/{sel['name']}"
            nad = self.nads.get(key)
            swhere = f"{where}.metadata.annotations[{k}]"
            if nad is None:
                self.b.warn(ImportCode.UNRESOLVED, source, swhere,
                            f"network {key} is not a macvlan NAD of the files given; that attachment is not imported")
                continue
            child: dict[str, Any] = {"name": fit_ifname(str(sel.get("interface") or f"net{k + 1}")),
                                     "parent": nad.master, "mode": nad.mode, "namespace": ns}
            if nad.mtu:
                child["mtu"] = nad.mtu
            if sel.get("mac"):
                child["mac"] = str(sel["mac"]).lower()
            addr = self._address(nad, host, sel, name, source, swhere)
            if addr is not None:
                child["addresses"] = [str(addr)]
                gw = self._gateway(nad, addr)
                # a CNI route without gw goes through the IPAM result's gateway, else it is on-link
                routes = [dict(r) if "via" in r or gw is None else {**r, "via": str(gw)} for r in nad.routes]
                if routes:
                    child["routes"] = routes
            if self.b.child(host, child, source, swhere):
                self._lan(nad, host)

    def _gateway(self, nad: _Nad, addr: ipaddress.IPv4Interface) -> ipaddress.IPv4Address | None:
        for r in nad.ranges:
            if addr.ip in r.subnet:
                return r.gateway
        return next((g for a, g in nad.static if a.network == addr.network and g), None)

    def _address(self, nad: _Nad, host: str, sel: dict, pod: str, source: str,
                 where: str) -> ipaddress.IPv4Interface | None:
        used = nad.used.setdefault(host, set())
        for text in sel.get("ips") or []:
            addr = ipv4_interface(str(text))
            if addr is None:
                continue
            if "/" not in str(text):
                prefix = next((r.subnet.prefixlen for r in nad.ranges if addr.ip in r.subnet), 32)
                addr = ipaddress.IPv4Interface(f"{addr.ip}/{prefix}")
            used.add(addr.ip)
            return addr
        if nad.static:
            addr, _ = nad.static[0]
            if addr.ip in used:
                self.b.warn(ImportCode.CONFLICT, source, where,
                            f"static IPAM of {nad.key} gives every pod {addr}; {pod} would clash on host {host}")
            used.add(addr.ip)
            return addr
        for r in nad.ranges:
            ip = r.start
            while ip <= r.end:
                if ip not in used and ip != r.gateway:
                    used.add(ip)
                    self.b.warn(ImportCode.GUESSED, source, where,
                                f"{pod} gets {ip} from {nad.ipam} range {r.start}-{r.end} of {nad.key}, assuming the "
                                "pods started in file order on a fresh node (give 'ips' in the annotation to pin it)")
                    return ipaddress.IPv4Interface(f"{ip}/{r.subnet.prefixlen}")
                ip += 1
            self.b.warn(ImportCode.NO_ADDRESS, source, where, f"range {r.start}-{r.end} of {nad.key} is exhausted")
        if nad.ipam in ("host-local", "whereabouts") and not nad.ranges:
            self.b.warn(ImportCode.NO_ADDRESS, source, where, f"{nad.key} has no usable range; {pod} gets no address")
        return None

    def _lan(self, nad: _Nad, host: str) -> None:
        switch = fit_name(nad.key.split("/", 1)[1], "lan")
        parent = self.b.parent(host, nad.master)
        if "uplink" not in parent:
            self.b.uplink(host, nad.master, switch, self.b.free_port(switch, nad.master))
        gateways = [(r.gateway, r.subnet.prefixlen) for r in nad.ranges
                    if r.gateway is not None and (r.explicit_gateway or any("via" not in x for x in nad.routes))]
        gateways += [(g, a.network.prefixlen) for a, g in nad.static if g is not None]
        for gw, plen in gateways:
            if self.b.station(f"{switch}-gateway", f"{gw}/{plen}", switch, nad.source, nad.where, port="gw"):
                self.b.warn(ImportCode.DERIVED, nad.source, nad.where,
                            f"the IPAM gateway {gw} of {nad.key} is planned as a station on the LAN (something "
                            "there must answer)")

    def build(self) -> None:
        counts: dict[str, int] = {}
        for _, _, obj in self.pods:
            n = str((obj.get("metadata") or {}).get("name") or "pod")
            counts[n] = counts.get(n, 0) + 1
        for source, where, obj in self.pods:
            self.pod(source, where, obj, counts)
        if self.nads and not self.pods:
            for nad in self.nads.values():
                self.b.warn(ImportCode.UNRESOLVED, nad.source, nad.where,
                            f"no pod uses {nad.key}; give the pods too (only the NIC {nad.master} is known, and "
                            "not on which node)")


def import_kubernetes(sources: list[Source], b: DesignBuilder) -> str:
    k = _Kubernetes(b)
    for src in sources:
        k.read(src)
    k.build()
    return "kubernetes"
