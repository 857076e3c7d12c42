"""Live state -> a design document (format v1) that :func:`planner.core.model.design_from_dict` accepts.

What becomes what (one host; its own namespace and its named namespaces):

* a ``macvlan``/``macvtap`` anywhere -> a child on its lower device, with mode, ``nopromisc``,
  source MACs, MAC, MTU (only when it differs from the parent's), state, namespace, addresses,
  permanent neighbours and static routes;
* a ``bridge`` in the host namespace -> a bridge; its ports: a veth whose peer is in a namespace
  -> a port with that ``peer``; a veth parent mvplan made and cabled to it -> a port plus the
  parent's ``uplink: {bridge, port}``; any other device -> an ``enslave: true`` port;
* the lower devices of children, enslaved devices, veth parents mvplan created and devices with
  IPv4 configuration -> parents (``kind: veth`` when mvplan's alias says it created a veth parent,
  else ``ethernet``). Anything else (an unused NIC, the far ends of veths) is left out and listed
  in ``skipped``.

Links that carry mvplan's ownership alias name their design and host; the document takes them,
so ``discover(apply(design))`` gives a design whose expected state equals the original's and
whose plan against the live state is empty. Switches, stations and uplinks to switches cannot be
seen from a host and are not written.
"""
from __future__ import annotations

from collections import Counter
from typing import Any

from planner.core.ids import short
from planner.core.livestate import LiveHost, LiveLink, LiveNamespace
from planner.core.ops import ALIAS_PREFIX
from planner.core.schema import CHILD_TYPES, DEFAULT_MODE

from .live import read_live

__all__ = ["design_doc_from_live", "discover", "parse_alias"]

CHILD_KINDS = CHILD_TYPES


def parse_alias(alias: str | None) -> tuple[str, str] | None:
    """(design name, iface id) of an mvplan ownership alias, or None."""
    if not alias or not alias.startswith(ALIAS_PREFIX):
        return None
    rest = alias[len(ALIAS_PREFIX):]
    name, sep, iid = rest.partition(":")
    if not sep or not iid or name.startswith("#"):
        return None
    return name, iid


def _l3(lns: LiveNamespace, dev: str, include_routes: bool = True) -> dict:
    d: dict[str, Any] = {}
    addrs = lns.addresses_of(dev)
    if addrs:
        d["addresses"] = addrs
    neigh = lns.neighbors_of(dev)
    if neigh:
        d["neighbors"] = [{"address": n.address, "mac": n.mac} for n in neigh]
    routes = lns.routes_of(dev) if include_routes else []
    if routes:
        d["routes"] = [{"to": "default" if r.to == "0.0.0.0/0" else r.to, **({"via": r.via} if r.via else {})}
                       for r in routes]
    if lns.forwarding and addrs:
        d["forwarding"] = True  # the namespace routes (its sysctl; said on each of its addressed interfaces)
    return d


def design_doc_from_live(live: LiveHost, *, host: str | None = None, name: str | None = None) -> tuple[dict, list[str]]:
    """(design document, skipped link descriptions) for one live host."""
    owners: Counter[str] = Counter()
    hosts: Counter[str] = Counter()
    for _ns, lk in live.iter_links():
        pa = parse_alias(lk.alias)
        if pa:
            owners[pa[0]] += 1
            hosts[pa[1].split("/", 1)[0]] += 1
    design_name = name or (owners.most_common(1)[0][0] if owners else "discovered")
    host_name = host or (hosts.most_common(1)[0][0] if hosts else "host")
    return _Discovery(live, design_name).document(host_name)


class _Discovery:
    """Reads one live host into design objects; ``used`` marks the links that found their place."""

    def __init__(self, live: LiveHost, design_name: str):
        self.live, self.design_name = live, design_name
        self.root = live.ns("") or LiveNamespace(name="")
        self.parent_names: dict[str, None] = {}
        self.uplinks: dict[str, dict] = {}
        self.veth_parents: set[str] = set()
        self.used: set[tuple[str, str]] = set()
        self.skipped: list[str] = []

    def owned_id(self, lk: LiveLink | None) -> str | None:
        pa = parse_alias(lk.alias) if lk is not None else None
        return pa[1] if pa and pa[0] == self.design_name else None

    def document(self, host_name: str) -> tuple[dict, list[str]]:
        self.find_veth_parents()
        bridges = [self.bridge(lk) for lk in self.root.links if lk.kind == "bridge"]
        children = self.children()
        parents = self.parents()
        self.leftovers()
        hd: dict[str, Any] = {"name": host_name}
        if parents:
            hd["parents"] = parents
        if children:
            hd["children"] = children
        if bridges:
            hd["bridges"] = bridges
        doc = {"version": 1, "name": self.design_name,
               "description": "discovered from the live state by mvplan discover", "hosts": [hd]}
        return doc, self.skipped

    def find_veth_parents(self) -> None:
        """veth parents mvplan created (alias id without '#peer') and their far ends."""
        for lk in self.root.links:
            oid = self.owned_id(lk)
            if lk.kind == "veth" and oid and short(oid) == lk.name and "/ns:" not in oid:
                far = self.root.link(lk.link) if lk.link and (lk.link_ns or "") == "" else None
                far_id = self.owned_id(far)
                if far is not None and far_id == oid + "#peer":
                    self.veth_parents.add(lk.name)
                    self.used.add(("", far.name))
                elif far is not None and far.master and far_id and short(far_id) == far.name:
                    self.veth_parents.add(lk.name)  # cabled to a bridge port (handled with the bridge)

    def bridge(self, lk: LiveLink) -> dict:
        self.used.add(("", lk.name))
        bd: dict[str, Any] = {"name": lk.name}
        if lk.mac:
            bd["mac"] = lk.mac
        if lk.mtu:
            bd["mtu"] = lk.mtu
        bd["state"] = lk.state or "up"
        bd.update(_l3(self.root, lk.name))
        bd["ports"] = [self.bridge_port(lk, p) for p in self.root.links if p.master == lk.name]
        return bd

    def bridge_port(self, br: LiveLink, p: LiveLink) -> dict:
        self.used.add(("", p.name))
        pd: dict[str, Any] = {"name": p.name, "hairpin": bool(p.hairpin)}
        if p.kind == "veth" and p.link and p.link_ns and self.owned_id(p):
            peer_ns = self.live.ns(p.link_ns)
            peer = peer_ns.link(p.link) if peer_ns else None
            if peer_ns is not None and peer is not None:
                self.used.add((p.link_ns, peer.name))
                pe: dict[str, Any] = {"name": peer.name, "namespace": p.link_ns}
                if peer.mac:
                    pe["mac"] = peer.mac
                if peer.mtu:
                    pe["mtu"] = peer.mtu
                pe["state"] = peer.state or "up"
                pe.update(_l3(peer_ns, peer.name))
                pd["peer"] = pe
        elif p.kind == "veth" and p.link and (p.link_ns or "") == "" and p.link in self.veth_parents:
            self.uplinks[p.link] = {"bridge": br.name, "port": p.name}
            self.used.add(("", p.link))
        else:
            pd["enslave"] = True
            self.parent_names.setdefault(p.name, None)
        return pd

    def children(self) -> list[dict]:
        """Children in namespace order (host namespace first); their lowers become parents."""
        parent_mtu = {lk.name: lk.mtu for lk in self.root.links}
        parent_mac = {lk.name: lk.mac for lk in self.root.links}
        out = []
        for lns in sorted(self.live.namespaces, key=lambda n: (n.name != "", n.name)):
            for lk in lns.links:
                if lk.kind not in CHILD_KINDS:
                    continue
                self.used.add((lns.name, lk.name))
                if not lk.link or (lk.link_ns or "") != "":
                    self.skipped.append(f"{lns.name or '(host)'}/{lk.name}: {lk.kind} whose lower device is not in "
                                        "the host namespace")
                    continue
                self.parent_names.setdefault(lk.link, None)
                cd: dict[str, Any] = {"name": lk.name, "type": lk.kind, "parent": lk.link,
                                      "mode": lk.mode or DEFAULT_MODE}
                if lk.mac and not (lk.mode == "passthru" and lk.mac == parent_mac.get(lk.link)):
                    cd["mac"] = lk.mac
                if lk.mtu and lk.mtu != parent_mtu.get(lk.link):
                    cd["mtu"] = lk.mtu
                cd["state"] = lk.state or "up"
                if lk.nopromisc:
                    cd["nopromisc"] = True
                if lk.mode == "source" and lk.source_macs:
                    cd["source_macs"] = list(lk.source_macs)
                if lns.name:
                    cd["namespace"] = lns.name
                cd.update(_l3(lns, lk.name))
                out.append(cd)
        return out

    def parents(self) -> list[dict]:
        """Lowers, enslaved devices, veth parents and other configured devices of the host namespace."""
        root = self.root
        for pname in sorted(self.veth_parents):
            self.parent_names.setdefault(pname, None)
        for lk in root.links:
            if lk.name in self.parent_names or ("", lk.name) in self.used:
                continue
            if root.addresses_of(lk.name) or root.routes_of(lk.name):
                self.parent_names.setdefault(lk.name, None)
            else:
                self.skipped.append(f"(host)/{lk.name}: {lk.kind or 'device'} without children, ports or addresses")
        out = []
        for lk in root.links:
            if lk.name not in self.parent_names:
                continue
            pd: dict[str, Any] = {"name": lk.name, "kind": "veth" if lk.name in self.veth_parents else "ethernet"}
            if lk.mac:
                pd["mac"] = lk.mac
            if lk.mtu:
                pd["mtu"] = lk.mtu
            pd["state"] = lk.state or "up"
            pd.update(_l3(root, lk.name))
            if lk.name in self.uplinks:
                pd["uplink"] = self.uplinks[lk.name]
            out.append(pd)
        return out

    def leftovers(self) -> None:
        for lns in self.live.namespaces:
            if not lns.name:
                continue
            for lk in lns.links:
                if (lns.name, lk.name) not in self.used:
                    self.skipped.append(f"{lns.name}/{lk.name}: {lk.kind or 'device'} not attached to the host")


def discover(netns: str | None = None, *, host: str | None = None, name: str | None = None,
             prefix: str | None = None) -> tuple[dict, list[str]]:
    """Read a host (or the netns standing for one) and describe it as a design document."""
    live = read_live(netns, prefix=prefix, host=host or "host")
    return design_doc_from_live(live.hosts[0], host=host, name=name)
