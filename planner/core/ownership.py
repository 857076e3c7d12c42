"""Ownership marks of the links mvplan creates (containerlab's ``links/ownership.go`` idea): the
ifalias :func:`owner_alias` ``mvplan:<design-name>:<iface-id>``, read back by :func:`alias_owner`;
and the temporary names links are created under before they move into their namespace.

Pure: no I/O.
"""
from __future__ import annotations

import functools
import hashlib
import re

__all__ = ["owner_alias", "owner_prefix", "alias_owner", "temp_name", "ALIAS_PREFIX", "IFALIAS_MAX_BYTES"]

ALIAS_PREFIX = "mvplan:"
#: IFALIASZ is 256 including the terminating NUL.
IFALIAS_MAX_BYTES = 255


_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]")


@functools.lru_cache(maxsize=64)
def owner_prefix(design_name: str) -> str:
    """``mvplan:<design-name>:`` - the alias prefix that marks links owned by one design.

    Names with control characters or line/bidi separators (U+0085, U+2028, U+202E, ...), or long
    enough that ``prefix + iface id`` could exceed IFALIASZ, are replaced by ``#`` and 12 hex
    digits of their SHA-256, so the mark is always storable and still unique per design.
    """
    part = design_name
    if _UNPRINTABLE.search(part) or len(part.encode()) > 96 or part.startswith("#"):
        part = "#" + hashlib.sha256(design_name.encode()).hexdigest()[:12]
    return f"{ALIAS_PREFIX}{part}:"


def owner_alias(design_name: str, iface_id: str) -> str:
    """The ifalias that marks a link as created by mvplan for ``iface_id`` of a design."""
    alias = owner_prefix(design_name) + iface_id
    if len(alias.encode()) > IFALIAS_MAX_BYTES:  # pragma: no cover - ids are far shorter in practice
        alias = owner_prefix(design_name) + "#" + hashlib.sha256(iface_id.encode()).hexdigest()[:16]
    return alias


def alias_owner(alias: str | None, design_name: str) -> str | None:
    """The iface id an alias claims for ``design_name``, or None when the link is not ours."""
    prefix = owner_prefix(design_name)
    if alias and alias.startswith(prefix):
        return alias[len(prefix):]
    return None


def temp_name(iface_id: str) -> str:
    """A stable temporary name (<= 15 bytes) for a link created in the host namespace before
    it is moved into its own namespace, where its final name may already be taken."""
    return "mvt" + hashlib.sha256(iface_id.encode()).hexdigest()[:10]
