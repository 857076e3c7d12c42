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


def _tokens(op: Op) -> tuple[set, set, set, set]:
    """(provides, needs, consumes-by-move, frees) resource tokens of an op."""
    def L(ns: str, name: str) -> tuple:  # noqa: N802 - a link token, as the docs write it
        return ("L", op.host, ns, name)

    def N(ns: str) -> set:  # noqa: N802 - a namespace token
        return {("N", op.host, ns)} if ns else set()

    provides: set = set()
    needs: set = set(N(op.ns))
    moves: set = set()
    frees: set = set()
    if isinstance(op, CreateNamespace):
        provides.add(("N", op.host, op.name))
    elif isinstance(op, DeleteNamespace):
        frees.add(("N", op.host, op.name))
    elif isinstance(op, CreateBridge):
        provides.add(L(op.ns, op.name))
    elif isinstance(op, CreateVeth):
        provides |= {L(op.ns, op.name), L(op.peer_ns, op.peer)}
        needs |= N(op.peer_ns)
    elif isinstance(op, CreateMacvlan):
        provides.add(L(op.netns or op.ns, op.name))
        # a new macvlan takes its lower device's MTU (and may not exceed it): the lower's MTU first
        needs |= {L(op.ns, op.link), ("MTU", op.host, op.ns, op.link)} | N(op.netns)
    elif isinstance(op, DeleteLink):
        frees.add(L(op.ns, op.name))
        if isinstance(op.recreate, CreateMacvlan):
            needs.add(L(op.recreate.ns, op.recreate.link))
    elif isinstance(op, MoveToNamespace):
        moves.add(L(op.ns, op.name))
        provides.add(L(op.target_ns, op.new_name))
        needs |= N(op.target_ns)
    elif isinstance(op, SetForwarding):
        pass  # a namespace setting: it needs the namespace only
    else:
        needs.add(L(op.ns, getattr(op, "name", "")))  # every other op acts on one named link
        if isinstance(op, SetMtu):
            provides.add(("MTU", op.host, op.ns, op.name))
        if isinstance(op, (SetBridgePort, UnsetBridgePort)):
            needs.add(L(op.ns, op.master))
        if isinstance(op, SetHairpin):
            needs.add(L(op.ns, op.bridge))
    return provides, needs, moves, frees


def order_ops(ops: list[Op], sort: dict[str, tuple], extra_frees: dict[str, set]) -> list[Op]:
    """The ops in dependency order, ties broken by ``sort[key] + (key,)`` (smallest first)."""
    by_key = {op.key: op for op in ops}
    after: dict[str, set[str]] = {k: set() for k in by_key}   # a -> the ops that must follow a

    def edge(a: str, b: str) -> None:
        if a != b:
            after[a].add(b)

    _resource_edges(ops, extra_frees, edge)
    _per_link_edges(ops, edge)
    order = _topological(after, lambda k: sort[k] + (k,))
    if len(order) != len(by_key):  # pragma: no cover - would be a compiler bug
        g = nx.DiGraph((a, b) for a, bs in after.items() for b in bs)
        raise CompileError(f"internal error: operations depend on each other in a cycle: {nx.find_cycle(g)}")
    return [by_key[k] for k in order]


def _topological(after: dict[str, set[str]], key: Callable[[str], tuple]) -> list[str]:
    """Kahn's algorithm taking the smallest ready key first (what
    ``networkx.lexicographical_topological_sort`` does, without building a graph object)."""
    indegree = dict.fromkeys(after, 0)
    for bs in after.values():
        for b in bs:
            indegree[b] += 1
    ready = [(key(k), k) for k, n in indegree.items() if n == 0]
    heapq.heapify(ready)
    out = []
    while ready:
        _, k = heapq.heappop(ready)
        out.append(k)
        for b in after[k]:
            indegree[b] -= 1
            if indegree[b] == 0:
                heapq.heappush(ready, (key(b), b))
    return out


def _resource_edges(ops: list[Op], extra_frees: dict[str, set], edge: Callable[[str, str], None]) -> None:
    """Edges from the resource tokens: who provides, needs, moves away or frees each name."""
    # token -> [providers, users, movers, freers, deleting users]
    roles: dict[tuple, tuple[list[str], list[str], list[str], list[str], list[str]]] = {}

    def of(t: tuple) -> tuple[list[str], list[str], list[str], list[str], list[str]]:
        got = roles.get(t)
        if got is None:
            got = roles[t] = ([], [], [], [], [])
        return got

    for op in ops:
        key = op.key
        p, n, m, f = _tokens(op)
        extra = extra_frees.get(key)
        if extra:
            f = f | {("L",) + t for t in extra}
        for t in p:
            of(t)[0].append(key)
        user = 4 if isinstance(op, DeleteLink) else 1
        for t in n:
            of(t)[user].append(key)
        for t in m:
            of(t)[2].append(key)
        for t in f:
            of(t)[3].append(key)
    for t, (P, U, M, F, D) in roles.items():
        _token_edges(t[0], P, U, M, F, D, edge)


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
        if op.kind in _LAYER3_KINDS:
            per_link.setdefault((op.host, op.ns, getattr(op, "name", None)), {}).setdefault(op.kind, []).append(op.key)
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
