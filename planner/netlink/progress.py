"""The progress display of a long apply (on a terminal)."""
from __future__ import annotations

import time
from typing import TextIO

from planner.core.ops import Op

__all__ = ["Progress", "PROGRESS_THRESHOLD"]

#: plans with more ops than this get a progress display (on a terminal)
PROGRESS_THRESHOLD = 30


class Progress:
    def __init__(self, total: int, stream: TextIO | None, enabled: bool | None):
        if enabled is None:
            is_tty = getattr(stream, "isatty", lambda: False)
            enabled = stream is not None and total > PROGRESS_THRESHOLD and is_tty()
        self.on = bool(enabled) and stream is not None
        self.stream = stream
        self.total = total
        self.next_at = 0.0
        self.t0 = time.monotonic()

    def tick(self, k: int, op: Op) -> None:
        """Redraw the bar (at most ten times a second); callers tick only when ``on``."""
        stream = self.stream
        now = time.monotonic()
        if stream is None or now < self.next_at:
            return
        self.next_at = now + 0.1
        width = 30
        fill = width * k // max(self.total, 1)
        stream.write(f"\r  [{'#' * fill}{'.' * (width - fill)}] {k}/{self.total} ops  {op.kind:<18.18}")
        stream.flush()

    def end(self, k: int, what: str = "applied") -> None:
        stream = self.stream
        if self.on and stream is not None:  # on implies a stream; the check tells the type checker
            stream.write(f"\r  [{'#' * 30}] {k}/{self.total} ops {what} in "
                         f"{time.monotonic() - self.t0:.2f}s{' ' * 12}\n")
            stream.flush()
