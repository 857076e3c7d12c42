"""The examples in planner/core's docstrings run (they are documentation that cannot go stale)."""
from __future__ import annotations

import doctest
import importlib
import pkgutil

import planner.core


def _core_modules() -> list[str]:
    return sorted(m.name for m in pkgutil.walk_packages(planner.core.__path__, "planner.core."))


def test_core_doctests_pass():
    tried = failed = 0
    for name in _core_modules():
        result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
        tried += result.attempted
        failed += result.failed
    print(f"[doctests] {tried} examples in {len(_core_modules())} modules of planner.core")
    assert failed == 0
    assert tried > 0
