"""mvplan: plan, check, predict and apply Linux macvlan topologies.

The pure core (:mod:`planner.core`: model, rules, reachability, compiler, ops) has no side
effects; the edges (:mod:`planner.netlink`, :mod:`planner.lab`, :mod:`planner.web`,
:mod:`planner.cli`) call it. The version has one source: the package metadata (``pyproject.toml``).
"""
from __future__ import annotations

from importlib import metadata

try:
    __version__ = metadata.version("mvplan")
except metadata.PackageNotFoundError:  # a checkout that was never installed
    __version__ = "0+unknown"
