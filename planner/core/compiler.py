"""Design (+ live state) -> a deterministic, ordered list of operations.

The compiler is pure. It works in three steps:

1. **Want.** Every link the design puts on a host becomes a *want*: where it lives (namespace,
   name), what it should look like (a :class:`~planner.core.livestate.LiveLink` whose ``None`` fields
   are "don't care") and, when mvplan creates it, the *recipe* that builds it (create under a
   temporary name, mark it with the ownership alias, move it into its namespace).
2. **Diff.** The wants are compared with a live state - the machine as read by the applier, or,
   without one, the state the design assumes before anything runs (its NICs exist, nothing else
   does). Links whose alias marks them as this design's and that the design no longer wants are
   deleted; so are owned links whose identity changed (kind, lower device, veth peer, passthru-ness,
   nopromisc), which are then rebuilt. A link that is in the way and is *not* ours is an error:
   mvplan never deletes what it did not create. Settings, addresses, neighbours, state and routes
   are then planned as the difference.
3. **Order.** The ops become nodes of a dependency graph (namespace before the links moved into it,
   parent before child, a child before the child declared on it, create -> alias -> move, on each
   link removals before what flushes before additions, addresses and neighbours before the link
   goes up, up before routes, delete before a re-create at the same place) sorted with
   :func:`networkx.lexicographical_topological_sort`. The tie-break key is (host, phase, position
   of the interface in ``design.interfaces``, generation order), so the same design always gives
   the same plan, grouped in readable phases, and addresses and links come up in design order -
   which decides which connected route wins when subnets overlap.

:func:`expected_state` is what a host should look like after apply; compiling against it gives an
empty plan. :meth:`Plan.inverse` is the teardown of a plan; :func:`compile_teardown` plans the
teardown from a live state (only links marked as the design's are deleted). :func:`simulate`
replays ops on a live state with the kernel's rules (what a move, a link going down, a MAC change
or the removal of a link's last IPv4 address flushes, what a delete takes along, what it refuses) -
the tests use it to prove plans are executable and idempotent.

The kernel's flushes are planned for, not left to a second apply: when an op on a link the plan
keeps flushes its neighbour entries or routes, the plan deletes them before that op and adds
what should be there after it (see "layer 3 and the kernel's flushes" below).
"""
from __future__ import annotations

import ipaddress
from collections import Counter
from dataclasses import dataclass, field, replace
from collections.abc import Iterable, Iterator

import networkx as nx

from .errors import CompileError
from .livestate import LiveAddress, LiveHost, LiveLink, LiveNamespace, LiveNeighbor, LiveRoute, LiveState
from .model import Design, Iface, iface_id, ns_id
from .ops import (
    CREATE_LINK_OPS, AddAddress, AddNeighbor, AddRoute, CreateBridge, CreateMacvlan, CreateNamespace, CreateVeth,
    DelAddress, DeleteLink, DeleteNamespace, DelNeighbor, DelRoute, MoveToNamespace, NotInvertible, Op, SetAlias,
    SetBridgePort, SetHairpin, SetLinkDown, SetLinkUp, SetMac, SetMode, SetMtu, SetSourceMacs, UnsetBridgePort,
    alias_owner, owner_alias, temp_name,
)

__all__ = ["Plan", "compile_plan", "compile_teardown", "expected_state", "assumed_state", "simulate",
           "SimulationError", "far_end_name"]

CHILD_KINDS = ("macvlan", "macvtap")


# =========================================================================== plan
@dataclass(frozen=True)
class Plan:
    """An ordered list of operations for one design, plus notes on what was deliberately left out."""

    design: str
    ops: tuple[Op, ...] = ()
    notes: tuple[str, ...] = ()

    def __iter__(self) -> Iterator[Op]:
        return iter(self.ops)

    def __len__(self) -> int:
        return len(self.ops)

    def __bool__(self) -> bool:
        return bool(self.ops)

    @property
    def hosts(self) -> list[str]:
        """Hosts the plan touches, in plan order."""
        return list(dict.fromkeys(op.host for op in self.ops))

    def for_host(self, host: str) -> Plan:
        return replace(self, ops=tuple(op for op in self.ops if op.host == host))

    def summary(self) -> dict[str, int]:
        """How many ops of each kind, in order of first appearance."""
        return dict(Counter(op.kind for op in self.ops))

    def to_dict(self) -> dict:
        return {"design": self.design, "ops": [op.to_dict() for op in self.ops], "summary": self.summary(),
                "notes": list(self.notes)}

    def inverse(self) -> Plan:
        """The teardown: undo this plan, newest first.

        Links the plan created are simply deleted where they ended up (their addresses, aliases
        and ports go with them, and deleting one end of a veth removes both), namespaces it
        created are deleted last, and the rest is undone op by op. A link the plan did not
        create is never taken down: bringing a NIC up has no inverse in a teardown.
        """
        created: dict[tuple, Op] = {}      # current location -> create op
        final: dict[int, tuple] = {}       # id(create op) -> final location
        on_created: set[int] = set()       # positions of ops acting on a created link
        for pos, op in enumerate(self.ops):
            if isinstance(op, CREATE_LINK_OPS):
                loc = (op.host, getattr(op, "netns", "") or op.ns, op.name)
                created[loc] = op
                final[id(op)] = loc
                if isinstance(op, CreateVeth):
                    created[(op.host, op.peer_ns, op.peer)] = op
                continue
            loc = (op.host, op.ns, getattr(op, "name", None))
            if loc in created:
                on_created.add(pos)
                if isinstance(op, MoveToNamespace):
                    c = created.pop(loc)
                    new = (op.host, op.target_ns, op.new_name)
                    created[new] = c
                    if final.get(id(c)) == loc:
                        final[id(c)] = new
        out: list[Op] = []
        notes: list[str] = []
        for pos in range(len(self.ops) - 1, -1, -1):
            op = self.ops[pos]
            if isinstance(op, CREATE_LINK_OPS):
                host, ns, name = final[id(op)]
                rec = op
                if isinstance(op, CreateMacvlan) and (ns, name) != (op.netns or op.ns, op.name):
                    rec = replace(op, name=name, netns=ns)
                out.append(DeleteLink(subject=op.subject, host=host, ns=ns, name=name,
                                      link_kind=getattr(op, "link_kind", None) or
                                      ("veth" if isinstance(op, CreateVeth) else "bridge"),
                                      recreate=rec))
            elif pos in on_created:
                continue
            elif isinstance(op, SetLinkUp):
                continue
            else:
                try:
                    out.append(op.inverse())
                except NotInvertible as exc:
                    notes.append(f"{op.subject}: not undone by the teardown: {exc}")
        return Plan(design=self.design, ops=tuple(out), notes=tuple(notes))


# =========================================================================== wants
@dataclass
class _Want:
    """One link the design wants on a host."""

    subject: str
    index: int
    host: str
    ns: str
    name: str
    expect: LiveLink
    creator: str | None            # recipe id, or None: must already exist (a NIC)
    iface: Iface | None = None     # carries the L3 config; None for a veth far end
    owned: bool = False


@dataclass
class _HostWants:
    host: str
    wants: list[_Want] = field(default_factory=list)
    recipes: dict[str, list[Op]] = field(default_factory=dict)
    namespaces: list[str] = field(default_factory=list)

    def by_loc(self) -> dict[tuple[str, str], _Want]:
        return {(w.ns, w.name): w for w in self.wants}


def far_end_name(design: Design, iface: Iface) -> str:
    """Name of the host-side far end of a veth parent that is not cabled to a bridge port.

    ``<parent>-p`` when free and short enough, otherwise ``mvp`` + 10 hex digits of the id. The
    lab (or the user) plugs this end into whatever plays the switch.
    """
    taken = {i.name for i in design.interfaces if i.host == iface.host and not i.namespace}
    cand = f"{iface.name}-p"
    if len(cand.encode()) <= 15 and cand not in taken:
        return cand
    return temp_name(iface.id + "#peer").replace("mvt", "mvp", 1)


def _name_of(design: Design, iid: str | None) -> str | None:
    return design.iface(iid).name if iid else None


def _host_wants(design: Design, host: str) -> _HostWants:
    hw = _HostWants(host=host)
    alias = lambda iid: owner_alias(design.name, iid)
    ifaces = [(n, i) for n, i in enumerate(design.interfaces) if i.host == host]
    decls = {(c.namespace, c.name): c for c in design.host(host).children}
    cabled = {}  # bridge-port id -> veth parent Iface cabled to it
    for _, i in ifaces:
        if i.kind == "parent" and i.parent_kind == "veth" and i.link and i.link.startswith("bridge:"):
            cabled[iface_id(host, i.link.rsplit("/", 1)[1])] = i
    hw.namespaces = list(dict.fromkeys(i.namespace for _, i in ifaces if i.namespace))

    for n, i in ifaces:
        master = _name_of(design, i.master)
        hairpin = i.hairpin if master else None
        if i.kind == "parent" and i.parent_kind != "veth":
            hw.wants.append(_Want(i.id, n, host, "", i.name, LiveLink(
                name=i.name, state=i.state, master=master, hairpin=hairpin), creator=None, iface=i))
        elif i.kind == "parent":  # a veth the design declares: mvplan creates it
            if i.link and i.link.startswith("bridge:"):
                port = i.link.rsplit("/", 1)[1]
                hw.wants.append(_Want(i.id, n, host, "", i.name, LiveLink(
                    name=i.name, kind="veth", mac=i.mac, mtu=i.mtu, state=i.state, master=master, hairpin=hairpin,
                    alias=alias(i.id), link=port, link_ns=""), creator=iface_id(host, port), iface=i, owned=True))
            else:
                far = far_end_name(design, i)
                hw.wants.append(_Want(i.id, n, host, "", i.name, LiveLink(
                    name=i.name, kind="veth", mac=i.mac, mtu=i.mtu, state=i.state, master=master, hairpin=hairpin,
                    alias=alias(i.id), link=far, link_ns=""), creator=i.id, iface=i, owned=True))
                hw.wants.append(_Want(i.id, n, host, "", far, LiveLink(
                    name=far, kind="veth", state="up", alias=alias(i.id + "#peer"), link=i.name, link_ns=""),
                    creator=i.id, owned=True))
                hw.recipes[i.id] = [
                    CreateVeth(subject=i.id, host=host, name=i.name, mac=i.mac, mtu=i.mtu, peer=far, peer_ns="",
                               peer_subject=i.id + "#peer"),
                    SetAlias(subject=i.id, host=host, name=i.name, alias=alias(i.id)),
                    SetAlias(subject=i.id, host=host, name=far, alias=alias(i.id + "#peer")),
                ]
        elif i.kind == "bridge":
            hw.wants.append(_Want(i.id, n, host, "", i.name, LiveLink(
                name=i.name, kind="bridge", mac=i.mac, mtu=i.mtu, state=i.state, alias=alias(i.id)),
                creator=i.id, iface=i, owned=True))
            hw.recipes[i.id] = [CreateBridge(subject=i.id, host=host, name=i.name, mac=i.mac, mtu=i.mtu),
                                SetAlias(subject=i.id, host=host, name=i.name, alias=alias(i.id))]
        elif i.kind == "bridge-port":
            peer = design.iface(i.link) if i.link else cabled.get(i.id)
            hw.wants.append(_Want(i.id, n, host, "", i.name, LiveLink(
                name=i.name, kind="veth", mac=i.mac, mtu=i.mtu, state=i.state, master=master, hairpin=hairpin,
                alias=alias(i.id), link=peer.name if peer else None, link_ns=peer.namespace if peer else None),
                creator=i.id, iface=i, owned=True))
            if peer is not None:
                hw.recipes[i.id] = [
                    CreateVeth(subject=i.id, host=host, name=i.name, mac=i.mac, mtu=i.mtu, peer=peer.name,
                               peer_ns=peer.namespace, peer_subject=peer.id, peer_mac=peer.mac, peer_mtu=peer.mtu),
                    SetAlias(subject=i.id, host=host, name=i.name, alias=alias(i.id)),
                    SetAlias(subject=peer.id, host=host, ns=peer.namespace, name=peer.name, alias=alias(peer.id)),
                ]
        elif i.kind == "veth-peer":
            hw.wants.append(_Want(i.id, n, host, i.namespace, i.name, LiveLink(
                name=i.name, kind="veth", mac=i.mac, mtu=i.mtu, state=i.state, alias=alias(i.id),
                link=_name_of(design, i.link), link_ns=""), creator=i.link, iface=i, owned=True))
        elif i.is_child:
            decl = decls[(i.namespace, i.name)]
            mac = i.mac if (i.mode != "passthru" or decl.mac_explicit) else None
            mtu = i.mtu if decl.mtu_explicit else None
            hw.wants.append(_Want(i.id, n, host, i.namespace, i.name, LiveLink(
                name=i.name, kind=i.kind, mode=i.mode, mac=mac, mtu=mtu, state=i.state, alias=alias(i.id),
                link=_name_of(design, i.lower), link_ns="",
                source_macs=tuple(i.source_macs) if i.mode == "source" else None, nopromisc=i.nopromisc),
                creator=i.id, iface=i, owned=True))
            link = _name_of(design, i.declared_lower) or _name_of(design, i.lower)
            tmp = temp_name(i.id) if i.namespace else i.name
            recipe: list[Op] = [
                CreateMacvlan(subject=i.id, host=host, link_kind=i.kind, name=tmp, link=link, mode=i.mode, mac=mac,
                              mtu=mtu, nopromisc=i.nopromisc),
                SetAlias(subject=i.id, host=host, name=tmp, alias=alias(i.id)),
            ]
            if i.namespace:
                recipe.append(MoveToNamespace(subject=i.id, host=host, name=tmp, target_ns=i.namespace,
                                              new_name=i.name))
            hw.recipes[i.id] = recipe
    return hw


def _as_created(w: _Want, design: Design) -> LiveLink:
    """The link as its recipe leaves it: down, marked, nothing else configured."""
    e = w.expect
    return replace(e, state="down", master=None, hairpin=None,
                   source_macs=() if e.source_macs is not None else None)


def _identity_mismatch(e: LiveLink, cur: LiveLink) -> str | None:
    """Why ``cur`` cannot be turned into ``e`` in place (needs delete + create), or None."""
    if e.kind is not None and cur.kind is not None and cur.kind != e.kind:
        return f"it is a {cur.kind}, the design wants a {e.kind}"
    if e.kind is not None and cur.kind is None:
        return f"its kind is unknown, the design wants a {e.kind}"
    if e.kind in CHILD_KINDS + ("veth",) and e.link is not None and cur.link is not None:
        if (cur.link, cur.link_ns or "") != (e.link, e.link_ns or ""):
            what = "lower device" if e.kind in CHILD_KINDS else "veth peer"
            where = f" in namespace {cur.link_ns}" if cur.link_ns else ""
            return f"its {what} is {cur.link}{where}, the design wants {e.link}"
    if e.kind in CHILD_KINDS:
        if cur.mode is not None and (cur.mode == "passthru") != (e.mode == "passthru"):
            return f"mode {cur.mode} -> {e.mode}: the kernel cannot switch to or from passthru in place"
        if cur.nopromisc is not None and bool(cur.nopromisc) != bool(e.nopromisc):
            return "the nopromisc flag changed"
    return None


# =========================================================================== compile
def _check(design: Design) -> None:
    try:
        from . import rules
    except ModuleNotFoundError as exc:  # pragma: no cover - only while rules.py is absent
        if exc.name == "planner.core.rules":
            return
        raise
    errors = [f for f in rules.check(design) if f.severity == "error"]
    if errors:
        lines = "; ".join(f"{f.code} {', '.join(f.subjects)}: {f.message}" for f in errors)
        raise CompileError(f"design {design.name!r} has {len(errors)} error(s) to fix before it can be "
                           f"planned: {lines}", errors)


def assumed_state(design: Design, hosts: Iterable[str] | None = None) -> LiveState:
    """What a plan without live state assumes: each host's NICs exist (settings unknown), nothing
    else does - no namespaces, no veths, no bridges, no children."""
    out = []
    for h in design.hosts:
        if hosts is not None and h.name not in hosts:
            continue
        links = tuple(LiveLink(name=p.name) for p in h.parents if p.kind != "veth")
        out.append(LiveHost(name=h.name, namespaces=(LiveNamespace(name="", links=links),)))
    return LiveState(hosts=tuple(out))


def expected_state(design: Design, hosts: Iterable[str] | None = None) -> LiveState:
    """What each host should look like after the plan is applied (None fields: not decided by the
    design). Used for verification, and ``compile_plan(d, expected_state(d))`` is empty."""
    out = []
    for h in design.hosts:
        if hosts is not None and h.name not in hosts:
            continue
        hw = _host_wants(design, h.name)
        nss: dict[str, dict] = {"": _empty_ns()}
        for ns in hw.namespaces:
            nss[ns] = _empty_ns()
        for w in hw.wants:
            b = nss[w.ns]
            b["links"].append(w.expect)
            if w.iface is None:
                continue
            i = w.iface
            b["addresses"].extend(LiveAddress(w.name, str(a)) for a in i.addresses)
            b["neighbors"].extend(LiveNeighbor(w.name, str(ip), mac) for ip, mac in _neighbors(design, i))
            if i.state == "up":
                b["routes"].extend(LiveRoute(w.name, str(r.to), str(r.via) if r.via else None) for r in i.routes)
        out.append(LiveHost(name=h.name, namespaces=tuple(
            LiveNamespace(name=k, links=tuple(v["links"]), addresses=tuple(_dedupe(v["addresses"])),
                          routes=tuple(_dedupe(v["routes"])), neighbors=tuple(_dedupe(v["neighbors"])))
            for k, v in nss.items())))
    return LiveState(hosts=tuple(out))


def _empty_ns() -> dict:
    return {"links": [], "addresses": [], "routes": [], "neighbors": []}


def _dedupe(items):
    return list(dict.fromkeys(items))


def _neighbors(design: Design, i: Iface) -> list[tuple[str, str]]:
    """(address, MAC) static neighbours of an interface, first entry per address wins."""
    seen: dict[str, str] = {}
    for ip, mac in design.static_neighbors(i):
        seen.setdefault(str(ip), mac.lower())
    return list(seen.items())


class _Emitter:
    """Collects ops with their tie-break keys; drops exact duplicates."""

    def __init__(self, host_index: int):
        self.host_index = host_index
        self.ops: list[Op] = []
        self.sort: dict[str, tuple] = {}
        self.frees: dict[str, set] = {}
        self.seq = 0

    def add(self, op: Op, index: int) -> None:
        if op.key in self.sort:
            return
        self.seq += 1
        self.sort[op.key] = (self.host_index, op.phase, index, self.seq)
        self.ops.append(op)


def compile_plan(design: Design, live: LiveState | None = None, *, check: bool = True,
                 hosts: Iterable[str] | None = None) -> Plan:
    """Plan the operations that turn ``live`` into the design, in a deterministic order.

    Without ``live``, plan from the state the design assumes (:func:`assumed_state`): every
    namespace, link, address, neighbour and route is created. With ``live``, only the hosts it
    contains are planned and only the difference is: links are created, changed in place, or
    deleted and rebuilt - deletion limited to links whose ifalias marks them as this design's.
    ``hosts`` restricts the plan to some hosts. With ``check``, a design with check errors
    (``planner.core.rules.check``) raises :class:`CompileError` listing them.
    """
    if check:
        _check(design)
    wanted_hosts = set(hosts) if hosts is not None else None
    if live is None:
        live = assumed_state(design, wanted_hosts)
    ops: list[Op] = []
    notes: list[str] = []
    sort: dict[str, tuple] = {}
    frees: dict[str, set] = {}
    for hi, h in enumerate(design.hosts):
        if wanted_hosts is not None and h.name not in wanted_hosts:
            continue
        lh = live.host(h.name)
        if lh is None:
            continue
        em = _Emitter(hi)
        _diff_host(design, _host_wants(design, h.name), lh, em, notes)
        ops.extend(em.ops)
        sort.update(em.sort)
        frees.update(em.frees)
    return Plan(design=design.name, ops=tuple(_order(ops, sort, frees)), notes=tuple(notes))


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
    ops: list[Op] = []
    notes: list[str] = []
    sort: dict[str, tuple] = {}
    frees: dict[str, set] = {}
    for hi, h in enumerate(design.hosts):
        lh = live.host(h.name)
        if lh is None or (wanted_hosts is not None and h.name not in wanted_hosts):
            continue
        full = _host_wants(design, h.name)
        nics = [w for w in full.wants if w.creator is None]
        stripped = _HostWants(host=h.name, wants=[replace(w, expect=LiveLink(name=w.name), iface=None) for w in nics])
        em = _Emitter(hi)
        _diff_host(design, stripped, lh, em, notes)
        root = lh.ns("")
        for w in nics:
            i, base = w.iface, dict(subject=w.subject, host=h.name, ns="", name=w.name)
            have_routes = {(r.to, r.via) for r in root.routes_of(w.name)}
            for r in i.routes:
                rt = (str(r.to), str(r.via) if r.via else None)
                if rt in have_routes:
                    em.add(DelRoute(**base, to=rt[0], via=rt[1]), w.index)
            have_neigh = {n.address: n.mac for n in root.neighbors_of(w.name)}
            for addr, mac in _neighbors(design, i):
                if have_neigh.get(addr) == mac:
                    em.add(DelNeighbor(**base, address=addr, mac=mac), w.index)
            have_addrs = root.addresses_of(w.name)
            for a in i.addresses:
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
        ops.extend(em.ops)
        sort.update(em.sort)
        frees.update(em.frees)
    return Plan(design=design.name, ops=tuple(_order(ops, sort, frees)), notes=tuple(notes))


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


def _diff_host(design: Design, hw: _HostWants, lh: LiveHost, em: _Emitter, notes: list[str]) -> None:
    host = hw.host
    by_loc = hw.by_loc()
    live_links = {(ns, lk.name): lk for ns, lk in lh.iter_links()}
    ns_index: dict[str, int] = {}
    for w in hw.wants:
        ns_index.setdefault(w.ns, w.index)

    # -- 1. what goes: stale owned links, owned links in the way, and what they take along -----
    gone: dict[tuple[str, str], str] = {}          # loc -> why
    explicit: list[tuple[str, str]] = []
    for loc in sorted(live_links):
        lk = live_links[loc]
        claimed = alias_owner(lk.alias, design.name)
        w = by_loc.get(loc)
        if w is None:
            if claimed is not None:
                gone[loc] = "no longer in the design"
                explicit.append(loc)
            continue
        why = _identity_mismatch(w.expect, lk)
        if why is None:
            continue
        if claimed is None or w.creator is None:
            ns_txt = f" in namespace {loc[0]}" if loc[0] else ""
            raise CompileError(f"{w.subject}: a link named {lk.name!r} already exists{ns_txt} on host {host!r} and "
                               f"{why}; mvplan did not create it (its alias is {lk.alias or 'empty'}), so it will not "
                               "delete it: rename the interface in the design or remove the link")
        gone[loc] = why
        explicit.append(loc)
    changed = True
    while changed:  # a deleted veth end takes its peer, a deleted lower takes its children
        changed = False
        for loc in sorted(live_links):
            if loc in gone:
                continue
            lk = live_links[loc]
            other = (lk.link_ns or "", lk.link) if lk.link else None
            if other in gone and lk.kind == "veth":
                gone[loc] = f"its veth peer {lk.link} is deleted"
                changed = True
            elif other in gone and lk.kind in CHILD_KINDS:
                gone[loc] = f"its lower device {lk.link} is deleted"
                if alias_owner(lk.alias, design.name) is not None:
                    explicit.append(loc)
                else:
                    notes.append(f"{host}: {lk.name} ({lk.kind}) goes away with its lower device {lk.link}")
                changed = True
    for loc, lk in list(live_links.items()):  # a deleted bridge releases its ports
        if lk.master and loc not in gone and (loc[0], lk.master) in gone:
            live_links[loc] = replace(lk, master=None, hairpin=None)
    deleted_veth_ends: set[tuple[str, str]] = set()
    for loc in explicit:
        lk = live_links[loc]
        if loc in deleted_veth_ends:
            continue
        w = by_loc.get(loc)
        subject = alias_owner(lk.alias, design.name) or (w.subject if w else f"{ns_id(host, loc[0])}/{loc[1]}")
        op = DeleteLink(subject=subject, host=host, ns=loc[0], name=lk.name, link_kind=lk.kind or "",
                        recreate=_snapshot_create(host, loc[0], subject, lk))
        idx = w.index if w else -1
        em.add(op, idx)
        freed = {loc}
        if lk.kind == "veth" and lk.link:
            peer = (lk.link_ns or "", lk.link)
            deleted_veth_ends.add(peer)
            freed.add(peer)
        em.frees[op.key] = {(host, ns, name) for ns, name in freed}

    # -- 2. namespaces --------------------------------------------------------------------------
    for ns in hw.namespaces:
        if lh.ns(ns) is None:
            em.add(CreateNamespace(subject=ns_id(host, ns), host=host, name=ns), ns_index[ns])

    # -- 3. links: create what is missing, change what differs ---------------------------------
    current: dict[tuple[str, str], LiveLink | None] = {}
    created: set[tuple[str, str]] = set()
    mac_changed: set[tuple[str, str]] = set()
    for w in hw.wants:
        loc = (w.ns, w.name)
        lk = None if loc in gone else live_links.get(loc)
        if lk is None:
            if w.creator is None:
                ns_txt = f" in namespace {w.ns}" if w.ns else ""
                raise CompileError(f"{w.subject}: {w.name!r} does not exist{ns_txt} on host {host!r}; mvplan "
                                   "does not create NICs - fix the parent's name or declare it 'kind: veth'")
            recipe = hw.recipes.get(w.creator)
            if recipe is None:
                raise CompileError(f"{w.subject}: nothing in the design creates {w.name!r}")
            for op in recipe:
                em.add(op, w.index)
            created.add(loc)
            lk = _as_created(w, design)
        current[loc] = lk
        master = live_links.get((w.ns, lk.master)) if lk.master else None
        if _settings(w, lk, em, design, master_mine=master is not None and
                     alias_owner(master.alias, design.name) is not None):
            mac_changed.add(loc)

    # -- 4. layer 3 and state, in design order ---------------------------------------------------
    # Addresses are deleted before the new ones are added, and every flush the kernel does as a
    # side effect is written out: see "layer 3 and the kernel's flushes" below.
    for w in hw.wants:
        loc = (w.ns, w.name)
        lk = current[loc]
        fresh = loc in created
        lns = lh.ns(w.ns)
        mine = fresh or alias_owner(lk.alias, design.name) is not None
        live_addrs = [] if fresh or lns is None else lns.addresses_of(w.name)
        live_routes = [] if fresh or lns is None else lns.routes_of(w.name)
        live_neigh = [] if fresh or lns is None else lns.neighbors_of(w.name)
        i = w.iface
        want_addrs = [str(a) for a in i.addresses] if i else []
        want_neigh = dict(_neighbors(design, i)) if i else {}
        want_routes = [(str(r.to), str(r.via) if r.via else None) for r in i.routes] if i else []
        base = dict(subject=w.subject, host=host, ns=w.ns, name=w.name)
        state = w.expect.state
        going_down = state == "down" and lk.state == "up"

        removed = _addresses_to_remove(live_addrs, want_addrs) if mine else []
        for a in removed:
            em.add(DelAddress(**base, address=a), w.index)
        for a in want_addrs:
            if a not in live_addrs or a in removed:
                em.add(AddAddress(**base, address=a), w.index)
        flush = _flushes(last_address_gone=bool(live_addrs) and set(live_addrs) <= set(removed),
                         going_down=going_down, mac_changed=loc in mac_changed)

        live_n = {n.address: n.mac for n in live_neigh}
        kept_n = {addr: mac for addr, mac in live_n.items()
                  if not ((addr in want_neigh and want_neigh[addr] != mac) or (mine and addr not in want_neigh))}
        for addr, mac in live_n.items():
            if "neighbors" in flush or addr not in kept_n:
                em.add(DelNeighbor(**base, address=addr, mac=mac), w.index)
        have_n = {} if "neighbors" in flush else kept_n
        put_n = dict(want_neigh)
        for addr, mac in kept_n.items():  # entries not from the design that a flush takes are put back
            put_n.setdefault(addr, mac)
        for addr, mac in put_n.items():
            if have_n.get(addr) != mac:
                em.add(AddNeighbor(**base, address=addr, mac=mac), w.index)

        if state == "up" and lk.state != "up":
            em.add(SetLinkUp(**base), w.index)
        elif going_down:
            em.add(SetLinkDown(**base), w.index)

        want_tos = {to for to, _ in want_routes}
        kept_r = [(r.to, r.via) for r in live_routes
                  if (r.to, r.via) in want_routes or not (mine or r.to in want_tos)]
        for r in live_routes:
            if "routes" in flush or (r.to, r.via) not in kept_r:
                em.add(DelRoute(**base, to=r.to, via=r.via), w.index)
        put_r = list(want_routes)
        if "routes" in flush:  # routes not from the design that the flush takes are put back
            put_r += [rt for rt in kept_r if rt not in want_routes]
        if put_r and state != "up":
            if want_routes:
                notes.append(f"{w.subject}: routes not planned because the interface is down "
                             "(the kernel refuses a route through a down device)")
            lost = [rt for rt in put_r if rt not in want_routes]
            if lost:
                notes.append(f"{w.subject}: taking {w.name} down flushes its routes; "
                             f"{', '.join(to + (f' via {via}' if via else '') for to, via in lost)} "
                             "(not from this design) cannot be put back while it is down")
            continue
        have = set(kept_r) if state == "up" and lk.state == "up" and "routes" not in flush else set()
        for to, via in put_r:
            if (to, via) not in have:
                em.add(AddRoute(**base, to=to, via=via), w.index)


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


def _subnet(address: str) -> ipaddress.IPv4Network:
    return ipaddress.ip_interface(address).network


def _addresses_to_remove(live: list[str], want: list[str]) -> list[str]:
    """The addresses to delete from a link whose addresses are the design's, in deletion order.

    Those the design drops, and - when one of them is the primary of its subnet (the first the
    kernel lists: it lists primaries before secondaries) - every other address of that subnet,
    which the kernel deletes along with it unless promote_secondaries is set; the design's are
    added back. Newest first, so secondaries go before their primary under either setting."""
    drop = {a for a in live if a not in want}
    primary: dict = {}
    for a in live:
        primary.setdefault(_subnet(a), a)
    for a in list(drop):
        if primary[_subnet(a)] == a:
            drop.update(b for b in live if _subnet(b) == _subnet(a))
    return [a for a in reversed(live) if a in drop]


def _settings(w: _Want, lk: LiveLink, em: _Emitter, design: Design, master_mine: bool) -> bool:
    """In-place changes that make an existing (or just created) link match its want; True when
    they change its MAC (which flushes its neighbour entries).

    A port is only taken out of a bridge the design no longer puts it in when that bridge is
    mvplan's (a NIC someone else enslaved elsewhere is left alone)."""
    e = w.expect
    base = dict(subject=w.subject, host=w.host, ns=w.ns, name=w.name)
    if e.alias and alias_owner(lk.alias, design.name) is not None and lk.alias != e.alias:
        em.add(SetAlias(**base, alias=e.alias, old=lk.alias or ""), w.index)
    if e.mode and lk.mode != e.mode:
        em.add(SetMode(**base, link_kind=e.kind or "macvlan", mode=e.mode, old=lk.mode), w.index)
    if e.mtu is not None and lk.mtu != e.mtu:
        em.add(SetMtu(**base, mtu=e.mtu, old=lk.mtu), w.index)
    mac_changed = e.mac is not None and (lk.mac or "").lower() != e.mac.lower()
    if mac_changed:
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


# =========================================================================== ordering
def _tokens(op: Op) -> tuple[set, set, set, set]:
    """(provides, needs, consumes-by-move, frees) resource tokens of an op."""
    L = lambda ns, name: ("L", op.host, ns, name)
    N = lambda ns: {("N", op.host, ns)} if ns else set()
    provides: set = set()
    needs: set = set(N(op.ns))
    moves: set = set()
    frees: set = set()
    if isinstance(op, CreateNamespace):
        provides.add(("N", op.host, op.name))
    elif isinstance(op, DeleteNamespace):
        frees.add(("N", op.host, op.name))
    elif isinstance(op, CreateBridge):
        provides.add(L(op.ns, op.name))
    elif isinstance(op, CreateVeth):
        provides |= {L(op.ns, op.name), L(op.peer_ns, op.peer)}
        needs |= N(op.peer_ns)
    elif isinstance(op, CreateMacvlan):
        provides.add(L(op.netns or op.ns, op.name))
        needs |= {L(op.ns, op.link)} | N(op.netns)
    elif isinstance(op, DeleteLink):
        frees.add(L(op.ns, op.name))
        if isinstance(op.recreate, CreateMacvlan):
            needs.add(L(op.recreate.ns, op.recreate.link))
    elif isinstance(op, MoveToNamespace):
        moves.add(L(op.ns, op.name))
        provides.add(L(op.target_ns, op.new_name))
        needs |= N(op.target_ns)
    else:
        needs.add(L(op.ns, op.name))
        if isinstance(op, (SetBridgePort, UnsetBridgePort)):
            needs.add(L(op.ns, op.master))
        if isinstance(op, SetHairpin):
            needs.add(L(op.ns, op.bridge))
    return provides, needs, moves, frees


def _order(ops: list[Op], sort: dict[str, tuple], extra_frees: dict[str, set]) -> list[Op]:
    g = nx.DiGraph()
    by_key = {op.key: op for op in ops}
    g.add_nodes_from(by_key)
    prov: dict = {}
    users: dict = {}
    del_users: dict = {}
    movers: dict = {}
    freers: dict = {}
    for op in ops:
        p, n, m, f = _tokens(op)
        f = f | {("L",) + t for t in extra_frees.get(op.key, ())}
        for t in p:
            prov.setdefault(t, []).append(op.key)
        for t in n:
            (del_users if isinstance(op, DeleteLink) else users).setdefault(t, []).append(op.key)
        for t in m:
            movers.setdefault(t, []).append(op.key)
        for t in f:
            freers.setdefault(t, []).append(op.key)

    def edge(a: str, b: str) -> None:
        if a != b:
            g.add_edge(a, b)

    for t in set(prov) | set(users) | set(movers) | set(freers) | set(del_users):
        P, U, M, F, D = (prov.get(t, []), users.get(t, []), movers.get(t, []), freers.get(t, []),
                         del_users.get(t, []))
        for f in F:
            for d in D:
                edge(d, f)         # delete children before their lower
            for p in P:
                edge(f, p)         # free a place before re-creating there
            if t[0] == "N":
                for u in U + P + M:
                    edge(u, f)     # everything in a namespace before deleting it
        for p in P:
            for u in U + M:
                edge(p, u)
        for m in M:
            for u in U:
                if u not in P:
                    edge(u, m)     # alias etc. under the temporary name before the move
        if not P:
            for u in U:
                for f in F:
                    if t[0] == "L":
                        edge(u, f)
    # layer 3, per link: what is removed goes before what flushes (else it is already gone), and
    # both before what is added (a flush would take it; an equal route would collide); addresses
    # before routes (a gateway is reachable through them); addresses and neighbours before up, up
    # before routes; port before hairpin
    per_link: dict[tuple, dict[str, list[str]]] = {}
    for op in ops:
        name = getattr(op, "name", None)
        per_link.setdefault((op.host, op.ns, name), {}).setdefault(op.kind, []).append(op.key)
    for kinds in per_link.values():
        removals = kinds.get("del-route", []) + kinds.get("del-neighbor", [])
        flushers = kinds.get("del-address", []) + kinds.get("set-link-down", []) + kinds.get("set-mac", [])
        additions = kinds.get("add-address", []) + kinds.get("add-neighbor", []) + kinds.get("add-route", [])
        for r in removals:
            for k in flushers + additions:
                edge(r, k)
        for f in flushers:
            for k in additions:
                edge(f, k)
        for a in kinds.get("add-address", []):
            for k in kinds.get("add-route", []):
                edge(a, k)
        for up in kinds.get("set-link-up", []):
            for k in kinds.get("add-address", []) + kinds.get("add-neighbor", []):
                edge(k, up)
            for k in kinds.get("add-route", []):
                edge(up, k)
        for sp in kinds.get("set-bridge-port", []):
            for k in kinds.get("set-hairpin", []):
                edge(sp, k)
    if not nx.is_directed_acyclic_graph(g):  # pragma: no cover - would be a compiler bug
        cycle = nx.find_cycle(g)
        raise CompileError(f"internal error: operations depend on each other in a cycle: {cycle}")
    return [by_key[k] for k in nx.lexicographical_topological_sort(g, key=lambda k: sort[k] + (k,))]


# =========================================================================== simulation
class SimulationError(ValueError):
    """An op the kernel would refuse in the simulated state (names the op and the errno)."""


def simulate(live: LiveState, ops: Iterable[Op], *, gateways: bool = True) -> LiveState:
    """Replay ops on a live state with the kernel's rules; raise :class:`SimulationError` on an op
    the kernel would refuse (EEXIST, ENODEV, ENETDOWN, ENETUNREACH). Pure: returns a new state.

    Side effects modelled: a move or a delete takes the link's addresses, routes and neighbours
    (and a deleted veth its peer, a deleted lower device its children); taking a link down or
    removing its last IPv4 address flushes its routes and neighbour entries, permanent ones
    included; a MAC change flushes its neighbour entries; deleting the primary address of a
    subnet deletes its secondaries (net.ipv4.conf.*.promote_secondaries=0, the kernel default).
    ``gateways=False`` accepts a route whose gateway is on no subnet of its link (the kernel
    refuses it: "Nexthop has invalid gateway"); the exporters replay that way, so that a design
    with such a route still renders."""
    hosts = {h.name: {n.name: {"links": {lk.name: lk for lk in n.links}, "addresses": list(n.addresses),
                               "routes": list(n.routes), "neighbors": list(n.neighbors)}
                      for n in h.namespaces} for h in live.hosts}
    for op in ops:
        _sim_op(hosts.setdefault(op.host, {"": _sim_ns()}), op, gateways)
    return LiveState(hosts=tuple(
        LiveHost(name=h, namespaces=tuple(
            LiveNamespace(name=k, links=tuple(v["links"].values()), addresses=tuple(v["addresses"]),
                          routes=tuple(v["routes"]), neighbors=tuple(v["neighbors"]))
            for k, v in nss.items()))
        for h, nss in hosts.items()))


def _sim_ns() -> dict:
    return {"links": {}, "addresses": [], "routes": [], "neighbors": []}


def _on_link(b: dict, dev: str, via: str) -> bool:
    """Whether the kernel finds gateway ``via`` on ``dev``: in the subnet of one of its addresses or
    of a route through it without a gateway (a link-scope route, as the compiler plans them)."""
    gw = ipaddress.ip_address(via)
    return (any(gw in _subnet(a.address) for a in b["addresses"] if a.dev == dev)
            or any(gw in ipaddress.ip_network(r.to) for r in b["routes"] if r.dev == dev and not r.via))


def _sim_op(h: dict, op: Op, gateways: bool = True) -> None:
    def fail(errno: str, why: str):
        raise SimulationError(f"{errno}: {op.describe()}: {why}")

    def ns(name: str) -> dict:
        if name not in h:
            fail("ENOENT", f"namespace {name!r} does not exist")
        return h[name]

    def get(nsname: str, name: str) -> LiveLink:
        lk = ns(nsname)["links"].get(name)
        if lk is None:
            fail("ENODEV", f"no link {name!r} in namespace {nsname!r}")
        return lk

    def put(nsname: str, lk: LiveLink, new: bool = False) -> None:
        links = ns(nsname)["links"]
        if new and lk.name in links:
            fail("EEXIST", f"{lk.name!r} already exists in namespace {nsname!r}")
        links[lk.name] = lk

    def flush_l3(nsname: str, name: str, addresses: bool = True, routes: bool = True) -> None:
        b = h[nsname]
        if addresses:
            b["addresses"] = [a for a in b["addresses"] if a.dev != name]
        if routes:
            b["routes"] = [r for r in b["routes"] if r.dev != name]
        b["neighbors"] = [n for n in b["neighbors"] if n.dev != name]

    def remove(nsname: str, name: str) -> None:
        b = h.get(nsname)
        if b is None or name not in b["links"]:
            return
        lk = b["links"].pop(name)
        flush_l3(nsname, name)
        if lk.kind == "veth" and lk.link:
            peer = h.get(lk.link_ns or "", {"links": {}})["links"].get(lk.link)
            if peer is not None and peer.kind == "veth":
                remove(lk.link_ns or "", lk.link)
        if lk.kind in CHILD_KINDS:
            return  # a macvlan is never a lower device (the kernel re-parents) nor a master
        for other_ns, ob in list(h.items()):
            for other in list(ob["links"].values()):
                if other.kind in CHILD_KINDS and other.link == name and (other.link_ns or "") == nsname:
                    remove(other_ns, other.name)
                if other_ns == nsname and other.master == name and other.name in ob["links"]:
                    ob["links"][other.name] = replace(other, master=None, hairpin=None)

    s = op.ns
    if isinstance(op, CreateNamespace):
        if op.name in h:
            fail("EEXIST", f"namespace {op.name!r} exists")
        h[op.name] = _sim_ns()
    elif isinstance(op, DeleteNamespace):
        for name in list(ns(op.name)["links"]):
            remove(op.name, name)
        del h[op.name]
    elif isinstance(op, CreateBridge):
        put(s, LiveLink(name=op.name, kind="bridge", mac=op.mac, mtu=op.mtu or 1500, state="down"), new=True)
    elif isinstance(op, CreateVeth):
        ns(op.peer_ns)
        if op.peer in h[op.peer_ns]["links"]:
            fail("EEXIST", f"{op.peer!r} already exists in namespace {op.peer_ns!r}")
        put(s, LiveLink(name=op.name, kind="veth", mac=op.mac, mtu=op.mtu or 1500, state="down", link=op.peer,
                        link_ns=op.peer_ns), new=True)
        put(op.peer_ns, LiveLink(name=op.peer, kind="veth", mac=op.peer_mac, mtu=op.peer_mtu or 1500, state="down",
                                 link=op.name, link_ns=s), new=True)
    elif isinstance(op, CreateMacvlan):
        lower = get(s, op.link)
        if lower.kind in CHILD_KINDS:  # the kernel re-parents onto the lower device
            lower = get(lower.link_ns or "", lower.link)
        target = op.netns or s
        mac = op.mac if op.mac else (lower.mac if op.mode == "passthru" else None)
        put(target, LiveLink(name=op.name, kind=op.link_kind, mode=op.mode, mac=mac, mtu=op.mtu or lower.mtu,
                             state="down", link=lower.name, link_ns=s, source_macs=(), nopromisc=op.nopromisc),
            new=True)
    elif isinstance(op, DeleteLink):
        get(s, op.name)
        remove(s, op.name)
    elif isinstance(op, MoveToNamespace):
        lk = get(s, op.name)
        ns(op.target_ns)
        if op.new_name in h[op.target_ns]["links"]:
            fail("EEXIST", f"{op.new_name!r} already exists in namespace {op.target_ns!r}")
        flush_l3(s, op.name)
        del h[s]["links"][op.name]
        h[op.target_ns]["links"][op.new_name] = replace(lk, name=op.new_name, state="down", master=None,
                                                        hairpin=None)
        if lk.kind == "veth" and lk.link:  # its peer now points at the new place
            peer_ns = h.get(lk.link_ns or "")
            peer = peer_ns["links"].get(lk.link) if peer_ns else None
            if peer is not None and peer.link == op.name:
                peer_ns["links"][peer.name] = replace(peer, link=op.new_name, link_ns=op.target_ns)
    elif isinstance(op, SetAlias):
        put(s, replace(get(s, op.name), alias=op.alias or None))
    elif isinstance(op, SetMode):
        lk = get(s, op.name)
        if (lk.mode == "passthru") != (op.mode == "passthru"):
            fail("EINVAL", "passthru cannot be set or cleared in place")
        put(s, replace(lk, mode=op.mode))
    elif isinstance(op, SetMtu):
        put(s, replace(get(s, op.name), mtu=op.mtu))
    elif isinstance(op, SetMac):
        lk = get(s, op.name)
        put(s, replace(lk, mac=op.mac))
        if (lk.mac or "").lower() != op.mac.lower():  # NETDEV_CHANGEADDR: neighbour entries go
            flush_l3(s, op.name, addresses=False, routes=False)
    elif isinstance(op, SetSourceMacs):
        put(s, replace(get(s, op.name), source_macs=tuple(op.macs)))
    elif isinstance(op, SetBridgePort):
        if get(s, op.master).kind != "bridge":
            fail("EOPNOTSUPP", f"{op.master!r} is not a bridge")
        put(s, replace(get(s, op.name), master=op.master, hairpin=False))
    elif isinstance(op, UnsetBridgePort):
        put(s, replace(get(s, op.name), master=None, hairpin=None))
    elif isinstance(op, SetHairpin):
        lk = get(s, op.name)
        if lk.master != op.bridge:
            fail("EOPNOTSUPP", f"{op.name!r} is not a port of {op.bridge!r}")
        put(s, replace(lk, hairpin=op.on))
    elif isinstance(op, (AddAddress, DelAddress)):
        get(s, op.name)
        a = LiveAddress(op.name, op.address)
        b = h[s]["addresses"]
        if isinstance(op, AddAddress):
            if a in b:
                fail("EEXIST", "address already present")
            b.append(a)
        else:
            if a not in b:
                fail("EADDRNOTAVAIL", "no such address")
            same = [x for x in b if x.dev == op.name and _subnet(x.address) == _subnet(a.address)]
            # a primary (the first of its subnet) takes its secondaries along: promote_secondaries=0
            gone = same if same[0] == a else [a]
            h[s]["addresses"] = b = [x for x in b if x not in gone]
            if not any(x.dev == op.name for x in b):  # the last IPv4 address: fib_disable_ip
                flush_l3(s, op.name, addresses=False)
    elif isinstance(op, AddNeighbor):
        get(s, op.name)
        b = h[s]["neighbors"]
        if any(n.dev == op.name and n.address == op.address for n in b):
            fail("EEXIST", "neighbour entry exists")
        b.append(LiveNeighbor(op.name, op.address, op.mac))
    elif isinstance(op, DelNeighbor):
        get(s, op.name)
        b = h[s]["neighbors"]
        if not any(n.dev == op.name and n.address == op.address for n in b):
            fail("ENOENT", "no such neighbour entry")
        h[s]["neighbors"] = [n for n in b if not (n.dev == op.name and n.address == op.address)]
    elif isinstance(op, AddRoute):
        lk = get(s, op.name)
        if lk.state != "up":
            fail("ENETDOWN", "device for nexthop is not up")
        r = LiveRoute(op.name, op.to, op.via)
        if any(x.to == op.to for x in h[s]["routes"]):
            fail("EEXIST", f"a route to {op.to} exists")
        if op.via and gateways and not _on_link(h[s], op.name, op.via):
            fail("ENETUNREACH", f"nexthop has invalid gateway: {op.via} is in no subnet of {op.name}")
        h[s]["routes"].append(r)
    elif isinstance(op, DelRoute):
        r = LiveRoute(op.name, op.to, op.via)
        if r not in h[s]["routes"]:
            fail("ESRCH", "no such route")
        h[s]["routes"].remove(r)
    elif isinstance(op, SetLinkUp):
        put(s, replace(get(s, op.name), state="up"))
    elif isinstance(op, SetLinkDown):
        lk = get(s, op.name)
        put(s, replace(lk, state="down"))
        if lk.state != "down":  # NETDEV_DOWN: routes and neighbour entries, permanent ones too
            flush_l3(s, op.name, addresses=False)
    else:  # pragma: no cover
        raise SimulationError(f"unknown op {op.kind}")
