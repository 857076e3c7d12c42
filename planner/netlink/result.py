"""What an apply (or a dry run) did, and the errors it raises."""
from __future__ import annotations

from dataclasses import dataclass, field

from planner.core.compiler import Plan
from planner.core.errors import DesignError, InputProblem, MvplanError
from planner.core.model import Design
from planner.core.ops import Op

__all__ = ["ApplyError", "LockBusy", "JournalPending", "InjectedFault", "FailAt", "ApplyResult", "pick_host"]


class ApplyError(MvplanError):
    """The apply could not run or failed (the message says whether it was rolled back)."""


class LockBusy(ApplyError):
    """Another apply holds the target's lock."""


class JournalPending(ApplyError):
    """An earlier apply on this target did not finish; recover it first."""


class InjectedFault(MvplanError, RuntimeError):
    """Raised by a fault-injection hook (tests): behaves like a kernel refusing the op."""


class FailAt:
    """Fault hook: fail when about to execute op number ``position`` (0-based)."""

    def __init__(self, position: int):
        self.position = position

    def __call__(self, position: int, op: Op) -> None:
        if position == self.position:
            raise InjectedFault(f"injected fault (hook at position {position}): {op.describe()}")


def pick_host(design: Design, host: str | None) -> str:
    names = [h.name for h in design.hosts]
    if host is not None:
        if host not in names:
            raise DesignError(InputProblem("--host", f"design {design.name!r} has no host {host!r}; hosts: "
                                                     f"{', '.join(names) or '(none)'}"))
        return host
    if len(names) != 1:
        raise DesignError(InputProblem("--host", f"design {design.name!r} has {len(names)} hosts "
                                                 f"({', '.join(names)}); say which one this machine is with --host"))
    return names[0]


@dataclass
class ApplyResult:
    """What an apply (or a dry run) did."""

    host: str
    target: str
    plan: Plan
    dry_run: bool = True
    applied: int = 0
    error: str | None = None
    failed_op: Op | None = None
    rolled_back: bool = False
    rollback_errors: list[str] = field(default_factory=list)
    #: links that were there before and were deleted from outside during the apply: a rollback
    #: cannot bring them back, so the target is not "as before"
    vanished: list[str] = field(default_factory=list)
    mismatches: list[str] = field(default_factory=list)
    verified: bool = False
    confirmed: bool | None = None
    cached: bool = False
    timings: dict[str, float] = field(default_factory=dict)
    #: things that do not stop the apply but the user must know (a parent without carrier)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None and not self.mismatches and not self.rollback_errors

    def to_dict(self) -> dict:
        return {"host": self.host, "target": self.target, "dry_run": self.dry_run, "ok": self.ok,
                "plan": self.plan.to_dict(), "applied": self.applied, "error": self.error, "warnings": self.warnings,
                "failed_op": self.failed_op.to_dict() if self.failed_op else None,
                "rolled_back": self.rolled_back, "rollback_errors": self.rollback_errors,
                "vanished": self.vanished,
                "mismatches": self.mismatches, "verified": self.verified, "confirmed": self.confirmed,
                "cached": self.cached, "timings": {k: round(v, 6) for k, v in self.timings.items()}}
