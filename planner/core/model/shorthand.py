"""The single-host shorthand, resolved in one place.

A design with one host may put ``parents``, ``children`` and ``bridges`` at the top level; they
then belong to the implicit host ``host``. Everything that reads documents (the loader, the
what-if transform) asks this module which hosts a document has.
"""
from __future__ import annotations

from typing import Any

from ..errors import InputProblem
from .types import IMPLICIT_HOST

__all__ = ["HOST_KEYS", "host_documents", "uses_shorthand"]

#: top-level keys that describe the implicit single host
HOST_KEYS = ("parents", "children", "bridges")


def uses_shorthand(doc: dict[str, Any]) -> bool:
    return "hosts" not in doc and any(k in doc for k in HOST_KEYS)


def host_documents(doc: dict[str, Any]) -> tuple[list[dict[str, Any]], list[str], list[InputProblem]]:
    """(host documents, their path prefixes in the document, problems).

    For the shorthand the one host document is a new dict whose lists are the document's own (so a
    caller may edit them in place); its prefix is ``""``. Otherwise prefixes are ``hosts[i].``.
    """
    hosts = list(doc.get("hosts") or [])
    keys = [k for k in HOST_KEYS if k in doc]
    problems = []
    if keys and hosts:
        problems.append(InputProblem(keys[0], "top-level parents/children/bridges describe the implicit single host; "
                                              "with 'hosts' present, move them into a host"))
    if keys and not hosts:
        return [{"name": IMPLICIT_HOST, **{k: doc[k] for k in keys}}], [""], problems
    return hosts, [f"hosts[{i}]." for i in range(len(hosts))], problems
