"""The transaction of one apply: lock, read, compile, journal, execute, roll back, verify, confirm.

See :mod:`planner.netlink.apply` for the steps and what each guarantees.
"""
from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

from planner import __version__
from planner.core.compiler import Plan, compile_plan, expected_state
from planner.core.compiler.wants import HostWants
from planner.core.gcpause import gc_paused, without_gc_pauses
from planner.core.livestate import LiveHost, LiveState, compare
from planner.core.model import Design, design_to_dict
from planner.core.ops import Op

from .confirm import confirm_path, wait_confirm
from .execute import Executor, StepError
from .journal import Journal, Lock, code_digest, design_digest, live_digest, run_dir, stamp_path
from .live import read_namespaces, to_live_host
from .progress import Progress
from .result import ApplyResult, InjectedFault, JournalPending, pick_host
from .target import Target
from .undo import repair_ops, run_undo, undo_ops

__all__ = ["apply", "verify", "undo_and_repair", "execute", "rollback"]


@without_gc_pauses  # reading 5,000 links is one burst of objects that all stay (planner.core.gcpause)
def _read(target: Target, design: Design, host: str) -> tuple[LiveState, dict[str, dict[str, int]]]:
    namespaces = list(dict.fromkeys(i.namespace for i in design.interfaces if i.host == host and i.namespace))
    if target.prefix:
        namespaces += [n for n in target.design_namespaces() if n not in namespaces]
    snaps = read_namespaces(target, namespaces)
    return LiveState(hosts=(to_live_host(target, snaps, host),)), {ns: s.index_of() for ns, s in snaps.items()}


def carrier_warnings(design: Design, live: LiveHost | None) -> list[str]:
    """Parents that are up in the design but have no carrier now: their children will pass nothing."""
    if live is None:
        return []
    out = []
    for i in design.interfaces:
        if i.kind != "parent" or i.host != live.name or i.state != "up" or not design.children_of(i.id):
            continue
        lk = live.link("", i.name)
        if lk is not None and lk.carrier is False and lk.state == "up":
            out.append(f"{i.id} has no carrier (no cable, or the other end is down): its "
                       f"{len(design.children_of(i.id))} child(ren) will not pass traffic until it has")
    return out


@without_gc_pauses
def _verify(target: Target, design: Design, host: str, live: LiveState | None = None,
            wants: dict[str, HostWants] | None = None) -> list[str]:
    if live is None:
        live, _ = _read(target, design, host)
    return compare(expected_state(design, hosts=[host], wants=wants), live)


def verify(design: Design, *, netns: str | None = None, prefix: str | None = None,
           host: str | None = None) -> list[str]:
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
    t = _Transaction(design, pick_host(design, host), Target(netns, prefix), yes=yes, check=check, verify=verify,
                     stream=sys.stderr if stream is None else stream)
    try:
        return t.run(confirm_seconds=confirm_seconds, confirm_stdin=confirm_stdin, run_dir_path=run_dir_path,
                     fault=fault, progress=progress, use_stamp=use_stamp, kill_at=kill_at)
    finally:
        if t.lock is not None:
            t.lock.release()
        t.target.close()


class _Transaction:
    """One apply, step by step; ``timings`` records how long each step took."""

    def __init__(self, design: Design, host: str, target: Target, *, yes: bool, check: bool, verify: bool,
                 stream: TextIO):
        self.design, self.host, self.target = design, host, target
        self.yes, self.check, self.verify, self.stream = yes, check, verify, stream
        self.t0 = time.perf_counter()
        self.timings: dict[str, float] = {}
        self.lock: Lock | None = None
        self.rdir: Path | None = None
        self.journal: Journal | None = None
        #: the host's wants, built by the compile and reused by the verification
        self.wants: dict[str, HostWants] = {}

    def lap(self, name: str, since: float) -> None:
        self.timings[name] = time.perf_counter() - since

    def done(self, res: ApplyResult) -> ApplyResult:
        self.lap("total", self.t0)
        return res

    def run(self, *, confirm_seconds, confirm_stdin, run_dir_path, fault, progress, use_stamp, kill_at) -> ApplyResult:
        if self.yes:
            self.take_target(run_dir_path)
        live, index_hint = _read(self.target, self.design, self.host)
        self.lap("read", self.t0)
        stamp_key = self.stamp_key(live) if self.yes and use_stamp and self.verify else None
        if stamp_key is not None and self.stamp_matches(stamp_key):
            return self.done(ApplyResult(host=self.host, target=self.target.describe(),
                                         plan=Plan(design=self.design.name), dry_run=False, verified=True,
                                         cached=True, timings=self.timings))
        t1 = time.perf_counter()
        plan = compile_plan(self.design, live, check=self.check, hosts=[self.host], wants=self.wants)
        self.lap("compile", t1)
        res = ApplyResult(host=self.host, target=self.target.describe(), plan=plan, dry_run=not self.yes,
                          timings=self.timings, warnings=carrier_warnings(self.design, live.host(self.host)))
        if not self.yes:
            return self.done(res)
        if not plan.ops:
            return self.done(self.nothing_to_do(res, live, stamp_key))
        return self.done(self.change(res, live, index_hint, stamp_key, fault=fault, progress=progress,
                                     kill_at=kill_at, confirm_seconds=confirm_seconds, confirm_stdin=confirm_stdin))

    # -- steps ------------------------------------------------------------------------------------
    def take_target(self, run_dir_path) -> None:
        """Lock the target; refuse while a journal of an unfinished apply exists."""
        self.rdir = run_dir(run_dir_path)
        self.lock = Lock(self.rdir, self.target.key)
        self.journal = Journal.for_target(self.rdir, self.target.key)
        if self.journal.exists():
            raise JournalPending(f"an earlier apply on {self.target.describe()} did not finish ({self.journal.path}); "
                                 "run 'mvplan apply --recover rollback' (or 'complete') first")

    def stamp_key(self, live: LiveState) -> dict:
        return {"version": __version__, "code": code_digest(), "host": self.host, "prefix": self.target.prefix,
                "design": design_digest(self.design), "live": live_digest(live)}

    def stamp_matches(self, key: dict) -> bool:
        """A no-op re-apply: same design, same live state as after the last verified apply."""
        assert self.rdir is not None
        try:
            return json.loads(stamp_path(self.rdir, self.target.key).read_text()) == key
        except (OSError, ValueError):
            return False

    def write_stamp(self, key: dict) -> None:
        assert self.rdir is not None
        stamp_path(self.rdir, self.target.key).write_text(json.dumps(key))

    def nothing_to_do(self, res: ApplyResult, live: LiveState, stamp_key: dict | None) -> ApplyResult:
        if self.verify:
            t2 = time.perf_counter()
            res.mismatches = _verify(self.target, self.design, self.host, live, self.wants)
            res.verified = True
            self.lap("verify", t2)
            if not res.mismatches and stamp_key:
                self.write_stamp(stamp_key)
        return res

    def change(self, res: ApplyResult, live: LiveState, index_hint, stamp_key: dict | None, *, fault, progress,
               kill_at, confirm_seconds, confirm_stdin) -> ApplyResult:
        """Journal, execute (rolling back on failure), verify, confirm; the plan has ops."""
        assert self.rdir is not None and self.journal is not None
        plan, journal = res.plan, self.journal
        stamp_path(self.rdir, self.target.key).unlink(missing_ok=True)
        confirm_path(self.rdir, self.target.key).unlink(missing_ok=True)  # only a confirmation of this apply counts
        before = live.host(self.host)
        assert before is not None
        with gc_paused():  # the journal's header: the design and every op as plain data, at once
            journal.start({"mvplan": __version__, "started": time.time(), "pid": os.getpid(), "host": self.host,
                           "netns": self.target.netns, "prefix": self.target.prefix,
                           "design": design_to_dict(self.design, resolved=False), "before": before.to_dict(),
                           "ops": [op.to_record() for op in plan.ops]})
        ex = Executor(self.target, index_hint)
        t2 = time.perf_counter()
        done = execute(ex, plan.ops, journal, fault, Progress(len(plan.ops), self.stream, progress), kill_at, res)
        self.lap("execute", t2)
        if res.error is not None:
            rollback(ex, plan.ops[:done], before, journal, res)
            return res
        journal.state("applied")
        after = None
        if self.verify:
            t3 = time.perf_counter()
            ex.forget_all()
            after, _ = _read(self.target, self.design, self.host)
            with gc_paused():
                res.mismatches = compare(expected_state(self.design, hosts=[self.host], wants=self.wants), after)
            res.verified = True
            res.warnings = carrier_warnings(self.design, after.host(self.host))
            self.lap("verify", t3)
        if confirm_seconds is not None and not self.confirmed(res, confirm_seconds, confirm_stdin):
            rollback(ex, plan.ops, before, journal, res)
            return res
        journal.state("done")
        journal.finish()
        if after is not None and not res.mismatches and stamp_key:
            self.write_stamp(dict(stamp_key, live=live_digest(after)))
        return res

    def confirmed(self, res: ApplyResult, seconds: float, use_stdin: bool | None) -> bool:
        assert self.rdir is not None and self.journal is not None
        if res.mismatches:
            res.error = "verification failed; not waiting for confirmation"
            res.confirmed = False
            return False
        self.journal.state("confirming")
        res.confirmed = wait_confirm(self.rdir, self.target.key, seconds, self.stream, use_stdin)
        if not res.confirmed:
            res.error = f"not confirmed within {seconds:g}s"
        return bool(res.confirmed)


def execute(ex: Executor, ops: Sequence[Op], journal: Journal, fault, prog: Progress, kill_at: int | None,
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


def undo_and_repair(ex: Executor, done: Sequence[Op], before: LiveHost, lenient: bool = False,
                    gone: list[str] | None = None) -> list[str]:
    """Undo ``done``, repair what is still not as ``before``; the problems left. Links deleted from
    outside meanwhile (which no undo can bring back) are added to ``gone``."""
    ex.forget_all()
    ops, notes = undo_ops(done, before)
    errors = notes + run_undo(ex, ops, lenient)
    ex.forget_all()
    names = [n.name for n in before.namespaces if n.name]
    now = to_live_host(ex.target, read_namespaces(ex.target, names), before.name)
    repair = repair_ops(before, now)
    errors += run_undo(ex, repair, lenient=True)
    if repair:
        ex.forget_all()
        now = to_live_host(ex.target, read_namespaces(ex.target, names), before.name)
    if gone is not None:
        gone += vanished(before, now, ex.target.describe())
    return errors


def vanished(before: LiveHost, now: LiveHost, where: str) -> list[str]:
    """Links that were there before the apply and are still gone after the rollback: someone else
    deleted them meanwhile (a parent removed from outside). Reported, never called "as before"."""
    out = []
    for ns in before.namespaces:
        for lk in ns.links:
            if now.link(ns.name, lk.name) is None:
                inside = f"namespace {ns.name} of " if ns.name else ""
                out.append(f"{lk.name} ({inside}{where}) was there before the apply and is gone: deleted from outside "
                           "mvplan during the apply; mvplan cannot recreate it")
    return out


def rollback(ex: Executor, done: Sequence[Op], before: LiveHost, journal: Journal, res: ApplyResult) -> None:
    journal.state("rolling-back")
    res.rollback_errors = undo_and_repair(ex, done, before, gone=res.vanished)
    res.rolled_back = True
    if res.rollback_errors:
        journal.state("rollback-failed")
        journal.finish(keep=True)
    else:
        journal.state("rolled-back")
        journal.finish()
