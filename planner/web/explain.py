"""``POST /api/explain``: one ordered pair, worded for that pair, with every hop both ways.

The check answer words each class verdict for one example pair; the editor asks here for the
pair the user points at (a matrix cell, a blocked pair), so the tooltip of A -> B explains
A -> B. Same core call as ``mvplan explain`` (with ``--hairpin``/``--down`` as ``hairpin``/``down``).
"""
from __future__ import annotations

from flask import Blueprint, jsonify, request

from planner.core.errors import DesignError
from planner.core.reachability import REASONS, Reason, apply_what_if, explain

from . import core
from .errors import ApiError, invalid_design

__all__ = ["bp", "explain_pair"]

bp = Blueprint("explain", __name__, url_prefix="/api")


def _what_if(data: dict) -> tuple[dict, list[str]]:
    hairpin = data.get("hairpin") or {}
    down = data.get("down") or []
    if not isinstance(hairpin, dict) or not all(isinstance(k, str) and isinstance(v, bool) for k, v in hairpin.items()):
        raise ApiError(400, "'hairpin' must map port nodes (switch:SW/PORT or bridge:HOST/BR/PORT) to true/false",
                       "bad_request")
    if not isinstance(down, list) or not all(isinstance(x, str) for x in down):
        raise ApiError(400, "'down' must be a list of parent interface ids such as host1/eth0", "bad_request")
    return hairpin, down


def explain_pair(doc: dict, source: str, target: str, hairpin: dict, down: list[str], family: int = 4) -> dict:
    """The verdict of ``source -> target`` (endpoint ids) over ``family`` as JSON, with the reason's meaning."""
    core.load(doc)
    if hairpin or down:
        try:
            doc = apply_what_if(doc, hairpin=hairpin, down=down)
        except DesignError as exc:
            raise invalid_design(exc) from None
        except (KeyError, ValueError) as exc:
            raise ApiError(400, f"cannot apply the what-if: {exc}", "bad_request") from None
    design = core.load(doc)
    try:
        verdict = explain(design, source, target, family=family)
    except KeyError as exc:
        raise ApiError(400, str(exc.args[0]), "bad_endpoint") from None
    out = verdict.to_dict()
    return {"from": source, "to": target, **out, "meaning": REASONS.get(Reason(out["reason"]), "")}


@bp.post("/explain")
def explain_route():
    """``{"document", "from", "to", "hairpin"?, "down"?, "family"?}`` -> the verdict (``hops``, ``reply_hops``,
    ``fix``); ``family`` 6 explains the IPv6 pair."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ApiError(400, "the request body must be a JSON object", "bad_request")
    doc = data.get("document")
    if not isinstance(doc, dict):
        raise ApiError(400, "the request body needs a 'document' key holding the design", "bad_request")
    source, target = data.get("from"), data.get("to")
    if not isinstance(source, str) or not isinstance(target, str) or not source or not target:
        raise ApiError(400, "'from' and 'to' must be endpoint ids such as host1/ns:web/web0", "bad_request")
    hairpin, down = _what_if(data)
    family = data.get("family", 4)
    if family not in (4, 6) or isinstance(family, bool):
        raise ApiError(400, "'family' must be 4 or 6", "bad_request")
    with core.gc_held():
        resp = jsonify(explain_pair(doc, source, target, hairpin, down, family))
    resp.call_on_close(core.collect_young)
    return resp
