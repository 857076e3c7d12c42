"""``GET /api/designs/<id>/status``: what the design list shows of a design.

Description, whether it is one of the seeded examples, and the check's outcome for the latest
saved version: errors, warnings, info notes, ordered pairs blocked out of all. The list page asks
for each row after it is on screen (a 10,000-child design takes a second to analyse); answers
are kept per (design, version), so a version is analysed once per server run.
"""
from __future__ import annotations

import threading
from collections import OrderedDict

from flask import Blueprint, Flask, current_app, jsonify

from . import core
from .errors import ApiError
from .store import NotFound

__all__ = ["bp", "design_status", "init_app"]

bp = Blueprint("status", __name__, url_prefix="/api")

#: analysed versions kept in memory
KEEP = 256
#: how the seeding marks the first version of an example (planner.web._example_documents)
EXAMPLE_MESSAGE = "example "


class StatusCache:
    """(design id, version) -> status, the most recent :data:`KEEP` of them."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.items: OrderedDict[tuple[int, int], dict] = OrderedDict()

    def get(self, key: tuple[int, int]) -> dict | None:
        with self.lock:
            hit = self.items.get(key)
            if hit is not None:
                self.items.move_to_end(key)
            return hit

    def put(self, key: tuple[int, int], value: dict) -> None:
        with self.lock:
            self.items[key] = value
            while len(self.items) > KEEP:
                self.items.popitem(last=False)


def design_status(rec: dict, first_message: str) -> dict:
    """The status of one stored version (``rec`` as :meth:`Store.get` returns it)."""
    doc = rec["document"]
    out = {"id": rec["id"], "version": rec["version_info"]["version"], "name": rec["name"],
           "description": str(doc.get("description") or ""),
           "example": first_message.startswith(EXAMPLE_MESSAGE)}
    try:
        design = core.load(doc)
    except ApiError as exc:
        return {**out, "valid": False, "problems": len(exc.details.get("problems", []))}
    with core.gc_held():
        findings, prediction = core.analyse(design)
    counts = core.counts(findings)
    summary = prediction["summary"]
    return {**out, "valid": True, "errors": counts["error"], "warnings": counts["warning"], "info": counts["info"],
            "endpoints": summary["endpoints"], "pairs": summary["pairs"],
            "blocked_pairs": summary["pairs"] - summary["reachable_pairs"]}


@bp.get("/designs/<int:design_id>/status")
def status(design_id: int):
    store = current_app.extensions["mvplan_store"]
    try:
        rec = store.get(design_id)
        key = (design_id, rec["version_info"]["version"])
        cache: StatusCache = current_app.extensions["mvplan_status_cache"]
        hit = cache.get(key)
        if hit is None:
            first = store.get(design_id, 1)["version_info"]["message"] if key[1] > 1 else rec["version_info"]["message"]
            hit = design_status(rec, first)
            cache.put(key, hit)
    except NotFound as exc:
        raise ApiError(404, str(exc), "not_found") from None
    resp = jsonify(hit)
    resp.call_on_close(core.collect_young)
    return resp


def init_app(app: Flask) -> None:
    app.extensions["mvplan_status_cache"] = StatusCache()
