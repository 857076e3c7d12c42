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
