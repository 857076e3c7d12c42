"""Rehearse from the browser: build the design in throwaway namespaces, ping every ordered pair,
show what was measured beside what was predicted (``mvplan rehearse`` as a background job).

``POST /api/rehearse`` (``{"document"}``; ``--allow-apply`` and the apply token, like applying:
it needs root and creates namespaces) answers 202 with a job; ``GET /api/rehearse/<job>``
reports the phase (``building``, ``pinging`` with ``done``/``total``, ``comparing``) and, once
finished, every pair. The lab is :class:`planner.lab.Lab`: namespaces under a prefix of its own,
pings only between its own addresses, every namespace deleted at the end, also on failure.
"""
from __future__ import annotations

import logging
import time

from flask import Blueprint, Flask, current_app, jsonify, request

from planner.core.errors import CompileError

from . import applying, core
from .errors import ApiError
from .jobs import JobTable, Progress

__all__ = ["bp", "init_app", "rehearse", "MAX_PAIRS"]

log = logging.getLogger(__name__)

bp = Blueprint("rehearsal", __name__, url_prefix="/api")

#: ordered pairs one browser rehearsal pings at most (REHEARSE_MAX_PAIRS overrides); each
#: blocked pair costs its ping timeout, so more belongs to ``mvplan rehearse`` in a terminal
MAX_PAIRS = 5000
#: pairs pinged between two progress reports
CHUNK = 16
PING_TIMEOUT = 0.5


def _table() -> JobTable:
    return current_app.extensions["mvplan_rehearsals"]


def _translate(exc: BaseException) -> ApiError:
    from planner.lab import LabError

    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, LabError):
        return ApiError(500, str(exc), "lab_failed")
    if isinstance(exc, CompileError):
        return ApiError(422, str(exc), "check_errors")
    log.error("rehearse: unexpected error", exc_info=exc)
    return ApiError(500, "internal server error; the server log has the details", "internal_error")


def rehearse(design, progress: Progress, *, timeout: float = PING_TIMEOUT, workers: int = 8) -> dict:
    """Build, ping every ordered pair in chunks (reporting progress), compare with the prediction."""
    from planner.core.reachability import predict_families
    from planner.lab import Lab

    eps = [e.id for e in design.endpoints()]
    preds = predict_families(design)
    jobs = [(f, a.id, b.id) for f, p in preds.items() for a in p.endpoints for b in p.endpoints if a.id != b.id]
    t0 = time.perf_counter()
    progress.phase("building")
    measured: dict[tuple[int, str, str], bool] = {}
    with Lab(design, ping_timeout=timeout) as lab:
        namespaces = list(lab.namespaces)
        build = lab.build_seconds or 0.0
        progress.phase("pinging", len(jobs))
        for k in range(0, len(jobs), CHUNK):
            chunk = jobs[k:k + CHUNK]
            for f in dict.fromkeys(j[0] for j in chunk):
                got = lab.ping_matrix([(a, b) for g, a, b in chunk if g == f], workers=workers, family=f)
                measured.update({(f, a, b): ok for (a, b), ok in got.items()})
            progress.step(len(measured), f"{chunk[-1][1]} -> {chunk[-1][2]} (IPv{chunk[-1][0]})")
        warnings = list(lab.warnings)
    progress.phase("comparing", len(jobs))
    rows = [_row(preds[f], a, b, measured[(f, a, b)]) for f, a, b in jobs]
    bad = sum(not r["agree"] for r in rows)
    return {"design": design.name, "pairs": rows, "warnings": warnings, "namespaces": namespaces,
            "summary": {"endpoints": len(eps), "pairs": len(rows), "agree": len(rows) - bad, "disagree": bad,
                        "reachable_measured": sum(r["measured"] for r in rows),
                        "reachable_predicted": sum(r["predicted"] for r in rows),
                        "build_seconds": round(build, 3), "seconds": round(time.perf_counter() - t0, 3),
                        "namespaces": len(namespaces)}}


def _row(pred, a: str, b: str, measured: bool) -> dict:
    """One pair; a disagreement carries the prediction worded for that very pair."""
    predicted = pred.reachable(a, b)
    v = pred.verdict(a, b) if predicted != measured else None
    stored = v or pred.exceptions.get((a, b)) or pred.verdicts[pred.key(a, b)]
    row = {"from": a, "to": b, "family": pred.design.family, "predicted": predicted, "measured": measured,
           "agree": predicted == measured, "reason": str(stored.reason)}
    if v is not None:
        row.update(message=v.message, fix=v.fix)
    timing = getattr(stored, "timing", None)
    if timing is not None:
        row["timing"] = bool(timing)
    return row


@bp.post("/rehearse")
def start():
    applying.check_enabled()
    applying.check_token()
    data = request.get_json(silent=True)
    if not isinstance(data, dict) or not isinstance(data.get("document"), dict):
        raise ApiError(400, "the request body needs a 'document' key holding the design", "bad_request")
    design = core.load(data["document"])
    applying.check_design(design)
    n = len(design.endpoints())
    limit = int(current_app.config.get("REHEARSE_MAX_PAIRS") or MAX_PAIRS)
    if n * (n - 1) > limit:
        raise ApiError(400, f"{n} endpoints make {n * (n - 1)} ordered pairs; the browser rehearses at most {limit} "
                            "(every blocked pair waits out its ping timeout): run 'sudo mvplan rehearse FILE' "
                            "for this design", "too_many_pairs", {"pairs": n * (n - 1), "limit": limit})
    if n < 2:
        raise ApiError(400, "a rehearsal needs at least two endpoints (interfaces with an IPv4 address)", "bad_request")
    from planner.lab import prerequisites

    missing = prerequisites()
    if missing:
        raise ApiError(403, "cannot build a lab here: " + "; ".join(missing), "permission_denied")
    job = _table().start({"design": {"name": design.name, "endpoints": n}},
                         lambda progress: rehearse(design, progress), _translate)
    resp = jsonify({"status_url": f"/api/rehearse/{job.id}", **job.to_dict()})
    resp.status_code = 202
    resp.headers["Location"] = f"/api/rehearse/{job.id}"
    return resp


@bp.get("/rehearse/<job_id>")
def poll(job_id: str):
    applying.check_enabled()
    applying.check_token()
    return jsonify(_table().snapshot(job_id))


def init_app(app: Flask) -> None:
    app.extensions["mvplan_rehearsals"] = JobTable("rehearsal")
