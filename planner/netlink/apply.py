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

from .confirm import confirm_keep
from .journal import DEFAULT_RUN_DIR, Journal, Lock, run_dir
from .progress import PROGRESS_THRESHOLD
from .recover import recover
from .result import ApplyError, ApplyResult, FailAt, InjectedFault, JournalPending, LockBusy, pick_host
from .transaction import apply, verify
from .undo import repair_ops, undo_ops

__all__ = [
    "DEFAULT_RUN_DIR", "PROGRESS_THRESHOLD", "ApplyError", "ApplyResult", "FailAt", "InjectedFault", "Journal",
    "JournalPending", "Lock", "LockBusy", "apply", "confirm_keep", "pick_host", "recover", "repair_ops", "run_dir",
    "undo_ops", "verify",
]
