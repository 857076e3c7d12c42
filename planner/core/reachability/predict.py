"""Verdicts for every ordered pair of endpoints, computed per pair of classes."""
from __future__ import annotations

from ..model import Design, Iface
from .fixer import Fixer
from .replay import local_verdict, ping
from .verdict import Verdict
from .world import World, anchor

__all__ = ["Prediction", "predict", "explain"]


# --------------------------------------------------------------------------- prediction
class Prediction:
    """Verdicts for every ordered pair of endpoints, stored per pair of equivalence classes.

    The verdict of endpoints ``a != b`` is ``verdicts[(class(a), class(b), same)]`` where
    ``same`` tells whether both hang off the same parent (or one is the other's parent).
    """

    def __init__(self, design: Design, world: World, endpoints: list[Iface], class_of: dict[str, int],
                 classes: list[list[str]], verdicts: dict[tuple[int, int, bool], Verdict],
                 examples: dict[tuple[int, int, bool], tuple[str, str]]):
        self.design = design
        self._world = world
        self.endpoints = endpoints
        self.class_of = class_of
        self.classes = classes
        self.verdicts = verdicts
        #: the representative pair each class verdict was computed (and worded) for
        self.examples = examples
        self._anchor = {e.id: anchor(e) for e in endpoints}
        #: the topology graph the prediction walked (planner.core.graph)
        self.graph = world.graph
        self._worded: dict[tuple[str, str], Verdict] = {}

    def key(self, a: str, b: str) -> tuple[int, int, bool]:
        try:
            return self.class_of[a], self.class_of[b], self._anchor[a] == self._anchor[b]
        except KeyError:
            raise KeyError(f"{a!r} or {b!r} is not an endpoint (an interface with an IPv4 address)") from None

    def reachable(self, a: str, b: str) -> bool:
        return self.verdicts[self.key(a, b)].reachable

    def verdict(self, a: str, b: str) -> Verdict:
        """The verdict for endpoint ids ``a`` -> ``b``, worded for that pair."""
        if a == b:
            raise ValueError("an endpoint is not paired with itself")
        key = self.key(a, b)
        v = self.verdicts[key]
        if self.examples[key] == (a, b):
            return v
        worded = self._worded.get((a, b))
        if worded is None:
            d = self.design
            worded = ping(self._world, d.iface(a), d.iface(b))
            if not worded.reachable:
                worded = Fixer(d, self._world).with_fix(worded, d.iface(a), d.iface(b))
            if worded.reachable != v.reachable:  # would be a bug in the class construction
                raise AssertionError(f"class verdict for {a} -> {b} disagrees with the pair's own replay")
            self._worded[(a, b)] = worded
        return worded

    def matrix(self) -> dict[tuple[str, str], bool]:
        """Every ordered pair materialised (for tests and small designs)."""
        out = {}
        for a in self.endpoints:
            for b in self.endpoints:
                if a.id != b.id:
                    out[(a.id, b.id)] = self.verdicts[self.key(a.id, b.id)].reachable
        return out

    def members_by_anchor(self, ci: int) -> dict[str, list[str]]:
        """Members of class ``ci`` grouped by the parent they hang off."""
        cache = self.__dict__.setdefault("_mba", {})
        got = cache.get(ci)
        if got is None:
            got = {}
            for m in self.classes[ci]:
                got.setdefault(self._anchor[m], []).append(m)
            cache[ci] = got
        return got

    def anchor(self, endpoint_id: str) -> str:
        """The parent an endpoint hangs off (the endpoint itself when it is no child)."""
        return self._anchor[endpoint_id]

    def pair_count(self, key: tuple[int, int, bool]) -> int:
        """How many ordered endpoint pairs a class verdict stands for."""
        counts = self.__dict__.get("_counts")
        if counts is None:
            counts = {}
            per_class_anchor: list[dict[str, int]] = []
            for members in self.classes:
                ca: dict[str, int] = {}
                for m in members:
                    ca[self._anchor[m]] = ca.get(self._anchor[m], 0) + 1
                per_class_anchor.append(ca)
            for (ci, cj, same) in self.verdicts:
                ai, aj = per_class_anchor[ci], per_class_anchor[cj]
                same_n = sum(n * (aj.get(anc, 0) - (1 if ci == cj else 0)) for anc, n in ai.items())
                total = len(self.classes[ci]) * (len(self.classes[cj]) - (1 if ci == cj else 0))
                counts[(ci, cj, same)] = same_n if same else total - same_n
            self.__dict__["_counts"] = counts
        return counts[key]

    def to_dict(self) -> dict:
        eps = [{"id": e.id, "address": str(e.address.ip), "prefix": e.address.network.prefixlen, "ns": e.ns,
                "kind": e.kind, "mode": e.mode, "host": e.host, "parent": self._anchor[e.id],
                "class": self.class_of[e.id]} for e in self.endpoints]
        verdicts = [{"from": ci, "to": cj, "same_parent": same, "example": list(self.examples[(ci, cj, same)]),
                     "pairs": self.pair_count((ci, cj, same)), **v.to_dict()}
                    for (ci, cj, same), v in sorted(self.verdicts.items())]
        n = len(self.endpoints)
        reach = sum(self.pair_count(k) for k, v in self.verdicts.items() if v.reachable)
        return {"endpoints": eps, "classes": self.classes, "verdicts": verdicts,
                "summary": {"endpoints": n, "classes": len(self.classes), "pairs": n * (n - 1),
                            "reachable_pairs": reach}}


def predict(design: Design, *, merge: bool = True) -> Prediction:
    """Predict every ordered pair of endpoints (interfaces with an IPv4 address).

    ``merge=False`` gives every endpoint its own class (slow; used to test the classes).
    """
    world = World(design, merge=merge)
    endpoints = design.endpoints()
    classes: list[list[str]] = []
    class_index: dict[int, int] = {}
    class_of: dict[str, int] = {}
    by_anchor: list[dict[str, list[Iface]]] = []
    for e in endpoints:
        u = world.unit_of[e.id]
        if u.id not in class_index:
            class_index[u.id] = len(classes)
            classes.append([])
            by_anchor.append({})
        ci = class_index[u.id]
        classes[ci].append(e.id)
        class_of[e.id] = ci
        by_anchor[ci].setdefault(anchor(e), []).append(e)
    fixer = Fixer(design, world)
    verdicts: dict[tuple[int, int, bool], Verdict] = {}
    examples: dict[tuple[int, int, bool], tuple[str, str]] = {}
    single = [len(c) == 1 for c in classes]
    first = [design.iface(c[0]) for c in classes]
    local: dict[str, Verdict] = {}
    for ci in range(len(classes)):
        for cj in range(len(classes)):
            if single[ci] and single[cj]:
                if ci == cj:
                    continue
                a, b = first[ci], first[cj]
                pairs = (((anchor(a) == anchor(b)), a, b),)
                if a.ns == b.ns:  # fast path: many endpoints in one namespace are all LOCAL
                    v = local.get(a.ns)
                    if v is None:
                        v = local[a.ns] = local_verdict(a.ns)
                    verdicts[(ci, cj, pairs[0][0])] = v
                    examples[(ci, cj, pairs[0][0])] = (a.id, b.id)
                    continue
            else:
                pairs = tuple((same,) + pair for same in (True, False)
                              if (pair := _example_pair(by_anchor[ci], by_anchor[cj], same)) is not None)
            for same, a, b in pairs:
                v = ping(world, a, b)
                if not v.reachable:
                    v = fixer.with_fix(v, a, b)
                verdicts[(ci, cj, same)] = v
                examples[(ci, cj, same)] = (a.id, b.id)
    return Prediction(design, world, endpoints, class_of, classes, verdicts, examples)



def _example_pair(ai: dict[str, list[Iface]], aj: dict[str, list[Iface]], same: bool):
    """Two distinct endpoints from two classes, on the same parent or on different ones."""
    if same:
        for anc, xs in ai.items():
            ys = aj.get(anc)
            if ys:
                for x in xs:
                    for y in ys:
                        if x.id != y.id:
                            return x, y
        return None
    for anc, xs in ai.items():
        for anc2, ys in aj.items():
            if anc2 != anc:
                return xs[0], ys[0]
    return None


def explain(design: Design, a: str, b: str) -> Verdict:
    """The verdict for one ordered pair, resolving short references like ``web0`` too."""
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
    world = World(design)
    v = ping(world, design.iface(a), design.iface(b))
    return v if v.reachable else Fixer(design).with_fix(v, design.iface(a), design.iface(b))

