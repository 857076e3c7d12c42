"""Pause Python's cyclic garbage collector during one big burst of allocation.

Loading, checking and predicting a design of 10,000 children allocates hundreds of thousands of
small objects that all stay alive until the call returns; every generation-2 collection on the
way walks all of them again (measured: a third to a half of check + predict at that size).
Nothing these calls allocate forms reference cycles that need the collector before they return,
so pausing it changes no result and no peak memory. The previous state comes back on exit, so
nested and concurrent uses end with the collector enabled as before.

On exit the burst's objects join the oldest generation instead of the youngest: otherwise the
first allocation after the pause makes a young collection walk every one of them (and a middle
one walks them again later): ~8% of loading and checking 10,000 or 100,000 children. The
survivors are long-lived anyway; garbage among them is still freed by reference counting at once,
and the few reference cycles a check leaves (a few hundred objects, whatever the design's size:
tests/test_gcpause.py) wait for the next full collection instead of the next young one.
"""
from __future__ import annotations

import functools
import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

__all__ = ["gc_paused", "without_gc_pauses"]

P = ParamSpec("P")
R = TypeVar("R")


@contextmanager
def gc_paused() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            _promote_to_oldest()
            gc.enable()


def _promote_to_oldest() -> None:
    """Move every tracked object into the oldest generation without walking any of them.

    ``freeze`` splices the generations' lists onto the permanent one and ``unfreeze`` splices that
    onto the oldest: two pointer moves. Skipped when the process froze objects itself (a forking
    server's startup does): unfreezing would hand those back to the collector."""
    if gc.get_freeze_count() == 0:
        gc.freeze()
        gc.unfreeze()


def without_gc_pauses(fn: Callable[P, R]) -> Callable[P, R]:
    """Decorator form of :func:`gc_paused`."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with gc_paused():
            return fn(*args, **kwargs)

    return wrapper
