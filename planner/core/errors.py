"""A small exception tree for real failures (validation problems are findings, not exceptions).

``DesignError`` is raised only when a document cannot be turned into a model at all; it carries
every problem found, each with the path in the document and what is allowed there.
"""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["MvplanError", "DesignError", "InputLimitError", "InputProblem", "CompileError"]


class MvplanError(Exception):
    """Base of every mvplan exception."""


@dataclass(frozen=True)
class InputProblem:
    """One thing wrong with an input document: where (``children[3].parent``) and what."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path or '(document)'}: {self.message}"

    def to_dict(self) -> dict:
        return {"path": self.path, "message": self.message}


class DesignError(MvplanError, ValueError):
    """The document is not a usable design. ``problems`` lists every reason."""

    def __init__(self, problems: list[InputProblem] | InputProblem):
        if isinstance(problems, InputProblem):
            problems = [problems]
        self.problems = list(problems)
        super().__init__("; ".join(str(p) for p in self.problems) or "invalid design")


class InputLimitError(DesignError):
    """The document is larger than a design may be once parsed (aliases expanded, values counted):
    see :mod:`planner.core.model.limits`. ``limit`` names the limit, ``maximum`` is its value."""

    def __init__(self, problems: list[InputProblem] | InputProblem, *, limit: str, maximum: int):
        super().__init__(problems)
        self.limit = limit
        self.maximum = maximum


class CompileError(MvplanError):
    """A design with check errors cannot be turned into operations."""

    def __init__(self, message: str, findings=()):
        super().__init__(message)
        self.findings = list(findings)
