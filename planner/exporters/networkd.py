"""systemd-networkd ``.netdev``/``.network`` files for the host-namespace part of a design.

Built from the host as the compiled plan leaves it (the same op list as the other back ends):

* every link mvplan creates gets a ``.netdev``: ``Kind=macvlan`` + ``[MACVLAN] Mode=`` (always
  explicit), ``Kind=macvtap`` + ``[MACVTAP]``, ``SourceMACAddress=`` for source mode,
  ``BroadcastMulticastQueueLength=`` for bcqueuelen, ``Kind=veth`` + ``[Peer]``, ``Kind=bridge``;
* every link gets a ``.network``: ``MACVLAN=``/``MACVTAP=`` in the lower device's file (that is
  how networkd attaches stacked devices), ``Bridge=`` and ``[Bridge] HairPin=`` for ports,
  ``Address=`` in design order, ``[Neighbor]`` for static neighbours, ``[Route]``, and
  ``ActivationPolicy=down`` for links the design keeps down.

networkd cannot place links in network namespaces and has no nopromisc flag: warnings, in the
file and in the result. Files: ``10-mvplan-<name>.netdev``, ``20-mvplan-<name>.network`` (in a
``<host>/`` folder when the design has several hosts).
"""
from __future__ import annotations

from collections.abc import Iterable

from planner.core.compiler import Plan
from planner.core.model import Design
from planner.core.ops import CreateMacvlan

from ._common import (
    GENERATOR,
    ExportResult,
    comment_text,
    external_notes,
    final_host,
    iface_of,
    plan_and_hosts,
    plan_notes,
)

__all__ = ["export_networkd", "host_files"]


def _section(name: str, items: list[tuple[str, object]]) -> list[str]:
    return ["", f"[{name}]"] + [f"{k}={v}" for k, v in items if v is not None and v != ""]


def _yes(b: bool) -> str:
    return "yes" if b else "no"


def host_files(design: Design, plan: Plan, host: str) -> tuple[dict[str, str], list[str]]:
    """({filename: text}, warnings) for one host."""
    return _HostFiles(design, plan, host).build()


class _HostFiles:
    """One host's .netdev and .network files, link by link (veth pairs share one .netdev)."""

    def __init__(self, design: Design, plan: Plan, host: str):
        self.design, self.host = design, host
        self.final = final_host(design, plan, host)
        self.root = self.final.ns("")
        self.warnings: list[str] = plan_notes(plan, host)
        self.bcq = {op.subject: op.bcqueuelen for op in plan.for_host(host).ops
                    if isinstance(op, CreateMacvlan) and op.bcqueuelen is not None}
        self.files: dict[str, str] = {}
        self.peers_done: set[str] = set()
        self.peer_mtu: dict[str, int] = {}  # veth peers whose MTU differs from the end their .netdev creates
        self.carriers = {lk.link for ns in self.final.namespaces for lk in ns.links
                         if lk.kind in ("macvlan", "macvtap") and not (lk.link_ns or "")}

    def build(self) -> tuple[dict[str, str], list[str]]:
        skip = self.unexpressible()
        for lk in self.root.links:
            if lk.name in skip:
                continue
            iid = iface_of(self.design, self.host, "", lk)
            head = [f"# {GENERATOR}: design {self.design.name}, host {self.host}", f"# {iid}"]
            if lk.kind in ("macvlan", "macvtap", "bridge") or (lk.kind == "veth" and lk.name not in self.peers_done):
                self.netdev(lk, iid, list(head))
            self.network(lk, iid, head)
        return self.files, self.warnings

    def unexpressible(self) -> set[str]:
        """Warn about links in namespaces and veths reaching into one; return the names left out."""
        design, host = self.design, self.host
        for ns in self.final.namespaces:
            if ns.name and ns.forwarding:
                self.warnings.append(f"{host}/ns:{ns.name}: systemd-networkd cannot reach network namespaces; its "
                                     "forwarding is not set - use the iproute2 export for it")
            if ns.name:
                for lk in ns.links:
                    self.warnings.append(f"{iface_of(design, host, ns.name, lk)}: systemd-networkd cannot place "
                                         f"links in network namespaces; {lk.name} (namespace {ns.name}) is not "
                                         "configured - use the iproute2 export for it")
        skip: set[str] = set()
        for lk in self.root.links:
            if lk.kind == "veth" and (lk.link_ns or ""):
                skip.add(lk.name)
                self.warnings.append(f"{iface_of(design, host, '', lk)}: its veth peer {lk.link} lives in namespace "
                                     f"{lk.link_ns}, which systemd-networkd cannot express; {lk.name} is not "
                                     "configured")
        return skip

    def netdev(self, lk, iid: str, head: list[str]) -> None:
        """``10-mvplan-NAME.netdev`` for a link mvplan creates."""
        own: list[str] = []
        nd = _section("NetDev", [("Name", lk.name), ("Kind", lk.kind), ("MACAddress", lk.mac),
                                 ("MTUBytes", lk.mtu)])
        if lk.kind in ("macvlan", "macvtap"):
            opts: list[tuple[str, object]] = [("Mode", lk.mode)]
            if lk.source_macs:
                opts.append(("SourceMACAddress", " ".join(lk.source_macs)))
            if iid in self.bcq:
                opts.append(("BroadcastMulticastQueueLength", self.bcq[iid]))
            nd += _section(lk.kind.upper(), opts)
            if lk.nopromisc:
                w = (f"{iid}: systemd-networkd has no nopromisc flag; {lk.name} will put {lk.link} in "
                     "promiscuous mode")
                self.warnings.append(w)
                own.append(w)
        elif lk.kind == "veth":
            # systemd 252 has no [Peer] MTUBytes= ("Unknown key"): the peer is created with the
            # netdev's MTU, and its own .network sets another one ([Link] MTUBytes=, below)
            peer = self.root.link(lk.link) if lk.link else None
            nd += _section("Peer", [("Name", lk.link), ("MACAddress", peer.mac if peer else None)])
            self.peers_done |= {lk.name, lk.link}
            if peer is not None and peer.mtu and peer.mtu != lk.mtu:
                self.peer_mtu[peer.name] = peer.mtu
        self.files[f"10-mvplan-{lk.name}.netdev"] = "\n".join(
            [comment_text(x) for x in head + [f"# WARNING: {w}" for w in own]] + nd) + "\n"

    def network(self, lk, iid: str, head: list[str]) -> None:
        """``20-mvplan-NAME.network`` for every host-namespace link."""
        root = self.root
        net = _section("Match", [("Name", lk.name)])
        if lk.kind is None:
            head.append(f"# this file takes over the whole networkd configuration of {lk.name}")
            if lk.name in self.carriers and not (lk.mtu or root.addresses_of(lk.name) or root.routes_of(lk.name)
                                                 or lk.master or lk.state == "down"):
                w = (f"{iid}: 20-mvplan-{lk.name}.network only attaches children, yet networkd applies just the "
                     f"first .network file matching {lk.name}: it replaces the NIC's whole configuration (an "
                     "existing DHCP or address setup is dropped). Merge its MACVLAN=/MACVTAP= lines into the "
                     f"NIC's own .network file instead, or add what that file had (e.g. DHCP=yes)")
                self.warnings.append(w)
                head.append(f"# WARNING: {w}")
        link_items = self.link_section(lk)
        if link_items:
            net += _section("Link", link_items)
        items: list[tuple[str, object]] = []
        for child in root.links:
            if child.kind in ("macvlan", "macvtap") and child.link == lk.name and not (child.link_ns or ""):
                items.append((child.kind.upper(), child.name))
        # children moved into namespaces still hang off this device: networkd cannot create them
        if lk.master:
            items.append(("Bridge", lk.master))
        for a in root.addresses_of(lk.name):
            items.append(("Address", a))
        if root.forwarding and (lk.kind is not None or items):
            # systemd 252's spelling (256 also takes IPv4Forwarding=/IPv6Forwarding=): the namespace's sysctls
            items.append(("IPForward", "yes"))
        if lk.kind is not None:  # a link with IPv6 addresses keeps its automatic link-local one, as in the model
            v6 = any(":" in a for a in root.addresses_of(lk.name))
            items += [("LinkLocalAddressing", "ipv6" if v6 else "no"), ("IPv6AcceptRA", "no")]
        if lk.kind is not None or items:
            net += _section("Network", items)
        if lk.master:
            net += _section("Bridge", [("HairPin", _yes(bool(lk.hairpin)))])
        for n in root.neighbors_of(lk.name):
            net += _section("Neighbor", [("Address", n.address), ("LinkLayerAddress", n.mac)])
        for r in root.routes_of(lk.name):
            net += _section("Route", [("Destination", r.to), ("Gateway", r.via)])
        self.files[f"20-mvplan-{lk.name}.network"] = "\n".join(comment_text(x) for x in head) + "\n" + \
            "\n".join(net).lstrip("\n") + "\n"

    def link_section(self, lk) -> list[tuple[str, object]]:
        items: list[tuple[str, object]] = []
        if lk.kind is None and lk.mtu:  # a NIC whose MTU the design sets
            items.append(("MTUBytes", lk.mtu))
        if lk.name in self.peer_mtu:  # a veth peer whose MTU differs from its netdev's
            items.append(("MTUBytes", self.peer_mtu[lk.name]))
        if lk.state == "down":
            items.append(("ActivationPolicy", "down"))
        if lk.kind is not None:
            items.append(("RequiredForOnline", "no"))
        return items


def export_networkd(design: Design, *, plan: Plan | None = None, hosts: Iterable[str] | None = None,
                    check: bool = True) -> ExportResult:
    """All hosts' files; a ``README.mvplan`` per host lists the warnings and external notes."""
    plan, chosen = plan_and_hosts(design, plan, hosts, check)
    multi = len(design.hosts) > 1
    files: dict[str, str] = {}
    all_warnings: list[str] = []
    for h in chosen:
        hf, warnings = host_files(design, plan, h.name)
        all_warnings += warnings
        notes = external_notes(design, h.name)
        prefix = f"{h.name}/" if multi else ""
        for name, text in hf.items():
            files[prefix + name] = text
        if warnings or notes:
            lines = [f"# {GENERATOR}: systemd-networkd files for design {design.name}, host {h.name}"]
            lines += [f"# WARNING: {w}" for w in warnings] + [f"# note: {n}" for n in notes]
            files[prefix + "00-mvplan-README.txt"] = "\n".join(comment_text(x) for x in lines) + "\n"
    return ExportResult(files=files, warnings=all_warnings)
