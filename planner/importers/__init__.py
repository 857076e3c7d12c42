"""Importers: what people already run (Docker, Kubernetes/Multus, libvirt, containerlab) -> a design.

Pure parsing: every importer takes the files' names and text (:class:`Source`) and returns an
:class:`ImportResult` - a format-v1 design document and the :class:`ImportWarning` list of what it
could not map (VLAN parents, DHCP-only IPAM, other drivers, guessed names...), never silently.
Reading files and stdin is the caller's job (``mvplan import``, the web upload).

``import_sources(fmt, sources, host=None, name=None)``: ``fmt`` is one of :data:`FORMATS` (or an
alias in :data:`ALIASES`); ``host`` names the host the files describe (default: what the files say,
else a per-format default), ``name`` the design.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

from planner.core.errors import DesignError, InputProblem, MvplanError
from planner.core.model import design_from_dict

from ._build import DesignBuilder
from ._result import ImportCode, ImportFailure, ImportResult, ImportWarning, Source

__all__ = ["FORMATS", "ALIASES", "import_sources", "ImportResult", "ImportWarning", "ImportCode", "ImportFailure",
           "Source", "canonical_format"]

#: format -> (what it reads, the default host name)
FORMATS: dict[str, tuple[str, str]] = {
    "docker": ("docker network inspect / docker inspect JSON, Compose files", "docker-host"),
    "kubernetes": ("NetworkAttachmentDefinitions (CNI macvlan) and pods with network annotations", "node"),
    "libvirt": ("domain XML with <interface type='direct'> (macvtap)", "hypervisor"),
    "containerlab": ("containerlab topology files with macvlan links", "clab-host"),
}
#: format -> what an input must hold for there to be anything to import
WANTED: dict[str, str] = {
    "docker": "macvlan network ('Driver: macvlan', or a Compose network with 'driver: macvlan')",
    "kubernetes": "pod attached to a NetworkAttachmentDefinition with a CNI macvlan config",
    "libvirt": "<interface type='direct'> in a domain",
    "containerlab": "macvlan link (a 'macvlan:' endpoint or 'type: macvlan')",
}
ALIASES = {"compose": "docker", "multus": "kubernetes", "k8s": "kubernetes", "clab": "containerlab"}


def canonical_format(fmt: str) -> str:
    """The format a name or alias stands for; ValueError naming the choices."""
    real = ALIASES.get(fmt, fmt)
    if real not in FORMATS:
        raise ValueError(f"unknown import format {fmt!r}; use one of: {', '.join(list(FORMATS) + list(ALIASES))}")
    return real


def _reader(fmt: str) -> Callable[[list[Source], DesignBuilder], str]:
    if fmt == "docker":
        from .docker import import_docker as fn
    elif fmt == "kubernetes":
        from .kubernetes import import_kubernetes as fn
    elif fmt == "libvirt":
        from .libvirt import import_libvirt as fn
    else:
        from .containerlab import import_containerlab as fn
    return fn


def import_sources(fmt: str, sources: Sequence[Source], *, host: str | None = None,
                   name: str | None = None) -> ImportResult:
    """Import ``sources`` as format ``fmt``. Raises :class:`ImportFailure` when a file cannot be read
    at all or the result is not a usable design (each problem names the file or the design path)."""
    real = canonical_format(fmt)
    if not sources:
        raise ImportFailure(InputProblem("(command line)", "no input files"))
    b = DesignBuilder(name=name, host=host, default_host=FORMATS[real][1])
    try:
        fallback = _reader(real)(list(sources), b)
    except (TypeError, AttributeError, KeyError, IndexError, ValueError) as exc:
        if isinstance(exc, MvplanError):
            raise
        # the shape checks name the field; this is the net under them: a clear error, no traceback
        raise ImportFailure(InputProblem(", ".join(s.name for s in sources),
                                         f"not the shape {FORMATS[real][0]} have: a value of an unexpected type "
                                         f"or form ({type(exc).__name__}: {exc})")) from None
    doc = b.document(fallback)
    if not doc["hosts"]:
        # an empty design is no answer: say what was looked for, and what was found instead
        found = [InputProblem(f"{w.source}: {w.where}" if w.where else w.source, f"[{w.code}] {w.message}")
                 for w in b.warnings]
        raise ImportFailure([InputProblem(", ".join(s.name for s in sources),
                                          f"nothing to import: no {WANTED[real]} in the file(s)"), *found])
    try:
        design_from_dict(doc)
    except DesignError as exc:
        raise ImportFailure([InputProblem(f"imported design: {p.path}", p.message) for p in exc.problems]) from None
    return ImportResult(document=doc, warnings=list(b.warnings))
