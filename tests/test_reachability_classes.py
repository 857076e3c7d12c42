"""Classes must be sound: on generated and mutated designs (every mode, shared MACs, shims, routes,
static neighbours, host bridges, bridge parents, hairpin anywhere, loops), the merged prediction
equals the endpoint-by-endpoint one, ``explain`` and ``Prediction.verdict`` agree with the matrix,
and nothing raises. The number of designs and pairs tried is printed."""
from __future__ import annotations

import os

import pytest
from mutate import mutate

from planner.core.errors import DesignError
from planner.core.model import design_from_dict
from planner.core.reachability import explain, predict
from planner.core.rules import check
from planner.lab.generate import random_design, tricky_design
from planner.lab.shapes import scale_design

DESIGNS = int(os.environ.get("MVPLAN_PROPERTY_DESIGNS", "900"))
EXPLAINED_PER_DESIGN = 12


def _documents():
    for s in range(DESIGNS):
        kind = s % 3
        base = random_design(s) if kind == 0 else tricky_design(s, loops=kind == 2)
        yield mutate(base, s, edits=s % 4) if s % 4 else base


def test_merged_and_unmerged_predictions_agree(capsys):
    tried = pairs = explained = refused = dual = 0
    for doc in _documents():
        try:
            d = design_from_dict(doc)
        except DesignError:
            refused += 1
            continue
        for view in (d, d.family_view(6)) if d.has_ipv6() else (d,):
            merged, plain = predict(view), predict(view, merge=False)
            m, u = merged.matrix(), plain.matrix()
            wrong = [k for k in u if m[k] != u[k]]
            assert not wrong, f"{doc['name']} IPv{view.family}: classes change verdicts of {wrong[:3]}"
            for a, b in list(u)[:EXPLAINED_PER_DESIGN]:
                where = f"{doc['name']} IPv{view.family}"
                assert explain(d, a, b, family=view.family).reachable == u[(a, b)], f"{where}: explain {a} -> {b}"
                assert merged.verdict(a, b).reachable == u[(a, b)], f"{where}: verdict {a} -> {b}"
                explained += 1
            pairs += len(u)
            dual += view.family == 6
        check(d)
        tried += 1
    with capsys.disabled():
        print(f"\n[classes] {tried} designs ({refused} invalid after mutation; {dual} dual-stack, compared over "
              f"IPv6 too), {pairs} ordered pairs compared, {explained} explained")
    assert tried > DESIGNS * 0.9


@pytest.mark.parametrize("shape", ["scale", "multi-host", "shared-ns"])
def test_merged_equals_unmerged_on_the_bench_shapes_at_small_size(shape):
    from planner.lab.shapes import bench_design

    d = design_from_dict(bench_design(shape, small=True) if shape != "scale" else scale_design(60, 6))
    assert predict(d).matrix() == predict(d, merge=False).matrix()
