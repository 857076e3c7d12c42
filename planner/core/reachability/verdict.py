"""What a prediction says about one ordered pair: a verdict with its reason code, hops and fix."""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Verdict", "REASONS"]

#: reason code -> one-line meaning (documented in docs/reachability.md)
REASONS = {
    "OK": "the ping gets its reply",
    "LOCAL": "both addresses live in one namespace: delivered locally",
    "SRC_DOWN": "the pinging interface (or its parent) is down",
    "NO_ROUTE": "the pinging namespace has no route to the target address",
    "ARP_UNANSWERED": "the ARP request never reaches the target's namespace",
    "ARP_REPLY_LOST": "the target answers ARP but the answer never arrives",
    "ECHO_LOST": "the echo request does not arrive in the target's namespace",
    "REPLY_NO_ROUTE": "the target's namespace has no route back",
    "REPLY_ARP_UNANSWERED": "the target's ARP request for the pinger is never answered",
    "REPLY_LOST": "the echo reply does not arrive back",
}


@dataclass(frozen=True)
class Verdict:
    """Reachable or not, a reason code, the hops and the fix (pybatfish ``Trace`` style)."""

    reachable: bool
    reason: str
    message: str
    hops: tuple[str, ...] = ()
    fix: str = ""

    def to_dict(self) -> dict:
        return {"reachable": self.reachable, "reason": self.reason, "message": self.message,
                "hops": list(self.hops), "fix": self.fix}

