"""CSRF protection for every state-changing request.

A random token is kept in the (signed) session cookie and rendered into each page as
``<meta name="csrf-token">``; the browser code sends it back in the ``X-CSRF-Token`` header.
POST/PUT/PATCH/DELETE without a matching header get 403 ``csrf_failed``. A cross-site page can
make the browser send the cookie but cannot read the token, and browsers do not let it set a
custom header on a cross-origin request without CORS (which this server never grants).

Scripts: ``GET /api/csrf`` (or any page) returns the token and sets the session cookie; send both.
"""
from __future__ import annotations

import hmac
import secrets

from flask import Flask, request, session

from .errors import ApiError

__all__ = ["HEADER", "csrf_token", "init_app"]

HEADER = "X-CSRF-Token"
_SAFE = {"GET", "HEAD", "OPTIONS", "TRACE"}


def csrf_token() -> str:
    tok = session.get("csrf")
    if not tok:
        tok = session["csrf"] = secrets.token_urlsafe(32)
    return tok


def init_app(app: Flask) -> None:
    app.jinja_env.globals["csrf_token"] = csrf_token

    @app.before_request
    def _check_csrf():
        if request.method in _SAFE or not app.config.get("CSRF_ENABLED", True):
            return None
        sent = request.headers.get(HEADER, "")
        expected = session.get("csrf", "")
        if not sent or not expected or not hmac.compare_digest(sent, expected):
            raise ApiError(403, f"missing or wrong {HEADER} header: take the token from the page's "
                                "<meta name=\"csrf-token\"> (or GET /api/csrf) and send it with the session cookie",
                           "csrf_failed")
        return None
