"""Ops of layer 3 and link state: addresses, permanent neighbours, routes, up and down, a namespace's
forwarding."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from .base import NotInvertible, Op, loc


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
        return f"{self.subject}: add address {self.address} to {loc(self, self.name)}"


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
        return f"{self.subject}: remove address {self.address} from {loc(self, self.name)}"


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
        return f"{self.subject}: static neighbour {self.address} is at {self.mac} on {loc(self, self.name)}"


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
        return f"{self.subject}: remove static neighbour {self.address} from {loc(self, self.name)}"


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
        return f"{self.subject}: route {self.to}{via} out of {loc(self, self.name)}"


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
        return f"{self.subject}: remove route {self.to}{via} from {loc(self, self.name)}"


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
        return f"{self.subject}: bring {loc(self, self.name)} up"


@dataclass(frozen=True, kw_only=True)
class SetLinkDown(Op):
    """``ip link set dev NAME down`` (also flushes the link's neighbour entries)."""

    kind: ClassVar[str] = "set-link-down"
    phase: ClassVar[int] = 70
    name: str

    def inverse(self) -> SetLinkUp:
        return SetLinkUp(subject=self.subject, host=self.host, ns=self.ns, name=self.name)

    def describe(self) -> str:
        return f"{self.subject}: take {loc(self, self.name)} down"


@dataclass(frozen=True, kw_only=True)
class SetForwarding(Op):
    """``sysctl -w net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1`` in the op's namespace: it
    routes packets between its subnets (both families; the setting is the namespace's). ``old`` is the
    value before, so the inverse restores it."""

    kind: ClassVar[str] = "set-forwarding"
    phase: ClassVar[int] = 75
    on: bool
    old: bool | None = None

    def _value(self) -> str:
        return "on" if self.on else "off"

    def inverse(self) -> SetForwarding:
        if self.old is None:
            raise NotInvertible(f"{self.kind} without the old value cannot be undone")
        return SetForwarding(subject=self.subject, host=self.host, ns=self.ns, on=self.old, old=self.on)

    def describe(self) -> str:
        where = f"namespace {self.ns}" if self.ns else "the host namespace"
        return f"{self.subject}: turn forwarding {'on' if self.on else 'off'} in {where} (IPv4 and IPv6)"
