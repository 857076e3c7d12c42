"""``--confirm SECONDS`` (like ``netplan try``): keep a change only if it is confirmed in time."""
from __future__ import annotations

import os
import select
import sys
import time
from pathlib import Path
from typing import TextIO

from .journal import run_dir

__all__ = ["confirm_path", "confirm_keep", "wait_confirm"]


def confirm_path(directory: Path, key: str) -> Path:
    return directory / f"{key}.confirm"


def confirm_keep(netns: str | None = None, run_dir_path: str | os.PathLike | None = None) -> Path:
    """Confirm a pending ``--confirm`` apply on a target (creates its confirm file)."""
    key = f"netns-{netns}" if netns else "host"
    p = confirm_path(run_dir(run_dir_path), key)
    p.write_text(f"{os.getpid()}\n")
    return p


def wait_confirm(directory: Path, key: str, seconds: float, stream: TextIO, use_stdin: bool | None) -> bool:
    path = confirm_path(directory, key)  # stale confirmations were removed when the apply started
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
