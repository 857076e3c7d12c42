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

from planner.core.livestate import LiveHost, LiveLink, LiveNamespace
from planner.core.ops import ALIAS_PREFIX
from .live import read_live

__all__ = ["design_doc_from_live", "discover", "parse_alias"]

CHILD_KINDS = ("macvlan", "macvtap")


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
    return d


def design_doc_from_live(live: LiveHost, *, host: str | None = None, name: str | None = None) -> tuple[dict, list[str]]:
    """(design document, skipped link descriptions) for one live host."""
    owners = Counter()
    hosts = Counter()
    for _ns, lk in live.iter_links():
        pa = parse_alias(lk.alias)
        if pa:
            owners[pa[0]] += 1
            hosts[pa[1].split("/", 1)[0]] += 1
    design_name = name or (owners.most_common(1)[0][0] if owners else "discovered")
    host_name = host or (hosts.most_common(1)[0][0] if hosts else "host")
    root = live.ns("") or LiveNamespace(name="")

    def owned_id(lk: LiveLink) -> str | None:
        pa = parse_alias(lk.alias)
        return pa[1] if pa and pa[0] == design_name else None

    children: list[dict] = []
    bridges: list[dict] = []
    parent_names: dict[str, None] = {}
    uplinks: dict[str, dict] = {}
    veth_parents: set[str] = set()
    used: set[tuple[str, str]] = set()
    skipped: list[str] = []

    # veth parents mvplan created (alias id without '#peer') and their far ends
    for lk in root.links:
        oid = owned_id(lk)
        if lk.kind == "veth" and oid and oid.rsplit("/", 1)[-1] == lk.name and "/ns:" not in oid:
            far = root.link(lk.link) if lk.link and (lk.link_ns or "") == "" else None
            far_id = owned_id(far) if far else None
            if far is not None and far_id == oid + "#peer":
                veth_parents.add(lk.name)
                used.add(("", far.name))
            elif far is not None and far.master and far_id and far_id.rsplit("/", 1)[-1] == far.name:
                veth_parents.add(lk.name)  # cabled to a bridge port (handled with the bridge)

    # bridges and their ports
    for lk in root.links:
        if lk.kind != "bridge":
            continue
        used.add(("", lk.name))
        bd: dict[str, Any] = {"name": lk.name}
        if lk.mac:
            bd["mac"] = lk.mac
        if lk.mtu:
            bd["mtu"] = lk.mtu
        bd["state"] = lk.state or "up"
        bd.update(_l3(root, lk.name))
        ports = []
        for p in root.links:
            if p.master != lk.name:
                continue
            used.add(("", p.name))
            pd: dict[str, Any] = {"name": p.name, "hairpin": bool(p.hairpin)}
            if p.kind == "veth" and p.link and p.link_ns and owned_id(p):
                peer_ns = live.ns(p.link_ns)
                peer = peer_ns.link(p.link) if peer_ns else None
                if peer is not None:
                    used.add((p.link_ns, peer.name))
                    pe: dict[str, Any] = {"name": peer.name, "namespace": p.link_ns}
                    if peer.mac:
                        pe["mac"] = peer.mac
                    if peer.mtu:
                        pe["mtu"] = peer.mtu
                    pe["state"] = peer.state or "up"
                    pe.update(_l3(peer_ns, peer.name))
                    pd["peer"] = pe
            elif p.kind == "veth" and p.link and (p.link_ns or "") == "" and p.link in veth_parents:
                uplinks[p.link] = {"bridge": lk.name, "port": p.name}
                used.add(("", p.link))
            else:
                pd["enslave"] = True
                parent_names.setdefault(p.name, None)
            ports.append(pd)
        bd["ports"] = ports
        bridges.append(bd)

    # children, in namespace order (host namespace first), lowers become parents
    parent_mtu = {lk.name: lk.mtu for lk in root.links}
    parent_mac = {lk.name: lk.mac for lk in root.links}
    for lns in sorted(live.namespaces, key=lambda n: (n.name != "", n.name)):
        for lk in lns.links:
            if lk.kind not in CHILD_KINDS:
                continue
            used.add((lns.name, lk.name))
            if not lk.link or (lk.link_ns or "") != "":
                skipped.append(f"{lns.name or '(host)'}/{lk.name}: {lk.kind} whose lower device is not in the host "
                               "namespace")
                continue
            parent_names.setdefault(lk.link, None)
            cd: dict[str, Any] = {"name": lk.name, "type": lk.kind, "parent": lk.link, "mode": lk.mode or "bridge"}
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
            children.append(cd)

    # parents: lowers, enslaved devices, veth parents, configured devices
    for pname in sorted(veth_parents):
        parent_names.setdefault(pname, None)
    for lk in root.links:
        if lk.name in parent_names or ("", lk.name) in used:
            continue
        if root.addresses_of(lk.name) or root.routes_of(lk.name):
            parent_names.setdefault(lk.name, None)
        else:
            skipped.append(f"(host)/{lk.name}: {lk.kind or 'device'} without children, ports or addresses")
    parents = []
    for lk in root.links:
        if lk.name not in parent_names:
            continue
        pname = lk.name
        pd = {"name": pname, "kind": "veth" if pname in veth_parents else "ethernet"}
        if lk.mac:
            pd["mac"] = lk.mac
        if lk.mtu:
            pd["mtu"] = lk.mtu
        pd["state"] = lk.state or "up"
        pd.update(_l3(root, pname))
        if pname in uplinks:
            pd["uplink"] = uplinks[pname]
        parents.append(pd)
    for lns in live.namespaces:
        if not lns.name:
            continue
        for lk in lns.links:
            if (lns.name, lk.name) not in used:
                skipped.append(f"{lns.name}/{lk.name}: {lk.kind or 'device'} not attached to the host")

    hd: dict[str, Any] = {"name": host_name}
    if parents:
        hd["parents"] = parents
    if children:
        hd["children"] = children
    if bridges:
        hd["bridges"] = bridges
    doc = {"version": 1, "name": design_name,
           "description": "discovered from the live state by mvplan discover", "hosts": [hd]}
    return doc, skipped


def discover(netns: str | None = None, *, host: str | None = None, name: str | None = None,
             prefix: str | None = None) -> tuple[dict, list[str]]:
    """Read a host (or the netns standing for one) and describe it as a design document."""
    live = read_live(netns, prefix=prefix, host=host or "host")
    return design_doc_from_live(live.hosts[0], host=host, name=name)
