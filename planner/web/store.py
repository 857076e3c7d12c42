"""SQLite store of designs; every saved version is kept.

One file (``instance/mvplan.sqlite3`` under the web app's instance folder). A design is a row in
``designs``; each save appends a row to ``versions`` with the next version number, the whole
document as JSON and a message. Saved versions are always valid designs (the caller validates);
``drafts`` keeps at most one unsaved working copy per design (the editor's autosave), which may be
invalid while someone is still drawing.

The store knows nothing about Flask: it takes a path and returns plain dicts.
"""
from __future__ import annotations

import builtins
import json
import logging
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from planner.core.errors import DesignError, MvplanError
from planner.core.model.limits import INT_MAX, check_document, parse_json_text

__all__ = ["Store", "StoreError", "NotFound", "Conflict"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS designs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    created TEXT NOT NULL,
    updated TEXT NOT NULL,
    latest INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS versions (
    design_id INTEGER NOT NULL REFERENCES designs(id) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    created TEXT NOT NULL,
    message TEXT NOT NULL DEFAULT '',
    document TEXT NOT NULL,
    PRIMARY KEY (design_id, version)
);
CREATE TABLE IF NOT EXISTS drafts (
    design_id INTEGER PRIMARY KEY REFERENCES designs(id) ON DELETE CASCADE,
    base_version INTEGER NOT NULL,
    updated TEXT NOT NULL,
    document TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS applies (
    job TEXT PRIMARY KEY,
    design_id INTEGER NOT NULL,
    version INTEGER NOT NULL,
    started TEXT NOT NULL,
    finished TEXT,
    client TEXT,
    status TEXT NOT NULL,
    record TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS applies_by_design ON applies (design_id, started);
"""


class StoreError(MvplanError):
    """Base of store failures."""


class NotFound(StoreError, LookupError):
    """No such design or version."""


class Conflict(StoreError):
    """A save based on an older version than the latest one."""

    def __init__(self, message: str, latest: int):
        super().__init__(message)
        self.latest = latest


log = logging.getLogger(__name__)


def _dumps(document: Any) -> str:
    """Strict JSON for the database: no NaN/Infinity (the browser's JSON.parse refuses them)."""
    return json.dumps(document, allow_nan=False)


def _strict_loads(text: str) -> Any:
    """A stored document read back through the loader's gates (None if it does not pass them)."""
    try:
        doc = parse_json_text(text)
        check_document(doc)
    except (DesignError, ValueError):
        return None
    return doc


def _in_range(n: int | None) -> bool:
    return n is None or (isinstance(n, int) and 0 < n <= INT_MAX)


def _private_file(path: Path) -> None:
    """Create the database file 0600 (like the session key) before SQLite does it 0644; tighten
    one an older version left readable. SQLite gives its -wal/-shm files the same mode."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    if path.stat().st_mode & 0o077:
        log.warning("%s was readable by other users; making it 0600", path)
        os.chmod(path, 0o600)
        for suffix in ("-wal", "-shm"):
            side = path.with_name(path.name + suffix)
            if side.exists():
                os.chmod(side, 0o600)


def _iso(epoch: float | None) -> str:
    return datetime.fromtimestamp(epoch or 0, UTC).isoformat(timespec="milliseconds")


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def _design_name(doc: dict) -> str:
    name = doc.get("name") if isinstance(doc, dict) else None
    return str(name) if name else "design"


class Store:
    """Designs and their versions in one SQLite file. Safe to share between threads."""

    def __init__(self, path: str | Path):
        self.path = str(path)
        self._lock = threading.RLock()
        if self.path != ":memory:":
            _private_file(Path(self.path))
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._conn.row_factory = sqlite3.Row
        self._conn.execute("PRAGMA foreign_keys = ON")
        if self.path != ":memory:":
            self._conn.execute("PRAGMA journal_mode = WAL")
        self._conn.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    # -- meta -------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        with self._lock:
            row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row["value"] if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self._tx() as c:
            c.execute("INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                      (key, value))

    def seed(self, documents: list[tuple[dict, str]]) -> int:
        """Load starter designs once per database (first start). Returns how many were added."""
        if self.get_meta("seeded"):
            return 0
        n = 0
        for doc, message in documents:
            self.create(doc, message)
            n += 1
        self.set_meta("seeded", _now())
        return n

    # -- designs ----------------------------------------------------------------------
    def _summary(self, row: sqlite3.Row) -> dict:
        return {"id": row["id"], "name": row["name"], "version": row["latest"], "created": row["created"],
                "updated": row["updated"]}

    def list(self) -> list[dict]:
        with self._lock:
            rows = self._conn.execute("SELECT d.*, (SELECT 1 FROM drafts WHERE design_id = d.id) AS has_draft "
                                      "FROM designs d ORDER BY d.updated DESC, d.id DESC").fetchall()
        return [{**self._summary(r), "has_draft": bool(r["has_draft"])} for r in rows]

    def create(self, document: dict, message: str = "") -> dict:
        now = _now()
        with self._tx() as c:
            cur = c.execute("INSERT INTO designs(name, created, updated, latest) VALUES(?, ?, ?, 1)",
                            (_design_name(document), now, now))
            did = int(cur.lastrowid or 0)
            c.execute("INSERT INTO versions(design_id, version, created, message, document) VALUES(?, 1, ?, ?, ?)",
                      (did, now, message or "created", _dumps(document)))
        return self.get(did)

    def _row(self, design_id: int) -> sqlite3.Row:
        if not _in_range(design_id):  # past SQLite's INTEGER: no such row (and no OverflowError)
            raise NotFound(f"design {design_id} does not exist")
        row = self._conn.execute("SELECT * FROM designs WHERE id = ?", (design_id,)).fetchone()
        if row is None:
            raise NotFound(f"design {design_id} does not exist")
        return row

    def get(self, design_id: int, version: int | None = None, *, document_text: bool = False) -> dict:
        """The design summary with the document of ``version`` (default: latest); with
        ``document_text``, the document as stored (JSON text, under ``document_text``), not parsed."""
        with self._lock:
            row = self._row(design_id)
            v = row["latest"] if version is None else version
            if not _in_range(v):
                raise NotFound(f"design {design_id} has no version {v} (latest is {row['latest']})")
            vrow = self._conn.execute("SELECT * FROM versions WHERE design_id = ? AND version = ?",
                                      (design_id, v)).fetchone()
            if vrow is None:
                raise NotFound(f"design {design_id} has no version {v} (latest is {row['latest']})")
            draft = self._conn.execute("SELECT * FROM drafts WHERE design_id = ?", (design_id,)).fetchone()
        doc = {"document_text": vrow["document"]} if document_text else {"document": json.loads(vrow["document"])}
        out = {**self._summary(row), **doc,
               "version_info": {"version": vrow["version"], "created": vrow["created"], "message": vrow["message"]}}
        if version is None:
            out["draft"] = self._draft(design_id, draft)
        return out

    @staticmethod
    def _draft(design_id: int, row: sqlite3.Row | None) -> dict | None:
        """A draft as the editor receives it; one an older version stored with NaN (or past the
        limits) is left out - it would make the editor page invalid JSON - and logged."""
        if row is None:
            return None
        doc = _strict_loads(row["document"])
        if doc is None:
            log.warning("design %s: ignoring a stored draft that is not strict JSON within the limits", design_id)
            return None
        return {"base_version": row["base_version"], "updated": row["updated"], "document": doc}

    def save(self, design_id: int, document: dict, message: str = "", base_version: int | None = None) -> dict:
        """Append a version. With ``base_version`` refuse (Conflict) if someone saved meanwhile."""
        now = _now()
        with self._tx() as c:
            row = self._row(design_id)
            latest = row["latest"]
            if base_version is not None and base_version != latest:
                raise Conflict(f"design {design_id} is at version {latest}, this edit started from version "
                               f"{base_version}; reload it and apply the edit again", latest)
            new = latest + 1
            c.execute("INSERT INTO versions(design_id, version, created, message, document) VALUES(?, ?, ?, ?, ?)",
                      (design_id, new, now, message or f"version {new}", _dumps(document)))
            c.execute("UPDATE designs SET latest = ?, updated = ?, name = ? WHERE id = ?",
                      (new, now, _design_name(document), design_id))
            c.execute("DELETE FROM drafts WHERE design_id = ?", (design_id,))
        return self.get(design_id)

    def delete(self, design_id: int) -> None:
        with self._tx() as c:
            self._row(design_id)
            c.execute("DELETE FROM drafts WHERE design_id = ?", (design_id,))
            c.execute("DELETE FROM versions WHERE design_id = ?", (design_id,))
            c.execute("DELETE FROM designs WHERE id = ?", (design_id,))

    # -- versions ---------------------------------------------------------------------
    def versions(self, design_id: int) -> builtins.list[dict[str, Any]]:
        with self._lock:
            self._row(design_id)
            rows = self._conn.execute("SELECT version, created, message, document FROM versions WHERE design_id = ? "
                                      "ORDER BY version DESC", (design_id,)).fetchall()
        return [{"version": r["version"], "created": r["created"], "message": r["message"],
                 "name": _design_name(json.loads(r["document"]))} for r in rows]

    def document(self, design_id: int, version: int) -> dict:
        return self.get(design_id, version)["document"]

    # -- drafts -----------------------------------------------------------------------
    def put_draft(self, design_id: int, document: Any, base_version: int) -> dict:
        now = _now()
        with self._tx() as c:
            self._row(design_id)
            c.execute("INSERT INTO drafts(design_id, base_version, updated, document) VALUES(?, ?, ?, ?) "
                      "ON CONFLICT(design_id) DO UPDATE SET base_version = excluded.base_version, "
                      "updated = excluded.updated, document = excluded.document",
                      (design_id, base_version, now, _dumps(document)))
        return {"base_version": base_version, "updated": now}

    # -- apply records -----------------------------------------------------------------
    def record_apply(self, record: dict) -> None:
        """Insert or update one apply's record (``GET /api/apply/<job>``'s answer, plus who started
        it): written when it starts and when it ends, so a restart loses none. Records outlive the
        design they applied (what ran on a machine stays known)."""
        design = record.get("design") or {}
        finished = record.get("finished_at")
        with self._tx() as c:
            c.execute("INSERT INTO applies(job, design_id, version, started, finished, client, status, record) "
                      "VALUES(?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(job) DO UPDATE SET finished = excluded.finished, "
                      "status = excluded.status, record = excluded.record",
                      (record["job"], int(design.get("id") or 0), int(design.get("version") or 0),
                       _iso(record.get("started")), _iso(finished) if finished else None, record.get("client"),
                       record.get("status") or "running", _dumps(record)))

    def apply_record(self, job: str) -> dict | None:
        with self._lock:
            row = self._conn.execute("SELECT record FROM applies WHERE job = ?", (job,)).fetchone()
        return json.loads(row["record"]) if row else None

    def applies(self, design_id: int) -> builtins.list[dict[str, Any]]:
        """Every apply of a design, newest first."""
        with self._lock:
            rows = self._conn.execute("SELECT record FROM applies WHERE design_id = ? ORDER BY started DESC, job",
                                      (design_id,)).fetchall()
        return [json.loads(r["record"]) for r in rows]

    def interrupt_unfinished_applies(self, reason: str) -> int:
        """Mark applies a previous server process left running (it stopped mid-apply)."""
        with self._lock:
            rows = self._conn.execute("SELECT record FROM applies WHERE status = 'running'").fetchall()
        for row in rows:
            record = json.loads(row["record"])
            record.update(status="interrupted", finished=True, phase="finished",
                          error={"code": "interrupted", "message": reason})
            self.record_apply(record)
        return len(rows)

    def drop_draft(self, design_id: int) -> None:
        with self._tx() as c:
            self._row(design_id)
            c.execute("DELETE FROM drafts WHERE design_id = ?", (design_id,))
