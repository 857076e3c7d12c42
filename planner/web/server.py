"""``mvplan serve``: the designer behind waitress, a production WSGI server in pure Python.

Werkzeug's development server starts one thread per request without limit or timeout, so one
slow client (or a thousand) stalls or exhausts the process. waitress answers from a fixed pool of
``threads``, closes connections idle for ``timeout`` seconds (slowloris), caps simultaneous
connections, header and body sizes, and sends no ``Server`` banner. ``flask --app planner.web run``
stays for development only.
"""
from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass

from planner.core.errors import MvplanError

from . import MAX_CONTENT_LENGTH, create_app
from .hostcheck import allowed_hosts, hostname_of, is_loopback

__all__ = ["ServerLimits", "exposure_warnings", "serve", "waitress_options"]


class ServeError(MvplanError):
    """The designer cannot start (its port is taken, or the address is not this machine's)."""


@dataclass(frozen=True)
class ServerLimits:
    """The bounds the server runs under (``--threads``, ``--timeout``, ``--connection-limit``)."""
    threads: int = 8
    timeout: int = 30
    connection_limit: int = 100

    def __post_init__(self) -> None:
        for name in ("threads", "timeout", "connection_limit"):
            if getattr(self, name) < 1:
                raise ValueError(f"--{name.replace('_', '-')} must be at least 1")


def waitress_options(limits: ServerLimits, trusted_proxy: str | None = None) -> dict:
    """Keyword arguments for :func:`waitress.create_server`."""
    opts: dict = {
        "threads": limits.threads,
        "channel_timeout": limits.timeout,  # idle / half-sent requests are dropped after this
        "cleanup_interval": max(1, min(30, limits.timeout // 2)),
        "connection_limit": limits.connection_limit,
        "max_request_header_size": 64 * 1024,
        # a little over Flask's limit, so Flask answers 413 with the JSON envelope
        "max_request_body_size": MAX_CONTENT_LENGTH + 64 * 1024,
        "ident": None,  # no Server: banner
        "expose_tracebacks": False,
        "clear_untrusted_proxy_headers": True,
    }
    if trusted_proxy:
        opts.update(trusted_proxy=trusted_proxy, trusted_proxy_count=1,
                    trusted_proxy_headers={"x-forwarded-for", "x-forwarded-proto", "x-forwarded-host"})
    return opts


def exposure_warnings(host: str, allow_apply: bool) -> list[str]:
    """What to shout when the server is reachable from other machines over plain HTTP."""
    if is_loopback(hostname_of(host)):
        return []
    out = [f"listening on {host}, which other machines can reach: anyone on that network can read and change "
           "designs, and traffic is plain HTTP (passwords, tokens and designs travel in clear); run it on "
           "127.0.0.1 behind a TLS reverse proxy instead (docs/security.md)"]
    if allow_apply:
        out.append("--allow-apply on a non-loopback address: the apply token is all that stands between that "
                   "network and root changes to this machine's interfaces, and it travels in clear over HTTP")
    return out


def serve(host: str = "127.0.0.1", port: int = 8080, instance_path: str | None = None,
          allow_apply: bool = False, allowed: Iterable[str] = (), limits: ServerLimits | None = None,
          trusted_proxy: str | None = None) -> None:
    """Build the app and serve it until interrupted.

    The instance folder (database, session key) defaults to ``./instance`` in the current directory.
    With ``allow_apply`` a fresh random apply token is made and printed (``mvplan: apply token: ...``
    on stderr); the browser must send it with every apply request (docs/api.md).
    """
    from waitress import create_server

    from .applying import new_token

    limits = limits or ServerLimits()
    app = create_app(instance_path=instance_path or os.path.join(os.getcwd(), "instance"))
    app.config["ALLOW_APPLY"] = bool(allow_apply)
    app.config["APPLY_TOKEN"] = new_token() if allow_apply else None
    app.config["ALLOWED_HOSTS"] = allowed_hosts(host, allowed)
    try:
        server = create_server(app, host=host, port=port, **waitress_options(limits, trusted_proxy))
    except OSError as exc:  # the port is taken, or the address is not this machine's
        raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror or exc} - is another 'mvplan serve' "
                         "running there? Stop it, or pass --port with a free port (--host with an address of "
                         "this machine)") from None
    bound_port = getattr(server, "effective_port", port)
    shown = f"[{host}]" if host.count(":") > 1 else host
    say(f"designer on http://{shown}:{bound_port}/ (instance {app.instance_path}; waitress, {limits.threads} "
        f"threads, {limits.timeout}s timeout; hosts allowed: {', '.join(app.config['ALLOWED_HOSTS'])})")
    for warning in exposure_warnings(host, allow_apply):
        say("WARNING: " + warning)
    if allow_apply:
        say("applying from the browser is ON: enter this token in the editor's Apply tab")
        say(f"apply token: {app.config['APPLY_TOKEN']}")
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()


def say(line: str) -> None:
    print(f"mvplan: {line}", file=sys.stderr, flush=True)
