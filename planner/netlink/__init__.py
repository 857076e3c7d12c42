"""The only package that imports pyroute2: read live state, apply plans, verify, discover.

* :func:`planner.netlink.live.read_live` - a host's links, addresses, routes, neighbours;
* :func:`planner.netlink.apply.apply` - dry run / transaction / verify / confirm, with a lock
  and a journal (:func:`planner.netlink.apply.recover`);
* :func:`planner.netlink.discover.discover` - the live state as a design document.

Imports are lazy so ``import planner.netlink`` stays cheap (and works without pyroute2 until
one of these is used). See docs/apply.md.
"""
from __future__ import annotations

__all__ = ["NetlinkError", "TargetMissing", "apply", "discover", "read_live", "recover"]


def __getattr__(name: str):
    if name == "read_live":
        from .live import read_live

        return read_live
    if name in ("apply", "recover"):
        from . import apply as _apply

        return getattr(_apply, name)
    if name == "discover":
        from .discover import discover

        return discover
    if name == "NetlinkError":
        from ._nl import NetlinkError

        return NetlinkError
    if name == "TargetMissing":
        from .target import TargetMissing

        return TargetMissing
    raise AttributeError(name)
