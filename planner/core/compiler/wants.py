"""Step 1 of compiling: every link the design puts on a host becomes a *want*.

A want says where a link lives (namespace, name), what it should look like (a
:class:`~planner.core.livestate.LiveLink` whose ``None`` fields are "don't care") and, when mvplan
creates it, the *recipe* that builds it (create under a temporary name, mark it with the ownership
alias, move it into its namespace). :func:`expected_state` is the sum of the wants: what a host
looks like after apply; :func:`assumed_state` what a plan without live state starts from.
"""
from __future__ import annotations

from collections.abc import Iterable, MutableMapping
from dataclasses import dataclass, field

from ..ids import iface_id, is_bridge_uplink, parse_bridge_uplink
from ..livestate import LiveAddress, LiveHost, LiveLink, LiveNamespace, LiveNeighbor, LiveRoute, LiveState
from ..model import Design, Iface
from ..ops import CreateBridge, CreateMacvlan, CreateVeth, MoveToNamespace, Op, SetAlias, owner_alias, temp_name
from ..schema import CHILD_TYPES

__all__ = [
    "Want", "HostWants", "host_wants", "wants_of", "far_end_name", "expected_state",
    "assumed_state", "as_created", "identity_mismatch", "static_neighbors", "forwarding_namespaces", "CHILD_KINDS",
]

CHILD_KINDS = CHILD_TYPES


@dataclass
class Want:
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
class HostWants:
    host: str
    wants: list[Want] = field(default_factory=list)
    recipes: dict[str, list[Op]] = field(default_factory=dict)
    namespaces: list[str] = field(default_factory=list)

    def by_loc(self) -> dict[tuple[str, str], Want]:
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


def host_wants(design: Design, host: str) -> HostWants:
    """Every link the design wants on ``host``, in design order, with the recipes that create them."""
    return _WantBuilder(design, host).build()


class _WantBuilder:
    def __init__(self, design: Design, host: str):
        self.design, self.host = design, host
        self.hw = HostWants(host=host)
        self.ifaces = [(n, i) for n, i in enumerate(design.interfaces) if i.host == host]
        h = design.host(host)
        assert h is not None
        self.decls = {(c.namespace, c.name): c for c in h.children}
        self.parents = {p.name: p for p in h.parents}
        self.cabled: dict[str, Iface] = {}  # bridge-port id -> veth parent Iface cabled to it
        for _, i in self.ifaces:
            if i.kind == "parent" and i.parent_kind == "veth" and is_bridge_uplink(i.link):
                self.cabled[iface_id(host, parse_bridge_uplink(str(i.link)).port)] = i

    def alias(self, iid: str) -> str:
        return owner_alias(self.design.name, iid)

    def build(self) -> HostWants:
        self.hw.namespaces = list(dict.fromkeys(i.namespace for _, i in self.ifaces if i.namespace))
        for n, i in self.ifaces:
            if i.kind == "parent":
                self.parent(n, i)
            elif i.kind == "bridge":
                self.bridge(n, i)
            elif i.kind == "bridge-port":
                self.bridge_port(n, i)
            elif i.kind == "veth-peer":
                self.want(Want(i.id, n, self.host, i.namespace, i.name, LiveLink(
                    name=i.name, kind="veth", mac=i.mac, mtu=i.mtu, state=i.state, alias=self.alias(i.id),
                    link=_name_of(self.design, i.link), link_ns=""), creator=i.link, iface=i, owned=True))
            elif i.is_child:
                self.child(n, i)
        return self.hw

    def want(self, w: Want) -> None:
        self.hw.wants.append(w)

    def port_settings(self, i: Iface) -> dict:
        master = _name_of(self.design, i.master)
        return {"master": master, "hairpin": i.hairpin if master else None}

    def parent(self, n: int, i: Iface) -> None:
        host, alias = self.host, self.alias
        if i.parent_kind != "veth":  # a NIC: it exists; mvplan only sets what the design says
            mtu = i.mtu if self.parents[i.name].mtu_explicit else None
            self.want(Want(i.id, n, host, "", i.name, LiveLink(name=i.name, state=i.state, mtu=mtu,
                                                               **self.port_settings(i)), creator=None, iface=i))
            return
        # a veth the design declares: mvplan creates it
        common = dict(name=i.name, kind="veth", mac=i.mac, mtu=i.mtu, state=i.state, alias=alias(i.id), link_ns="",
                      **self.port_settings(i))
        if is_bridge_uplink(i.link):
            port = parse_bridge_uplink(str(i.link)).port
            self.want(Want(i.id, n, host, "", i.name, LiveLink(link=port, **common), creator=iface_id(host, port),
                           iface=i, owned=True))
            return
        far = far_end_name(self.design, i)
        self.want(Want(i.id, n, host, "", i.name, LiveLink(link=far, **common), creator=i.id, iface=i, owned=True))
        self.want(Want(i.id, n, host, "", far, LiveLink(name=far, kind="veth", state="up", alias=alias(i.id + "#peer"),
                                                        link=i.name, link_ns=""), creator=i.id, owned=True))
        self.hw.recipes[i.id] = [
            CreateVeth(subject=i.id, host=host, name=i.name, mac=i.mac, mtu=i.mtu, peer=far, peer_ns="",
                       peer_subject=i.id + "#peer"),
            SetAlias(subject=i.id, host=host, name=i.name, alias=alias(i.id)),
            SetAlias(subject=i.id, host=host, name=far, alias=alias(i.id + "#peer")),
        ]

    def bridge(self, n: int, i: Iface) -> None:
        host = self.host
        self.want(Want(i.id, n, host, "", i.name, LiveLink(
            name=i.name, kind="bridge", mac=i.mac, mtu=i.mtu, state=i.state, alias=self.alias(i.id)),
            creator=i.id, iface=i, owned=True))
        self.hw.recipes[i.id] = [CreateBridge(subject=i.id, host=host, name=i.name, mac=i.mac, mtu=i.mtu),
                                 SetAlias(subject=i.id, host=host, name=i.name, alias=self.alias(i.id))]

    def bridge_port(self, n: int, i: Iface) -> None:
        host, alias = self.host, self.alias
        peer = self.design.iface(i.link) if i.link else self.cabled.get(i.id)
        self.want(Want(i.id, n, host, "", i.name, LiveLink(
            name=i.name, kind="veth", mac=i.mac, mtu=i.mtu, state=i.state, alias=alias(i.id),
            link=peer.name if peer else None, link_ns=peer.namespace if peer else None, **self.port_settings(i)),
            creator=i.id, iface=i, owned=True))
        if peer is not None:
            self.hw.recipes[i.id] = [
                CreateVeth(subject=i.id, host=host, name=i.name, mac=i.mac, mtu=i.mtu, peer=peer.name,
                           peer_ns=peer.namespace, peer_subject=peer.id, peer_mac=peer.mac, peer_mtu=peer.mtu),
                SetAlias(subject=i.id, host=host, name=i.name, alias=alias(i.id)),
                SetAlias(subject=peer.id, host=host, ns=peer.namespace, name=peer.name, alias=alias(peer.id)),
            ]

    def child(self, n: int, i: Iface) -> None:
        host = self.host
        decl = self.decls[(i.namespace, i.name)]
        mac = i.mac if (i.mode != "passthru" or decl.mac_explicit) else None
        mtu = i.mtu if decl.mtu_explicit else None
        alias = self.alias(i.id)
        lower = _name_of(self.design, i.lower)
        self.want(Want(i.id, n, host, i.namespace, i.name, LiveLink(
            name=i.name, kind=i.kind, mode=i.mode, mac=mac, mtu=mtu, state=i.state, alias=alias,
            link=lower, link_ns="",
            # a list on another mode is what the kernel refuses (MV103): the plan says it, the kernel decides
            source_macs=tuple(i.source_macs) if (i.mode == "source" or i.source_macs) else None,
            nopromisc=i.nopromisc),
            creator=i.id, iface=i, owned=True))
        link = _name_of(self.design, i.declared_lower) or lower
        tmp = temp_name(i.id) if i.namespace else i.name
        recipe: list[Op] = [
            CreateMacvlan(subject=i.id, host=host, link_kind=i.kind, name=tmp, link=str(link), mode=str(i.mode),
                          mac=mac, mtu=mtu, nopromisc=i.nopromisc),
            SetAlias(subject=i.id, host=host, name=tmp, alias=alias),
        ]
        if i.namespace:
            recipe.append(MoveToNamespace(subject=i.id, host=host, name=tmp, target_ns=i.namespace, new_name=i.name))
        self.hw.recipes[i.id] = recipe


def as_created(w: Want, design: Design) -> LiveLink:
    """The link as its recipe leaves it: down, marked, nothing else configured."""
    e = w.expect
    changed = {"state": "down", "master": None, "hairpin": None,
               "source_macs": () if e.source_macs is not None else None}
    if not _LINK_COPY_BY_DICT:
        return LiveLink(**{**vars(e), **changed})
    # once per created link: the fields copied into a new instance's __dict__, which is all the
    # frozen __init__ would do, field by field through object.__setattr__ (a quarter of the cost)
    made = object.__new__(LiveLink)
    made.__dict__.update(vars(e), **changed)
    return made


#: a LiveLink is its fields and nothing else (no __post_init__, no slots): copying its __dict__
#: makes the same object as calling it
_LINK_COPY_BY_DICT = not hasattr(LiveLink, "__post_init__") and not hasattr(LiveLink, "__slots__")


def identity_mismatch(e: LiveLink, cur: LiveLink) -> str | None:
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


def expected_state(design: Design, hosts: Iterable[str] | None = None, *,
                   wants: MutableMapping[str, HostWants] | None = None) -> LiveState:
    """What each host should look like after the plan is applied (None fields: not decided by the
    design). Used for verification, and ``compile_plan(d, expected_state(d))`` is empty.

    ``wants`` (host -> :func:`host_wants`) reuses wants already built, e.g. by the compile of the
    same apply; a host not in it gets its wants built here."""
    out = []
    for h in design.hosts:
        if hosts is not None and h.name not in hosts:
            continue
        hw = wants_of(design, h.name, wants)
        nss: dict[str, dict] = {"": _empty_ns()}
        for ns in hw.namespaces:
            nss[ns] = _empty_ns()
        for w in hw.wants:
            b = nss[w.ns]
            b["links"].append(w.expect)
            if w.iface is None:
                continue
            i = w.iface
            b["addresses"].extend(LiveAddress(w.name, str(a)) for a in i.addresses + i.addresses6)
            b["neighbors"].extend(LiveNeighbor(w.name, str(ip), mac) for ip, mac in static_neighbors(design, i))
            if i.state == "up":
                b["routes"].extend(LiveRoute(w.name, str(r.to), str(r.via) if r.via else None)
                                   for r in i.routes + i.routes6)
            if i.forwarding:
                b["forwarding"] = True
        out.append(LiveHost(name=h.name, namespaces=tuple(
            LiveNamespace(name=k, links=tuple(v["links"]), addresses=tuple(_dedupe(v["addresses"])),
                          routes=tuple(_dedupe(v["routes"])), neighbors=tuple(_dedupe(v["neighbors"])),
                          forwarding=v["forwarding"])
            for k, v in nss.items())))
    return LiveState(hosts=tuple(out))


def wants_of(design: Design, host: str, cache: MutableMapping[str, HostWants] | None) -> HostWants:
    """:func:`host_wants`, taken from ``cache`` when it has the host and kept there when built
    (the compile and the verification of one apply share one cache)."""
    hw = cache.get(host) if cache is not None else None
    if hw is None:
        hw = host_wants(design, host)
        if cache is not None:
            cache[host] = hw
    return hw


def forwarding_namespaces(hw: HostWants) -> set[str]:
    """The namespaces of a host (``""``: its own) whose wanted interfaces say ``forwarding``."""
    return {w.ns for w in hw.wants if w.iface is not None and w.iface.forwarding}


def _empty_ns() -> dict:
    return {"links": [], "addresses": [], "routes": [], "neighbors": [], "forwarding": None}


def _dedupe(items):
    return list(dict.fromkeys(items))


def static_neighbors(design: Design, i: Iface) -> list[tuple[str, str]]:
    """(address, MAC) static neighbours of an interface (both families), first entry per address wins."""
    seen: dict[str, str] = {}
    for ip, mac in design.all_static_neighbors(i):
        seen.setdefault(str(ip), mac.lower())
    return list(seen.items())
