"""Differences between two designs: objects and reachability (pure).

Like Batfish's differential reachability: besides which objects were added, removed or changed,
say which endpoint pairs gained or lost reachability, with the new verdict's reason.

>>> from planner.core.model import design_from_dict
>>> a = design_from_dict({"switches": [{"name": "sw1", "ports": [{"name": "p1"}]}]})
>>> b = design_from_dict({"switches": [{"name": "sw1", "ports": [{"name": "p1", "hairpin": True}]}]})
>>> d = diff_objects(a, b)
>>> d["changed"][0]["id"], d["changed"][0]["fields"]["hairpin"]
('switch:sw1/p1', {'from': False, 'to': True})
"""
from __future__ import annotations

from typing import Any

from .model import ALL_PEERS, Design, Iface, design_from_dict

__all__ = ["diff_designs", "diff_objects", "diff_predictions", "object_records"]

#: how many endpoint pairs each of gained/lost lists at most (the counts are always exact)
PAIR_LIMIT = 500

_IFACE_FIELDS = ("kind", "mode", "mac", "mtu", "state", "addresses", "addresses6", "neighbors", "routes", "routes6",
                 "lower", "declared_lower", "link", "master", "hairpin", "source_macs", "nopromisc", "parent_kind")


def _plain(value: Any) -> Any:
    if value == ALL_PEERS:
        return ALL_PEERS
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def _iface_record(i: Iface) -> dict:
    return {f: _plain(getattr(i, f)) for f in _IFACE_FIELDS}


def object_records(design: Design) -> dict[str, dict]:
    """Every object of a design keyed by its stable id, with its comparable fields.

    Interfaces (incl. stations) by iface id, hosts by name, switches as ``switch:S`` and switch
    ports as ``switch:S/P``.
    """
    out: dict[str, dict] = {}
    for h in design.hosts:
        out[h.name] = {"kind": "host"}
    for s in design.switches:
        out[f"switch:{s.name}"] = {"kind": "switch"}
        for p in s.ports:
            out[f"switch:{s.name}/{p.name}"] = {"kind": "switch-port", "hairpin": p.hairpin}
    for i in design.interfaces:
        out[i.id] = _iface_record(i)
    return out


def diff_objects(old: Design, new: Design) -> dict:
    """Objects added, removed and changed (with ``{field: {from, to}}``), in a stable order."""
    a, b = object_records(old), object_records(new)
    added = [{"id": k, "kind": b[k]["kind"]} for k in b if k not in a]
    removed = [{"id": k, "kind": a[k]["kind"]} for k in a if k not in b]
    changed = []
    for k in b:
        if k in a and a[k] != b[k]:
            fields = {f: {"from": a[k].get(f), "to": b[k].get(f)}
                      for f in sorted(set(a[k]) | set(b[k])) if a[k].get(f) != b[k].get(f)}
            changed.append({"id": k, "kind": b[k]["kind"], "fields": fields})
    meta = {}
    for f in ("name", "description"):
        if getattr(old, f) != getattr(new, f):
            meta[f] = {"from": getattr(old, f), "to": getattr(new, f)}
    return {"added": added, "removed": removed, "changed": changed, "meta": meta,
            "layout_changed": old.layout != new.layout}


def _index(pred: dict):
    """endpoint -> (class, parent anchor); (from, to, same_parent) -> verdict.

    ``same_parent`` distinguishes two endpoints hanging off one parent from two on different
    parents (the prediction words and decides those separately); a prediction without the key
    is indexed with ``same_parent=None``.
    """
    cls = {e["id"]: (e["class"], e.get("parent", e["id"])) for e in pred.get("endpoints", [])}
    verdicts = {(v["from"], v["to"], v.get("same_parent")): v for v in pred.get("verdicts", [])}
    has_same = any(v.get("same_parent") is not None for v in pred.get("verdicts", []))
    return cls, verdicts, has_same


def _lookup(verdicts: dict, has_same: bool, ca: tuple, cb: tuple) -> dict | None:
    same = (ca[1] == cb[1]) if has_same else None
    return verdicts.get((ca[0], cb[0], same))


def diff_predictions(old_pred: dict, new_pred: dict, limit: int = PAIR_LIMIT) -> dict:
    """Endpoint pairs (present in both predictions) that gained or lost reachability.

    Works per group, so it stays cheap for thousands of endpoints: endpoints are grouped by
    (old class, old parent, new class, new parent); one comparison covers every pair of two groups.
    """
    old_cls, old_v, old_same = _index(old_pred)
    new_cls, new_v, new_same = _index(new_pred)
    common = [e["id"] for e in new_pred.get("endpoints", []) if e["id"] in old_cls]
    groups: dict[tuple, list[str]] = {}
    for eid in common:
        groups.setdefault((old_cls[eid], new_cls[eid]), []).append(eid)
    keys = list(groups)
    gained: list[dict] = []
    lost: list[dict] = []
    counts = {"gained": 0, "lost": 0}
    compared = 0
    for ga in keys:
        for gb in keys:
            members_a, members_b = groups[ga], groups[gb]
            pairs = len(members_a) * len(members_b) - (len(members_a) if ga == gb else 0)
            if pairs <= 0:
                continue
            compared += pairs
            va = _lookup(old_v, old_same, ga[0], gb[0])
            vb = _lookup(new_v, new_same, ga[1], gb[1])
            ra = bool(va and va.get("reachable"))
            rb = bool(vb and vb.get("reachable"))
            if ra == rb:
                continue
            bucket, key = (gained, "gained") if rb else (lost, "lost")
            counts[key] += pairs
            for x in members_a:
                for y in members_b:
                    if x == y or len(bucket) >= limit:
                        continue
                    bucket.append({"from": x, "to": y,
                                   "reason": (vb or {}).get("reason", ""), "message": (vb or {}).get("message", ""),
                                   "fix": (vb or {}).get("fix", ""),
                                   "was_reason": (va or {}).get("reason", ""),
                                   "was_message": (va or {}).get("message", "")})
    old_ids, new_ids = set(old_cls), set(new_cls)
    out = {"gained": gained, "lost": lost, "gained_count": counts["gained"], "lost_count": counts["lost"],
           "compared_pairs": compared,
           "endpoints_added": [e["id"] for e in new_pred.get("endpoints", []) if e["id"] not in old_ids],
           "endpoints_removed": [e["id"] for e in old_pred.get("endpoints", []) if e["id"] not in new_ids],
           "truncated": counts["gained"] > len(gained) or counts["lost"] > len(lost)}
    if isinstance(old_pred.get("ipv6"), dict) or isinstance(new_pred.get("ipv6"), dict):
        # the IPv6 pairs, compared the same way (a side without IPv6 has no IPv6 endpoints)
        out["ipv6"] = diff_predictions(old_pred.get("ipv6") or {}, new_pred.get("ipv6") or {}, limit)
    return out


def _both_families(d: Design, predict) -> dict:
    """The IPv4 prediction, with the IPv6 one under ``ipv6`` when the design has IPv6 addresses."""
    out = predict(d).to_dict()
    if d.has_ipv6():
        out["ipv6"] = predict(d.family_view(6)).to_dict()
    return out


def _design(d: Design | dict) -> Design:
    return d if isinstance(d, Design) else design_from_dict(d)


def diff_designs(old: Design | dict, new: Design | dict, *, reachability: bool = True,
                 old_prediction: dict | None = None, new_prediction: dict | None = None) -> dict:
    """Full diff of two designs (documents are validated; a bad one raises DesignError).

    Returns ``{"objects": ..., "reachability": ... or None, "summary": {added, removed, changed,
    gained, lost}}``. Predictions already computed (as ``Prediction.to_dict()``) may be passed in.
    """
    a, b = _design(old), _design(new)
    objects = diff_objects(a, b)
    reach = None
    if reachability:
        from .reachability import predict

        pa = old_prediction if old_prediction is not None else _both_families(a, predict)
        pb = new_prediction if new_prediction is not None else _both_families(b, predict)
        reach = diff_predictions(pa, pb)
    summary = {"added": len(objects["added"]), "removed": len(objects["removed"]),
               "changed": len(objects["changed"]),
               "gained": reach["gained_count"] if reach else 0, "lost": reach["lost_count"] if reach else 0}
    if reach and "ipv6" in reach:
        summary["ipv6_gained"], summary["ipv6_lost"] = reach["ipv6"]["gained_count"], reach["ipv6"]["lost_count"]
    return {"objects": objects, "reachability": reach, "summary": summary}
