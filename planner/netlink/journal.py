"""The files an apply keeps in its run directory: the target's lock, the journal a killed apply leaves
for :func:`planner.netlink.recover.recover`, and the stamp of the last verified apply."""
from __future__ import annotations

import fcntl
import hashlib
import json
import mmap
import os
import time
from pathlib import Path

from planner import __version__
from planner.core.livestate import LiveState
from planner.core.model import Design

from .result import ApplyError, LockBusy

__all__ = ["DEFAULT_RUN_DIR", "run_dir", "Lock", "Journal", "stamp_path", "design_digest", "live_digest",
           "code_digest"]

DEFAULT_RUN_DIR = "/run/mvplan"


def run_dir(path: str | os.PathLike | None = None) -> Path:
    """Where locks, journals, confirm files and stamps live: ``path``, ``$MVPLAN_RUN_DIR`` or
    ``/run/mvplan`` (created mode 0700)."""
    p = Path(path or os.environ.get("MVPLAN_RUN_DIR") or DEFAULT_RUN_DIR)
    p.mkdir(mode=0o700, parents=True, exist_ok=True)
    return p


class Lock:
    """``<run_dir>/<target>.lock``: one apply at a time per target (``flock``; holds the pid)."""

    def __init__(self, directory: Path, key: str):
        self.path = directory / f"{key}.lock"
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            try:
                holder = os.pread(self.fd, 64, 0).decode().strip() or "?"
            finally:
                os.close(self.fd)
            raise LockBusy(f"another mvplan apply (pid {holder}) is running on this target ({self.path}); "
                           "one apply at a time per target") from None
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, f"{os.getpid()}\n".encode(), 0)

    def release(self) -> None:
        if self.fd >= 0:
            os.ftruncate(self.fd, 0)
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = -1


class Journal:
    """``<run_dir>/<target>.journal``: one JSON header line, then the done map - one byte per op of
    the header, ``.`` until that op has completed, then ``+`` - and ``{"state": ...}`` lines.
    Removed (kept as ``.last``) when an apply ends cleanly; present afterwards only when an apply
    was killed or its rollback failed.

    The done map is written through a shared memory mapping of the file: marking an op done is a
    one-byte store, not a system call (20,000 of them in an apply of 5,000 children), and a store
    lands in the kernel's page cache at once, so a process killed right after it leaves the mark.
    """

    DONE, PENDING = ord("+"), ord(".")

    def __init__(self, path: Path):
        self.path = path
        self.fd = -1
        self._map: mmap.mmap | None = None
        self._base = 0  # where op 0's byte is in the mapping

    @staticmethod
    def for_target(directory: Path, key: str) -> Journal:
        return Journal(directory / f"{key}.journal")

    def exists(self) -> bool:
        return self.path.exists()

    def start(self, header: dict) -> None:
        """Write the header and an all-pending done map for ``header["ops"]``, durably, then map it."""
        tmp = self.path.with_suffix(".tmp")
        head = (json.dumps(header, separators=(",", ":")) + "\n").encode()
        count = len(header.get("ops") or ())
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
        os.write(fd, head + bytes((self.PENDING,)) * count + b"\n")
        os.fsync(fd)
        os.close(fd)
        os.replace(tmp, self.path)
        self.fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CLOEXEC)
        if count:
            offset = len(head) - len(head) % mmap.ALLOCATIONGRANULARITY
            self._map = mmap.mmap(self.fd, len(head) + count - offset, offset=offset)
            self._base = len(head) - offset

    def done(self, position: int) -> None:
        """Op ``position`` (0-based) of the header has completed."""
        assert self._map is not None, "Journal.done before start, or for a plan without ops"
        self._map[self._base + position] = self.DONE

    def state(self, state: str) -> None:
        os.write(self.fd, (json.dumps({"state": state, "at": time.time()}) + "\n").encode())
        os.fsync(self.fd)

    def finish(self, keep: bool = False) -> None:
        if self._map is not None:
            self._map.close()
            self._map = None
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
        if not keep and self.path.exists():
            os.replace(self.path, self.path.with_suffix(".last"))

    def load(self) -> tuple[dict, int, list[str]]:
        """(header, number of completed ops, states). Journals of earlier versions, with one line
        per completed op (its position) instead of the done map, load too."""
        lines = self.path.read_text().splitlines()
        if not lines:
            raise ApplyError(f"{self.path}: empty journal")
        header = json.loads(lines[0])
        done, states = 0, []
        for line in lines[1:]:
            line = line.strip()
            if not line:
                continue
            if line[0] == "{":
                try:
                    states.append(json.loads(line)["state"])
                except (ValueError, KeyError):
                    pass  # a torn last line of a killed process
            elif line[0] in "+.":
                done = max(done, len(line) - len(line.lstrip("+")))  # ops complete in order
            elif line.isdigit():
                done = max(done, int(line) + 1)
        return header, done, states


def stamp_path(directory: Path, key: str) -> Path:
    return directory / f"{key}.stamp"


def design_digest(design: Design) -> str:
    """Digest of a design (memoised on the frozen object)."""
    d = design.__dict__.get("_mvplan_digest")
    if d is None:
        d = hashlib.sha256(repr(design).encode()).hexdigest()
        object.__setattr__(design, "_mvplan_digest", d)
    return d


def live_digest(live: LiveState) -> str:
    """Digest of a live state: every field of every link, address, route and neighbour."""
    parts = []
    for h in live.hosts:
        for ns in h.namespaces:
            parts.append((h.name, ns.name, [tuple(vars(x).values()) for x in ns.links],
                          [(a.dev, a.address) for a in ns.addresses], [(r.dev, r.to, r.via) for r in ns.routes],
                          [(n.dev, n.address, n.mac) for n in ns.neighbors]))
    return hashlib.sha256(repr(parts).encode()).hexdigest()


_CODE_DIGEST: list[str] = []


def code_digest() -> str:
    """Digest of the code that turns (design, live state) into a plan and a verdict - the whole pure
    core and the live-state reader: a stamp written by another version of it is not trusted."""
    if not _CODE_DIGEST:
        from planner import core

        from . import live as live_mod

        h = hashlib.sha256(__version__.encode())
        files = sorted(Path(core.__file__).parent.rglob("*.py")) + [Path(live_mod.__file__)]
        for path in files:
            try:
                h.update(path.read_bytes())
            except OSError:  # pragma: no cover - zipped installs: the version has to do
                pass
        _CODE_DIGEST.append(h.hexdigest())
    return _CODE_DIGEST[0]
