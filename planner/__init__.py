"""mvplan: plan, check, predict and apply Linux macvlan topologies.

The pure core (:mod:`planner.core`: model, rules, reachability, compiler, ops) has no side
effects; the edges (:mod:`planner.netlink`, :mod:`planner.lab`, :mod:`planner.web`,
:mod:`planner.cli`) call it. The version has one source: the package metadata (``pyproject.toml``).
"""
from __future__ import annotations

#: read from the metadata on first use (``importlib.metadata`` costs ~0.1 s of every CLI start)
__version__: str


def __getattr__(name: str) -> str:
    if name != "__version__":
        raise AttributeError(f"module 'planner' has no attribute {name!r}")
    from importlib import metadata

    try:
        version = metadata.version("mvplan")
    except metadata.PackageNotFoundError:  # a checkout that was never installed
        version = "0+unknown"
    globals()["__version__"] = version
    return version
