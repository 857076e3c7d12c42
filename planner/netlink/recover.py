"""Finishing an apply that was killed, from the journal it left."""
from __future__ import annotations

import os
from typing import TextIO

from planner.core.compiler import Plan
from planner.core.livestate import LiveHost
from planner.core.model import design_from_dict
from planner.core.model.limits import LOCAL
from planner.core.ops import op_from_dict

from .execute import Executor
from .journal import Journal, Lock, run_dir
from .result import ApplyError, ApplyResult
from .target import Target
from .transaction import apply, undo_and_repair

__all__ = ["recover"]


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
    lock = Lock(rdir, key)
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
                res.rollback_errors = undo_and_repair(ex, ops[:n], before, lenient=True, gone=res.vanished)
                res.rolled_back = True
                res.applied = done
                journal.state("rolled-back" if not res.rollback_errors else "rollback-failed")
                journal.finish(keep=bool(res.rollback_errors))
                return res
            design = design_from_dict(header["design"], sizes=LOCAL)  # our own journal
            journal.finish()  # the new apply writes its own journal
        finally:
            target.close()
    finally:
        lock.release()
    return apply(design, netns=netns, prefix=header.get("prefix"), host=host, yes=True, check=check,
                 run_dir_path=run_dir_path, stream=stream, use_stamp=False)
