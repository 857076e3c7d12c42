"""Request bodies through the loader's gates (:mod:`planner.core.model.limits`).

Flask's ``request.get_json`` is ``json.loads``: it accepts ``NaN``, spends quadratic time on an
integer of 100,000 digits, and raises ``RecursionError`` (a 500) on JSON nested a few thousand
deep. Every JSON body of the API is parsed here instead, then checked as a whole: sizes past the
limits are ``413 too_large``; a problem inside ``document`` is ``422 invalid_design`` with its
path in the document (what the editor shows at the field); one elsewhere is ``400 bad_request``.
"""
from __future__ import annotations

from typing import Any

from flask import request

from planner.core.errors import DesignError, InputLimitError, InputProblem
from planner.core.model.limits import INT_MAX, check_document, parse_json_text

from .errors import ApiError, invalid_design

__all__ = ["json_body", "in_id_range"]


def in_id_range(value: int) -> bool:
    """Ids and version numbers are SQLite integers: 1 .. 2^63-1."""
    return 0 < value <= INT_MAX


def _document_relative(problem: InputProblem) -> InputProblem | None:
    """The problem with ``document`` taken off its path, or None when it is outside the document."""
    path = problem.path
    if path == "document":
        return InputProblem("", problem.message)
    if path.startswith("document."):
        return InputProblem(path[len("document."):], problem.message)
    if path.startswith("document["):  # pragma: no cover - the document is a mapping
        return InputProblem(path[len("document"):], problem.message)
    return None


def json_body() -> Any:
    """The parsed JSON body (None when there is none), within the limits."""
    raw = request.get_data(cache=True)
    if not raw:
        return None
    try:
        data = parse_json_text(raw)
    except DesignError as exc:
        raise ApiError(400, f"the request body is not usable JSON: {exc.problems[0].message}", "bad_json") from None
    except ValueError:  # JSONDecodeError, UnicodeDecodeError
        raise ApiError(400, "the request body is not valid JSON", "bad_json") from None
    try:
        check_document(data)
    except InputLimitError as exc:
        raise invalid_design(exc) from None
    except DesignError as exc:
        inner = _document_relative(exc.problems[0])
        if inner is not None:
            raise invalid_design(DesignError(inner)) from None
        where = exc.problems[0].path or "the body"
        raise ApiError(400, f"{where}: {exc.problems[0].message}", "bad_request") from None
    return data
