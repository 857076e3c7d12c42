"""Step 2 of compiling: the wants against a live state -> the operations that turn one into the other.

The live state is the machine as the applier reads it or, without one, the state the design
assumes (its NICs exist, nothing else does). Links whose alias marks them as this design's and
that the design no longer wants are deleted; so are owned links whose identity changed (kind,
lower device, veth peer, passthru-ness, nopromisc), which are then rebuilt. A link that is in the
way and is *not* ours is an error: mvplan never deletes what it did not create. Settings,
addresses, neighbours, state and routes are then planned as the difference.
"""
from __future__ import annotations

from collections.abc import Iterable, MutableMapping
from dataclasses import replace

from ..errors import CompileError
from ..findings import ERROR
from ..gcpause import without_gc_pauses
from ..ids import ns_id
from ..livestate import LiveHost, LiveLink, LiveState, address_subnet
from ..model import Design
from ..ops import (
    AddAddress,
    AddNeighbor,
    AddRoute,
    CreateBridge,
    CreateMacvlan,
    CreateNamespace,
    CreateVeth,
    DelAddress,
    DeleteLink,
    DeleteNamespace,
    DelNeighbor,
    DelRoute,
    Op,
    SetAlias,
    SetBridgePort,
    SetForwarding,
    SetHairpin,
    SetLinkDown,
    SetLinkUp,
    SetMac,
    SetMode,
    SetMtu,
    SetSourceMacs,
    UnsetBridgePort,
    alias_owner,
)
from ..rules import check_refusals
from .order import order_ranked
from .plan import Plan
from .wants import (
    CHILD_KINDS,
    HostWants,
    Want,
    as_created,
    assumed_state,
    forwarding_namespaces,
    host_wants,
    identity_mismatch,
    static_neighbors,
    wants_of,
)

__all__ = ["compile_plan", "compile_teardown", "LOOPBACK"]

LOOPBACK = "lo"


def _check(design: Design) -> None:
    """Refuse a design the kernel would refuse (only the rules that need no prediction run)."""
    errors = [f for f in check_refusals(design) if f.severity == ERROR]
    if errors:
        lines = "; ".join(f"{f.code} {', '.join(f.subjects)}: {f.message}" for f in errors)
        raise CompileError(f"design {design.name!r} has {len(errors)} error(s) to fix before it can be "
                           f"planned: {lines}", errors)



class _Emitter:
    """Collects one host's ops with their tie-break keys; drops exact duplicates."""

    def __init__(self) -> None:
        self.ops: list[Op] = []
        self.seen: set[str] = set()
        self.indexes: list[int] = []  # the index (interface position) each op of ``ops`` was added with
        self.frees: dict[str, set] = {}

    def add(self, op: Op, index: int) -> None:
        key = op.key
        if key not in self.seen:
            self.seen.add(key)
            self.ops.append(op)  # the last of the tie-break key: generation order
            self.indexes.append(index)

    def ranked(self) -> list[Op]:
        """The ops in tie-break order: (phase, index, generation order); the host comes first in the
        key and one emitter has one host. A stable sort on (phase, index), as one integer when every
        index fits in 32 bits (the same order; the keys cost less to compare)."""
        ops, indexes = self.ops, self.indexes
        keys: list
        if not ops:
            return []
        if -(1 << 31) <= min(indexes) and max(indexes) < 1 << 31:
            keys = [(op.phase << 32) + index for op, index in zip(ops, indexes, strict=True)]
        else:
            keys = [(op.phase, index) for op, index in zip(ops, indexes, strict=True)]
        return [ops[i] for i in sorted(range(len(ops)), key=keys.__getitem__)]


@without_gc_pauses
def compile_plan(design: Design, live: LiveState | None = None, *, check: bool = True,
                 hosts: Iterable[str] | None = None, wants: MutableMapping[str, HostWants] | None = None) -> Plan:
    """Plan the operations that turn ``live`` into the design, in a deterministic order.

    Without ``live``, plan from the state the design assumes (:func:`assumed_state`): every
    namespace, link, address, neighbour and route is created. With ``live``, only the hosts it
    contains are planned and only the difference is: links are created, changed in place, or
    deleted and rebuilt - deletion limited to links whose ifalias marks them as this design's.
    ``hosts`` restricts the plan to some hosts. With ``check``, a design with check errors
    (:func:`planner.core.rules.check_refusals`) raises :class:`CompileError` listing them.
    ``wants`` (host -> :func:`host_wants`) is used and filled: a caller that goes on to verify
    passes it to :func:`expected_state` instead of building the same wants twice.
    """
    if check:
        _check(design)
    wanted_hosts = set(hosts) if hosts is not None else None
    if live is None:
        live = assumed_state(design, wanted_hosts)
    ranked: list[Op] = []
    notes: list[str] = []
    frees: dict[str, set] = {}
    for h in design.hosts:
        if wanted_hosts is not None and h.name not in wanted_hosts:
            continue
        lh = live.host(h.name)
        if lh is None:
            continue
        hw = wants_of(design, h.name, wants)
        em = _Emitter()
        _diff_host(design, hw, lh, em, notes)
        ranked.extend(em.ranked())  # hosts in design order: the first of the tie-break key
        frees.update(em.frees)
    return Plan(design=design.name, ops=tuple(order_ranked(ranked, frees)), notes=tuple(notes))


def compile_teardown(design: Design, live: LiveState | None = None, *,
                     hosts: Iterable[str] | None = None) -> Plan:
    """Plan the removal of what the design put on its hosts.

    Without ``live`` this is ``compile_plan(design).inverse()``. With ``live`` (what the applier
    reads): delete every link whose alias marks it as this design's (children before their lower
    device, one end per veth pair), remove the design's addresses, neighbours and routes from
    links mvplan did not create (its NICs), and delete the design's namespaces that hold nothing
    else. Nothing unmarked is deleted and no NIC is taken down.
    """
    if live is None:
        return compile_plan(design, check=False, hosts=hosts).inverse()
    wanted_hosts = set(hosts) if hosts is not None else None
    ranked: list[Op] = []
    notes: list[str] = []
    frees: dict[str, set] = {}
    for h in design.hosts:
        lh = live.host(h.name)
        if lh is None or (wanted_hosts is not None and h.name not in wanted_hosts):
            continue
        full = host_wants(design, h.name)
        nics = [w for w in full.wants if w.creator is None]
        stripped = HostWants(host=h.name, wants=[replace(w, expect=LiveLink(name=w.name), iface=None) for w in nics])
        em = _Emitter()
        _diff_host(design, stripped, lh, em, notes)
        root = lh.ns("")
        for w in nics:
            i, base = w.iface, dict(subject=w.subject, host=h.name, ns="", name=w.name)
            if root is None or i is None:
                continue  # a live host always has its root namespace; every NIC want has its interface
            have_routes = {(r.to, r.via) for r in root.routes_of(w.name)}
            for r in i.routes + i.routes6:
                rt = (str(r.to), str(r.via) if r.via else None)
                if rt in have_routes:
                    em.add(DelRoute(**base, to=rt[0], via=rt[1]), w.index)
            have_neigh = {n.address: n.mac for n in root.neighbors_of(w.name)}
            for addr, mac in static_neighbors(design, i):
                if have_neigh.get(addr) == mac:
                    em.add(DelNeighbor(**base, address=addr, mac=mac), w.index)
            have_addrs = root.addresses_of(w.name)
            for a in i.addresses + i.addresses6:
                if str(a) in have_addrs:
                    em.add(DelAddress(**base, address=str(a)), w.index)
        owned = {(ns, lk.name) for ns, lk in lh.iter_links() if alias_owner(lk.alias, design.name) is not None}
        for ns in full.namespaces:
            lns = lh.ns(ns)
            if lns is None:
                continue
            leftovers = [lk.name for lk in lns.links if lk.name != "lo" and (ns, lk.name) not in owned
                         and not (lk.link and (lk.link_ns or "", lk.link) in owned)]
            if leftovers:
                notes.append(f"{ns_id(h.name, ns)}: namespace kept: it also holds {', '.join(leftovers)}")
                continue
            em.add(DeleteNamespace(subject=ns_id(h.name, ns), host=h.name, name=ns), 1 << 30)
        ranked.extend(em.ranked())
        frees.update(em.frees)
    return Plan(design=design.name, ops=tuple(order_ranked(ranked, frees)), notes=tuple(notes))


def _snapshot_create(host: str, ns: str, subject: str, lk: LiveLink) -> Op | None:
    """A create op that rebuilds a live link where it stands (the inverse of deleting it)."""
    if lk.kind in CHILD_KINDS and lk.link and lk.mode:
        return CreateMacvlan(subject=subject, host=host, ns=lk.link_ns or "", link_kind=lk.kind, name=lk.name,
                             link=lk.link, mode=lk.mode, mac=lk.mac, mtu=lk.mtu, nopromisc=bool(lk.nopromisc),
                             netns=ns)
    if lk.kind == "veth" and lk.link:
        return CreateVeth(subject=subject, host=host, ns=ns, name=lk.name, mac=lk.mac, mtu=lk.mtu, peer=lk.link,
                          peer_ns=lk.link_ns or "")
    if lk.kind == "bridge":
        return CreateBridge(subject=subject, host=host, ns=ns, name=lk.name, mac=lk.mac, mtu=lk.mtu)
    return None


def _diff_host(design: Design, hw: HostWants, lh: LiveHost, em: _Emitter, notes: list[str]) -> None:
    _HostDiff(design, hw, lh, em, notes).run()


class _HostDiff:
    """The diff of one host's wants against its live state, step by step (see the module docstring)."""

    def __init__(self, design: Design, hw: HostWants, lh: LiveHost, em: _Emitter, notes: list[str]):
        self.design, self.hw, self.lh, self.em, self.notes = design, hw, lh, em, notes
        self.host = hw.host
        self.by_loc = hw.by_loc()
        self.live_links = {(ns, lk.name): lk for ns, lk in lh.iter_links()}
        self.gone: dict[tuple[str, str], str] = {}          # loc -> why
        self.current: dict[tuple[str, str], LiveLink] = {}
        self.created: set[tuple[str, str]] = set()
        self.mac_changed: set[tuple[str, str]] = set()

    def mine(self, lk: LiveLink | None) -> bool:
        return lk is not None and alias_owner(lk.alias, self.design.name) is not None

    def run(self) -> None:
        self.delete_links(self.doomed_links())
        self.namespaces()
        for w in self.hw.wants:
            self.link(w)
        # Addresses are deleted before the new ones are added, and every flush the kernel does as a
        # side effect is written out: see "layer 3 and the kernel's flushes" below.
        for w in self.hw.wants:
            self.layer3(w)
        self.forwarding()

    # -- 1. what goes: stale owned links, owned links in the way, and what they take along -----
    def doomed_links(self) -> list[tuple[str, str]]:
        """Fill ``gone`` (loc -> why); return the links to delete explicitly."""
        explicit: list[tuple[str, str]] = []
        for loc in sorted(self.live_links):
            lk = self.live_links[loc]
            w = self.by_loc.get(loc)
            if w is None:
                if self.mine(lk):
                    self.gone[loc] = "no longer in the design"
                    explicit.append(loc)
                continue
            why = identity_mismatch(w.expect, lk)
            if why is None:
                continue
            if not self.mine(lk) or w.creator is None:
                ns_txt = f" in namespace {loc[0]}" if loc[0] else ""
                raise CompileError(f"{w.subject}: a link named {lk.name!r} already exists{ns_txt} on host "
                                   f"{self.host!r} and {why}; mvplan did not create it (its alias is "
                                   f"{lk.alias or 'empty'}), so it will not delete it: rename the interface in the "
                                   "design or remove the link")
            self.gone[loc] = why
            explicit.append(loc)
        explicit += self.taken_along()
        for loc, lk in list(self.live_links.items()):  # a deleted bridge releases its ports
            if lk.master and loc not in self.gone and (loc[0], lk.master) in self.gone:
                self.live_links[loc] = replace(lk, master=None, hairpin=None)
        return explicit

    def taken_along(self) -> list[tuple[str, str]]:
        """A deleted veth end takes its peer, a deleted lower device its children (until nothing changes)."""
        explicit = []
        changed = True
        while changed:
            changed = False
            for loc in sorted(self.live_links):
                if loc in self.gone:
                    continue
                lk = self.live_links[loc]
                other = (lk.link_ns or "", lk.link) if lk.link else None
                if other in self.gone and lk.kind == "veth":
                    self.gone[loc] = f"its veth peer {lk.link} is deleted"
                    changed = True
                elif other in self.gone and lk.kind in CHILD_KINDS:
                    self.gone[loc] = f"its lower device {lk.link} is deleted"
                    if self.mine(lk):
                        explicit.append(loc)
                    else:
                        self.notes.append(f"{self.host}: {lk.name} ({lk.kind}) goes away with its lower device "
                                          f"{lk.link}")
                    changed = True
        return explicit

    def delete_links(self, explicit: list[tuple[str, str]]) -> None:
        deleted_veth_ends: set[tuple[str, str]] = set()
        for loc in explicit:
            lk = self.live_links[loc]
            if loc in deleted_veth_ends:
                continue
            w = self.by_loc.get(loc)
            subject = (alias_owner(lk.alias, self.design.name)
                       or (w.subject if w else f"{ns_id(self.host, loc[0])}/{loc[1]}"))
            op = DeleteLink(subject=subject, host=self.host, ns=loc[0], name=lk.name, link_kind=lk.kind or "",
                            recreate=_snapshot_create(self.host, loc[0], subject, lk))
            self.em.add(op, w.index if w else -1)
            freed = {loc}
            if lk.kind == "veth" and lk.link:
                peer = (lk.link_ns or "", lk.link)
                deleted_veth_ends.add(peer)
                freed.add(peer)
            self.em.frees[op.key] = {(self.host, ns, name) for ns, name in freed}

    # -- 2. namespaces --------------------------------------------------------------------------
    def namespaces(self) -> None:
        first: dict[str, int] = {}
        for w in self.hw.wants:
            first.setdefault(w.ns, w.index)
        for ns in self.hw.namespaces:
            if self.lh.ns(ns) is None:
                subject = ns_id(self.host, ns)
                self.em.add(CreateNamespace(subject=subject, host=self.host, name=ns), first[ns])
                # a new namespace's loopback is down: nothing local (not even a ping to an own address) works
                self.em.add(SetLinkUp(subject=subject, host=self.host, ns=ns, name=LOOPBACK), first[ns])

    def forwarding(self) -> None:
        """Forwarding on where the design routes; left alone elsewhere (mvplan cannot know who set it)."""
        first: dict[str, int] = {}
        for w in self.hw.wants:
            first.setdefault(w.ns, w.index)
        for ns in sorted(forwarding_namespaces(self.hw)):
            lns = self.lh.ns(ns)
            live = lns.forwarding if lns is not None else False  # a new namespace starts with it off
            if live is True:
                continue
            self.em.add(SetForwarding(subject=ns_id(self.host, ns), host=self.host, ns=ns, on=True, old=live),
                        first.get(ns, 0))

    # -- 3. links: create what is missing, change what differs ---------------------------------
    def link(self, w: Want) -> None:
        loc = (w.ns, w.name)
        lk = None if loc in self.gone else self.live_links.get(loc)
        if lk is None:
            if w.creator is None:
                ns_txt = f" in namespace {w.ns}" if w.ns else ""
                raise CompileError(f"{w.subject}: {w.name!r} does not exist{ns_txt} on host {self.host!r}; mvplan "
                                   "does not create NICs - fix the parent's name or declare it 'kind: veth'")
            recipe = self.hw.recipes.get(w.creator)
            if recipe is None:
                raise CompileError(f"{w.subject}: nothing in the design creates {w.name!r}")
            for op in recipe:
                self.em.add(op, w.index)
            self.created.add(loc)
            lk = as_created(w, self.design)
        self.current[loc] = lk
        master = self.live_links.get((w.ns, lk.master)) if lk.master else None
        if _settings(w, lk, self.em, self.design, master_mine=self.mine(master)):
            self.mac_changed.add(loc)

    # -- 4. layer 3 and state, in design order ---------------------------------------------------
    def layer3(self, w: Want) -> None:
        loc = (w.ns, w.name)
        lk = self.current[loc]
        fresh = loc in self.created
        lns = None if fresh else self.lh.ns(w.ns)  # a link this plan creates has nothing live yet
        mine = fresh or self.mine(lk)
        live_addrs = [] if lns is None else lns.addresses_of(w.name)
        i = w.iface
        base = dict(subject=w.subject, host=self.host, ns=w.ns, name=w.name)
        going_down = w.expect.state == "down" and lk.state == "up"
        removed = self.addresses(w, base, live_addrs, [str(a) for a in i.addresses + i.addresses6] if i else [], mine)
        flush = _flushes(last_address_gone=bool(live_addrs) and set(live_addrs) <= set(removed),
                         going_down=going_down, mac_changed=loc in self.mac_changed)
        live_neigh = [] if lns is None else lns.neighbors_of(w.name)
        self.neighbors(w, base, {n.address: n.mac for n in live_neigh},
                       dict(static_neighbors(self.design, i)) if i else {}, mine, flush)
        if w.expect.state == "up" and lk.state != "up":
            self.em.add(SetLinkUp(**base), w.index)
        elif going_down:
            self.em.add(SetLinkDown(**base), w.index)
        live_routes = [] if lns is None else lns.routes_of(w.name)
        want_routes = [(str(r.to), str(r.via) if r.via else None) for r in i.routes + i.routes6] if i else []
        self.routes(w, base, lk, [(r.to, r.via) for r in live_routes], want_routes, mine, flush)

    def addresses(self, w: Want, base: dict, live_addrs: list[str], want_addrs: list[str], mine: bool) -> list[str]:
        """Plan address changes; returns the addresses removed."""
        removed = _addresses_to_remove(live_addrs, want_addrs) if mine else []
        for a in removed:
            self.em.add(DelAddress(**base, address=a), w.index)
        for a in want_addrs:
            if a not in live_addrs or a in removed:
                self.em.add(AddAddress(**base, address=a), w.index)
        return removed

    def neighbors(self, w: Want, base: dict, live_n: dict[str, str], want_neigh: dict[str, str], mine: bool,
                  flush: set[str]) -> None:
        kept_n = {addr: mac for addr, mac in live_n.items()
                  if not ((addr in want_neigh and want_neigh[addr] != mac) or (mine and addr not in want_neigh))}
        for addr, mac in live_n.items():
            if "neighbors" in flush or addr not in kept_n:
                self.em.add(DelNeighbor(**base, address=addr, mac=mac), w.index)
        have_n = {} if "neighbors" in flush else kept_n
        put_n = dict(want_neigh)
        for addr, mac in kept_n.items():  # entries not from the design that a flush takes are put back
            put_n.setdefault(addr, mac)
        for addr, mac in put_n.items():
            if have_n.get(addr) != mac:
                self.em.add(AddNeighbor(**base, address=addr, mac=mac), w.index)

    def routes(self, w: Want, base: dict, lk: LiveLink, live_routes: list[tuple[str, str | None]],
               want_routes: list[tuple[str, str | None]], mine: bool, flush: set[str]) -> None:
        state = w.expect.state
        want_tos = {to for to, _ in want_routes}
        kept_r = [rt for rt in live_routes if rt in want_routes or not (mine or rt[0] in want_tos)]
        for to, via in live_routes:
            if "routes" in flush or (to, via) not in kept_r:
                self.em.add(DelRoute(**base, to=to, via=via), w.index)
        put_r = list(want_routes)
        if "routes" in flush:  # routes not from the design that the flush takes are put back
            put_r += [rt for rt in kept_r if rt not in want_routes]
        if put_r and state != "up":
            if want_routes:
                self.notes.append(f"{w.subject}: routes not planned because the interface is down "
                                  "(the kernel refuses a route through a down device)")
            lost = [rt for rt in put_r if rt not in want_routes]
            if lost:
                self.notes.append(f"{w.subject}: taking {w.name} down flushes its routes; "
                                  f"{', '.join(to + (f' via {via}' if via else '') for to, via in lost)} "
                                  "(not from this design) cannot be put back while it is down")
            return
        have = set(kept_r) if state == "up" and lk.state == "up" and "routes" not in flush else set()
        for to, via in put_r:
            if (to, via) not in have:
                self.em.add(AddRoute(**base, to=to, via=via), w.index)


# =========================================================================== layer 3 and the kernel's flushes
# The kernel drops a link's permanent neighbour entries and its routes as side effects of other
# changes (checked on Linux 6.x; "flush" below):
#
# * removing the link's LAST IPv4 address (fib_inetaddr_event -> fib_disable_ip: routes through
#   the link and every neighbour entry of it, permanent ones included);
# * taking the link down (NETDEV_DOWN: the same);
# * changing its MAC address (NETDEV_CHANGEADDR -> neigh_changeaddr: neighbour entries only).
#
# The compiler plans around them explicitly: before the op that flushes, every neighbour/route
# the link has is deleted (so the plan says what goes, and Plan.inverse and the applier's
# rollback put it back op by op), and after it every neighbour/route that should be there is
# added again - once the new address makes the gateway reachable and the link is up
# (:func:`_order` adds those edges). A single apply therefore ends in a state that verifies clean.
#
# Why not add the new address before deleting the old one, so that the link never loses its last
# address? Because that avoids the flush only when the two are in different subnets. A new
# address in the old one's subnet (the usual renumbering, 10.0.0.12/24 -> 10.0.0.99/24) becomes a
# *secondary* of the old primary, and with net.ipv4.conf.*.promote_secondaries=0 - the kernel's
# default - deleting the primary deletes its secondaries too: the link ends with no address at
# all, flushed anyway. Getting it right would take two orders chosen by subnet plus a sysctl the
# compiler cannot see; delete-then-add with the flush written out is one path, correct under
# either setting, and it is needed anyway for a link that goes down or changes its MAC. For the
# same reason a deleted primary takes its secondaries along explicitly (:func:`_addresses_to_remove`).
def _flushes(*, last_address_gone: bool, going_down: bool, mac_changed: bool) -> set[str]:
    """What the kernel flushes on a link the plan keeps: ``{"neighbors", "routes"}`` or part."""
    out: set[str] = set()
    if last_address_gone or going_down:
        out |= {"neighbors", "routes"}
    if mac_changed:
        out.add("neighbors")
    return out



def _addresses_to_remove(live: list[str], want: list[str]) -> list[str]:
    """The addresses to delete from a link whose addresses are the design's, in deletion order.

    Those the design drops, and - when one of them is the primary of its subnet (the first the
    kernel lists: it lists primaries before secondaries) - every other address of that subnet,
    which the kernel deletes along with it unless promote_secondaries is set; the design's are
    added back. Newest first, so secondaries go before their primary under either setting."""
    drop = {a for a in live if a not in want}
    primary: dict = {}
    for a in live:
        primary.setdefault(address_subnet(a), a)
    for a in list(drop):
        if primary[address_subnet(a)] == a:
            drop.update(b for b in live if address_subnet(b) == address_subnet(a))
    return [a for a in reversed(live) if a in drop]


def _settings(w: Want, lk: LiveLink, em: _Emitter, design: Design, master_mine: bool) -> bool:
    """In-place changes that make an existing (or just created) link match its want; True when
    they change its MAC (which flushes its neighbour entries).

    A port is only taken out of a bridge the design no longer puts it in when that bridge is
    mvplan's (a NIC someone else enslaved elsewhere is left alone)."""
    e = w.expect
    base = dict(subject=w.subject, host=w.host, ns=w.ns, name=w.name)
    if e.alias and lk.alias != e.alias and alias_owner(lk.alias, design.name) is not None:
        em.add(SetAlias(**base, alias=e.alias, old=lk.alias or ""), w.index)
    if e.mode and lk.mode != e.mode:
        em.add(SetMode(**base, link_kind=e.kind or "macvlan", mode=e.mode, old=lk.mode), w.index)
    if e.mtu is not None and lk.mtu != e.mtu:
        em.add(SetMtu(**base, mtu=e.mtu, old=lk.mtu), w.index)
    mac_changed = e.mac is not None and (lk.mac or "").lower() != e.mac.lower()
    if mac_changed and e.mac is not None:
        em.add(SetMac(**base, mac=e.mac, old=lk.mac), w.index)
    if e.source_macs is not None and sorted(lk.source_macs or ()) != sorted(e.source_macs):
        em.add(SetSourceMacs(**base, link_kind=e.kind or "macvlan", macs=tuple(e.source_macs),
                             old=tuple(lk.source_macs or ())), w.index)
    if e.master is not None:
        if lk.master != e.master:
            em.add(SetBridgePort(**base, master=e.master), w.index)
            if e.hairpin:
                em.add(SetHairpin(**base, bridge=e.master, on=True), w.index)
        elif e.hairpin is not None and bool(lk.hairpin) != e.hairpin:
            em.add(SetHairpin(**base, bridge=e.master, on=e.hairpin), w.index)
    elif lk.master is not None and master_mine:
        em.add(UnsetBridgePort(**base, master=lk.master), w.index)
    return mac_changed
