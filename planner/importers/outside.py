"""The part of a design no container or VM format can say: switches, stations, the NICs' cables.

Docker networks, Multus NADs, libvirt domains and containerlab topologies describe one host's side
of a LAN. A design also says what is outside the hosts - which switch port each NIC is cabled to,
whether that port reflects frames, the gateway and other stations - and reachability depends on
it. The exporters therefore carry that part along as one compact JSON value in the format's own
free-form metadata (a Docker label, a Kubernetes annotation, libvirt ``<metadata>``, a containerlab
label), and the importers read it back. A file without it (one written by hand) is imported with
derived defaults instead: one switch per network, the gateway as a station.

The value (``v`` 1)::

    {"v": 1, "design": "NAME", "uplinks": {"HOST": {"eth0": {"switch": "sw1", "port": "p1"}}},
     "switches": [{"name": "sw1", "ports": [{"name": "p1", "hairpin": true}]}],
     "stations": [{"name": "gw", "uplink": {...}, "mac": "...", "addresses": ["10.0.0.1/24"]}]}
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from planner.core.model import Design, design_to_dict

__all__ = ["OUTSIDE_VERSION", "DOCKER_LABEL", "K8S_ANNOTATION", "outside_fragment", "encode_outside",
           "decode_outside"]

OUTSIDE_VERSION = 1
#: the Docker/Compose/containerlab label that carries the fragment
DOCKER_LABEL = "mvplan.outside"
#: the Kubernetes annotation that carries it (prefix "mvplan" is a valid DNS subdomain)
K8S_ANNOTATION = "mvplan/outside"


def outside_fragment(design: Design, hosts: Iterable[str] | None = None) -> dict[str, Any]:
    """What the design says outside ``hosts`` (default: all): the NICs' uplinks, switches, stations."""
    wanted = set(hosts) if hosts is not None else None
    doc = design_to_dict(design)
    uplinks: dict[str, dict[str, Any]] = {}
    for h in design.hosts:
        if wanted is not None and h.name not in wanted:
            continue
        cables = {p.name: p.uplink.to_dict() for p in h.parents if p.uplink is not None}
        if cables:
            uplinks[h.name] = cables
    return {"v": OUTSIDE_VERSION, "design": design.name, "uplinks": uplinks,
            "switches": doc["switches"], "stations": doc["stations"]}


def encode_outside(fragment: dict[str, Any]) -> str:
    """Compact, sorted JSON: one line, stable across runs."""
    return json.dumps(fragment, separators=(",", ":"), sort_keys=True)


def decode_outside(text: object) -> tuple[dict[str, Any] | None, str | None]:
    """(fragment, None), or (None, why it cannot be used)."""
    if not isinstance(text, str):
        return None, "is not a string"
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, f"is not JSON ({exc.msg})"
    if not isinstance(value, dict) or value.get("v") != OUTSIDE_VERSION:
        return None, f"is not an mvplan outside fragment of version {OUTSIDE_VERSION}"
    for key, kind in (("uplinks", dict), ("switches", list), ("stations", list)):
        if not isinstance(value.get(key, kind()), kind):
            return None, f"has a {key!r} that is not a {kind.__name__}"
    return value, None
