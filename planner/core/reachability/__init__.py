"""Predict reachability (IPv4, and IPv6 in the design's IPv6 view) between every pair of endpoints,
the way the kernel decides it.

A verdict means exactly: ``ping -c1 -I <A's address> <B's address>`` run in A's namespace gets a
reply, starting from cold neighbour caches and cold bridge learning tables (only static entries
present).

* :mod:`.world` compiles a design into the devices a frame meets;
* :mod:`.sim` replays one ping frame by frame (the reference for every verdict);
* :mod:`.words` turns what happened into a reason code, hops and a sentence;
* :mod:`.fixer` finds a one-line fix for a blocked pair;
* :mod:`.classes` groups endpoints whose verdicts are provably equal, and lists the pairs that
  must be replayed alone;
* :mod:`.predict` puts it together (:func:`predict`, :func:`explain`);
* :mod:`.dad` replays IPv6 duplicate address detection (which duplicates the kernel catches);
* :mod:`.whatif` overrides hairpin flags and parent states without editing the design.
"""
from __future__ import annotations

from .predict import Prediction, explain, predict, predict_families, replay
from .verdict import REASONS, Filter, Hop, Reason, Remedy, Step, Verdict
from .whatif import apply_what_if

__all__ = ["Verdict", "Prediction", "predict", "predict_families", "explain",
            "replay", "apply_what_if", "REASONS", "Reason", "Remedy",
           "Filter", "Step", "Hop"]
