"""Apply a design to a host (or to a network namespace standing for one) with netlink.

``apply(design, ...)`` is the whole user-facing transaction:

1. **Lock** the target (``<run_dir>/<target>.lock``, ``flock``; one apply at a time per target) and
   refuse to start while an unfinished journal of an earlier apply exists.
2. **Read** the live state (:func:`planner.netlink.live.read_live`) and **compile** the difference
   (:func:`planner.core.compiler.compile_plan`). Without ``yes`` (the default) stop here: a dry run.
3. **Journal** the plan (``<run_dir>/<target>.journal``: a JSON header with the design, the ops and
   what rollback needs of the state before, then one line per completed op) and **execute** the ops
   in order, one netlink request each (:class:`planner.netlink.execute.Executor`).
4. On any failure **roll back**: the completed ops are undone newest first - links the apply
   created are deleted where they ended up, links it deleted are rebuilt with their addresses,
   neighbours, routes, alias, master and state, every other op is replaced by its inverse - so the
   target is left as it was before.
5. **Verify**: re-read the live state and compare it with :func:`planner.core.compiler.expected_state`;
   every mismatch is reported (and makes the CLI exit 1).
6. **Confirm** (``confirm_seconds``, like ``netplan try``): keep the change only if it is confirmed
   in time - Enter on an interactive terminal, or the confirm file
   ``<run_dir>/<target>.confirm`` appearing (``mvplan apply --confirm-keep``); otherwise roll back.

A killed apply leaves its journal; :func:`recover` rolls it back or completes it.
"""
from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import select
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from planner import __version__
from planner.core.compiler import Plan, compile_plan, expected_state
from planner.core.errors import DesignError, InputProblem, MvplanError
from planner.core.livestate import LiveHost, LiveState, compare
from planner.core.model import Design, design_from_dict, design_to_dict
from planner.core.ops import (
    CREATE_LINK_OPS,
    AddAddress,
    AddNeighbor,
    AddRoute,
    CreateMacvlan,
    CreateNamespace,
    CreateVeth,
    DelAddress,
    DeleteLink,
    DeleteNamespace,
    DelNeighbor,
    DelRoute,
    MoveToNamespace,
    NotInvertible,
    Op,
    SetAlias,
    SetBridgePort,
    SetHairpin,
    SetLinkUp,
    SetMac,
    SetMtu,
    SetSourceMacs,
    op_from_dict,
)
from .execute import Executor, StepError
from .live import read_namespaces, to_live_host
from .target import Target

__all__ = [
    "PROGRESS_THRESHOLD",
    "ApplyError",
    "ApplyResult",
    "FailAt",
    "InjectedFault",
    "JournalPending",
    "LockBusy",
    "apply",
    "confirm_keep",
    "pick_host",
    "recover",
    "run_dir",
    "undo_ops",
    "verify",
]

DEFAULT_RUN_DIR = "/run/mvplan"
#: plans with more ops than this get a progress display (on a terminal)
PROGRESS_THRESHOLD = 30
_ABSENT = {errno.ENOENT, errno.ESRCH, errno.ENODEV, errno.EADDRNOTAVAIL}
_PRESENT = {errno.EEXIST}


class ApplyError(MvplanError):
    """The apply could not run or failed (the message says whether it was rolled back)."""


class LockBusy(ApplyError):
    """Another apply holds the target's lock."""


class JournalPending(ApplyError):
    """An earlier apply on this target did not finish; recover it first."""


class InjectedFault(RuntimeError):
    """Raised by a fault-injection hook (tests): behaves like a kernel refusing the op."""


class FailAt:
    """Fault hook: fail when about to execute op number ``position`` (0-based)."""

    def __init__(self, position: int):
        self.position = position

    def __call__(self, position: int, op: Op) -> None:
        if position == self.position:
            raise InjectedFault(f"injected fault (hook at position {position}): {op.describe()}")


def run_dir(path: str | os.PathLike | None = None) -> Path:
    """Where locks, journals, confirm files and stamps live: ``path``, ``$MVPLAN_RUN_DIR`` or
    ``/run/mvplan`` (created mode 0700)."""
    p = Path(path or os.environ.get("MVPLAN_RUN_DIR") or DEFAULT_RUN_DIR)
    p.mkdir(mode=0o700, parents=True, exist_ok=True)
    return p


def pick_host(design: Design, host: str | None) -> str:
    names = [h.name for h in design.hosts]
    if host is not None:
        if host not in names:
            raise DesignError(InputProblem("--host", f"design {design.name!r} has no host {host!r}; hosts: "
                                                     f"{', '.join(names) or '(none)'}"))
        return host
    if len(names) != 1:
        raise DesignError(InputProblem("--host", f"design {design.name!r} has {len(names)} hosts "
                                                 f"({', '.join(names)}); say which one this machine is with --host"))
    return names[0]


# =========================================================================== result
@dataclass
class ApplyResult:
    """What an apply (or a dry run) did."""

    host: str
    target: str
    plan: Plan
    dry_run: bool = True
    applied: int = 0
    error: str | None = None
    failed_op: Op | None = None
    rolled_back: bool = False
    rollback_errors: list[str] = field(default_factory=list)
    mismatches: list[str] = field(default_factory=list)
    verified: bool = False
    confirmed: bool | None = None
    cached: bool = False
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None and not self.mismatches and not self.rollback_errors

    def to_dict(self) -> dict:
        return {"host": self.host, "target": self.target, "dry_run": self.dry_run, "ok": self.ok,
                "plan": self.plan.to_dict(), "applied": self.applied, "error": self.error,
                "failed_op": self.failed_op.to_dict() if self.failed_op else None,
                "rolled_back": self.rolled_back, "rollback_errors": self.rollback_errors,
                "mismatches": self.mismatches, "verified": self.verified, "confirmed": self.confirmed,
                "cached": self.cached, "timings": {k: round(v, 6) for k, v in self.timings.items()}}


# =========================================================================== lock and journal
class _Lock:
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
    """``<run_dir>/<target>.journal``: one JSON header line, then one line per completed op
    (its position), and ``{"state": ...}`` lines. Removed (kept as ``.last``) when an apply ends
    cleanly; present afterwards only when an apply was killed or its rollback failed."""

    def __init__(self, path: Path):
        self.path = path
        self.fd = -1

    @staticmethod
    def for_target(directory: Path, key: str) -> Journal:
        return Journal(directory / f"{key}.journal")

    def exists(self) -> bool:
        return self.path.exists()

    def start(self, header: dict) -> None:
        tmp = self.path.with_suffix(".tmp")
        data = (json.dumps(header, separators=(",", ":")) + "\n").encode()
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
        os.write(fd, data)
        os.fsync(fd)
        os.close(fd)
        os.replace(tmp, self.path)
        self.fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CLOEXEC)

    def done(self, position: int) -> None:
        os.write(self.fd, b"%d\n" % position)

    def state(self, state: str) -> None:
        os.write(self.fd, (json.dumps({"state": state, "at": time.time()}) + "\n").encode())
        os.fsync(self.fd)

    def finish(self, keep: bool = False) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
        if not keep and self.path.exists():
            os.replace(self.path, self.path.with_suffix(".last"))

    def load(self) -> tuple[dict, int, list[str]]:
        """(header, number of completed ops, states)."""
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
            elif line.isdigit():
                done = max(done, int(line) + 1)
        return header, done, states


def _stamp_path(directory: Path, key: str) -> Path:
    return directory / f"{key}.stamp"


def _design_digest(design: Design) -> str:
    """Digest of a design (memoised on the frozen object)."""
    d = design.__dict__.get("_mvplan_digest")
    if d is None:
        d = hashlib.sha256(repr(design).encode()).hexdigest()
        object.__setattr__(design, "_mvplan_digest", d)
    return d


def _live_digest(live: LiveState) -> str:
    """Digest of a live state: every field of every link, address, route and neighbour."""
    parts = []
    for h in live.hosts:
        for ns in h.namespaces:
            parts.append((h.name, ns.name, [tuple(vars(x).values()) for x in ns.links],
                          [(a.dev, a.address) for a in ns.addresses], [(r.dev, r.to, r.via) for r in ns.routes],
                          [(n.dev, n.address, n.mac) for n in ns.neighbors]))
    return hashlib.sha256(repr(parts).encode()).hexdigest()


_CODE_DIGEST: list[str] = []


def _code_digest() -> str:
    """Digest of the code that turns (design, live state) into a plan and a verdict: a stamp
    written by another version of it is not trusted."""
    if not _CODE_DIGEST:
        from planner.core import compiler, livestate, model, ops
        from . import live as live_mod

        h = hashlib.sha256()
        for mod in (compiler, livestate, model, ops, live_mod):
            try:
                h.update(Path(mod.__file__).read_bytes())
            except OSError:  # pragma: no cover - zipped installs: the version has to do
                h.update(__version__.encode())
        _CODE_DIGEST.append(h.hexdigest())
    return _CODE_DIGEST[0]


# =========================================================================== undo
def _live_of(before: LiveHost | None, ns: str, name: str):
    return before.link(ns, name) if before is not None else None


def _settle(op: Op, ns: str, name: str, before: LiveHost | None, extra_mac_mtu: bool) -> list[Op]:
    """Ops that give a rebuilt link (``ns``/``name``) back its settings from ``before``."""
    lk = _live_of(before, ns, name)
    if lk is None:
        return []
    base = dict(subject=op.subject, host=op.host, ns=ns, name=name)
    out: list[Op] = []
    if lk.alias:
        out.append(SetAlias(**base, alias=lk.alias))
    if extra_mac_mtu:
        if lk.mtu:
            out.append(SetMtu(**base, mtu=lk.mtu))
        if lk.mac:
            out.append(SetMac(**base, mac=lk.mac))
    if lk.source_macs:
        out.append(SetSourceMacs(**base, link_kind=lk.kind or "macvlan", macs=tuple(lk.source_macs)))
    if lk.master:
        out.append(SetBridgePort(**base, master=lk.master))
        if lk.hairpin:
            out.append(SetHairpin(**base, bridge=lk.master, on=True))
    lns = before.ns(ns)
    for a in lns.addresses_of(name):
        out.append(AddAddress(**base, address=a))
    for n in lns.neighbors_of(name):
        out.append(AddNeighbor(**base, address=n.address, mac=n.mac))
    if lk.state == "up":
        out.append(SetLinkUp(**base))
        for r in lns.routes_of(name):
            out.append(AddRoute(**base, to=r.to, via=r.via))
    return out


def _restore_deleted(op: DeleteLink, before: LiveHost | None, deleted: set) -> list[Op]:
    """Rebuild a link an apply deleted, with what it had (and what went with it)."""
    if op.recreate is None:
        raise NotInvertible(f"{op.subject}: deleting {op.name} cannot be undone: its settings are unknown")
    out: list[Op] = [op.recreate]
    out += _settle(op, op.ns, op.name, before, extra_mac_mtu=False)
    lk = _live_of(before, op.ns, op.name)
    if lk is not None and lk.kind == "veth" and lk.link:
        out += _settle(op, lk.link_ns or "", lk.link, before, extra_mac_mtu=True)
    if lk is not None and lk.kind == "bridge" and before is not None:
        lns = before.ns(op.ns)
        for port in lns.links:
            if port.master == op.name and (op.ns, port.name) not in deleted:
                base = dict(subject=op.subject, host=op.host, ns=op.ns, name=port.name)
                out.append(SetBridgePort(**base, master=op.name))
                if port.hairpin:
                    out.append(SetHairpin(**base, bridge=op.name, on=True))
    return out


def undo_ops(done: Sequence[Op], before: LiveHost | None = None) -> tuple[list[Op], list[str]]:
    """The ops that undo ``done`` (completed ops, in order), newest first, and notes on what
    cannot be undone. ``before`` is the host as it was before (for rebuilding deleted links and
    flushed entries)."""
    created: dict[tuple, int] = {}      # current location -> position of its create op
    final: dict[int, tuple] = {}        # create position -> final location
    on_created: set[int] = set()
    deleted: set[tuple] = set()
    for pos, op in enumerate(done):
        if isinstance(op, CREATE_LINK_OPS):
            loc = ((op.netns or op.ns) if isinstance(op, CreateMacvlan) else op.ns, op.name)
            created[loc] = pos
            final[pos] = loc
            if isinstance(op, CreateVeth):
                created[(op.peer_ns, op.peer)] = pos
            continue
        if isinstance(op, DeleteLink):
            deleted.add((op.ns, op.name))
        loc = (op.ns, getattr(op, "name", None))
        if loc in created:
            on_created.add(pos)
            if isinstance(op, MoveToNamespace):
                c = created.pop(loc)
                new = (op.target_ns, op.new_name)
                created[new] = c
                if final.get(c) == loc:
                    final[c] = new
            elif isinstance(op, DeleteLink):
                created.pop(loc)
    out: list[Op] = []
    late: list[Op] = []
    notes: list[str] = []
    for pos in range(len(done) - 1, -1, -1):
        op = done[pos]
        try:
            if isinstance(op, CREATE_LINK_OPS):
                ns, name = final[pos]
                kind = getattr(op, "link_kind", None) or ("veth" if isinstance(op, CreateVeth) else "bridge")
                out.append(DeleteLink(subject=op.subject, host=op.host, ns=ns, name=name, link_kind=kind))
            elif pos in on_created:
                continue
            elif isinstance(op, DeleteLink):
                out += _restore_deleted(op, before, deleted)
            elif isinstance(op, SetLinkUp):
                # a device that was down before goes down again last: taken down while children
                # still hold unicast filters on it, it would stay promiscuous after they are gone
                late.append(op.inverse())
            else:
                out.append(op.inverse())
        except NotInvertible as exc:
            notes.append(f"not undone: {op.describe()} ({exc})")
    return out + late, notes


def repair_ops(before: LiveHost, now: LiveHost) -> list[Op]:
    """Addresses, permanent neighbours and routes that ``before`` had and ``now`` lacks, on links
    both have. The kernel drops some as side effects that no op inverse brings back: taking a
    link down flushes its neighbours and routes, removing its last address flushes them too."""
    out: list[Op] = []
    for bns in before.namespaces:
        nns = now.ns(bns.name)
        if nns is None:
            continue
        for lk in bns.links:
            cur = nns.link(lk.name)
            if cur is None:
                continue
            base = dict(subject=f"{before.name}/{lk.name}", host=before.name, ns=bns.name, name=lk.name)
            have = set(nns.addresses_of(lk.name))
            out += [AddAddress(**base, address=a) for a in bns.addresses_of(lk.name) if a not in have]
            have_n = {(n.address, n.mac) for n in nns.neighbors_of(lk.name)}
            out += [AddNeighbor(**base, address=n.address, mac=n.mac) for n in bns.neighbors_of(lk.name)
                    if (n.address, n.mac) not in have_n]
            if cur.state == "up":
                have_r = {(r.to, r.via) for r in nns.routes_of(lk.name)}
                out += [AddRoute(**base, to=r.to, via=r.via) for r in bns.routes_of(lk.name)
                        if (r.to, r.via) not in have_r]
    return out


def _tolerated(op: Op, code: int) -> bool:
    """Undo steps are idempotent: 'already gone' for a removal, 'already there' for an addition."""
    if isinstance(op, (DeleteLink, DelAddress, DelNeighbor, DelRoute, DeleteNamespace)):
        return code in _ABSENT
    if isinstance(op, (AddAddress, AddNeighbor, AddRoute, CreateNamespace)):
        return code in _PRESENT
    return False


def _run_undo(ex: Executor, ops: Iterable[Op], lenient: bool = False) -> list[str]:
    errors = []
    for op in ops:
        try:
            ex.run(op)
        except StepError as exc:
            if _tolerated(op, exc.code) or (lenient and exc.code in _ABSENT | _PRESENT):
                continue
            errors.append(str(exc))
    return errors


# =========================================================================== progress
class _Progress:
    def __init__(self, total: int, stream: TextIO | None, enabled: bool | None):
        if enabled is None:
            enabled = stream is not None and total > PROGRESS_THRESHOLD and getattr(stream, "isatty", lambda: False)()
        self.on = bool(enabled) and stream is not None
        self.stream = stream
        self.total = total
        self.next_at = 0.0
        self.t0 = time.monotonic()

    def tick(self, k: int, op: Op) -> None:
        now = time.monotonic()
        if now < self.next_at:
            return
        self.next_at = now + 0.1
        width = 30
        fill = width * k // max(self.total, 1)
        self.stream.write(f"\r  [{'#' * fill}{'.' * (width - fill)}] {k}/{self.total} ops  {op.kind:<18.18}")
        self.stream.flush()

    def end(self, k: int, what: str = "applied") -> None:
        if self.on:
            self.stream.write(f"\r  [{'#' * 30}] {k}/{self.total} ops {what} in "
                              f"{time.monotonic() - self.t0:.2f}s{' ' * 12}\n")
            self.stream.flush()


# =========================================================================== apply
def _read(target: Target, design: Design, host: str) -> tuple[LiveState, dict[str, dict[str, int]]]:
    namespaces = list(dict.fromkeys(i.namespace for i in design.interfaces if i.host == host and i.namespace))
    if target.prefix:
        namespaces += [n for n in target.design_namespaces() if n not in namespaces]
    snaps = read_namespaces(target, namespaces)
    return LiveState(hosts=(to_live_host(target, snaps, host),)), {ns: s.index_of() for ns, s in snaps.items()}


def _verify(target: Target, design: Design, host: str, live: LiveState | None = None) -> list[str]:
    if live is None:
        live, _ = _read(target, design, host)
    return compare(expected_state(design, hosts=[host]), live)


def verify(design: Design, *, netns: str | None = None, prefix: str | None = None, host: str | None = None) -> list[str]:
    """Compare the live state of a target with what ``design`` expects: one line per difference."""
    host = pick_host(design, host)
    with Target(netns, prefix) as target:
        return _verify(target, design, host)


def apply(design: Design, *, netns: str | None = None, prefix: str | None = None, host: str | None = None,
          yes: bool = False, check: bool = True, verify: bool = True, confirm_seconds: float | None = None,
          confirm_stdin: bool | None = None, run_dir_path: str | os.PathLike | None = None,
          fault: Callable[[int, Op], None] | None = None, progress: bool | None = None,
          stream: TextIO | None = None, use_stamp: bool = True, kill_at: int | None = None) -> ApplyResult:
    """Plan (and with ``yes``, apply) ``design`` on ``host`` of this machine or of netns ``netns``.

    ``fault(position, op)`` is called before every op and may raise (tests inject failures at
    every position with :class:`FailAt`); ``kill_at`` makes the process kill itself before that op
    (tests of :func:`recover`). ``stream`` receives the progress display (default stderr).
    """
    t0 = time.perf_counter()
    host = pick_host(design, host)
    stream = sys.stderr if stream is None else stream
    target = Target(netns, prefix)
    timings: dict[str, float] = {}
    lock = None
    try:
        rdir = run_dir(run_dir_path) if yes else None
        if yes:
            lock = _Lock(rdir, target.key)
            journal = Journal.for_target(rdir, target.key)
            if journal.exists():
                raise JournalPending(f"an earlier apply on {target.describe()} did not finish ({journal.path}); "
                                     "run 'mvplan apply --recover rollback' (or 'complete') first")
        live, index_hint = _read(target, design, host)
        timings["read"] = time.perf_counter() - t0
        # a no-op re-apply: same design, same live state as after the last verified apply
        stamp_key = None
        if yes and use_stamp and verify:
            stamp_key = {"version": __version__, "code": _code_digest(), "host": host, "prefix": target.prefix,
                         "design": _design_digest(design), "live": _live_digest(live)}
            sp = _stamp_path(rdir, target.key)
            try:
                if json.loads(sp.read_text()) == stamp_key:
                    res = ApplyResult(host=host, target=target.describe(), plan=Plan(design=design.name),
                                      dry_run=False, verified=True, cached=True, timings=timings)
                    timings["total"] = time.perf_counter() - t0
                    return res
            except (OSError, ValueError):
                pass
        t1 = time.perf_counter()
        plan = compile_plan(design, live, check=check, hosts=[host])
        timings["compile"] = time.perf_counter() - t1
        res = ApplyResult(host=host, target=target.describe(), plan=plan, dry_run=not yes, timings=timings)
        if not yes:
            timings["total"] = time.perf_counter() - t0
            return res
        if not plan.ops:
            if verify:
                t2 = time.perf_counter()
                res.mismatches = _verify(target, design, host, live)
                res.verified = True
                timings["verify"] = time.perf_counter() - t2
                if not res.mismatches and stamp_key:
                    _stamp_path(rdir, target.key).write_text(json.dumps(stamp_key))
            timings["total"] = time.perf_counter() - t0
            return res
        _stamp_path(rdir, target.key).unlink(missing_ok=True)
        _confirm_path(rdir, target.key).unlink(missing_ok=True)  # only a confirmation of this apply counts
        before = live.host(host)
        journal.start({"mvplan": __version__, "started": time.time(), "pid": os.getpid(), "host": host,
                       "netns": target.netns, "prefix": target.prefix, "design": design_to_dict(design, resolved=False),
                       "before": before.to_dict(), "ops": [op.to_dict() for op in plan.ops]})
        ex = Executor(target, index_hint)
        t2 = time.perf_counter()
        done = _execute(ex, plan.ops, journal, fault, _Progress(len(plan.ops), stream, progress), kill_at, res)
        timings["execute"] = time.perf_counter() - t2
        if res.error is not None:
            _rollback(ex, plan.ops[:done], before, journal, res)
            timings["total"] = time.perf_counter() - t0
            return res
        journal.state("applied")
        if verify:
            t3 = time.perf_counter()
            ex.forget_all()
            after, _ = _read(target, design, host)
            res.mismatches = compare(expected_state(design, hosts=[host]), after)
            res.verified = True
            timings["verify"] = time.perf_counter() - t3
        if confirm_seconds is not None:
            if res.mismatches:
                res.error = "verification failed; not waiting for confirmation"
                res.confirmed = False
            else:
                journal.state("confirming")
                res.confirmed = _wait_confirm(rdir, target.key, confirm_seconds, stream, confirm_stdin)
                if not res.confirmed:
                    res.error = f"not confirmed within {confirm_seconds:g}s"
            if not res.confirmed:
                _rollback(ex, plan.ops, before, journal, res)
                timings["total"] = time.perf_counter() - t0
                return res
        journal.state("done")
        journal.finish()
        if verify and not res.mismatches and stamp_key:
            after_key = dict(stamp_key, live=_live_digest(after))
            _stamp_path(rdir, target.key).write_text(json.dumps(after_key))
        timings["total"] = time.perf_counter() - t0
        return res
    finally:
        if lock is not None:
            lock.release()
        target.close()


def _execute(ex: Executor, ops: Sequence[Op], journal: Journal, fault, prog: _Progress, kill_at: int | None,
             res: ApplyResult) -> int:
    """Run ops in order; return how many completed. On failure fill ``res.error``/``failed_op``."""
    run = ex.run
    done_rec = journal.done
    k = 0
    try:
        for k, op in enumerate(ops):
            if kill_at is not None and k == kill_at:
                os.kill(os.getpid(), 9)
            if fault is not None:
                fault(k, op)
            if prog.on:
                prog.tick(k, op)
            run(op)
            done_rec(k)
        k = len(ops)
    except (StepError, InjectedFault) as exc:
        res.error = f"op {k + 1}/{len(ops)} failed: {exc}"
        res.failed_op = op
    except KeyboardInterrupt:
        res.error = f"interrupted at op {k + 1}/{len(ops)}"
        res.failed_op = ops[k]
    res.applied = k
    prog.end(k, "applied" if res.error is None else "done before the failure")
    return k


def _undo_and_repair(ex: Executor, done: Sequence[Op], before: LiveHost, lenient: bool = False) -> list[str]:
    ex.forget_all()
    ops, notes = undo_ops(done, before)
    errors = notes + _run_undo(ex, ops, lenient)
    ex.forget_all()
    snaps = read_namespaces(ex.target, [n.name for n in before.namespaces if n.name])
    now = to_live_host(ex.target, snaps, before.name)
    errors += _run_undo(ex, repair_ops(before, now), lenient=True)
    return errors


def _rollback(ex: Executor, done: Sequence[Op], before: LiveHost, journal: Journal, res: ApplyResult) -> None:
    journal.state("rolling-back")
    res.rollback_errors = _undo_and_repair(ex, done, before)
    res.rolled_back = True
    if res.rollback_errors:
        journal.state("rollback-failed")
        journal.finish(keep=True)
    else:
        journal.state("rolled-back")
        journal.finish()


# =========================================================================== confirm
def _confirm_path(directory: Path, key: str) -> Path:
    return directory / f"{key}.confirm"


def confirm_keep(netns: str | None = None, run_dir_path: str | os.PathLike | None = None) -> Path:
    """Confirm a pending ``--confirm`` apply on a target (creates its confirm file)."""
    key = f"netns-{netns}" if netns else "host"
    p = _confirm_path(run_dir(run_dir_path), key)
    p.write_text(f"{os.getpid()}\n")
    return p


def _wait_confirm(directory: Path, key: str, seconds: float, stream: TextIO, use_stdin: bool | None) -> bool:
    path = _confirm_path(directory, key)  # stale confirmations were removed when the apply started
    if use_stdin is None:
        use_stdin = sys.stdin is not None and sys.stdin.isatty()
    stream.write(f"Keep these changes? Confirm within {seconds:g}s: press Enter"
                 f"{'' if use_stdin else ' (no terminal)'} or run 'mvplan apply --confirm-keep"
                 f"{' --netns ' + key[6:] if key.startswith('netns-') else ''}' (creates {path}); "
                 "otherwise they are rolled back.\n")
    stream.flush()
    deadline = time.monotonic() + seconds
    while True:
        left = deadline - time.monotonic()
        if path.exists():
            path.unlink(missing_ok=True)
            return True
        if left <= 0:
            return False
        if use_stdin:
            r, _, _ = select.select([sys.stdin], [], [], min(left, 0.1))
            if r:
                sys.stdin.readline()
                return True
        else:
            time.sleep(min(left, 0.05))


# =========================================================================== recover
def recover(mode: str, *, netns: str | None = None, run_dir_path: str | os.PathLike | None = None,
            stream: TextIO | None = None, check: bool = False) -> ApplyResult:
    """Finish an apply that was killed: ``rollback`` undoes what its journal says was done (the op
    that was running is undone too, tolerating that it never happened); ``complete`` re-reads the
    live state and applies what is still missing of the journalled design."""
    if mode not in ("rollback", "complete"):
        raise ApplyError(f"--recover takes rollback or complete, not {mode!r}")
    rdir = run_dir(run_dir_path)
    key = f"netns-{netns}" if netns else "host"
    journal = Journal.for_target(rdir, key)
    if not journal.exists():
        raise ApplyError(f"nothing to recover on {'netns ' + netns if netns else 'the host'}: no journal at "
                         f"{journal.path}")
    lock = _Lock(rdir, key)
    try:
        header, done, states = journal.load()
        if header.get("netns") != (netns or None):
            raise ApplyError(f"{journal.path} belongs to target {header.get('netns')!r}, not {netns!r}")
        ops = [op_from_dict(d) for d in header["ops"]]
        host = header["host"]
        before = LiveHost.from_dict(host, header.get("before") or {})
        target = Target(netns, header.get("prefix"))
        try:
            res = ApplyResult(host=host, target=target.describe(), plan=Plan(design=header["design"].get("name", ""),
                                                                              ops=tuple(ops)), dry_run=False)
            if mode == "rollback":
                ex = Executor(target)
                # the op that was running when the apply died may or may not have happened
                n = min(done + (0 if "applied" in states or "confirming" in states else 1), len(ops))
                journal.fd = os.open(journal.path, os.O_WRONLY | os.O_APPEND | os.O_CLOEXEC)
                journal.state("recover-rollback")
                res.rollback_errors = _undo_and_repair(ex, ops[:n], before, lenient=True)
                res.rolled_back = True
                res.applied = done
                journal.state("rolled-back" if not res.rollback_errors else "rollback-failed")
                journal.finish(keep=bool(res.rollback_errors))
                return res
            design = design_from_dict(header["design"])
            journal.finish()  # the new apply writes its own journal
        finally:
            target.close()
    finally:
        lock.release()
    return apply(design, netns=netns, prefix=header.get("prefix"), host=host, yes=True, check=check,
                 run_dir_path=run_dir_path, stream=stream, use_stamp=False)
