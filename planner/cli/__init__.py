"""The ``mvplan`` command line: an edge that reads files, calls the core and prints.

Every command is listed once, in :data:`COMMANDS`; each module adds its own sub-parser. Exit
codes are the same everywhere (:mod:`planner.cli.common`): 0 ok, 1 findings or failure, 2
unusable input.
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from planner.core.errors import DesignError, MvplanError

from . import analyse, apply, completion, importing, plan, rehearse, serve
from .common import EXIT_FAIL, EXIT_INPUT, EXIT_OK, print_problems

__all__ = ["main", "build_parser", "COMMANDS"]

#: every sub-command, in the order ``mvplan --help`` lists them
COMMANDS: tuple[Callable[[argparse._SubParsersAction], None], ...] = (
    analyse.add_check, analyse.add_predict, analyse.add_explain, analyse.add_schema, serve.add_serve,
    plan.add_plan, plan.add_export, importing.add_import, apply.add_apply, apply.add_discover, rehearse.add_rehearse,
    completion.add_completion,
)


class _Version(argparse.Action):
    """``--version``, reading the package metadata only when asked (not on every start)."""

    def __call__(self, parser, namespace, values, option_string=None):
        import planner

        print(f"mvplan {planner.__version__}")  # standard output, as argparse's own version action
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="mvplan", description="Plan, check, predict and apply Linux macvlan topologies.")
    ap.add_argument("-V", "--version", action=_Version, nargs=0, help="print the version and exit")
    sub = ap.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in COMMANDS:
        add(sub)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except DesignError as err:
        name = getattr(args, "design", None) or "input"
        print_problems(err, "<stdin>" if name == "-" else name)
        return EXIT_INPUT
    except MvplanError as err:
        print(f"mvplan {args.command}: {err}", file=sys.stderr)
        return EXIT_FAIL
    except BrokenPipeError:
        return EXIT_OK

