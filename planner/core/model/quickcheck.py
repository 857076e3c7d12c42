"""A fast accept for the design's many small records, compiled from the schema itself.

A big design is mostly children: ten thousand small mappings of a few strings each. The compiled
JSON Schema validator spends ~13 us on each; a check built here from the same schema's child
definition spends a fraction of that. It only ever *accepts*: a child it cannot vouch for (a key
whose schema is not a plain string, enum, boolean, bounded integer or list of those; a value of
another Python type) makes the caller validate the whole document the usual way, so the schema
stays the one source of truth and every refusal keeps the precise validator's words.

``tests/test_quickcheck.py`` checks on mutated children that whatever this accepts, the schema
accepts too.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

__all__ = ["Check", "record_check", "children_check", "strip_accepted_children"]

#: a check of one value or record: True only if the schema accepts it (False: "cannot tell")
Check = Callable[[Any], bool]
_NOTES = {"description", "title"}  # keys of a schema that constrain nothing


def _resolve(schema: dict, defs: dict) -> dict:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    if not ref.startswith("#/$defs/") or len(schema) != 1:
        return {"unsupported": True}
    return defs[ref.removeprefix("#/$defs/")]


def _string(schema: dict) -> Check | None:
    if set(schema) - _NOTES - {"type", "pattern", "minLength", "maxLength"}:
        return None
    pattern = re.compile(schema["pattern"]) if "pattern" in schema else None
    low, high = schema.get("minLength", 0), schema.get("maxLength", float("inf"))
    if pattern is None:
        return lambda v: type(v) is str and low <= len(v) <= high
    search = pattern.search
    if "minLength" in schema or "maxLength" in schema:
        return lambda v: type(v) is str and low <= len(v) <= high and search(v) is not None
    return lambda v: type(v) is str and search(v) is not None


def _integer(schema: dict) -> Check | None:
    if set(schema) - _NOTES - {"type", "minimum", "maximum"}:
        return None
    low, high = schema.get("minimum", float("-inf")), schema.get("maximum", float("inf"))
    return lambda v: type(v) is int and low <= v <= high  # a bool is not an int here; 3.0 goes the slow way


def _value(schema: dict, defs: dict, depth: int = 0) -> Check | None:
    """A check of one value that accepts only what ``schema`` accepts, or None if it cannot say."""
    schema = _resolve(schema, defs)
    kind = schema.get("type")
    if "enum" in schema and set(schema) - _NOTES == {"enum"}:
        words = schema["enum"]
        if not all(type(w) is str for w in words):
            return None
        allowed = frozenset(words)
        return lambda v: type(v) is str and v in allowed
    if kind == "string":
        return _string(schema)
    if kind == "boolean" and set(schema) - _NOTES == {"type"}:
        return lambda v: type(v) is bool
    if kind == "integer":
        return _integer(schema)
    if depth > 2:
        return None
    if kind == "array" and set(schema) - _NOTES == {"type", "items"}:
        item = _value(schema["items"], defs, depth + 1)
        if item is None:
            return None
        return lambda v: type(v) is list and all(map(item, v))
    if kind == "object":
        return _record(schema, defs, depth + 1)
    return None


def _record(record: dict, defs: dict, depth: int) -> Check | None:
    """An object with ``additionalProperties: false``: every key known and its value accepted."""
    if set(record) - _NOTES - {"type", "additionalProperties", "properties", "required"} or \
            record.get("additionalProperties") is not False:
        return None
    required = tuple(record.get("required", ()))
    known = {key: _value(sub, defs, depth) for key, sub in record.get("properties", {}).items()}
    checks = {key: check for key, check in known.items() if check is not None}  # the others: slow way

    def accepts(value: Any) -> bool:
        if type(value) is not dict:
            return False
        for key, item in value.items():
            check = checks.get(key)
            if check is None or not check(item):
                return False
        return all(key in value for key in required)

    return accepts


def record_check(name: str, schema: dict) -> Check | None:
    """A check of one record of ``$defs[name]`` (an object with ``additionalProperties: false``):
    True only if the schema accepts it; False means "cannot tell", not "invalid"."""
    record = schema["$defs"][name]
    if record.get("type") != "object":
        return None
    return _record(record, schema["$defs"], 0)


def _is_list_of(schema: dict, name: str) -> bool:
    """``schema`` is exactly "an array of ``$defs[name]``" (nothing else constrains the list)."""
    return (schema.get("type") == "array" and set(schema) - _NOTES == {"type", "items"}
            and schema["items"] == {"$ref": f"#/$defs/{name}"})


def children_check(schema: dict) -> Check | None:
    """The child check, if every list of children in ``schema`` is a plain array of children
    (so a document whose children all pass validates exactly as it would with empty lists)."""
    host = schema["$defs"]["host"]["properties"]
    if not (_is_list_of(host.get("children", {}), "child") and _is_list_of(schema["properties"].get(
            "children", {}), "child")):
        return None
    return record_check("child", schema)


def strip_accepted_children(doc: dict, accepts: Check) -> dict:
    """``doc`` with every list of children that ``accepts`` vouches for emptied (a shallow copy),
    or ``doc`` itself when some child needs the full validator (or nothing would be stripped)."""
    out = dict(doc)
    hosts = doc.get("hosts")
    if type(hosts) is list:
        stripped_hosts = []
        for host in hosts:
            children = host.get("children") if type(host) is dict else None
            if type(children) is list and children:
                if not all(map(accepts, children)):
                    return doc
                host = {**host, "children": []}
            stripped_hosts.append(host)
        out["hosts"] = stripped_hosts
    children = doc.get("children")
    if type(children) is list and children:
        if not all(map(accepts, children)):
            return doc
        out["children"] = []
    return out
