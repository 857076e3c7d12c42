"""Design text (JSON or YAML) -> a plain document; nothing is validated here beyond syntax.

YAML is read with YAML 1.2-like scalars: ``on``/``no`` stay strings and ``12:34:56`` is not a
base-60 integer (a MAC address must never turn into a number). Both syntaxes go through the gates
of :mod:`.limits` (aliases, depth, sizes, integers, NaN, surrogates), so no text reaches the loader
that expands past what a design may be.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from ..errors import DesignError, InputProblem
from .limits import UPLOAD, LimitedComposer, Sizes, check_document, parse_json_text, yaml_int

__all__ = ["parse_design_text", "read_design_text"]


class _StrictLoader(LimitedComposer, yaml.SafeLoader):
    """YAML 1.2-like booleans/ints: 'on'/'no' stay strings, 12:34:56 is not a base-60 int; the
    composer's alias and depth gates (:class:`.limits.LimitedComposer`)."""


_StrictLoader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v
        if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float",
                       "tag:yaml.org,2002:timestamp")]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$(?![\s\S])"), list("tTfF"))
_StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^[-+]?(?:0|[1-9][0-9]*)$(?![\s\S])"), list("-+0123456789"))
_StrictLoader.add_constructor("tag:yaml.org,2002:int", yaml_int)


def parse_design_text(text: str, filename: str = "", sizes: Sizes = UPLOAD) -> dict[str, Any]:
    """Parse JSON or YAML text into a plain document (no validation beyond syntax and ``sizes``:
    :data:`.limits.UPLOAD` unless the caller knows the text is the user's own, :data:`.limits.LOCAL`)."""
    text = text.lstrip("\ufeff")
    stripped = text.lstrip()
    try:
        if filename.endswith(".json") or stripped.startswith("{"):
            doc = parse_json_text(text)
        else:
            doc = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}"
        raise DesignError(InputProblem("", f"not valid JSON: {exc.msg} at {where}")) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        loc = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
        raise DesignError(InputProblem("", f"not valid YAML{loc}: {getattr(exc, 'problem', exc)}")) from None
    except RecursionError:  # pragma: no cover - the composer's depth gate comes first
        raise DesignError(InputProblem("", "nested too deep")) from None
    if not isinstance(doc, dict):
        raise DesignError(InputProblem("", "a design must be a mapping with keys such as 'hosts', 'switches', "
                                           "'stations'"))
    check_document(doc, sizes)
    return doc



def read_design_text(source: str | Path) -> tuple[str, str]:
    """The text of a design file and its name (for error messages and the JSON/YAML choice)."""
    path = Path(source)
    try:
        return path.read_text("utf-8"), path.name
    except OSError as exc:
        raise DesignError(InputProblem("", f"cannot read {path}: {exc.strerror}")) from None
    except UnicodeDecodeError:
        raise DesignError(InputProblem("", f"{path} is not UTF-8 text")) from None
