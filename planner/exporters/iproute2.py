"""POSIX sh scripts of ``ip``/``bridge`` commands, one command per op of the compiled plan.

The script is the plan, readable: ``set -eu``, a ``# <design object>: <what>`` comment before
every command, every argument through :func:`shlex.quote` (so a design named ``Bob's "lab"``
survives), ``ip -n NS`` for namespaced ops. It creates its namespaces with ``ip netns add``.

How to run it (the header says the same): as root on the host that has the design's NICs,
``sh host1.sh``. To rehearse it in a throwaway network namespace ``NS`` that stands for the host,
export with ``netns_prefix="NS-"`` and run ``nsenter --net=/run/netns/NS sh host1.sh`` - *not*
``ip netns exec NS sh host1.sh``: ``ip netns exec`` runs its command in a private mount namespace,
so the namespaces the script mounts with ``ip netns add`` would be invisible outside it and vanish
with it. A move back to "the host's own namespace" is written ``netns "$$"``, the namespace of the
shell running the script, so both ways put it in the right place.

Hairpin styles: ``bridge`` (``bridge link set dev PORT hairpin on``, netlink), ``brctl`` and
``sysfs`` (``/sys/class/net/BRIDGE/brif/PORT/hairpin_mode``). sysfs shows the network namespace of
the process that *mounted* it, not the caller's, so a sysfs write for a bridge in a design
namespace goes through ``ip netns exec`` (which mounts a fresh sysfs for that namespace) and one
for a bridge in the host's own namespace through ``unshare -m`` + a fresh sysfs mount: right on
the host and under ``nsenter`` alike. brctl writes sysfs too; its host-namespace form is only
right when the script runs on the host itself (the header says so).

:func:`argv` is the argument vector of one op (what a parity test compares with the netlink
call); :func:`shell_line` the quoted line.
"""
from __future__ import annotations

import functools
import re
import shlex
from collections.abc import Callable, Iterable
from typing import Any

from planner.core.compiler import Plan, compile_plan
from planner.core.model import Design
from planner.core.ops import (
    AddAddress,
    AddNeighbor,
    AddRoute,
    CreateBridge,
    CreateMacvlan,
    CreateNamespace,
    CreateVeth,
    DelAddress,
    DeleteLink,
    DeleteNamespace,
    DelNeighbor,
    DelRoute,
    MoveToNamespace,
    Op,
    SetAlias,
    SetBridgePort,
    SetForwarding,
    SetHairpin,
    SetLinkDown,
    SetLinkUp,
    SetMac,
    SetMode,
    SetMtu,
    SetSourceMacs,
    UnsetBridgePort,
)

from ._common import GENERATOR, ExportResult, comment_text, comment_texts, external_notes, plan_notes

__all__ = ["argv", "shell_line", "sysfs_argv", "render", "export_iproute2", "HAIRPIN_STYLES", "SELF_NETNS"]

HAIRPIN_STYLES = ("bridge", "brctl", "sysfs")


class _SelfNetns(str):
    """Marker argument: the namespace of the shell running the script (rendered ``"$$"``)."""


#: ``netns`` target meaning "the host's own namespace": the PID of the running shell.
SELF_NETNS = _SelfNetns("$$")


def _q(arg: str) -> str:
    return '"$$"' if isinstance(arg, _SelfNetns) else _quote(str(arg))


@functools.lru_cache(maxsize=4096)
def _quote(text: str) -> str:
    """``shlex.quote``, remembered: a plan repeats the same few words thousands of times."""
    return shlex.quote(text)


def _netns(ns: str, prefix: str) -> str:
    return SELF_NETNS if not ns else prefix + ns


def _ip(op: Op, prefix: str, *args) -> list[str]:
    base = ["ip", "-n", prefix + op.ns] if op.ns else ["ip"]
    return base + ([a for a in args if a is not None] if None in args else list(args))


def _opt(flag: str, value) -> list[str]:
    return [flag, str(value)] if value is not None and value != "" else []


def argv(op: Op, *, hairpin_style: str = "bridge", netns_prefix: str = "") -> list[str]:
    """The command for one op as an argument vector (``sysfs`` hairpin: :func:`sysfs_argv`)."""
    form = _ARGV.get(type(op))
    if form is None:
        raise TypeError(f"no iproute2 form for {op.kind}")
    return form(op, netns_prefix, hairpin_style)


# One function per op type, found by the op's exact type (a big plan asks 70,000 times: one
# lookup instead of a chain of isinstance tests). Each takes (op, netns prefix, hairpin style).
def _add_address(op: AddAddress, p: str, _h: str) -> list[str]:
    return _ip(op, p, "address", "add", op.address, "dev", op.name)


def _del_address(op: DelAddress, p: str, _h: str) -> list[str]:
    return _ip(op, p, "address", "del", op.address, "dev", op.name)


def _add_neighbor(op: AddNeighbor, p: str, _h: str) -> list[str]:
    return _ip(op, p, "neigh", "add", op.address, "lladdr", op.mac, "dev", op.name, "nud", "permanent")


def _del_neighbor(op: DelNeighbor, p: str, _h: str) -> list[str]:
    return _ip(op, p, "neigh", "del", op.address, "dev", op.name)


def _add_route(op: AddRoute, p: str, _h: str) -> list[str]:
    return _ip(op, p, "route", "add", op.to, *_opt("via", op.via), "dev", op.name)


def _del_route(op: DelRoute, p: str, _h: str) -> list[str]:
    return _ip(op, p, "route", "del", op.to, *_opt("via", op.via), "dev", op.name)


def _link_up(op: SetLinkUp, p: str, _h: str) -> list[str]:
    return _ip(op, p, "link", "set", "dev", op.name, "up")


def _link_down(op: SetLinkDown, p: str, _h: str) -> list[str]:
    return _ip(op, p, "link", "set", "dev", op.name, "down")


def _create_namespace(op: CreateNamespace, p: str, _h: str) -> list[str]:
    return ["ip", "netns", "add", p + op.name]


def _delete_namespace(op: DeleteNamespace, p: str, _h: str) -> list[str]:
    return ["ip", "netns", "del", p + op.name]


def _create_bridge(op: CreateBridge, p: str, _h: str) -> list[str]:
    return _ip(op, p, "link", "add", "name", op.name, *_opt("address", op.mac), *_opt("mtu", op.mtu),
               "type", "bridge")


def _create_veth(op: CreateVeth, p: str, _h: str) -> list[str]:
    peer_where = [] if op.peer_ns == op.ns else ["netns", _netns(op.peer_ns, p)]
    return _ip(op, p, "link", "add", "name", op.name, *_opt("address", op.mac), *_opt("mtu", op.mtu),
               "type", "veth", "peer", "name", op.peer, *_opt("address", op.peer_mac),
               *_opt("mtu", op.peer_mtu), *peer_where)


def _create_macvlan(op: CreateMacvlan, p: str, _h: str) -> list[str]:
    into = ["netns", _netns(op.netns, p)] if op.netns and op.netns != op.ns else []
    return _ip(op, p, "link", "add", "link", op.link, "name", op.name, *_opt("address", op.mac),
               *_opt("mtu", op.mtu), *into, "type", op.link_kind, "mode", op.mode,
               *(["nopromisc"] if op.nopromisc else []), *_opt("bcqueuelen", op.bcqueuelen))


def _delete_link(op: DeleteLink, p: str, _h: str) -> list[str]:
    return _ip(op, p, "link", "del", "dev", op.name)


def _alias(op: SetAlias, p: str, _h: str) -> list[str]:
    return _ip(op, p, "link", "set", "dev", op.name, "alias", op.alias)


def _move(op: MoveToNamespace, p: str, _h: str) -> list[str]:
    return _ip(op, p, "link", "set", "dev", op.name, "netns", _netns(op.target_ns, p), "name", op.new_name)


def _mode(op: SetMode, p: str, _h: str) -> list[str]:
    return _ip(op, p, "link", "set", "dev", op.name, "type", op.link_kind, "mode", op.mode)


def _mtu(op: SetMtu, p: str, _h: str) -> list[str]:
    return _ip(op, p, "link", "set", "dev", op.name, "mtu", str(op.mtu))


def _mac(op: SetMac, p: str, _h: str) -> list[str]:
    return _ip(op, p, "link", "set", "dev", op.name, "address", op.mac)


def _source_macs(op: SetSourceMacs, p: str, _h: str) -> list[str]:
    return _ip(op, p, "link", "set", "dev", op.name, "type", op.link_kind, "macaddr", "set", *op.macs)


def _master(op: SetBridgePort, p: str, _h: str) -> list[str]:
    return _ip(op, p, "link", "set", "dev", op.name, "master", op.master)


def _nomaster(op: UnsetBridgePort, p: str, _h: str) -> list[str]:
    return _ip(op, p, "link", "set", "dev", op.name, "nomaster")


def _hairpin(op: SetHairpin, p: str, hairpin_style: str) -> list[str]:
    onoff = "on" if op.on else "off"
    if hairpin_style == "bridge":
        return (["bridge", "-n", p + op.ns] if op.ns else ["bridge"]) + ["link", "set", "dev", op.name,
                                                                          "hairpin", onoff]
    if hairpin_style == "brctl":
        cmd = ["brctl", "hairpin", op.bridge, op.name, onoff]
        return (["ip", "netns", "exec", p + op.ns] + cmd) if op.ns else cmd
    if hairpin_style == "ip":
        return _ip(op, p, "link", "set", "dev", op.name, "type", "bridge_slave", "hairpin", onoff)
    if hairpin_style == "sysfs":
        return sysfs_argv(op, netns_prefix=p)
    raise ValueError(f"unknown hairpin style {hairpin_style!r}")


def _forwarding(op: SetForwarding, p: str, _h: str) -> list[str]:
    v = "1" if op.on else "0"
    # -e: a namespace without IPv6 has no net.ipv6 keys, which is not an error here
    cmd = ["sysctl", "-q", "-e", "-w", f"net.ipv4.ip_forward={v}", f"net.ipv6.conf.all.forwarding={v}"]
    return (["ip", "netns", "exec", p + op.ns] + cmd) if op.ns else cmd


_ARGV: dict[type, Callable[[Any, str, str], list[str]]] = {
    AddAddress: _add_address, DelAddress: _del_address, AddNeighbor: _add_neighbor, DelNeighbor: _del_neighbor,
    AddRoute: _add_route, DelRoute: _del_route, SetLinkUp: _link_up, SetLinkDown: _link_down,
    CreateNamespace: _create_namespace, DeleteNamespace: _delete_namespace, CreateBridge: _create_bridge,
    CreateVeth: _create_veth, CreateMacvlan: _create_macvlan, DeleteLink: _delete_link, SetAlias: _alias,
    MoveToNamespace: _move, SetMode: _mode, SetMtu: _mtu, SetMac: _mac, SetSourceMacs: _source_macs,
    SetBridgePort: _master, UnsetBridgePort: _nomaster, SetHairpin: _hairpin, SetForwarding: _forwarding,
}


def shell_line(op: Op, *, hairpin_style: str = "bridge", netns_prefix: str = "") -> str:
    """One quoted shell command line for ``op``."""
    if hairpin_style not in HAIRPIN_STYLES + ("ip",):
        raise ValueError(f"hairpin_style must be one of {', '.join(HAIRPIN_STYLES)}, not {hairpin_style!r}")
    return _checked_shell_line(op, hairpin_style, netns_prefix)


def _checked_shell_line(op: Op, hairpin_style: str, netns_prefix: str) -> str:
    """:func:`shell_line` once ``hairpin_style`` is known to be valid (a script checks it once)."""
    if isinstance(op, SetHairpin) and hairpin_style == "sysfs":
        return _shell_words(sysfs_argv(op, netns_prefix=netns_prefix))
    return _shell_words(argv(op, hairpin_style=hairpin_style, netns_prefix=netns_prefix))


#: what :func:`shlex.quote` leaves bare, plus the space that joins the words
_SHELL_SAFE_LINE = re.compile(r"[^\w@%+=:,./ -]", re.ASCII)


def _plain_line(words: list[str], unsafe: re.Pattern) -> str | None:
    """The words joined by spaces when none needs quoting (none is empty, none holds a space or a
    character ``unsafe`` finds): one scan of the line instead of one quoting call per word."""
    try:
        line = " ".join(words)
    except TypeError:  # a word that is not a str: the careful path converts it
        return None
    if "" in words or line.count(" ") != len(words) - 1 or unsafe.search(line):
        return None
    return line


def _shell_lines(ops: list[Op], hairpin_style: str, netns_prefix: str) -> list[str]:
    """:func:`_checked_shell_line` of each op. Whether any word needs quoting is seen in one scan
    of all the lines joined by spaces: no character outside the safe ones, and one space between
    each two words (none more: no empty word, no word holding a space). Only when some word does
    is each line quoted word by word on its own (:func:`_shell_words`)."""
    words = [argv(op, hairpin_style=hairpin_style, netns_prefix=netns_prefix) for op in ops]
    try:
        lines = [" ".join(w) for w in words]
    except TypeError:  # a word that is not a str: the careful path converts it
        return [_shell_words(w) for w in words]
    text = " ".join(lines)
    if (text and text[0] != " " and text[-1] != " " and "  " not in text
            and text.count(" ") == sum(map(len, words)) - 1 and _SHELL_SAFE_LINE.search(text) is None):
        return lines
    return [_shell_words(w) for w in words]


def _shell_words(words: list[str]) -> str:
    """The words quoted for sh and joined: each word exactly as :func:`shlex.quote` quotes it."""
    line = _plain_line(words, _SHELL_SAFE_LINE)
    return line if line is not None else " ".join(_q(a) for a in words)


#: writes "$1" into "$2" through a sysfs mounted by this very process, in a mount namespace of its
#: own (slave, as ``ip netns exec`` makes it, so nothing propagates back to the caller's /sys)
_SYSFS_HERE = 'mount --make-rslave / && mount -t sysfs sysfs /sys && echo "$1" > "$2"'


def sysfs_argv(op: SetHairpin, *, netns_prefix: str = "") -> list[str]:
    """The ``sysfs`` hairpin command for ``op``. /sys shows the network namespace of the process
    that mounted it, not the caller's (under ``nsenter --net`` the caller's /sys is the
    machine's), so the write always goes through a fresh sysfs mount of the right namespace:
    ``ip netns exec`` does that for a design namespace, ``unshare -m`` + ``mount -t sysfs`` for
    the namespace the script runs in."""
    path = f"/sys/class/net/{op.bridge}/brif/{op.name}/hairpin_mode"
    value = "1" if op.on else "0"
    if op.ns:
        return ["ip", "netns", "exec", netns_prefix + op.ns, "sh", "-c", 'echo "$1" > "$2"', "sh", value, path]
    return ["unshare", "-m", "sh", "-c", _SYSFS_HERE, "sh", value, path]


# --------------------------------------------------------------------------- batch
def _batch_token(arg: str) -> str | None:
    """Quote for ``ip -batch`` (its tokenizer knows quotes but no escapes and cuts at ``#``)."""
    if isinstance(arg, _SelfNetns) or "#" in arg or "\n" in arg or "\r" in arg:
        return None
    if arg and not any(c in arg for c in " \t'\"\\"):
        return arg
    if '"' not in arg:
        return f'"{arg}"'
    if "'" not in arg:
        return f"'{arg}'"
    return None


#: a character that makes :func:`_batch_token` quote a word or refuse it ("$" for ``SELF_NETNS``)
_BATCH_UNSAFE_LINE = re.compile("[\t'\"\\\\#\n\r$]")


def _batch_line(op: Op, prefix: str) -> tuple[str, str] | None:
    """(namespace, batch line) when ``op`` can go in an ``ip -batch`` block, else None."""
    if isinstance(op, SetHairpin):
        args = argv(op, hairpin_style="ip", netns_prefix=prefix)
    else:
        args = argv(op, netns_prefix=prefix)
    if args[0] != "ip":
        return None
    ns = ""
    rest = args[1:]
    if rest[:1] == ["-n"]:
        ns, rest = rest[1], rest[2:]
    if rest[:2] == ["netns", "exec"]:
        return None
    line = _plain_line(rest, _BATCH_UNSAFE_LINE)
    if line is not None:
        return ns, line
    toks = [_batch_token(a) for a in rest]
    words = [t for t in toks if t is not None]
    if len(words) != len(toks):
        return None
    return ns, " ".join(words)


# --------------------------------------------------------------------------- render
def render(ops: Iterable[Op], *, design_name: str, host: str, hairpin_style: str = "bridge",
           netns_prefix: str = "", batch: bool = False, teardown: bool = False,
           warnings: Iterable[str] = (), notes: Iterable[str] = (), script_name: str | None = None) -> str:
    """The script for one host's ops (``script_name``: its file name, for the header's
    instructions; ``<host>.sh`` or ``<host>-teardown.sh`` by default)."""
    if hairpin_style not in HAIRPIN_STYLES:
        raise ValueError(f"hairpin_style must be one of {', '.join(HAIRPIN_STYLES)}, not {hairpin_style!r}")
    ops = list(ops)
    what = "teardown" if teardown else "setup"
    script = comment_text(shlex.quote(script_name or (f"{host}-teardown.sh" if teardown else f"{host}.sh")))
    head = [
        "#!/bin/sh",
        f"# {comment_text(GENERATOR)}: iproute2 {what} script",
        f"# design: {comment_text(design_name)}",
        f"# host: {comment_text(host)}",
        f"# Run it as root on the host itself:  sh {script}",
        "# To rehearse it in a throwaway network namespace NS that stands for the host (with the",
        ("# host's NICs in it), export it with the --netns-prefix NS- of its setup and run it with" if teardown
         else "# host's NICs in it), export it (and its teardown) with --netns-prefix NS- and run it with"),
        f"#   nsenter --net=/run/netns/NS sh {script}",
    ]
    if any(isinstance(op, CreateNamespace) for op in ops):
        head += [
            f"# Not with 'ip netns exec NS sh {script}': ip netns exec runs it in a private mount",
            "# namespace, so the namespaces it creates with 'ip netns add' are invisible outside it",
            "# (an empty file in /run/netns) and vanish when it ends.",
        ]
    if teardown:
        head.append("# It deletes by name what the setup script created: run it after that script only.")
    else:
        head += ["# Links it creates carry the ifalias mvplan:<design>:<interface id>. Undo it with",
                 "# the teardown script (mvplan export --teardown), run the same way."]
    if netns_prefix:
        head.append(f"# design namespace NAME is the network namespace {comment_text(netns_prefix)}NAME")
    hairpins = [op for op in ops if isinstance(op, SetHairpin)  # in an ip -batch block: the ip form
                and not (batch and _batch_line(op, netns_prefix) is not None)]
    if hairpins and hairpin_style == "sysfs":
        head += ["# Hairpin is written through sysfs, which shows the network namespace of the process",
                 "# that mounted it: each write mounts a fresh sysfs of the right namespace (ip netns exec,",
                 "# or unshare -m for the script's own), so it works on the host and under nsenter alike."]
    elif any(not op.ns for op in hairpins) and hairpin_style == "brctl":
        head += ["# brctl sets hairpin through /sys/class/net/PORT/brport/hairpin_mode, and /sys shows the",
                 "# network namespace of the process that mounted it: for a bridge in the host's own",
                 "# namespace that is right only when the script runs on the host itself. Under nsenter",
                 "# it reaches the machine's namespace instead (it fails, or sets a port of the same name",
                 "# there): rehearse with --hairpin-style bridge or sysfs."]
    for w in warnings:
        head.append(f"# WARNING: {comment_text(w)}")
    for n in notes:
        head.append(f"# note: {comment_text(n)}")
    head.append("set -eu")
    body: list[str] = []
    if not ops:
        body += ["", "# nothing to do: the host already matches the design", ":"]
    batch_lines = [_batch_line(op, netns_prefix) for op in ops] if batch else [None] * len(ops)
    comments = ["# " + c for c in comment_texts([op.describe() for op in ops])]
    alone = [k for k, bl in enumerate(batch_lines) if bl is None]  # the ops not in an ip -batch block
    shell_lines = dict(zip(alone, _shell_lines([ops[k] for k in alone], hairpin_style, netns_prefix),
                           strict=True))
    k = 0
    while k < len(ops):
        bl = batch_lines[k]
        if bl is None:
            body += ["", comments[k], shell_lines[k]]
            k += 1
            continue
        ns = bl[0]
        block: list[str] = []
        while k < len(ops):
            nxt = batch_lines[k]
            if nxt is None or nxt[0] != ns:
                break
            block += [comments[k], nxt[1]]
            k += 1
        opener = f"ip -n {shlex.quote(ns)} -batch - <<'MVPLAN_BATCH'" if ns else "ip -batch - <<'MVPLAN_BATCH'"
        body += ["", opener, *block, "MVPLAN_BATCH"]
    return "\n".join(head + body) + "\n"


def export_iproute2(design: Design, *, plan: Plan | None = None, teardown: bool = False,
                    hairpin_style: str = "bridge", netns_prefix: str = "", batch: bool = False,
                    hosts: Iterable[str] | None = None, check: bool = True) -> ExportResult:
    """One script per host (``host1.sh``; ``host1-teardown.sh`` with ``teardown``)."""
    if plan is None:
        plan = compile_plan(design, check=check, hosts=hosts)
    if teardown:
        plan = plan.inverse()
    files: dict[str, str] = {}
    warnings: list[str] = []
    wanted = set(hosts) if hosts is not None else None
    for h in design.hosts:
        if wanted is not None and h.name not in wanted:
            continue
        hp = plan.for_host(h.name)
        host_warnings = plan_notes(plan, h.name)
        warnings += host_warnings
        name = f"{h.name}-teardown.sh" if teardown else f"{h.name}.sh"
        files[name] = render(hp.ops, design_name=design.name, host=h.name, hairpin_style=hairpin_style,
                             netns_prefix=netns_prefix, batch=batch, teardown=teardown, warnings=host_warnings,
                             notes=external_notes(design, h.name), script_name=name)
    return ExportResult(files=files, warnings=warnings)
