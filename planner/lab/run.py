"""Running ``ip`` and friends for the lab: one error type, netns listing, lab prefixes, ``ip -batch``."""
from __future__ import annotations

import itertools
import os
import re
import subprocess
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from planner.core.errors import MvplanError

__all__ = ["LabError", "run", "netns_exists", "netns_list", "default_prefix", "Batch", "run_batches"]


class LabError(MvplanError, RuntimeError):
    """Building or driving a lab failed; the message names the failing command (or op) and its error."""

    def __init__(self, message: str, command: Sequence[str] | str | None = None, stderr: str = ""):
        self.command = command if isinstance(command, str) or command is None else " ".join(command)
        self.stderr = stderr
        super().__init__(message)


def run(argv: Sequence[str], *, input: str | None = None, timeout: float = 60.0,
        check: bool = True) -> subprocess.CompletedProcess:
    """Run a command, text in and out; with ``check`` a non-zero exit raises :class:`LabError`."""
    try:
        cp = subprocess.run(list(argv), input=input, capture_output=True, text=True, timeout=timeout)
    except FileNotFoundError as exc:
        raise LabError(f"{argv[0]}: not found ({exc})", argv) from None
    except subprocess.TimeoutExpired:
        raise LabError(f"timed out after {timeout}s: {' '.join(argv)}", argv) from None
    if check and cp.returncode != 0:
        err = (cp.stderr or cp.stdout).strip()
        raise LabError(f"command failed (rc={cp.returncode}): {' '.join(argv)}: {err}", argv, err)
    return cp


NETNS_DIRS = ("/run/netns", "/var/run/netns")


def netns_exists(name: str) -> bool:
    return any(os.path.exists(os.path.join(d, name)) for d in NETNS_DIRS)


def netns_list() -> list[str]:
    cp = run(["ip", "netns", "list"], check=False)
    return [line.split()[0] for line in cp.stdout.splitlines() if line.strip()]


_counter = itertools.count()
_counter_lock = threading.Lock()


def default_prefix() -> str:
    """A short prefix unique to this process and call, not used by an existing netns."""
    existing = netns_list()
    while True:
        with _counter_lock:
            n = next(_counter)
        prefix = f"mvl{os.getpid() % 10000}x{n}"
        taken = re.compile(re.escape(prefix) + r"(?![0-9])")
        if not any(taken.match(name) for name in existing):
            return prefix


_FAILED_LINE = re.compile(r"Command failed (?:\S+):(\d+)")


def batch_error_text(stderr: str) -> str:
    """``ip -batch`` output without its "Command failed -:N" lines."""
    return _FAILED_LINE.sub("", stderr).strip()


@dataclass
class Batch:
    """Commands for one netns, run as one ``ip -n NS -batch -`` process (``netns=None``: the machine)."""

    netns: str | None
    cmds: list[list[str]] = field(default_factory=list)
    #: ``ip`` or ``bridge`` (both read ``-batch -`` and report failures as "Command failed -:N")
    tool: str = "ip"

    def add(self, *args: object) -> None:
        self.cmds.append([str(a) for a in args])

    def run(self) -> None:
        if not self.cmds:
            return
        text = "\n".join(" ".join(c) for c in self.cmds) + "\n"
        argv = [self.tool, *(["-n", self.netns] if self.netns else []), "-batch", "-"]
        cp = run(argv, input=text, check=False)
        if cp.returncode == 0:
            return
        err = (cp.stderr or cp.stdout).strip()
        m = _FAILED_LINE.search(err)
        cmd = self.cmds[int(m.group(1)) - 1] if m and 0 < int(m.group(1)) <= len(self.cmds) else None
        where = f"{self.tool} -n {self.netns} " if self.netns else f"{self.tool} "
        shown = where + " ".join(cmd) if cmd else " ".join(argv)
        detail = batch_error_text(err)
        raise LabError(f"command failed: {shown}: {detail}", shown, detail)


def run_batches(batches: Sequence[Batch], pool: ThreadPoolExecutor | None = None) -> None:
    """Run batches of different namespaces in parallel; the first error is raised after all ended."""
    todo = [b for b in batches if b.cmds]
    if pool is None or len(todo) <= 1:
        for b in todo:
            b.run()
        return
    errors = []
    for f in [pool.submit(b.run) for b in todo]:
        try:
            f.result()
        except LabError as exc:
            errors.append(exc)
    if errors:
        raise errors[0]
