"""The compiler's topological sort is networkx's lexicographical one, on either of its paths."""
from __future__ import annotations

import random

import networkx as nx
import pytest

from planner.core.compiler.order import _topological


def _random_dag(rng: random.Random, n: int, forward_only: bool) -> tuple[list[str], list[tuple[str, str]],
                                                                       dict[str, tuple]]:
    keys = [f"op{i:03d}" for i in range(n)]
    tie = {k: (rng.randrange(3), rng.randrange(5)) for k in keys}
    order = sorted(keys, key=lambda k: tie[k] + (k,)) if forward_only else rng.sample(keys, n)
    edges = []
    for _ in range(rng.randrange(2 * n)):
        a, b = sorted(rng.sample(range(n), 2))
        edges.append((order[a], order[b]))  # always from earlier to later in `order`: acyclic; may repeat
    return keys, edges, tie


@pytest.mark.parametrize("forward_only", [True, False], ids=["tie-break order is topological", "it is not"])
def test_same_order_as_networkx(forward_only):
    rng = random.Random(8)
    for _ in range(300):
        keys, edges, tie = _random_dag(rng, rng.randrange(2, 40), forward_only)
        g = nx.DiGraph()
        g.add_nodes_from(keys)
        g.add_edges_from(edges)
        def key(k: str, tie: dict[str, tuple] = tie) -> tuple:
            return tie[k] + (k,)

        assert _topological(keys, edges, key) == list(nx.lexicographical_topological_sort(g, key=key))


def test_a_cycle_leaves_nodes_out():
    assert _topological(["a", "b", "c"], [("a", "b"), ("b", "a")], lambda k: (k,)) == ["c"]
