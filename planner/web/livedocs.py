"""The documents editors last sent for checking, so that the next edit sends only what changed.

The editor checks its design on every edit. A 10,000-child document is 1.4 MB of JSON: sent
whole, reading and parsing it cost the server some 200 ms per edit before it could even say "got
it". Instead, ``POST /api/check?ack=1`` answers its first line with a token for the document it
read; the next check may send ``{"base": token, "patch": [...]}`` - the changes since that
document - and the server rebuilds the document from its copy.

A patch is a list of operations, each on the value at ``path`` (a list of keys: strings into
objects, integers into arrays; ``[]`` is the document itself):

* ``{"path": P, "value": V}``: the value at P becomes V (a new key of an object, or an existing
  index of an array);
* ``{"path": P, "delete": true}``: the key P is removed from its object;
* ``{"path": P, "splice": [start, count, [items...]]}``: in the array at P, ``count`` items
  from ``start`` are replaced by ``items``.

Operations never change a document that was handed out: the objects and arrays on the way to each
change are copied, the rest is shared. Only the last :data:`KEEP` documents are kept (a token is
also dropped once a patch on it succeeds: an editor always patches its latest); an unknown token
is a 409 ``unknown_base``, and the editor sends its whole document again.
"""
from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from typing import Any

from .errors import ApiError

__all__ = ["LiveDocs", "apply_patch", "KEEP"]

#: documents kept (one per open editor; a 10,000-child design is some 15 MB as Python objects)
KEEP = 6
#: operations in one patch (an editor's edit makes a handful; more is a whole new document)
MAX_OPS = 1000


class LiveDocs:
    """Token -> the document an editor last sent, least recently used dropped first."""

    def __init__(self, keep: int = KEEP):
        self.keep = keep
        self._docs: OrderedDict[str, dict] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, doc: dict) -> str:
        token = secrets.token_urlsafe(12)
        with self._lock:
            self._docs[token] = doc
            while len(self._docs) > self.keep:
                self._docs.popitem(last=False)
        return token

    def take(self, token: Any) -> dict:
        """The document of ``token``, forgotten here (the patched one gets a new token)."""
        with self._lock:
            doc = self._docs.pop(token, None) if isinstance(token, str) else None
        if doc is None:
            raise ApiError(409, "the server no longer has the document this patch is based on: send the whole "
                                "document", "unknown_base")
        return doc

    def __len__(self) -> int:
        return len(self._docs)


def _bad(n: int, why: str) -> ApiError:
    return ApiError(400, f"patch operation {n}: {why}", "bad_patch", {"operation": n})


def _step(container: Any, key: Any, n: int) -> None:
    """Check that ``key`` addresses a value inside ``container``."""
    if isinstance(container, dict):
        if not isinstance(key, str):
            raise _bad(n, f"an object's key must be a string, not {key!r}")
        return
    if isinstance(container, list):
        if not isinstance(key, int) or isinstance(key, bool) or not 0 <= key < len(container):
            raise _bad(n, f"{key!r} is not an index of an array of {len(container)}")
        return
    raise _bad(n, f"the path goes through a {type(container).__name__}, not an object or array")


def _apply_one(root: dict, op: Any, n: int) -> None:
    """Apply one operation to ``root["doc"]``, copying the containers on the way."""
    if not isinstance(op, dict) or not isinstance(op.get("path"), list):
        raise _bad(n, "each operation is an object with a 'path' list")
    path = op["path"]
    holder: Any = root
    key: Any = "doc"
    for i, k in enumerate(path):
        node = holder[key]
        _step(node, k, n)
        adds_key = i == len(path) - 1 and "value" in op  # the one step that may name a new key
        if isinstance(node, dict) and k not in node and not adds_key:
            raise _bad(n, f"no key {k!r}")
        copy = dict(node) if isinstance(node, dict) else list(node)
        holder[key] = copy
        holder, key = copy, k
    if "value" in op:
        holder[key] = op["value"]
    elif op.get("delete") is True:
        if not isinstance(holder, dict) or not path:
            raise _bad(n, "'delete' removes a key of an object")
        del holder[key]
    elif "splice" in op:
        sp = op["splice"]
        target = holder[key]
        if not isinstance(target, list):
            raise _bad(n, "'splice' works on an array")
        if (not isinstance(sp, list) or len(sp) != 3 or not all(isinstance(x, int) and not isinstance(x, bool)
                                                                for x in sp[:2]) or not isinstance(sp[2], list)):
            raise _bad(n, "'splice' is [start, count, [items...]]")
        start, count, items = sp
        if not (0 <= start <= len(target) and 0 <= count <= len(target) - start):
            raise _bad(n, f"splice [{start}, {count}] is outside an array of {len(target)}")
        holder[key] = target[:start] + items + target[start + count:]
    else:
        raise _bad(n, "an operation has 'value', 'delete': true or 'splice'")


def apply_patch(doc: dict, ops: Any) -> Any:
    """The document ``doc`` with the operations ``ops`` applied (``doc`` itself is unchanged)."""
    if not isinstance(ops, list):
        raise ApiError(400, "'patch' must be a list of operations", "bad_patch")
    if len(ops) > MAX_OPS:
        raise ApiError(400, f"a patch has at most {MAX_OPS} operations: send the whole document", "bad_patch")
    root: dict = {"doc": doc}
    for n, op in enumerate(ops):
        _apply_one(root, op, n)
    return root["doc"]
