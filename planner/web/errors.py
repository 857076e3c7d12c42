"""One JSON error envelope for the whole API: ``{"error": {"code", "message", "details"}}``.

Every failure under ``/api`` -- our own :class:`ApiError`, Werkzeug's 404/405/413, and anything
unexpected (500) -- goes out in this shape. Pages get a small HTML error page instead. No traceback
ever reaches the browser; unexpected errors are logged on the server.
"""
from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from planner.core.errors import DesignError, InputLimitError, MvplanError

__all__ = ["ApiError", "error_response", "register_error_handlers", "invalid_design"]

_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
          405: "method_not_allowed", 409: "conflict", 413: "too_large", 415: "unsupported_media_type",
          422: "invalid_design", 429: "too_many_requests", 500: "internal_error", 501: "not_implemented"}


class ApiError(MvplanError):
    """An error the API reports on purpose: HTTP status, stable code, message, details."""

    def __init__(self, status: int, message: str, code: str | None = None, details: dict | None = None):
        super().__init__(message)
        self.status = status
        self.code = code or _CODES.get(status, "error")
        self.message = message
        self.details = details or {}


def invalid_design(exc: DesignError, **extra) -> ApiError:
    """422 for a document that is not a usable design; problems keep their document paths.
    413 ``too_large`` for one that expands past the limits (:class:`InputLimitError`)."""
    problems = [p.to_dict() for p in exc.problems]
    if isinstance(exc, InputLimitError):
        return ApiError(413, str(exc.problems[0].message) if exc.problems else str(exc), "too_large",
                        {"limit": exc.limit, "maximum": exc.maximum, "problems": problems, **extra})
    n = len(problems)
    return ApiError(422, f"the design has {n} problem{'s' if n != 1 else ''}", "invalid_design",
                    {"problems": problems, **extra})


def error_response(status: int, code: str, message: str, details: dict | None = None):
    resp = jsonify({"error": {"code": code, "message": message, "details": details or {}}})
    resp.status_code = status
    return resp


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/api"


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError):
        if _wants_json():
            return error_response(exc.status, exc.code, exc.message, exc.details)
        return render_template("error.html", status=exc.status, message=exc.message), exc.status

    @app.errorhandler(DesignError)
    def _design_error(exc: DesignError):
        return _api_error(invalid_design(exc))

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        status = exc.code or 500
        message = {
            404: "no such resource",
            405: f"method {request.method} is not allowed here",
            413: f"request body too large (limit {app.config.get('MAX_CONTENT_LENGTH') or 0} bytes)",
        }.get(status, exc.description or exc.name)
        details = {}
        allowed = getattr(exc, "valid_methods", None)
        if status == 405 and allowed:
            details["allowed"] = sorted(allowed)
        if _wants_json():
            resp = error_response(status, _CODES.get(status, "http_error"), message, details)
            if status == 405 and details.get("allowed"):
                resp.headers["Allow"] = ", ".join(details["allowed"])
            return resp
        return render_template("error.html", status=status, message=message), status

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        if isinstance(exc, HTTPException):  # pragma: no cover - routed above
            return _http_error(exc)
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        if _wants_json():
            return error_response(500, "internal_error", "internal server error; the server log has the details")
        return render_template("error.html", status=500, message="internal server error"), 500
