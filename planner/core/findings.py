"""Findings are data: a stable code, a severity, the subjects, a message and the fix.

Codes are never renumbered or reused. Tests assert codes, not wording. The registry below is
the one list of every code mvplan can emit; ``docs/rules.md`` documents each of them.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

__all__ = ["Finding", "CodeInfo", "CODES", "Severity", "ERROR", "WARNING", "INFO", "SEVERITIES", "finding"]


class Severity(StrEnum):
    """How bad a finding is; compares equal to its value (``Severity.ERROR == "error"``)."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


ERROR, WARNING, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO
#: most severe first (the order findings are listed in)
SEVERITIES = (ERROR, WARNING, INFO)


@dataclass(frozen=True)
class CodeInfo:
    code: str
    severity: Severity
    title: str
    #: the errno the kernel returns when it rejects this, if it does
    errno: str | None = None


@dataclass(frozen=True)
class Finding:
    code: str
    severity: Severity
    subjects: tuple[str, ...]
    message: str
    fix: str = ""
    commands: tuple[str, ...] = field(default=())
    errno: str | None = None

    def to_dict(self) -> dict:
        d: dict = {"code": self.code, "severity": str(self.severity), "title": CODES[self.code].title,
             "subjects": list(self.subjects), "message": self.message, "fix": self.fix,
             "commands": list(self.commands)}
        if self.errno:
            d["errno"] = self.errno
        return d


_REGISTRY = [
    # --- the kernel refuses these (errno given) ---------------------------------------------
    CodeInfo("MV101", ERROR, "passthru needs the parent to itself", "EINVAL"),
    CodeInfo("MV102", WARNING, "nopromisc only means something in passthru mode"),
    CodeInfo("MV103", ERROR, "a source MAC list needs source mode", "EINVAL"),
    CodeInfo("MV104", ERROR, "parent is a bridge port", "EBUSY"),
    CodeInfo("MV105", ERROR, "parent is not an Ethernet device", "EINVAL"),
    CodeInfo("MV106", INFO, "macvlan on a macvlan is re-parented by the kernel"),
    CodeInfo("MV107", ERROR, "child MTU above the parent's", "EINVAL"),
    CodeInfo("MV108", ERROR, "duplicate MAC address on one parent", "EADDRINUSE"),
    CodeInfo("MV109", ERROR, "duplicate IPv4 address"),
    CodeInfo("MV110", WARNING, "ambiguous egress: overlapping connected subnets in one namespace"),
    CodeInfo("MV111", INFO, "passthru child shares the parent's MAC"),
    CodeInfo("MV112", WARNING, "subnets that cannot reach each other without a router"),
    CodeInfo("MV114", ERROR, "passthru cannot be created on top of a macvlan", "EINVAL"),
    CodeInfo("MV115", INFO, "ARP flux: several interfaces of one namespace answer for its addresses"),
    CodeInfo("MV116", WARNING, "layer-2 loop without STP"),
    CodeInfo("MV117", WARNING, "a hairpin port reflects frames into a learning bridge, which learns senders behind "
                               "the wrong port"),
    CodeInfo("MV118", WARNING, "the parent's upstream drops frames from its children's MACs (port security, "
                               "cloud or hypervisor switch)"),
    CodeInfo("MV113", WARNING, "a source-mode child with an empty MAC list receives nothing"),
    CodeInfo("MV119", ERROR, "duplicate IPv6 address on one link: duplicate address detection disables it"),
    CodeInfo("MV120", WARNING, "duplicate IPv6 address that duplicate address detection cannot see"),
    # --- traffic that silently fails ---------------------------------------------------------
    CodeInfo("MV201", WARNING, "private-mode siblings cannot ARP each other"),
    CodeInfo("MV202", WARNING, "private-mode unicast needs static neighbours on both ends and a hairpin port"),
    CodeInfo("MV203", WARNING, "siblings need a hairpin (reflective relay) switch port"),
    CodeInfo("MV204", WARNING, "the host cannot reach its own children through the parent"),
    CodeInfo("MV205", INFO, "blast radius: every child depends on its parent's link"),
    CodeInfo("MV206", WARNING, "parent is down: its children are cut off"),
    CodeInfo("MV207", WARNING, "source-mode child only hears the MACs on its list"),
    CodeInfo("MV208", WARNING, "static neighbour points at the wrong MAC or an unknown address"),
    CodeInfo("MV209", ERROR, "a static route duplicates a route", "EEXIST"),
    # --- advice -------------------------------------------------------------------------------
    CodeInfo("MV301", INFO, "macvlan or a Linux bridge?"),
    CodeInfo("MV302", WARNING, "Wi-Fi parent: access points drop frames from extra MACs"),
    CodeInfo("MV303", INFO, "many MACs on one parent: the NIC filter overflows into promiscuous mode"),
    CodeInfo("MV304", INFO, "VEPA/passthru traffic between siblings crosses the parent twice"),
    CodeInfo("MV305", INFO, "macvtap in a namespace: the tap character device stays with the host"),
]
CODES: dict[str, CodeInfo] = {c.code: c for c in _REGISTRY}


def finding(code: str, subjects: Iterable[str], message: str, fix: str = "", commands: Iterable[str] = (),
            severity: Severity | None = None) -> Finding:
    """Build a finding with the registry's severity and errno."""
    info = CODES[code]
    return Finding(code=code, severity=severity or info.severity, subjects=tuple(subjects), message=message,
                   fix=fix, commands=tuple(commands), errno=info.errno)
