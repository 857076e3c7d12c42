"""The shape of what an importer reads, checked before it reads it: a value of the wrong type
(a list where Docker writes a string, a string where Kubernetes writes an object) is an
:class:`~planner.importers.ImportFailure` naming the field, never a traceback.

A shape is a type (``str``, ``int``, ``bool``, ``dict``, ``list``; ``None`` is accepted everywhere,
the formats write ``null`` for "unset"), a dict of known fields (others are not looked at), a dict
``{str: SHAPE}`` (any keys, each value of SHAPE), a one-element list ``[SHAPE]``, or a tuple of
alternatives.
"""
from __future__ import annotations

from typing import Any

from planner.core.errors import InputProblem

from ._result import ImportFailure

__all__ = ["problems", "require_shape"]

_NAMES = {str: "a string", int: "a number", bool: "true or false", dict: "an object (mapping)",
          list: "a list", float: "a number"}


def _what(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _expected(shape: Any) -> str:
    if isinstance(shape, tuple):
        return " or ".join(_expected(alt) for alt in shape)
    if isinstance(shape, type):
        return _NAMES.get(shape, shape.__name__)
    if isinstance(shape, list):
        return "a list"
    return "an object (mapping)"


def _fits(value: Any, shape: Any) -> bool:
    if isinstance(shape, type):
        if shape is int:
            return isinstance(value, int) and not isinstance(value, bool)
        return isinstance(value, shape)
    return isinstance(value, list if isinstance(shape, list) else dict)


def problems(value: Any, shape: Any, where: str) -> list[InputProblem]:
    """Every place in ``value`` that does not have ``shape`` (``where`` names ``value``)."""
    if value is None:
        return []
    if isinstance(shape, tuple):
        for alt in shape:
            if _fits(value, alt):
                return problems(value, alt, where)
        return [InputProblem(where, f"must be {_expected(shape)}, not {_what(value)}")]
    if not _fits(value, shape):
        return [InputProblem(where, f"must be {_expected(shape)}, not {_what(value)}")]
    out: list[InputProblem] = []
    if isinstance(shape, list):
        for k, item in enumerate(value):
            out += problems(item, shape[0], f"{where}[{k}]")
    elif isinstance(shape, dict) and set(shape) == {str}:
        for key, item in value.items():
            out += problems(item, shape[str], f"{where}.{key}")
    elif isinstance(shape, dict):
        for key, sub in shape.items():
            if key in value:
                out += problems(value[key], sub, f"{where}.{key}" if where else str(key))
    return out


def require_shape(value: Any, shape: Any, source: str, where: str) -> None:
    """Raise :class:`ImportFailure` listing every field of ``value`` (in file ``source``, at
    ``where``) that does not have ``shape``."""
    found = problems(value, shape, where)
    if found:
        raise ImportFailure([InputProblem(f"{source}: {p.path}", p.message) for p in found])
