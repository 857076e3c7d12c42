"""What an importer returns: a design document and the warnings about what it could not map.

Warnings are data (a code, the file, the place in it, a sentence), never strings to search: the
CLI prints them, the web answer lists them, tests compare their codes.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from planner.core.errors import InputProblem, MvplanError

__all__ = ["ImportCode", "ImportWarning", "ImportResult", "ImportFailure", "Source"]


class ImportCode(StrEnum):
    """Why an importer could not map something faithfully (stable wire names)."""

    #: the parent is a VLAN sub-interface (``eth0.50``): mvplan does not model 802.1Q yet
    VLAN_PARENT = "vlan-parent"
    #: an interface gets no IPv4 address mvplan can know (DHCP, dynamic IPAM, none given)
    NO_ADDRESS = "no-address"
    #: IPv6 subnets and addresses are out of scope (format v1 plans IPv4)
    IPV6 = "ipv6"
    #: a network, link or interface that is not macvlan/macvtap (ipvlan, bridge, NAT, ...)
    NOT_MACVLAN = "not-macvlan"
    #: an option or setting that has no place in a design
    UNSUPPORTED = "unsupported"
    #: a value the file does not say, which the importer had to choose (a name, an order)
    GUESSED = "guessed"
    #: a reference to something no given file defines
    UNRESOLVED = "unresolved"
    #: two files (or two places) disagree; the first one wins
    CONFLICT = "conflict"
    #: something is made up from what the file implies (a gateway becomes a station)
    DERIVED = "derived"


@dataclass(frozen=True)
class ImportWarning:
    """One thing the importer could not map as the file says it."""

    code: ImportCode
    source: str
    where: str
    message: str

    def __str__(self) -> str:
        at = f"{self.source}: {self.where}" if self.where else self.source
        return f"[{self.code}] {at}: {self.message}"

    def to_dict(self) -> dict[str, str]:
        return {"code": str(self.code), "source": self.source, "where": self.where, "message": self.message}


@dataclass(frozen=True)
class Source:
    """One input file: its name (for messages) and its text."""

    name: str
    text: str


@dataclass(frozen=True)
class ImportResult:
    """A design document (format v1) and what could not be mapped."""

    document: dict[str, Any]
    warnings: list[ImportWarning] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"document": self.document, "warnings": [w.to_dict() for w in self.warnings]}


class ImportFailure(MvplanError, ValueError):
    """The input cannot be imported at all; ``problems`` says where and why (file: place)."""

    def __init__(self, problems: list[InputProblem] | InputProblem):
        if isinstance(problems, InputProblem):
            problems = [problems]
        self.problems = list(problems)
        super().__init__("; ".join(str(p) for p in self.problems) or "cannot import")
