"""The editor's second round of endpoints, registered by the app factory in one call.

* :mod:`.explain` - one ordered pair, worded for that pair, every hop both ways;
* :mod:`.status` - the index page's per-design status (errors, warnings, blocked pairs);
* :mod:`.rehearsal` - build the design in throwaway namespaces and ping every pair (a job);
* :mod:`.livestate` - discover a host into a new design, and drift of a saved version.
"""
from __future__ import annotations

from flask import Flask

__all__ = ["register"]


def register(app: Flask) -> None:
    from . import explain, livestate, rehearsal, status

    rehearsal.init_app(app)
    status.init_app(app)
    for bp in (explain.bp, status.bp, rehearsal.bp, livestate.bp):
        app.register_blueprint(bp)
