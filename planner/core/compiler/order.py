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
from collections import defaultdict
from collections.abc import Callable
from typing import Any

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

__all__ = ["order_ops", "order_ranked"]


_NONE: tuple = ()


def _tokens(op: Op) -> tuple[tuple, tuple, tuple, tuple]:
    """(provides, needs, consumes-by-move, frees) resource tokens of an op: ``("L", host, ns,
    name)`` a link, ``("N", host, ns)`` a namespace (none for the host's own), ``("MTU", host,
    ns, name)`` a link's MTU. A token may repeat (the edges it makes are a set)."""
    return _TOKENS.get(type(op), _link_op_tokens)(op)


def _here(op: Op) -> tuple:
    return (("N", op.host, op.ns),) if op.ns else _NONE


def _create_namespace_tokens(op: CreateNamespace) -> tuple[tuple, tuple, tuple, tuple]:
    return (("N", op.host, op.name),), _here(op), _NONE, _NONE


def _delete_namespace_tokens(op: DeleteNamespace) -> tuple[tuple, tuple, tuple, tuple]:
    return _NONE, _here(op), _NONE, (("N", op.host, op.name),)


def _create_bridge_tokens(op: CreateBridge) -> tuple[tuple, tuple, tuple, tuple]:
    return (("L", op.host, op.ns, op.name),), _here(op), _NONE, _NONE


def _create_veth_tokens(op: CreateVeth) -> tuple[tuple, tuple, tuple, tuple]:
    host = op.host
    there = (("N", host, op.peer_ns),) if op.peer_ns else _NONE
    return (("L", host, op.ns, op.name), ("L", host, op.peer_ns, op.peer)), _here(op) + there, _NONE, _NONE


def _create_macvlan_tokens(op: CreateMacvlan) -> tuple[tuple, tuple, tuple, tuple]:
    # a new macvlan takes its lower device's MTU (and may not exceed it): the lower's MTU first
    host, ns = op.host, op.ns
    into = (("N", host, op.netns),) if op.netns else _NONE
    return ((("L", host, op.netns or ns, op.name),),
            _here(op) + (("L", host, ns, op.link), ("MTU", host, ns, op.link)) + into, _NONE, _NONE)


def _delete_link_tokens(op: DeleteLink) -> tuple[tuple, tuple, tuple, tuple]:
    needs = _here(op)
    if isinstance(op.recreate, CreateMacvlan):
        needs += (("L", op.host, op.recreate.ns, op.recreate.link),)
    return _NONE, needs, _NONE, (("L", op.host, op.ns, op.name),)


def _move_tokens(op: MoveToNamespace) -> tuple[tuple, tuple, tuple, tuple]:
    host = op.host
    target = (("N", host, op.target_ns),) if op.target_ns else _NONE
    return (("L", host, op.target_ns, op.new_name),), _here(op) + target, (("L", host, op.ns, op.name),), _NONE


def _forwarding_tokens(op: SetForwarding) -> tuple[tuple, tuple, tuple, tuple]:
    return _NONE, _here(op), _NONE, _NONE  # a namespace setting: it needs the namespace only


def _link_op_tokens(op: Op) -> tuple[tuple, tuple, tuple, tuple]:
    """Every other op acts on one named link: it needs that link (and its namespace)."""
    host, ns = op.host, op.ns
    link = ("L", host, ns, getattr(op, "name", ""))
    return _NONE, ((("N", host, ns), link) if ns else (link,)), _NONE, _NONE


def _mtu_tokens(op: SetMtu) -> tuple[tuple, tuple, tuple, tuple]:
    _, needs, _, _ = _link_op_tokens(op)
    return (("MTU", op.host, op.ns, op.name),), needs, _NONE, _NONE


def _port_tokens(op: SetBridgePort | UnsetBridgePort) -> tuple[tuple, tuple, tuple, tuple]:
    _, needs, _, _ = _link_op_tokens(op)
    return _NONE, needs + (("L", op.host, op.ns, op.master),), _NONE, _NONE


def _hairpin_tokens(op: SetHairpin) -> tuple[tuple, tuple, tuple, tuple]:
    _, needs, _, _ = _link_op_tokens(op)
    return _NONE, needs + (("L", op.host, op.ns, op.bridge),), _NONE, _NONE


#: the ops whose tokens are not those of "one op on one named link", by exact type (one lookup
#: instead of a chain of isinstance tests: a big plan asks 70,000 times)
_TOKENS: dict[type, Callable[[Any], tuple[tuple, tuple, tuple, tuple]]] = {
    CreateNamespace: _create_namespace_tokens, DeleteNamespace: _delete_namespace_tokens,
    CreateBridge: _create_bridge_tokens, CreateVeth: _create_veth_tokens, CreateMacvlan: _create_macvlan_tokens,
    DeleteLink: _delete_link_tokens, MoveToNamespace: _move_tokens, SetForwarding: _forwarding_tokens,
    SetMtu: _mtu_tokens, SetBridgePort: _port_tokens, UnsetBridgePort: _port_tokens, SetHairpin: _hairpin_tokens,
}


def order_ops(ops: list[Op], sort: dict[str, tuple], extra_frees: dict[str, set]) -> list[Op]:
    """The ops in dependency order, ties broken by ``sort[key] + (key,)`` (smallest first)."""
    by_key = {op.key: op for op in ops}
    return order_ranked([by_key[k] for k in sorted(by_key, key=_tie_break(sort))], extra_frees)


def order_ranked(ranked: list[Op], extra_frees: dict[str, set]) -> list[Op]:
    """``ranked`` (ops of distinct keys, in tie-break order) in dependency order.

    The dependencies are stated on each op's rank in the tie-break order. The phases are chosen so
    that this order nearly always respects every one of them; then it *is* the answer (the
    smallest op left never waits for a larger one): :func:`_rank_order_respected` sees that in one
    walk, without listing a single edge. Else the edges are listed and Kahn's algorithm runs on
    the ranks (see :func:`_topological`)."""
    if _rank_order_respected(ranked, extra_frees):
        return ranked
    rank = {op.key: i for i, op in enumerate(ranked)}
    deps = _Deps()
    _resource_edges(ranked, rank, extra_frees, deps)
    _per_link_edges(ranked, rank, deps)
    if deps.respected():
        return ranked
    edges = deps.all_edges()
    order = _kahn(len(ranked), edges)
    if len(order) != len(ranked):  # pragma: no cover - would be a compiler bug
        g = nx.DiGraph([(ranked[a].key, ranked[b].key) for a, b in edges])
        raise CompileError(f"internal error: operations depend on each other in a cycle: {nx.find_cycle(g)}")
    return [ranked[r] for r in order]


class _Deps:
    """"a before b" between ranks: single edges, and groups (every op of one list before every op
    of another) that are checked by their ends instead of pair by pair. An op never waits for
    itself (an edge from a rank to the same rank is none)."""

    def __init__(self) -> None:
        self.edges: list[tuple[int, int]] = []
        self.groups: list[tuple[list[int], list[int]]] = []

    def edge(self, a: int, b: int) -> None:
        if a != b:
            self.edges.append((a, b))

    def before(self, first: list[int], then: list[int]) -> None:
        if not first or not then:
            return
        if len(first) == 1 and len(then) == 1:
            self.edge(first[0], then[0])
        else:
            self.groups.append((first, then))

    def respected(self) -> bool:
        """Every dependency goes from a smaller rank to a larger one."""
        return (all(a < b for a, b in self.edges)
                and all(max(first) < min(then) or all(a < b for a in first for b in then if a != b)
                        for first, then in self.groups))

    def all_edges(self) -> list[tuple[int, int]]:
        return self.edges + [(a, b) for first, then in self.groups for a in first for b in then if a != b]


def _tie_break(sort: dict[str, tuple]) -> Callable[[str], tuple]:
    """``sort[key] + (key,)``; just ``sort[key]`` when no two keys share a value (the compiler's
    values end in a per-host sequence number), which orders the same and builds no tuples."""
    if len(set(sort.values())) == len(sort):
        return sort.__getitem__
    return lambda k: sort[k] + (k,)


def _topological(nodes: list[str], edges: list[tuple[str, str]], key: Callable[[str], tuple]) -> list[str]:
    """Kahn's algorithm taking the smallest ready key first (what
    ``networkx.lexicographical_topological_sort`` does, without building a graph object); the
    tie-break order itself when it respects every edge. A node on a cycle is left out."""
    by_rank = sorted(nodes, key=key)
    rank = {k: i for i, k in enumerate(by_rank)}
    pairs = [(rank[a], rank[b]) for a, b in edges]
    if all(a < b for a, b in pairs):
        return by_rank
    return [by_rank[r] for r in _kahn(len(by_rank), pairs)]


def _kahn(n: int, edges: list[tuple[int, int]]) -> list[int]:
    """Kahn's algorithm on ranks ``0..n-1``, the smallest ready rank first (ints, not key tuples,
    in the heap). The answer does not depend on the order of ``edges``; a rank on a cycle is left out."""
    indegree = [0] * n
    succ: list[list[int]] = [[] for _ in range(n)]
    for a, b in edges:
        succ[a].append(b)
        indegree[b] += 1
    ready = [r for r, k in enumerate(indegree) if k == 0]  # ascending: already a heap
    out = []
    while ready:
        r = heapq.heappop(ready)
        out.append(r)
        for rb in succ[r]:
            indegree[rb] -= 1
            if indegree[rb] == 0:
                heapq.heappush(ready, rb)
    return out


def _resource_edges(ops: list[Op], rank: dict[str, int], extra_frees: dict[str, set], deps: _Deps) -> None:
    """Dependencies from the resource tokens: who provides, needs, moves away or frees each name."""
    # token -> the ranks of the ops that provide it, use it, move it away, free it, use it while deleting
    providers: defaultdict[tuple, list[int]] = defaultdict(list)
    users: defaultdict[tuple, list[int]] = defaultdict(list)
    movers: defaultdict[tuple, list[int]] = defaultdict(list)
    freers: defaultdict[tuple, list[int]] = defaultdict(list)
    deleters: defaultdict[tuple, list[int]] = defaultdict(list)
    for op in ops:
        key = op.key
        r = rank[key]
        p, n, m, f = _tokens(op)
        if extra_frees:
            extra = extra_frees.get(key)
            if extra:
                f = f + tuple(("L",) + t for t in extra)
        needs = deleters if isinstance(op, DeleteLink) else users
        for role, tokens in ((providers, p), (needs, n), (movers, m), (freers, f)):
            for t in tokens:
                role[t].append(r)
    none: list[int] = []
    special = movers.keys() | freers.keys()
    for t in special:
        _token_edges(t[0], providers.get(t, none), users.get(t, none), movers.get(t, none), freers.get(t, none),
                     deleters.get(t, none), deps.edge)
    for t, made_by in providers.items():  # the usual token: made, then used (all _token_edges does then)
        used_by = users.get(t)
        if used_by and t not in special:
            deps.before(made_by, used_by)


def _token_edges(kind: str, P: list[int], U: list[int], M: list[int], F: list[int], D: list[int],  # noqa: N803
                 edge: Callable[[int, int], None]) -> None:
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


def _per_link_edges(ops: list[Op], rank: dict[str, int], deps: _Deps) -> None:
    """Layer 3, per link: what is removed goes before what flushes (else it is already gone), and
    both before what is added (a flush would take it; an equal route would collide); addresses
    before routes (a gateway is reachable through them); addresses and neighbours before up, up
    before routes; port before hairpin."""
    per_link: dict[tuple, dict[str, list[int]]] = {}
    for op in ops:
        kind = op.kind
        if kind in _LAYER3_KINDS:
            link = (op.host, op.ns, getattr(op, "name", None))
            r = rank[op.key]
            kinds = per_link.get(link)
            if kinds is None:
                per_link[link] = {kind: [r]}
            elif kind in kinds:
                kinds[kind].append(r)
            else:
                kinds[kind] = [r]
    none: list[int] = []
    before = deps.before
    for kinds in per_link.values():
        if len(kinds) == 1 and len(next(iter(kinds.values()))) == 1:
            continue  # one op alone on its link: nothing to order
        add_address, add_route = kinds.get("add-address", none), kinds.get("add-route", none)
        removals = kinds.get("del-route", none) + kinds.get("del-neighbor", none)
        flushers = kinds.get("del-address", none) + kinds.get("set-link-down", none) + kinds.get("set-mac", none)
        additions = add_address + kinds.get("add-neighbor", none) + add_route
        before(removals, flushers + additions)
        before(flushers, additions)
        before(add_address, add_route)
        for up in kinds.get("set-link-up", none):
            before(add_address + kinds.get("add-neighbor", none), [up])
            before([up], add_route)
        before(kinds.get("set-bridge-port", none), kinds.get("set-hairpin", none))


# --------------------------------------------------------------------------- the fast check
# "Every op of X before every op of Y" is broken exactly when an op of X comes after one of Y
# (another op: one op in both waits for nobody). Walking the ops in rank order, it is enough to
# remember, per token and per link, which roles (kinds) were seen so far: an op breaks an order
# when a role that must come after its own was seen already.
_MADE, _USED, _MOVED, _FREED, _USED_BY_DELETE = 1, 2, 4, 8, 16

#: role -> the roles that must come after it, for a link or MTU token (see :func:`_token_edges`;
#: "used before moved" is checked for every user, also one that made the token: unsure then)
_AFTER_ON_LINK = {_MADE: _USED | _MOVED, _USED: _MOVED, _MOVED: 0, _FREED: _MADE, _USED_BY_DELETE: _FREED}
#: the same for a namespace token: everything in a namespace before deleting it
_AFTER_ON_NAMESPACE = {_MADE: _USED | _MOVED | _FREED, _USED: _MOVED | _FREED, _MOVED: _FREED, _FREED: _MADE,
                       _USED_BY_DELETE: _FREED}


def _layer3_kinds() -> dict[str, tuple[int, int]]:
    """Layer-3 kind -> (its bit, the bits of the kinds that must come after it on the same link):
    :func:`_per_link_edges` as a table."""
    kinds = sorted(_LAYER3_KINDS)
    bit = {k: 1 << n for n, k in enumerate(kinds)}

    def bits(*names: str) -> int:
        return sum(bit[k] for k in names)

    additions = ("add-address", "add-neighbor", "add-route")
    after = {
        "del-route": bits("del-address", "set-link-down", "set-mac", *additions),
        "del-neighbor": bits("del-address", "set-link-down", "set-mac", *additions),
        "del-address": bits(*additions), "set-link-down": bits(*additions), "set-mac": bits(*additions),
        "add-address": bits("add-route", "set-link-up"), "add-neighbor": bits("set-link-up"),
        "set-link-up": bits("add-route"), "set-bridge-port": bits("set-hairpin"),
    }
    return {k: (bit[k], after.get(k, 0)) for k in kinds}


_LAYER3_ORDER = _layer3_kinds()


def _rank_order_respected(ranked: list[Op], extra_frees: dict[str, set]) -> bool:
    """True when the tie-break order respects every dependency of :func:`_resource_edges` and
    :func:`_per_link_edges` (False may also mean "unsure": the caller then lists the edges)."""
    seen_roles: dict[tuple, int] = {}
    roles_of = seen_roles.get
    seen_kinds: dict[tuple, int] = {}
    kinds_of = seen_kinds.get
    used_after_freed: list[tuple] = []  # link tokens where that breaks an order only if nothing makes them
    tokens_of, link_op_tokens, layer3 = _TOKENS.get, _link_op_tokens, _LAYER3_ORDER.get
    on_link, on_namespace = _AFTER_ON_LINK, _AFTER_ON_NAMESPACE
    used_on_link, used_in_namespace = _AFTER_ON_LINK[_USED], _AFTER_ON_NAMESPACE[_USED]
    for op in ranked:
        tokens = tokens_of(type(op))
        extra = extra_frees.get(op.key) if extra_frees else None
        if tokens is None and not extra:
            # one op on one named link (most of a plan): _link_op_tokens, inline
            host, ns = op.host, op.ns
            link = ("L", host, ns, getattr(op, "name", ""))
            if ns:
                t = ("N", host, ns)
                seen = roles_of(t, 0)
                if seen & used_in_namespace:
                    return False
                seen_roles[t] = seen | _USED
            seen = roles_of(link, 0)
            if seen & used_on_link:
                return False
            if seen & _FREED:
                used_after_freed.append(link)
            seen_roles[link] = seen | _USED
            kind = layer3(op.kind)
            if kind is not None:
                seen = kinds_of(link, 0)
                if seen & kind[1]:
                    return False
                seen_kinds[link] = seen | kind[0]
            continue
        made, needs, moved, freed = (tokens or link_op_tokens)(op)
        if extra:
            freed = freed + tuple(("L",) + t for t in extra)
        for t in made:
            seen = roles_of(t, 0)
            if seen & (on_namespace if t[0] == "N" else on_link)[_MADE]:
                return False
            seen_roles[t] = seen | _MADE
        if isinstance(op, DeleteLink):
            for t in needs:
                seen = roles_of(t, 0)
                if seen & _FREED:
                    return False
                seen_roles[t] = seen | _USED_BY_DELETE
        else:
            for t in needs:
                seen = roles_of(t, 0)
                if seen & (on_namespace if t[0] == "N" else on_link)[_USED]:
                    return False
                if seen & _FREED and t[0] == "L":
                    used_after_freed.append(t)
                seen_roles[t] = seen | _USED
        for t in moved:
            seen = roles_of(t, 0)
            if seen & (on_namespace if t[0] == "N" else on_link)[_MOVED]:
                return False
            seen_roles[t] = seen | _MOVED
        for t in freed:
            seen = roles_of(t, 0)
            if seen & _MADE:
                return False
            seen_roles[t] = seen | _FREED
        kind = layer3(op.kind)
        if kind is not None:
            link = ("L", op.host, op.ns, getattr(op, "name", None))
            seen = kinds_of(link, 0)
            if seen & kind[1]:
                return False
            seen_kinds[link] = seen | kind[0]
    # a link's users before what frees it, when no op (re)makes it
    return all(seen_roles[t] & _MADE for t in used_after_freed)
