"""Ops on namespaces and links: create, delete, move, and the link settings (alias, mode, MTU, MAC,
source list, bridge port, hairpin)."""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import ClassVar

from .base import NotInvertible, Op, loc


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
        return f"{self.subject}: create Linux bridge {loc(self, self.name)}"


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
        return f"{self.subject}: delete {what}{loc(self, self.name)}"


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
            return f"{self.subject}: clear the alias of {loc(self, self.name)}"
        return f"{self.subject}: mark {loc(self, self.name)} as mvplan's (alias {self.alias})"


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
        return f"{self.subject}: move {loc(self, self.name)} into {target} as {self.new_name}"


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
        return f"{self.subject}: set {self.link_kind} mode {self.mode} on {loc(self, self.name)}{was}"


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
        return f"{self.subject}: set MTU {self.mtu} on {loc(self, self.name)}{was}"


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
        return f"{self.subject}: set MAC {self.mac} on {loc(self, self.name)}{was}"


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
            return f"{self.subject}: clear the source MAC list of {loc(self, self.name)}"
        return f"{self.subject}: let {loc(self, self.name)} hear source MACs {', '.join(self.macs)}"


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
        return f"{self.subject}: make {loc(self, self.name)} a port of bridge {self.master}"


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
        return f"{self.subject}: take {loc(self, self.name)} out of bridge {self.master}"


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
