"""What a machine's network looks like, as plain data: the compiler's other input.

The netlink reader (``planner.netlink``) fills a :class:`LiveState` from a real host; the compiler
builds one with :func:`planner.core.compiler.expected_state` to say what a host *should* look like after
apply (for verification and for the "second compile is empty" guarantee). Both sides use design
words: namespace ``""`` is the host's own namespace, other namespaces carry their design names.

A field left ``None`` means "not known / not cared about": a live reading leaves it None when the
kernel has no such attribute, an expected state leaves it None when the design does not decide it
(the MAC of a NIC the design did not pin, the MTU of a child that inherits its parent's).

Routes are the static ones only (not ``proto kernel`` connected routes); neighbours are the
permanent entries only.

JSON shape (``to_dict``/``from_dict``)::

    {"hosts": {"host1": {"namespaces": {
        "":    {"links": [{"name": "eth0", "kind": "device", "state": "up", ...}],
                "addresses": [{"dev": "eth0", "address": "10.0.0.2/24"}],
                "routes": [{"dev": "eth0", "to": "0.0.0.0/0", "via": "10.0.0.1"}],
                "neighbors": [{"dev": "eth0", "address": "10.0.0.1", "mac": "02:..."}]},
        "web": {...}}}}}
"""
from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, fields, replace
from typing import Any

__all__ = ["LiveLink", "LiveAddress", "LiveRoute", "LiveNeighbor", "LiveNamespace", "LiveHost", "LiveState",
           "compare"]


@dataclass(frozen=True)
class LiveLink:
    """One network device in one namespace.

    ``kind`` is the kernel's link kind (``macvlan``, ``macvtap``, ``veth``, ``bridge``; ``device``
    or None for a NIC). ``link``/``link_ns`` name the lower device of a macvlan, or the other end
    of a veth, and the namespace it is in. ``state`` is the administrative state (up/down).
    """

    name: str
    kind: str | None = None
    mode: str | None = None
    mac: str | None = None
    mtu: int | None = None
    state: str | None = None
    master: str | None = None
    hairpin: bool | None = None
    alias: str | None = None
    link: str | None = None
    link_ns: str | None = None
    source_macs: tuple[str, ...] | None = None
    nopromisc: bool | None = None
    #: the link has carrier (IFF_LOWER_UP): read, never planned
    carrier: bool | None = None

    def to_dict(self) -> dict:
        d: dict[str, Any] = {}
        for name in _LINK_FIELDS:
            v = getattr(self, name)
            if v is None:
                continue
            d[name] = list(v) if isinstance(v, tuple) else v
        return d

    @classmethod
    def from_dict(cls, d: dict) -> LiveLink:
        kw = {name: d[name] for name in _LINK_FIELDS if name in d}
        if kw.get("source_macs") is not None:
            kw["source_macs"] = tuple(m.lower() for m in kw["source_macs"])
        if kw.get("mac"):
            kw["mac"] = kw["mac"].lower()
        return cls(**kw)


#: LiveLink's field names, looked up once (verification compares 5,000 links field by field)
_LINK_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(LiveLink))


@dataclass(frozen=True)
class LiveAddress:
    dev: str
    address: str  # "10.0.0.5/24"

    def to_dict(self) -> dict:
        return {"dev": self.dev, "address": self.address}


@dataclass(frozen=True)
class LiveRoute:
    dev: str
    to: str  # "10.1.0.0/24", "0.0.0.0/0"
    via: str | None = None

    def to_dict(self) -> dict:
        d = {"dev": self.dev, "to": self.to}
        if self.via:
            d["via"] = self.via
        return d


@dataclass(frozen=True)
class LiveNeighbor:
    dev: str
    address: str
    mac: str

    def to_dict(self) -> dict:
        return {"dev": self.dev, "address": self.address, "mac": self.mac}


@dataclass(frozen=True)
class LiveNamespace:
    """The links, addresses, static routes and permanent neighbours of one namespace."""

    name: str
    links: tuple[LiveLink, ...] = ()
    addresses: tuple[LiveAddress, ...] = ()
    routes: tuple[LiveRoute, ...] = ()
    neighbors: tuple[LiveNeighbor, ...] = ()
    #: the namespace routes packets (``net.ipv4.ip_forward`` and ``net.ipv6.conf.all.forwarding``
    #: both 1; IPv6 absent counts as on); None: not read, or (expected) the design does not care
    forwarding: bool | None = None

    def _index(self, what: str) -> dict:
        # frozen, so indexes are built once on first use (as planner.core.model.Design does)
        cache = self.__dict__.setdefault("_cache", {})
        if what not in cache:
            if what == "links":
                cache[what] = {lk.name: lk for lk in self.links}
            else:
                idx: dict[str, list] = {}
                for x in getattr(self, what):
                    idx.setdefault(x.dev, []).append(x)
                cache[what] = idx
        return cache[what]

    def link(self, name: str) -> LiveLink | None:
        return self._index("links").get(name)

    def addresses_of(self, dev: str) -> list[str]:
        return [a.address for a in self._index("addresses").get(dev, ())]

    def routes_of(self, dev: str) -> list[LiveRoute]:
        return list(self._index("routes").get(dev, ()))

    def neighbors_of(self, dev: str) -> list[LiveNeighbor]:
        return list(self._index("neighbors").get(dev, ()))

    def to_dict(self) -> dict:
        out: dict[str, object] = {"links": [lk.to_dict() for lk in self.links],
                                  "addresses": [a.to_dict() for a in self.addresses],
                                  "routes": [r.to_dict() for r in self.routes],
                                  "neighbors": [n.to_dict() for n in self.neighbors]}
        if self.forwarding is not None:
            out["forwarding"] = self.forwarding
        return out

    @classmethod
    def from_dict(cls, name: str, d: dict) -> LiveNamespace:
        return cls(name=name,
                   links=tuple(LiveLink.from_dict(x) for x in d.get("links") or ()),
                   addresses=tuple(LiveAddress(x["dev"], x["address"]) for x in d.get("addresses") or ()),
                   routes=tuple(LiveRoute(x["dev"], x["to"], x.get("via")) for x in d.get("routes") or ()),
                   neighbors=tuple(LiveNeighbor(x["dev"], x["address"], x["mac"].lower())
                                   for x in d.get("neighbors") or ()),
                   forwarding=d.get("forwarding") if isinstance(d.get("forwarding"), bool) else None)


@dataclass(frozen=True)
class LiveHost:
    """One machine: its own namespace (``""``) and its named namespaces."""

    name: str
    namespaces: tuple[LiveNamespace, ...] = ()

    def ns(self, name: str) -> LiveNamespace | None:
        idx = self.__dict__.get("_ns_index")
        if idx is None:
            idx = {n.name: n for n in self.namespaces}
            object.__setattr__(self, "_ns_index", idx)
        return idx.get(name)

    def link(self, ns: str, name: str) -> LiveLink | None:
        n = self.ns(ns)
        return n.link(name) if n else None

    def iter_links(self) -> Iterator[tuple[str, LiveLink]]:
        for n in self.namespaces:
            for lk in n.links:
                yield n.name, lk

    def to_dict(self) -> dict:
        return {"namespaces": {n.name: n.to_dict() for n in self.namespaces}}

    @classmethod
    def from_dict(cls, name: str, d: dict) -> LiveHost:
        return cls(name=name, namespaces=tuple(LiveNamespace.from_dict(k, v)
                                               for k, v in (d.get("namespaces") or {}).items()))


@dataclass(frozen=True)
class LiveState:
    """The state of one or more hosts. A compile against it plans only the hosts it contains."""

    hosts: tuple[LiveHost, ...] = ()

    def host(self, name: str) -> LiveHost | None:
        return next((h for h in self.hosts if h.name == name), None)

    def with_host(self, host: LiveHost) -> LiveState:
        """A copy with ``host`` added or replaced."""
        others = tuple(h for h in self.hosts if h.name != host.name)
        return replace(self, hosts=others + (host,))

    def to_dict(self) -> dict:
        return {"hosts": {h.name: h.to_dict() for h in self.hosts}}

    @classmethod
    def from_dict(cls, d: dict) -> LiveState:
        return cls(hosts=tuple(LiveHost.from_dict(k, v) for k, v in (d.get("hosts") or {}).items()))


def _missing(expected: Iterable, live: Iterable) -> list[dict]:
    """The items of ``expected`` that ``live`` lacks, compared as plain data, each as plain data
    with sorted keys, in order. (One class per call, so the values alone identify an item.)"""
    have = {tuple(x.to_dict().values()) for x in live}
    gone = {tuple(sorted(x.to_dict().items())) for x in expected if tuple(x.to_dict().values()) not in have}
    return [dict(m) for m in sorted(gone)]


def compare(expected: LiveState, live: LiveState) -> list[str]:
    """What differs between an expected state and a live one, one line per difference.

    Only what ``expected`` decides is compared (its None fields are "don't care"); extra links,
    addresses, routes and neighbours in ``live`` are not reported. Used by verification.
    """
    out: list[str] = []
    for eh in expected.hosts:
        lh = live.host(eh.name)
        if lh is None:
            out.append(f"{eh.name}: host not in the live state")
            continue
        for ens in eh.namespaces:
            where = f"{eh.name}/ns:{ens.name}" if ens.name else eh.name
            lns = lh.ns(ens.name)
            if lns is None:
                out.append(f"{where}: namespace missing")
                continue
            for el in ens.links:
                ll = lns.link(el.name)
                if ll is None:
                    out.append(f"{where}/{el.name}: link missing")
                    continue
                wanted, have = vars(el), vars(ll)  # dict look-ups: 5,000 links x 14 fields in a verification
                for name in _LINK_FIELDS:
                    want = wanted[name]
                    if want is None or name == "name":
                        continue
                    got = have[name]
                    if name == "hairpin" and got is None:
                        got = False
                    if name == "source_macs" and got is not None:
                        want, got = tuple(sorted(want)), tuple(sorted(got))
                    if got != want:
                        out.append(f"{where}/{el.name}: {name} is {got!r}, expected {want!r}")
            if ens.forwarding is not None and lns.forwarding is not None and ens.forwarding != lns.forwarding:
                out.append(f"{where}: forwarding is {'on' if lns.forwarding else 'off'}, expected "
                           f"{'on' if ens.forwarding else 'off'}")
            for what in ("addresses", "routes", "neighbors"):
                for m in _missing(getattr(ens, what), getattr(lns, what)):
                    out.append(f"{where}: {what[:-1] if what != 'addresses' else 'address'} missing: {m}")
    return out


def address_subnet(address: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """The subnet of an address written with its prefix (``10.0.0.5/24`` -> ``10.0.0.0/24``)."""
    return ipaddress.ip_interface(address).network
