"""What the real-consumer tests share: comparing a live state with a design, ignoring what only
mvplan's applier writes (the ownership alias) - a state built by networkd, the CNI plugin or
Docker must otherwise be the one ``mvplan apply`` builds."""
from __future__ import annotations

import shutil
from dataclasses import replace

from planner.core.compiler import expected_state
from planner.core.livestate import LiveHost, LiveState, compare
from planner.netlink.live import read_live


def without_alias(state: LiveState) -> LiveState:
    return LiveState(hosts=tuple(
        LiveHost(name=h.name, namespaces=tuple(
            replace(ns, links=tuple(replace(lk, alias=None) for lk in ns.links)) for ns in h.namespaces))
        for h in state.hosts))


def differences(design, netns: str, host: str, namespaces: list[str] | None = None) -> list[str]:
    """What the live state of ``netns`` lacks of what ``design`` expects (aliases not compared)."""
    live = read_live(netns, host=host, namespaces=namespaces)
    return compare(without_alias(expected_state(design, [host])), live)


def missing_tools(*tools: tuple[str, str]) -> list[str]:
    """``(program, Debian package)`` pairs whose program is not on PATH, as require() messages."""
    return [f"`{t}` not found (apt-get install {pkg})" for t, pkg in tools if shutil.which(t) is None]


__all__ = ["differences", "without_alias", "missing_tools"]
