"""Applying a saved design from the browser: token, target, dry run, background jobs.

Off unless the server was started with ``--allow-apply`` (``ALLOW_APPLY``); then every request
needs the token ``serve()`` printed at start in the ``X-Apply-Token`` header (``APPLY_TOKEN``,
compared with :func:`hmac.compare_digest`) on top of the usual CSRF token.

The work is :func:`planner.netlink.apply.apply`, the same transaction as ``mvplan apply``:

* dry run (synchronous): the plan against the live state of the target, plus the differences
  between that live state and the design (:func:`planner.netlink.apply.verify`);
* apply (a background thread per job, one job at a time in this server, and the applier's own
  per-target lock against other mvplan processes): ops with progress, rollback on failure,
  verification. ``GET /api/apply/<job>`` reports it (:meth:`Job.to_dict`).

Configuration: ``APPLY_RUN_DIR`` (locks and journals; default ``$MVPLAN_RUN_DIR`` or
``/run/mvplan``), ``APPLY_FAULT_AT`` (tests: make op N fail, like ``MVPLAN_FAULT_AT`` for the CLI).
"""
from __future__ import annotations

import hashlib
import hmac
import io
import json
import logging
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, current_app, request

from planner.core.errors import CompileError, DesignError

from .errors import ApiError

__all__ = [
    "NETNS_RE",
    "TOKEN_HEADER",
    "ApplyJobs",
    "Job",
    "check_enabled",
    "check_token",
    "dry_run",
    "jobs",
    "new_token",
    "parse_target",
    "start_job",
]

log = logging.getLogger(__name__)

TOKEN_HEADER = "X-Apply-Token"
#: a target namespace name: 1-32 letters, digits, '-' or '_', starting with a letter or digit
NETNS_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}")
#: finished jobs kept for GET /api/apply/<job>
KEEP_JOBS = 20


def new_token() -> str:
    return secrets.token_urlsafe(18)


# --------------------------------------------------------------------------- gatekeeping
def check_enabled() -> None:
    if not current_app.config.get("ALLOW_APPLY"):
        raise ApiError(403, "applying designs from the browser is off; start the server with --allow-apply",
                       "apply_disabled")


def check_token() -> None:
    """403 ``apply_token`` unless the ``X-Apply-Token`` header is the server's apply token."""
    expected = str(current_app.config.get("APPLY_TOKEN") or "")
    sent = request.headers.get(TOKEN_HEADER, "")
    ok = bool(expected) and bool(sent) and hmac.compare_digest(sent.encode("utf-8", "replace"),
                                                               expected.encode("utf-8", "replace"))
    if not ok:
        raise ApiError(403, f"missing or wrong {TOKEN_HEADER} header: enter the apply token that "
                            "'mvplan serve --allow-apply' printed when it started", "apply_token")


@dataclass(frozen=True)
class TargetSpec:
    """Where to apply: a named network namespace standing for the host, or the host itself."""

    netns: str | None
    confirmed: bool = False

    @property
    def kind(self) -> str:
        return "host" if self.netns is None else "netns"

    def describe(self) -> str:
        return "the host itself" if self.netns is None else f"netns {self.netns}"

    def to_dict(self) -> dict:
        return {"kind": self.kind, "netns": self.netns}


def parse_target(data: dict, real: bool) -> TargetSpec:
    """``{"target": {"kind": "netns", "netns": NAME}}`` or ``{"target": {"kind": "host", "confirm": true}}``.

    The host itself needs ``confirm: true`` for a real apply (not for a dry run, which only reads).
    """
    t = data.get("target")
    if not isinstance(t, dict):
        raise ApiError(400, "the body needs 'target': {\"kind\": \"netns\", \"netns\": NAME} or "
                            "{\"kind\": \"host\", \"confirm\": true}", "bad_target")
    kind = t.get("kind", "netns")
    if kind == "netns":
        name = t.get("netns")
        if not isinstance(name, str) or not NETNS_RE.fullmatch(name):
            raise ApiError(400, "a target namespace name is 1 to 32 characters: letters, digits, '-' and '_', "
                                "starting with a letter or digit", "bad_netns",
                           {"netns": name if isinstance(name, str) else None})
        return TargetSpec(netns=name)
    if kind == "host":
        confirmed = t.get("confirm") is True
        if real and not confirmed:
            raise ApiError(400, "applying to the host itself changes this machine's network configuration: "
                                "confirm it explicitly (target.confirm = true)", "host_not_confirmed")
        return TargetSpec(netns=None, confirmed=confirmed)
    raise ApiError(400, "target.kind must be 'netns' or 'host'", "bad_target")


def _applier():
    """The netlink applier (imported on first use: pyroute2 costs a tenth of a second to load)."""
    import planner.netlink.apply as applier

    return applier


def check_design(design) -> None:
    """422 ``check_errors`` for a design whose check has errors (like ``mvplan apply``)."""
    from . import core

    errors = [f for f in core.check(design) if f.get("severity") == "error"]
    if errors:
        n = len(errors)
        raise ApiError(422, f"the design has {n} check error{'s' if n != 1 else ''}; fix {'them' if n != 1 else 'it'} "
                            "before applying", "check_errors", {"findings": errors})


def pick_host(design, host: Any) -> str:
    if host is not None and not isinstance(host, str):
        raise ApiError(400, "'host' must be the name of one of the design's hosts", "bad_request")
    try:
        return _applier().pick_host(design, host or None)
    except DesignError as exc:
        msg = exc.problems[0].message if getattr(exc, "problems", None) else str(exc)
        msg = msg.replace("with --host", "with 'host'")
        raise ApiError(400, msg, "bad_host", {"hosts": [h.name for h in design.hosts]}) from None


def _translate(exc: BaseException, target: TargetSpec) -> ApiError:
    """An applier exception -> the API error the browser sees (never a traceback)."""
    from planner.netlink import NetlinkError, TargetMissing

    applier = _applier()
    if isinstance(exc, TargetMissing):
        return ApiError(404, f"network namespace {target.netns!r} does not exist on this machine; create it "
                             f"(ip netns add {target.netns}) with the design's NICs in it", "target_missing",
                        {"netns": target.netns})
    if isinstance(exc, applier.LockBusy):
        return ApiError(409, str(exc), "apply_busy")
    if isinstance(exc, applier.JournalPending):
        return ApiError(409, str(exc), "journal_pending")
    if isinstance(exc, CompileError):
        return ApiError(422, str(exc), "check_errors",
                        {"findings": [f.to_dict() if hasattr(f, "to_dict") else f for f in exc.findings]})
    if isinstance(exc, DesignError):
        msg = exc.problems[0].message if getattr(exc, "problems", None) else str(exc)
        return ApiError(400, msg, "bad_host")
    if isinstance(exc, PermissionError) or (isinstance(exc, NetlinkError) and getattr(exc, "code", 0) == 1):
        return ApiError(403, f"the server may not change {target.describe()}: {exc}. Run mvplan serve as root "
                             "(or with CAP_NET_ADMIN and CAP_SYS_ADMIN)", "permission_denied")
    if isinstance(exc, applier.ApplyError):
        return ApiError(409, str(exc), "apply_failed")
    if isinstance(exc, (NetlinkError, OSError)):
        return ApiError(500, f"reading or changing {target.describe()} failed: {exc}", "netlink_error")
    log.error("apply: unexpected error", exc_info=exc)
    return ApiError(500, "internal server error; the server log has the details", "internal_error")


# --------------------------------------------------------------------------- shapes
def describe_ops(ops) -> list[dict]:
    out = []
    for n, op in enumerate(ops, 1):
        d = op.to_dict()
        out.append({"index": n, "description": op.describe(), **{k: v for k, v in d.items() if k != "index"}})
    return out


def plan_digest(ops, target: TargetSpec, host: str, design_id: int, version: int) -> str:
    """Identifies a dry run's plan: an apply sent with it stops if the plan came out different."""
    blob = json.dumps({"ops": [op.to_dict() for op in ops], "target": target.to_dict(), "host": host,
                       "design": design_id, "version": version}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


def _plan_dict(plan) -> dict:
    return {"ops": describe_ops(plan.ops), "count": len(plan.ops), "summary": plan.summary(),
            "notes": list(plan.notes)}


def _run_dir():
    return current_app.config.get("APPLY_RUN_DIR")


# --------------------------------------------------------------------------- dry run
def dry_run(design, rec: dict, target: TargetSpec, host: str) -> dict:
    """The plan against the live state of the target, and what differs from the design now."""
    applier = _applier()
    t0 = time.perf_counter()
    try:
        res = applier.apply(design, netns=target.netns, host=host, yes=False, check=True, progress=False,
                            stream=io.StringIO())
        differences = applier.verify(design, netns=target.netns, host=host)
    except Exception as exc:  # noqa: BLE001 - every failure becomes an API error, never a traceback
        raise _translate(exc, target) from None
    version = rec["version_info"]["version"]
    return {"design": {"id": rec["id"], "name": rec["name"], "version": version},
            "target": {**target.to_dict(), "describe": res.target}, "host": res.host,
            "plan": _plan_dict(res.plan), "differences": differences,
            "plan_digest": plan_digest(res.plan.ops, target, res.host, rec["id"], version),
            "elapsed_ms": round((time.perf_counter() - t0) * 1000, 2)}


# --------------------------------------------------------------------------- jobs
FINAL = ("verified", "verify_failed", "rolled_back", "rolled_back_not_as_before", "rollback_failed", "failed",
         "interrupted")


@dataclass
class Job:
    """One apply in the background; :meth:`to_dict` is what ``GET /api/apply/<job>`` answers."""

    id: str
    design: dict
    target: TargetSpec
    host: str
    status: str = "running"
    phase: str = "queued"
    done: int = 0
    total: int | None = None
    current: str | None = None
    plan: dict | None = None
    result: dict | None = None
    error: dict | None = None
    started: float = field(default_factory=time.time)
    finished: float | None = None
    client: str | None = None
    plan_digest: str | None = None
    confirm_seconds: float | None = None
    confirm_until: float | None = None

    def to_dict(self) -> dict:
        return {"job": self.id, "design": self.design, "target": self.target.to_dict(), "host": self.host,
                "status": self.status, "finished": self.status in FINAL, "phase": self.phase,
                "progress": {"done": self.done, "total": self.total, "current": self.current},
                "plan": self.plan, "result": self.result, "error": self.error,
                "started": self.started, "finished_at": self.finished, "client": self.client,
                "plan_digest": self.plan_digest,
                "confirm": ({"seconds": self.confirm_seconds, "until": self.confirm_until}
                            if self.confirm_seconds is not None else None),
                "elapsed_s": round((self.finished or time.time()) - self.started, 3)}


class ApplyJobs:
    """The server's apply jobs: at most one running; the last :data:`KEEP_JOBS` kept in memory,
    every one recorded through ``record`` (the store) when it starts and when it ends."""

    def __init__(self, record: Callable[[dict], None] | None = None):
        self.lock = threading.Lock()
        self.jobs: dict[str, Job] = {}
        self.running: Job | None = None
        self._record = record

    def _keep(self, job: Job) -> None:
        if self._record is None:
            return
        try:
            self._record(job.to_dict())
        except Exception:  # noqa: BLE001 - a full disk must not take the apply down; it is logged
            log.exception("apply job %s: could not record it in the database", job.id)

    def get(self, job_id: str) -> Job | None:
        with self.lock:
            return self.jobs.get(job_id)

    def busy(self) -> Job | None:
        with self.lock:
            return self.running

    def ensure_idle(self) -> None:
        run = self.busy()
        if run is not None:
            raise ApiError(409, f"an apply is running ({run.target.describe()}, job {run.id}); one apply at a time",
                           "apply_busy", {"job": run.id})

    def claim(self, job: Job) -> None:
        with self.lock:
            if self.running is not None:
                raise ApiError(409, f"an apply is running ({self.running.target.describe()}, job {self.running.id}); "
                                    "one apply at a time", "apply_busy", {"job": self.running.id})
            self.running = job
            self.jobs[job.id] = job
            log.warning("apply job %s started by %s: design %s version %s, %s, host %s", job.id, job.client,
                        job.design.get("id"), job.design.get("version"), job.target.describe(), job.host)
            self._keep(job)
            done = [j for j in self.jobs.values() if j.status in FINAL]
            for old in sorted(done, key=lambda j: j.started)[:max(0, len(done) - KEEP_JOBS)]:
                del self.jobs[old.id]

    def snapshot(self, job_id: str) -> dict | None:
        with self.lock:
            job = self.jobs.get(job_id)
            return job.to_dict() if job is not None else None

    def finish(self, job: Job, final: dict) -> None:
        """Record the outcome and free the server for the next apply, in one step: whoever sees
        the job finished can start another one."""
        with self.lock:
            for k, v in final.items():
                setattr(job, k, v)
            job.phase = "finished"
            job.finished = time.time()
            log.warning("apply job %s finished: %s after %.1f s", job.id, job.status, job.finished - job.started)
            self._keep(job)
            if self.running is job:
                self.running = None


def jobs(app: Flask | None = None) -> ApplyJobs:
    return (app or current_app).extensions["mvplan_apply_jobs"]


def _preflight(target: TargetSpec, run_dir) -> None:
    """Refuse at once (409) what the job would refuse: another mvplan process holding the
    target's lock, or an unfinished journal. The applier checks again under its lock."""
    applier = _applier()
    key = f"netns-{target.netns}" if target.netns else "host"
    rdir = applier.run_dir(run_dir)
    journal = applier.Journal.for_target(rdir, key)
    if journal.exists():
        raise applier.JournalPending(f"an earlier apply on {target.describe()} did not finish ({journal.path}); "
                                     "run 'mvplan apply --recover rollback' (or 'complete') first")
    applier.Lock(rdir, key).release()  # raises LockBusy while someone else holds it


class _JobStream(io.StringIO):
    """The applier's text output; its confirmation prompt moves the job to phase ``confirming``
    (``POST /api/apply/<job>/confirm`` keeps the change, the deadline rolls it back)."""

    def __init__(self, job: Job):
        super().__init__()
        self.job = job

    def write(self, text: str) -> int:
        if text.startswith("Keep these changes?") and self.job.confirm_seconds is not None:
            self.job.confirm_until = time.time() + self.job.confirm_seconds
            self.job.phase = "confirming"
        return super().write(text)


def parse_confirm_seconds(data: dict) -> float | None:
    """``confirm_seconds`` of an apply body: None, or 1..3600 seconds."""
    value = data.get("confirm_seconds")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 1 <= value <= 3600:
        raise ApiError(400, "'confirm_seconds' must be a number of seconds from 1 to 3600 (keep the change only "
                            "if it is confirmed in time)", "bad_request")
    return float(value)


def confirm_job(job_id: str) -> dict:
    """Keep the change of a job waiting for confirmation (``mvplan apply --confirm-keep``)."""
    job = jobs().get(job_id)
    if job is None:
        raise ApiError(404, f"no running apply job {job_id!r}", "not_found")
    if job.phase != "confirming":
        raise ApiError(409, f"apply job {job_id} is not waiting for a confirmation (phase {job.phase}, status "
                            f"{job.status})", "not_confirming")
    _applier().confirm_keep(job.target.netns, _run_dir())
    log.warning("apply job %s: confirmed by %s", job.id, request.remote_addr)
    return job.to_dict()


def recover_target(target: TargetSpec, mode: str) -> dict:
    """``mvplan apply --recover rollback|complete`` for the journal a killed apply left on ``target``."""
    if mode not in ("rollback", "complete"):
        raise ApiError(400, "'mode' must be 'rollback' (undo what the killed apply did) or 'complete' (apply the "
                            "rest of its design)", "bad_request")
    jobs().ensure_idle()
    applier = _applier()
    try:
        res = applier.recover(mode, netns=target.netns, run_dir_path=_run_dir(), stream=io.StringIO())
    except applier.ApplyError as exc:
        if str(exc).startswith("nothing to recover"):
            raise ApiError(404, str(exc), "no_journal") from None
        raise _translate(exc, target) from None
    except ApiError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise _translate(exc, target) from None
    log.warning("recover (%s) of %s by %s: %s", mode, target.describe(), request.remote_addr, _status(res))
    return {"target": target.to_dict(), "mode": mode, "status": _status(res), "result": _result(res)}


def start_job(design, rec: dict, target: TargetSpec, host: str, digest: str | None,
              confirm_seconds: float | None = None) -> Job:
    applier = _applier()
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # the proxy's target
    run_dir = _run_dir()
    fault_at = app.config.get("APPLY_FAULT_AT")
    version = rec["version_info"]["version"]
    job = Job(id=secrets.token_hex(8), design={"id": rec["id"], "name": rec["name"], "version": version},
              target=target, host=host, client=request.remote_addr, plan_digest=digest,
              confirm_seconds=confirm_seconds)
    store = jobs(app)
    store.ensure_idle()
    try:
        if target.netns is not None:
            from ..netlink.target import Target

            Target(target.netns).close()  # TargetMissing -> 404 before a job exists
        _preflight(target, run_dir)
    except ApiError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise _translate(exc, target) from None
    store.claim(job)

    def hook(position: int, op) -> None:
        job.done = position
        job.current = op.describe()
        if fault_at is not None:
            applier.FailAt(int(fault_at))(position, op)

    def work() -> None:
        final: dict = {"status": "failed"}
        try:
            job.phase = "planning"
            dry = applier.apply(design, netns=target.netns, host=host, yes=False, check=True, progress=False,
                                stream=io.StringIO())
            job.plan = _plan_dict(dry.plan)
            if digest and plan_digest(dry.plan.ops, target, host, rec["id"], version) != digest:
                final["error"] = {"code": "plan_changed",
                                  "message": f"the plan for {target.describe()} is not the one the dry run showed (the "
                                             "live state changed since); nothing was changed - run the dry run again"}
                return
            job.total = len(dry.plan.ops)
            job.phase = "applying"
            res = applier.apply(design, netns=target.netns, host=host, yes=True, check=True, verify=True,
                                run_dir_path=run_dir, fault=hook, progress=False, stream=_JobStream(job),
                                confirm_seconds=confirm_seconds, confirm_stdin=False)
            final.update(plan=_plan_dict(res.plan), total=len(res.plan.ops), done=0 if res.cached else res.applied,
                         current=None, result=_result(res), status=_status(res))
        except Exception as exc:  # noqa: BLE001 - reported in the job, logged when unexpected
            err = _translate(exc, target)
            final["error"] = {"code": err.code, "message": err.message}
        finally:
            store.finish(job, final)

    threading.Thread(target=work, name=f"mvplan-apply-{job.id}", daemon=True).start()
    return job


def _status(res) -> str:
    if res.rolled_back:
        if res.rollback_errors:
            return "rollback_failed"
        return "rolled_back_not_as_before" if getattr(res, "vanished", None) else "rolled_back"
    if res.error is not None:
        return "failed"
    if res.mismatches:
        return "verify_failed"
    return "verified"


def _result(res) -> dict:
    failed = None
    if res.failed_op is not None:
        idx = next((n for n, op in enumerate(res.plan.ops, 1) if op is res.failed_op), None)
        failed = {"index": idx, "description": res.failed_op.describe(), "op": res.failed_op.kind}
    return {"ok": res.ok, "target": res.target, "applied": res.applied, "total": len(res.plan.ops),
            "error": res.error, "failed_op": failed, "rolled_back": res.rolled_back,
            "rollback_errors": list(res.rollback_errors), "vanished": list(getattr(res, "vanished", [])),
            "mismatches": list(res.mismatches),
            "verified": res.verified, "cached": res.cached, "confirmed": getattr(res, "confirmed", None),
            "timings": {k: round(v, 4) for k, v in res.timings.items()}}


def init_app(app: Flask) -> None:
    store = app.extensions.get("mvplan_store")
    app.extensions["mvplan_apply_jobs"] = ApplyJobs(record=store.record_apply if store is not None else None)
    if store is not None:
        n = store.interrupt_unfinished_applies(
            "the server stopped during this apply; if the target's journal is left, recover it "
            "(mvplan apply --recover rollback|complete) before applying again")
        if n:
            log.warning("%d apply job(s) were running when the server last stopped; marked interrupted", n)
