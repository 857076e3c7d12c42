"""The live state from the browser: Discover a host into a new design; Drift of a saved version.

Both read a target - this machine, or a network namespace standing for a host - with the same
code as ``mvplan discover`` (:func:`planner.netlink.discover.discover`) and ``mvplan apply``'s
dry run. They only read, but what they read is the machine's network configuration, so they sit
behind the same gate as applying (``--allow-apply`` and the apply token).

* ``POST /api/discover`` ``{"target", "host"?, "name"?}``: the live state as a design document,
  stored as a new design (201, with what discovery skipped).
* ``POST /api/designs/<id>/drift`` ``{"version"?, "target", "host"?}``: the saved version against
  the live state - the differences verification would report (:func:`planner.core.livestate.compare`
  through the applier), the plan an apply would run, and the objects added, removed and changed
  between the design and the discovered one (:func:`planner.core.diff.diff_objects`), limited to
  what a host can see of itself (no switches, stations or cables to switches).
"""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from planner.core.diff import object_records
from planner.core.errors import DesignError

from . import applying, core
from .errors import ApiError, invalid_design
from .store import NotFound

__all__ = ["bp", "host_objects", "object_drift"]

bp = Blueprint("livestate", __name__, url_prefix="/api")

#: fields a host cannot read about itself: where a NIC is cabled (the switch is elsewhere)
UNSEEN_FIELDS = frozenset({"link"})
#: fields the design may leave to the kernel (a NIC's own MAC, a child's MTU inherited from its
#: parent): compared only where the expected state decides them, as verification does
UNDECIDED_FIELDS = ("mac", "mtu")


def _body() -> dict:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ApiError(400, "the request body must be a JSON object", "bad_request")
    return data


def _read(target: applying.TargetSpec, host: str | None, name: str | None) -> tuple[dict, list[str]]:
    """Discover the target; every failure becomes an API error."""
    from planner.netlink.discover import discover

    try:
        return discover(target.netns, host=host, name=name)
    except Exception as exc:  # noqa: BLE001 - every failure becomes an API error, never a traceback
        raise applying._translate(exc, target) from None


def _name_arg(data: dict, key: str) -> str | None:
    v = data.get(key)
    if v is None or v == "":
        return None
    if not isinstance(v, str) or len(v) > 200:
        raise ApiError(400, f"'{key}' must be a name (text, at most 200 characters)", "bad_request")
    return v


@bp.post("/discover")
def discover_route():
    """Read a host (or a namespace standing for one) into a new design."""
    applying.check_enabled()
    applying.check_token()
    data = _body()
    target = applying.parse_target(data, real=False)
    host, name = _name_arg(data, "host"), _name_arg(data, "name")
    doc, skipped = _read(target, host, name)
    doc["description"] = f"discovered from {target.describe()} by the designer (mvplan discover)"
    try:
        core.load(doc)
    except ApiError as exc:
        raise ApiError(422, f"what was read from {target.describe()} is not a valid design: {exc.message}",
                       "invalid_design", exc.details) from None
    rec = current_app.extensions["mvplan_store"].create(doc, f"discovered from {target.describe()}")
    resp = jsonify({"id": rec["id"], "name": rec["name"], "url": f"/designs/{rec['id']}", "skipped": skipped,
                    "target": {**target.to_dict(), "describe": target.describe()},
                    "summary": core.summarize(core.load(doc))})
    resp.status_code = 201
    resp.headers["Location"] = f"/api/designs/{rec['id']}"
    return resp


def host_objects(design, host: str) -> dict[str, dict]:
    """The objects of one host as :func:`object_records` gives them, minus what it cannot see."""
    out = {}
    for key, rec in object_records(design).items():
        if key == host or key.startswith(host + "/"):
            out[key] = {f: v for f, v in rec.items() if f not in UNSEEN_FIELDS}
    return out


def _undecided(design, host: str) -> dict[str, set[str]]:
    """iface id -> the fields of :data:`UNDECIDED_FIELDS` the design leaves to the kernel."""
    from planner.core.compiler import expected_state

    expected = expected_state(design, hosts=[host]).host(host)
    out: dict[str, set[str]] = {}
    for i in design.interfaces:
        if i.host != host or expected is None:
            continue
        link = expected.link(i.namespace or "", i.name)
        if link is not None:
            out[i.id] = {f for f in UNDECIDED_FIELDS if getattr(link, f) is None}
    return out


def object_drift(design, live_design, host: str) -> dict:
    """Objects only in the design (missing live), only live (not in the design), and changed.

    A field the design leaves to the kernel (a NIC's MAC it does not pin) is not a change."""
    a, b = host_objects(design, host), host_objects(live_design, host)
    for key, fields in _undecided(design, host).items():
        for f in fields:
            a.get(key, {}).pop(f, None)
            b.get(key, {}).pop(f, None)
    missing = [{"id": k, "kind": a[k]["kind"]} for k in a if k not in b]
    extra = [{"id": k, "kind": b[k]["kind"]} for k in b if k not in a]
    changed = []
    for k in a:
        if k in b and a[k] != b[k]:
            delta = {f: {"design": a[k].get(f), "live": b[k].get(f)}
                     for f in sorted(set(a[k]) | set(b[k])) if a[k].get(f) != b[k].get(f)}
            changed.append({"id": k, "kind": a[k]["kind"], "fields": delta})
    return {"missing": missing, "extra": extra, "changed": changed}


@bp.post("/designs/<int:design_id>/drift")
def drift_route(design_id: int):
    """A saved version against the live state of a target."""
    applying.check_enabled()
    applying.check_token()
    data = _body()
    version = data.get("version")
    if version is not None and (not isinstance(version, int) or isinstance(version, bool)):
        raise ApiError(400, "'version' must be a version number", "bad_request")
    try:
        rec = current_app.extensions["mvplan_store"].get(design_id, version)
    except NotFound as exc:
        raise ApiError(404, str(exc), "not_found") from None
    target = applying.parse_target(data, real=False)
    design = core.load(rec["document"])
    host = applying.pick_host(design, data.get("host"))
    dry = applying.dry_run(design, rec, target, host)
    live_doc, skipped = _read(target, host, design.name)
    try:
        live_design = core.load(live_doc)
    except ApiError:
        live_design = None
    except DesignError as exc:  # pragma: no cover - core.load raises ApiError
        raise invalid_design(exc) from None
    objects = object_drift(design, live_design, host) if live_design is not None else None
    in_sync = not dry["differences"] and not dry["plan"]["count"]
    return jsonify({"design": dry["design"], "target": dry["target"], "host": host, "in_sync": in_sync,
                    "differences": dry["differences"], "plan": dry["plan"], "objects": objects, "skipped": skipped})
