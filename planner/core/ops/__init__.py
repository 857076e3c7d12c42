"""Operations: the one vocabulary shared by the applier, the exporters and the web plan view
(see :mod:`planner.core.ops.base` for what every op has). Rooms: ``base`` (the Op contract),
``links`` (namespaces, links and their settings), ``layer3`` (addresses, neighbours, routes, up and
down); link ownership marks live in :mod:`planner.core.ownership`.

This package is pure: no subprocess, no netlink.
"""
from __future__ import annotations

from dataclasses import fields

from ..ownership import ALIAS_PREFIX, IFALIAS_MAX_BYTES, alias_owner, owner_alias, owner_prefix, temp_name
from .base import NotInvertible, Op
from .layer3 import (
    AddAddress,
    AddNeighbor,
    AddRoute,
    DelAddress,
    DelNeighbor,
    DelRoute,
    SetForwarding,
    SetLinkDown,
    SetLinkUp,
)
from .links import (
    CreateBridge,
    CreateMacvlan,
    CreateNamespace,
    CreateVeth,
    DeleteLink,
    DeleteNamespace,
    MoveToNamespace,
    SetAlias,
    SetBridgePort,
    SetHairpin,
    SetMac,
    SetMode,
    SetMtu,
    SetSourceMacs,
    UnsetBridgePort,
)

__all__ = [
    "Op", "NotInvertible", "CreateNamespace", "DeleteNamespace", "CreateBridge", "CreateVeth",
    "CreateMacvlan", "DeleteLink", "SetAlias", "MoveToNamespace", "SetMode", "SetMtu", "SetMac",
    "SetSourceMacs", "SetBridgePort", "UnsetBridgePort", "SetHairpin", "AddAddress", "DelAddress",
    "AddNeighbor", "DelNeighbor", "AddRoute", "DelRoute", "SetLinkUp", "SetLinkDown", "SetForwarding",
    "OP_TYPES", "CREATE_LINK_OPS", "op_from_dict", "owner_alias", "owner_prefix", "alias_owner",
    "temp_name", "ALIAS_PREFIX", "IFALIAS_MAX_BYTES",
]

OP_TYPES: dict[str, type[Op]] = {c.kind: c for c in (
    CreateNamespace, DeleteNamespace, CreateBridge, CreateVeth, CreateMacvlan, DeleteLink, SetAlias,
    MoveToNamespace, SetMode, SetMtu, SetMac, SetSourceMacs, SetBridgePort, UnsetBridgePort, SetHairpin,
    AddAddress, DelAddress, AddNeighbor, DelNeighbor, AddRoute, DelRoute, SetLinkUp, SetLinkDown, SetForwarding)}

#: ops that bring a link into existence (their inverse is a DeleteLink)
CREATE_LINK_OPS = (CreateBridge, CreateVeth, CreateMacvlan)


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
