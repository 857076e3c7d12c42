"""Docker: ``docker network create`` commands (and the containers on them) plus a Compose file.

Built from the host as the compiled plan leaves it (:mod:`._guests`): one macvlan network per NIC
that carries children in namespaces - Docker allows one network per parent - with
``-o parent=NIC -o macvlan_mode=MODE`` (always explicit), a ``--subnet``/``--gateway`` pair per
subnet of its children, and one container per namespace (``docker run --network NET --ip ADDRESS
--mac-address MAC``; further networks with ``docker network connect --ip``). The gateway is the
``via`` of the children's default route, else a station in the subnet; Docker installs a default
route through it in each container (on the container's first network).

``<host>.docker.sh`` (POSIX sh, every argument quoted) and ``<host>.compose.yaml`` (``networks:``
and ``services:``) say the same; use one of them. Each network carries the labels
``mvplan.design``, ``mvplan.host`` and ``mvplan.outside`` (the switches and stations, see
:mod:`planner.importers.outside`), so ``mvplan import --from docker`` of ``docker network
inspect`` gives the design back.

What Docker cannot express is a warning, in the files and in the result: children in the host's
own namespace (a host shim), macvtap, source mode, several modes on one NIC, nopromisc, a child
MTU, more than one address, subnets that overlap another NIC's (one daemon refuses overlapping
pools), static neighbours, routes other than Docker's default route, links
that stay down, other links in a namespace, interface names other than Docker's ``eth0``,
``eth1``..., one-character namespace names (Docker refuses them as container names: ``ns-a``), a MAC
on a second network (``docker network connect`` cannot set one), and the NICs'
own settings.
"""
from __future__ import annotations

import ipaddress
import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass, field

import yaml

from planner.core.compiler import Plan
from planner.core.model import Design
from planner.importers.docker import DESIGN_LABEL, HOST_LABEL
from planner.importers.outside import DOCKER_LABEL, encode_outside, outside_fragment

from ._common import GENERATOR, ExportResult, comment_text, external_notes, plan_and_hosts, plan_notes
from ._guests import Guest, GuestIface, HostView, host_guests, ipv4_only

__all__ = ["export_docker", "network_name"]


#: Docker's container names: at least two characters (a one-character name is refused - measured)
CONTAINER_NAME_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]+$")


def network_name(parent: str) -> str:
    """The Docker network of the children on NIC ``parent``."""
    return f"macvlan-{parent}"


@dataclass
class _Network:
    name: str
    parent: str
    mode: str
    subnets: list[tuple[ipaddress.IPv4Network, ipaddress.IPv4Address]] = field(default_factory=list)
    users: list[str] = field(default_factory=list)


@dataclass
class _Attachment:
    iface: GuestIface
    network: str
    ip: str | None
    gateway: str | None


class _HostExport:
    """One host's networks, containers and warnings."""

    def __init__(self, design: Design, view: HostView):
        self.design, self.view, self.host = design, view, view.host
        self.warnings: list[str] = []
        self.networks: dict[str, _Network] = {}
        self.containers: list[tuple[Guest, list[_Attachment]]] = []
        self.used = {a.ip for i in design.interfaces for a in i.addresses}
        #: namespace -> its container's name
        self.names: dict[str, str] = {}
        #: subnet -> the network that holds it (one daemon refuses overlapping pools)
        self.claims: dict[ipaddress.IPv4Network, str] = {}

    def warn(self, text: str) -> None:
        if text not in self.warnings:
            self.warnings.append(text)

    # -- what Docker cannot say ------------------------------------------------------------------
    def ipv4(self, gi: GuestIface) -> GuestIface:
        kept, note = ipv4_only(gi, "Docker")
        if note:
            self.warn(note)
        return kept

    def usable(self, gi: GuestIface) -> bool:
        if gi.kind == "macvtap":
            self.warn(f"{gi.iid}: Docker creates macvlan interfaces only; the macvtap {gi.name} is not exported "
                      "(use the libvirt or iproute2 export)")
            return False
        if gi.mode == "source":
            self.warn(f"{gi.iid}: Docker's macvlan_mode has no source mode; {gi.name} is not exported")
            return False
        return True

    def claim(self, gi: GuestIface) -> bool:
        """Whether ``gi``'s subnet can go on its network: one Docker daemon refuses a network whose
        subnet overlaps another network's ("Pool overlaps with other one on this address space")."""
        if not gi.addresses:
            return True
        subnet = ipaddress.IPv4Interface(gi.addresses[0]).network
        mine = network_name(gi.parent)
        for have, other in self.claims.items():
            if other != mine and have.overlaps(subnet):
                self.warn(f"{gi.iid}: Docker refuses two networks with overlapping subnets on one daemon ('Pool "
                          f"overlaps with other one on this address space'): {subnet} on {gi.parent} overlaps {have} "
                          f"of {other}; {gi.name} is not exported (give each NIC's children their own subnet, or "
                          "run one daemon per NIC)")
                return False
        self.claims.setdefault(subnet, mine)
        return True

    def settings(self, gi: GuestIface, k: int) -> None:
        if gi.name != f"eth{k}":
            self.warn(f"{gi.iid}: Docker names the container's interfaces eth0, eth1, ... in the order they are "
                      f"connected: {gi.name} will be eth{k}")
        if gi.mtu is not None:
            self.warn(f"{gi.iid}: Docker's macvlan driver has no MTU option; {gi.name} gets its parent's MTU, "
                      f"not {gi.mtu}")
        if gi.nopromisc:
            self.warn(f"{gi.iid}: Docker has no nopromisc flag")
        if gi.bcqueuelen is not None:
            self.warn(f"{gi.iid}: Docker has no bcqueuelen option; {gi.bcqueuelen} is not applied")
        if gi.state == "down":
            self.warn(f"{gi.iid}: Docker brings every container interface up; the design keeps {gi.name} down")
        if len(gi.addresses) > 1:
            self.warn(f"{gi.iid}: Docker gives a container one IPv4 address per network; "
                      f"{', '.join(gi.addresses[1:])} are not exported")
        if not gi.addresses:
            self.warn(f"{gi.iid}: the design gives {gi.name} no address; Docker assigns one from the subnet")
        if gi.neighbors:
            self.warn(f"{gi.iid}: Docker has no static neighbour entries; add them in the container: " + "; ".join(
                f"ip neigh replace {n.address} lladdr {n.mac} dev eth{k} nud permanent" for n in gi.neighbors))

    # -- networks ---------------------------------------------------------------------------------
    def network_for(self, gi: GuestIface) -> _Network:
        name = network_name(gi.parent)
        net = self.networks.get(name)
        if net is None:
            net = self.networks[name] = _Network(name=name, parent=gi.parent, mode=gi.mode)
        elif gi.mode != net.mode:
            self.warn(f"{gi.iid}: Docker allows one macvlan network, so one mode, per parent: {gi.name} is "
                      f"{gi.mode} in the design but joins {name} in {net.mode} mode")
        if gi.declared != gi.parent:
            self.warn(f"{gi.iid}: declared on {gi.declared}, which is itself a macvlan; the kernel puts it on "
                      f"{gi.parent}, and so does the export")
        net.users.append(gi.iid)
        return net

    def gateway(self, net: _Network, subnet: ipaddress.IPv4Network, gi: GuestIface) -> ipaddress.IPv4Address:
        for have, gw in net.subnets:
            if have == subnet:
                return gw
        via = [ipaddress.IPv4Address(r.via) for g in self.view.guests for i in g.ifaces if i.parent == net.parent
               for r in i.routes if r.via and ":" not in r.via and ipaddress.IPv4Address(r.via) in subnet]
        stations = [a.ip for s in self.design.stations for a in s.addresses if a.ip in subnet]
        if via or stations:
            gw = (via or stations)[0]
        else:
            gw = next(ip for ip in subnet.hosts() if ip not in self.used)
            self.warn(f"{gi.iid}: Docker needs a gateway in {subnet}; nothing in the design is one, so the unused "
                      f"{gw} is reserved as the gateway (containers get a default route through it)")
        net.subnets.append((subnet, gw))
        return gw

    def routes(self, gi: GuestIface, gateway: str | None, first: bool) -> None:
        docker = [("0.0.0.0/0", gateway)] if first and gateway else []
        design = [(r.to, r.via) for r in gi.routes]
        if design == docker:
            return
        if docker and ("0.0.0.0/0", gateway) not in design:
            self.warn(f"{gi.iid}: Docker adds a default route via the network's gateway {gateway} in the container, "
                      "which the design does not have")
        extra = [f"{to} via {via}" if via else f"{to}" for to, via in design if (to, via) not in docker]
        if extra:
            self.warn(f"{gi.iid}: Docker sets no routes but the default one; add in the container: " + "; ".join(
                f"ip route add {r} dev {gi.name}" for r in extra))

    # -- the whole host ----------------------------------------------------------------------------
    def build(self) -> None:
        for gi in self.view.host_children:
            self.warn(f"{gi.iid}: Docker cannot create macvlan interfaces in the host's own namespace (a host "
                      "shim); use the iproute2 or networkd export for it")
        for other in self.view.host_others:
            self.warn(f"{other}: Docker does not create host bridges or veths; not exported")
        for nic, (mtu, addrs) in self.view.nic_config.items():
            if mtu is not None or addrs:
                self.warn(f"{self.host}/{nic}: Docker does not configure the parent NIC "
                          f"({'MTU ' + str(mtu) if mtu else ''}{', ' if mtu and addrs else ''}{', '.join(addrs)}): "
                          "set it up outside Docker")
        for guest in self.view.guests:
            for other in guest.others:
                self.warn(f"{other}: a container holds only Docker's own interfaces; not exported")
            usable = [gi for gi in map(self.ipv4, guest.ifaces) if self.usable(gi) and self.claim(gi)]
            if not usable:
                continue
            atts = []
            for k, gi in enumerate(usable):
                self.settings(gi, k)
                net = self.network_for(gi)
                ip = gw = None
                if gi.addresses:
                    addr = ipaddress.IPv4Interface(gi.addresses[0])
                    gw = str(self.gateway(net, addr.network, gi))
                    ip = str(addr.ip)
                self.routes(gi, gw, k == 0)
                if k > 0 and gi.mac:
                    self.warn(f"{gi.iid}: 'docker network connect' cannot set a MAC; Docker derives one for "
                              f"{gi.name} from its address instead of {gi.mac}")
                atts.append(_Attachment(gi, net.name, ip, gw))
            self.container_name(guest)
            self.containers.append((guest, atts))

    def container_name(self, guest: Guest) -> str:
        """The container standing for ``guest``'s namespace: its name, unless Docker refuses it."""
        ns = guest.namespace
        if ns not in self.names:
            name = ns
            if not CONTAINER_NAME_RE.match(name):
                taken = {g.namespace for g in self.view.guests} | set(self.names.values())
                name, k = f"ns-{ns}", 1
                while name in taken:
                    k += 1
                    name = f"ns-{ns}-{k}"
                self.warn(f"{self.host}/ns:{ns}: Docker refuses container names shorter than two characters "
                          f"('Invalid container name'); namespace {ns} is container {name}")
            self.names[ns] = name
        return self.names[ns]

    def labels(self) -> dict[str, str]:
        return {DESIGN_LABEL: self.design.name, HOST_LABEL: self.host,
                DOCKER_LABEL: encode_outside(outside_fragment(self.design, [self.host]))}


def _script(he: _HostExport, head: list[str]) -> str:
    q = shlex.quote
    lines = ["#!/bin/sh", *head, "set -eu", 'DOCKER=${DOCKER:-docker}', 'MVPLAN_IMAGE=${MVPLAN_IMAGE:-busybox}',
             'MVPLAN_COMMAND=${MVPLAN_COMMAND:-sleep infinity}']
    labels = " ".join(f"--label {q(f'{k}={v}')}" for k, v in he.labels().items())
    for net in he.networks.values():
        subnets = " ".join(f"--subnet {q(str(s))} --gateway {q(str(g))}" for s, g in net.subnets)
        lines += ["", comment_text(f"# {he.host}/{net.parent}: macvlan network on {net.parent} (mode {net.mode}) "
                                   f"for {', '.join(net.users)}"),
                  " ".join(x for x in ("$DOCKER network create --driver macvlan", subnets,
                                       f"--opt {q('parent=' + net.parent)} --opt {q('macvlan_mode=' + net.mode)}",
                                       labels, q(net.name)) if x)]
    for guest, atts in he.containers:
        first, rest = atts[0], atts[1:]
        run = ["$DOCKER run --detach", f"--name {q(he.names[guest.namespace])}", f"--network {q(first.network)}"]
        if first.ip:
            run.append(f"--ip {q(first.ip)}")
        if first.iface.mac:
            run.append(f"--mac-address {q(first.iface.mac)}")
        if guest.forwarding:
            run.append(f"--sysctl {q(FORWARD_SYSCTL)}")
        run.append('"$MVPLAN_IMAGE" $MVPLAN_COMMAND')
        lines += ["", comment_text(f"# {he.host}/ns:{guest.namespace}: container {he.names[guest.namespace]} "
                                   f"({', '.join(a.iface.name for a in atts)})"), " ".join(run)]
        for a in rest:
            ip = f" --ip {q(a.ip)}" if a.ip else ""
            lines.append(f"$DOCKER network connect{ip} {q(a.network)} {q(he.names[guest.namespace])}")
    if not he.networks:
        lines += ["", "# nothing to do: no children in namespaces", ":"]
    return "\n".join(lines) + "\n"


#: a routing container's sysctl (IPv4 only: the export carries IPv4, see ipv4_only)
FORWARD_SYSCTL = "net.ipv4.ip_forward=1"


def _compose(he: _HostExport, head: list[str]) -> str:
    networks: dict[str, dict] = {}
    for net in he.networks.values():
        nd: dict = {"name": net.name, "driver": "macvlan",
                    "driver_opts": {"parent": net.parent, "macvlan_mode": net.mode}}
        if net.subnets:
            nd["ipam"] = {"config": [{"subnet": str(s), "gateway": str(g)} for s, g in net.subnets]}
        nd["labels"] = he.labels()
        networks[net.name] = nd
    services: dict[str, dict] = {}
    for guest, atts in he.containers:
        svc: dict = {"image": "${MVPLAN_IMAGE:-busybox}", "command": "${MVPLAN_COMMAND:-sleep infinity}",
                     "container_name": he.names[guest.namespace]}
        if atts[0].iface.mac:
            svc["mac_address"] = atts[0].iface.mac
        if guest.forwarding:
            svc["sysctls"] = [FORWARD_SYSCTL]
        nets: dict[str, dict] = {}
        for k, a in enumerate(atts):
            entry: dict = {}
            if a.ip:
                entry["ipv4_address"] = a.ip
            if len(atts) > 1:
                entry["priority"] = 1000 - k  # Docker connects higher priorities first: eth0, eth1, ...
            nets[a.network] = entry
        svc["networks"] = nets
        services[he.names[guest.namespace]] = svc
    doc = {"version": "2.4", "services": services, "networks": networks}
    body = yaml.safe_dump(doc, sort_keys=False, default_flow_style=False, allow_unicode=True, width=1000)
    return "\n".join(head) + "\n" + body


def export_docker(design: Design, *, plan: Plan | None = None, hosts: Iterable[str] | None = None,
                  check: bool = True) -> ExportResult:
    """``<host>.docker.sh`` and ``<host>.compose.yaml`` per host."""
    plan, chosen = plan_and_hosts(design, plan, hosts, check)
    files: dict[str, str] = {}
    warnings: list[str] = []
    for h in chosen:
        he = _HostExport(design, host_guests(design, plan, h.name))
        he.build()
        host_warnings = plan_notes(plan, h.name) + he.warnings
        warnings += host_warnings
        undo = " ".join(shlex.quote(he.names[g.namespace]) for g, _ in he.containers)
        nets = " ".join(shlex.quote(n) for n in he.networks)
        head = [f"# {GENERATOR}: Docker networks and containers", f"# design: {design.name}", f"# host: {h.name}"]
        script_head = head + [
            f"# Run it on the host (as a user of the Docker daemon):  sh {h.name}.docker.sh",
            "# Another daemon: DOCKER='docker -H unix:///path/to/docker.sock' sh SCRIPT. The containers run",
            "# $MVPLAN_IMAGE (default busybox) with $MVPLAN_COMMAND (default: sleep infinity): put your own",
            f"# there, or keep only the 'docker network create' lines. {h.name}.compose.yaml says the same.",
        ]
        if he.containers or he.networks:
            script_head.append(f"# Undo: docker rm -f {undo}; docker network rm {nets}".rstrip("; "))
        compose_head = head + [f"# docker compose -f {h.name}.compose.yaml up -d  (the same as {h.name}.docker.sh;"
                               " use one of them)"]
        tail = [f"# WARNING: {w}" for w in host_warnings] + [f"# note: {n}" for n in external_notes(design, h.name)]
        files[f"{h.name}.docker.sh"] = _script(he, [comment_text(x) for x in script_head + tail])
        files[f"{h.name}.compose.yaml"] = _compose(he, [comment_text(x) for x in compose_head + tail])
    return ExportResult(files=files, warnings=warnings)
