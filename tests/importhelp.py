"""Helpers for importer tests: read fixture files, import them, look things up by code."""
from __future__ import annotations

from pathlib import Path

from planner.core.model import design_from_dict
from planner.importers import ImportResult, Source, import_sources

DATA = Path(__file__).resolve().parent / "data" / "import"


def source(rel: str) -> Source:
    return Source(rel, (DATA / rel).read_text("utf-8"))


def run(fmt: str, *rels: str, **kw) -> ImportResult:
    return import_sources(fmt, [source(r) for r in rels], **kw)


def codes(result: ImportResult) -> list[str]:
    return [str(w.code) for w in result.warnings]


def children(result: ImportResult, host: str | None = None) -> dict[str, dict]:
    """``ns/name`` -> child document (of one host, or every host)."""
    out = {}
    for h in result.document["hosts"]:
        if host is None or h["name"] == host:
            for c in h.get("children", []):
                out[f"{c.get('namespace', '')}/{c['name']}"] = c
    return out


def loads(result: ImportResult):
    """The imported document is a usable design."""
    return design_from_dict(result.document)
