"""Build any design in throwaway network namespaces and measure who can ping whom.

An *edge* module: it creates and deletes network namespaces and needs root. It is the kernel test
helper of the product and the engine behind ``mvplan rehearse`` and ``bench/verify_kernel.py``.
How a design is built is :mod:`planner.lab.build`'s job: the outside (switches, stations, NICs)
by hand, every host by the compiler's plan through the applier - so a lab run proves the plan
as well as the prediction.

Each ping starts from cold caches: before a pair, every dynamic neighbour entry (permanent
ones survive ``ip neigh flush``) and every learned bridge fdb entry of the namespaces the
pair can touch is flushed, so a result never depends on who spoke first.
"""
from __future__ import annotations

import shutil
import subprocess
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

from planner.core.ids import is_switch_port, parse_switch_port, switch_id
from planner.core.model import Design, Iface

from .build import VOID, Layout, build, layout, static_fdb_batches
from .prereqs import prerequisites
from .run import LabError, batch_error_text, default_prefix, netns_exists, run

__all__ = ["Lab", "LabError", "measure", "endpoint_pairs", "prerequisites", "default_prefix"]


class Lab:
    """A design built in throwaway network namespaces. Use as a context manager.

    >>> with Lab(design) as lab:                      # doctest: +SKIP
    ...     lab.ping("host1/ns:web/web0", "station:gw")
    """

    def __init__(self, design: Design, prefix: str | None = None, *, ping_timeout: float = 0.5):
        self.design = design
        self.prefix = prefix or default_prefix()
        self.ping_timeout = ping_timeout
        self.warnings: list[str] = []
        self.build_seconds: float | None = None
        self.layout: Layout = layout(design, self.prefix)
        self._created: list[str] = []
        self._components = self._compute_components()

    # -- naming -------------------------------------------------------------------
    def _compute_components(self) -> dict[str, frozenset[str]]:
        """netns -> the set of netns a frame can reach from it (cables, veths, macvlan lowers)."""
        parent: dict[str, str] = {n: n for n in self.layout.namespaces}

        def find(x: str) -> str:
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        def union(a: str, b: str) -> None:
            ra, rb = find(a), find(b)
            if ra != rb:
                parent[ra] = rb

        d, ns = self.design, self.layout.netns
        for i in d.interfaces:
            here = ns[i.ns]
            if is_switch_port(i.link):
                union(here, ns[switch_id(parse_switch_port(str(i.link)).switch)])
            elif i.kind == "parent" and not i.link:
                union(here, ns[VOID])
            elif i.kind in ("bridge-port", "veth-peer") and i.link:
                union(here, ns[d.iface(i.link).ns])
            if i.is_child and i.lower:
                union(here, ns[d.iface(i.lower).ns])
        groups: dict[str, set[str]] = {}
        for n in parent:
            groups.setdefault(find(n), set()).add(n)
        return {n: frozenset(groups[find(n)]) for n in parent}

    def netns_of(self, ns_id: str) -> str:
        """Real netns name for a design namespace id (``host1``, ``host1/ns:web``, ``station:gw``),
        for ``switch:NAME`` (the switch's bridge) or ``void:`` (far ends of parents without uplink)."""
        try:
            return self.layout.netns[ns_id]
        except KeyError:
            raise KeyError(f"no namespace {ns_id!r} in this lab; known: {', '.join(self.layout.netns)}") from None

    def device(self, iface_id: str) -> tuple[str, str]:
        """(netns name, device name) of a design interface (stations are ``eth0``)."""
        return self.layout.dev[iface_id]

    @property
    def namespaces(self) -> list[str]:
        """Every netns name this lab creates (itself, or through a host's plan)."""
        return self.layout.namespaces

    # -- build --------------------------------------------------------------------
    def __enter__(self) -> Lab:
        t0 = time.monotonic()
        try:
            self._build()
        except BaseException as exc:
            self.cleanup()
            if isinstance(exc, (LabError, KeyboardInterrupt, SystemExit)):
                raise
            raise LabError(f"building the lab failed: {exc!r}") from exc
        self.build_seconds = time.monotonic() - t0
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.cleanup()

    def cleanup(self) -> None:
        """Delete every netns of this lab that exists (idempotent; never touches other namespaces)."""
        for attempt in range(3):
            present = [n for n in self._created if netns_exists(n)]
            if not present:
                break
            if attempt == 0:
                run(["ip", "-force", "-batch", "-"], input="".join(f"netns del {n}\n" for n in present), check=False)
            else:
                for n in present:
                    run(["ip", "netns", "del", n], check=False)
                time.sleep(0.1 * attempt)

    def _build(self) -> None:
        # a name that already exists means a prefix clash: fail before creating anything, and only
        # ever delete what this lab created (the plans create the design namespaces: those count too)
        clash = [n for n in self.namespaces if netns_exists(n)]
        if clash:
            raise LabError(f"netns {clash[0]} already exists: pick another lab prefix than {self.prefix!r}",
                           f"ip netns add {clash[0]}", "File exists")
        self._created = list(self.namespaces)
        outside = self.layout.outside
        cp = run(["ip", "-batch", "-"], input="".join(f"netns add {n}\n" for n in outside), check=False)
        if cp.returncode != 0:
            err = batch_error_text(cp.stderr or cp.stdout)
            raise LabError(f"cannot create network namespaces: {err}", "ip netns add", err)
        with ThreadPoolExecutor(max_workers=8) as pool:
            self.warnings = build(self.design, self.layout, pool)

    # -- inspection -----------------------------------------------------------------
    def run(self, ns_id: str, *cmd: str, check: bool = False, timeout: float = 30.0) -> subprocess.CompletedProcess:
        """Run a command inside the netns of a design namespace (or ``switch:S``, ``void``)."""
        return run(["ip", "netns", "exec", self.netns_of(ns_id), *cmd], check=check, timeout=timeout)

    def dump(self, ns_id: str) -> str:
        """Links, addresses, routes, neighbours (and bridge ports / fdb) of one namespace, as text."""
        netns = self.netns_of(ns_id)
        parts = []
        for title, argv in (("links", ["ip", "-n", netns, "-d", "link", "show"]),
                            ("addresses", ["ip", "-n", netns, "-br", "addr", "show"]),
                            ("routes", ["ip", "-n", netns, "route", "show", "table", "all"]),
                            ("neighbours", ["ip", "-n", netns, "neigh", "show"])):
            cp = run(argv, check=False)
            parts.append(f"## {title} ({netns})\n{cp.stdout}{cp.stderr}")
        if self.layout.bridges.get(netns) and shutil.which("bridge"):
            for title, argv in (("bridge ports", ["bridge", "-n", netns, "-d", "link", "show"]),
                                ("fdb", ["bridge", "-n", netns, "fdb", "show"])):
                cp = run(argv, check=False)
                parts.append(f"## {title} ({netns})\n{cp.stdout}{cp.stderr}")
        return "\n".join(parts)

    # -- measuring ------------------------------------------------------------------
    def flush_caches(self, netns_names: Iterable[str] | None = None) -> None:
        """Forget dynamic neighbour entries and learned fdb entries (permanent ones stay)."""
        names = list(netns_names) if netns_names is not None else self.namespaces
        procs = []
        try:
            for n in names:
                lines = ["neigh flush all"]
                lines += [f"link set dev {br} type bridge fdb_flush" for br in self.layout.bridges.get(n, ())]
                p = subprocess.Popen(["ip", "-n", n, "-batch", "-"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
                procs.append((n, lines, p))
            errors = []
            for n, lines, p in procs:
                out, err = p.communicate("\n".join(lines) + "\n", timeout=30)
                if p.returncode != 0 and "Flush not complete" in out:
                    # entries come back faster than ip can delete them: frames keep arriving - a storm
                    note = f"{n}: neighbour entries keep coming back while flushing: a broadcast storm?"
                    if note not in self.warnings:
                        self.warnings.append(note)
                elif p.returncode != 0:
                    errors.append(f"ip -n {n} -batch [{'; '.join(lines)}]: {(err or out).strip()}")
        except subprocess.TimeoutExpired:
            raise LabError("flushing caches timed out") from None
        finally:
            for _, _, p in procs:
                if p.poll() is None:
                    p.kill()
                    p.wait()
        if errors:
            raise LabError("flushing caches failed: " + "; ".join(errors))
        self._pin_static_entries(names)

    def _pin_static_entries(self, names: list[str]) -> None:
        """Put roamed static fdb entries back on their filtering ports (a flush keeps static entries
        where the last frame moved them)."""
        wanted = set(names)
        for b in static_fdb_batches(self.layout):
            if b.netns in wanted:
                b.run()

    def _pair_scope(self, a: Iface, b: Iface) -> frozenset[str]:
        return self._components[self.layout.netns[a.ns]] | self._components[self.layout.netns[b.ns]]

    def _endpoint(self, iid: str, family: int = 4) -> Iface:
        """The endpoint as ``family`` sees it (its ``address`` is its first address of that family)."""
        i = self.design.family_view(family).get_iface(iid)
        if i is None:
            raise KeyError(f"no interface {iid!r} in the design")
        if i.address is None:
            raise ValueError(f"{iid} has no IPv{family} address; it cannot ping or be pinged over IPv{family}")
        return i

    def _ping_once(self, a: Iface, b: Iface, timeout: float) -> bool:
        # endpoints come from _endpoint(), which refuses an interface without an address
        if a.address is None or b.address is None:
            raise ValueError(f"{a.id if a.address is None else b.id} has no address; "
                             "it cannot ping or be pinged")
        src, dst = str(a.address.ip), str(b.address.ip)
        # ping bound to a source address (-I ADDR) does not fail fast when there is no route: it
        # counts the refused send as transmitted and waits out the timeout. The same output route
        # lookup done first by `ip route get` settles those pairs at once.
        script = (f"ip route get {dst} from {src} >/dev/null 2>&1 || exit 3; "
                  f"exec ping -n -q -c1 -W {timeout:g} -I {src} {dst}")
        argv = ["ip", "netns", "exec", self.layout.netns[a.ns], "sh", "-c", script]
        cp = run(argv, check=False, timeout=timeout + 30)
        if cp.returncode == 0:
            return True
        if cp.returncode in (1, 3):
            return False
        msg = (cp.stderr or cp.stdout).strip()
        if "usage" in msg.lower() or "invalid argument" in msg.lower():
            raise LabError(f"ping refused its arguments: {' '.join(argv)}: {msg}", argv, msg)
        return False  # e.g. "connect: Network is unreachable": no route, so not reachable

    def _ping_cold(self, a: Iface, b: Iface, timeout: float, scope) -> bool:
        """One ping from cold caches; a failure is tried twice more (longer waits), cold again.

        A reply never comes from nowhere, so a retry cannot turn a blocked pair into a
        reachable one; it only keeps a loaded machine (a late ARP answer from the macvlan
        broadcast queue) from reporting a reachable pair as blocked.
        """
        for wait in (timeout, max(timeout, 1.0), max(timeout, 2.0)):
            self.flush_caches(scope)
            if self._ping_once(a, b, wait):
                return True
        return False

    def ping(self, a_iface_id: str, b_iface_id: str, timeout: float = 1.0, family: int = 4) -> bool:
        """Does A's first address get an echo reply from B's first address, starting from cold caches?

        ``ip netns exec NS(A) ping -c1 -W TIMEOUT -I A.ip B.ip`` after flushing the neighbour
        caches and bridge fdbs of every namespace the pair can reach (``family`` 6: the first IPv6
        addresses, ``ping`` chooses ICMPv6 itself).
        """
        a, b = self._endpoint(a_iface_id, family), self._endpoint(b_iface_id, family)
        return self._ping_cold(a, b, timeout, self._pair_scope(a, b))

    def ping_matrix(self, pairs: Iterable[tuple[str, str]] | None = None, workers: int = 8,
                    timeout: float | None = None, family: int = 4) -> dict[tuple[str, str], bool]:
        """Ping every pair (default: all ordered pairs of endpoints) from cold caches.

        Pairs whose namespaces (both endpoints' connected components: switches, bridges,
        host namespaces on any path) are disjoint run concurrently; the others one after the
        other, each after flushing the caches of exactly those namespaces.
        """
        pairs = endpoint_pairs(self.design.family_view(family)) if pairs is None else list(pairs)
        t = self.ping_timeout if timeout is None else timeout
        jobs = [(p, self._endpoint(p[0], family), self._endpoint(p[1], family)) for p in pairs]
        scopes = [self._pair_scope(a, b) for _, a, b in jobs]
        results: dict[tuple[str, str], bool] = {}
        if workers <= 1 or len(jobs) <= 1:
            for (p, a, b), scope in zip(jobs, scopes, strict=True):
                results[p] = self._ping_cold(a, b, t, scope)
            return {p: results[p] for p in pairs}

        cond = threading.Condition()
        busy: set[str] = set()
        todo = list(range(len(jobs)))
        errors: list[BaseException] = []

        def take() -> int | None:
            with cond:
                while True:
                    if errors or not todo:
                        return None
                    for k in todo:
                        if not (scopes[k] & busy):
                            todo.remove(k)
                            busy.update(scopes[k])
                            return k
                    cond.wait()

        def worker() -> None:
            while True:
                k = take()
                if k is None:
                    return
                p, a, b = jobs[k]
                try:
                    ok = self._ping_cold(a, b, t, scopes[k])
                    with cond:
                        results[p] = ok
                except BaseException as exc:  # noqa: BLE001 - re-raised below
                    with cond:
                        errors.append(exc)
                finally:
                    with cond:
                        busy.difference_update(scopes[k])
                        cond.notify_all()

        threads = [threading.Thread(target=worker, daemon=True) for _ in range(min(workers, len(jobs)))]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        if errors:
            raise errors[0]
        return {p: results[p] for p in pairs}


def endpoint_pairs(design: Design) -> list[tuple[str, str]]:
    """Every ordered pair of distinct endpoints (interfaces with an address), in design order."""
    eps = [i.id for i in design.endpoints()]
    return [(x, y) for x in eps for y in eps if x != y]


def measure(design: Design, pairs: Iterable[tuple[str, str]] | None = None, *, replicas: int | None = None,
            prefix: str | None = None, workers: int = 8, timeout: float | None = None,
            family: int = 4) -> dict[tuple[str, str], bool]:
    """Build ``design``, ping every pair (default: all ordered endpoint pairs of ``family``), clean up.

    A failed ping costs its whole timeout, so pairs are spread over ``replicas`` identical copies
    of the lab (default: one per 6 pairs, at most ``workers``), each pinging one pair at a time
    from cold caches. The copies share nothing (own namespaces, own switches), so the result is
    the same as pinging every pair one after the other in a single lab.
    """
    pairs = endpoint_pairs(design.family_view(family)) if pairs is None else list(pairs)
    got = _measure(design, [(family, a, b) for a, b in pairs], replicas=replicas, prefix=prefix, workers=workers,
                   timeout=timeout)
    return {(a, b): ok for (_f, a, b), ok in got.items()}


def measure_families(design: Design, *, replicas: int | None = None, prefix: str | None = None, workers: int = 8,
                     timeout: float | None = None) -> dict[int, dict[tuple[str, str], bool]]:
    """Like :func:`measure` for every ordered pair of each family the design has, in one build:
    ``{4: {...}, 6: {...}}`` (6 only for a design with IPv6 addresses)."""
    families = (4, 6) if design.has_ipv6() else (4,)
    jobs = [(f, a, b) for f in families for a, b in endpoint_pairs(design.family_view(f))]
    got = _measure(design, jobs, replicas=replicas, prefix=prefix, workers=workers, timeout=timeout)
    out: dict[int, dict[tuple[str, str], bool]] = {f: {} for f in families}
    for (f, a, b), ok in got.items():
        out[f][(a, b)] = ok
    return out


def _measure(design: Design, jobs: list[tuple[int, str, str]], *, replicas: int | None, prefix: str | None,
             workers: int, timeout: float | None) -> dict[tuple[int, str, str], bool]:
    if replicas is None:
        replicas = max(1, min(workers, -(-len(jobs) // 6)))
    replicas = max(1, min(replicas, len(jobs) or 1))
    base = prefix or default_prefix()
    labs = [Lab(design, prefix=base if replicas == 1 else f"{base}r{k}") for k in range(replicas)]
    for f, a, b in jobs:  # refuse unknown or address-less endpoints before building anything
        labs[0]._endpoint(a, f), labs[0]._endpoint(b, f)
    try:
        if replicas == 1:
            with labs[0]:
                out: dict[tuple[int, str, str], bool] = {}
                for f in dict.fromkeys(f for f, _a, _b in jobs):
                    pairs = [(a, b) for g, a, b in jobs if g == f]
                    got = labs[0].ping_matrix(pairs, workers=workers, timeout=timeout, family=f)
                    out.update({(f, a, b): ok for (a, b), ok in got.items()})
                return {j: out[j] for j in jobs}
        with ThreadPoolExecutor(max_workers=replicas) as pool:
            list(pool.map(lambda lab: lab.__enter__(), labs))
            todo = list(reversed(jobs))
            lock = threading.Lock()
            results: dict[tuple[int, str, str], bool] = {}

            def drain(lab: Lab) -> None:
                while True:
                    with lock:
                        if not todo:
                            return
                        job = todo.pop()
                    f, a, b = job
                    ok = lab.ping(a, b, timeout=lab.ping_timeout if timeout is None else timeout, family=f)
                    with lock:
                        results[job] = ok

            list(pool.map(drain, labs))
        return {j: results[j] for j in jobs}
    finally:
        for lab in labs:
            lab.cleanup()
