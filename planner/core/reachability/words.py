"""An outcome of a simulated ping -> a verdict: the reason code, the hops, and a sentence a person understands.

The reason is the first step of the ping that did not happen; the sentence names the objects and
the kernel rule that stopped it - a mode rule of macvlan read off the design, or what the
simulation saw (a switch that had learned a MAC on the port the frame came in on, a storm).
"""
from __future__ import annotations

from dataclasses import replace

from ..ids import is_switch_port, short
from ..model import Iface
from .sim import ARP_REP, ARP_REQ, ECHO, ECHO_REPLY, Drop, Outcome
from .verdict import NDP_REASONS, Filter, Hop, Reason, Verdict
from .world import World

__all__ = ["decide", "local_verdict", "not_created_verdict", "dad_race", "tentative_verdict", "ndp_words",
           "why_not", "down_text", "port_of", "port_hairpin"]


def local_verdict(ns: str) -> Verdict:
    return Verdict(True, Reason.LOCAL, f"both addresses live in namespace {ns}: the kernel delivers locally over "
                                       "lo, whatever the links do", (Hop(ns), Hop("lo")))


def tentative_verdict(w: World, a: Iface, b: Iface) -> Verdict:
    """IPv6, one namespace: an address on an interface without carrier stays tentative - unusable."""
    x = a if not w.alive[a.id] else b
    reason = Reason.SRC_DOWN if x is a else Reason.ADDRESS_TENTATIVE
    return Verdict(False, reason, f"{x.ips[0]} of {x.id} stays tentative: {down_text(w, x)}, and an IPv6 address "
                                  "on an interface without carrier is neither used as a source nor accepted "
                                  "(IPv4 would deliver it locally)", (Hop(x.id),), family=6)


def dad_race(w: World, a: Iface, b: Iface) -> str:
    """Which duplicate address detection race decides this pair (IPv6), or ""."""
    for x, ip in ((a, a.ips[0]), (b, b.ips[0])):
        if ip in w.dad_racing.get(x.id, ()):
            dup = next(d for d in w.duplicates if d.address == ip and x.id in d.holders)
            others = ", ".join(h for h in dup.holders if h != x.id)
            return (f"{ip} of {x.id} is also held by {others} on this link, and duplicate address detection "
                    f"marks the copy probed second dadfailed (both, when the probes cross): whether {x.id} keeps "
                    "it depends on which came up first (MV119)")
    return ""


def not_created_verdict(w: World, a: Iface, b: Iface) -> Verdict:
    x = a if a.id in w.refused else b
    r = w.refused[x.id]
    return Verdict(False, Reason.NOT_CREATED,
                   f"{x.id} does not exist: the kernel refuses it ({r.code}, {r.errno}): {r.why}", (Hop(x.id),))


#: the frame whose loss a blocked reason is about
_LOST_FRAME = {Reason.ARP_UNANSWERED: ARP_REQ, Reason.ARP_REPLY_LOST: ARP_REP, Reason.ECHO_LOST: ECHO,
               Reason.REPLY_ARP_UNANSWERED: ARP_REQ, Reason.REPLY_LOST: ECHO_REPLY}


def decide(w: World, a: Iface, b: Iface, out: Outcome) -> Verdict:
    """The verdict of ``a`` pinging ``b`` from the simulation's outcome (no fix yet)."""
    v = _decide(w, a, b, out)
    if w.family == 6:
        v = replace(v, reason=NDP_REASONS.get(v.reason, v.reason), family=6,
                    message=ndp_words(v.message))
    kind = _LOST_FRAME.get(v.reason)
    if kind is not None:
        d = _mislearned_drop(out.drops, kind)
        if d is not None:
            v = replace(v, mislearned=d.node)
        f = next((x for x in out.drops if x.kind == kind and x.why in _FILTERS), None)
        if f is not None:
            v = replace(v, filtered_at=f.node, filtered_by=_FILTERS[f.why],
                        filtered_mac=f.frame.src if f.why == "locked" else "")
    return v


_FILTERS = {"locked": Filter.PORT_SECURITY, "isolated": Filter.ISOLATION}

#: IPv4 words -> IPv6 words: neighbour discovery asks the solicited-node multicast group, and only the
#: interface holding the address answers (no "any interface of the namespace" as with ARP)
_NDP_WORDS = (("ARP request (broadcast)", "neighbour solicitation (multicast)"),
              ("ARP reply (unicast)", "neighbour advertisement (unicast)"),
              ("ARP request", "neighbour solicitation"), ("ARP reply", "neighbour advertisement"),
              ("ARP answer", "neighbour advertisement"), ("ARP cannot work", "neighbour discovery cannot work"),
              ("net.ipv4.ip_forward=0", "net.ipv6.conf.all.forwarding=0"),
              ("net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1"), ("broadcast", "multicast"),
              (" ARP", " neighbour discovery"), ("TTL", "hop limit"))


def ndp_words(text: str) -> str:
    """The IPv6 wording of an IPv4 sentence (ARP -> neighbour discovery, broadcast -> multicast)."""
    for old, new in _NDP_WORDS:
        text = text.replace(old, new)
    return text


def _mislearned_drop(drops: list[Drop], kind: str) -> Drop | None:
    return next((x for x in drops if x.kind == kind and x.why == "learned-on-ingress"), None)


def _decide(w: World, a: Iface, b: Iface, out: Outcome) -> Verdict:
    aip, bip = a.ips[0], b.ips[0]
    if out.storm:
        return Verdict(False, Reason.L2_LOOP, _loop_text(out), _hops(out))
    if out.done:
        echo, back = _trail(out.echo_trail), _trail(out.reply_trail)
        text = f"{a.id} reaches {b.id}: " + _path(echo)
        if [h.node for h in back] != [h.node for h in reversed(echo)]:
            text += "; the reply returns " + _path(back)
        there = [ns for ns, kind, _ in out.routed if kind == ECHO]
        back_routers = [ns for ns, kind, _ in out.routed if kind == ECHO_REPLY]
        asym = there != back_routers[::-1]
        if asym:
            text += (f". The path is asymmetric: the request goes through {', '.join(there) or 'no router'}, the "
                     f"reply through {', '.join(back_routers) or 'no router'}")
        return Verdict(True, Reason.OK, text, echo, reply_hops=back,
                       routers=tuple(dict.fromkeys(there + back_routers)), asymmetric=asym)
    routing = _routing_failure(w, out)
    if routing is not None:
        return routing
    rt = w.route(a.ns, bip)
    if rt is None:
        if not w.alive[a.id]:
            return Verdict(False, Reason.SRC_DOWN, down_text(w, a) + f"; no other interface of {a.ns} has a route to "
                                                                   f"{bip}", (Hop(a.id),))
        return Verdict(False, Reason.NO_ROUTE, f"{a.ns} has no route to {bip}: it is outside every connected subnet "
                                               "there and no static route covers it", (Hop(a.id),))
    egress = rt[0]
    if not w.alive[egress.id]:
        return Verdict(False, Reason.SRC_DOWN, down_text(w, egress), (Hop(egress.id),))
    if not out.echo_sent:
        return _arp_failed(w, egress, b, out)
    if out.echo_at is None:
        return _echo_lost(w, egress, b, out)
    echo = _trail(out.echo_trail)
    if out.reply_route is None:
        return Verdict(False, Reason.REPLY_NO_ROUTE, f"{b.ns} has no route back to {aip}", echo)
    eb = out.reply_route[0]
    if not w.alive[eb.id]:
        return Verdict(False, Reason.REPLY_LOST, f"{b.ns} would answer through {eb.id}, which is down: "
                                                 f"{down_text(w, eb)}", echo)
    if not out.reply_sent:
        text = why_not(w, eb, a, f"ARP request for {aip} (broadcast)", out.drops, ARP_REQ)
        if w.static_neighbors(egress).get(rt[1]) is not None:
            text += (". The pinger used a static entry, so the target never saw an ARP request to learn from")
        return Verdict(False, Reason.REPLY_ARP_UNANSWERED, text, echo)
    owner = _owner(w, out.reply_to, a.ns) or a
    return Verdict(False, Reason.REPLY_LOST, why_not(w, eb, owner, "echo reply (unicast)", out.drops, ECHO_REPLY), echo)


_ROUTER_DROPS = {"not-forwarding": Reason.NOT_FORWARDED, "no-route-at-router": Reason.ROUTER_NO_ROUTE,
                 "ttl": Reason.ROUTING_LOOP}


def _routing_failure(w: World, out: Outcome) -> Verdict | None:
    """A gateway that got the echo or the reply and could not route it on."""
    d = next((x for x in out.drops if x.why in _ROUTER_DROPS and x.kind in (ECHO, ECHO_REPLY)), None)
    if d is None:
        return None
    what = "echo request" if d.kind == ECHO else "echo reply"
    ns = w.by_id[d.node].ns
    text = {
        "not-forwarding": f"the {what} for {d.detail} reaches the gateway {ns}, which does not forward: "
                          "forwarding is off there (net.ipv4.ip_forward=0), so a packet for another host is dropped",
        "no-route-at-router": f"the gateway {ns} routes, but has no route to {d.detail}: it drops the {what}",
        "ttl": f"the {what} circles between routers until its TTL runs out at {d.node} (a routing loop)",
    }[d.why]
    return Verdict(False, _ROUTER_DROPS[d.why], text, (Hop(d.node),))


def _arp_failed(w: World, egress: Iface, b: Iface, out: Outcome) -> Verdict:
    nh = w.route(egress.ns, b.ips[0])
    gateway = _owner_of_ip(w, nh[1]) if nh is not None and nh[1] != b.ips[0] else None
    if not out.responders and gateway is not None:
        return Verdict(False, Reason.ARP_UNANSWERED,
                       f"{b.ips[0]} is routed via {nh[1] if nh else ''} ({gateway.id}), and "
                       + why_not(w, egress, gateway, "ARP request (broadcast) for the gateway", out.drops, ARP_REQ),
                       (Hop(egress.id),))
    if not out.responders:
        return Verdict(False, Reason.ARP_UNANSWERED,
                       why_not(w, egress, b, "ARP request (broadcast)", out.drops, ARP_REQ), (Hop(egress.id),))
    first = out.responders[0]
    return Verdict(False, Reason.ARP_REPLY_LOST, why_not(w, first, egress, "ARP reply (unicast)", out.drops, ARP_REP),
                   _trail(out.arp_trail))


def _echo_lost(w: World, egress: Iface, b: Iface, out: Outcome) -> Verdict:
    routed = _echo_lost_after_router(w, b, out)
    if routed is not None:
        return routed
    owner = _owner(w, out.echo_to, b.ns)
    if owner is not None:
        return Verdict(False, Reason.ECHO_LOST, why_not(w, egress, owner, "echo request (unicast)", out.drops, ECHO),
                       (Hop(egress.id),))
    return Verdict(False, Reason.ECHO_LOST, f"{egress.id} sends the echo request to {out.echo_to}, which is not an "
                                            f"interface in {b.ns} (a wrong static neighbour entry?)", (Hop(egress.id),))


def _owner_of_ip(w: World, ip) -> Iface | None:
    owners = w.ip_owners.get(ip, ())
    return owners[0] if owners else None


def _echo_lost_after_router(w: World, b: Iface, out: Outcome) -> Verdict | None:
    """The echo request was routed on by a gateway and then lost on the gateway's segment."""
    last = next((r for r in reversed(out.routed) if r[1] == ECHO), None)
    if last is None:
        return None
    ns, _, egress_id = last
    egress = w.by_id[egress_id]
    arp = any(d.kind == ARP_REQ and d.frame.src == egress.mac for d in out.drops) or not any(
        d.kind == ECHO and d.frame.src == egress.mac for d in out.drops)
    what, kind = ("ARP request (broadcast) for the target", ARP_REQ) if arp else ("echo request (unicast)", ECHO)
    return Verdict(False, Reason.ECHO_LOST, f"the gateway {ns} routes the echo request on through {egress.id}, but "
                   + why_not(w, egress, b, what, out.drops, kind), (Hop(egress.id),))


def _owner(w: World, mac: str | None, ns: str) -> Iface | None:
    owners = w.mac_owners.get(mac or "", [])
    return next((o for o in owners if o.ns == ns), owners[0] if owners else None)


def _trail(t) -> tuple[Hop, ...]:
    return t.hops() if t is not None else ()


def _hops(out: Outcome) -> tuple[Hop, ...]:
    for t in (out.echo_trail, out.arp_trail):
        if t is not None:
            return t.hops()
    return ()


def _path(hops: tuple[Hop, ...]) -> str:
    return " -> ".join(str(h) for h in hops)


def _loop_text(out: Outcome) -> str:
    where = sorted({d.node for d in out.drops if d.why == "loop"})
    return (f"the ping's frames come back to {', '.join(where[:4]) or 'a bridge port'} they already passed: a "
            "layer-2 loop without STP (a broadcast storm, see MV116) - what arrives varies from run to run, so "
            "no reply can be counted on")


def down_text(w: World, i: Iface) -> str:
    if i.id in w.refused:
        r = w.refused[i.id]
        return f"{i.id} does not exist: the kernel refuses it ({r.code}, {r.errno}): {r.why}"
    if not i.up:
        return f"{i.id} is administratively down"
    if i.is_child and i.lower and not w.by_id[i.lower].up:
        return (f"parent {i.lower} of {i.id} is down; every macvlan child loses carrier with its parent "
                f"(blast radius)")
    if i.master and not w.by_id[i.master].up:
        return f"bridge {i.master} of port {i.id} is down"
    return f"{i.id} is down"


def port_of(w: World, lower: Iface) -> str | None:
    """The switch port or host bridge port a device is cabled to."""
    return w.wire.get(lower.id)


def port_hairpin(w: World, node: str | None) -> bool:
    at = w.port_of.get(node or "")
    return bool(at and at[0].ports[at[1]].hairpin)


def _learning_text(drops: list[Drop], kind: str) -> str | None:
    """A frame dropped because a bridge had learned its destination on the port it came in on."""
    d = _mislearned_drop(drops, kind)
    if d is None:
        return None
    return (f"the {kind} for {d.detail} reaches {d.node}, but the bridge there has learned {d.detail} behind that "
            f"very port - a copy of an earlier frame came back in through it (a hairpin port reflected it) - so the "
            f"frame would have to go back out the port it came in on and is dropped (hairpin off there)")


def _filter_text(w: World, node: str) -> str:
    """Why a filtering port drops a source MAC: its platform's default, or its port security."""
    behind = w.platform_behind(node)
    if behind is not None:
        dev, platform = behind
        return (f"the upstream of {dev.id} is {platform.upstream} (platform {platform.name}), so only "
                "the NIC's own MAC gets through")
    return "the port admits only the source MACs on its allowed list (port security) and the cabled device's own"


def why_not(w: World, src: Iface, dst: Iface, what: str, drops: list[Drop] | None = None, kind: str = "") -> str:
    """Explain in words why a frame from ``src`` does not reach ``dst``."""
    drops = drops or []
    learned = _learning_text(drops, kind) if kind else None
    if learned:
        return learned
    if not w.alive[dst.id]:
        return f"the {what} from {src.id} cannot be received: {down_text(w, dst)}"
    if not w.alive[src.id]:
        return f"the {what} cannot be sent: {down_text(w, src)}"
    for d in drops:
        if d.kind == kind and d.why == "locked":
            return f"the {what} from {src.id} ({src.mac}) is dropped at {d.node}: " + _filter_text(w, d.node)
        if d.kind == kind and d.why == "isolated":
            return (f"the {what} from {src.id} is dropped at {d.node}: both ports are isolated (client isolation), "
                    "and isolated ports never pass frames to each other")
    bcast = "broadcast" in what  # (IPv6 words it "multicast" after the fact: see _ndp_words)
    s_low = w.by_id[src.lower] if src.is_child and src.lower else None
    d_low = w.by_id[dst.lower] if dst.is_child and dst.lower else None
    if dst.mode == "source" and src.mac not in dst.source_macs:
        return (f"{dst.id} is in source mode and only accepts frames from the MACs on its list; "
                f"{src.id} ({src.mac}) is not on it, so the {what} is dropped")
    same_lower = s_low is not None and (s_low is d_low or dst.id == s_low.id)
    src_is_lower_of_dst = d_low is not None and src.id == d_low.id
    if same_lower or src_is_lower_of_dst:
        lower = s_low or d_low
        assert lower is not None
        return _sibling_text(w, src, dst, lower, what, bcast)
    return (f"no layer-2 path carries the {what} from {src.id} to {dst.id} (different segments, or a device "
            f"on the way is down)")


def _sibling_text(w: World, src: Iface, dst: Iface, lower: Iface, what: str, bcast: bool) -> str:
    port = port_of(w, lower)
    if bcast and src.is_child and src.mode in ("private", "source", "passthru") and dst.id != src.id:
        return (f"{src.id} is in {src.mode} mode: the parent {lower.id} hands a {src.mode} child's reflected "
                f"broadcasts back to that child only, so siblings and the parent never see its "
                f"{what} - even with hairpin on")
    if bcast and dst.mode == "private" and src.is_child:
        return (f"{dst.id} is in private mode: it drops broadcasts that come from a sibling on {lower.id} "
                f"(ARP cannot work; unicast needs static neighbours on both ends and a hairpin port)")
    if bcast and dst.mode == "bridge" and src.is_child and src.mode == "bridge":
        return f"{src.id} and {dst.id} are both bridge mode on {lower.id} but one of them is down"
    if port is None:
        return (f"{src.id} ({src.mode or src.kind}) sends through {lower.id}, which is cabled to nothing, so "
                f"the {what} can only come back to {dst.id} via a reflecting switch port")
    if not port_hairpin(w, port):
        kind = f"{src.mode} mode" if src.is_child else "the parent's own stack"
        return (f"the {what} from {src.id} ({kind}) leaves through {lower.id} to {port} and must be reflected "
                f"back to reach {dst.id}; {port} does not reflect frames (hairpin off)")
    where = port if is_switch_port(port) else short(port)
    return f"the {what} from {src.id} is reflected at {where} but {dst.id} ({dst.mode or dst.kind}) does not accept it"
