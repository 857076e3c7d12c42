"""The design as a networkx graph: the one topology every analysis walks.

Nodes are interface ids (``host1/eth0``, ``host1/ns:web/eth0``, ``station:gw``), switch ports
(``switch:sw1/p1``) and switches (``switch:sw1``). Each node has ``kind``; interface nodes
carry their :class:`planner.core.model.Iface` as ``iface``; switch-port nodes carry ``hairpin``.
Edges carry ``rel``:

* ``cable``  - a parent or station plugged into a switch port;
* ``veth``   - the two ends of a veth pair (host bridge port <-> namespace end or parent);
* ``port``   - a switch port belongs to its switch;
* ``master`` - a host bridge port (or enslaved NIC) belongs to its bridge;
* ``lower``  - a macvlan/macvtap child hangs off its effective parent.

>>> from planner.core.model import design_from_dict
>>> d = design_from_dict({"parents": [{"name": "eth0", "uplink": {"switch": "sw", "port": "p1"}}],
...                       "children": [{"name": "mv0", "parent": "eth0"}],
...                       "switches": [{"name": "sw", "ports": [{"name": "p1"}]}]})
>>> G = design_graph(d)
>>> sorted(G.neighbors("host/eth0"))
['host/mv0', 'switch:sw/p1']
>>> G.edges["host/eth0", "host/mv0"]["rel"]
'lower'
"""
from __future__ import annotations

import networkx as nx

from .model import Design

__all__ = ["design_graph", "wire_graph", "far_end", "behind", "l2_loops", "hairpin_loops", "loops_of"]


def design_graph(design: Design, *, children: bool = True) -> nx.Graph:
    """Build the topology graph of ``design`` (see the module docstring for its vocabulary);
    ``children=False`` leaves macvlan children out (the wires only)."""
    G = nx.Graph()
    for sw in design.switches:
        G.add_node(f"switch:{sw.name}", kind="switch")
        for p in sw.ports:
            node = f"switch:{sw.name}/{p.name}"
            G.add_node(node, kind="switch-port", hairpin=p.hairpin)
            G.add_edge(node, f"switch:{sw.name}", rel="port")
    ifaces = [i for i in design.interfaces if children or not i.is_child]
    for i in ifaces:
        G.add_node(i.id, kind=i.kind, iface=i)
    for i in ifaces:
        if i.is_child and i.lower:
            G.add_edge(i.id, i.lower, rel="lower")
        if i.master:
            G.add_edge(i.id, i.master, rel="master")
        if not i.link:
            continue
        if i.link.startswith("switch:"):
            G.add_edge(i.id, i.link, rel="cable")
        elif i.link.startswith("bridge:"):
            G.add_edge(i.id, f"{i.host}/{i.link.rsplit('/', 1)[1]}", rel="veth")
        else:
            G.add_edge(i.id, i.link, rel="veth")
    return G


def wire_graph(design: Design) -> nx.Graph:
    """The design graph without macvlan children (what loops can run through); built once per design."""
    cached = design.__dict__.get("_wire_graph")
    if cached is None:
        cached = design_graph(design, children=False)
        object.__setattr__(design, "_wire_graph", cached)
    return cached


def loops_of(design: Design) -> tuple[list[list[str]], list[list[str]]]:
    """(cycles, hairpin ping-pong links) of a design: everything MV116 reports; computed once."""
    cached = design.__dict__.get("_loops")
    if cached is None:
        G = wire_graph(design)
        cached = (l2_loops(G), hairpin_loops(G))
        object.__setattr__(design, "_loops", cached)
    return cached


def far_end(G: nx.Graph, node: str) -> str | None:
    """What a cable or veth plugged into ``node`` leads to (a switch port or an interface)."""
    for nbr, attrs in G.adj[node].items():
        if attrs["rel"] in ("cable", "veth"):
            return nbr
    return None


def behind(G: nx.Graph, start: str, avoid: str) -> set[str]:
    """Every node reachable from ``start`` without passing through ``avoid``."""
    view = nx.subgraph_view(G, filter_node=lambda n: n != avoid)
    return nx.node_connected_component(view, start)


def l2_loops(G: nx.Graph) -> list[list[str]]:
    """Cycles through cables, veths and bridges: broadcast storms without STP."""
    wires = nx.Graph((u, v) for u, v, rel in G.edges(data="rel") if rel != "lower")
    return [c for c in nx.cycle_basis(wires) if len(c) > 2]


def _reflects(G: nx.Graph, node: str) -> bool:
    """A bridge or switch port with hairpin on: it sends frames back out the way they came."""
    data = G.nodes[node]
    if data.get("kind") == "switch-port":
        return bool(data.get("hairpin"))
    iface = data.get("iface")
    return iface is not None and bool(iface.master) and bool(iface.hairpin)


def _bridge_of(G: nx.Graph, node: str) -> str | None:
    """The switch or host bridge a port node belongs to (None: not a bridge port)."""
    data = G.nodes[node]
    if data.get("kind") == "switch-port":
        return next((n for n, rel in G.adj[node].items() if rel["rel"] == "port"), None)
    iface = data.get("iface")
    return iface.master if iface is not None and iface.master else None


def hairpin_loops(G: nx.Graph) -> list[list[str]]:
    """Reflecting ports that send a broadcast round forever: the two ends of one link both with hairpin
    on (ping-pong), or two and more reflecting ports facing one bridge (it floods each one's
    reflection to the others)."""
    out = []
    facing: dict[str, set[str]] = {}
    for u, v, rel in G.edges(data="rel"):
        if rel not in ("cable", "veth"):
            continue
        ru, rv = _reflects(G, u), _reflects(G, v)
        if ru and rv:
            out.append(sorted((u, v)))
            continue
        for mirror, far in ((u, v), (v, u)):
            if _reflects(G, mirror) and _bridge_of(G, mirror) is not None:
                faced = _bridge_of(G, far)
                if faced is not None:
                    facing.setdefault(faced, set()).add(mirror)
    out += [sorted(mirrors) for mirrors in facing.values() if len(mirrors) > 1]
    return sorted(out)
