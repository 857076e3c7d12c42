"""Step 3 of compiling: the ops as a dependency graph, sorted deterministically.

Namespace before the links moved into it, parent before child, a child before the child declared
on it, create -> alias -> move, on each link removals before what flushes before additions,
addresses and neighbours before the link goes up, up before routes, delete before a re-create at
the same place; sorted with :func:`networkx.lexicographical_topological_sort`. The tie-break key is
(host, phase, position of the interface in ``design.interfaces``, generation order), so the same
design always gives the same plan, grouped in readable phases, and addresses and links come up in
design order - which decides which connected route wins when subnets overlap.
"""
from __future__ import annotations

import heapq
from collections.abc import Callable

import networkx as nx

from ..errors import CompileError
from ..ops import (
    CreateBridge,
    CreateMacvlan,
    CreateNamespace,
    CreateVeth,
    DeleteLink,
    DeleteNamespace,
    MoveToNamespace,
    Op,
    SetBridgePort,
    SetForwarding,
    SetHairpin,
    SetMtu,
    UnsetBridgePort,
)

__all__ = ["order_ops"]


_NONE: tuple = ()


def _tokens(op: Op) -> tuple[tuple, tuple, tuple, tuple]:
    """(provides, needs, consumes-by-move, frees) resource tokens of an op: ``("L", host, ns,
    name)`` a link, ``("N", host, ns)`` a namespace (none for the host's own), ``("MTU", host,
    ns, name)`` a link's MTU. A token may repeat (the edges it makes are a set)."""
    host, ns = op.host, op.ns
    here = (("N", host, ns),) if ns else _NONE
    if isinstance(op, CreateNamespace):
        return (("N", host, op.name),), here, _NONE, _NONE
    if isinstance(op, DeleteNamespace):
        return _NONE, here, _NONE, (("N", host, op.name),)
    if isinstance(op, CreateBridge):
        return (("L", host, ns, op.name),), here, _NONE, _NONE
    if isinstance(op, CreateVeth):
        there = (("N", host, op.peer_ns),) if op.peer_ns else _NONE
        return (("L", host, ns, op.name), ("L", host, op.peer_ns, op.peer)), here + there, _NONE, _NONE
    if isinstance(op, CreateMacvlan):
        # a new macvlan takes its lower device's MTU (and may not exceed it): the lower's MTU first
        into = (("N", host, op.netns),) if op.netns else _NONE
        return ((("L", host, op.netns or ns, op.name),),
                here + (("L", host, ns, op.link), ("MTU", host, ns, op.link)) + into, _NONE, _NONE)
    if isinstance(op, DeleteLink):
        needs = here
        if isinstance(op.recreate, CreateMacvlan):
            needs += (("L", host, op.recreate.ns, op.recreate.link),)
        return _NONE, needs, _NONE, (("L", host, ns, op.name),)
    if isinstance(op, MoveToNamespace):
        target = (("N", host, op.target_ns),) if op.target_ns else _NONE
        return (("L", host, op.target_ns, op.new_name),), here + target, (("L", host, ns, op.name),), _NONE
    if isinstance(op, SetForwarding):
        return _NONE, here, _NONE, _NONE  # a namespace setting: it needs the namespace only
    # every other op acts on one named link
    needs = here + (("L", host, ns, getattr(op, "name", "")),)
    provides = _NONE
    if isinstance(op, SetMtu):
        provides = (("MTU", host, ns, op.name),)
    elif isinstance(op, (SetBridgePort, UnsetBridgePort)):
        needs += (("L", host, ns, op.master),)
    elif isinstance(op, SetHairpin):
        needs += (("L", host, ns, op.bridge),)
    return provides, needs, _NONE, _NONE


def order_ops(ops: list[Op], sort: dict[str, tuple], extra_frees: dict[str, set]) -> list[Op]:
    """The ops in dependency order, ties broken by ``sort[key] + (key,)`` (smallest first)."""
    by_key = {op.key: op for op in ops}
    edges: list[tuple[str, str]] = []   # (a, b): a must run before b; a pair may repeat

    def edge(a: str, b: str) -> None:
        if a != b:
            edges.append((a, b))

    _resource_edges(ops, extra_frees, edge)
    _per_link_edges(ops, edge)
    order = _topological(list(by_key), edges, _tie_break(sort))
    if len(order) != len(by_key):  # pragma: no cover - would be a compiler bug
        g = nx.DiGraph(edges)
        raise CompileError(f"internal error: operations depend on each other in a cycle: {nx.find_cycle(g)}")
    return [by_key[k] for k in order]


def _tie_break(sort: dict[str, tuple]) -> Callable[[str], tuple]:
    """``sort[key] + (key,)``; just ``sort[key]`` when no two keys share a value (the compiler's
    values end in a per-host sequence number), which orders the same and builds no tuples."""
    if len(set(sort.values())) == len(sort):
        return sort.__getitem__
    return lambda k: sort[k] + (k,)


def _topological(nodes: list[str], edges: list[tuple[str, str]], key: Callable[[str], tuple]) -> list[str]:
    """Kahn's algorithm taking the smallest ready key first (what
    ``networkx.lexicographical_topological_sort`` does, without building a graph object).

    The phases are chosen so that the tie-break order itself nearly always respects every edge;
    then it *is* the answer (the smallest node left never waits for a larger one), and one pass
    over the edges proves it. Otherwise Kahn runs on each node's rank in that order (ints, not
    key tuples, in the heap). A node on a cycle is left out."""
    by_rank = sorted(nodes, key=key)
    rank = {k: i for i, k in enumerate(by_rank)}
    if all(rank[a] < rank[b] for a, b in edges):
        return by_rank
    indegree = [0] * len(by_rank)
    succ: list[list[int]] = [[] for _ in by_rank]
    for a, b in edges:
        rb = rank[b]
        succ[rank[a]].append(rb)
        indegree[rb] += 1
    ready = [r for r, n in enumerate(indegree) if n == 0]  # ascending: already a heap
    out = []
    while ready:
        r = heapq.heappop(ready)
        out.append(by_rank[r])
        for rb in succ[r]:
            indegree[rb] -= 1
            if indegree[rb] == 0:
                heapq.heappush(ready, rb)
    return out


def _resource_edges(ops: list[Op], extra_frees: dict[str, set], edge: Callable[[str, str], None]) -> None:
    """Edges from the resource tokens: who provides, needs, moves away or frees each name."""
    # token -> the ops that provide it, use it, move it away, free it, use it while deleting
    providers: dict[tuple, list[str]] = {}
    users: dict[tuple, list[str]] = {}
    movers: dict[tuple, list[str]] = {}
    freers: dict[tuple, list[str]] = {}
    deleters: dict[tuple, list[str]] = {}

    def note(role: dict[tuple, list[str]], tokens: tuple, key: str) -> None:
        for t in tokens:
            got = role.get(t)
            if got is None:
                role[t] = [key]
            else:
                got.append(key)

    for op in ops:
        key = op.key
        p, n, m, f = _tokens(op)
        extra = extra_frees.get(key)
        if extra:
            f = f + tuple(("L",) + t for t in extra)
        for t in p:  # note(providers, p, key), inline: the loop runs once per op
            got = providers.get(t)
            if got is None:
                providers[t] = [key]
            else:
                got.append(key)
        note(deleters if isinstance(op, DeleteLink) else users, n, key)
        if m:
            note(movers, m, key)
        if f:
            note(freers, f, key)
    none: list[str] = []
    special = movers.keys() | freers.keys()
    for t in special:
        _token_edges(t[0], providers.get(t, none), users.get(t, none), movers.get(t, none), freers.get(t, none),
                     deleters.get(t, none), edge)
    for t, made_by in providers.items():  # the usual token: made, then used (all _token_edges does then)
        used_by = users.get(t)
        if used_by and t not in special:
            for a in made_by:
                for b in used_by:
                    edge(a, b)


def _token_edges(kind: str, P: list[str], U: list[str], M: list[str], F: list[str], D: list[str],  # noqa: N803
                 edge: Callable[[str, str], None]) -> None:
    """The order one token imposes on its providers, users, movers, freers and deleting users."""
    for f in F:
        for d in D:
            edge(d, f)         # delete children before their lower
        for p in P:
            edge(f, p)         # free a place before re-creating there
        if kind == "N":
            for u in U + P + M:
                edge(u, f)     # everything in a namespace before deleting it
    for p in P:
        for u in U + M:
            edge(p, u)
    for m in M:
        for u in U:
            if u not in P:
                edge(u, m)     # alias etc. under the temporary name before the move
    if not P and kind == "L":
        for u in U:
            for f in F:
                edge(u, f)


#: the kinds of op :func:`_per_link_edges` orders among themselves
_LAYER3_KINDS = frozenset({"del-route", "del-neighbor", "del-address", "set-link-down", "set-mac", "add-address",
                           "add-neighbor", "add-route", "set-link-up", "set-bridge-port", "set-hairpin"})


def _per_link_edges(ops: list[Op], edge: Callable[[str, str], None]) -> None:
    """Layer 3, per link: what is removed goes before what flushes (else it is already gone), and
    both before what is added (a flush would take it; an equal route would collide); addresses
    before routes (a gateway is reachable through them); addresses and neighbours before up, up
    before routes; port before hairpin."""
    per_link: dict[tuple, dict[str, list[str]]] = {}
    for op in ops:
        kind = op.kind
        if kind in _LAYER3_KINDS:
            link = (op.host, op.ns, getattr(op, "name", None))
            kinds = per_link.get(link)
            if kinds is None:
                per_link[link] = {kind: [op.key]}
            elif kind in kinds:
                kinds[kind].append(op.key)
            else:
                kinds[kind] = [op.key]
    for kinds in per_link.values():
        if len(kinds) == 1 and len(next(iter(kinds.values()))) == 1:
            continue  # one op alone on its link: nothing to order
        removals = kinds.get("del-route", []) + kinds.get("del-neighbor", [])
        flushers = kinds.get("del-address", []) + kinds.get("set-link-down", []) + kinds.get("set-mac", [])
        additions = kinds.get("add-address", []) + kinds.get("add-neighbor", []) + kinds.get("add-route", [])
        for r in removals:
            for k in flushers + additions:
                edge(r, k)
        for f in flushers:
            for k in additions:
                edge(f, k)
        for a in kinds.get("add-address", []):
            for k in kinds.get("add-route", []):
                edge(a, k)
        for up in kinds.get("set-link-up", []):
            for k in kinds.get("add-address", []) + kinds.get("add-neighbor", []):
                edge(k, up)
            for k in kinds.get("add-route", []):
                edge(up, k)
        for sp in kinds.get("set-bridge-port", []):
            for k in kinds.get("set-hairpin", []):
                edge(sp, k)
