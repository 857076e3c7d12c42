"""Docker: ``docker network inspect`` and ``docker inspect`` JSON, and Compose files -> a design.

Mapping (docs/import.md has the table):

* a network with ``Driver: macvlan`` is the parent NIC ``Options.parent`` of the host, in
  ``Options.macvlan_mode`` (Docker's default: ``bridge``); a parent written ``eth0.50`` is the VLAN
  sub-interface Docker creates itself - mvplan does not model VLANs, so it becomes a NIC of its own
  (warning ``vlan-parent``);
* each container attached to it is a namespace (the container name) with one macvlan child per
  network, named ``eth0``, ``eth1``... as Docker names them, with the container's MAC and IPv4
  address (from the network's ``Containers`` or the container's ``NetworkSettings``);
* the IPAM gateway becomes a station on the network's LAN, and the container's default route goes
  through it (Docker installs that route); auxiliary addresses become stations too;
* the LAN is a switch named after the network, the parent cabled to a port named after it -
  unless the file carries mvplan's outside fragment (label ``mvplan.outside``), which says the
  real switches, ports and stations.

Compose: ``networks:`` with ``driver: macvlan``, ``driver_opts`` (``parent``, ``macvlan_mode``),
``ipam.config`` (``subnet``, ``gateway``, ``aux_addresses``) and ``labels``; each service with
``networks:`` is a namespace (``container_name``, else the service name), with ``ipv4_address`` and
the ``mac_address`` of the service or the network entry. An ``external`` network is resolved from a
``docker network inspect`` file given alongside.
"""
from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import Any

from planner.core.schema import MODES

from ._build import VLAN_RE, DesignBuilder, fit_ifname, fit_name, ipv4_interface, parse_documents
from ._result import ImportCode, Source
from ._shape import require_shape
from .outside import DOCKER_LABEL

__all__ = ["import_docker", "HOST_LABEL", "DESIGN_LABEL"]

HOST_LABEL = "mvplan.host"
DESIGN_LABEL = "mvplan.design"
_KNOWN_OPTIONS = {"parent", "macvlan_mode"}
#: Docker's ``Created`` (RFC 3339, Go trims the fraction's trailing zeros)
_CREATED_RE = re.compile(r"^(?P<base>[0-9T:-]+)(?:\.(?P<frac>\d+))?(?P<tz>Z|[+-]\d\d:\d\d)$")


#: what the importer reads of ``docker network inspect`` (other fields are not looked at)
NETWORK_SHAPE = {
    "Name": str, "Id": str, "Driver": str, "Options": {str: str}, "Labels": dict, "Internal": bool,
    "IPAM": {"Config": [{"Subnet": str, "Gateway": str, "IPRange": str, "AuxiliaryAddresses": {str: str}}]},
    "Containers": {str: {"Name": str, "MacAddress": str, "IPv4Address": str, "IPv6Address": str}},
}
#: ... of ``docker inspect`` of a container
CONTAINER_SHAPE = {
    "Name": str, "Id": str, "Created": str,
    "NetworkSettings": {"Networks": {str: {"IPAddress": str, "IPPrefixLen": int, "MacAddress": str,
                                           "IPAMConfig": {"IPv4Address": str}}}},
}
#: ... of a Compose file
COMPOSE_SHAPE = {
    "networks": {str: {"name": str, "driver": str, "driver_opts": {str: str}, "external": (bool, dict),
                       "ipam": {"config": [{"subnet": str, "gateway": str, "ip_range": str,
                                            "aux_addresses": {str: str}}]}}},
    "services": {str: {"container_name": str, "networks": (list, dict), "mac_address": str}},
}


def created_key(text: str) -> tuple[str, str, str]:
    """A sort key of a ``Created`` timestamp (``...52.6247043Z`` sorts before ``...52.624704358Z``)."""
    m = _CREATED_RE.match(text)
    if m is None:
        return ("", "", text)
    return (m["base"], (m["frac"] or "").ljust(9, "0"), m["tz"])


@dataclass
class _Net:
    """A macvlan network as Docker (or Compose) describes it."""

    name: str
    source: str
    where: str
    parent: str | None
    mode: str
    subnets: list[tuple[ipaddress.IPv4Network, ipaddress.IPv4Address | None]] = field(default_factory=list)
    aux: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    ids: set[str] = field(default_factory=set)


@dataclass
class _Attachment:
    """One container on one network."""

    container: str
    network: str
    source: str
    where: str
    mac: str | None = None
    address: str | None = None
    order: int | None = None


class _Docker:
    def __init__(self, b: DesignBuilder):
        self.b = b
        self.nets: dict[str, _Net] = {}
        self.attachments: dict[tuple[str, str], _Attachment] = {}
        self.pending: list[tuple[str, str, dict]] = []  # (source, where, compose network doc) of external nets
        self.aliases: dict[str, str] = {}  # Compose network key -> the network's real name
        self.lans: dict[tuple[str, str], str] = {}  # (host, parent) -> the switch of its LAN
        self.created: dict[str, tuple[str, str, str]] = {}  # container -> when Docker created it

    # -- reading ------------------------------------------------------------------------------
    def read(self, src: Source) -> None:
        for doc in parse_documents(src):
            if isinstance(doc, dict) and ("services" in doc or "networks" in doc) and "Driver" not in doc:
                require_shape(doc, COMPOSE_SHAPE, src.name, "")
                self.compose(src.name, doc)
                continue
            items = doc if isinstance(doc, list) else [doc]
            for k, obj in enumerate(items):
                where = f"[{k}]"
                if not isinstance(obj, dict):
                    self.b.warn(ImportCode.UNSUPPORTED, src.name, where, "not a Docker object; skipped")
                elif "Driver" in obj and "IPAM" in obj:
                    require_shape(obj, NETWORK_SHAPE, src.name, where)
                    self.network(src.name, where, obj)
                elif "NetworkSettings" in obj:
                    require_shape(obj, CONTAINER_SHAPE, src.name, where)
                    self.container(src.name, where, obj)
                else:
                    self.b.warn(ImportCode.UNSUPPORTED, src.name, where,
                                "neither 'docker network inspect' nor 'docker inspect' output; skipped")

    def _labels(self, raw: Any) -> dict[str, str]:
        if isinstance(raw, dict):
            return {str(k): str(v) for k, v in raw.items()}
        if isinstance(raw, list):  # Compose's list form: ["k=v", ...]
            return dict(str(x).partition("=")[::2] for x in raw)
        return {}

    def _mode(self, value: Any, source: str, where: str) -> str:
        mode = str(value or "bridge")
        if mode not in MODES:
            self.b.warn(ImportCode.UNSUPPORTED, source, where, f"macvlan_mode {mode!r} is not a macvlan mode "
                        f"({', '.join(m for m in MODES if m != 'source')}); bridge (Docker's default) is used")
            mode = "bridge"
        return mode

    def _subnet(self, net: _Net, cfg: dict, where: str, subnet_key: str, gw_key: str) -> None:
        text = cfg.get(subnet_key)
        try:
            subnet = ipaddress.ip_network(str(text), strict=False)
        except ValueError:
            self.b.warn(ImportCode.UNSUPPORTED, net.source, where, f"subnet {text!r} is not an IP prefix; skipped")
            return
        if subnet.version != 4:
            self.b.warn(ImportCode.IPV6, net.source, where, f"IPv6 subnet {subnet} is not planned (IPv4 only)")
            return
        gw = None
        if cfg.get(gw_key):
            try:
                gw = ipaddress.IPv4Address(str(cfg[gw_key]))
            except ValueError:
                self.b.warn(ImportCode.UNSUPPORTED, net.source, where, f"gateway {cfg[gw_key]!r} is not IPv4; skipped")
        elif next(ipaddress.IPv4Network(subnet).hosts(), None) is not None:
            gw = next(ipaddress.IPv4Network(subnet).hosts())
            self.b.warn(ImportCode.DERIVED, net.source, where,
                        f"no gateway given for {subnet}: Docker takes its first address {gw} as the gateway and "
                        "installs each container's default route through it (measured; 'docker network inspect' "
                        "does not show it); planned so")
        for key in ("IPRange", "ip_range"):
            if cfg.get(key):
                self.b.warn(ImportCode.UNSUPPORTED, net.source, f"{where}.{key}",
                            f"ip range {cfg[key]} only limits which addresses Docker hands out; not modelled")
        net.subnets.append((ipaddress.IPv4Network(subnet), gw))
        for key in ("AuxiliaryAddresses", "aux_addresses"):
            for aux_name, addr in (cfg.get(key) or {}).items():
                net.aux[str(aux_name)] = str(addr)

    def network(self, source: str, where: str, obj: dict) -> None:
        name = str(obj.get("Name") or "")
        where = f"{where} (network {name})"
        if obj.get("Driver") != "macvlan":
            self.b.warn(ImportCode.NOT_MACVLAN, source, where,
                        f"driver {obj.get('Driver')!r} is not macvlan; network {name} is not imported")
            return
        opts = obj.get("Options") or {}
        net = _Net(name=name, source=source, where=where, parent=opts.get("parent"),
                   mode=self._mode(opts.get("macvlan_mode"), source, f"{where}.Options.macvlan_mode"),
                   labels=self._labels(obj.get("Labels")), ids={str(obj.get("Id") or name)})
        for key in sorted(set(opts) - _KNOWN_OPTIONS):
            self.b.warn(ImportCode.UNSUPPORTED, source, f"{where}.Options.{key}",
                        f"driver option {key}={opts[key]} has no place in a design; not imported")
        for k, cfg in enumerate((obj.get("IPAM") or {}).get("Config") or []):
            self._subnet(net, cfg, f"{where}.IPAM.Config[{k}]", "Subnet", "Gateway")
        if obj.get("Internal"):
            self.b.warn(ImportCode.UNSUPPORTED, source, where, "an internal network (no default route) is "
                        "planned like any other; the routes through the gateway are not imported")
        self._add_net(net)
        for cid, c in (obj.get("Containers") or {}).items():
            c = c or {}
            cname = str(c.get("Name") or cid[:12])
            self._attach(_Attachment(container=cname, network=name, source=source,
                                     where=f"{where}.Containers.{cid[:12]}", mac=c.get("MacAddress") or None,
                                     address=c.get("IPv4Address") or None))
            if c.get("IPv6Address"):
                self.b.warn(ImportCode.IPV6, source, f"{where}.Containers.{cid[:12]}",
                            f"IPv6 address {c['IPv6Address']} of {cname} is not planned (IPv4 only)")

    def _add_net(self, net: _Net) -> None:
        if net.name in self.nets:
            old = self.nets[net.name]
            if (old.parent, old.mode, old.subnets) != (net.parent, net.mode, net.subnets):
                self.b.warn(ImportCode.CONFLICT, net.source, net.where,
                            f"network {net.name} is also in {old.source} with other settings; the first is kept")
            old.ids |= net.ids
            return
        self.nets[net.name] = net

    def _attach(self, a: _Attachment) -> None:
        key = (a.container, a.network)
        old = self.attachments.get(key)
        if old is None:
            self.attachments[key] = a
            return
        old.mac, old.address = a.mac or old.mac, a.address or old.address  # docker inspect is more specific
        old.order = a.order if a.order is not None else old.order

    def container(self, source: str, where: str, obj: dict) -> None:
        cname = str(obj.get("Name") or obj.get("Id", "")[:12]).lstrip("/")
        where = f"{where} (container {cname})"
        if isinstance(obj.get("Created"), str):
            self.created[cname] = created_key(obj["Created"])
        networks = (obj.get("NetworkSettings") or {}).get("Networks") or {}
        for net_name, n in networks.items():  # Docker prints them in name order, not interface order
            n = n or {}
            address = None
            if n.get("IPAddress"):
                address = f"{n['IPAddress']}/{n.get('IPPrefixLen') or 32}"
            elif (n.get("IPAMConfig") or {}).get("IPv4Address"):
                address = n["IPAMConfig"]["IPv4Address"]
            self._attach(_Attachment(container=cname, network=str(net_name), source=source,
                                     where=f"{where}.NetworkSettings.Networks.{net_name}",
                                     mac=n.get("MacAddress") or None, address=address))

    # -- Compose ------------------------------------------------------------------------------------
    def compose(self, source: str, doc: dict) -> None:
        for key, n in (doc.get("networks") or {}).items():
            n = n or {}
            real = str(n.get("name") or key)
            where = f"networks.{key}"
            if n.get("external"):
                self.pending.append((source, where, {"key": key, "name": real}))
                self.compose_alias(key, real)
                continue
            if n.get("driver") != "macvlan":
                self.b.warn(ImportCode.NOT_MACVLAN, source, where,
                            f"driver {n.get('driver') or 'bridge'!r} is not macvlan; network {key} is not imported")
                continue
            opts = n.get("driver_opts") or {}
            net = _Net(name=real, source=source, where=where, parent=opts.get("parent"),
                       mode=self._mode(opts.get("macvlan_mode"), source, f"{where}.driver_opts.macvlan_mode"),
                       labels=self._labels(n.get("labels")))
            for opt in sorted(set(opts) - _KNOWN_OPTIONS):
                self.b.warn(ImportCode.UNSUPPORTED, source, f"{where}.driver_opts.{opt}",
                            f"driver option {opt}={opts[opt]} has no place in a design; not imported")
            for k, cfg in enumerate((n.get("ipam") or {}).get("config") or []):
                self._subnet(net, cfg, f"{where}.ipam.config[{k}]", "subnet", "gateway")
            self._add_net(net)
            self.compose_alias(key, real)
        for sname, svc in (doc.get("services") or {}).items():
            self.service(source, str(sname), svc or {})

    def compose_alias(self, key: str, real: str) -> None:
        self.aliases[key] = real

    def service(self, source: str, sname: str, svc: dict) -> None:
        where = f"services.{sname}"
        cname = str(svc.get("container_name") or sname)
        nets = svc.get("networks")
        if nets is None:
            return
        if isinstance(nets, list):
            nets = {n: {} for n in nets}
        aliases = self.aliases
        ordered = sorted(nets.items(), key=lambda kv: (-int((kv[1] or {}).get("priority") or 0), kv[0]))
        for k, (key, cfg) in enumerate(ordered):
            cfg = cfg or {}
            real = aliases.get(key, key)
            mac = cfg.get("mac_address") or (svc.get("mac_address") if k == 0 else None)
            address = cfg.get("ipv4_address")
            if cfg.get("ipv6_address"):
                self.b.warn(ImportCode.IPV6, source, f"{where}.networks.{key}",
                            f"IPv6 address {cfg['ipv6_address']} is not planned (IPv4 only)")
            self._attach(_Attachment(container=cname, network=real, source=source, where=f"{where}.networks.{key}",
                                     mac=mac, address=address, order=k))
        if len(ordered) > 1 and not any((c or {}).get("priority") for _, c in ordered):
            self.b.warn(ImportCode.GUESSED, source, f"{where}.networks",
                        f"{cname} is on {len(ordered)} networks without priorities; Docker's interface order "
                        "(eth0, eth1, ...) is taken to be the networks' name order")

    # -- building ------------------------------------------------------------------------------------
    def build(self) -> None:
        for source, where, ext in self.pending:
            if ext["name"] not in self.nets:
                self.b.warn(ImportCode.UNRESOLVED, source, where,
                            f"external network {ext['name']} is not described by any file given; give its "
                            f"'docker network inspect {ext['name']}' output too")
        for net in self.nets.values():
            self._net_outside(net)
        by_container: dict[str, list[_Attachment]] = {}
        for a in self.attachments.values():
            by_container.setdefault(a.container, []).append(a)
        # the order Docker created the containers in (the order a script made them), when 'docker
        # inspect' says it; else the order of the files (a network's own list is by container id)
        for cname in sorted(by_container, key=lambda c: self.created.get(c, ("", "", ""))):
            self._container_children(cname, by_container[cname])

    def _host_of(self, net: _Net) -> str:
        """A network's host: ``--host``, its own label, else the label any other network has (one
        daemon is one host), else the default."""
        named = next((n.labels[HOST_LABEL] for n in self.nets.values() if n.labels.get(HOST_LABEL)), None)
        return self.b.host_name(net.labels.get(HOST_LABEL), named)

    def _parent_of(self, net: _Net) -> str | None:
        if not net.parent:
            self.b.warn(ImportCode.UNSUPPORTED, net.source, net.where,
                        f"network {net.name} has no parent: Docker made a dummy link for it, which has no LAN; "
                        "its containers are not imported (give the network a parent with -o parent=NIC)")
            return None
        m = VLAN_RE.match(net.parent)
        if m:
            self.b.warn(ImportCode.VLAN_PARENT, net.source, f"{net.where}.parent",
                        f"{net.parent} is VLAN {m['vid']} on {m['base']}, which Docker creates itself; mvplan does "
                        f"not model VLANs yet, so {net.parent} is planned as a NIC of its own that must exist "
                        f"(create it with 'ip link add link {m['base']} name {net.parent} type vlan id {m['vid']}')")
        return fit_ifname(net.parent)

    def _net_outside(self, net: _Net) -> None:
        if DOCKER_LABEL in net.labels:
            self.b.outside(net.labels[DOCKER_LABEL], net.source, f"{net.where}.Labels.{DOCKER_LABEL}")
        if net.labels.get(DESIGN_LABEL) and net.labels[DESIGN_LABEL] not in self.b.design_names:
            self.b.design_names.append(net.labels[DESIGN_LABEL])
        parent = self._parent_of(net)
        if parent is None:
            return
        host = self._host_of(net)
        # one LAN per parent: a second network on the same NIC shares the first one's switch
        if (host, parent) not in self.lans:
            switch = self.lans[(host, parent)] = fit_name(net.name, "lan")
            self.b.uplink(host, parent, switch, self.b.free_port(switch, parent))
        switch = self.lans[(host, parent)]
        for subnet, gw in net.subnets:
            if gw is None:
                continue
            if self.b.station(f"{net.name}-gateway", f"{gw}/{subnet.prefixlen}", switch, net.source, net.where,
                              port="gw"):
                self.b.warn(ImportCode.DERIVED, net.source, net.where,
                            f"gateway {gw} of {net.name} is planned as a station on the LAN (Docker only reserves "
                            "the address; something there must answer)")
        for aux_name, addr in net.aux.items():
            try:
                ip = ipaddress.IPv4Address(addr)
            except ValueError:
                self.b.warn(ImportCode.UNSUPPORTED, net.source, f"{net.where}.AuxiliaryAddresses.{aux_name}",
                            f"auxiliary address {aux_name}={addr!r} is not an IPv4 address; skipped")
                continue
            prefix = next((s.prefixlen for s, _ in net.subnets if ip in s), 32)
            sname = self.b.station(aux_name, f"{addr}/{prefix}", switch, net.source, net.where)
            if sname:
                self.b.warn(ImportCode.DERIVED, net.source, f"{net.where}.AuxiliaryAddresses.{aux_name}",
                            f"auxiliary address {aux_name}={addr} is reserved for a device on the LAN: planned as "
                            f"station {sname} (remove it if nothing answers there)")

    def _container_children(self, cname: str, atts: list[_Attachment]) -> None:
        atts.sort(key=lambda a: (a.order if a.order is not None else 1 << 30, a.network))
        if len(atts) > 1 and any(a.order is None for a in atts):
            self.b.warn(ImportCode.GUESSED, atts[0].source, atts[0].where,
                        f"{cname} is on {len(atts)} networks; Docker's interface order (eth0, eth1, ...) is taken "
                        "to be the networks' name order (Docker records the order nowhere; check with 'ip link' in "
                        "the container)")
        ns = fit_name(cname, "container")
        first = True
        for k, a in enumerate(atts):
            net = self.nets.get(a.network)
            if net is None:
                self.b.warn(ImportCode.UNRESOLVED if a.order is not None else ImportCode.NOT_MACVLAN, a.source,
                            a.where, f"{cname} is on network {a.network}, which no file describes as a macvlan "
                            "network; that interface is not imported")
                continue
            parent = self._parent_of(net)
            if parent is None:
                continue
            host = self._host_of(net)
            child: dict[str, Any] = {"name": f"eth{k}", "parent": parent, "mode": net.mode, "namespace": ns}
            if a.mac:
                child["mac"] = a.mac.lower()
            addr = ipv4_interface(a.address) if a.address else None
            if addr is not None and "/" not in str(a.address):
                prefix = next((s.prefixlen for s, _ in net.subnets if addr.ip in s), 32)
                addr = ipaddress.IPv4Interface(f"{addr.ip}/{prefix}")
            if addr is None:
                self.b.warn(ImportCode.NO_ADDRESS, a.source, a.where,
                            f"{cname} on {net.name} has no IPv4 address in the file (Docker assigns one from the "
                            "pool when it starts): it is planned without one")
            else:
                child["addresses"] = [str(addr)]
                gw = next((g for s, g in net.subnets if addr.ip in s and g is not None), None)
                if first and gw is not None:
                    child["routes"] = [{"to": "default", "via": str(gw)}]
                    first = False
            self.b.child(host, child, a.source, a.where)


def import_docker(sources: list[Source], b: DesignBuilder) -> str:
    """Read every file into ``b``; return the fallback design name."""
    d = _Docker(b)
    for src in sources:
        d.read(src)
    d.build()
    return "docker"
