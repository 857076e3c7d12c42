"""The garbage-collector pause around big bursts: the state comes back, objects are promoted,
nothing is frozen for good, and a check leaves only a few reference cycles behind."""
import gc
import json
import weakref

import pytest

from planner.core.gcpause import gc_paused, without_gc_pauses
from planner.core.model import design_from_dict
from planner.core.rules import check_with_prediction
from planner.exporters import export
from planner.lab.shapes import bench_design, scale_design


class Node:
    """A weak-referenceable object that can be put in a reference cycle."""

    def __init__(self) -> None:
        self.other: object = None


@pytest.fixture
def collector_on():
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_the_previous_state_comes_back_also_nested(collector_on):
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled(), "an inner pause must not re-enable the outer one's collector"
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled(), "a collector that was off stays off"
    finally:
        gc.enable()


def test_the_state_comes_back_when_the_call_raises(collector_on):
    @without_gc_pauses
    def fails():
        raise ValueError("boom")

    with pytest.raises(ValueError):
        fails()
    assert gc.isenabled()


def test_the_burst_joins_the_oldest_generation_and_nothing_stays_frozen(collector_on):
    with gc_paused():
        burst = [Node() for _ in range(5000)]
        assert gc.get_count()[0] >= 5000, "allocations during the pause count as young"
    assert gc.get_count()[0] < 50, "the next allocation must not start a young collection over the burst"
    assert gc.get_freeze_count() == 0
    oldest = {id(o) for o in gc.get_objects(generation=2)}
    assert all(id(n) in oldest for n in burst[::500])


def test_cycles_made_in_a_pause_are_still_collected(collector_on):
    with gc_paused():
        a, b = Node(), Node()
        a.other, b.other = b, a
        alive = weakref.ref(a)
    del a, b
    assert alive() is not None, "a cycle needs the collector"
    gc.collect()
    assert alive() is None, "promoted, not frozen: a full collection frees it"


def test_a_process_that_froze_objects_keeps_them_frozen(collector_on):
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        assert frozen > 0
        with gc_paused():
            [Node() for _ in range(100)]
        assert gc.get_freeze_count() == frozen, "unfreezing would hand the process's frozen objects back"
    finally:
        gc.unfreeze()


def _cycles_left_by_one_check(doc: dict) -> int:
    text = json.dumps(doc)
    gc.collect()
    design = design_from_dict(json.loads(text))
    findings, prediction = check_with_prediction(design)
    answer = json.dumps({"findings": [f.to_dict() for f in findings], "prediction": prediction.to_dict()})
    script = export(design, "iproute2")
    del design, findings, prediction, answer, script
    return gc.collect()


def test_a_check_leaves_few_cycles_whatever_the_designs_size(collector_on):
    """Promotion delays cyclic garbage to the next full collection: fine while a check leaves a
    few hundred objects in cycles, not if a cycle ever holds every child."""
    small = _cycles_left_by_one_check(scale_design(children=300, parents=10))
    large = _cycles_left_by_one_check(scale_design(children=3000, parents=10))
    assert large < 2000
    assert large <= small + 200, f"{small} objects in cycles at 300 children, {large} at 3,000"
    assert _cycles_left_by_one_check(bench_design("worst", small=True)) < 2000
