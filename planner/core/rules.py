"""``check(design)``: every rule the kernel enforces or that silently breaks traffic.

One small function per code. Rules that are about traffic (hairpin, private mode, the host
and its children, blast radius) read the reachability prediction, so a finding never claims
something the prediction (and therefore the kernel) disagrees with.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Callable, Iterable

from .findings import INFO, SEVERITIES, WARNING, Finding, finding
from .model import ALL_PEERS, Design, Iface
from .reachability import Prediction, predict

__all__ = ["check", "check_with_prediction", "RULES", "MANY_MACS_THRESHOLD"]

#: Many NICs keep 16-128 exact unicast filter entries; beyond that they fall back to
#: promiscuous mode. 32 is a conservative middle ground for an advisory.
MANY_MACS_THRESHOLD = 32


def _q(name: str) -> str:
    from shlex import quote

    return quote(name)


def _short(iid: str) -> str:
    return iid.rsplit("/", 1)[-1]


def _children_by_lower(d: Design) -> dict[str, list[Iface]]:
    out: dict[str, list[Iface]] = defaultdict(list)
    for i in d.interfaces:
        if i.is_child and i.lower:
            out[i.lower].append(i)
    return out


# --------------------------------------------------------------------------- kernel refusals
def rule_passthru_exclusive(d: Design, p: Prediction | None) -> Iterable[Finding]:
    for lower, kids in _children_by_lower(d).items():
        passthru = [k for k in kids if k.mode == "passthru"]
        if not passthru or len(kids) == 1:
            continue
        first = kids[0]
        for k in kids[1:]:
            other = "a second passthru child" if k.mode == "passthru" and first.mode == "passthru" else \
                "a child beside a passthru child" if first.mode == "passthru" else "a passthru child beside other children"
            yield finding("MV101", [k.id, lower],
                          f"{k.id} is {other} on {lower}: passthru binds the parent to exactly one macvlan, so "
                          f"the kernel refuses to create it (EINVAL)",
                          fix=f"give {_short(k.id)} its own parent NIC, or use bridge/vepa mode for every child of "
                              f"{_short(lower)}")


def rule_nopromisc(d: Design, p) -> Iterable[Finding]:
    for i in d.interfaces:
        if i.is_child and i.nopromisc and i.mode != "passthru":
            yield finding("MV102", [i.id], f"{i.id} sets nopromisc in {i.mode} mode; the flag only changes "
                                           "passthru mode (where it keeps the parent out of promiscuous mode). "
                                           "The kernel ignores it elsewhere, and iproute2 refuses it outright",
                          fix="remove nopromisc, or use mode passthru")


def rule_source_macs_mode(d: Design, p) -> Iterable[Finding]:
    for i in d.interfaces:
        if i.is_child and i.source_macs and i.mode != "source":
            yield finding("MV103", [i.id], f"{i.id} lists source MACs but is in {i.mode} mode; the kernel accepts "
                                           "a MAC list only on a source-mode macvlan (EINVAL)",
                          fix="set mode: source, or drop source_macs")
        if i.is_child and i.mode == "source" and not i.source_macs:
            yield finding("MV113", [i.id], f"{i.id} is in source mode with an empty MAC list: it only receives "
                                           "frames whose source MAC is listed, so it hears nothing",
                          fix="list the peers' MACs in source_macs, or use bridge mode")


def rule_parent_bridge_port(d: Design, p) -> Iterable[Finding]:
    for lower, kids in _children_by_lower(d).items():
        li = d.iface(lower)
        if li.master:
            yield finding("MV104", [lower, li.master] + [k.id for k in kids],
                          f"{lower} is a port of bridge {li.master}; a bridge port already has a receive handler, "
                          f"so the kernel refuses macvlans on it (EBUSY)",
                          fix=f"create the children on the bridge's other side or remove {_short(lower)} from "
                              f"{_short(li.master)}; to share the link with a Linux bridge, give the containers veth "
                              "ports on that bridge instead",
                          commands=(f"ip link set dev {_q(_short(lower))} nomaster",))


def rule_parent_not_ethernet(d: Design, p) -> Iterable[Finding]:
    for lower, kids in _children_by_lower(d).items():
        li = d.iface(lower)
        if li.parent_kind == "loopback":
            yield finding("MV105", [lower] + [k.id for k in kids],
                          f"{lower} is a loopback device; macvlan needs an Ethernet parent (EINVAL)",
                          fix="use an Ethernet NIC or a veth as the parent")


def rule_reparented(d: Design, p) -> Iterable[Finding]:
    for i in d.interfaces:
        if i.is_child and i.declared_lower and i.lower and i.declared_lower != i.lower:
            yield finding("MV106", [i.id, i.declared_lower, i.lower],
                          f"{i.id} is declared on {i.declared_lower}, itself a macvlan: the kernel creates it "
                          f"directly on {i.lower} instead (ip link shows {_short(i.id)}@{_short(i.lower)}), as a "
                          f"sibling in {i.mode} mode",
                          fix=f"declare parent: {_short(i.lower)} so the design says what the kernel does")


def rule_passthru_on_macvlan(d: Design, p) -> Iterable[Finding]:
    for i in d.interfaces:
        if i.is_child and i.mode == "passthru" and i.declared_lower and i.declared_lower != i.lower:
            yield finding("MV114", [i.id, i.declared_lower],
                          f"{i.id} is passthru on {i.declared_lower}, which is itself a macvlan; the kernel "
                          "re-parents other modes but refuses passthru there (EINVAL)",
                          fix=f"declare parent: {_short(i.lower)} - and give it that NIC to itself")


def rule_mtu(d: Design, p) -> Iterable[Finding]:
    for i in d.interfaces:
        if i.is_child and i.lower:
            lower = d.iface(i.lower)
            if i.mtu > lower.mtu:
                yield finding("MV107", [i.id, lower.id],
                              f"{i.id} asks for MTU {i.mtu} but its parent {lower.id} has {lower.mtu}; a macvlan "
                              f"cannot exceed its parent's MTU (EINVAL)",
                              fix=f"lower {_short(i.id)} to {lower.mtu} or raise the parent first",
                              commands=(f"ip link set dev {_q(_short(lower.id))} mtu {i.mtu}",))


def rule_duplicate_mac(d: Design, p) -> Iterable[Finding]:
    for lower, kids in _children_by_lower(d).items():
        li = d.iface(lower)
        seen = {li.mac: li.id}
        for k in kids:
            if k.mode == "passthru" and k.mac == li.mac:
                continue  # passthru shares the parent's MAC by design
            if k.mac in seen:
                yield finding("MV108", [k.id, seen[k.mac]],
                              f"{k.id} has MAC {k.mac}, already used by {seen[k.mac]} on the same parent {lower}; "
                              f"the kernel refuses to bring it up (EADDRINUSE)",
                              fix=f"give {_short(k.id)} another MAC, or leave mac out and let mvplan derive one")
            else:
                seen[k.mac] = k.id
    # the same MAC elsewhere on a layer-2 segment: no errno, but switches learn it on two ports
    owners: dict[str, list[Iface]] = defaultdict(list)
    for i in d.interfaces:
        if i.kind != "bridge-port" and not (i.is_child and i.mode == "passthru"):
            owners[i.mac].append(i)
    for mac, items in owners.items():
        lowers = {i.lower for i in items if i.is_child}
        if len(items) > 1 and not (len(lowers) == 1 and len(items) == sum(1 for i in items if i.is_child)):
            same_parent_pairs = any(i.is_child and j.id == i.lower for i in items for j in items)
            if same_parent_pairs:
                continue  # already reported above
            yield finding("MV108", [i.id for i in items],
                          f"MAC {mac} is used by {', '.join(i.id for i in items)}; frames for it reach only one of "
                          "them (switches learn it on one port at a time)", severity=WARNING,
                          fix="give every interface its own MAC")


def rule_duplicate_address(d: Design, p) -> Iterable[Finding]:
    seen: dict = {}
    for i in d.interfaces:
        for a in i.addresses:
            if a.ip in seen and seen[a.ip] != i.id:
                yield finding("MV109", [i.id, seen[a.ip]],
                              f"{a.ip} is configured on both {seen[a.ip]} and {i.id}; ARP answers will flap "
                              "between them", fix=f"give {_short(i.id)} another address")
            else:
                seen.setdefault(a.ip, i.id)


def _connected(i: Iface) -> list:
    """Prefix routes the kernel adds for an interface's addresses (none for a /32)."""
    return [a.network for a in i.addresses if a.network.prefixlen < 32]


def rule_ambiguous_egress(d: Design, p) -> Iterable[Finding]:
    """Overlapping connected routes in one namespace: one finding per group of overlaps."""
    by_ns: dict[str, list[tuple]] = defaultdict(list)
    order = 0
    for i in d.interfaces:
        if i.master:
            continue
        for net in _connected(i):
            order += 1
            by_ns[i.ns].append((int(net.network_address), int(net.broadcast_address), net, order, i))
    for ns, routes in by_ns.items():
        if len(routes) < 2:
            continue
        routes.sort(key=lambda r: (r[0], -r[1], r[3]))
        groups, cur, end = [], [], -1
        for r in routes:  # sweep: routes whose ranges overlap end up in one group
            if cur and r[0] > end:
                groups.append(cur)
                cur = []
            cur.append(r)
            end = max(end, r[1]) if len(cur) > 1 else r[1]
        groups.append(cur)
        for g in groups:
            ifaces = list(dict.fromkeys(r[4].id for r in g))
            if len(ifaces) < 2:
                continue
            widest = min(g, key=lambda r: (r[2].prefixlen, r[3]))
            same_prefix = [r for r in g if r[2] == widest[2]]
            winner = min(same_prefix, key=lambda r: r[3])[4]
            losers = [x for x in ifaces if x != winner.id]
            why = ("the route added first (design order) wins" if len(same_prefix) > 1
                   else "the more specific route wins inside its range")
            yield finding("MV110", ifaces[:20],
                          f"{ns}: {len(ifaces)} interfaces have overlapping connected routes "
                          f"({', '.join(str(r[2]) + ' on ' + _short(r[4].id) for r in g[:4])}"
                          f"{', ...' if len(g) > 4 else ''}); {why}, so traffic for {widest[2]} leaves through "
                          f"{winner.id}, even pings from the others' addresses",
                          fix=f"add /32 routes for the peers that must be reached through "
                              f"{', '.join(_short(x) for x in losers[:3])}",
                          commands=tuple(f"ip route add PEER/32 dev {_q(_short(x))}" for x in losers[:3]))


def rule_arp_flux(d: Design, p) -> Iterable[Finding]:
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
    if p is not None:
        for key, v in p.verdicts.items():
            if not v.reachable and v.reason in ("ARP_REPLY_LOST", "ECHO_LOST", "REPLY_LOST"):
                a, b = p.examples[key]
                lossy.update((d.iface(a).ns, d.iface(b).ns))
    passthru_parents = {i.lower for i in d.interfaces if i.is_child and i.mode == "passthru"}
    for ns, items in by_ns.items():
        addressed = [i for i in items if i.addresses]
        if len(items) < 2 or not addressed:
            continue
        costly = ns in lossy or any(i.id in passthru_parents for i in items)
        ips = ", ".join(str(i.addresses[0].ip) for i in addressed[:4])
        yield finding("MV115", [i.id for i in items],
                      f"{ns} has {len(items)} interfaces on the wire ({', '.join(_short(i.id) for i in items[:6])}) "
                      f"and addresses {ips}: with the default arp_ignore=0 each of them answers ARP for every "
                      "address of the namespace, and the asker keeps the first answer. Which one comes first depends "
                      "on the switch (mvplan assumes a Linux bridge: the port cabled last floods first)" +
                      ("; here an answer leads traffic where it is lost" if costly else
                       "; in this design every such answer still works"),
                      fix="answer only on the interface that owns the address (arp_ignore=1), or keep one "
                          "interface per namespace on a segment",
                      commands=("sysctl -w net.ipv4.conf.all.arp_ignore=1",),
                      severity=WARNING if costly else INFO)


def rule_l2_loop(d: Design, p) -> Iterable[Finding]:
    from .graph import design_graph, l2_loops

    G = p.graph if p is not None and getattr(p, "graph", None) is not None else design_graph(d)
    for cycle in l2_loops(G):
        yield finding("MV116", sorted(cycle),
                      f"cables, veths and bridges form a loop ({' - '.join(sorted(cycle)[:6])}): mvplan's switches "
                      "and bridges run without STP, so one broadcast circles forever (a broadcast storm)",
                      fix="remove one link of the loop, or bond the links instead")


def rule_passthru_mac(d: Design, p) -> Iterable[Finding]:
    for i in d.interfaces:
        if i.is_child and i.mode == "passthru" and i.lower:
            lower = d.iface(i.lower)
            if i.mac != lower.mac:
                yield finding("MV111", [i.id, lower.id],
                              f"{i.id} is passthru with its own MAC {i.mac}: setting it changes the MAC of "
                              f"{lower.id} as well (passthru children share the parent's address)",
                              fix="leave mac out so the child inherits the parent's MAC, unless changing the "
                                  "NIC's MAC is intended")
            else:
                yield finding("MV111", [i.id, lower.id],
                              f"{i.id} is passthru: it inherits {lower.id}'s MAC {lower.mac} and the parent "
                              "belongs to it alone (the guest may change MAC and other parameters)")


def rule_subnet_mismatch(d: Design, p) -> Iterable[Finding]:
    by_lower: dict[str, set] = defaultdict(set)
    for i in d.interfaces:
        if i.is_child and i.lower and _connected(i):
            by_lower[i.lower].add(_connected(i)[0])
    for lower, nets in by_lower.items():
        nets = sorted(nets, key=lambda n: (int(n.network_address), n.prefixlen))
        for x in range(len(nets)):
            for y in range(x + 1, len(nets)):
                if nets[x].overlaps(nets[y]) and nets[x] != nets[y]:
                    yield finding("MV112", [lower],
                                  f"children of {lower} use overlapping but different subnets {nets[x]} and "
                                  f"{nets[y]}: some pairs reach each other in one direction only",
                                  fix="use one prefix length per subnet")


def rule_route_duplicates_connected(d: Design, p) -> Iterable[Finding]:
    """ip route add of a prefix the namespace's main table already has (same metric): EEXIST."""
    by_ns: dict[str, set] = defaultdict(set)
    for i in d.interfaces:
        by_ns[i.ns].update(_connected(i))
    static_seen: dict[tuple, str] = {}
    for i in d.interfaces:
        for r in i.routes:
            if r.via is None and r.to in by_ns[i.ns]:
                yield finding("MV209", [i.id],
                              f"{i.id}: route {r.to} has the same prefix and metric as a connected route in "
                              f"{i.ns}; ip route add fails with EEXIST",
                              fix="use more specific routes (e.g. /32 per peer) or a metric")
            key = (i.ns, r.to)
            if key in static_seen and static_seen[key] != i.id:
                yield finding("MV209", [static_seen[key], i.id],
                              f"{i.ns}: {static_seen[key]} and {i.id} both route {r.to}; the second "
                              "ip route add fails with EEXIST",
                              fix=f"keep one route to {r.to} in {i.ns}")
            static_seen.setdefault(key, i.id)


# --------------------------------------------------------------------------- traffic rules
def _same_subnet(a: Iface, b: Iface) -> bool:
    return bool(a.addresses and b.addresses and a.addresses[0].ip in b.addresses[0].network
                and b.addresses[0].ip in a.addresses[0].network)


def rule_sibling_traffic(d: Design, p: Prediction | None) -> Iterable[Finding]:
    """MV201/MV202/MV203/MV304: siblings on one parent meant to talk (same subnet)."""
    if p is None:
        return
    buckets: dict[str, dict[str, set]] = {code: defaultdict(set) for code in ("MV201", "MV202", "MV203", "MV304")}
    for key, v in p.verdicts.items():
        ci, cj, same = key
        if not same or v.reason == "LOCAL":
            continue
        a, b = (d.iface(x) for x in p.examples[key])
        if not (a.is_child and b.is_child and a.lower == b.lower and _same_subnet(a, b)) or a.ns == b.ns:
            continue
        code = _sibling_code(v, a, b)
        if code is None:
            continue
        mi, mj = p.members_by_anchor(ci), p.members_by_anchor(cj)
        for lower in mi.keys() & mj.keys():  # a class can span interchangeable parents
            buckets[code][lower] |= set(mi[lower][:3]) | set(mj[lower][:3])
    yield from _sibling_findings(d, buckets["MV201"], buckets["MV202"], buckets["MV203"], buckets["MV304"])


def _sibling_code(v, a: Iface, b: Iface) -> str | None:
    """Which sibling finding a verdict between two children of one parent belongs to."""
    modes = {a.mode, b.mode}
    if v.reachable:
        return "MV304" if modes & {"vepa", "passthru", "private", "source"} and "reflected" in " ".join(v.hops) \
            else None
    if "private" in modes:
        return "MV201" if v.reason in ("ARP_UNANSWERED", "REPLY_ARP_UNANSWERED", "ARP_REPLY_LOST") else "MV202"
    return "MV203" if "hairpin" in v.fix else None


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
        port = _port_node(d, lower)
        cmds = _hairpin_commands(d, port) if port else ()
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


def _port_node(d: Design, lower_id: str) -> str | None:
    li = d.iface(lower_id)
    if not li.link:
        return None
    if li.link.startswith("switch:"):
        return li.link
    br, port = li.link[len("bridge:"):].rsplit("/", 1)
    return f"bridge:{li.host}/{br}/{port}"


def _hairpin_commands(d: Design, port: str) -> tuple[str, ...]:
    if port.startswith("switch:"):  # a Linux bridge standing in for the switch has the switch's name
        br, p = port[len("switch:"):].rsplit("/", 1)
    else:
        _host, br, p = port[len("bridge:"):].split("/")
    return (f"bridge link set dev {_q(p)} hairpin on",
            f"brctl hairpin {_q(br)} {_q(p)} on",
            f"echo 1 > /sys/class/net/{br}/brif/{p}/hairpin_mode")


def rule_host_cannot_reach_children(d: Design, p: Prediction | None) -> Iterable[Finding]:
    if p is None:
        return
    for lower, kids in _children_by_lower(d).items():
        li = d.iface(lower)
        if not li.addresses or li.id not in p.class_of:
            continue
        blocked = []
        for k in kids:
            if k.addresses and k.ns != li.ns and _same_subnet(li, k) and not p.verdict(li.id, k.id).reachable:
                blocked.append(k)
        if not blocked:
            continue
        used = {a.ip for e in d.endpoints() for a in e.addresses}
        net = li.addresses[0].network
        shim_ip = next((h for h in reversed(list(net.hosts())) if h not in used), None) if net.num_addresses <= 65536 else None
        name = "mvshim0"
        cmds = [f"ip link add {name} link {_q(li.name)} type macvlan mode bridge",
                f"ip addr add {shim_ip or 'FREE_ADDRESS'}/32 dev {name}",
                f"ip link set {name} up"]
        cmds += [f"ip route add {k.addresses[0].ip}/32 dev {name}" for k in blocked[:5]]
        yield finding("MV204", [li.id] + [k.id for k in blocked],
                      f"{li.id} has {li.addresses[0]} but cannot reach {len(blocked)} of its own children "
                      f"({', '.join(_short(k.id) for k in blocked[:4])}{'...' if len(blocked) > 4 else ''}): frames "
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
            anc = p._anchor[m]
            counts[anc] = counts.get(anc, 0) + 1
        per_anchor.append(counts)
    sizes = [len(c) for c in p.classes]
    out: dict[str, list] = {}
    for key, v in p.verdicts.items():
        if not v.reachable or v.reason == "LOCAL":
            continue
        ci, cj, same = key
        ai, aj = per_anchor[ci], per_anchor[cj]
        for lower in set(ai) | set(aj):
            ni, nj = ai.get(lower, 0), aj.get(lower, 0)
            if same:
                n = ni * (nj - (1 if ci == cj else 0))
            else:
                n = ni * (sizes[cj] - nj) + (sizes[ci] - ni) * nj
            if n <= 0:
                continue
            entry = out.setdefault(lower, [0, []])
            entry[0] += n
            a, b = p.examples[key]
            if len(entry[1]) < 3 and lower in (p.anchor(a), p.anchor(b)):
                entry[1].append(f"{a} -> {b}")
    return {k: (v[0], v[1]) for k, v in out.items()}


def rule_blast_radius(d: Design, p: Prediction | None) -> Iterable[Finding]:
    kids_by_lower = _children_by_lower(d)
    lost_by_lower = _lost_pairs_by_lower(d, p) if p is not None else {}
    for lower, kids in kids_by_lower.items():
        li = d.iface(lower)
        nss = {k.ns for k in kids}
        if not li.up:
            yield finding("MV206", [lower] + [k.id for k in kids],
                          f"{lower} is down: its {len(kids)} children lose carrier and reach nobody, not even each "
                          "other", fix=f"bring it up: ip link set dev {li.name} up",
                          commands=(f"ip link set dev {_q(li.name)} up",))
            continue
        lost, examples = lost_by_lower.get(lower, (0, []))
        yield finding("MV205", [lower],
                      f"{len(kids)} {'child' if len(kids) == 1 else 'children'} in {len(nss)} "
                      f"namespace{'' if len(nss) == 1 else 's'} depend on {lower}: if it goes down they all "
                      f"lose carrier" + (f", and {lost} reachable pairs are lost (e.g. {', '.join(examples)})"
                                        if lost else ""),
                      fix="bond or team the parent for redundancy if these workloads must survive a link failure")


def rule_source_lists(d: Design, p: Prediction | None) -> Iterable[Finding]:
    for i in d.interfaces:
        if not (i.is_child and i.mode == "source" and i.source_macs and i.addresses):
            continue
        missing = [e for e in d.endpoints() if e.id != i.id and e.ns != i.ns and _same_subnet(i, e)
                   and e.mac not in i.source_macs]
        if missing:
            yield finding("MV207", [i.id] + [e.id for e in missing[:10]],
                          f"{i.id} is in source mode and accepts frames only from {len(i.source_macs)} listed MAC(s); "
                          f"{len(missing)} peer(s) in its subnet are not listed "
                          f"({', '.join(_short(e.id) for e in missing[:4])}) and cannot reach it",
                          fix="add their MACs: " + "; ".join(f"ip link set dev {_q(i.name)} type macvlan macaddr add {e.mac}"
                                                              for e in missing[:3]))


def rule_static_neighbors(d: Design, p) -> Iterable[Finding]:
    for i in d.interfaces:
        if not i.neighbors or i.neighbors == ALL_PEERS:
            continue
        for n in i.neighbors:
            if n.peer or n.address is None:
                continue
            owner = d.address_owner(n.address)
            if owner is None:
                yield finding("MV208", [i.id], f"{i.id} has a static neighbour for {n.address}, which no interface "
                                               "of the design has", fix="remove it or name the peer with 'peer'")
            elif owner.mac != n.mac:
                yield finding("MV208", [i.id, owner.id],
                              f"{i.id} pins {n.address} to {n.mac}, but {owner.id} has MAC {owner.mac}: traffic to it "
                              "goes to the wrong station", fix=f"use peer: {owner.id} instead of a literal MAC")


# --------------------------------------------------------------------------- advice
def rule_advice(d: Design, p: Prediction | None) -> Iterable[Finding]:
    kids_by_lower = _children_by_lower(d)
    for lower, kids in kids_by_lower.items():
        li = d.iface(lower)
        if li.parent_kind == "wifi":
            yield finding("MV302", [lower] + [k.id for k in kids],
                          f"{lower} is Wi-Fi: in station mode the access point only accepts frames from the MAC that "
                          "associated, so children with their own MACs get no traffic",
                          fix="use a wired parent, ipvlan (shares the parent's MAC), or routing/NAT")
        n = sum(1 for k in kids if k.mode != "passthru")
        if n > MANY_MACS_THRESHOLD:
            yield finding("MV303", [lower],
                          f"{n} MAC addresses on {lower}: most NICs hold 16-128 exact unicast filters and fall back to "
                          "promiscuous mode beyond that, so the host processes every frame on the wire",
                          fix="spread the children over more NICs, or accept promiscuous mode knowingly")
        for k in kids:
            if k.kind == "macvtap" and k.namespace:
                yield finding("MV305", [k.id],
                              f"{k.id} is a macvtap moved into namespace {k.namespace}: its /dev/tapN character "
                              "device still belongs to the host's devtmpfs; the VM or process reading it must open it "
                              "there")
    for h in d.hosts:
        kids = [i for i in d.interfaces if i.host == h.name and i.is_child and i.addresses]
        groups: dict[tuple, int] = defaultdict(int)
        for k in kids:
            groups[(k.lower, k.addresses[0].network)] += 1
        talkers = sum(n * (n - 1) // 2 for n in groups.values())
        if len(kids) >= 2:
            yield finding("MV301", [h.name],
                          f"host {h.name}: {len(kids)} macvlan/macvtap endpoints, {talkers} sibling pair(s) in the "
                          "same subnet. Macvlan fits when workloads mainly talk to the outside network: no learning, "
                          "no STP, less CPU; the host cannot talk to its own children and a parent outage takes them "
                          "all. Prefer a Linux bridge when many workloads on this host talk to each other, or you "
                          "need several bridges, traffic control or FDB management")


RULES: list[Callable[[Design, Prediction | None], Iterable[Finding]]] = [
    rule_passthru_exclusive, rule_nopromisc, rule_source_macs_mode, rule_parent_bridge_port,
    rule_parent_not_ethernet, rule_reparented, rule_passthru_on_macvlan, rule_mtu, rule_duplicate_mac, rule_duplicate_address,
    rule_ambiguous_egress, rule_arp_flux, rule_l2_loop, rule_passthru_mac, rule_subnet_mismatch, rule_route_duplicates_connected,
    rule_sibling_traffic, rule_host_cannot_reach_children, rule_blast_radius, rule_source_lists,
    rule_static_neighbors, rule_advice,
]

_ORDER = {s: n for n, s in enumerate(SEVERITIES)}


def check_with_prediction(design: Design, prediction: Prediction | None = None) -> tuple[list[Finding], Prediction]:
    """Run every rule; returns the findings (errors first, then by code) and the prediction used."""
    if prediction is None:
        prediction = predict(design)
    out: list[Finding] = []
    for rule in RULES:
        out.extend(rule(design, prediction))
    out.sort(key=lambda f: (_ORDER[f.severity], f.code, f.subjects))
    return out, prediction


def check(design: Design) -> list[Finding]:
    """Every finding for ``design``: kernel refusals, silent traffic failures, advice."""
    return check_with_prediction(design)[0]
