"""Exporters: pure text from the compiled plan - the same op list the applier runs.

``export(design, fmt, **opts)`` returns an :class:`ExportResult`: ``files`` (name -> text) and
``warnings`` (what the format cannot express; each is also a comment in the output).

Formats and their options:

* ``iproute2`` - POSIX sh, one ``ip``/``bridge`` command per op. ``teardown``, ``hairpin_style``
  (``bridge`` | ``brctl`` | ``sysfs``), ``netns_prefix``, ``batch``.
* ``nmstate`` - nmstate YAML, or Kubernetes NodeNetworkConfigurationPolicy per host
  (``kubernetes``; default: when the design has several hosts).
* ``networkd`` - systemd-networkd ``.netdev``/``.network`` files.
* ``docker`` - ``docker network create``/``docker run`` commands and a Compose file per host.
* ``multus`` - a Multus NetworkAttachmentDefinition (CNI macvlan) per parent, and the pods.
  ``node_names`` (host -> Kubernetes node name).
* ``libvirt`` - a domain XML per guest (namespace) with ``<interface type='direct'>`` for its
  macvtap children, and each interface alone.
* ``containerlab`` - a containerlab topology per host (macvlan links, Linux bridges, exec lines).

Common options: ``plan`` (a precompiled :class:`~planner.core.compiler.Plan`), ``hosts``, ``check``.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from planner.core.gcpause import without_gc_pauses
from planner.core.model import Design

if TYPE_CHECKING:
    from ._common import ExportResult

__all__ = ["export", "ExportResult", "FORMATS"]

FORMATS = ("iproute2", "nmstate", "networkd", "docker", "multus", "libvirt", "containerlab")


def __getattr__(name: str) -> Any:
    """``ExportResult`` on first use: naming the formats (the CLI's parser) needs no compiler."""
    if name == "ExportResult":
        from ._common import ExportResult

        return ExportResult
    raise AttributeError(f"module 'planner.exporters' has no attribute {name!r}")


@without_gc_pauses
def export(design: Design, fmt: str, **opts) -> ExportResult:
    """Render ``design`` in format ``fmt``; raises ``ValueError`` for an unknown format or option
    and :class:`~planner.core.errors.CompileError` for a design with check errors."""
    fn: Callable[..., ExportResult]
    if fmt == "iproute2":
        from .iproute2 import export_iproute2 as fn
    elif fmt == "nmstate":
        from .nmstate import export_nmstate as fn
    elif fmt == "networkd":
        from .networkd import export_networkd as fn
    elif fmt == "docker":
        from .docker import export_docker as fn
    elif fmt == "multus":
        from .multus import export_multus as fn
    elif fmt == "libvirt":
        from .libvirt import export_libvirt as fn
    elif fmt == "containerlab":
        from .containerlab import export_containerlab as fn
    else:
        raise ValueError(f"unknown export format {fmt!r}; use one of: {', '.join(FORMATS)}")
    try:
        return fn(design, **opts)
    except TypeError as exc:
        if "unexpected keyword argument" in str(exc):
            raise ValueError(f"{fmt}: {exc}") from None
        raise
