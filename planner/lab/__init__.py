"""Throwaway network namespaces: the lab that builds a design and pings every pair, the random and
scale design generators, and the scratch-namespace helpers the kernel tests use.

An edge package: it runs ``ip`` and ``ping`` and needs root (the generators excepted).
"""
from __future__ import annotations

from .lab import Lab, LabError, default_prefix, endpoint_pairs, measure, measure_families, prerequisites

__all__ = ["Lab", "LabError", "default_prefix", "endpoint_pairs", "measure", "measure_families", "prerequisites"]
