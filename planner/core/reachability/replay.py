"""One ping replayed symbolically through the frame world, the way the kernel decides it.

1. A's namespace picks the egress interface E for B's address (longest prefix; between equal
   prefixes the route added first wins, i.e. design order). Same namespace = local delivery.
2. Unless E has a static neighbour entry, E broadcasts an ARP request; every interface of B's
   namespace that receives it answers (``arp_ignore=0``) and learns A's MAC; the first answer
   must travel back to E.
3. The echo request is sent to the learned MAC and must land in B's namespace.
4. B's namespace routes the reply, resolves A (static entry, the entry learned in step 2 on
   that interface, or its own ARP exchange) and the echo reply must land in A's namespace.
"""
from __future__ import annotations

from ..model import Iface
from .verdict import Verdict
from .world import DST, SRC, World

__all__ = ["ping", "local_verdict", "port_of", "port_hairpin"]


def local_verdict(ns: str) -> Verdict:
    return Verdict(True, "LOCAL", f"both addresses live in namespace {ns}: the kernel delivers locally over lo, "
                                  "whatever the links do", (ns, "lo"))



# --------------------------------------------------------------------------- one ping
def ping(w: World, a: Iface, b: Iface) -> Verdict:
    aip, bip = a.address.ip, b.address.ip
    if a.ns == b.ns:
        return local_verdict(a.ns)
    # a's own link may be down: its address stays local and another interface of the
    # namespace may still carry the ping (measured), so only the route decides
    rt = w.route(a.ns, bip)
    if rt is None and not w.alive(a):
        return Verdict(False, "SRC_DOWN", _down_text(w, a) + "; no other interface of " + a.ns +
                       " has a route to " + str(bip), (a.id,))
    if rt is None:
        return Verdict(False, "NO_ROUTE", f"{a.ns} has no route to {bip}: it is outside every connected subnet "
                                          f"there and no static route covers it (routing between subnets is out of "
                                          f"scope)", (a.id,))
    egress, nh = rt
    if not w.alive(egress):
        return Verdict(False, "SRC_DOWN", _down_text(w, egress), (egress.id,))
    # --- A resolves B --------------------------------------------------------------------
    learned_on_b: set[str] = set()
    static = w.neighbor_mac(egress, nh)
    if static is not None:
        mac_b = static
    else:
        responders = w.arp(egress, nh)
        if not responders:
            return Verdict(False, "ARP_UNANSWERED", _why_not(w, egress, b, "ARP request (broadcast)"),
                           (egress.id,))
        learned_on_b = {r.id for r, _h in responders}
        # the first answer that ARRIVES wins (later ones are ignored within locktime): arp()
        # lists interfaces that see the request directly before children served from the
        # broadcast queue, each in the order the data path reaches them
        responder = next((r for r, _h in responders
                          if w.received(w.deliver(r, egress.mac), egress, r) is not None), None)
        if responder is None:
            first, hops_arp = responders[0]
            return Verdict(False, "ARP_REPLY_LOST", _why_not(w, first, egress, "ARP reply (unicast)"),
                           _fill(hops_arp, egress, first))
        mac_b = responder.mac
    # --- echo request ------------------------------------------------------------------------
    dest = w.landed(w.deliver(egress, mac_b), b.ns, egress)
    if dest is None:
        owner = w.mac_owner.get(mac_b)
        if owner is not None and owner.ns == b.ns:
            return Verdict(False, "ECHO_LOST", _why_not(w, egress, owner, "echo request (unicast)"), (egress.id,))
        return Verdict(False, "ECHO_LOST", f"{egress.id} sends the echo request to {mac_b}, which is not an "
                                           f"interface in {b.ns} (a wrong static neighbour entry?)", (egress.id,))
    echo_hops = _fill(dest[1], egress, dest[0])
    # --- B replies -----------------------------------------------------------------------------
    rt_b = w.route(b.ns, aip)
    if rt_b is None:
        return Verdict(False, "REPLY_NO_ROUTE", f"{b.ns} has no route back to {aip}", echo_hops)
    eb, nh_b = rt_b
    if not w.alive(eb):
        return Verdict(False, "REPLY_LOST", f"{b.ns} would answer through {eb.id}, which is down: "
                                            f"{_down_text(w, eb)}", echo_hops)
    mac_a = w.neighbor_mac(eb, nh_b)
    if mac_a is None and eb.id in learned_on_b and nh_b == aip:
        mac_a = egress.mac  # learned from A's ARP request on that interface
    if mac_a is None:
        responders = w.arp(eb, nh_b)
        if not responders:
            return Verdict(False, "REPLY_ARP_UNANSWERED",
                           _why_not(w, eb, a, f"ARP request for {aip} (broadcast)") +
                           (". The pinger used a static entry, so the target never saw an ARP request to learn "
                            "from" if static is not None else ""), echo_hops)
        resp = next((r for r, _h in responders if w.received(w.deliver(r, eb.mac), eb, r) is not None), None)
        if resp is None:
            return Verdict(False, "REPLY_ARP_UNANSWERED", _why_not(w, responders[0][0], eb, "ARP reply (unicast)"),
                           echo_hops)
        mac_a = resp.mac
    back = w.landed(w.deliver(eb, mac_a), a.ns, eb)
    if back is not None:
        back_hops = _fill(back[1], eb, back[0])
        return Verdict(True, "OK", f"{a.id} reaches {b.id}: " + _path_text(echo_hops) +
                       ("" if back_hops == tuple(reversed(echo_hops)) else
                        "; the reply returns " + _path_text(back_hops)), echo_hops)
    owner = w.mac_owner.get(mac_a)
    return Verdict(False, "REPLY_LOST", _why_not(w, eb, owner or a, "echo reply (unicast)"), echo_hops)


def _fill(hops: tuple, src: Iface, dst: Iface) -> tuple:
    """Put the real sender and receiver into a cached hop list."""
    return tuple(src.id if h == SRC else dst.id if h == DST else h for h in hops)


def _path_text(hops: tuple) -> str:
    return " -> ".join(hops)


def _down_text(w: World, i: Iface) -> str:
    if not i.up:
        return f"{i.id} is administratively down"
    if i.is_child and i.lower and not w.by_id[i.lower].up:
        return (f"parent {i.lower} of {i.id} is down; every macvlan child loses carrier with its parent "
                f"(blast radius)")
    if i.master and not w.by_id[i.master].up:
        return f"bridge {i.master} of port {i.id} is down"
    return f"{i.id} is down"


def port_of(w: World, lower: Iface) -> str | None:
    far = w.far.get(lower.id)
    if far is None:
        return None
    if far.startswith("switch:"):
        return far
    port = w.by_id.get(far)
    return port.id if port is not None else None


def port_hairpin(w: World, node: str) -> bool:
    if node.startswith("switch:"):
        sw, port = node[len("switch:"):].rsplit("/", 1)
        return next((h for p, h in w.switch_ports.get(sw, ()) if p == port), False)
    p = w.by_id.get(node)
    return bool(p and w.hairpin(p))


def _why_not(w: World, src: Iface, dst: Iface, what: str) -> str:
    """Explain in words why a frame from ``src`` does not reach ``dst``."""
    if not w.alive(dst):
        return f"the {what} from {src.id} cannot be received: {_down_text(w, dst)}"
    if not w.alive(src):
        return f"the {what} cannot be sent: {_down_text(w, src)}"
    bcast = "broadcast" in what
    s_low = w.by_id[src.lower] if src.is_child else None
    d_low = w.by_id[dst.lower] if dst.is_child else None
    if dst.mode == "source" and src.mac not in dst.source_macs:
        return (f"{dst.id} is in source mode and only accepts frames from the MACs on its list; "
                f"{src.id} ({src.mac}) is not on it, so the {what} is dropped")
    same_lower = s_low is not None and (s_low is d_low or dst.id == s_low.id)
    src_is_lower_of_dst = d_low is not None and src.id == d_low.id
    if same_lower or src_is_lower_of_dst:
        lower = s_low or d_low
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
        hp = port_hairpin(w, port) if port else False
        if port is None:
            return (f"{src.id} ({src.mode or src.kind}) sends through {lower.id}, which is cabled to nothing, so "
                    f"the {what} can only come back to {dst.id} via a reflecting switch port")
        if not hp:
            kind = f"{src.mode} mode" if src.is_child else "the parent's own stack"
            return (f"the {what} from {src.id} ({kind}) leaves through {lower.id} to {port} and must be reflected "
                    f"back to reach {dst.id}; {port} does not reflect frames (hairpin off)")
        return f"the {what} from {src.id} is reflected at {port} but {dst.id} ({dst.mode or dst.kind}) does not accept it"
    return (f"no layer-2 path carries the {what} from {src.id} to {dst.id} (different segments, or a device "
            f"on the way is down)")

