"""Verdicts for every ordered pair of endpoints: one replay per class pair, plus the exceptions.

The verdict of endpoints ``a != b`` is the exception entry for ``(a, b)`` when there is one, else
``verdicts[(class(a), class(b), anchor(a) == anchor(b))]``, where the anchor is the parent a child
hangs off (or the endpoint itself). Each class verdict is computed - and worded - for one example
pair; :meth:`Prediction.verdict` words it for any other pair by replaying that pair alone.
"""
from __future__ import annotations

from collections.abc import Iterator

from ..gcpause import without_gc_pauses
from ..model import Design, Iface
from .classes import Classes, classify
from .dad import world_for
from .fixer import Fixer
from .sim import Ping
from .verdict import Verdict
from .words import dad_race, decide, local_verdict, not_created_verdict, tentative_verdict
from .world import World

__all__ = ["Prediction", "predict", "predict_families", "explain", "replay"]

Key = tuple[int, int, bool]


def replay(world: World, a: Iface, b: Iface) -> Verdict:
    """The verdict of one ordered pair, simulated (no fix)."""
    if a.ns == b.ns:
        if world.family == 6 and not (world.alive[a.id] and world.alive[b.id]):
            return tentative_verdict(world, a, b)
        return local_verdict(a.ns)
    if a.id in world.refused or b.id in world.refused:
        return not_created_verdict(world, a, b)
    out = Ping(world, a, b).run()
    verdict = decide(world, a, b, out)
    if world.dad_racing:
        race = dad_race(world, a, b)
        if race:
            return verdict.timing_dependent(race)
    if out.relearned and out.queued and Ping(world, a, b, eager_broadcast=True).run().done != out.done:
        # the order of the broadcast worker and the backlog decided where a MAC was learned last
        verdict = verdict.timing_dependent()
    return verdict


class Prediction:
    """Verdicts for every ordered pair of endpoints, stored per class pair (and per exception)."""

    def __init__(self, design: Design, world: World, cls: Classes):
        self.design = design
        self.world = world
        self.endpoints: list[Iface] = design.endpoints()
        self.classes = cls.classes
        self.class_of = cls.class_of
        self._shared_ns = cls.shared_ns
        self.exception_keys = cls.exceptions
        self._anchor = {e.id: world.anchor(e) for e in self.endpoints}
        self.verdicts: dict[Key, Verdict] = {}
        #: the representative pair each class verdict was computed (and worded) for
        self.examples: dict[Key, tuple[str, str]] = {}
        #: ordered pairs computed alone: (a, b) -> verdict
        self.exceptions: dict[tuple[str, str], Verdict] = {}
        self.fixer = Fixer(design, world)
        self._worded: dict[tuple[str, str], Verdict] = {}
        self._counts: dict[Key, int] | None = None
        self._by_anchor: list[dict[str, list[str]]] | None = None

    @property
    def graph(self):
        from ..graph import design_graph

        return design_graph(self.design)

    # -- lookups -----------------------------------------------------------------------------
    def key(self, a: str, b: str) -> Key:
        try:
            return self.class_of[a], self.class_of[b], self._anchor[a] == self._anchor[b]
        except KeyError:
            raise KeyError(f"{a!r} or {b!r} is not an endpoint (an interface with an IPv{self.design.family} "
                           "address)") from None

    def _stored(self, a: str, b: str) -> Verdict:
        v = self.exceptions.get((a, b))
        return v if v is not None else self.verdicts[self.key(a, b)]

    def reachable(self, a: str, b: str) -> bool:
        return self._stored(a, b).reachable

    def timing(self, a: str, b: str) -> bool:
        """Does the kernel decide this pair by a race (:meth:`Verdict.timing_dependent`)?"""
        return self._stored(a, b).timing

    def verdict(self, a: str, b: str) -> Verdict:
        """The verdict for endpoint ids ``a`` -> ``b``, worded for that pair."""
        if a == b:
            raise ValueError("an endpoint is not paired with itself")
        if (a, b) in self.exceptions:
            return self.exceptions[(a, b)]
        key = self.key(a, b)
        if self.examples.get(key) == (a, b):
            return self.verdicts[key]
        worded = self._worded.get((a, b))
        if worded is None:
            d = self.design
            worded = self.fixer.with_fix(replay(self.world, d.iface(a), d.iface(b)), d.iface(a), d.iface(b))
            self._worded[(a, b)] = worded
        return worded

    def matrix(self) -> dict[tuple[str, str], bool]:
        """Every ordered pair materialised (for tests and small designs)."""
        return {(a.id, b.id): self.reachable(a.id, b.id) for a in self.endpoints for b in self.endpoints
                if a.id != b.id}

    def timing_pairs(self) -> set[tuple[str, str]]:
        """The ordered pairs whose outcome is a race in the kernel (usual outcome in :meth:`matrix`)."""
        return {(a.id, b.id) for a in self.endpoints for b in self.endpoints
                if a.id != b.id and self.timing(a.id, b.id)}

    def anchor(self, endpoint_id: str) -> str:
        """The parent an endpoint hangs off (the endpoint itself when it is no child)."""
        return self._anchor[endpoint_id]

    def members_by_anchor(self, ci: int) -> dict[str, list[str]]:
        """Members of class ``ci`` grouped by the parent they hang off (computed once for every class:
        the rules ask per class pair, and a class of 100,000 children is walked once, not per pair;
        the answer is shared - read it, do not change it)."""
        if self._by_anchor is None:
            groups = []
            for members in self.classes:
                got: dict[str, list[str]] = {}
                for m in members:
                    got.setdefault(self._anchor[m], []).append(m)
                groups.append(got)
            self._by_anchor = groups
        return self._by_anchor[ci]

    def groups(self) -> Iterator[tuple[Verdict, tuple[str, str], int]]:
        """Every distinct verdict with its example pair and how many ordered pairs it stands for."""
        for key, v in self.verdicts.items():
            n = self.pair_count(key)
            if n:
                yield v, self.examples[key], n
        for pair, v in self.exceptions.items():
            yield v, pair, 1

    # -- counting ------------------------------------------------------------------------------
    def pair_count(self, key: Key) -> int:
        """How many ordered endpoint pairs a class verdict stands for (exceptions not counted)."""
        if self._counts is None:
            self._counts = self._count_pairs()
        return self._counts.get(key, 0)

    def _count_pairs(self) -> dict[Key, int]:
        per_anchor = [{anc: len(ms) for anc, ms in self.members_by_anchor(ci).items()}
                      for ci in range(len(self.classes))]
        counts: dict[Key, int] = {}
        for (ci, cj, same) in self.verdicts:
            ai, aj = per_anchor[ci], per_anchor[cj]
            same_n = sum(n * (aj.get(anc, 0) - (1 if ci == cj else 0)) for anc, n in ai.items())
            total = len(self.classes[ci]) * (len(self.classes[cj]) - (1 if ci == cj else 0))
            counts[(ci, cj, same)] = same_n if same else total - same_n
        for a, b in self.exceptions:
            k = self.key(a, b)
            if k in counts:
                counts[k] -= 1
        return counts

    def reachable_pairs(self) -> int:
        return sum(n for v, _pair, n in self.groups() if v.reachable)

    def to_dict(self) -> dict:
        eps = [{"id": e.id, "address": str(e.addresses[0].ip), "prefix": e.addresses[0].network.prefixlen,
                "ns": e.ns, "kind": e.kind, "mode": e.mode, "host": e.host, "parent": self._anchor[e.id],
                "class": self.class_of[e.id]} for e in self.endpoints]
        verdicts = [{"from": ci, "to": cj, "same_parent": same, "example": list(self.examples[(ci, cj, same)]),
                     "pairs": self.pair_count((ci, cj, same)), **v.to_dict()}
                    for (ci, cj, same), v in sorted(self.verdicts.items())]
        exceptions = [{"from": a, "to": b, **v.to_dict()} for (a, b), v in sorted(self.exceptions.items())]
        n = len(self.endpoints)
        out = {"endpoints": eps, "classes": self.classes, "verdicts": verdicts, "exceptions": exceptions,
               "summary": {"endpoints": n, "classes": len(self.classes), "pairs": n * (n - 1),
                           "reachable_pairs": self.reachable_pairs(), "exceptions": len(exceptions),
                           "family": self.design.family}}
        if self.design.family == 6:
            out["duplicates"] = [{"address": str(d.address), "holders": list(d.holders), "failed": list(d.failed),
                                  "link_local": d.link_local} for d in self.world.duplicates]
        return out


@without_gc_pauses
def predict(design: Design, *, merge: bool = True) -> Prediction:
    """Predict every ordered pair of endpoints (interfaces with an IPv4 address).

    ``merge=False`` gives every endpoint its own class (slow; the reference the classes are tested
    against).
    """
    world = world_for(design)
    p = Prediction(design, world, classify(world, merge=merge))
    _fill(p)
    return p


def predict_families(design: Design, *, merge: bool = True) -> dict[int, Prediction]:
    """The IPv4 prediction, and the IPv6 one when any interface has an IPv6 address (``ping -6``
    between the first IPv6 addresses: neighbour discovery instead of ARP)."""
    out = {4: predict(design, merge=merge)}
    if design.has_ipv6():
        out[6] = predict(design.family_view(6), merge=merge)
    return out


def _fill(p: Prediction) -> None:
    d, w = p.design, p.world
    by_anchor = [{anc: [d.iface(m) for m in ms] for anc, ms in p.members_by_anchor(ci).items()}
                 for ci in range(len(p.classes))]
    local: dict[str, Verdict] = {}
    excluded = p.exception_keys
    for ci in range(len(p.classes)):
        for cj in range(len(p.classes)):
            ns = p._shared_ns.get(ci)
            if ns is not None and p._shared_ns.get(cj) == ns and _usable(w, p.classes[ci][0], p.classes[cj][0]):
                # one namespace: every pair is LOCAL
                for same in (True, False):
                    pair = _example_pair(by_anchor[ci], by_anchor[cj], same, excluded)
                    if pair is not None:
                        v = local.get(ns) or local.setdefault(ns, local_verdict(ns))
                        p.verdicts[(ci, cj, same)] = v
                        p.examples[(ci, cj, same)] = (pair[0].id, pair[1].id)
                continue
            for same in (True, False):
                pair = _example_pair(by_anchor[ci], by_anchor[cj], same, excluded)
                if pair is None:
                    continue
                a, b = pair
                p.verdicts[(ci, cj, same)] = p.fixer.with_fix(replay(w, a, b), a, b)
                p.examples[(ci, cj, same)] = (a.id, b.id)
    for a_id, b_id in sorted(excluded):
        a, b = d.iface(a_id), d.iface(b_id)
        p.exceptions[(a_id, b_id)] = p.fixer.with_fix(replay(w, a, b), a, b)


def _usable(w: World, a: str, b: str) -> bool:
    """Whether both members' addresses are in use (an IPv6 address without carrier stays tentative)."""
    return w.family == 4 or (w.alive[a] and w.alive[b])


def _example_pair(ai: dict[str, list[Iface]], aj: dict[str, list[Iface]], same: bool,
                  excluded: set[tuple[str, str]]) -> tuple[Iface, Iface] | None:
    """Two distinct endpoints from two classes, on the same parent or on different ones, that are
    not an exception pair."""
    if same:
        for anc, xs in ai.items():
            for x in xs:
                for y in aj.get(anc, ()):
                    if x.id != y.id and (x.id, y.id) not in excluded:
                        return x, y
        return None
    for anc, xs in ai.items():
        for anc2, ys in aj.items():
            if anc2 == anc:
                continue
            for x in xs:
                for y in ys:
                    if (x.id, y.id) not in excluded:
                        return x, y
    return None


def explain(design: Design, a: str, b: str, family: int = 4) -> Verdict:
    """The verdict for one ordered pair (over ``family``), resolving short references like ``web0`` too."""
    design = design.family_view(family)
    ids = {e.id for e in design.endpoints()}

    def resolve(ref: str) -> str:
        if ref in ids:
            return ref
        hits = [i for i in ids if i.rsplit("/", 1)[-1] == ref or i == f"station:{ref}"]
        if len(hits) == 1:
            return hits[0]
        if not hits:
            raise KeyError(f"{ref!r} is not an endpoint; endpoints: {', '.join(sorted(ids))}")
        raise KeyError(f"{ref!r} is ambiguous: {', '.join(sorted(hits))}")

    a, b = resolve(a), resolve(b)
    if a == b:
        raise KeyError("pick two different endpoints")
    world = world_for(design)
    ia, ib = design.iface(a), design.iface(b)
    return Fixer(design, world).with_fix(replay(world, ia, ib), ia, ib)
