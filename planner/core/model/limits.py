"""What a design document may expand to, whatever it came from (a file, an upload, a JSON body).

A few hundred bytes of YAML with chained anchors expand to a hundred megabytes; a JSON text nested
thousands deep overflows the parser's stack; an integer of thousands of digits, a lone surrogate or
a NaN makes the store, the JSON encoder or the browser fail later, far from the input. Every input
path therefore goes through the same gates, *after* parsing and before anything else looks at the
document:

* while parsing YAML (:class:`LimitedComposer`): at most :data:`MAX_ALIASES` aliases, no alias to
  an anchor that is still open (``&a {x: *a}``), at most :data:`MAX_DEPTH` levels;
* while parsing JSON (:func:`parse_json_text`): no ``NaN``/``Infinity``, no integer past
  :data:`INT_MAX` (checked on the digits, before Python converts them), no stack overflow;
* on the parsed document (:func:`check_document`, iterative, counting every alias expansion): at
  most :data:`MAX_DEPTH` levels, :data:`MAX_NODES` values and :data:`MAX_EXPANDED_BYTES` of JSON
  (:data:`UPLOAD`, the server's limits; a local file may hold 20 times more, :data:`LOCAL`);
  only JSON types (a YAML ``!!timestamp`` or ``!!binary`` is not one), string keys, finite floats,
  integers within 64 bits, strings without lone surrogates and at most :data:`MAX_STRING_CHARS`
  long.

Sizes past a limit raise :class:`~planner.core.errors.InputLimitError` (HTTP 413); everything else
is a :class:`~planner.core.errors.DesignError` naming the place (HTTP 422).

>>> check_document({"name": "ok", "layout": {"positions": {"host1": {"x": 1.5, "y": -2}}}})
>>> check_document({"layout": {"x": float("nan")}})
Traceback (most recent call last):
...
planner.core.errors.DesignError: layout.x: nan is not a finite number; JSON has no NaN or Infinity
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.events import AliasEvent, MappingStartEvent, ScalarEvent, SequenceStartEvent

from ..errors import DesignError, InputLimitError, InputProblem

__all__ = [
    "MAX_DEPTH", "MAX_NODES", "MAX_ALIASES", "MAX_EXPANDED_BYTES", "MAX_STRING_CHARS", "INT_MAX",
    "LimitedComposer", "check_document", "parse_json_text", "limits", "Sizes", "UPLOAD", "LOCAL",
]

#: levels of nesting (a real design has under 10; the editor's layout adds two)
MAX_DEPTH = 32
#: values in the document with every alias expanded (a 2,000-child design has ~16,000)
MAX_NODES = 250_000
#: YAML aliases (``*name``) in one document
MAX_ALIASES = 256
#: the size of the document as JSON, aliases expanded (the request body limit is 2 MiB)
MAX_EXPANDED_BYTES = 8 * 1024 * 1024
#: characters in one string (the longest field, ``description``, allows 10,000)
MAX_STRING_CHARS = 65_536
#: integers must fit SQLite's and the browser's 64-bit range
INT_MAX = 2**63 - 1
_INT_DIGITS = len(str(INT_MAX))
#: values and JSON bytes a *local* document may expand to (see :data:`LOCAL`)
MAX_LOCAL_NODES = 5_000_000
MAX_LOCAL_EXPANDED_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True)
class Sizes:
    """How far a document may expand: values (aliases counted where they expand) and JSON bytes.

    Two callers differ in whom they trust. The server takes documents from anyone who reaches it
    (:data:`UPLOAD`); a file the user names on the command line, the applier's own journal or a
    Python caller's dict come from the machine's owner, and a real 100,000-child design (about
    1.2 million values, 15 MB of JSON) must load (:data:`LOCAL`). Depth, aliases, strings and
    integers have the same limits on both paths: no honest design comes near them."""

    nodes: int
    expanded_bytes: int


#: a request body, an upload, a stored row: the server's limits
UPLOAD = Sizes(MAX_NODES, MAX_EXPANDED_BYTES)
#: a local file, standard input of the CLI, a journal: room for four 100,000-child designs
LOCAL = Sizes(MAX_LOCAL_NODES, MAX_LOCAL_EXPANDED_BYTES)

_SURROGATE = re.compile("[\ud800-\udfff]")


def limits() -> dict[str, int]:
    """The limits, for documentation and the API (``GET /api/meta``)."""
    return {"depth": MAX_DEPTH, "nodes": MAX_NODES, "aliases": MAX_ALIASES, "expanded_bytes": MAX_EXPANDED_BYTES,
            "string_chars": MAX_STRING_CHARS, "int_max": INT_MAX}


def _too_large(what: str, limit: int, message: str) -> InputLimitError:
    return InputLimitError(InputProblem("", message), limit=what, maximum=limit)


# --------------------------------------------------------------------------- YAML
class LimitedComposer(Composer):
    """PyYAML's composer with the alias, recursion and depth gates (mixed into the loader).

    The composer is where aliases are resolved, so this is the one place that sees a recursive
    alias before it becomes a self-containing Python object, and the place to stop a deep
    document before PyYAML's own recursion reaches the interpreter's limit."""

    def compose_document(self):  # noqa: D401 - PyYAML API
        self._mv_aliases = 0
        self._mv_depth = 0
        self._mv_open: set[str] = set()
        return super().compose_document()

    def compose_node(self, parent, index):
        if self.check_event(AliasEvent):
            event = self.peek_event()
            self._mv_aliases += 1
            if self._mv_aliases > MAX_ALIASES:
                raise _too_large("aliases", MAX_ALIASES, f"more than {MAX_ALIASES} YAML aliases (*name); a design "
                                 "needs few or none: write the values out, or split the file")
            if event.anchor in self._mv_open:
                mark = event.start_mark
                raise DesignError(InputProblem("", f"recursive YAML alias *{event.anchor} at line {mark.line + 1} "
                                                   f"column {mark.column + 1}: it refers to the node that contains "
                                                   "it, which has no end"))
            return super().compose_node(parent, index)
        event = self.peek_event()
        anchor = event.anchor if isinstance(event, (ScalarEvent, SequenceStartEvent, MappingStartEvent)) else None
        self._mv_depth += 1
        if self._mv_depth > MAX_DEPTH:
            mark = event.start_mark
            raise DesignError(InputProblem("", f"nested deeper than {MAX_DEPTH} levels at line {mark.line + 1}; a "
                                               "design is a few levels deep"))
        if anchor is not None:
            self._mv_open.add(anchor)
        try:
            return super().compose_node(parent, index)
        finally:
            self._mv_depth -= 1
            if anchor is not None:
                self._mv_open.discard(anchor)


def yaml_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
    """YAML integers, refused past 64 bits on their digits (Python would spend quadratic time on
    a 100,000-digit one, and refuses 4,300 digits with an error of its own)."""
    text = str(loader.construct_scalar(node)).replace("_", "")
    digits = text.lstrip("+-")
    if len(digits) > _INT_DIGITS + 2:  # room for 0x / 0o prefixes; the value check below is exact
        raise DesignError(InputProblem("", f"integer at line {node.start_mark.line + 1} has {len(digits)} digits; "
                                           f"integers must lie within ±{INT_MAX}"))
    return _checked_int(loader.construct_yaml_int(node), f"the integer at line {node.start_mark.line + 1}")


def _checked_int(value: int, where: str) -> int:
    if not -INT_MAX - 1 <= value <= INT_MAX:
        raise DesignError(InputProblem("", f"{where} is outside ±{INT_MAX} (64 bits)"))
    return value


# --------------------------------------------------------------------------- JSON
def _json_int(text: str) -> int:
    if len(text.lstrip("-")) > _INT_DIGITS:
        raise DesignError(InputProblem("", f"a JSON integer has {len(text.lstrip('-'))} digits; integers must lie "
                                           f"within ±{INT_MAX}"))
    return _checked_int(int(text), f"the JSON integer {text}")


def _json_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise DesignError(InputProblem("", f"the JSON number {text[:40]} is too large for a double (it would be "
                                           "Infinity)"))
    return value


def _json_constant(name: str) -> Any:
    raise DesignError(InputProblem("", f"{name} is not JSON (JSON has no NaN or Infinity); write a number"))


def parse_json_text(text: str | bytes) -> Any:
    """``json.loads`` with the gates: raises :class:`DesignError` for NaN/Infinity, integers past
    64 bits and nesting that would overflow the stack, ``ValueError`` (a
    :class:`json.JSONDecodeError`) for bad syntax. :func:`check_document` still has to run on
    the result (the depth limit, sizes, surrogates)."""
    try:
        return json.loads(text, parse_int=_json_int, parse_float=_json_float, parse_constant=_json_constant)
    except RecursionError:
        raise DesignError(InputProblem("", f"nested deeper than {MAX_DEPTH} levels; a design is a few levels "
                                           "deep")) from None


# --------------------------------------------------------------------------- the parsed document
def _path(trail: tuple | None) -> str:
    parts = []
    while trail is not None:
        trail, key = trail
        parts.append(key)
    out = ""
    for key in reversed(parts):
        out += f"[{key}]" if isinstance(key, int) else (f".{key}" if out else str(key))
    return out


def _string_problem(s: str) -> str | None:
    if len(s) > MAX_STRING_CHARS:
        return f"a string of {len(s)} characters; at most {MAX_STRING_CHARS} are allowed"
    if not s.isascii() and _SURROGATE.search(s):
        return "contains a lone UTF-16 surrogate (\\ud800-\\udfff), which is not text; send valid Unicode"
    return None


def _scalar_size(value: Any, trail: tuple | None) -> int:
    """The JSON size of a number, boolean or null; raise for anything that is not a JSON value."""
    kind = type(value)
    if kind is int:
        if not -INT_MAX - 1 <= value <= INT_MAX:
            raise DesignError(InputProblem(_path(trail), f"integer outside ±{INT_MAX} (64 bits)"))
        return 8
    if kind is float:
        if not math.isfinite(value):
            raise DesignError(InputProblem(_path(trail), f"{value!r} is not a finite number; JSON has no NaN or "
                                                         "Infinity"))
        return 8
    if kind is bool or value is None:
        return 5
    raise DesignError(InputProblem(_path(trail), f"a {kind.__name__} is not a JSON value (strings, numbers, "
                                                 "true/false, null, lists and mappings only)"))


def check_document(doc: Any, sizes: Sizes = UPLOAD) -> None:
    """Raise unless ``doc`` is a plain JSON value within the limits (see the module docstring).

    Iterative (a stack of containers, not recursion) and counting a shared object once per place it
    appears, so an alias bomb is refused before more than ``sizes.nodes`` values are walked. A
    container's members are counted before they are looked at, and the place of a problem is put
    together only when there is one: this walk sees every value of a 100,000-child design."""
    max_nodes, max_bytes = sizes.nodes, sizes.expanded_bytes
    if type(doc) is str:
        problem = _string_problem(doc)
        if problem:
            raise DesignError(InputProblem("", problem))
        return
    if type(doc) is not dict and type(doc) is not list:
        _scalar_size(doc, None)
        return
    nodes, size = 1, 0
    stack: list[tuple[Any, int, tuple | None]] = [(doc, 0, None)]
    pop, push = stack.pop, stack.append
    while stack:
        value, depth, trail = pop()
        if depth >= MAX_DEPTH:
            raise DesignError(InputProblem(_path(trail), f"nested deeper than {MAX_DEPTH} levels (or it contains "
                                                         "itself); a design is a few levels deep"))
        nodes += len(value)
        if nodes > max_nodes:
            raise _too_large("nodes", max_nodes, f"the document has more than {max_nodes:,} values (YAML aliases "
                                                 "counted where they expand); split the design")
        members: Any
        if type(value) is dict:
            size += 2
            for key in value:
                if type(key) is not str:
                    raise DesignError(InputProblem(_path(trail), f"key {key!r} is not a string; JSON and design "
                                                                 "keys are strings"))
                size += len(key) + 4
                if len(key) > MAX_STRING_CHARS or not key.isascii():
                    problem = _string_problem(key)
                    if problem:
                        raise DesignError(InputProblem(_path(trail), f"a key {problem}"))
            members = value.items()
        else:
            size += 2 + len(value)
            members = enumerate(value)
        for key, item in members:
            kind = type(item)
            if kind is str:
                size += len(item) + 2
                if len(item) > MAX_STRING_CHARS or not item.isascii():
                    problem = _string_problem(item)
                    if problem:
                        raise DesignError(InputProblem(_path((trail, key)), problem))
            elif kind is dict or kind is list:
                push((item, depth + 1, (trail, key)))
            else:
                size += _scalar_size(item, (trail, key))
        if size > max_bytes:
            raise _too_large("expanded_bytes", max_bytes,
                             f"the document expands to more than {max_bytes // (1024 * 1024)} MiB (YAML "
                             "aliases counted where they expand); split the design")
