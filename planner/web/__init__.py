"""The browser designer: Flask app factory, blueprints ``ui`` (pages) and ``api`` (JSON).

``create_app(test_config)`` follows the Flask tutorial's factory (``flask --app planner.web run``
for development); ``serve()`` is what ``mvplan serve`` calls: waitress, see :mod:`.server`.
"""
from __future__ import annotations

import logging
import mimetypes
import os
import secrets
from importlib import resources
from pathlib import Path

from flask import Flask

from .hostcheck import LOOPBACK_HOSTS

__all__ = ["create_app", "serve", "resource_dir"]

log = logging.getLogger(__name__)

MAX_CONTENT_LENGTH = 2 * 1024 * 1024

# Python 3.11's table lacks .mjs; browsers refuse module scripts served as octet-stream
mimetypes.add_type("text/javascript", ".mjs")
mimetypes.add_type("text/javascript", ".js")


def resource_dir(name: str) -> Path:
    """``templates``, ``static`` or ``examples``: inside the installed package (the wheel maps the
    top-level directories to ``planner/<name>``), else the checkout's top-level directory."""
    try:
        packaged = resources.files("planner") / name
        if packaged.is_dir():
            return Path(str(packaged))
    except (ModuleNotFoundError, TypeError):  # pragma: no cover
        pass
    return Path(__file__).resolve().parents[2] / name


def _secret_key(instance: Path) -> str:
    path = instance / "secret_key"
    try:
        return path.read_text().strip()
    except OSError:
        key = secrets.token_hex(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(key)
        return key


def _example_documents() -> list[tuple[dict, str]]:
    from planner.core.errors import DesignError
    from planner.core.model import design_from_dict, parse_design_text

    out = []
    folder = resource_dir("examples")
    for path in sorted(folder.glob("*.y*ml")) + sorted(folder.glob("*.json")):
        try:
            doc = parse_design_text(path.read_text("utf-8"), path.name)
            design_from_dict(doc)
        except (DesignError, OSError, UnicodeDecodeError) as exc:
            log.warning("skipping example %s: %s", path.name, exc)
            continue
        out.append((doc, f"example {path.name}"))
    return out


def create_app(test_config: dict | None = None, instance_path: str | None = None) -> Flask:
    app = Flask(__name__, instance_path=str(Path(instance_path).resolve()) if instance_path else None,
                instance_relative_config=True, template_folder=str(resource_dir("templates")),
                static_folder=str(resource_dir("static")), static_url_path="/static")
    app.config.from_mapping(
        MAX_CONTENT_LENGTH=MAX_CONTENT_LENGTH,
        DATABASE=os.path.join(app.instance_path, "mvplan.sqlite3"),
        SEED_EXAMPLES=True,
        ALLOW_APPLY=False,
        APPLY_TOKEN=None,
        APPLY_RUN_DIR=None,
        APPLY_FAULT_AT=None,
        CSRF_ENABLED=True,
        ALLOWED_HOSTS=list(LOOPBACK_HOSTS),
        JSON_SORT_KEYS=False,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SEND_FILE_MAX_AGE_DEFAULT=0,
    )
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
    else:
        app.config.from_mapping(test_config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _secret_key(Path(app.instance_path))
    app.json.sort_keys = False  # type: ignore[attr-defined]  # DefaultJSONProvider's setting

    init_app(app)
    return app


def init_app(app: Flask) -> None:
    from . import api, applying, blueprints, csrf, hostcheck, ui
    from .errors import register_error_handlers
    from .livedocs import LiveDocs
    from .store import Store

    store = Store(app.config["DATABASE"])
    if app.config.get("SEED_EXAMPLES"):
        store.seed(_example_documents())
    app.extensions["mvplan_store"] = store
    app.extensions["mvplan_live_docs"] = LiveDocs()  # what editors last sent to /api/check?ack=1

    hostcheck.init_app(app)  # before the CSRF check: a rebound name gets no token
    csrf.init_app(app)
    applying.init_app(app)
    register_error_handlers(app)
    app.register_blueprint(api.bp)
    app.register_blueprint(ui.bp)
    blueprints.register(app)

    @app.template_filter("apply_time")
    def _apply_time(epoch: float | None) -> str:
        """Seconds since the epoch as the history page shows times (UTC)."""
        from datetime import UTC, datetime

        return datetime.fromtimestamp(epoch or 0, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")

    @app.context_processor
    def _vocabulary() -> dict:
        """Every page embeds the vocabulary (modes, kinds, patterns), so the browser keeps no copy."""
        from planner.core.schema import vocabulary

        return {"vocabulary": vocabulary()}

    @app.after_request
    def _security_headers(resp):
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("X-Frame-Options", "DENY")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        resp.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
            "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
        return resp


def serve(*args, **kwargs) -> None:
    """``mvplan serve``: see :func:`planner.web.server.serve` (waitress, bounded, Host-checked)."""
    from .server import serve as _serve

    _serve(*args, **kwargs)
