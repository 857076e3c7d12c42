"""Random edits of design documents, for property tests: every edit keeps the document loadable
(it may make it a design the kernel refuses - the prediction must still not raise)."""
from __future__ import annotations

import copy
import random
from collections.abc import Callable

__all__ = ["mutate", "MUTATIONS"]


def _hosts(doc: dict) -> list[dict]:
    return doc.get("hosts") or []


def _children(doc: dict) -> list[tuple[dict, dict]]:
    return [(h, c) for h in _hosts(doc) for c in h.get("children", [])]


def _toggle_hairpin(doc: dict, rng: random.Random) -> None:
    ports = [p for s in doc.get("switches", []) for p in s.get("ports", [])]
    ports += [p for h in _hosts(doc) for b in h.get("bridges", []) for p in b.get("ports", [])]
    if ports:
        p = rng.choice(ports)
        p["hairpin"] = not p.get("hairpin", False)


def _share_mac(doc: dict, rng: random.Random) -> None:
    kids = [c for _h, c in _children(doc) if c.get("mac") and c.get("mode") != "passthru"]
    if len(kids) >= 2:
        a, b = rng.sample(kids, 2)
        b["mac"] = a["mac"]


def _parent_down(doc: dict, rng: random.Random) -> None:
    parents = [p for h in _hosts(doc) for p in h.get("parents", [])]
    if parents:
        rng.choice(parents)["state"] = "down"


def _change_mode(doc: dict, rng: random.Random) -> None:
    kids = [c for _h, c in _children(doc)]
    if kids:
        c = rng.choice(kids)
        c["mode"] = rng.choice(("bridge", "vepa", "private", "source"))
        if c["mode"] != "source":
            c.pop("source_macs", None)


def _into_host_namespace(doc: dict, rng: random.Random) -> None:
    """Move a child into its host's namespace: several interfaces then share it (ARP flux)."""
    kids = [c for _h, c in _children(doc) if c.get("namespace")]
    if kids:
        c = rng.choice(kids)
        del c["namespace"]
        c["name"] = c["name"] + "h"


def _share_namespace(doc: dict, rng: random.Random) -> None:
    kids = [(h, c) for h, c in _children(doc) if c.get("namespace")]
    if len(kids) >= 2:
        (h1, a), (h2, b) = rng.sample(kids, 2)
        if h1 is h2 and a["name"] != b["name"]:
            b["namespace"] = a["namespace"]


def _static_neighbours(doc: dict, rng: random.Random) -> None:
    kids = [c for _h, c in _children(doc) if c.get("addresses")]
    if kids:
        rng.choice(kids)["neighbors"] = "all-peers"


def _host_route(doc: dict, rng: random.Random) -> None:
    addressed = [c for _h, c in _children(doc) if c.get("addresses")]
    if len(addressed) >= 2:
        a, b = rng.sample(addressed, 2)
        to = b["addresses"][0].split("/")[0] + "/32"
        if all(r["to"] != to for r in a.get("routes", [])):
            a.setdefault("routes", []).append({"to": to})


def _drop_address(doc: dict, rng: random.Random) -> None:
    addressed = [c for _h, c in _children(doc) if c.get("addresses")]
    if addressed:
        del rng.choice(addressed)["addresses"]


def _child_down(doc: dict, rng: random.Random) -> None:
    kids = [c for _h, c in _children(doc)]
    if kids:
        rng.choice(kids)["state"] = "down"


MUTATIONS: tuple[Callable[[dict, random.Random], None], ...] = (
    _toggle_hairpin, _toggle_hairpin, _share_mac, _parent_down, _change_mode, _change_mode, _into_host_namespace,
    _share_namespace, _static_neighbours, _host_route, _drop_address, _child_down,
)


def mutate(doc: dict, seed: int, edits: int = 3) -> dict:
    """A copy of ``doc`` with ``edits`` random edits (deterministic per seed)."""
    rng = random.Random(f"mutate-{seed}")
    out = copy.deepcopy(doc)
    out["name"] = f"{doc.get('name', 'design')}-m{seed}"
    for _ in range(edits):
        rng.choice(MUTATIONS)(out, rng)
    return out
