"""Shared test helpers.

``require(what, missing)``: skip a test whose prerequisites are missing - or, with
``MVPLAN_REQUIRE_ALL=1`` (CI on a machine that must run everything), fail it with the list.
Kernel tests use the session fixture ``lab_prereqs`` (root, ``ip``, ``ping``, and a probe that
really creates a netns with a veth, macvlan, macvtap and bridge) and are marked
``@pytest.mark.kernel``.
"""
from __future__ import annotations

import os
import sys

import pytest

# shared fixtures (tests/designs.py) import as `designs` from every test folder
sys.path.insert(0, os.path.dirname(__file__))


from prereq import require  # noqa: E402 - after the path above


@pytest.fixture(name="require")
def _require_fixture():
    """The :func:`require` helper as a fixture: ``def test_x(require): require("x", missing)``."""
    return require


@pytest.fixture(scope="session")
def lab_prereqs() -> list[str]:
    """Skip/fail unless labs can be built here (probed once per session); returns ``[]``."""
    from planner.lab import prerequisites

    missing = prerequisites()
    require("kernel tests (planner.lab)", missing)
    return missing
