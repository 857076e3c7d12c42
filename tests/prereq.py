"""``require(what, missing)``: skip a test whose prerequisites are missing - or, with
``MVPLAN_REQUIRE_ALL=1`` (CI on a machine that must run everything), fail it with the list.

A module of its own (not conftest.py): several test folders have a conftest, and ``import
conftest`` finds whichever of them was imported last."""
from __future__ import annotations

import os

import pytest


def require(what: str, missing: list[str]) -> None:
    """Skip (or, with MVPLAN_REQUIRE_ALL=1, fail) when ``missing`` lists anything."""
    if not missing:
        return
    msg = f"{what} needs: " + "; ".join(missing)
    if os.environ.get("MVPLAN_REQUIRE_ALL") == "1":
        pytest.fail(f"MVPLAN_REQUIRE_ALL=1 but {msg}", pytrace=False)
    pytest.skip(msg)
