"""HTML pages: the design list, the editor, the read-only review of a version, diffs, history."""
from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from jinja2.utils import htmlsafe_json_dumps
from markupsafe import Markup

from planner.core.diff import diff_designs
from planner.core.errors import DesignError

from . import core
from .errors import ApiError
from .store import NotFound

bp = Blueprint("ui", __name__)

#: above this many endpoints the review matrix groups endpoints by equivalence class
MATRIX_ENDPOINT_LIMIT = 40


def store():
    return current_app.extensions["mvplan_store"]


def _get(design_id: int, version: int | None = None, *, document_text: bool = False) -> dict:
    try:
        return store().get(design_id, version, document_text=document_text)
    except NotFound as exc:
        raise ApiError(404, str(exc), "not_found") from None


def _try(fn, *args, **kw):
    """Run a core call; an API error (a design the compiler refuses) becomes (None, reason)."""
    try:
        return fn(*args, **kw), None
    except ApiError as exc:
        return None, exc.message


def _verdict_index(prediction: dict):
    """(from, to, same_parent) -> verdict; same_parent is None for predictions without it."""
    return {(v["from"], v["to"], v.get("same_parent")): v for v in prediction.get("verdicts", [])}


def _cell(v: dict | None, pair: tuple[str, str] | None = None) -> dict:
    """A grid cell; for an endpoint pair the verdict's words are its own only when it was worded
    for that pair (a class verdict speaks of its example pair, and says so)."""
    if not v:
        return {"unknown": True}
    message = v.get("message", "")
    example = v.get("example")
    if pair is not None and example and tuple(example) != pair:
        message = f"as for {example[0]} -> {example[1]}: {message}"
    return {"reachable": v["reachable"], "reason": v.get("reason", ""), "message": message, "fix": v.get("fix", ""),
            "pair": pair}


def matrix(prediction: dict, limit: int = MATRIX_ENDPOINT_LIMIT) -> dict:
    """Rows/columns of the reachability grid: endpoints, or classes when there are many endpoints.

    A class cell stands for every pair of its members; when pairs on one parent and pairs on
    different parents disagree the cell is "mixed" and its title carries both reasons.
    """
    eps = prediction.get("endpoints", [])
    verdicts = _verdict_index(prediction)
    exceptions = {(x["from"], x["to"]): x for x in prediction.get("exceptions", [])}
    has_same = any(k[2] is not None for k in verdicts)
    rows = []
    if len(eps) <= limit:
        labels = [{"id": e["id"], "label": e["id"], "title": f"{e['id']} {e.get('address') or ''}".strip(),
                   "cls": e["class"], "parent": e.get("parent", e["id"])} for e in eps]
        for a in labels:
            cells: list[dict] = []
            for b in labels:
                if a["id"] == b["id"]:
                    cells.append({"self": True})
                    continue
                same = (a["parent"] == b["parent"]) if has_same else None
                pair = (a["id"], b["id"])
                cells.append(_cell(exceptions.get(pair) or verdicts.get((a["cls"], b["cls"], same)), pair))
            rows.append({"label": a, "cells": cells})
        return {"labels": labels, "rows": rows, "grouped": False}
    labels = [{"id": f"class {n}", "label": f"class {n} ({len(m)})", "title": ", ".join(m), "cls": n,
               "size": len(m), "members": m} for n, m in enumerate(prediction.get("classes", []))]
    for a in labels:
        cells = []
        for b in labels:
            if a["cls"] == b["cls"] and a["size"] == 1:
                cells.append({"self": True})
                continue
            vs = [verdicts[k] for k in ((a["cls"], b["cls"], True), (a["cls"], b["cls"], False),
                                        (a["cls"], b["cls"], None)) if k in verdicts]
            if not vs:
                cells.append({"unknown": True})
            elif len({v["reachable"] for v in vs}) == 1:
                cells.append(_cell(vs[0]))
            else:
                cells.append({"mixed": True, "reason": " / ".join(v.get("reason", "") for v in vs),
                              "message": " | ".join(v.get("message", "") for v in vs), "fix": ""})
        rows.append({"label": a, "cells": cells})
    return {"labels": labels, "rows": rows, "grouped": True}


@bp.get("/")
def index():
    return render_template("index.html", designs=store().list())


def _editor_boot(rec: dict, capabilities: dict) -> Markup:
    """The editor's #design-data: what ``{...} | tojson`` gave, with the document embedded as the
    database holds it (JSON text) instead of parsed and serialised again - for a 10,000-child
    design those two were most of the page's time on the server (some 60 ms)."""
    dumps = current_app.json.dumps
    head = dumps({"id": rec["id"], "name": rec["name"], "version": rec["version"]})[:-1]
    text = (f'{head}, "document": {rec["document_text"]}, "draft": {dumps(rec["draft"])}, '
            f'"capabilities": {dumps(capabilities)}}}')
    return htmlsafe_json_dumps(text, dumps=lambda already_json: already_json)  # what tojson does to it


@bp.get("/designs/<int:design_id>")
def editor(design_id: int):
    rec = _get(design_id, document_text=True)
    allow = bool(current_app.config["ALLOW_APPLY"])
    caps = core.capabilities(allow)
    return render_template("editor.html", design=rec, allow_apply=allow, capabilities=caps,
                           boot=_editor_boot(rec, caps))


@bp.get("/designs/<int:design_id>/history")
def history(design_id: int):
    rec = _get(design_id)
    return render_template("history.html", design=rec, versions=store().versions(design_id),
                           applies=store().applies(design_id))


@bp.get("/designs/<int:design_id>/versions/<int:version>")
def review(design_id: int, version: int):
    rec = _get(design_id, version)
    latest = _get(design_id)
    applies = [a for a in store().applies(design_id) if a.get("design", {}).get("version") == version]
    doc = rec["document"]
    try:
        design = core.load(doc)
    except ApiError as exc:  # a stored version is valid unless the format itself changed
        return render_template("review.html", design=rec, latest=latest, problems=exc.details.get("problems", []),
                               findings=None, prediction=None, matrix=None, diff=None, script=None, notes={},
                               applies=applies), 200
    notes: dict[str, str | None] = {}
    findings, prediction = core.analyse(design)
    diff = None
    if version > 1:
        prev = _get(design_id, version - 1)["document"]
        try:
            diff = diff_designs(prev, doc)
        except DesignError:
            diff = None
    exported, notes["script"] = _try(core.export, design, "iproute2")
    script = exported[0] if exported else None
    return render_template("review.html", design=rec, latest=latest, problems=[], findings=findings,
                           counts=core.counts(findings or []), prediction=prediction,
                           matrix=matrix(prediction) if prediction else None,
                           matrix6=matrix(prediction["ipv6"]) if prediction and "ipv6" in prediction else None,
                           diff=diff, script=script, notes=notes, summary=core.summarize(design), applies=applies)


@bp.get("/designs/<int:design_id>/diff")
def diff_page(design_id: int):
    latest = _get(design_id)
    try:
        to = int(request.args.get("to") or latest["version"])
        frm = int(request.args.get("from") or max(1, to - 1))
    except ValueError:
        raise ApiError(400, "'from' and 'to' must be version numbers", "bad_request") from None
    a = _get(design_id, frm)
    b = _get(design_id, to)
    try:
        d = diff_designs(a["document"], b["document"], )
    except DesignError as exc:
        raise ApiError(422, str(exc), "invalid_design") from None
    return render_template("diff.html", design=latest, a=a, b=b, diff=d, versions=store().versions(design_id))
