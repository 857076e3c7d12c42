"""Where a host's design namespaces are on this machine, and one netlink channel per namespace.

A *target* is the machine (``netns=None``) or a named network namespace standing for the host
(``netns="lab1"``). Design namespace ``""`` is the target itself; design namespace ``web`` is the
named netns ``<prefix>web``. The prefix defaults to ``""`` on the machine and to ``"<netns>-"``
inside a target netns, so ``mvplan apply --netns lab1`` puts namespace ``web`` in ``lab1-web``
and never in a netns the machine already uses for something else. It is the same mapping as the
iproute2 exporter's ``netns_prefix``.
"""
from __future__ import annotations

import os

from pyroute2 import netns as _pnetns

from planner.core.errors import MvplanError

from ._nl import NETNS_RUN_DIR, Channel, ns_fd

__all__ = ["Target", "TargetMissing", "default_prefix", "list_netns"]


class TargetMissing(MvplanError, LookupError):
    """The network namespace named as the target does not exist."""


def default_prefix(netns: str | None) -> str:
    return f"{netns}-" if netns else ""


def list_netns() -> list[str]:
    try:
        return sorted(_pnetns.listnetns(NETNS_RUN_DIR))
    except FileNotFoundError:
        return []


class Target:
    """Open fds and channels of a target's namespaces (created lazily, closed by :meth:`close`)."""

    def __init__(self, netns: str | None = None, prefix: str | None = None):
        self.netns = netns or None
        self.prefix = default_prefix(self.netns) if prefix is None else prefix
        self._fds: dict[str, int] = {}
        self._channels: dict[str, Channel] = {}
        if self.netns is not None and not os.path.exists(os.path.join(NETNS_RUN_DIR, self.netns)):
            raise TargetMissing(f"network namespace {self.netns!r} does not exist (create it with "
                                f"'ip netns add {self.netns}')")
        # pin our own namespace now: later setns() calls must come back to it
        self._fds[""] = ns_fd(self.netns)

    @property
    def key(self) -> str:
        """A file-name-safe id of the target (for locks and journals)."""
        return f"netns-{self.netns}" if self.netns else "host"

    def real_name(self, ns: str) -> str | None:
        """Netns name of a design namespace (None: the machine's own namespace)."""
        if not ns:
            return self.netns
        return self.prefix + ns

    def describe(self, ns: str = "") -> str:
        real = self.real_name(ns)
        return "the host namespace" if real is None else f"netns {real}"

    def exists(self, ns: str) -> bool:
        if not ns:
            return True
        return os.path.exists(os.path.join(NETNS_RUN_DIR, self.prefix + ns))

    def fd(self, ns: str) -> int:
        fd = self._fds.get(ns)
        if fd is None:
            fd = self._fds[ns] = ns_fd(self.real_name(ns))
        return fd

    def enter_fd(self, ns: str) -> int | None:
        """The fd to enter namespace ``ns`` with; None: it is the calling process's own."""
        return None if (not ns and self.netns is None) else self.fd(ns)

    def channel(self, ns: str) -> Channel:
        ch = self._channels.get(ns)
        if ch is None:
            ch = self._channels[ns] = Channel(self.enter_fd(ns), label=self.describe(ns))
        return ch

    def forget(self, ns: str) -> None:
        """Drop the fd and channel of a namespace (after it was deleted)."""
        ch = self._channels.pop(ns, None)
        if ch is not None:
            ch.close()
        fd = self._fds.pop(ns, None) if ns else None
        if fd is not None:
            os.close(fd)

    def design_namespaces(self) -> list[str]:
        """Design names of the existing named netns that carry this target's prefix."""
        if not self.prefix:
            return []
        own = self.netns
        return [n[len(self.prefix):] for n in list_netns() if n.startswith(self.prefix) and n != own
                and len(n) > len(self.prefix)]

    def close(self) -> None:
        for ch in self._channels.values():
            ch.close()
        self._channels.clear()
        for fd in self._fds.values():
            os.close(fd)
        self._fds.clear()

    def __enter__(self) -> Target:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
