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
:func:`~planner.core.ownership.owner_alias` ``mvplan:<design-name>:<iface-id>``. The compiler only ever
deletes links whose alias says they belong to the design being compiled.

This module is pure: no subprocess, no netlink.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import MISSING, dataclass, fields
from typing import Any, ClassVar

from ..errors import MvplanError

__all__ = ["Op", "NotInvertible", "loc"]

class NotInvertible(MvplanError, ValueError):
    """The operation lacks the old value needed to undo it (e.g. ``SetMtu`` without ``old``)."""


# --------------------------------------------------------------------------- base
class _Remembered:
    """``functools.cached_property`` without its lock (3.11 takes one per first access, a third of
    the cost of 70,000 op keys): computed once, then found in the instance's ``__dict__``."""

    def __init__(self, fn: Callable[[Any], str]):
        self.fn = fn
        self.name = fn.__name__
        self.__doc__ = fn.__doc__

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        value = obj.__dict__[self.name] = self.fn(obj)
        return value


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
    def _value(self) -> str:
        return ""

    @_Remembered
    def key(self) -> str:
        """Stable identity: ``kind|host|ns|link|value``. Two ops with one key do the same thing."""
        return "|".join((self.kind, self.host, self.ns, getattr(self, "name", ""), self._value()))

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
        return self._plain(compact=False)

    def to_record(self) -> dict:
        """The op as compact plain data for the applier's journal: :meth:`to_dict` without the key
        and without fields at their default (:func:`op_from_dict` restores both); a 5,000-child
        plan's journal header is written before the first op runs, so its size is on the clock."""
        return self._plain(compact=True)

    def _plain(self, compact: bool) -> dict:
        d: dict[str, Any] = {"op": self.kind}
        for name, default in _field_defaults(type(self)):
            v = getattr(self, name)
            if compact and (v is default or v == default):
                continue
            if isinstance(v, Op):
                v = v._plain(compact)
            elif isinstance(v, tuple):
                v = list(v)
            d[name] = v
        if not compact:
            d["key"] = self.key
        return d


_FIELD_DEFAULTS: dict[type, tuple[tuple[str, Any], ...]] = {}
#: stands for "no default": equal to nothing, so a field without a default is always written
_REQUIRED = type("_Required", (), {"__eq__": lambda self, other: False, "__hash__": object.__hash__})()


def _field_defaults(cls: type) -> tuple[tuple[str, Any], ...]:
    """(field name, default) of an op type, in order, remembered: :func:`dataclasses.fields`
    builds them anew on every call, and the applier's journal asks once per op of the plan. A
    field without a default pairs with a value that equals nothing, so it is always written."""
    pairs = _FIELD_DEFAULTS.get(cls)
    if pairs is None:
        pairs = _FIELD_DEFAULTS[cls] = tuple(
            (f.name, _REQUIRED if f.default is MISSING else f.default) for f in fields(cls))
    return pairs


def loc(op: Op, name: str) -> str:
    """Where a link is, in words (for ``describe()``)."""
    return f"{name} in namespace {op.ns}" if op.ns else name
