"""Shared pieces of the exporters: the result type, comment hygiene, notes on external gear."""
from __future__ import annotations

import io
import re
import tarfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from planner import __version__
from planner.core.compiler import Plan, compile_plan
from planner.core.errors import CompileError
from planner.core.model import Design, Host

__all__ = ["ExportResult", "comment_text", "comment_texts", "external_notes", "slug", "plan_notes", "final_host",
           "iface_of", "GENERATOR"]

GENERATOR = f"mvplan {__version__}"

#: Every character that ends a line for YAML (NEL, U+2028/9), a shell or a unit file (C0), the rest
#: of C0/C1, and the bidirectional overrides/isolates and BOM that can hide text from a reviewer.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]")


@dataclass(frozen=True)
class ExportResult:
    """Files (name -> text) and the warnings about what the format could not express.

    Every warning is also written as a comment in the file it concerns, so neither a reader of
    the files nor a caller of the API can miss it.
    """

    files: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def write_dir(self, directory: str | Path) -> list[Path]:
        """Write every file under ``directory`` (created if needed); return the paths written."""
        root = Path(directory)
        out = []
        for name, text in self.files.items():
            path = root / name
            if root.resolve() not in path.resolve().parents:
                raise ValueError(f"refusing to write {name!r} outside {root}")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, "utf-8")
            if name.endswith(".sh"):
                path.chmod(0o755)
            out.append(path)
        return out

    def write_tar(self, target: str | Path | io.BufferedIOBase | None = None) -> bytes:
        """A deterministic tar (fixed mtimes, owners and modes) of the files; also written to
        ``target`` (a path or a binary file object) when given."""
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
            for name in sorted(self.files):
                data = self.files[name].encode("utf-8")
                info = tarfile.TarInfo(name)
                info.size = len(data)
                info.mtime = 0
                info.mode = 0o755 if name.endswith(".sh") else 0o644
                info.uid = info.gid = 0
                info.uname = info.gname = "root"
                tar.addfile(info, io.BytesIO(data))
        data = buf.getvalue()
        if isinstance(target, (str, Path)):
            Path(target).write_bytes(data)
        elif target is not None:
            target.write(data)
        return data


def comment_text(text: str) -> str:
    """Text safe to put after a ``#``: line breaks of every kind (a newline, or U+2028 in YAML, would
    end the comment and turn the rest of a design name into a command or a YAML document), other
    control characters and bidi overrides become ``?``."""
    return _CONTROL.sub("?", text)


def comment_texts(texts: list[str]) -> list[str]:
    """:func:`comment_text` of each text; one scan of them all when none needs a change (the usual
    case: a plan's thousands of descriptions)."""
    if _CONTROL.search("".join(texts)) is None:
        return texts
    return [comment_text(t) for t in texts]


def slug(text: str, fallback: str = "mvplan") -> str:
    """A DNS-1123 label-ish slug for file and Kubernetes object names."""
    s = re.sub(r"[^a-z0-9.-]+", "-", text.lower()).strip("-.")
    return s[:63].strip("-.") or fallback


def external_notes(design: Design, host: str | None = None) -> list[str]:
    """What the design expects of gear outside the hosts (no exporter configures it)."""
    notes = []
    cabled: dict[str, list[str]] = {}  # link -> ids of the interfaces cabled to it, in design order
    if any(p.hairpin for sw in design.switches for p in sw.ports):
        for i in design.interfaces:
            if i.link and (host is None or i.host in (host, None)):
                cabled.setdefault(str(i.link), []).append(i.id)
    for sw in design.switches:
        for p in sw.ports:
            if not p.hairpin:
                continue
            users = cabled.get(f"switch:{sw.name}/{p.name}", [])
            if host is not None and not any(u.startswith(f"{host}/") for u in users):
                continue
            notes.append(f"switch {sw.name} port {p.name} must reflect frames back out the port they came in on "
                         "(hairpin / 802.1Qbg reflective relay); configure that on the switch")
    return notes


def final_host(design: Design, plan, host: str):
    """The host as the plan leaves it (:func:`planner.core.compiler.simulate` of the plan's ops on the
    state the design assumes): what declarative formats describe. Same op list, one state.

    The plan never touches the state of a NIC that should stay down (it only brings links up),
    so a NIC whose state the ops leave unknown takes the design's state."""
    from dataclasses import replace

    from planner.core.compiler import assumed_state, expected_state, simulate

    h = simulate(assumed_state(design, [host]), plan.for_host(host).ops, gateways=False).host(host)
    exp = expected_state(design, [host]).host(host)
    if h is None or exp is None:
        raise CompileError(f"host {host!r} is not in the design")
    nss = []
    for ns in h.namespaces:
        links = []
        for lk in ns.links:
            want = exp.link(ns.name, lk.name)
            if lk.state is None and want is not None:
                lk = replace(lk, state=want.state)
            links.append(lk)
        nss.append(replace(ns, links=tuple(links)))
    return replace(h, namespaces=tuple(nss))


def iface_of(design: Design, host: str, ns: str, link) -> str:
    """The design id a final-state link stands for (from its ownership alias, else by place)."""
    from planner.core.ops import alias_owner

    owner = alias_owner(link.alias, design.name)
    if owner:
        return owner
    return f"{host}/ns:{ns}/{link.name}" if ns else f"{host}/{link.name}"


def plan_notes(plan, host: str) -> list[str]:
    """The plan's notes about one host (what it deliberately did not plan): every exporter
    repeats them as warnings, since the output lacks those things too."""
    out = []
    for n in plan.notes:
        head = n.split(":", 1)[0]
        if head == host or head.startswith(f"{host}/"):
            out.append(n)
    return out


def plan_and_hosts(design: Design, plan: Plan | None, hosts: Iterable[str] | None,
                   check: bool) -> tuple[Plan, list[Host]]:
    """The plan an export renders (compiled when the caller has none) and the design's hosts it
    covers (``hosts`` None: all), in design order."""
    if plan is None:
        plan = compile_plan(design, check=check, hosts=hosts)
    wanted = set(hosts) if hosts is not None else None
    return plan, [h for h in design.hosts if wanted is None or h.name in wanted]
