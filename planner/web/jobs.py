"""Background jobs with progress, polled by the browser (``GET /api/<kind>/<job>``).

A job is one thread doing one long task - a rehearsal builds namespaces and pings hundreds of
pairs - and reporting its phase and ``done``/``total`` as it goes. The table keeps the running
job and the last :data:`KEEP` finished ones; at most one job of a kind runs at a time.
"""
from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .errors import ApiError

__all__ = ["Job", "JobTable", "Progress"]

log = logging.getLogger(__name__)

#: finished jobs kept for polling
KEEP = 20


@dataclass
class Job:
    """One background task; :meth:`to_dict` is what polling answers."""

    id: str
    kind: str
    about: dict
    status: str = "running"  # running, done, failed
    phase: str = "queued"
    done: int = 0
    total: int | None = None
    current: str | None = None
    result: dict | None = None
    error: dict | None = None
    started: float = field(default_factory=time.time)
    finished: float | None = None

    def to_dict(self) -> dict:
        return {"job": self.id, "kind": self.kind, **self.about, "status": self.status,
                "finished": self.status != "running", "phase": self.phase,
                "progress": {"done": self.done, "total": self.total, "current": self.current},
                "result": self.result, "error": self.error, "started": self.started, "finished_at": self.finished,
                "elapsed_s": round((self.finished or time.time()) - self.started, 3)}


class Progress:
    """What a job's work calls to report: ``phase("building")``, ``step(done, total, current)``."""

    def __init__(self, job: Job, lock: threading.Lock):
        self.job, self.lock = job, lock

    def phase(self, name: str, total: int | None = None) -> None:
        with self.lock:
            self.job.phase, self.job.done, self.job.total, self.job.current = name, 0, total, None

    def step(self, done: int, current: str | None = None) -> None:
        with self.lock:
            self.job.done, self.job.current = done, current


class JobTable:
    """The jobs of one kind in this server."""

    def __init__(self, kind: str):
        self.kind = kind
        self.lock = threading.Lock()
        self.jobs: dict[str, Job] = {}
        self.running: Job | None = None

    def start(self, about: dict, work: Callable[[Progress], dict],
              translate: Callable[[BaseException], ApiError]) -> Job:
        """Run ``work(progress)`` in a thread; its return value becomes the job's result.

        An exception becomes the job's error through ``translate`` (never a traceback). 409
        ``<kind>_busy`` while another job of this kind runs.
        """
        job = Job(id=secrets.token_hex(8), kind=self.kind, about=about)
        with self.lock:
            if self.running is not None:
                raise ApiError(409, f"a {self.kind} is running (job {self.running.id}); one at a time",
                               f"{self.kind}_busy", {"job": self.running.id})
            self.running = job
            self.jobs[job.id] = job
            done = sorted((j for j in self.jobs.values() if j.status != "running"), key=lambda j: j.started)
            for old in done[:max(0, len(done) - KEEP)]:
                del self.jobs[old.id]
        progress = Progress(job, self.lock)

        def run() -> None:
            final: dict[str, Any] = {"status": "failed"}
            try:
                final.update(result=work(progress), status="done")
            except Exception as exc:  # noqa: BLE001 - reported in the job
                err = translate(exc)
                final["error"] = {"code": err.code, "message": err.message}
            finally:
                with self.lock:
                    for k, v in final.items():
                        setattr(job, k, v)
                    job.phase = "finished"
                    job.finished = time.time()
                    if self.running is job:
                        self.running = None

        threading.Thread(target=run, name=f"mvplan-{self.kind}-{job.id}", daemon=True).start()
        return job

    def snapshot(self, job_id: str) -> dict:
        with self.lock:
            job = self.jobs.get(job_id)
            if job is None:
                raise ApiError(404, f"no {self.kind} job {job_id!r} (jobs are kept while the server runs, the last "
                                    f"{KEEP} finished ones)", "not_found")
            return job.to_dict()
