"""Gates in front of every request: the ``Host`` allow list and the origin of state changes.

DNS rebinding: a web page on ``evil.example`` re-points its own name at 127.0.0.1 and then talks
to this server as *same-origin* - it can read the CSRF token from a page and use it. What it cannot
change is the ``Host`` header its browser sends (``evil.example:PORT``), so every request whose
host is not on the allow list (loopback names, the bound address, ``--allowed-host``) is refused
with 400 ``host_not_allowed`` before anything is read or written.

Cross-site requests: on POST/PUT/PATCH/DELETE a browser sends ``Origin`` (or at least
``Referer``); when one is present its host and port must be this server's ``Host``, else 403
``origin_refused``. Scripts that send neither are still held by the CSRF token (:mod:`.csrf`).
"""
from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from urllib.parse import urlsplit

from flask import Flask, Response, request

from .errors import ApiError, error_response

__all__ = ["LOOPBACK_HOSTS", "allowed_hosts", "host_allowed", "hostname_of", "init_app", "is_loopback"]

#: Names a browser always resolves to this machine (RFC 6761 ``localhost`` and its subdomains).
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")
_UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
_WILDCARD_BINDS = {"", "0.0.0.0", "::"}


def hostname_of(host: str) -> str:
    """``Host`` header (``name[:port]``, ``[v6]:port``) -> lower-case name without port or final dot."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    if host.count(":") > 1:  # a bare IPv6 address (no port possible)
        return host
    return host.rsplit(":", 1)[0].rstrip(".")


def is_loopback(name: str) -> bool:
    """Whether ``name`` (a host name or address literal) always means this machine."""
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def allowed_hosts(bind: str | None, extra: Iterable[str] = ()) -> list[str]:
    """The allow list for a server bound to ``bind``: loopback names, the bound address (unless a
    wildcard) and the names the operator added."""
    names = list(LOOPBACK_HOSTS)
    if bind and bind not in _WILDCARD_BINDS:
        names.append(hostname_of(bind))
    names += [hostname_of(x) for x in extra if x.strip()]
    return list(dict.fromkeys(names))


def host_allowed(host: str, allowed: Iterable[str]) -> bool:
    """``*`` allows every host (documented as unsafe); ``.example.org`` allows that domain and
    its subdomains; loopback names and addresses are always allowed."""
    name = hostname_of(host)
    if not name:
        return False
    if is_loopback(name):
        return True
    for entry in allowed:
        if entry == "*" or entry == name or (entry.startswith(".") and (name.endswith(entry) or name == entry[1:])):
            return True
    return False


def _origin_netloc() -> tuple[str, str] | None:
    """(header name, host[:port]) of where a state-changing request says it comes from."""
    for header in ("Origin", "Referer"):
        value = request.headers.get(header)
        if value:
            if value.strip().lower() == "null":  # sandboxed frame, file:, data: URL
                return header, "null"
            try:
                return header, (urlsplit(value.strip()).netloc or "null").lower()
            except ValueError:
                return header, "null"
    return None


def _default_port_stripped(netloc: str) -> str:
    for suffix in (":80", ":443"):
        if netloc.endswith(suffix):
            return netloc[: -len(suffix)]
    return netloc


def _host_refused() -> Response:
    """400 without a page template: the error page carries a CSRF token, which must not leak."""
    name = hostname_of(request.host)
    message = (f"this server does not answer to the host {name!r}; if that name is meant to reach it, "
               f"start it with --allowed-host {name or 'NAME'}")
    if request.path.startswith("/api/"):
        return error_response(400, "host_not_allowed", message)
    return Response(message + "\n", status=400, mimetype="text/plain")


def init_app(app: Flask) -> None:
    """Register the two checks; they run before the CSRF check and every view."""

    @app.before_request
    def _check_host_and_origin():
        allowed = app.config.get("ALLOWED_HOSTS") or LOOPBACK_HOSTS
        if not host_allowed(request.host, allowed):
            app.logger.warning("refused a request for host %r from %s (%s %s)", request.host,
                               request.remote_addr, request.method, request.path)
            return _host_refused()
        if request.method not in _UNSAFE:
            return None
        origin = _origin_netloc()
        if origin is None:
            return None
        header, netloc = origin
        if _default_port_stripped(netloc) != _default_port_stripped(request.host.lower()):
            app.logger.warning("refused a cross-origin %s %s from %s (%s: %s)", request.method, request.path,
                               request.remote_addr, header, netloc)
            raise ApiError(403, f"cross-origin request refused: the {header} header names {netloc!r}, "
                                f"not this server ({request.host}); use the designer's own pages", "origin_refused")
        return None
