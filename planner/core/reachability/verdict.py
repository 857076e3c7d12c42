"""What a prediction says about one ordered pair: a verdict with its reason code, typed hops and fix.

Hops are data: each is a node id and the :class:`Step` that brought the frame there, so rules ask
``Step.REFLECTED in v.steps`` instead of searching text. ``str(hop)`` is the readable form that
the JSON output and the CLI show.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

__all__ = ["Reason", "Step", "Hop", "Remedy", "Verdict", "REASONS", "REACHABLE_REASONS", "NDP_REASONS",
           "RESOLUTION_REASONS"]


class Reason(StrEnum):
    """Why a ping gets its reply or not; compares equal to its code (``Reason.OK == "OK"``)."""

    OK = "OK"
    LOCAL = "LOCAL"
    SRC_DOWN = "SRC_DOWN"
    NO_ROUTE = "NO_ROUTE"
    ARP_UNANSWERED = "ARP_UNANSWERED"
    ARP_REPLY_LOST = "ARP_REPLY_LOST"
    ECHO_LOST = "ECHO_LOST"
    REPLY_NO_ROUTE = "REPLY_NO_ROUTE"
    REPLY_ARP_UNANSWERED = "REPLY_ARP_UNANSWERED"
    REPLY_LOST = "REPLY_LOST"
    L2_LOOP = "L2_LOOP"
    NOT_CREATED = "NOT_CREATED"
    NOT_FORWARDED = "NOT_FORWARDED"
    ROUTER_NO_ROUTE = "ROUTER_NO_ROUTE"
    ROUTING_LOOP = "ROUTING_LOOP"
    NDP_UNANSWERED = "NDP_UNANSWERED"
    NDP_REPLY_LOST = "NDP_REPLY_LOST"
    REPLY_NDP_UNANSWERED = "REPLY_NDP_UNANSWERED"
    ADDRESS_TENTATIVE = "ADDRESS_TENTATIVE"


#: reason code -> one-line meaning (documented in docs/reachability.md)
REASONS: dict[Reason, str] = {
    Reason.OK: "the ping gets its reply",
    Reason.LOCAL: "both addresses live in one namespace: delivered locally",
    Reason.SRC_DOWN: "the pinging interface (or its parent) is down",
    Reason.NO_ROUTE: "the pinging namespace has no route to the target address",
    Reason.ARP_UNANSWERED: "the ARP request never reaches the target's namespace",
    Reason.ARP_REPLY_LOST: "the target answers ARP but the answer never arrives",
    Reason.ECHO_LOST: "the echo request does not arrive in the target's namespace",
    Reason.REPLY_NO_ROUTE: "the target's namespace has no route back",
    Reason.REPLY_ARP_UNANSWERED: "the target's ARP request for the pinger is never answered",
    Reason.REPLY_LOST: "the echo reply does not arrive back",
    Reason.L2_LOOP: "the frames circle in a layer-2 loop (a broadcast storm): no reply can be counted on",
    Reason.NOT_CREATED: "an end of the pair does not exist: the kernel refuses to create it (an error finding)",
    Reason.NOT_FORWARDED: "the gateway a route names gets the packet but does not forward (ip_forward off)",
    Reason.ROUTER_NO_ROUTE: "a forwarding gateway on the way has no route to the packet's destination",
    Reason.ROUTING_LOOP: "routers send the packet round in a circle until its TTL runs out",
    Reason.NDP_UNANSWERED: "IPv6: the neighbour solicitation never reaches the interface holding the target address",
    Reason.NDP_REPLY_LOST: "IPv6: the target answers the neighbour solicitation but the advertisement never arrives",
    Reason.REPLY_NDP_UNANSWERED: "IPv6: the target's neighbour solicitation for the pinger is never answered",
    Reason.ADDRESS_TENTATIVE: "IPv6: the target address sits on an interface without carrier, so it stays "
                              "tentative and is not accepted",
}
#: the IPv6 reason of a neighbour-resolution failure the IPv4 words call by its ARP name
NDP_REASONS = {Reason.ARP_UNANSWERED: Reason.NDP_UNANSWERED, Reason.ARP_REPLY_LOST: Reason.NDP_REPLY_LOST,
               Reason.REPLY_ARP_UNANSWERED: Reason.REPLY_NDP_UNANSWERED}
#: neighbour resolution failed (ARP or NDP): the reasons rules group together
RESOLUTION_REASONS = frozenset(NDP_REASONS) | frozenset(NDP_REASONS.values())
REACHABLE_REASONS = frozenset({Reason.OK, Reason.LOCAL})


class Step(StrEnum):
    """How a frame got to a hop."""

    SEND = "send"                # the interface that transmits
    LOWER = "lower"              # a child's frame leaves through its parent
    WIRE = "wire"                # over a cable or veth
    PORT = "port"                # into or out of a switch / bridge port
    REFLECTED = "reflected"      # sent back out its ingress port (hairpin)
    FORWARDED = "forwarded"      # a bridge forwarded it to the port it learned the MAC on
    FLOODED = "flooded"          # a bridge flooded it (broadcast or unknown unicast)
    DIRECT = "direct"            # bridge-mode macvlan: straight to a sibling
    QUEUED = "queued"            # delivered to children from the macvlan broadcast queue
    SOURCE_LIST = "source-list"  # a source-mode child's copy (the sender's MAC is on its list)
    UP = "up"                    # passed up to a bridge device
    DELIVER = "deliver"          # handed to the namespace's stack
    ROUTED = "routed"            # a forwarding namespace routed it on (ip_forward)


_STEP_TEXT = {
    Step.REFLECTED: " (hairpin: reflected)", Step.DIRECT: " (bridge mode, direct)",
    Step.QUEUED: " (macvlan broadcast queue)", Step.SOURCE_LIST: " (source list)", Step.ROUTED: " (routed)",
}


class Remedy(StrEnum):
    """What kind of change the fix of a blocked verdict is (the rules read this, not the fix's words)."""

    NONE = ""
    BRING_UP = "bring-up"
    ROUTE = "route"
    HAIRPIN_ON = "hairpin-on"
    HAIRPIN_OFF = "hairpin-off"
    MODE = "mode"
    DESIGN_ERROR = "design-error"
    FORWARDING = "forwarding"
    ALLOW_MAC = "allow-mac"
    ISOLATION_OFF = "isolation-off"


class Filter(StrEnum):
    """What of a switch port dropped the lost frame on purpose (not learning, not a mode)."""

    NONE = ""
    PORT_SECURITY = "port-security"   # a locked port without an fdb entry for the source MAC
    ISOLATION = "isolation"           # from one isolated port to another


@dataclass(frozen=True, slots=True)
class Hop:
    node: str
    step: Step = Step.WIRE

    def __str__(self) -> str:
        return self.node + _STEP_TEXT.get(self.step, "")


@dataclass(frozen=True)
class Verdict:
    """Reachable or not, a reason code, the hops both ways and the fix (pybatfish ``Trace`` style).

    ``hops`` is the echo request's path (or, when it was never sent or lost, the path of the frame
    that got furthest); ``reply_hops`` the echo reply's path.
    """

    reachable: bool
    reason: Reason
    message: str
    hops: tuple[Hop, ...] = ()
    fix: str = ""
    reply_hops: tuple[Hop, ...] = ()
    remedy: Remedy = Remedy.NONE
    #: the kernel's answer depends on a race (the macvlan broadcast worker against frames still in
    #: flight): ``reachable`` is the usual outcome, the other one happens too
    timing: bool = False
    #: the bridge or switch port where a frame died because the bridge had learned its destination
    #: behind that very port (a reflection fooled its learning); "" when that is not why
    mislearned: str = ""
    #: the ports the fix changes (hairpin on or off, a MAC allowed, isolation off there)
    fix_ports: tuple[str, ...] = ()
    #: the forwarding namespaces the echo request and the reply went through, in order; the reply
    #: took other routers than the request (an asymmetric path) when ``asymmetric`` is set
    routers: tuple[str, ...] = ()
    asymmetric: bool = False
    #: the switch port whose port security or client isolation dropped the lost frame, what did it,
    #: and the source MAC it refused (port security)
    filtered_at: str = ""
    filtered_by: Filter = Filter.NONE
    filtered_mac: str = ""
    #: the address family pinged: 4 (``ping``), 6 (``ping -6``: neighbour discovery instead of ARP)
    family: int = 4

    @property
    def steps(self) -> frozenset[Step]:
        """Every kind of step the frames of this ping took (both directions)."""
        return frozenset(h.step for h in self.hops + self.reply_hops)

    def with_fix(self, fix: str, remedy: Remedy, ports: tuple[str, ...] = ()) -> Verdict:
        return replace(self, fix=fix, remedy=remedy, fix_ports=ports)

    def timing_dependent(self, race: str = "") -> Verdict:
        """The same verdict, marked as a race the kernel sometimes decides the other way; ``race`` says
        which race (default: the macvlan broadcast worker against frames in flight)."""
        other = "succeeds" if not self.reachable else "fails"
        note = (f" Timing-dependent: {race or 'the macvlan broadcast worker races frames still in flight'}; when "
                f"it goes the other way, the ping {other} (the kernel decides this differently from one run to the "
                "next).")
        sep = "" if self.message.endswith(".") else "."
        return replace(self, message=self.message + sep + note, timing=True)

    def to_dict(self) -> dict:
        return {"reachable": self.reachable, "reason": str(self.reason), "message": self.message,
                "hops": [str(h) for h in self.hops], "reply_hops": [str(h) for h in self.reply_hops],
                "fix": self.fix, "remedy": str(self.remedy), "timing": self.timing,
                "mislearned": self.mislearned, "fix_ports": list(self.fix_ports),
                "filtered_at": self.filtered_at, "filtered_by": str(self.filtered_by),
                "filtered_mac": self.filtered_mac, "routers": list(self.routers), "asymmetric": self.asymmetric,
                "family": self.family}
