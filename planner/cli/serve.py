"""serve: the web designer (SQLite under the instance folder, examples loaded)."""
from __future__ import annotations

from .common import EXIT_OK

__all__ = ["add_serve"]


def cmd_serve(args) -> int:
    from planner.web import serve

    serve(host=args.host, port=args.port, instance_path=args.instance, allow_apply=args.allow_apply)
    return EXIT_OK


def add_serve(sub) -> None:
    p = sub.add_parser("serve", help="start the web designer (SQLite, examples loaded)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--instance", default=None, help="instance folder (database); default ./instance")
    p.add_argument("--allow-apply", action="store_true", help="allow applying plans from the browser (token needed)")
    p.set_defaults(func=cmd_serve)
