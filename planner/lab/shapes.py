"""Scale and benchmark design shapes (``bench/``, the speed tests): big designs of one pattern each,
deterministic per seed. The kernel-agreement generators (random and tricky designs) are in
:mod:`planner.lab.generate`."""
from __future__ import annotations

import ipaddress
import random
from typing import Any

from .generate import _Macs

__all__ = ["scale_design", "multi_host_design", "containers_design", "host_namespace_design", "worst_design",
           "bench_design"]


def scale_design(children: int = 10000, parents: int = 100, modes: tuple[str, ...] = ("bridge", "vepa", "private"),
                 seed: int = 0) -> dict:
    """One host, ``parents`` NICs on switch ``sw1`` (hairpin on half the ports), ``children``
    macvlans spread evenly with modes cycling, each in its own namespace with its own address,
    plus two stations. For benchmarks."""
    if parents < 1:
        raise ValueError("scale_design needs at least one parent")
    if "passthru" in modes and children > parents:
        raise ValueError("passthru children need a parent each; drop passthru or add parents")
    rng = random.Random(seed)
    macs = _Macs(seed)
    hairpin = set(rng.sample(range(parents), parents // 2))
    ports = [{"name": f"p{k}", "hairpin": k in hairpin} for k in range(parents)]
    ports += [{"name": "s0", "hairpin": False}, {"name": "s1", "hairpin": False}]
    parent_docs = [{"name": f"eth{k}", "mac": macs.next(), "uplink": {"switch": "sw1", "port": f"p{k}"}}
                   for k in range(parents)]

    def addr(n: int) -> str:
        # 10.0.0.0/16, then 10.1.0.0/16, ...: 65000 endpoints per subnet
        net, host = divmod(n, 65000)
        base = ipaddress.ip_address(f"10.{net}.0.0")
        return f"{base + host + 1}/16"

    child_docs = []
    for k in range(children):
        p = parent_docs[k % parents]
        mode = modes[k % len(modes)]
        child_docs.append({"name": f"c{k}", "parent": p["name"], "mode": mode,
                           "mac": p["mac"] if mode == "passthru" else macs.next(),
                           "namespace": f"n{k}", "addresses": [addr(k + 10)]})
    stations = [{"name": f"gw{k}", "uplink": {"switch": "sw1", "port": f"s{k}"}, "mac": macs.next(),
                 "addresses": [addr(k)]} for k in range(2)]
    return {
        "version": 1,
        "name": f"scale-{children}x{parents}",
        "description": f"{children} children on {parents} parents, modes {', '.join(modes)} (seed {seed})",
        "hosts": [{"name": "host1", "parents": parent_docs, "children": child_docs}],
        "switches": [{"name": "sw1", "ports": ports}],
        "stations": stations,
    }


def _addr16(n: int) -> str:
    """The n-th address of 10.0.0.0/16, then 10.1.0.0/16, ... (65,000 per subnet)."""
    net, host = divmod(n, 65000)
    return f"{ipaddress.ip_address(f'10.{net}.0.0') + host + 1}/16"


def multi_host_design(hosts: int = 100, per_host: int = 10, *, seed: int = 0) -> dict:
    """``hosts`` hosts, each with one NIC on switch ``sw1`` (hairpin on every other port) and an address,
    and ``per_host`` containers (modes cycling) in namespaces of their own; a gateway station."""
    macs = _Macs(seed)
    docs, ports, n = [], [], 10
    modes = ("bridge", "vepa", "private")
    for h in range(hosts):
        ports.append({"name": f"p{h}", "hairpin": h % 2 == 1})
        kids = []
        for k in range(per_host):
            kids.append({"name": f"c{k}", "parent": "eth0", "mode": modes[k % 3], "mac": macs.next(),
                         "namespace": f"n{k}", "addresses": [_addr16(n)]})
            n += 1
        docs.append({"name": f"h{h}", "parents": [{"name": "eth0", "mac": macs.next(), "addresses": [_addr16(n)],
                                                  "uplink": {"switch": "sw1", "port": f"p{h}"}}],
                     "children": kids})
        n += 1
    ports.append({"name": "gw"})
    return {"version": 1, "name": f"multi-{hosts}x{per_host}", "hosts": docs,
            "switches": [{"name": "sw1", "ports": ports}],
            "stations": [{"name": "gw", "mac": macs.next(), "uplink": {"switch": "sw1", "port": "gw"},
                          "addresses": [_addr16(0)]}]}


def containers_design(containers: int = 2000, *, parents: int = 20, route: bool = False, neighbour: bool = False,
                      seed: int = 0) -> dict:
    """``containers`` bridge/vepa containers on ``parents`` NICs of one host, each in its own namespace;
    with ``route`` each has ``default via`` the gateway, with ``neighbour`` a static entry for it."""
    macs = _Macs(seed)
    ports = [{"name": f"p{k}", "hairpin": k % 2 == 0} for k in range(parents)] + [{"name": "gw"}]
    gw_ip = _addr16(0).split("/")[0]
    kids = []
    for k in range(containers):
        c: dict[str, Any] = {"name": f"c{k}", "parent": f"eth{k % parents}", "mode": ("bridge", "vepa")[k % 2],
                             "mac": macs.next(), "namespace": f"n{k}", "addresses": [_addr16(k + 10)]}
        if route:
            c["routes"] = [{"to": "default", "via": gw_ip}]
        if neighbour:
            c["neighbors"] = [{"peer": "station:gw"}]
        kids.append(c)
    parent_docs = [{"name": f"eth{k}", "mac": macs.next(), "uplink": {"switch": "sw1", "port": f"p{k}"}}
                   for k in range(parents)]
    tag = "routed" if route else "neighbours" if neighbour else "plain"
    return {"version": 1, "name": f"containers-{tag}-{containers}", "hosts": [
        {"name": "host1", "parents": parent_docs, "children": kids}], "switches": [{"name": "sw1", "ports": ports}],
        "stations": [{"name": "gw", "mac": macs.next(), "uplink": {"switch": "sw1", "port": "gw"},
                      "addresses": [_addr16(0)]}]}


def host_namespace_design(children: int = 5000, parents: int = 50, *, seed: int = 0) -> dict:
    """``children`` bridge-mode children in the host namespace itself (shim style, one address each) on
    ``parents`` NICs, and a gateway: thousands of interfaces answering ARP for each other."""
    macs = _Macs(seed)
    kids = [{"name": f"s{k}", "parent": f"eth{k % parents}", "mode": "bridge", "mac": macs.next(),
             "addresses": [_addr16(k + 10)]} for k in range(children)]
    parent_docs = [{"name": f"eth{k}", "mac": macs.next(), "uplink": {"switch": "sw1", "port": f"p{k}"}}
                   for k in range(parents)]
    ports = [{"name": f"p{k}"} for k in range(parents)] + [{"name": "gw"}]
    return {"version": 1, "name": f"host-ns-{children}", "hosts": [
        {"name": "host1", "parents": parent_docs, "children": kids}], "switches": [{"name": "sw1", "ports": ports}],
        "stations": [{"name": "gw", "mac": macs.next(), "uplink": {"switch": "sw1", "port": "gw"},
                      "addresses": [_addr16(0)]}]}


def worst_design(endpoints: int = 2000, *, seed: int = 0) -> dict:
    """Endpoints that are all different: every mode but passthru, hairpin at random, source lists
    naming random peers, static neighbours and host routes to random peers, two switches, stations."""
    rng = random.Random(f"worst-{seed}")
    macs = _Macs(seed)
    parents = max(2, endpoints // 20)
    ports: dict[str, list[dict[str, Any]]] = {"sw1": [], "sw2": []}
    parent_docs = []
    for k in range(parents):
        sw = "sw1" if k % 3 else "sw2"
        ports[sw].append({"name": f"p{k}", "hairpin": rng.random() < 0.5})
        parent_docs.append({"name": f"eth{k}", "mac": macs.next(), "uplink": {"switch": sw, "port": f"p{k}"}})
    kids: list[dict[str, Any]] = []
    for k in range(endpoints):
        kids.append({"name": f"c{k}", "parent": f"eth{rng.randrange(parents)}",
                     "mode": rng.choice(("bridge", "vepa", "private", "source")), "mac": macs.next(),
                     "namespace": f"n{k}", "addresses": [_addr16(k + 10)]})
    for c in kids:
        r = rng.random()
        if c["mode"] == "source":
            c["source_macs"] = sorted({rng.choice(kids)["mac"] for _ in range(3)} - {c["mac"]})
        if r < 0.2:
            peer = rng.choice(kids)
            c["neighbors"] = [{"peer": f"host1/ns:{peer['namespace']}/{peer['name']}"}] if peer is not c else []
        elif r < 0.4:
            peer = rng.choice(kids)
            if peer is not c:
                c["routes"] = [{"to": peer["addresses"][0].split("/")[0] + "/32"}]
        if not c.get("neighbors"):
            c.pop("neighbors", None)
    stations = [{"name": f"st{k}", "mac": macs.next(), "uplink": {"switch": ("sw1", "sw2")[k % 2], "port": f"s{k}"},
                 "addresses": [_addr16(k)]} for k in range(4)]
    for k in range(4):
        ports[("sw1", "sw2")[k % 2]].append({"name": f"s{k}"})
    return {"version": 1, "name": f"worst-{endpoints}", "hosts": [
        {"name": "host1", "parents": parent_docs, "children": kids}],
        "switches": [{"name": s, "ports": p} for s, p in ports.items()], "stations": stations}


#: the designs of the benchmark table, by shape; ``small`` variants for the property tests
def bench_design(shape: str, *, small: bool = False, seed: int = 0) -> dict:
    if shape == "scale":
        return scale_design(60, 6, seed=seed) if small else scale_design(seed=seed)
    if shape == "multi-host":
        return multi_host_design(4, 3, seed=seed) if small else multi_host_design(seed=seed)
    if shape == "routed":
        return containers_design(24, parents=4, route=True, seed=seed) if small else \
            containers_design(route=True, seed=seed)
    if shape == "neighbours":
        return containers_design(24, parents=4, neighbour=True, seed=seed) if small else \
            containers_design(neighbour=True, seed=seed)
    if shape in ("host-ns", "shared-ns"):
        return host_namespace_design(30, 3, seed=seed) if small else host_namespace_design(seed=seed)
    if shape == "worst":
        return worst_design(40, seed=seed) if small else worst_design(seed=seed)
    raise ValueError(f"unknown bench shape {shape!r}; one of scale, multi-host, routed, neighbours, host-ns, worst")
