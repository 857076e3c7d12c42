"""Rules that read the reachability prediction, so a finding never claims something the prediction
(and therefore the kernel) disagrees with: ARP flux that loses traffic, siblings and hairpin, private
mode, the host and its own children, the blast radius of a parent.
"""
from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Callable, Iterable

from ..commands import hairpin_command
from ..findings import INFO, WARNING, Finding, finding
from ..model import Design, Iface, IPAddress
from ..reachability import Prediction, Reason, Remedy, Step, Verdict
from ..reachability.verdict import RESOLUTION_REASONS
from .common import children_by_lower, hairpin_commands, port_node, q, same_subnet, short

__all__ = ["TRAFFIC"]


def rule_arp_flux(d: Design, p: Prediction) -> Iterable[Finding]:
    """Several cabled interfaces in one namespace with addresses: every one answers ARP.

    A warning where it costs traffic (a passthru parent in the namespace, or a pair into the
    namespace lost after the ARP exchange); otherwise information, since the usual shim set-up
    lives with it.
    """
    by_ns: dict[str, list[Iface]] = defaultdict(list)
    for i in d.interfaces:
        if i.kind == "bridge-port" or i.master:
            continue
        if i.kind in ("parent", "station") and not i.link:
            continue
        by_ns[i.ns].append(i)
    lossy: set[str] = set()
    for v, (a, b), _n in p.groups():
        if not v.reachable and v.reason in (Reason.ARP_REPLY_LOST, Reason.NDP_REPLY_LOST, Reason.ECHO_LOST,
                                            Reason.REPLY_LOST):
            lossy.update((d.iface(a).ns, d.iface(b).ns))
    passthru_parents = {i.lower for i in d.interfaces if i.is_child and i.mode == "passthru"}
    for ns, items in by_ns.items():
        addressed = [i for i in items if i.addresses]
        if len(items) < 2 or not addressed:
            continue
        costly = ns in lossy or any(i.id in passthru_parents for i in items)
        ips = ", ".join(str(i.addresses[0].ip) for i in addressed[:4])
        yield finding("MV115", [i.id for i in items],
                      f"{ns} has {len(items)} interfaces on the wire ({', '.join(short(i.id) for i in items[:6])}) "
                      f"and addresses {ips}: with the default arp_ignore=0 each of them answers ARP for every "
                      "address of the namespace, and the asker keeps the first answer. Which one comes first depends "
                      "on the switch (mvplan assumes a Linux bridge: the port cabled last floods first)" +
                      ("; here an answer leads traffic where it is lost" if costly else
                       "; in this design every such answer still works"),
                      fix="answer only on the interface that owns the address (arp_ignore=1), or keep one "
                          "interface per namespace on a segment",
                      commands=("sysctl -w net.ipv4.conf.all.arp_ignore=1",),
                      severity=WARNING if costly else INFO)


def rule_sibling_traffic(d: Design, p: Prediction) -> Iterable[Finding]:
    """MV201/MV202/MV203/MV304: siblings on one parent meant to talk (same subnet)."""
    buckets: dict[str, dict[str, set]] = {code: defaultdict(set) for code in ("MV201", "MV202", "MV203", "MV304")}
    for v, members, lower in _sibling_verdicts(d, p):
        a, b = d.iface(members[0][0]), d.iface(members[0][1])
        if not (same_subnet(a, b)) or a.ns == b.ns:
            continue
        code = _sibling_code(v, a, b)
        if code is not None:
            for x, y in members[:3]:
                buckets[code][lower] |= {x, y}
    yield from _sibling_findings(d, buckets["MV201"], buckets["MV202"], buckets["MV203"], buckets["MV304"])


def _sibling_verdicts(d: Design, p: Prediction) -> Iterable[tuple[Verdict, list[tuple[str, str]], str]]:
    """(verdict, up to three sibling pairs it stands for, their parent) for every verdict between two
    children of one parent: class verdicts per parent they span, and exception pairs."""
    for (ci, cj, same), v in p.verdicts.items():
        if not same or v.reason == Reason.LOCAL or not p.pair_count((ci, cj, same)):
            continue
        mi, mj = p.members_by_anchor(ci), p.members_by_anchor(cj)
        for lower in mi.keys() & mj.keys():  # a class can span interchangeable parents
            pairs = [(x, y) for x in mi[lower][:3] for y in mj[lower][:3] if x != y and (x, y) not in p.exceptions]
            if pairs and d.iface(pairs[0][0]).is_child and d.iface(pairs[0][1]).is_child:
                yield v, pairs, lower
    for (x, y), v in p.exceptions.items():
        a, b = d.iface(x), d.iface(y)
        if a.is_child and b.is_child and a.lower == b.lower and v.reason != Reason.LOCAL:
            yield v, [(x, y)], str(a.lower)


def _sibling_code(v: Verdict, a: Iface, b: Iface) -> str | None:
    """Which sibling finding a verdict between two children of one parent belongs to."""
    modes = {a.mode, b.mode}
    if v.reachable:
        return "MV304" if modes & {"vepa", "passthru", "private", "source"} and Step.REFLECTED in v.steps else None
    if "private" in modes:
        return "MV201" if v.reason in RESOLUTION_REASONS else "MV202"
    return "MV203" if v.remedy == Remedy.HAIRPIN_ON else None


def _sibling_findings(d, private_arp, private_uni, hairpin_blocked, double_trip):
    for lower, members in private_arp.items():
        yield finding("MV201", sorted(members) + [lower],
                      f"private-mode children on {lower} cannot ARP each other: the parent drops broadcasts "
                      "between private siblings, even when a hairpin port reflects them",
                      fix="use bridge mode (or vepa with a hairpin port); if they must stay private, add static "
                          "neighbours on both ends and turn on hairpin on the switch port")
    for lower, members in private_uni.items():
        yield finding("MV202", sorted(members) + [lower],
                      f"private-mode children on {lower} have static neighbours but unicast still fails: it needs "
                      "permanent entries on BOTH ends and a switch port that reflects frames (hairpin)",
                      fix="add static neighbours on both ends (neighbors: all-peers) and turn on hairpin")
    for lower, members in hairpin_blocked.items():
        port = port_node(d, lower)
        cmds = hairpin_commands(port) if port else ()
        yield finding("MV203", sorted(members) + ([port] if port else []) + [lower],
                      f"siblings on {lower} in the same subnet cannot reach each other: their frames leave "
                      f"through {lower} and {('port ' + port) if port else 'the cable'} does not send them back "
                      "(no hairpin / reflective relay)",
                      fix=(f"turn on hairpin on {port}" if port else "cable the parent to a reflecting port") +
                          ", or put the children in bridge mode",
                      commands=cmds)
    for lower, members in double_trip.items():
        yield finding("MV304", sorted(members) + [lower],
                      f"traffic between siblings on {lower} goes out to the switch and back (VEPA/passthru "
                      "double trip): it costs the parent's bandwidth twice and caps sibling throughput at the link "
                      "speed", fix="use bridge mode if the switch does not need to see sibling traffic")


def _free_address(net: ipaddress.IPv4Network | ipaddress.IPv6Network, used: set[IPAddress]) -> IPAddress | None:
    """The highest host address of ``net`` nobody uses (a shim's address)."""
    top, bottom = int(net.broadcast_address) - 1, int(net.network_address) + 1
    for n in range(top, max(bottom, top - 4096) - 1, -1):
        ip = ipaddress.ip_address(n) if net.version == 4 else ipaddress.IPv6Address(n)
        if ip not in used:
            return ip
    return None


def rule_host_cannot_reach_children(d: Design, p: Prediction) -> Iterable[Finding]:
    used: set[IPAddress] | None = None  # every address in the design: only a finding needs them
    for lower, kids in children_by_lower(d).items():
        li = d.iface(lower)
        if not li.addresses or li.id not in p.class_of:
            continue
        blocked = []
        for k in kids:
            if k.addresses and k.ns != li.ns and same_subnet(li, k) and not p.reachable(li.id, k.id):
                blocked.append(k)
        if not blocked:
            continue
        if used is None:
            used = {ip for e in d.endpoints() for ip in e.ips}
        shim_ip = _free_address(li.addresses[0].network, used)
        name = "mvshim0"
        cmds = [f"ip link add {name} link {q(li.name)} type macvlan mode bridge",
                f"ip addr add {shim_ip or 'FREE_ADDRESS'}/32 dev {name}",
                f"ip link set {name} up"]
        cmds += [f"ip route add {k.addresses[0].ip}/32 dev {name}" for k in blocked[:5]]
        yield finding("MV204", [li.id] + [k.id for k in blocked],
                      f"{li.id} has {li.addresses[0]} but cannot reach {len(blocked)} of its own children "
                      f"({', '.join(short(k.id) for k in blocked[:4])}{'...' if len(blocked) > 4 else ''}): frames "
                      "the parent sends go out on the wire and never come back up into its macvlans",
                      fix="give the host a bridge-mode macvlan 'shim' on the same parent and route the children's "
                          "addresses through it (/32 routes); the shim reaches bridge-mode children directly",
                      commands=tuple(cmds))


def _lost_pairs_by_lower(d: Design, p: Prediction) -> dict[str, tuple[int, list[str]]]:
    """Reachable pairs that a parent going down would cut, per parent (one pass over verdicts)."""
    per_anchor: list[dict[str, int]] = []
    for members in p.classes:
        counts: dict[str, int] = {}
        for m in members:
            anc = p.anchor(m)
            counts[anc] = counts.get(anc, 0) + 1
        per_anchor.append(counts)
    sizes = [len(c) for c in p.classes]
    out: dict[str, list] = {}

    def add(lower: str, n: int, a: str, b: str) -> None:
        entry = out.setdefault(lower, [0, []])
        entry[0] += n
        if n > 0 and len(entry[1]) < 3 and lower in (p.anchor(a), p.anchor(b)):
            entry[1].append(f"{a} -> {b}")

    for key, v in p.verdicts.items():
        if not v.reachable or v.reason == Reason.LOCAL:
            continue
        ci, cj, same = key
        ai, aj = per_anchor[ci], per_anchor[cj]
        for lower in set(ai) | set(aj):
            ni, nj = ai.get(lower, 0), aj.get(lower, 0)
            n = ni * (nj - (1 if ci == cj else 0)) if same else ni * (sizes[cj] - nj) + (sizes[ci] - ni) * nj
            if n > 0:
                add(lower, n, *p.examples[key])
    for (a, b), v in p.exceptions.items():  # exceptions were counted with their class pair above
        cls_v = p.verdicts.get(p.key(a, b))
        lowers = {p.anchor(a), p.anchor(b)}
        for lower in lowers:
            if cls_v is not None and cls_v.reachable and cls_v.reason != Reason.LOCAL:
                add(lower, -1, a, b)
            if v.reachable and v.reason != Reason.LOCAL:
                add(lower, 1, a, b)
    return {k: (v[0], v[1]) for k, v in out.items()}


def rule_blast_radius(d: Design, p: Prediction) -> Iterable[Finding]:
    kids_by_lower = children_by_lower(d)
    lost_by_lower = _lost_pairs_by_lower(d, p)
    for lower, kids in kids_by_lower.items():
        li = d.iface(lower)
        nss = {k.ns for k in kids}
        if not li.up:
            yield finding("MV206", [lower] + [k.id for k in kids],
                          f"{lower} is down: its {len(kids)} children lose carrier and reach nobody, not even each "
                          "other", fix=f"bring it up: ip link set dev {li.name} up",
                          commands=(f"ip link set dev {q(li.name)} up",))
            continue
        lost, examples = lost_by_lower.get(lower, (0, []))
        yield finding("MV205", [lower],
                      f"{len(kids)} {'child' if len(kids) == 1 else 'children'} in {len(nss)} "
                      f"namespace{'' if len(nss) == 1 else 's'} depend on {lower}: if it goes down they all "
                      f"lose carrier" + (f", and {lost} reachable pairs are lost (e.g. {', '.join(examples)})"
                                        if lost else ""),
                      fix="bond or team the parent for redundancy if these workloads must survive a link failure")



def rule_reflection_mislearning(d: Design, p: Prediction) -> Iterable[Finding]:
    """MV117: pairs lost because a reflected copy taught a bridge the wrong port, one finding per fix."""
    lost: dict[tuple[str, tuple[str, ...]], list[tuple[tuple[str, str], int, Verdict]]] = defaultdict(list)
    for v, pair, n in p.groups():
        if not v.reachable and v.mislearned:
            ports = v.fix_ports if v.remedy == Remedy.HAIRPIN_OFF else ()
            lost[(v.mislearned, ports)].append((pair, n, v))
    for (where, ports), items in sorted(lost.items()):
        pairs = sum(n for _, n, _ in items)
        examples = ", ".join(f"{a} -> {b}" for (a, b), _, _ in items[:3])
        racy = sum(n for _, n, v in items if v.timing)
        subjects = list(dict.fromkeys([*ports, where] + [x for (a, b), _, _ in items[:3] for x in (a, b)]))
        fix = items[0][2].fix if ports else ("turn hairpin off on the port that reflects frames towards the learning "
                                             "bridge (the switch port facing it, or its own port facing the switch)")
        yield finding("MV117", subjects,
                      f"{pairs} ordered pair(s) are lost at {where} (e.g. {examples}): a hairpin port sends copies of "
                      "their frames back towards where they came from, the bridge there learns the sender's MAC "
                      "behind the wrong port, and the answer then goes the wrong way and is dropped" +
                      (f"; {racy} of them are a race in the kernel (sometimes the answer gets through first)"
                       if racy else ""),
                      fix=fix, commands=tuple(hairpin_command(port, on=False) for port in ports))


TRAFFIC: tuple[Callable[[Design, Prediction], Iterable[Finding]], ...] = (
    rule_arp_flux, rule_sibling_traffic, rule_reflection_mislearning, rule_host_cannot_reach_children,
    rule_blast_radius,
)
