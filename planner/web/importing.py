"""``/api/import``: Docker, Kubernetes/Multus, libvirt and containerlab files -> a design (the
browser's Upload of the import formats; the same importers as ``mvplan import``, docs/import.md).

``GET /api/import/formats`` lists the formats; ``POST /api/import?from=FORMAT`` takes one or more
multipart fields ``file`` (or the raw body with ``?filename=``), optional ``host`` and ``name``, and
answers ``{"format", "filenames", "document", "warnings"}`` - every warning is what the importer
could not map, with ``code``, ``source``, ``where`` and ``message``. ``?create=1`` also stores the
design (201, the stored record plus ``warnings``). A file that cannot be imported is 422
``import_failed`` with ``problems`` (``path`` = file: place); an unknown format is 400.
"""
from __future__ import annotations

from flask import jsonify, request

from planner.importers import ALIASES, FORMATS, ImportFailure, Source, canonical_format, import_sources

from .api import bool_arg, bp, store
from .errors import ApiError

__all__ = ["import_formats", "import_files"]


def _format() -> str:
    fmt = request.args.get("from") or request.args.get("format") or ""
    if not fmt:
        raise ApiError(400, f"say which format the files are in: ?from= one of {', '.join(FORMATS)}", "bad_request",
                       {"formats": list(FORMATS), "aliases": ALIASES})
    try:
        return canonical_format(fmt)
    except ValueError as exc:
        raise ApiError(400, str(exc), "bad_request", {"formats": list(FORMATS), "aliases": ALIASES}) from None


def _text(raw: bytes, filename: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(422, f"{filename}: the file is not UTF-8 text", "import_failed",
                       {"problems": [{"path": filename, "message": "the file is not UTF-8 text"}]}) from None


def _sources() -> list[Source]:
    files = request.files.getlist("file")
    if files:
        pairs = [(f.read(), f.filename or f"upload-{k + 1}") for k, f in enumerate(files)]
    else:
        pairs = [(request.get_data(), request.args.get("filename") or "upload")]
    pairs = [(raw, name) for raw, name in pairs if raw]
    if not pairs:
        raise ApiError(400, "no file: send one or more multipart fields 'file', or the file as the request body",
                       "bad_request")
    return [Source(name, _text(raw, name)) for raw, name in pairs]


@bp.get("/import/formats")
def import_formats():
    """What each import format reads, and the aliases."""
    return jsonify({"formats": [{"name": k, "reads": v[0], "default_host": v[1]} for k, v in FORMATS.items()],
                    "aliases": ALIASES})


@bp.post("/import")
def import_files():
    """Files of FORMAT -> a design document and what could not be mapped."""
    fmt = _format()
    sources = _sources()
    try:
        result = import_sources(fmt, sources, host=request.args.get("host") or None,
                                name=request.args.get("name") or None)
    except ImportFailure as exc:
        n = len(exc.problems)
        raise ApiError(422, f"cannot import ({n} problem{'s' if n != 1 else ''})", "import_failed",
                       {"problems": [p.to_dict() for p in exc.problems]}) from None
    warnings = result.to_dict()["warnings"]
    names = [s.name for s in sources]
    if bool_arg("create"):
        note = f"imported from {', '.join(names)} ({fmt})"
        if warnings:
            note += f"; {len(warnings)} warning(s)"
        rec = dict(store().create(result.document, note))
        rec["warnings"] = warnings
        resp = jsonify(rec)
        resp.status_code = 201
        return resp
    return jsonify({"format": fmt, "filenames": names, "document": result.document, "warnings": warnings})
