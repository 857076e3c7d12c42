"""The kernel as judge of one hand-made design: build it in throwaway namespaces, ping every pair
from cold caches, and fail with every disagreement in words. Races the model names
(``timing: true``) are excused; nothing else is."""
from __future__ import annotations

from planner.core.model import design_from_dict
from planner.core.reachability import Prediction, predict, predict_families
from planner.lab import measure


def agree(doc: dict) -> tuple[dict[tuple[str, str], bool], Prediction]:
    """(what the kernel measured per ordered pair, the prediction), after asserting they agree."""
    design = design_from_dict(doc)
    pred = predict(design)
    measured = measure(design)
    wrong = [f"{a} -> {b}: predicted {pred.reachable(a, b)} ({pred.verdict(a, b).reason}), kernel {got}"
             for (a, b), got in sorted(measured.items()) if got != pred.reachable(a, b) and not pred.timing(a, b)]
    assert not wrong, "prediction and kernel disagree:\n" + "\n".join(wrong)
    return measured, pred


def agree6(doc: dict) -> dict[tuple[str, str], bool]:
    """What the kernel measured per ordered IPv6 pair (``ping -6``), after asserting it agrees with
    the IPv6 prediction (races the model names excused)."""
    design = design_from_dict(doc)
    pred = predict_families(design)[6]
    measured = measure(design, family=6)
    assert set(measured) == set(pred.matrix())
    wrong = [f"{a} -> {b}: predicted {pred.reachable(a, b)} ({pred.verdict(a, b).reason}), kernel {got}"
             for (a, b), got in sorted(measured.items()) if got != pred.reachable(a, b) and not pred.timing(a, b)]
    assert not wrong, "IPv6 prediction and kernel disagree:\n" + "\n".join(wrong)
    return measured
