"""The only package that imports pyroute2: read live state, apply plans, verify, discover.

* :mod:`planner.netlink.live` - a host's links, addresses, routes, neighbours (:func:`read_live`);
* :mod:`planner.netlink.apply` - dry run / transaction / verify / confirm, with a lock and a
  journal (:func:`~planner.netlink.apply.apply`, :func:`~planner.netlink.apply.recover`);
* :mod:`planner.netlink.discover` - the live state as a design document.

Importing the package loads pyroute2; the CLI and the web layer import it only when a command
or a request needs it. See docs/apply.md.
"""
from __future__ import annotations

from ._nl import NetlinkError
from .target import TargetMissing

__all__ = ["NetlinkError", "TargetMissing"]
