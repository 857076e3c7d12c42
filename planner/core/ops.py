"""Operations: the one vocabulary shared by the applier, the exporters and the web plan view.

Every operation is a frozen dataclass that says exactly one thing to the kernel, in the kernel's
words, and names the design object it serves (``subject``, an interface or namespace id such as
``host1/ns:web/web0``). Each has

* ``key`` - a stable string identity (kind, host, namespace, link and the value), used as the node
  of the compiler's dependency graph and to compare plans;
* ``describe()`` - one human line that names the design object;
* ``inverse()`` - the operation that undoes it (pyroute2's transaction idea: roll completed steps
  back in reverse order);
* ``to_dict()`` / :func:`op_from_dict` - plain JSON data for the API.

Placement: ``host`` is the design host the op runs on and ``ns`` the design namespace it runs in
(``""`` = the host's own namespace). ``name`` is always the link the op acts on, as it is named
*in that namespace* at that moment (a namespaced child is created under a temporary name in the
host namespace, then moved and renamed).

Ownership (containerlab's ``links/ownership.go`` idea): every link mvplan creates gets the ifalias
:func:`owner_alias` ``mvplan:<design-name>:<iface-id>``. The compiler only ever deletes links whose
alias says they belong to the design being compiled.

This module is pure: no subprocess, no netlink.
"""
from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, fields, replace
from functools import cached_property
from typing import Any, ClassVar

from .errors import MvplanError

__all__ = [
    "Op", "NotInvertible", "CreateNamespace", "DeleteNamespace", "CreateBridge", "CreateVeth",
    "CreateMacvlan", "DeleteLink", "SetAlias", "MoveToNamespace", "SetMode", "SetMtu", "SetMac",
    "SetSourceMacs", "SetBridgePort", "UnsetBridgePort", "SetHairpin", "AddAddress", "DelAddress",
    "AddNeighbor", "DelNeighbor", "AddRoute", "DelRoute", "SetLinkUp", "SetLinkDown",
    "OP_TYPES", "CREATE_LINK_OPS", "op_from_dict", "owner_alias", "owner_prefix", "alias_owner",
    "temp_name", "ALIAS_PREFIX", "IFALIAS_MAX_BYTES",
]

ALIAS_PREFIX = "mvplan:"
#: IFALIASZ is 256 including the terminating NUL.
IFALIAS_MAX_BYTES = 255


class NotInvertible(MvplanError, ValueError):
    """The operation lacks the old value needed to undo it (e.g. ``SetMtu`` without ``old``)."""


# --------------------------------------------------------------------------- ownership
@functools.lru_cache(maxsize=64)
def owner_prefix(design_name: str) -> str:
    """``mvplan:<design-name>:`` - the alias prefix that marks links owned by one design.

    Names with control characters, or long enough that ``prefix + iface id`` could exceed
    IFALIASZ, are replaced by ``#`` and 12 hex digits of their SHA-256, so the mark is always
    storable and still unique per design.
    """
    part = design_name
    if any(ord(c) < 32 or ord(c) == 127 for c in part) or len(part.encode()) > 96 or part.startswith("#"):
        part = "#" + hashlib.sha256(design_name.encode()).hexdigest()[:12]
    return f"{ALIAS_PREFIX}{part}:"


def owner_alias(design_name: str, iface_id: str) -> str:
    """The ifalias that marks a link as created by mvplan for ``iface_id`` of a design."""
    alias = owner_prefix(design_name) + iface_id
    if len(alias.encode()) > IFALIAS_MAX_BYTES:  # pragma: no cover - ids are far shorter in practice
        alias = owner_prefix(design_name) + "#" + hashlib.sha256(iface_id.encode()).hexdigest()[:16]
    return alias


def alias_owner(alias: str | None, design_name: str) -> str | None:
    """The iface id an alias claims for ``design_name``, or None when the link is not ours."""
    prefix = owner_prefix(design_name)
    if alias and alias.startswith(prefix):
        return alias[len(prefix):]
    return None


def temp_name(iface_id: str) -> str:
    """A stable temporary name (<= 15 bytes) for a link created in the host namespace before
    it is moved into its own namespace, where its final name may already be taken."""
    return "mvt" + hashlib.sha256(iface_id.encode()).hexdigest()[:10]


# --------------------------------------------------------------------------- base
@dataclass(frozen=True, kw_only=True)
class Op:
    """Base of every operation. ``kind`` is the op's stable wire name (``create-macvlan``)."""

    kind: ClassVar[str] = "op"
    #: a smaller phase runs earlier when dependencies allow; see planner.core.compiler
    phase: ClassVar[int] = 50

    subject: str
    host: str
    ns: str = ""

    # -- identity ---------------------------------------------------------------------
    def _ident(self) -> str:
        return getattr(self, "name", "")

    def _value(self) -> str:
        return ""

    @cached_property
    def key(self) -> str:
        """Stable identity: ``kind|host|ns|link|value``. Two ops with one key do the same thing."""
        return "|".join((self.kind, self.host, self.ns, self._ident(), self._value()))

    @property
    def where(self) -> str:
        """``host1`` or ``host1/ns:web``: where the op runs."""
        return f"{self.host}/ns:{self.ns}" if self.ns else self.host

    # -- behaviour ----------------------------------------------------------------------
    def inverse(self) -> Op:  # pragma: no cover - every subclass overrides
        raise NotInvertible(f"{self.kind} has no inverse")

    def describe(self) -> str:  # pragma: no cover - every subclass overrides
        return f"{self.subject}: {self.kind}"

    # -- data ---------------------------------------------------------------------------
    def to_dict(self) -> dict:
        d: dict[str, Any] = {"op": self.kind}
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, Op):
                v = v.to_dict()
            elif isinstance(v, tuple):
                v = list(v)
            d[f.name] = v
        d["key"] = self.key
        return d


def op_from_dict(d: dict) -> Op:
    """Rebuild an op from :meth:`Op.to_dict` output (unknown keys such as ``key`` are ignored)."""
    cls = OP_TYPES[d["op"]]
    kw = {}
    for f in fields(cls):
        if f.name not in d:
            continue
        v = d[f.name]
        if isinstance(v, dict) and "op" in v:
            v = op_from_dict(v)
        elif isinstance(v, list):
            v = tuple(v)
        kw[f.name] = v
    return cls(**kw)


def _loc(op: Op, name: str) -> str:
    return f"{name} in namespace {op.ns}" if op.ns else name


# --------------------------------------------------------------------------- namespaces
@dataclass(frozen=True, kw_only=True)
class CreateNamespace(Op):
    """``ip netns add NAME``: a named network namespace on a host."""

    kind: ClassVar[str] = "create-namespace"
    phase: ClassVar[int] = 10
    name: str

    def inverse(self) -> DeleteNamespace:
        return DeleteNamespace(subject=self.subject, host=self.host, ns=self.ns, name=self.name)

    def describe(self) -> str:
        return f"{self.subject}: create network namespace {self.name}"


@dataclass(frozen=True, kw_only=True)
class DeleteNamespace(Op):
    """``ip netns del NAME``; only ever emitted for namespaces a plan created (teardown)."""

    kind: ClassVar[str] = "delete-namespace"
    phase: ClassVar[int] = 95
    name: str

    def inverse(self) -> CreateNamespace:
        return CreateNamespace(subject=self.subject, host=self.host, ns=self.ns, name=self.name)

    def describe(self) -> str:
        return f"{self.subject}: delete network namespace {self.name}"


# --------------------------------------------------------------------------- link creation
@dataclass(frozen=True, kw_only=True)
class CreateBridge(Op):
    """``ip link add NAME address MAC mtu MTU type bridge``."""

    kind: ClassVar[str] = "create-bridge"
    phase: ClassVar[int] = 20
    name: str
    mac: str | None = None
    mtu: int | None = None

    def inverse(self) -> DeleteLink:
        return DeleteLink(subject=self.subject, host=self.host, ns=self.ns, name=self.name, link_kind="bridge",
                          recreate=self)

    def describe(self) -> str:
        return f"{self.subject}: create Linux bridge {_loc(self, self.name)}"


@dataclass(frozen=True, kw_only=True)
class CreateVeth(Op):
    """``ip link add NAME ... type veth peer name PEER ... netns PEER_NS``.

    The peer end is created directly in its namespace (no name clash with the host namespace).
    ``peer_subject`` is the design id of the peer end (a veth-peer, or a veth parent).
    """

    kind: ClassVar[str] = "create-veth"
    phase: ClassVar[int] = 20
    name: str
    peer: str
    peer_ns: str = ""
    peer_subject: str = ""
    mac: str | None = None
    mtu: int | None = None
    peer_mac: str | None = None
    peer_mtu: int | None = None

    def inverse(self) -> DeleteLink:
        return DeleteLink(subject=self.subject, host=self.host, ns=self.ns, name=self.name, link_kind="veth",
                          recreate=self)

    def describe(self) -> str:
        where = f" in namespace {self.peer_ns}" if self.peer_ns else ""
        return f"{self.subject}: create veth pair {self.name} <-> {self.peer}{where}"


@dataclass(frozen=True, kw_only=True)
class CreateMacvlan(Op):
    """``ip link add link LINK name NAME [address MAC] [mtu MTU] type macvlan|macvtap mode MODE``.

    ``mode`` is always explicit (nobody's default decides). ``link`` is the *declared* parent: a
    macvlan created on a macvlan is re-parented by the kernel onto the lower device. ``mac`` and
    ``mtu`` are None when the kernel should choose (a passthru child inherits its parent's MAC; a
    child inherits its parent's MTU). ``netns`` places the new link straight into a namespace; the
    compiler only uses it to undo a deletion - forward plans create under a temporary name in the
    host namespace and :class:`MoveToNamespace` it.
    """

    kind: ClassVar[str] = "create-macvlan"
    phase: ClassVar[int] = 21
    link_kind: str = "macvlan"
    name: str
    link: str
    mode: str
    mac: str | None = None
    mtu: int | None = None
    nopromisc: bool = False
    bcqueuelen: int | None = None
    netns: str = ""

    def __post_init__(self):
        if self.link_kind not in ("macvlan", "macvtap"):
            raise ValueError(f"{self.subject}: link_kind must be macvlan or macvtap, not {self.link_kind!r}")
        if not self.mode:
            raise ValueError(f"{self.subject}: a macvlan mode is always explicit")

    def inverse(self) -> DeleteLink:
        return DeleteLink(subject=self.subject, host=self.host, ns=self.netns or self.ns, name=self.name,
                          link_kind=self.link_kind, recreate=self)

    def describe(self) -> str:
        into = f" straight into namespace {self.netns}" if self.netns else ""
        return f"{self.subject}: create {self.link_kind} {self.name} (mode {self.mode}) on {self.link}{into}"


@dataclass(frozen=True, kw_only=True)
class DeleteLink(Op):
    """``ip link del NAME``. Deleting one end of a veth deletes both.

    ``recreate`` is the create op that rebuilds the link where it stood, when known; it is the
    inverse. A delete is only ever planned for links whose alias marks them as this design's.
    """

    kind: ClassVar[str] = "delete-link"
    phase: ClassVar[int] = 5
    name: str
    link_kind: str = ""
    recreate: Op | None = None

    def inverse(self) -> Op:
        if self.recreate is None:
            raise NotInvertible(f"{self.subject}: deleting {self.name} cannot be undone: its settings are unknown")
        return self.recreate

    def describe(self) -> str:
        what = f"{self.link_kind} " if self.link_kind else ""
        return f"{self.subject}: delete {what}{_loc(self, self.name)}"


# --------------------------------------------------------------------------- link settings
@dataclass(frozen=True, kw_only=True)
class SetAlias(Op):
    """``ip link set dev NAME alias ALIAS``: the ownership mark. ``old`` is the previous alias."""

    kind: ClassVar[str] = "set-alias"
    phase: ClassVar[int] = 22
    name: str
    alias: str
    old: str = ""

    def _value(self) -> str:
        return self.alias

    def inverse(self) -> SetAlias:
        return replace(self, alias=self.old, old=self.alias)

    def describe(self) -> str:
        if not self.alias:
            return f"{self.subject}: clear the alias of {_loc(self, self.name)}"
        return f"{self.subject}: mark {_loc(self, self.name)} as mvplan's (alias {self.alias})"


@dataclass(frozen=True, kw_only=True)
class MoveToNamespace(Op):
    """``ip [-n NS] link set dev NAME netns TARGET name NEW_NAME``: move, then rename in the target.

    ``target_ns`` ``""`` is the host's own namespace (the inverse of a move).
    """

    kind: ClassVar[str] = "move-to-namespace"
    phase: ClassVar[int] = 30
    name: str
    target_ns: str
    new_name: str

    def _value(self) -> str:
        return f"{self.target_ns}/{self.new_name}"

    def inverse(self) -> MoveToNamespace:
        return replace(self, ns=self.target_ns, name=self.new_name, target_ns=self.ns, new_name=self.name)

    def describe(self) -> str:
        target = f"namespace {self.target_ns}" if self.target_ns else f"the namespace of host {self.host}"
        return f"{self.subject}: move {_loc(self, self.name)} into {target} as {self.new_name}"


@dataclass(frozen=True, kw_only=True)
class SetMode(Op):
    """``ip link set dev NAME type macvlan mode MODE`` (the kernel refuses changes to/from passthru)."""

    kind: ClassVar[str] = "set-mode"
    phase: ClassVar[int] = 40
    name: str
    link_kind: str = "macvlan"
    mode: str
    old: str | None = None

    def _value(self) -> str:
        return self.mode

    def inverse(self) -> SetMode:
        if self.old is None:
            raise NotInvertible(f"{self.subject}: previous mode unknown")
        return replace(self, mode=self.old, old=self.mode)

    def describe(self) -> str:
        was = f" (was {self.old})" if self.old else ""
        return f"{self.subject}: set {self.link_kind} mode {self.mode} on {_loc(self, self.name)}{was}"


@dataclass(frozen=True, kw_only=True)
class SetMtu(Op):
    """``ip link set dev NAME mtu MTU``."""

    kind: ClassVar[str] = "set-mtu"
    phase: ClassVar[int] = 40
    name: str
    mtu: int
    old: int | None = None

    def _value(self) -> str:
        return str(self.mtu)

    def inverse(self) -> SetMtu:
        if self.old is None:
            raise NotInvertible(f"{self.subject}: previous MTU unknown")
        return replace(self, mtu=self.old, old=self.mtu)

    def describe(self) -> str:
        was = f" (was {self.old})" if self.old is not None else ""
        return f"{self.subject}: set MTU {self.mtu} on {_loc(self, self.name)}{was}"


@dataclass(frozen=True, kw_only=True)
class SetMac(Op):
    """``ip link set dev NAME address MAC``."""

    kind: ClassVar[str] = "set-mac"
    phase: ClassVar[int] = 40
    name: str
    mac: str
    old: str | None = None

    def _value(self) -> str:
        return self.mac

    def inverse(self) -> SetMac:
        if self.old is None:
            raise NotInvertible(f"{self.subject}: previous MAC unknown")
        return replace(self, mac=self.old, old=self.mac)

    def describe(self) -> str:
        was = f" (was {self.old})" if self.old else ""
        return f"{self.subject}: set MAC {self.mac} on {_loc(self, self.name)}{was}"


@dataclass(frozen=True, kw_only=True)
class SetSourceMacs(Op):
    """``ip link set dev NAME type macvlan macaddr set MAC...``: the list a source-mode child hears."""

    kind: ClassVar[str] = "set-source-macs"
    phase: ClassVar[int] = 41
    name: str
    link_kind: str = "macvlan"
    macs: tuple[str, ...] = ()
    old: tuple[str, ...] = ()

    def _value(self) -> str:
        return ",".join(self.macs)

    def inverse(self) -> SetSourceMacs:
        return replace(self, macs=self.old, old=self.macs)

    def describe(self) -> str:
        if not self.macs:
            return f"{self.subject}: clear the source MAC list of {_loc(self, self.name)}"
        return f"{self.subject}: let {_loc(self, self.name)} hear source MACs {', '.join(self.macs)}"


@dataclass(frozen=True, kw_only=True)
class SetBridgePort(Op):
    """``ip link set dev NAME master BRIDGE``."""

    kind: ClassVar[str] = "set-bridge-port"
    phase: ClassVar[int] = 45
    name: str
    master: str

    def _value(self) -> str:
        return self.master

    def inverse(self) -> UnsetBridgePort:
        return UnsetBridgePort(subject=self.subject, host=self.host, ns=self.ns, name=self.name, master=self.master)

    def describe(self) -> str:
        return f"{self.subject}: make {_loc(self, self.name)} a port of bridge {self.master}"


@dataclass(frozen=True, kw_only=True)
class UnsetBridgePort(Op):
    """``ip link set dev NAME nomaster``."""

    kind: ClassVar[str] = "unset-bridge-port"
    phase: ClassVar[int] = 4
    name: str
    master: str

    def _value(self) -> str:
        return self.master

    def inverse(self) -> SetBridgePort:
        return SetBridgePort(subject=self.subject, host=self.host, ns=self.ns, name=self.name, master=self.master)

    def describe(self) -> str:
        return f"{self.subject}: take {_loc(self, self.name)} out of bridge {self.master}"


@dataclass(frozen=True, kw_only=True)
class SetHairpin(Op):
    """``bridge link set dev PORT hairpin on|off``: reflect frames back out the port they came in."""

    kind: ClassVar[str] = "set-hairpin"
    phase: ClassVar[int] = 46
    name: str
    bridge: str
    on: bool = True

    def _value(self) -> str:
        return "on" if self.on else "off"

    def inverse(self) -> SetHairpin:
        return replace(self, on=not self.on)

    def describe(self) -> str:
        return f"{self.subject}: hairpin {'on' if self.on else 'off'} for port {self.name} of bridge {self.bridge}"


# --------------------------------------------------------------------------- layer 3
@dataclass(frozen=True, kw_only=True)
class AddAddress(Op):
    """``ip address add ADDRESS/PREFIX dev NAME``. Order matters: the first address of a subnet
    in a namespace gets the connected route that wins ties."""

    kind: ClassVar[str] = "add-address"
    phase: ClassVar[int] = 60
    name: str
    address: str

    def _value(self) -> str:
        return self.address

    def inverse(self) -> DelAddress:
        return DelAddress(subject=self.subject, host=self.host, ns=self.ns, name=self.name, address=self.address)

    def describe(self) -> str:
        return f"{self.subject}: add address {self.address} to {_loc(self, self.name)}"


@dataclass(frozen=True, kw_only=True)
class DelAddress(Op):
    """``ip address del ADDRESS/PREFIX dev NAME``."""

    kind: ClassVar[str] = "del-address"
    phase: ClassVar[int] = 3
    name: str
    address: str

    def _value(self) -> str:
        return self.address

    def inverse(self) -> AddAddress:
        return AddAddress(subject=self.subject, host=self.host, ns=self.ns, name=self.name, address=self.address)

    def describe(self) -> str:
        return f"{self.subject}: remove address {self.address} from {_loc(self, self.name)}"


@dataclass(frozen=True, kw_only=True)
class AddNeighbor(Op):
    """``ip neigh add ADDRESS lladdr MAC dev NAME nud permanent``: a static ARP entry.

    Planned before the link goes up: a link going down flushes even permanent entries."""

    kind: ClassVar[str] = "add-neighbor"
    phase: ClassVar[int] = 65
    name: str
    address: str
    mac: str

    def _value(self) -> str:
        return f"{self.address}={self.mac}"

    def inverse(self) -> DelNeighbor:
        return DelNeighbor(subject=self.subject, host=self.host, ns=self.ns, name=self.name, address=self.address,
                           mac=self.mac)

    def describe(self) -> str:
        return f"{self.subject}: static neighbour {self.address} is at {self.mac} on {_loc(self, self.name)}"


@dataclass(frozen=True, kw_only=True)
class DelNeighbor(Op):
    """``ip neigh del ADDRESS dev NAME``."""

    kind: ClassVar[str] = "del-neighbor"
    phase: ClassVar[int] = 2
    name: str
    address: str
    mac: str = ""

    def _value(self) -> str:
        return f"{self.address}={self.mac}"

    def inverse(self) -> AddNeighbor:
        if not self.mac:
            raise NotInvertible(f"{self.subject}: the neighbour's MAC is unknown")
        return AddNeighbor(subject=self.subject, host=self.host, ns=self.ns, name=self.name, address=self.address,
                           mac=self.mac)

    def describe(self) -> str:
        return f"{self.subject}: remove static neighbour {self.address} from {_loc(self, self.name)}"


@dataclass(frozen=True, kw_only=True)
class AddRoute(Op):
    """``ip route add TO [via VIA] dev NAME``. Planned after the link is up (the kernel refuses a
    route through a down device)."""

    kind: ClassVar[str] = "add-route"
    phase: ClassVar[int] = 80
    name: str
    to: str
    via: str | None = None

    def _value(self) -> str:
        return f"{self.to}>{self.via or ''}"

    def inverse(self) -> DelRoute:
        return DelRoute(subject=self.subject, host=self.host, ns=self.ns, name=self.name, to=self.to, via=self.via)

    def describe(self) -> str:
        via = f" via {self.via}" if self.via else ""
        return f"{self.subject}: route {self.to}{via} out of {_loc(self, self.name)}"


@dataclass(frozen=True, kw_only=True)
class DelRoute(Op):
    """``ip route del TO [via VIA] dev NAME``."""

    kind: ClassVar[str] = "del-route"
    phase: ClassVar[int] = 1
    name: str
    to: str
    via: str | None = None

    def _value(self) -> str:
        return f"{self.to}>{self.via or ''}"

    def inverse(self) -> AddRoute:
        return AddRoute(subject=self.subject, host=self.host, ns=self.ns, name=self.name, to=self.to, via=self.via)

    def describe(self) -> str:
        via = f" via {self.via}" if self.via else ""
        return f"{self.subject}: remove route {self.to}{via} from {_loc(self, self.name)}"


# --------------------------------------------------------------------------- state
@dataclass(frozen=True, kw_only=True)
class SetLinkUp(Op):
    """``ip link set dev NAME up``."""

    kind: ClassVar[str] = "set-link-up"
    phase: ClassVar[int] = 70
    name: str

    def inverse(self) -> SetLinkDown:
        return SetLinkDown(subject=self.subject, host=self.host, ns=self.ns, name=self.name)

    def describe(self) -> str:
        return f"{self.subject}: bring {_loc(self, self.name)} up"


@dataclass(frozen=True, kw_only=True)
class SetLinkDown(Op):
    """``ip link set dev NAME down`` (also flushes the link's neighbour entries)."""

    kind: ClassVar[str] = "set-link-down"
    phase: ClassVar[int] = 70
    name: str

    def inverse(self) -> SetLinkUp:
        return SetLinkUp(subject=self.subject, host=self.host, ns=self.ns, name=self.name)

    def describe(self) -> str:
        return f"{self.subject}: take {_loc(self, self.name)} down"


OP_TYPES: dict[str, type[Op]] = {c.kind: c for c in (
    CreateNamespace, DeleteNamespace, CreateBridge, CreateVeth, CreateMacvlan, DeleteLink, SetAlias,
    MoveToNamespace, SetMode, SetMtu, SetMac, SetSourceMacs, SetBridgePort, UnsetBridgePort, SetHairpin,
    AddAddress, DelAddress, AddNeighbor, DelNeighbor, AddRoute, DelRoute, SetLinkUp, SetLinkDown)}

#: ops that bring a link into existence (their inverse is a DeleteLink)
CREATE_LINK_OPS = (CreateBridge, CreateVeth, CreateMacvlan)
