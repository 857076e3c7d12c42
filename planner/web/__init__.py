"""The browser designer: Flask app factory, blueprints ``ui`` (pages) and ``api`` (JSON).

``create_app(test_config)`` follows the Flask tutorial's factory; ``serve()`` is what
``mvplan serve`` calls.
"""
from __future__ import annotations

import logging
import mimetypes
import os
import secrets
from importlib import resources
from pathlib import Path

from flask import Flask

from planner.core.errors import MvplanError

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
    app.json.sort_keys = False  # type: ignore[attr-defined]  # DefaultJSONProvider

    init_app(app)
    return app


def init_app(app: Flask) -> None:
    from . import api, applying, blueprints, csrf, ui
    from .errors import register_error_handlers
    from .store import Store

    store = Store(app.config["DATABASE"])
    if app.config.get("SEED_EXAMPLES"):
        store.seed(_example_documents())
    app.extensions["mvplan_store"] = store

    csrf.init_app(app)
    applying.init_app(app)
    register_error_handlers(app)
    app.register_blueprint(api.bp)
    app.register_blueprint(ui.bp)
    blueprints.register(app)

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


class ServeError(MvplanError):
    """The designer cannot start (its port is taken, or not ours to use)."""


def _check_port_free(host: str, port: int) -> None:
    """Fail before printing the URL when the port cannot be listened on (another server has it)."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise ServeError(f"cannot listen on {host}:{port}: {exc}; pass --host with an address of this "
                         "machine") from None
    family, _, _, _, addr = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as Werkzeug does: TIME_WAIT is no obstacle
        try:
            s.bind(addr)
        except OSError as exc:
            raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror or exc} - is another 'mvplan serve' "
                             "running there? Stop it, or pass --port with a free port") from None


def serve(host: str = "127.0.0.1", port: int = 8080, instance_path: str | None = None,
          allow_apply: bool = False) -> None:
    """Build the app and serve it (threaded Werkzeug server; for a workstation, not the internet).

    The instance folder (database, session key) defaults to ``./instance`` in the current directory.
    With ``allow_apply`` a fresh random apply token is made and printed (``mvplan: apply token: ...``
    on stderr); the browser must send it with every apply request (docs/api.md).
    """
    import sys

    from .applying import new_token

    _check_port_free(host, port)
    app = create_app(instance_path=instance_path or os.path.join(os.getcwd(), "instance"))
    app.config["ALLOW_APPLY"] = bool(allow_apply)
    app.config["APPLY_TOKEN"] = new_token() if allow_apply else None
    print(f"mvplan: designer on http://{host}:{port}/ (instance {app.instance_path})", file=sys.stderr, flush=True)
    if allow_apply:
        print("mvplan: applying from the browser is ON: enter this token in the editor's Apply tab",
              file=sys.stderr, flush=True)
        print(f"mvplan: apply token: {app.config['APPLY_TOKEN']}", file=sys.stderr, flush=True)
    app.run(host=host, port=port, debug=False, use_reloader=False, threaded=True)
