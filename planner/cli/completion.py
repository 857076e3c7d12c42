"""completion: shell completion scripts for bash, zsh and fish, generated from the parser itself
(so a new command or option completes without anybody editing a script)."""
from __future__ import annotations

import argparse
import re
import shlex
import sys
from dataclasses import dataclass

from .common import EXIT_OK

__all__ = ["add_completion", "completion_script", "SHELLS"]

SHELLS = ("bash", "zsh", "fish")


@dataclass(frozen=True)
class _Option:
    flags: tuple[str, ...]
    help: str
    takes_value: bool
    choices: tuple[str, ...]


@dataclass(frozen=True)
class _Command:
    name: str
    help: str
    options: tuple[_Option, ...]
    positional_choices: tuple[str, ...]


def _commands(parser: argparse.ArgumentParser) -> list[_Command]:
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    helps = {a.dest: a.help or "" for a in sub._choices_actions}
    out = []
    for name, sp in sub.choices.items():
        opts: list[_Option] = []
        pos_choices: tuple[str, ...] = ()
        for a in sp._actions:
            if not a.option_strings:
                if a.choices:
                    pos_choices = tuple(str(c) for c in a.choices)
                continue
            opts.append(_Option(tuple(a.option_strings), a.help or "", a.nargs != 0,
                                tuple(str(c) for c in a.choices or ())))
        out.append(_Command(name, helps.get(name, ""), tuple(opts), pos_choices))
    return out


def _bash(cmds: list[_Command]) -> str:
    top = shlex.quote(" ".join(c.name for c in cmds) + " -h --help -V --version")
    lines = ["# mvplan completion for bash: eval \"$(mvplan completion bash)\" in ~/.bashrc,",
             "# or save it as /etc/bash_completion.d/mvplan", "_mvplan() {",
             '    local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}" cmd="" i opts=""',
             "    for ((i = 1; i < COMP_CWORD; i++)); do",
             '        case "${COMP_WORDS[i]}" in -*) ;; *) cmd="${COMP_WORDS[i]}"; break ;; esac',
             "    done",
             '    if [ -z "$cmd" ]; then',
             f'        COMPREPLY=($(compgen -W {top} -- "$cur"))',
             "        return", "    fi", '    case "$cmd:$prev" in']
    for c in cmds:
        for o in c.options:
            if o.choices:
                pats = "|".join(f"{c.name}:{f}" for f in o.flags)
                lines.append(f'        {pats}) COMPREPLY=($(compgen -W {shlex.quote(" ".join(o.choices))} -- "$cur"));'
                             " return ;;")
    lines += ["    esac", '    case "$cmd" in']
    for c in cmds:
        words = " ".join(f for o in c.options for f in o.flags)
        lines.append(f"        {c.name}) opts={shlex.quote(words)} ;;")
    lines += ["    esac", '    if [[ "$cur" == -* ]]; then', '        COMPREPLY=($(compgen -W "$opts" -- "$cur"))']
    pos = [c for c in cmds if c.positional_choices]
    if pos:
        lines.append('    else case "$cmd" in')
        for c in pos:
            lines.append(f'        {c.name}) COMPREPLY=($(compgen -W {shlex.quote(" ".join(c.positional_choices))}'
                         ' -- "$cur")) ;;')
        lines.append('        *) COMPREPLY=($(compgen -f -- "$cur")) ;; esac')
    else:
        lines.append('    else COMPREPLY=($(compgen -f -- "$cur"))')
    lines += ["    fi", "}", "complete -o default -F _mvplan mvplan", ""]
    return "\n".join(lines)


def _zsh_text(text: str) -> str:
    return re.sub(r"[\[\]:'\\]", " ", text).strip()


def _zsh(cmds: list[_Command]) -> str:
    lines = ["#compdef mvplan", "# mvplan completion for zsh: save as _mvplan in a folder of $fpath,",
             "# or source <(mvplan completion zsh)", "_mvplan() {", "    local -a commands", "    commands=("]
    lines += [f"        '{c.name}:{_zsh_text(c.help)}'" for c in cmds]
    lines += ["    )", "    if (( CURRENT == 2 )); then", "        _describe 'mvplan command' commands",
              "        return", "    fi", "    local cmd=${words[2]}", "    shift words", "    (( CURRENT-- ))",
              '    case "$cmd" in']
    for c in cmds:
        specs = []
        for o in c.options:
            for f in o.flags:
                spec = f"{f}[{_zsh_text(o.help)}]"
                if o.takes_value:
                    spec += f":value:({' '.join(o.choices)})" if o.choices else ":value:_files"
                specs.append(shlex.quote(spec))
        specs.append(shlex.quote(f"*:argument:({' '.join(c.positional_choices)})" if c.positional_choices
                                 else "*:file:_files"))
        lines.append(f"        {c.name}) _arguments {' '.join(specs)} ;;")
    lines += ["    esac", "}", 'if [ "$funcstack[1]" = "_mvplan" ]; then', '    _mvplan "$@"', "else",
              "    compdef _mvplan mvplan", "fi", ""]
    return "\n".join(lines)


def _fish(cmds: list[_Command]) -> str:
    q = shlex.quote
    lines = ["# mvplan completion for fish: mvplan completion fish > ~/.config/fish/completions/mvplan.fish",
             "complete -c mvplan -f",
             "complete -c mvplan -n __fish_use_subcommand -s V -l version -d 'print the version'"]
    for c in cmds:
        lines.append(f"complete -c mvplan -n __fish_use_subcommand -a {c.name} -d {q(c.help)}")
    for c in cmds:
        cond = q(f"__fish_seen_subcommand_from {c.name}")
        if c.positional_choices:
            lines.append(f"complete -c mvplan -n {cond} -a {q(' '.join(c.positional_choices))}")
        else:
            lines.append(f"complete -c mvplan -n {cond} -F")
        for o in c.options:
            names = " ".join(f"-l {f[2:]}" if f.startswith("--") else f"-s {f[1:]}" for f in o.flags)
            value = (f" -x -a {q(' '.join(o.choices))}" if o.choices else " -r") if o.takes_value else ""
            lines.append(f"complete -c mvplan -n {cond} {names}{value} -d {q(o.help)}")
    return "\n".join(lines) + "\n"


def completion_script(shell: str) -> str:
    from . import build_parser

    cmds = _commands(build_parser())
    return {"bash": _bash, "zsh": _zsh, "fish": _fish}[shell](cmds)


def cmd_completion(args) -> int:
    sys.stdout.write(completion_script(args.shell))
    return EXIT_OK


def add_completion(sub) -> None:
    p = sub.add_parser("completion", help="print a shell completion script: mvplan completion bash|zsh|fish")
    p.add_argument("shell", choices=SHELLS)
    p.set_defaults(func=cmd_completion)
