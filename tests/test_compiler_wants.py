"""A created link is its want's expectation, down, unmarked as a port, with an empty source list."""
from __future__ import annotations

from dataclasses import replace

from planner.core.compiler.wants import as_created, host_wants
from planner.core.model import design_from_dict
from planner.lab.generate import random_design


def test_as_created_is_the_expectation_down():
    checked = 0
    for seed in range(60):
        d = design_from_dict(random_design(seed))
        for h in d.hosts:
            for w in host_wants(d, h.name).wants:
                e = w.expect
                want = replace(e, state="down", master=None, hairpin=None,
                               source_macs=() if e.source_macs is not None else None)
                assert as_created(w, d) == want
                checked += 1
    assert checked > 500
