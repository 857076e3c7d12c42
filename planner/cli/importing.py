"""import: Docker, Kubernetes/Multus, libvirt and containerlab files -> a design file."""
from __future__ import annotations

import json
import sys

import yaml

from planner.core.errors import InputProblem

from .common import EXIT_FAIL, EXIT_INPUT, EXIT_OK, read_input, write_output

__all__ = ["add_import"]


def cmd_import(args) -> int:
    from planner.importers import ALIASES, FORMATS, ImportFailure, Source, import_sources

    sources = []
    for path in args.files:
        text, name = read_input(path)
        sources.append(Source(name, text))
    try:
        result = import_sources(args.source_format, sources, host=args.host, name=args.name)
    except ImportFailure as exc:
        _print_failure(exc.problems)
        return EXIT_INPUT
    except ValueError as exc:  # an unknown format
        print(f"mvplan import: {exc}", file=sys.stderr)
        return EXIT_INPUT
    assert args.source_format in FORMATS or args.source_format in ALIASES
    for w in result.warnings:
        print(f"warning: {w}", file=sys.stderr)
    out = args.output or "-"
    if args.json:
        text = json.dumps(result.to_dict(), indent=2) + "\n"
    elif out.endswith(".json"):
        text = json.dumps(result.document, indent=2) + "\n"
    else:
        head = f"# imported by mvplan from {', '.join(s.name for s in sources)} (--from {args.source_format})\n"
        head += "".join(f"# warning: {' '.join(str(w).splitlines())}\n" for w in result.warnings)
        text = head + yaml.safe_dump(result.document, sort_keys=False, allow_unicode=True, width=100)
    write_output(out, text)
    if out != "-":
        n = sum(len(h.get("children", [])) for h in result.document["hosts"])
        print(f"wrote {out}: design {result.document['name']!r}, {len(result.document['hosts'])} host(s), "
              f"{n} child(ren), {len(result.warnings)} warning(s)", file=sys.stderr)
    return EXIT_FAIL if args.strict and result.warnings else EXIT_OK


def _print_failure(problems: list[InputProblem]) -> None:
    print(f"mvplan import: cannot import ({len(problems)} problem{'s' if len(problems) != 1 else ''}):",
          file=sys.stderr)
    for p in problems:
        print(f"  {p.path}: {p.message}", file=sys.stderr)


def add_import(sub) -> None:
    from planner.importers import ALIASES, FORMATS

    p = sub.add_parser("import", help="read Docker, Kubernetes/Multus, libvirt or containerlab files into a design",
                       description="Formats: " + "; ".join(f"{k}: {v[0]}" for k, v in FORMATS.items())
                       + ". Aliases: " + ", ".join(f"{k} = {v}" for k, v in ALIASES.items()) + ".")
    p.add_argument("files", nargs="+", metavar="FILE", help="input files ('-' reads standard input)")
    p.add_argument("--from", dest="source_format", required=True, choices=list(FORMATS) + list(ALIASES),
                   metavar="FORMAT", help=f"one of {', '.join(FORMATS)} (or {', '.join(ALIASES)})")
    p.add_argument("-o", "--output", metavar="FILE", help="write the design here (.json: JSON; '-' or none: stdout)")
    p.add_argument("--host", help="name of the host the files describe (default: what they say, else per format)")
    p.add_argument("--name", help="name of the design (default: what the files say, else the format)")
    p.add_argument("--json", action="store_true", help="print {document, warnings} as JSON")
    p.add_argument("--strict", action="store_true", help="exit 1 when anything could not be mapped (warnings)")
    p.set_defaults(func=cmd_import)
