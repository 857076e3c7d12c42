"""``check(design)``: every rule the kernel enforces or that silently breaks traffic.

One small function per code, in three groups by what they need:

* :data:`~.refusals.REFUSALS` - the design alone: what the kernel refuses (every error) and what
  the design shows by itself. ``plan``, ``export`` and ``apply`` run only these
  (:func:`check_refusals`), so they never predict reachability;
* :data:`~.traffic.TRAFFIC` - the reachability prediction (hairpin, private mode, the host and
  its children, blast radius);
* :data:`~.advice.ADVICE` - fit and alternatives.
"""
from __future__ import annotations

from ..findings import SEVERITIES, Finding
from ..gcpause import without_gc_pauses
from ..model import Design
from ..reachability import Prediction, predict
from .advice import ADVICE, MANY_MACS_THRESHOLD
from .refusals import REFUSALS
from .traffic import TRAFFIC

__all__ = ["check", "check_with_prediction", "check_refusals", "REFUSALS", "TRAFFIC", "ADVICE", "MANY_MACS_THRESHOLD"]

_ORDER = {s: n for n, s in enumerate(SEVERITIES)}


def _sorted(findings: list[Finding]) -> list[Finding]:
    """Errors first, then warnings and info; by code, then subjects."""
    return sorted(findings, key=lambda f: (_ORDER[f.severity], f.code, f.subjects))


def check_refusals(design: Design) -> list[Finding]:
    """The findings that need no prediction (every error among them), sorted."""
    return _sorted([f for rule in REFUSALS for f in rule(design)])


@without_gc_pauses
def check_with_prediction(design: Design, prediction: Prediction | None = None) -> tuple[list[Finding], Prediction]:
    """Run every rule; returns the findings (errors first, then by code) and the prediction used."""
    if prediction is None:
        prediction = predict(design)
    out = [f for rule in REFUSALS for f in rule(design)]
    out += [f for rule in TRAFFIC for f in rule(design, prediction)]
    out += [f for rule in ADVICE for f in rule(design)]
    return _sorted(out), prediction


def check(design: Design) -> list[Finding]:
    """Every finding for ``design``: kernel refusals, silent traffic failures, advice."""
    return check_with_prediction(design)[0]
