"""A model back to its canonical document (format v1): what the store, the editor and diffs keep."""
from __future__ import annotations

from typing import Any

from ..schema import FORMAT_VERSION
from .types import _L3, ALL_PEERS, Design, Station, SwitchPort, neighbor_entries

__all__ = ["design_to_dict"]


def design_to_dict(design: Design, resolved: bool = True) -> dict:
    """Canonical document. With ``resolved`` every default is written out explicitly."""
    return _design_to_dict(design, resolved)


def _l3_dict(obj: _L3, resolved: bool) -> dict:
    d: dict[str, Any] = {}
    if obj.addresses or obj.addresses6 or resolved:
        d["addresses"] = [str(a) for a in obj.addresses] + [str(a) for a in obj.addresses6]
    if obj.neighbors == ALL_PEERS:
        d["neighbors"] = ALL_PEERS
    elif obj.neighbors:
        d["neighbors"] = [n.to_dict() for n in neighbor_entries(obj.neighbors)]
    if obj.routes or obj.routes6:
        d["routes"] = [r.to_dict() for r in obj.routes + obj.routes6]
    if obj.forwarding:
        d["forwarding"] = True
    return d


def _switch_port_dict(p: SwitchPort) -> dict[str, Any]:
    d: dict[str, Any] = {"name": p.name, "hairpin": p.hairpin}
    if p.isolated:
        d["isolated"] = True
    if p.allowed_macs is not None:
        d["allowed_macs"] = list(p.allowed_macs)
    return d


def _station_dict(s: Station, resolved: bool) -> dict[str, Any]:
    d: dict[str, Any] = {"name": s.name, "uplink": s.uplink.to_dict() if s.uplink else None, "mac": s.mac,
                         **_l3_dict(s, resolved)}
    return d


def _design_to_dict(design: Design, resolved: bool) -> dict:
    out: dict[str, Any] = {"version": FORMAT_VERSION, "name": design.name}
    if design.description:
        out["description"] = design.description
    hosts = []
    for h in design.hosts:
        hd: dict[str, Any] = {"name": h.name}
        if h.parents:
            hd["parents"] = []
            for p in h.parents:
                pd: dict[str, Any] = {"name": p.name, "kind": p.kind, "mac": p.mac}
                if p.mtu_explicit or resolved:
                    pd["mtu"] = p.mtu
                pd.update(state=p.state, **_l3_dict(p, resolved))
                if p.uplink:
                    pd["uplink"] = p.uplink.to_dict()
                if p.platform:
                    pd["platform"] = p.platform
                hd["parents"].append(pd)
        if h.children:
            hd["children"] = []
            for c in h.children:
                cd: dict[str, Any] = {"name": c.name, "type": c.type, "parent": c.parent, "mode": c.mode}
                if c.mac_explicit or resolved:
                    cd["mac"] = c.mac
                if c.mtu_explicit:
                    cd["mtu"] = c.mtu
                cd["state"] = c.state
                if c.nopromisc:
                    cd["nopromisc"] = True
                if c.source_macs:
                    cd["source_macs"] = list(c.source_macs)
                if c.namespace:
                    cd["namespace"] = c.namespace
                cd.update(_l3_dict(c, resolved))
                hd["children"].append(cd)
        if h.bridges:
            hd["bridges"] = []
            for b in h.bridges:
                bd: dict[str, Any] = {"name": b.name, "mac": b.mac, "mtu": b.mtu, "state": b.state,
                                      **_l3_dict(b, resolved), "ports": []}
                for bp in b.ports:
                    bpd: dict[str, Any] = {"name": bp.name, "hairpin": bp.hairpin}
                    if bp.enslave:
                        bpd["enslave"] = True
                    if bp.peer:
                        pe = bp.peer
                        bpd["peer"] = {"name": pe.name, "mac": pe.mac, "mtu": pe.mtu, "state": pe.state,
                                      **_l3_dict(pe, resolved)}
                        if pe.namespace:
                            bpd["peer"]["namespace"] = pe.namespace
                    bd["ports"].append(bpd)
                hd["bridges"].append(bd)
        hosts.append(hd)
    out["hosts"] = hosts
    out["switches"] = [{"name": s.name, "ports": [_switch_port_dict(p) for p in s.ports]} for s in design.switches]
    out["stations"] = [_station_dict(s, resolved) for s in design.stations]
    if design.layout:
        out["layout"] = design.layout
    return out
