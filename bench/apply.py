#!/usr/bin/env python3
"""Applier benchmark: 1,000 macvlan children (create, address, up) into a network namespace.

Side by side, in fresh namespaces, alternating, several rounds (median reported):

* ``ip -batch``   - ``ip -n NS -batch FILE`` running the exported iproute2 commands
                    (``mvplan export --format iproute2`` with its ip -batch blocks);
* ``mvplan apply`` - :func:`planner.netlink.apply.apply` end to end: read the live state,
                    compile the difference, journal, execute, re-read and verify;
* ``no-op``       - the same apply again (nothing to do), with and without the state stamp;
* ``naive``       - (``--naive``) a per-call pyroute2 ``IPRoute`` loop, for reference.

Targets: apply <= 1.3x ip -batch (1,000 children), <= 1.2x at 5,000 children and more (the speed
issue's row: ``--children 5000``); no-op re-apply < 10% of the first apply.
The design is checked once before the timed runs (``rules.check_refusals``: the rules that can
find an error, the gate ``plan``/``export``/``apply`` use); the timed applies pass ``check=False``
so the figures are about applying, not about the rules engine. (The full ``rules.check`` predicts
reachability: each child here is alone in its /24, so 5,000 children are 5,000 classes.)

Run as root: ``python bench/apply.py [--children 1000] [--rounds 5] [--naive]``.
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from planner.core.model import design_from_dict
from planner.exporters import export
from planner.netlink.apply import apply


def design_doc(n: int) -> dict:
    kids = [{"name": f"mv{i}", "parent": "eth0", "mode": "bridge",
             "addresses": [f"10.{100 + i // 250}.{i % 250}.1/24"]} for i in range(n)]
    return {"version": 1, "name": "bench-apply", "parents": [{"name": "eth0"}], "children": kids}


def batch_text(design) -> str:
    """The ip -batch lines of the exported script (the host namespace block)."""
    script = export(design, "iproute2", batch=True, check=False).files["host.sh"]
    lines, inside = [], False
    for line in script.splitlines():
        if line.startswith("ip -batch - <<"):
            inside = True
            continue
        if line == "MVPLAN_BATCH":
            inside = False
            continue
        if inside and not line.startswith("#"):
            lines.append(line)
    return "\n".join(lines) + "\n"


class Netns:
    """A throwaway netns with a parent NIC stand-in (veth eth0), deleted on exit."""

    seq = 0

    def __init__(self):
        Netns.seq += 1
        self.name = f"mvbench{os.getpid()}x{Netns.seq}"

    def __enter__(self) -> str:
        subprocess.run(["ip", "netns", "add", self.name], check=True)
        subprocess.run(["ip", "-n", self.name, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0x"],
                       check=True)
        subprocess.run(["ip", "-n", self.name, "link", "set", "eth0x", "up"], check=True)
        return self.name

    def __exit__(self, *exc) -> None:
        # deleting the lower device takes its children along now, in this process: left to the
        # namespace's deletion, the kernel frees them in a worker that would still be busy (on
        # one of two cores) while the next round is timed
        subprocess.run(["ip", "-n", self.name, "link", "del", "eth0"], check=False)
        subprocess.run(["ip", "netns", "del", self.name], check=False)


def _cpu(who: int) -> float:
    """User + system CPU seconds of this process (``RUSAGE_SELF``) or of its waited-for children;
    the kernel's work for a netlink request counts as system time of the process that sent it."""
    ru = resource.getrusage(who)
    return ru.ru_utime + ru.ru_stime


def time_ip_batch(text: str, cpu: list[float] | None = None) -> float:
    with Netns() as ns, tempfile.NamedTemporaryFile("w", suffix=".batch") as f:
        f.write(text)
        f.flush()
        c = _cpu(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        subprocess.run(["ip", "-n", ns, "-batch", f.name], check=True)
        wall = time.perf_counter() - t
        if cpu is not None:
            cpu.append(_cpu(resource.RUSAGE_CHILDREN) - c)
        return wall


def time_apply(design, rundir: str, cpu: list[float] | None = None) -> tuple[float, float, float, dict]:
    with Netns() as ns:
        c = _cpu(resource.RUSAGE_SELF)
        t = time.perf_counter()
        r = apply(design, netns=ns, yes=True, check=False, run_dir_path=rundir, progress=False)
        first = time.perf_counter() - t
        if cpu is not None:
            cpu.append(_cpu(resource.RUSAGE_SELF) - c)
        assert r.ok, (r.error, r.mismatches[:5])
        t = time.perf_counter()
        r2 = apply(design, netns=ns, yes=True, check=False, run_dir_path=rundir, progress=False)
        noop = time.perf_counter() - t
        assert r2.ok and not r2.plan.ops, r2.error
        t = time.perf_counter()
        r3 = apply(design, netns=ns, yes=True, check=False, run_dir_path=rundir, progress=False, use_stamp=False)
        noop_full = time.perf_counter() - t
        assert r3.ok and not r3.plan.ops, r3.error
        return first, noop, noop_full, r.timings


def time_naive(n: int, design) -> float:
    from pyroute2 import IPRoute

    with Netns() as ns:
        t = time.perf_counter()
        with IPRoute(netns=ns) as ipr:
            eth0 = ipr.link_lookup(ifname="eth0")[0]
            for i in design.interfaces:
                if not i.is_child:
                    continue
                ipr.link("add", ifname=i.name, link=eth0, kind="macvlan", macvlan_mode="bridge", address=i.mac,
                         ifalias=f"mvplan:{design.name}:{i.id}")
                idx = ipr.link_lookup(ifname=i.name)[0]
                a = i.addresses[0]
                ipr.addr("add", index=idx, address=str(a.ip), prefixlen=a.network.prefixlen)
                ipr.link("set", index=idx, state="up")
            ipr.link("set", index=eth0, state="up")
        return time.perf_counter() - t


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--children", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--naive", action="store_true", help="also time a naive per-call pyroute2 loop")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("bench/apply.py: needs root (network namespaces)", file=sys.stderr)
        return 2
    design = design_from_dict(design_doc(args.children))
    from planner.core.rules import check_refusals

    t = time.perf_counter()
    errors = [f for f in check_refusals(design) if f.severity == "error"]
    print(f"design: {args.children} macvlan children on eth0; rules.check_refusals once: "
          f"{time.perf_counter() - t:.2f}s, {len(errors)} error(s)")
    if errors:
        return 1
    text = batch_text(design)
    print(f"ip -batch: {text.count(chr(10))} commands")
    ipb, first, noop, noop_full, parts = [], [], [], [], []
    ipb_cpu: list[float] = []
    apply_cpu: list[float] = []
    with tempfile.TemporaryDirectory(prefix="mvbench-run") as rundir:
        time_ip_batch(text)  # warm-up (modules, caches)
        for _ in range(args.rounds):
            ipb.append(time_ip_batch(text, ipb_cpu))
            f, n, nf, tm = time_apply(design, rundir, apply_cpu)
            first.append(f)
            noop.append(n)
            noop_full.append(nf)
            parts.append(tm)
    med = statistics.median
    ip_t, ap_t, no_t, nf_t = med(ipb), med(first), med(noop), med(noop_full)
    ex_t = med(p["execute"] for p in parts)
    print(f"\n{'':28}{'median':>9}{'min':>9}{'max':>9}")
    rows = (("ip -batch", ipb), ("mvplan apply (end to end)", first),
            ("  of which execute", [p["execute"] for p in parts]),
            ("no-op re-apply", noop), ("no-op re-apply, no stamp", noop_full))
    for label, xs in rows:
        print(f"{label:28}{med(xs):9.3f}{min(xs):9.3f}{max(xs):9.3f}  s")
    print("\nbreakdown of a first apply (median): " + ", ".join(
        f"{k} {med(p.get(k, 0.0) for p in parts) * 1000:.0f} ms" for k in ("read", "compile", "execute", "verify")))
    ratio = ap_t / ip_t
    target = 1.2 if args.children >= 5000 else 1.3
    print(f"\napply / ip -batch            = {ratio:.2f}x  (target <= {target:.2f}x)  "
          f"{'OK' if ratio <= target else 'MISSED'}")
    print(f"execute only / ip -batch     = {ex_t / ip_t:.2f}x")
    ip_c, ap_c = med(ipb_cpu), med(apply_cpu)
    print(f"CPU (user+sys), median       : ip -batch {ip_c:.3f} s, mvplan apply {ap_c:.3f} s = {ap_c / ip_c:.2f}x "
          "(less shaken by other work on the machine than wall time)")
    noop_verdict = "OK" if no_t / ap_t < 0.10 else "MISSED"
    print(f"no-op re-apply / first apply = {no_t / ap_t:.1%}  (target < 10%)  {noop_verdict}")
    print(f"no-op without stamp / first  = {nf_t / ap_t:.1%}")
    if args.naive:
        nv = time_naive(args.children, design)
        print(f"naive pyroute2 loop          = {nv:.3f} s = {nv / ip_t:.2f}x ip -batch")
    return 0 if ratio <= target and no_t / ap_t < 0.10 else 1


if __name__ == "__main__":
    sys.exit(main())
