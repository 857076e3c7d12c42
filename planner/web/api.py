"""JSON API under ``/api`` (documented endpoint by endpoint in docs/api.md)."""
from __future__ import annotations

import io
import json
import re
import time
import zipfile

import yaml
from flask import Blueprint, Response, current_app, jsonify, request

from planner import __version__
from planner.core.diff import diff_designs, diff_predictions
from planner.core.errors import DesignError
from planner.core.model import parse_design_text
from planner.importers import FORMATS as IMPORT_FORMATS

from . import applying, core
from .bodies import in_id_range, json_body
from .csrf import csrf_token
from .errors import ApiError, invalid_design
from .livedocs import LiveDocs, apply_patch
from .store import Conflict, NotFound

bp = Blueprint("api", __name__, url_prefix="/api")


# --------------------------------------------------------------------------- helpers
def store():
    return current_app.extensions["mvplan_store"]


def body() -> dict:
    data = json_body()
    if not isinstance(data, dict):
        raise ApiError(400, "the request body must be a JSON object", "bad_request")
    return data


def document_from(data: dict) -> dict:
    if "document" not in data:
        raise ApiError(400, "the request body needs a 'document' key holding the design", "bad_request")
    doc = data["document"]
    if not isinstance(doc, dict):
        raise ApiError(422, "'document' must be a JSON object", "invalid_design",
                       {"problems": [{"path": "", "message": "a design must be a mapping"}]})
    return doc


def int_arg(name: str, default=None):
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ApiError(400, f"query parameter {name!r} must be an integer", "bad_request") from None


def bool_arg(name: str) -> bool:
    return request.args.get(name, "").lower() in ("1", "true", "yes", "on")


def _get(design_id: int, version: int | None = None) -> dict:
    try:
        return store().get(design_id, version)
    except NotFound as exc:
        raise ApiError(404, str(exc), "not_found") from None


def safe_filename(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "design"


def attachment(text: str | bytes, filename: str, mimetype: str) -> Response:
    resp = Response(text, mimetype=mimetype)
    resp.headers["Content-Disposition"] = f'attachment; filename="{safe_filename(filename)}"'
    return resp


def dump_yaml(doc: dict) -> str:
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, default_flow_style=False)


def check_payload(design, view: str = "full") -> dict:
    """The answer of /api/check (and of /api/what-if). ``view="editor"`` is the editor's compact
    form: the same findings and verdicts, but only the fields the editor reads (see
    :func:`core.editor_view`); the full form is the documented one."""
    t0 = time.perf_counter()
    findings, prediction = core.analyse(design)
    out = {"valid": True, "summary": core.summarize(design), "findings": findings,
           "counts": core.counts(findings), "prediction": prediction, "interfaces": core.interfaces(design)}
    if view == "editor":
        out = core.editor_view(out)
    out["elapsed_ms"] = round((time.perf_counter() - t0) * 1000, 2)
    return out


def view_arg() -> str:
    view = request.args.get("view", "full")
    if view not in ("full", "editor"):
        raise ApiError(400, "query parameter 'view' must be 'full' or 'editor'", "bad_request")
    return view


class Phases:
    """Wall-clock phases of one request, sent as a ``Server-Timing`` header (the browser shows
    them in its network panel and in ``PerformanceResourceTiming.serverTiming``)."""

    def __init__(self):
        self.t = time.perf_counter()
        self.items: list[tuple[str, float]] = []

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.items.append((name, (now - self.t) * 1000))
        self.t = now

    def respond(self, payload: dict):
        resp = jsonify(payload)
        self.lap("encode")
        resp.headers["Server-Timing"] = ", ".join(f"{n};dur={ms:.1f}" for n, ms in self.items)
        return resp


# --------------------------------------------------------------------------- meta
@bp.get("/meta")
def meta():
    allow = bool(current_app.config["ALLOW_APPLY"])
    return jsonify({"version": __version__, "capabilities": core.capabilities(allow),
                    "export_formats": list(core.EXPORT_FORMATS) + list(core.DOCUMENT_FORMATS),
                    "import_formats": list(IMPORT_FORMATS),
                    "max_content_length": current_app.config.get("MAX_CONTENT_LENGTH")})


@bp.get("/vocabulary")
def vocabulary():
    """Modes, kinds, states, limits and name patterns (also embedded in every page)."""
    from planner.core.schema import vocabulary as vocab

    return jsonify(vocab())


@bp.get("/schema")
def schema():
    """The JSON Schema of the design format, generated from the same vocabulary."""
    from planner.core.schema import design_schema

    return jsonify(design_schema())


@bp.get("/csrf")
def csrf():
    return jsonify({"token": csrf_token(), "header": "X-CSRF-Token"})


# --------------------------------------------------------------------------- designs
@bp.get("/designs")
def list_designs():
    return jsonify({"designs": store().list()})


@bp.post("/designs")
def create_design():
    data = body()
    doc = document_from(data)
    core.load(doc)
    rec = store().create(doc, str(data.get("message") or "created"))
    resp = jsonify(rec)
    resp.status_code = 201
    resp.headers["Location"] = f"/api/designs/{rec['id']}"
    return resp


@bp.get("/designs/<int:design_id>")
def get_design(design_id: int):
    return jsonify(_get(design_id))


def _base_version(data: dict, default: int | None, *, required: bool = False) -> int | None:
    """The version an edit is based on (optimistic locking); 400 unless an integer."""
    base = data.get("base_version", default)
    if (base is not None or required) and (not isinstance(base, int) or isinstance(base, bool)
                                           or not in_id_range(base)):
        raise ApiError(400, "'base_version' must be a version number (an integer from 1)", "bad_request")
    return base


@bp.put("/designs/<int:design_id>")
def update_design(design_id: int):
    data = body()
    doc = document_from(data)
    _get(design_id)
    core.load(doc)
    base = _base_version(data, None)
    try:
        rec = store().save(design_id, doc, str(data.get("message") or ""), base)
    except Conflict as exc:
        raise ApiError(409, str(exc), "conflict", {"latest": exc.latest}) from None
    return jsonify(rec)


@bp.delete("/designs/<int:design_id>")
def delete_design(design_id: int):
    try:
        store().delete(design_id)
    except NotFound as exc:
        raise ApiError(404, str(exc), "not_found") from None
    return Response(status=204)


@bp.put("/designs/<int:design_id>/draft")
def put_draft(design_id: int):
    data = body()
    doc = document_from(data)
    rec = _get(design_id)
    return jsonify(store().put_draft(design_id, doc, _base_version(data, rec["version"], required=True)))


@bp.delete("/designs/<int:design_id>/draft")
def delete_draft(design_id: int):
    try:
        store().drop_draft(design_id)
    except NotFound as exc:
        raise ApiError(404, str(exc), "not_found") from None
    return Response(status=204)


@bp.get("/designs/<int:design_id>/versions")
def list_versions(design_id: int):
    try:
        return jsonify({"id": design_id, "versions": store().versions(design_id)})
    except NotFound as exc:
        raise ApiError(404, str(exc), "not_found") from None


@bp.get("/designs/<int:design_id>/versions/<int:version>")
def get_version(design_id: int, version: int):
    return jsonify(_get(design_id, version))


@bp.get("/designs/<int:design_id>/diff")
def diff_versions(design_id: int):
    rec = _get(design_id)
    to = int_arg("to", rec["version"])
    frm = int_arg("from", max(1, to - 1))
    a = _get(design_id, frm)["document"]
    b = _get(design_id, to)["document"]
    return jsonify({"id": design_id, "from": frm, "to": to, **_diff(a, b)})


def _diff(a: dict, b: dict) -> dict:
    try:
        return diff_designs(a, b, )
    except DesignError as exc:
        raise invalid_design(exc) from None


@bp.post("/diff")
def diff_documents():
    data = body()
    if not isinstance(data.get("old"), dict) or not isinstance(data.get("new"), dict):
        raise ApiError(400, "the body needs 'old' and 'new' design documents", "bad_request")
    return jsonify(_diff(data["old"], data["new"]))


@bp.get("/designs/<int:design_id>/download")
def download_design(design_id: int):
    rec = _get(design_id, int_arg("version"))
    fmt = request.args.get("format", "yaml")
    return _document_download(rec["document"], fmt, f"{rec['name']}-v{rec['version_info']['version']}")


def _document_download(doc: dict, fmt: str, stem: str) -> Response:
    if fmt == "json":
        return attachment(json.dumps(doc, indent=2) + "\n", f"{stem}.json", "application/json")
    if fmt == "yaml":
        return attachment(dump_yaml(doc), f"{stem}.yaml", "application/yaml")
    raise ApiError(400, f"unknown format {fmt!r}; use one of: json, yaml", "unsupported_format")


@bp.get("/designs/<int:design_id>/export")
def export_version(design_id: int):
    rec = _get(design_id, int_arg("version"))
    return _export(rec["document"], f"{rec['name']}-v{rec['version_info']['version']}")


@bp.post("/export")
def export_document():
    doc = document_from(body())
    return _export(doc, str(doc.get("name") or "design"))




def _export(doc: dict, stem: str) -> Response:
    fmt = request.args.get("format", "")
    if fmt in core.DOCUMENT_FORMATS:
        core.load(doc)
        return _document_download(doc, fmt, stem)
    if fmt not in core.EXPORT_FORMATS:
        choices = ", ".join(core.EXPORT_FORMATS + core.DOCUMENT_FORMATS)
        raise ApiError(400, f"unknown format {fmt!r}; use one of: {choices}", "unsupported_format")
    design = core.load(doc)
    opts = {"teardown": True} if fmt == "iproute2" and bool_arg("teardown") else {}
    files, warnings = core.export(design, fmt, **opts)
    if request.args.get("as") == "json":
        return jsonify({"format": fmt, "options": opts, "files": files, "warnings": warnings})
    if len(files) == 1:
        name, text = next(iter(files.items()))
        mime = ("text/x-shellscript" if name.endswith(".sh") else
                "application/yaml" if name.endswith((".yml", ".yaml")) else "text/plain")
        resp = attachment(text, name, mime)
    else:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, text in sorted(files.items()):
                zf.writestr(name, text)
        resp = attachment(buf.getvalue(), f"{stem}-{fmt}{'-teardown' if opts else ''}.zip", "application/zip")
    if warnings:
        resp.headers["X-Mvplan-Warnings"] = str(len(warnings))
    return resp


# --------------------------------------------------------------------------- apply
def _apply_request(design_id: int, real: bool):
    """Common checks of the apply endpoints, in order: enabled, token, design, body, target,
    host, check errors. Returns (design, record, target, host, body)."""
    applying.check_enabled()
    applying.check_token()
    data = body()
    version = data.get("version")
    if version is not None and (not isinstance(version, int) or isinstance(version, bool)):
        raise ApiError(400, "'version' must be a version number", "bad_request")
    rec = _get(design_id, version)
    target = applying.parse_target(data, real=real)
    design = core.load(rec["document"])
    applying.check_design(design)
    host = applying.pick_host(design, data.get("host"))
    return design, rec, target, host, data


@bp.post("/designs/<int:design_id>/apply/dry-run")
def apply_dry_run(design_id: int):
    design, rec, target, host, _ = _apply_request(design_id, real=False)
    applying.jobs().ensure_idle()
    return jsonify(applying.dry_run(design, rec, target, host))


@bp.post("/designs/<int:design_id>/apply")
def apply_design(design_id: int):
    design, rec, target, host, data = _apply_request(design_id, real=True)
    digest = data.get("plan_digest")
    if digest is not None and not isinstance(digest, str):
        raise ApiError(400, "'plan_digest' must be the string a dry run returned", "bad_request")
    confirm = applying.parse_confirm_seconds(data)
    job = applying.start_job(design, rec, target, host, digest or None, confirm)
    resp = jsonify({"job": job.id, "status_url": f"/api/apply/{job.id}", **job.to_dict()})
    resp.status_code = 202
    resp.headers["Location"] = f"/api/apply/{job.id}"
    return resp


@bp.get("/apply/<job_id>")
def apply_job(job_id: str):
    applying.check_enabled()
    applying.check_token()
    job = applying.jobs().snapshot(job_id) or store().apply_record(job_id)
    if job is None:
        raise ApiError(404, f"no apply job {job_id!r}", "not_found")
    return jsonify(job)


@bp.post("/apply/<job_id>/confirm")
def confirm_apply(job_id: str):
    """Keep the change of an apply started with ``confirm_seconds`` (else it rolls back)."""
    applying.check_enabled()
    applying.check_token()
    return jsonify(applying.confirm_job(job_id))


@bp.post("/recover")
def recover():
    """Finish the apply a killed process left journalled on a target: roll back or complete."""
    applying.check_enabled()
    applying.check_token()
    data = body()
    target = applying.parse_target(data, real=True)
    return jsonify(applying.recover_target(target, data.get("mode", "")))


@bp.get("/designs/<int:design_id>/applies")
def design_applies(design_id: int):
    """Every apply of the design this server (or an earlier run of it) made, newest first."""
    _get(design_id)
    return jsonify({"id": design_id, "applies": store().applies(design_id)})


# --------------------------------------------------------------------------- analysis
@bp.post("/check")
def check():
    """Findings and prediction; 422 for an unusable document.

    ``?problems=inline`` answers an unusable document with 200 ``{"valid": false, "problems"}``
    instead: the editor checks half-drawn designs on every edit, and for it an invalid draft is a
    normal state, not a failed request. ``?view=editor`` answers in the editor's compact form
    (:func:`core.editor_view`: endpoints with id/address/parent/class only, no ``classes`` list,
    verdicts without hops/example, interfaces with id/mac/mtu only). The answer carries a
    ``Server-Timing`` header: parse, validate, analyse, encode.
    """
    phases = Phases()
    view = view_arg()
    inline = request.args.get("problems") == "inline"
    if bool_arg("ack"):
        doc = _acked_document(body())
        phases.lap("parse")
        return _acked_check(doc, view, inline, phases)
    with core.gc_held():
        doc = document_from(body())
        phases.lap("parse")
        try:
            design = core.load(doc)
        except ApiError as exc:
            if exc.status == 422 and inline:
                phases.lap("validate")
                resp = phases.respond({"valid": False, "problems": exc.details.get("problems", []),
                                       "message": exc.message})
                resp.call_on_close(core.collect_young)
                return resp
            raise
        phases.lap("validate")
        payload = check_payload(design, view)
        phases.lap("analyse")
        resp = phases.respond(payload)
    resp.call_on_close(core.collect_young)
    return resp


def live_docs() -> LiveDocs:
    return current_app.extensions["mvplan_live_docs"]


def _acked_document(data: dict) -> dict:
    """The document of an acknowledged check: ``document``, or ``base`` + ``patch`` (the changes
    since the document of token ``base``, :mod:`planner.web.livedocs`)."""
    if "document" in data or "base" not in data:
        return document_from(data)
    if "patch" not in data:
        raise ApiError(400, "a request with 'base' needs a 'patch' (a list of operations)", "bad_request")
    doc = apply_patch(live_docs().take(data["base"]), data["patch"])
    if not isinstance(doc, dict):
        raise ApiError(422, "the patched document is not a JSON object", "invalid_design",
                       {"problems": [{"path": "", "message": "a design must be a mapping"}]})
    return doc


def _acked_check(doc: dict, view: str, inline: bool, phases: Phases) -> Response:
    """``/api/check?ack=1``: the answer in two JSON lines (``application/x-ndjson``). The first,
    ``{"ack": true, "doc": TOKEN}``, leaves as soon as the document is read - the editor shows
    the edit as received while the check runs (about 1.5 s for 10,000 children), and its next
    check may send only its changes since (``{"base": TOKEN, "patch": [...]}``); the second is
    the check answer, or ``{"error": {code, message, details}, "status": N}`` for what would
    otherwise be an error response (the status line has gone with the first line). The phases,
    which a header can no longer carry, are the answer's ``timing``."""
    dumps = current_app.json.dumps
    log = current_app.logger
    token = live_docs().put(doc)

    def lines():
        yield dumps({"ack": True, "doc": token, "timing": dict(phases.items)}) + "\n"
        with core.gc_held():
            try:
                payload = _check_answer(doc, view, inline, phases)
            except ApiError as exc:
                payload = {"error": {"code": exc.code, "message": exc.message, "details": exc.details},
                           "status": exc.status}
            except Exception:  # noqa: BLE001 - the stream is open: report, never break it
                log.exception("unhandled error in an acknowledged check")
                payload = {"error": {"code": "internal_error", "details": {},
                                     "message": "internal server error; the server log has the details"},
                           "status": 500}
            text = dumps(payload)  # a JSON object: "{...}"
            phases.lap("encode")
        # the timing goes in after encoding, so that it counts the encoding too
        yield f'{text[:-1]}, "timing": {dumps(dict(phases.items))}}}\n'
        core.collect_young()

    resp = Response(lines(), mimetype="application/x-ndjson")
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["X-Accel-Buffering"] = "no"  # a proxy in front must not hold the first line back
    return resp


def _check_answer(doc: dict, view: str, inline: bool, phases: Phases) -> dict:
    """The check answer of one document, or ``{"valid": false, "problems"}`` when ``inline``."""
    try:
        design = core.load(doc)
    except ApiError as exc:
        if exc.status == 422 and inline:
            phases.lap("validate")
            return {"valid": False, "problems": exc.details.get("problems", []), "message": exc.message}
        raise
    phases.lap("validate")
    payload = check_payload(design, view)
    phases.lap("analyse")
    return payload


@bp.post("/what-if")
def what_if():
    """The check of the design with what-if overrides, and the reachability it gains and loses.
    ``?view=editor`` as for /api/check."""
    data = body()
    doc = document_from(data)
    hairpin = data.get("hairpin") or {}
    down = data.get("down") or []
    if not isinstance(hairpin, dict) or not all(isinstance(k, str) and isinstance(v, bool) for k, v in hairpin.items()):
        raise ApiError(400, "'hairpin' must map port nodes (switch:SW/PORT or bridge:HOST/BR/PORT) to true/false",
                       "bad_request")
    if not isinstance(down, list) or not all(isinstance(x, str) for x in down):
        raise ApiError(400, "'down' must be a list of parent interface ids such as host1/eth0", "bad_request")
    view = view_arg()
    with core.gc_held():
        base = core.load(doc)
        known = {i.id for i in base.interfaces}
        unknown = [x for x in down if x not in known]
        if unknown:
            raise ApiError(400, f"'down' names unknown interfaces: {', '.join(unknown)}", "bad_request")
        try:
            modified = core.apply_what_if(doc, hairpin, down)
        except (KeyError, ValueError) as exc:
            if isinstance(exc, DesignError):
                raise invalid_design(exc) from None
            raise ApiError(400, f"cannot apply the what-if: {exc}", "bad_request") from None
        design = core.load(modified)
        baseline = core.predict(base)
        out = check_payload(design)
        changes = diff_predictions(baseline, out["prediction"])
        if view == "editor":
            out = core.editor_view(out)
        out["what_if"] = {"hairpin": hairpin, "down": down}
        out["changes"] = changes
        resp = jsonify(out)
    resp.call_on_close(core.collect_young)
    return resp


@bp.post("/plan")
def plan():
    design = core.load(document_from(body()))
    ops = core.plan(design)
    return jsonify({"ops": ops, "count": len(ops)})


@bp.post("/upload")
def upload():
    """A design file (multipart field ``file``, or the raw body with ``?filename=``) -> document.

    ``?create=1`` also stores it as a new design. ``?problems=inline`` answers an unparseable or
    invalid file with 200 ``{"valid": false, "problems", "document"}`` instead of 422.
    """
    inline = request.args.get("problems") == "inline"
    f = request.files.get("file")
    if f is not None:
        raw, filename = f.read(), f.filename or ""
    else:
        raw, filename = request.get_data(), request.args.get("filename", "")
    if not raw:
        raise ApiError(400, "no file: send multipart field 'file' or the file as the request body", "bad_request")
    doc = None
    try:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ApiError(422, "the file is not UTF-8 text", "invalid_design",
                           {"problems": [{"path": "", "message": "the file is not UTF-8 text"}]}) from None
        try:
            doc = parse_design_text(text, filename)
        except DesignError as exc:
            raise invalid_design(exc) from None
        core.load(doc)
    except ApiError as exc:
        if exc.status != 422:
            raise
        exc.details["document"] = doc
        if inline:
            return jsonify({"valid": False, "problems": exc.details.get("problems", []), "message": exc.message,
                            "document": doc, "filename": filename})
        raise
    if bool_arg("create"):
        rec = store().create(doc, f"uploaded {filename}".strip())
        resp = jsonify(rec)
        resp.status_code = 201
        return resp
    return jsonify({"valid": True, "document": doc, "filename": filename})


from . import importing  # noqa: E402,F401 - registers /api/import on this blueprint
