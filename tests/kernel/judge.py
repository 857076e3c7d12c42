"""The kernel as judge of one hand-made design: build it in throwaway namespaces, ping every pair
from cold caches, and fail with every disagreement in words. Races the model names
(``timing: true``) are excused; nothing else is."""
from __future__ import annotations

from planner.core.model import design_from_dict
from planner.core.reachability import Prediction, predict
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
