"""``@record``: the model's immutable records, checked as frozen dataclasses, built at full speed.

A frozen dataclass stores every field through ``object.__setattr__`` (its own ``__setattr__``
refuses): the 28 fields of an :class:`~planner.core.model.Iface` cost ~9 us that way against
~1.5 us for plain attribute stores, and loading a 100,000-child design builds 200,000 records.
So at run time a record is a plain dataclass with the hash a frozen one has (``unsafe_hash``:
from the fields, so records still serve as dict keys and set members), while the type checker
sees it frozen (``dataclass_transform(frozen_default=True)``): assigning to a field is a type
error, and :func:`dataclasses.replace` is the way to derive a changed copy, as before.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar, dataclass_transform, overload

__all__ = ["record"]

T = TypeVar("T")


@overload
def record(cls: type[T], /) -> type[T]: ...
@overload
def record(*, slots: bool = False) -> Callable[[type[T]], type[T]]: ...


@dataclass_transform(frozen_default=True, field_specifiers=(field,))
def record(cls: Any = None, /, *, slots: bool = False) -> Any:
    """``@record`` or ``@record(slots=True)`` on a class: see the module docstring."""

    def make(c: Any) -> Any:
        return dataclass(slots=slots, unsafe_hash=True)(c)

    return make if cls is None else make(cls)
