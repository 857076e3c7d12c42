"""Exporters: pure text from the compiled plan - the same op list the applier runs.

``export(design, fmt, **opts)`` returns an :class:`ExportResult`: ``files`` (name -> text) and
``warnings`` (what the format cannot express; each is also a comment in the output).

Formats and their options:

* ``iproute2`` - POSIX sh, one ``ip``/``bridge`` command per op. ``teardown``, ``hairpin_style``
  (``bridge`` | ``brctl`` | ``sysfs``), ``netns_prefix``, ``batch``.
* ``nmstate`` - nmstate YAML, or Kubernetes NodeNetworkConfigurationPolicy per host
  (``kubernetes``; default: when the design has several hosts).
* ``networkd`` - systemd-networkd ``.netdev``/``.network`` files.

Common options: ``plan`` (a precompiled :class:`~planner.core.compiler.Plan`), ``hosts``, ``check``.
"""
from __future__ import annotations

from planner.core.gcpause import without_gc_pauses
from planner.core.model import Design

from ._common import ExportResult

__all__ = ["export", "ExportResult", "FORMATS"]

FORMATS = ("iproute2", "nmstate", "networkd")


@without_gc_pauses
def export(design: Design, fmt: str, **opts) -> ExportResult:
    """Render ``design`` in format ``fmt``; raises ``ValueError`` for an unknown format or option
    and :class:`~planner.core.errors.CompileError` for a design with check errors."""
    if fmt == "iproute2":
        from .iproute2 import export_iproute2 as fn
    elif fmt == "nmstate":
        from .nmstate import export_nmstate as fn
    elif fmt == "networkd":
        from .networkd import export_networkd as fn
    else:
        raise ValueError(f"unknown export format {fmt!r}; use one of: {', '.join(FORMATS)}")
    try:
        return fn(design, **opts)
    except TypeError as exc:
        if "unexpected keyword argument" in str(exc):
            raise ValueError(f"{fmt}: {exc}") from None
        raise
