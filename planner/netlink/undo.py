"""Undoing completed ops: the inverse ops, newest first, and the repairs of what the kernel flushed."""
from __future__ import annotations

import errno
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import TypedDict

from planner.core.livestate import LiveHost, LiveLink
from planner.core.ops import (
    CREATE_LINK_OPS,
    AddAddress,
    AddNeighbor,
    AddRoute,
    CreateMacvlan,
    CreateNamespace,
    CreateVeth,
    DelAddress,
    DeleteLink,
    DeleteNamespace,
    DelNeighbor,
    DelRoute,
    MoveToNamespace,
    NotInvertible,
    Op,
    SetAlias,
    SetBridgePort,
    SetForwarding,
    SetHairpin,
    SetLinkUp,
    SetMac,
    SetMtu,
    SetSourceMacs,
)

from .execute import Executor, StepError

__all__ = ["undo_ops", "repair_ops", "run_undo", "ABSENT", "PRESENT"]

ABSENT = {errno.ENOENT, errno.ESRCH, errno.ENODEV, errno.EADDRNOTAVAIL}
PRESENT = {errno.EEXIST}


class _Where(TypedDict):
    """The fields every op on one link shares (typed, so ``**base`` cannot fill an op's value)."""

    subject: str
    host: str
    ns: str
    name: str


def _live_of(before: LiveHost | None, ns: str, name: str) -> LiveLink | None:
    return before.link(ns, name) if before is not None else None


def _settle(op: Op, ns: str, name: str, before: LiveHost | None, extra_mac_mtu: bool) -> list[Op]:
    """Ops that give a rebuilt link (``ns``/``name``) back its settings from ``before``."""
    lns = before.ns(ns) if before is not None else None
    lk = lns.link(name) if lns is not None else None
    if lns is None or lk is None:
        return []
    base = _Where(subject=op.subject, host=op.host, ns=ns, name=name)
    out: list[Op] = []
    if lk.alias:
        out.append(SetAlias(**base, alias=lk.alias))
    if extra_mac_mtu:
        if lk.mtu:
            out.append(SetMtu(**base, mtu=lk.mtu))
        if lk.mac:
            out.append(SetMac(**base, mac=lk.mac))
    if lk.source_macs:
        out.append(SetSourceMacs(**base, link_kind=lk.kind or "macvlan", macs=tuple(lk.source_macs)))
    if lk.master:
        out.append(SetBridgePort(**base, master=lk.master))
        if lk.hairpin:
            out.append(SetHairpin(**base, bridge=lk.master, on=True))
    for a in lns.addresses_of(name):
        out.append(AddAddress(**base, address=a))
    for n in lns.neighbors_of(name):
        out.append(AddNeighbor(**base, address=n.address, mac=n.mac))
    if lk.state == "up":
        out.append(SetLinkUp(**base))
        for r in lns.routes_of(name):
            out.append(AddRoute(**base, to=r.to, via=r.via))
    return out


def _restore_deleted(op: DeleteLink, before: LiveHost | None, deleted: set) -> list[Op]:
    """Rebuild a link an apply deleted, with what it had (and what went with it)."""
    if op.recreate is None:
        raise NotInvertible(f"{op.subject}: deleting {op.name} cannot be undone: its settings are unknown")
    out: list[Op] = [op.recreate]
    out += _settle(op, op.ns, op.name, before, extra_mac_mtu=False)
    lk = _live_of(before, op.ns, op.name)
    if lk is not None and lk.kind == "veth" and lk.link:
        out += _settle(op, lk.link_ns or "", lk.link, before, extra_mac_mtu=True)
    # the link was found in before's namespace op.ns, so that namespace is there
    lns = before.ns(op.ns) if lk is not None and lk.kind == "bridge" and before is not None else None
    if lns is not None:
        for port in lns.links:
            if port.master == op.name and (op.ns, port.name) not in deleted:
                base = _Where(subject=op.subject, host=op.host, ns=op.ns, name=port.name)
                out.append(SetBridgePort(**base, master=op.name))
                if port.hairpin:
                    out.append(SetHairpin(**base, bridge=op.name, on=True))
    return out


def _mtu_from_snapshot(op: SetMtu, before: LiveHost | None) -> SetMtu:
    """A fresh plan does not know a NIC's MTU; the snapshot taken before apply does."""
    lk = _live_of(before, op.ns, op.name)
    return replace(op, old=lk.mtu) if lk is not None and lk.mtu else op


def undo_ops(done: Sequence[Op], before: LiveHost | None = None) -> tuple[list[Op], list[str]]:
    """The ops that undo ``done`` (completed ops, in order), newest first, and notes on what
    cannot be undone. ``before`` is the host as it was before (for rebuilding deleted links and
    flushed entries)."""
    created: dict[tuple, int] = {}      # current location -> position of its create op
    final: dict[int, tuple] = {}        # create position -> final location
    on_created: set[int] = set()
    deleted: set[tuple] = set()
    created_ns: set[str] = set()       # deleting a namespace takes everything done inside it
    for pos, op in enumerate(done):
        if isinstance(op, CreateNamespace):
            created_ns.add(op.name)
            continue
        if op.ns in created_ns and not isinstance(op, CREATE_LINK_OPS):
            on_created.add(pos)
            continue
        if isinstance(op, CREATE_LINK_OPS):
            loc = ((op.netns or op.ns) if isinstance(op, CreateMacvlan) else op.ns, op.name)
            created[loc] = pos
            final[pos] = loc
            if isinstance(op, CreateVeth):
                created[(op.peer_ns, op.peer)] = pos
            continue
        if isinstance(op, DeleteLink):
            deleted.add((op.ns, op.name))
        at = (op.ns, getattr(op, "name", None))  # an op without a link name matches no create
        if at in created:
            on_created.add(pos)
            if isinstance(op, MoveToNamespace):
                c = created.pop(at)
                new = (op.target_ns, op.new_name)
                created[new] = c
                if final.get(c) == at:
                    final[c] = new
            elif isinstance(op, DeleteLink):
                created.pop(at)
    out: list[Op] = []
    late: list[Op] = []
    notes: list[str] = []
    for pos in range(len(done) - 1, -1, -1):
        op = done[pos]
        try:
            if isinstance(op, CREATE_LINK_OPS):
                ns, name = final[pos]
                kind = getattr(op, "link_kind", None) or ("veth" if isinstance(op, CreateVeth) else "bridge")
                out.append(DeleteLink(subject=op.subject, host=op.host, ns=ns, name=name, link_kind=kind))
            elif pos in on_created:
                continue
            elif isinstance(op, DeleteLink):
                out += _restore_deleted(op, before, deleted)
            elif isinstance(op, SetMtu) and op.old is None:
                out.append(_mtu_from_snapshot(op, before).inverse())
            elif isinstance(op, SetForwarding) and op.old is None:
                lns = before.ns(op.ns) if before is not None else None
                out.append(replace(op, old=lns.forwarding if lns is not None else None).inverse())
            elif isinstance(op, SetLinkUp):
                # a device that was down before goes down again last: taken down while children
                # still hold unicast filters on it, it would stay promiscuous after they are gone
                late.append(op.inverse())
            else:
                out.append(op.inverse())
        except NotInvertible as exc:
            notes.append(f"not undone: {op.describe()} ({exc})")
    return out + late, notes


def repair_ops(before: LiveHost, now: LiveHost) -> list[Op]:
    """Addresses, permanent neighbours and routes that ``before`` had and ``now`` lacks, on links
    both have. The kernel drops some as side effects that no op inverse brings back: taking a
    link down flushes its neighbours and routes, removing its last address flushes them too."""
    out: list[Op] = []
    for bns in before.namespaces:
        nns = now.ns(bns.name)
        if nns is None:
            continue
        for lk in bns.links:
            cur = nns.link(lk.name)
            if cur is None:
                continue
            base = dict(subject=f"{before.name}/{lk.name}", host=before.name, ns=bns.name, name=lk.name)
            have = set(nns.addresses_of(lk.name))
            out += [AddAddress(**base, address=a) for a in bns.addresses_of(lk.name) if a not in have]
            have_n = {(n.address, n.mac) for n in nns.neighbors_of(lk.name)}
            out += [AddNeighbor(**base, address=n.address, mac=n.mac) for n in bns.neighbors_of(lk.name)
                    if (n.address, n.mac) not in have_n]
            if cur.state == "up":
                have_r = {(r.to, r.via) for r in nns.routes_of(lk.name)}
                out += [AddRoute(**base, to=r.to, via=r.via) for r in bns.routes_of(lk.name)
                        if (r.to, r.via) not in have_r]
    return out


def _tolerated(op: Op, code: int) -> bool:
    """Undo steps are idempotent: 'already gone' for a removal, 'already there' for an addition."""
    if isinstance(op, (DeleteLink, DelAddress, DelNeighbor, DelRoute, DeleteNamespace)):
        return code in ABSENT
    if isinstance(op, (AddAddress, AddNeighbor, AddRoute, CreateNamespace)):
        return code in PRESENT
    return False


def run_undo(ex: Executor, ops: Iterable[Op], lenient: bool = False) -> list[str]:
    errors = []
    for op in ops:
        try:
            ex.run(op)
        except StepError as exc:
            if _tolerated(op, exc.code) or (lenient and exc.code in ABSENT | PRESENT):
                continue
            errors.append(str(exc))
    return errors
