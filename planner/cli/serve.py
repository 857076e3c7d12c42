"""serve: the web designer (SQLite under the instance folder, examples loaded), behind waitress."""
from __future__ import annotations

from .common import EXIT_INPUT, EXIT_OK

__all__ = ["add_serve"]


def cmd_serve(args) -> int:
    import sys

    from planner.web import serve
    from planner.web.server import ServerLimits

    try:
        limits = ServerLimits(threads=args.threads, timeout=args.timeout, connection_limit=args.connection_limit)
    except ValueError as exc:
        print(f"mvplan serve: {exc}", file=sys.stderr)
        return EXIT_INPUT
    serve(host=args.host, port=args.port, instance_path=args.instance, allow_apply=args.allow_apply,
          allowed=args.allowed_host, limits=limits, trusted_proxy=args.trusted_proxy)
    return EXIT_OK


def add_serve(sub) -> None:
    p = sub.add_parser("serve", help="start the web designer (SQLite, examples loaded)",
                       description="Serve the designer with waitress (bounded threads, timeouts). Requests "
                                   "must name an allowed host: loopback names, the --host address and every "
                                   "--allowed-host (DNS rebinding protection). See docs/security.md.")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1; anything else warns)")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--instance", default=None, help="instance folder (database); default ./instance")
    p.add_argument("--allow-apply", action="store_true", help="allow applying plans from the browser (token needed)")
    p.add_argument("--allowed-host", action="append", default=[], metavar="NAME",
                   help="a Host name clients may use (repeatable; '.example.org' allows its subdomains), e.g. the "
                        "name a TLS reverse proxy forwards")
    p.add_argument("--threads", type=int, default=8, help="worker threads (default 8)")
    p.add_argument("--timeout", type=int, default=30, help="seconds before an idle or half-sent connection is "
                                                          "dropped (default 30)")
    p.add_argument("--connection-limit", type=int, default=100, help="simultaneous connections (default 100)")
    p.add_argument("--trusted-proxy", default=None, metavar="ADDR",
                   help="address of a reverse proxy whose X-Forwarded-For/-Proto to believe (logs and apply "
                        "records then show the real client)")
    p.set_defaults(func=cmd_serve)
