"""A plan: the ordered operations for one design, and its inverse (the teardown)."""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from functools import cached_property
from itertools import groupby
from operator import attrgetter

from ..ops import (
    CREATE_LINK_OPS,
    CreateMacvlan,
    CreateVeth,
    DeleteLink,
    MoveToNamespace,
    NotInvertible,
    Op,
    SetLinkUp,
)

__all__ = ["Plan"]


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
        return replace(self, ops=self._ops_by_host.get(host, ()))

    @cached_property
    def _ops_by_host(self) -> dict[str, tuple[Op, ...]]:
        """Each host's ops in plan order, grouped once: an exporter asks for every host in turn. A
        plan holds each host's ops in one run: one group per run, not one look-up per op."""
        groups: dict[str, list[Op]] = {}
        for host, run in groupby(self.ops, key=attrgetter("host")):
            groups.setdefault(host, []).extend(run)
        return {host: tuple(ops) for host, ops in groups.items()}

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
                loc: tuple[str, str, str | None] = (op.host, getattr(op, "netns", "") or op.ns, op.name)
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
