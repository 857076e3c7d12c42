"""Rules that need no prediction: what the kernel refuses (errors, with the errno it returns) and what
the design alone shows (duplicates, overlaps, loops, re-parenting, wrong neighbour entries).

``plan``, ``export`` and ``apply`` run only these: they never predict reachability.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable

from ..commands import allow_mac_command, hairpin_command
from ..findings import WARNING, Finding, finding
from ..graph import loops_of, wire_graph
from ..kernel import refused_children
from ..model import ALL_PEERS, Design, Iface, neighbor_entries, subnet_key
from ..upstream import filtering_platform, port_filters
from .common import children_by_lower, connected, q, same_subnet, short
from .ipv6 import IPV6_RULES

__all__ = ["REFUSALS"]


def rule_passthru_exclusive(d: Design) -> Iterable[Finding]:
    """MV101 names exactly the children the kernel refuses, in creation order: a passthru child when
    another child exists before it, and every child after a passthru child that exists."""
    for cid, why in refused_children(d).items():
        if why.code != "MV101":
            continue
        k = d.iface(cid)
        lower = str(k.lower)
        yield finding("MV101", [k.id, lower],
                      f"{k.id} cannot be created on {lower}: {why.why}; passthru binds the parent to exactly one "
                      f"macvlan, so the kernel refuses it (EINVAL) - the children created before it are not affected",
                      fix=f"give {short(k.id)} its own parent NIC, or use bridge/vepa mode for every child of "
                          f"{short(lower)}")


def rule_nopromisc(d: Design) -> Iterable[Finding]:
    for i in d.interfaces:
        if i.is_child and i.nopromisc and i.mode != "passthru":
            yield finding("MV102", [i.id], f"{i.id} sets nopromisc in {i.mode} mode; the flag only changes "
                                           "passthru mode (where it keeps the parent out of promiscuous mode). "
                                           "The kernel ignores it elsewhere, and iproute2 refuses it outright",
                          fix="remove nopromisc, or use mode passthru")


def rule_source_macs_mode(d: Design) -> Iterable[Finding]:
    for i in d.interfaces:
        if i.is_child and i.source_macs and i.mode != "source":
            yield finding("MV103", [i.id], f"{i.id} lists source MACs but is in {i.mode} mode; the kernel accepts "
                                           "a MAC list only on a source-mode macvlan (EINVAL)",
                          fix="set mode: source, or drop source_macs")
        if i.is_child and i.mode == "source" and not i.source_macs:
            yield finding("MV113", [i.id], f"{i.id} is in source mode with an empty MAC list: it only receives "
                                           "frames whose source MAC is listed, so it hears nothing",
                          fix="list the peers' MACs in source_macs, or use bridge mode")


def rule_parent_bridge_port(d: Design) -> Iterable[Finding]:
    for lower, kids in children_by_lower(d).items():
        li = d.iface(lower)
        if li.master:
            yield finding("MV104", [lower, li.master] + [k.id for k in kids],
                          f"{lower} is a port of bridge {li.master}; a bridge port already has a receive handler, "
                          f"so the kernel refuses macvlans on it (EBUSY)",
                          fix=f"create the children on the bridge's other side or remove {short(lower)} from "
                              f"{short(li.master)}; to share the link with a Linux bridge, give the containers veth "
                              "ports on that bridge instead",
                          commands=(f"ip link set dev {q(short(lower))} nomaster",))


def rule_parent_not_ethernet(d: Design) -> Iterable[Finding]:
    for lower, kids in children_by_lower(d).items():
        li = d.iface(lower)
        if li.parent_kind == "loopback":
            yield finding("MV105", [lower] + [k.id for k in kids],
                          f"{lower} is a loopback device; macvlan needs an Ethernet parent (EINVAL)",
                          fix="use an Ethernet NIC or a veth as the parent")


def rule_reparented(d: Design) -> Iterable[Finding]:
    for i in d.interfaces:
        if i.is_child and i.declared_lower and i.lower and i.declared_lower != i.lower:
            yield finding("MV106", [i.id, i.declared_lower, i.lower],
                          f"{i.id} is declared on {i.declared_lower}, itself a macvlan: the kernel creates it "
                          f"directly on {i.lower} instead (ip link shows {short(i.id)}@{short(i.lower)}), as a "
                          f"sibling in {i.mode} mode",
                          fix=f"declare parent: {short(i.lower)} so the design says what the kernel does")


def rule_passthru_on_macvlan(d: Design) -> Iterable[Finding]:
    for i in d.interfaces:
        if i.is_child and i.mode == "passthru" and i.declared_lower and i.declared_lower != i.lower:
            yield finding("MV114", [i.id, i.declared_lower],
                          f"{i.id} is passthru on {i.declared_lower}, which is itself a macvlan; the kernel "
                          "re-parents other modes but refuses passthru there (EINVAL)",
                          fix=f"declare parent: {short(i.lower or '')} - and give it that NIC to itself")


def rule_mtu(d: Design) -> Iterable[Finding]:
    for i in d.interfaces:
        if i.is_child and i.lower:
            lower = d.iface(i.lower)
            if i.mtu > lower.mtu:
                yield finding("MV107", [i.id, lower.id],
                              f"{i.id} asks for MTU {i.mtu} but its parent {lower.id} has {lower.mtu}; a macvlan "
                              f"cannot exceed its parent's MTU (EINVAL)",
                              fix=f"lower {short(i.id)} to {lower.mtu} or raise the parent first",
                              commands=(f"ip link set dev {q(short(lower.id))} mtu {i.mtu}",))


def rule_duplicate_mac(d: Design) -> Iterable[Finding]:
    for lower, kids in children_by_lower(d).items():
        li = d.iface(lower)
        seen = {li.mac: li.id}
        for k in kids:
            if k.mode == "passthru" and k.mac == li.mac:
                continue  # passthru shares the parent's MAC by design
            if k.mac in seen:
                yield finding("MV108", [k.id, seen[k.mac]],
                              f"{k.id} has MAC {k.mac}, already used by {seen[k.mac]} on the same parent {lower}; "
                              f"the kernel refuses to bring it up (EADDRINUSE)",
                              fix=f"give {short(k.id)} another MAC, or leave mac out and let mvplan derive one")
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


def rule_duplicate_address(d: Design) -> Iterable[Finding]:
    seen: dict = {}
    for i in d.interfaces:
        for ip in i.ips:
            first = seen.setdefault(ip, i.id)
            if first != i.id:
                yield finding("MV109", [i.id, first],
                              f"{ip} is configured on both {first} and {i.id}; ARP answers will flap "
                              "between them", fix=f"give {short(i.id)} another address")


def rule_ambiguous_egress(d: Design) -> Iterable[Finding]:
    """Overlapping connected routes in one namespace: one finding per group of overlaps."""
    nets_by_ns: dict[str, list[tuple]] = defaultdict(list)
    order = 0
    for i in d.interfaces:
        if i.master:
            continue
        for net in connected(i):
            order += 1
            nets_by_ns[i.ns].append((net, order, i))
    for ns, nets in nets_by_ns.items():
        if len(nets) < 2:
            continue
        routes = [(int(net.network_address), int(net.broadcast_address), net, o, i) for net, o, i in nets]
        routes.sort(key=lambda r: (r[0], -r[1], r[3]))
        groups: list[list] = []
        cur: list = []
        end = -1
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
                          f"({', '.join(str(r[2]) + ' on ' + short(r[4].id) for r in g[:4])}"
                          f"{', ...' if len(g) > 4 else ''}); {why}, so traffic for {widest[2]} leaves through "
                          f"{winner.id}, even pings from the others' addresses",
                          fix=f"add /32 routes for the peers that must be reached through "
                              f"{', '.join(short(x) for x in losers[:3])}",
                          commands=tuple(f"ip route add PEER/32 dev {q(short(x))}" for x in losers[:3]))


def rule_l2_loop(d: Design) -> Iterable[Finding]:
    cycles, pingpong = loops_of(d)
    for cycle in cycles:
        yield finding("MV116", sorted(cycle),
                      f"cables, veths and bridges form a loop ({' - '.join(sorted(cycle)[:6])}): mvplan's switches "
                      "and bridges run without STP, so one broadcast circles forever (a broadcast storm)",
                      fix="remove one link of the loop, or bond the links instead")
    for mirrors in pingpong:
        first = mirrors[0]
        what = ("are the two ends of one link and both have hairpin on: each sends every frame back out the "
                "port it came in on, so a broadcast bounces between them forever") if len(mirrors) == 2 and \
            _one_link(d, mirrors) else ("all reflect frames back into the same bridge, which floods each "
                                        "reflection to the others: a broadcast goes round forever")
        yield finding("MV116", mirrors,
                      f"{' and '.join(mirrors)} {what} (a broadcast storm), so pings fail or succeed at random",
                      fix=f"turn hairpin off on all but one of them: {hairpin_command(first, on=False)}",
                      commands=tuple(hairpin_command(m, on=False) for m in mirrors[:-1]))


def _one_link(d: Design, ports: list[str]) -> bool:
    G = wire_graph(d)
    return G.has_edge(ports[0], ports[1])


def rule_passthru_mac(d: Design) -> Iterable[Finding]:
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


def rule_subnet_mismatch(d: Design) -> Iterable[Finding]:
    by_lower: dict[str, dict] = defaultdict(dict)
    for i in d.interfaces:
        if i.is_child and i.lower and (nets := connected(i)):
            by_lower[i.lower].setdefault(subnet_key(nets[0]), nets[0])
    for lower, subnets in by_lower.items():
        nets = [subnets[key] for key in sorted(subnets, key=lambda k: k[1:])]
        ends = [int(n.broadcast_address) for n in nets]
        for x in range(len(nets)):
            # sorted by first address: once a subnet starts past the end of nets[x], so do all later
            # ones, and none of them overlaps it (n log n, not every pair of a parent's subnets)
            for y in range(x + 1, len(nets)):
                if int(nets[y].network_address) > ends[x]:
                    break
                if nets[x].overlaps(nets[y]) and nets[x] != nets[y]:
                    yield finding("MV112", [lower],
                                  f"children of {lower} use overlapping but different subnets {nets[x]} and "
                                  f"{nets[y]}: some pairs reach each other in one direction only",
                                  fix="use one prefix length per subnet")


def rule_route_duplicates_connected(d: Design) -> Iterable[Finding]:
    """ip route add of a prefix the namespace's main table already has (same metric): EEXIST."""
    routed = {i.ns for i in d.interfaces if i.routes}
    by_ns: dict[str, set] = defaultdict(set)
    for i in d.interfaces:
        if i.ns in routed:
            by_ns[i.ns].update(connected(i))
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



def rule_source_lists(d: Design) -> Iterable[Finding]:
    for i in d.interfaces:
        if not (i.is_child and i.mode == "source" and i.source_macs and i.addresses):
            continue
        missing = [e for e in d.endpoints() if e.id != i.id and e.ns != i.ns and same_subnet(i, e)
                   and e.mac not in i.source_macs]
        if missing:
            yield finding("MV207", [i.id] + [e.id for e in missing[:10]],
                          f"{i.id} is in source mode and accepts frames only from {len(i.source_macs)} listed MAC(s); "
                          f"{len(missing)} peer(s) in its subnet are not listed "
                          f"({', '.join(short(e.id) for e in missing[:4])}) and cannot reach it",
                          fix="add their MACs: " + "; ".join(
                              f"ip link set dev {q(i.name)} type macvlan macaddr add {e.mac}" for e in missing[:3]))


def rule_static_neighbors(d: Design) -> Iterable[Finding]:
    for i in d.interfaces:
        if not i.neighbors or i.neighbors == ALL_PEERS:
            continue
        for n in neighbor_entries(i.neighbors):
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



def rule_upstream_drops_macs(d: Design) -> Iterable[Finding]:
    """MV118: children that send with a MAC their parent's switch port does not accept. A passthru child
    with a MAC of its own changes the NIC's MAC, and then even the NIC is cut off."""
    filters = port_filters(d)
    for parent_id, kids in children_by_lower(d).items():
        parent = d.iface(parent_id)
        accepted = filters.get(parent.link or "")
        if accepted is None:
            continue
        refused = [k for k in kids if k.mac not in accepted]
        if not refused:
            continue
        yield _upstream_finding(parent, str(parent.link), refused)


def _upstream_finding(parent: Iface, port: str, refused: list[Iface]) -> Finding:
    platform = filtering_platform(parent)
    names = ", ".join(f"{k.id} ({k.mac})" for k in refused[:5]) + (f" and {len(refused) - 5} more"
                                                                    if len(refused) > 5 else "")
    upstream = (f"{parent.id} is on {platform.name}: its upstream is {platform.upstream}" if platform is not None
                else f"{port} has port security: it admits only {parent.id}'s own MAC and its allowed_macs")
    passthru = [k for k in refused if k.mode == "passthru"]
    cut = (f"; {passthru[0].id} is passthru with its own MAC, which becomes {parent.id}'s: the NIC itself is "
           "cut off too" if passthru else "")
    message = (f"{len(refused)} child(ren) of {parent.id} send with MACs the upstream drops: {names}. {upstream}, "
               f"so their frames never reach the LAN and nothing outside reaches them{cut}")
    if platform is not None:
        return finding("MV118", [parent.id, port, *(k.id for k in refused)], message, fix=platform.fix)
    return finding("MV118", [parent.id, port, *(k.id for k in refused)], message,
                   fix=f"add the children's MACs to allowed_macs of {port} (raise the port-security limit on a "
                       "physical switch)",
                   commands=tuple(allow_mac_command(port, k.mac) for k in refused))


REFUSALS: tuple[Callable[[Design], Iterable[Finding]], ...] = (
    rule_passthru_exclusive, rule_nopromisc, rule_source_macs_mode, rule_parent_bridge_port,
    rule_parent_not_ethernet, rule_reparented, rule_passthru_on_macvlan, rule_mtu, rule_duplicate_mac,
    rule_duplicate_address, rule_ambiguous_egress, rule_l2_loop, rule_passthru_mac, rule_subnet_mismatch,
    rule_route_duplicates_connected, rule_source_lists, rule_static_neighbors, rule_upstream_drops_macs,
    *IPV6_RULES,
)
