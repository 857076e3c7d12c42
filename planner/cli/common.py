"""What every command shares: loading a design argument, the exit codes, input errors.

Exit codes (everywhere in mvplan): 0 ok, 1 findings / failure / disagreement, 2 unusable input.
"""
from __future__ import annotations

import sys
from pathlib import Path

from planner.core.errors import DesignError, InputProblem
from planner.core.model import (
    Design,
    design_from_dict,
    design_from_text,
    parse_design_text,
    read_design_text,
)
from planner.core.model.limits import LOCAL

__all__ = ["EXIT_OK", "EXIT_FAIL", "EXIT_INPUT", "STDIO", "load", "input_error", "print_problems",
           "load_with_what_if", "read_input", "write_output"]

EXIT_OK, EXIT_FAIL, EXIT_INPUT = 0, 1, 2
#: the file name that means standard input (as an input) or standard output (as ``-o``)
STDIO = "-"


def read_input(path: str) -> tuple[str, str]:
    """(text, name) of an input file; ``-`` reads standard input (named ``<stdin>``)."""
    if path == STDIO:
        return sys.stdin.read(), "<stdin>"
    return read_design_text(path)


def write_output(path: str, text: str) -> None:
    """Write ``text`` to ``path``; ``-`` writes standard output."""
    if path == STDIO:
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        Path(path).write_text(text, "utf-8")


def load(path: str) -> Design:
    """The design named on the command line (``-``: read from standard input)."""
    return design_from_text(*read_input(path))


def input_error(message: str) -> DesignError:
    """A command-line mistake, reported like a design problem (exit 2)."""
    return DesignError(InputProblem("(command line)", message))


def print_problems(err: DesignError, path: str) -> None:
    print(f"{path}: not a usable design ({len(err.problems)} problem{'s' if len(err.problems) != 1 else ''}):",
          file=sys.stderr)
    for p in err.problems:
        print(f"  {p.path or '(document)'}: {p.message}", file=sys.stderr)


def load_with_what_if(args) -> Design:
    """The design with ``--hairpin PORT=on|off`` and ``--down HOST/PARENT`` applied to the document."""
    from planner.core.reachability import apply_what_if

    path = args.design
    if not (args.hairpin or args.down):
        return load(path)
    doc = parse_design_text(*read_input(path), LOCAL)
    hairpin = {}
    for item in args.hairpin or ():
        port, _, val = item.rpartition("=")
        if val not in ("on", "off") or not port:
            raise input_error(f"--hairpin {item!r}: write PORT=on or PORT=off, e.g. switch:sw1/p1=on")
        hairpin[port] = val == "on"
    try:
        doc = apply_what_if(doc, hairpin=hairpin, down=args.down or ())
    except ValueError as exc:
        raise input_error(str(exc)) from None
    return design_from_dict(doc, sizes=LOCAL)
