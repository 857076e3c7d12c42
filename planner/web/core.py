"""The web layer's only door into the core: rules, reachability, compiler, exporters.

Each function takes a validated :class:`~planner.core.model.Design` (or a document) and returns plain
JSON-ready data.
"""
from __future__ import annotations

import contextlib
import gc
import threading
from typing import Any

from planner import exporters
from planner.core import compiler, reachability, rules
from planner.core.errors import CompileError, DesignError
from planner.core.model import Design, design_from_dict

from .errors import ApiError, invalid_design

__all__ = ["load", "check", "analyse", "predict", "apply_what_if", "plan", "export", "capabilities", "EXPORT_FORMATS",
           "DOCUMENT_FORMATS", "summarize", "editor_view", "gc_held", "collect_young"]

#: formats produced by planner.exporters
EXPORT_FORMATS = ("iproute2", "nmstate", "networkd")
#: formats that are the design document itself
DOCUMENT_FORMATS = ("json", "yaml")


def load(doc: Any) -> Design:
    """Validate a document; 422 with every problem when it is not a usable design."""
    if not isinstance(doc, dict):
        raise ApiError(422, "a design must be a JSON object", "invalid_design",
                       {"problems": [{"path": "", "message": "a design must be a mapping with keys such as "
                                                             "'hosts', 'switches', 'stations'"}]})
    try:
        return design_from_dict(doc)
    except DesignError as exc:
        raise invalid_design(exc) from None


_gc_lock = threading.Lock()
_gc_holders = 0
_gc_was_enabled = True


@contextlib.contextmanager
def gc_held():
    """Keep Python's cyclic garbage collector out of one analysis.

    Validating and analysing a 1,000-endpoint design allocates some 10^5 objects, which sets off
    over a hundred collections along the way, now and then a full one of the whole heap (tens of
    milliseconds): a fifth of the request's time, spent while the user waits. Held here, they
    run afterwards instead (:func:`collect_young`, once the answer has been sent); reference
    counting still frees the request's garbage at once. The collector is process-wide, so holders
    are counted: it is back as it was when the last overlapping analysis ends.
    """
    global _gc_holders, _gc_was_enabled
    with _gc_lock:
        if _gc_holders == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_holders += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_holders -= 1
            if _gc_holders == 0 and _gc_was_enabled:
                gc.enable()


def collect_young() -> None:
    """The collections :func:`gc_held` put off (the young generations; the old one on its own schedule)."""
    gc.collect(1)


def check(design: Design) -> list[dict]:
    return [f.to_dict() for f in rules.check(design)]


def analyse(design: Design) -> tuple[list[dict], dict]:
    """Findings and prediction together, from one prediction (the IPv6 one under ``ipv6``)."""
    findings, prediction = rules.check_with_prediction(design)
    return [f.to_dict() for f in findings], _with_ipv6(design, prediction.to_dict())


def predict(design: Design) -> dict:
    return _with_ipv6(design, reachability.predict(design).to_dict())


def _with_ipv6(design: Design, prediction: dict) -> dict:
    """The IPv4 prediction with the IPv6 one beside it (``prediction["ipv6"]``) when the design has IPv6."""
    if design.has_ipv6():
        prediction["ipv6"] = reachability.predict(design.family_view(6)).to_dict()
    return prediction


def apply_what_if(doc: dict, hairpin: dict[str, bool], down: list[str]) -> dict:
    return reachability.apply_what_if(doc, hairpin=hairpin, down=down)


def counts(findings: list[dict]) -> dict:
    out = {"error": 0, "warning": 0, "info": 0}
    for f in findings:
        out[f["severity"]] = out.get(f["severity"], 0) + 1
    return out


def summarize(design: Design) -> dict:
    """Small facts about a design for headers and lists."""
    kinds: dict[str, int] = {}
    for i in design.interfaces:
        kinds[i.kind] = kinds.get(i.kind, 0) + 1
    return {"name": design.name, "hosts": len(design.hosts), "switches": len(design.switches),
            "stations": len(design.stations), "interfaces": len(design.interfaces),
            "endpoints": len(design.endpoints()), "kinds": kinds}


def interfaces(design: Design) -> list[dict]:
    """The resolved flat view the editor uses for placeholders (default MACs, MTUs, modes)."""
    return [{"id": i.id, "kind": i.kind, "path": i.path, "mac": i.mac, "mtu": i.mtu, "mode": i.mode,
             "lower": i.lower, "link": i.link} for i in design.interfaces]


#: what the editor reads of each part of a check answer (static/js/editor.js, panels.js, props.js)
EDITOR_ENDPOINT_KEYS = ("id", "address", "parent", "class")
EDITOR_VERDICT_DROP = ("hops", "reply_hops")
EDITOR_INTERFACE_KEYS = ("id", "mac", "mtu")


def _compact_prediction(pred: dict) -> dict:
    return {
        **{k: v for k, v in pred.items() if k not in ("endpoints", "classes", "verdicts", "ipv6")},
        "endpoints": [{k: e[k] for k in EDITOR_ENDPOINT_KEYS if k in e} for e in pred.get("endpoints", [])],
        "verdicts": [{k: v for k, v in vd.items() if k not in EDITOR_VERDICT_DROP} for vd in pred.get("verdicts", [])],
    }


def editor_view(payload: dict) -> dict:
    """The editor's compact form of a check answer: the same findings, counts and verdicts, minus
    what the editor never reads. For 1,000 endpoints this roughly halves the answer (the full
    ``classes`` lists repeat every endpoint id; the editor regroups endpoints by ``class``)."""
    out = dict(payload)
    pred = payload.get("prediction")
    if isinstance(pred, dict):
        out["prediction"] = _compact_prediction(pred)
        if isinstance(pred.get("ipv6"), dict):
            out["prediction"]["ipv6"] = _compact_prediction(pred["ipv6"])
    if "interfaces" in payload:
        out["interfaces"] = [{k: i[k] for k in EDITOR_INTERFACE_KEYS} for i in payload["interfaces"]]
    return out


def _check_errors(exc: CompileError) -> ApiError:
    return ApiError(422, str(exc), "check_errors", {"findings": [f.to_dict() for f in exc.findings]})


def plan(design: Design) -> list[dict]:
    try:
        p = compiler.compile_plan(design)
    except CompileError as exc:
        raise _check_errors(exc) from None
    return [{"index": n, "description": op.describe(), **{k: v for k, v in op.to_dict().items() if k != "index"}}
            for n, op in enumerate(p.ops, 1)]


def export(design: Design, fmt: str, **opts) -> tuple[dict[str, str], list[str]]:
    try:
        res = exporters.export(design, fmt, **opts)
    except CompileError as exc:
        raise _check_errors(exc) from None
    return dict(res.files), [str(w) for w in res.warnings]


def capabilities(allow_apply: bool = False) -> dict:
    return {"check": True, "predict": True, "what_if": True, "plan": True, "export": True,
            "apply": bool(allow_apply)}
