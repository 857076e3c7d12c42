"""planner.lab against the real kernel: builds, measures, cold caches and cleanup.

Needs root, netns, iproute2 and ping (skips without them; fails with MVPLAN_REQUIRE_ALL=1).
"""
from __future__ import annotations

import copy
import dataclasses
import re
from pathlib import Path

import pytest

from planner.core.model import design_from_dict, load_design, parse_design_text
from planner.lab import Lab, LabError, default_prefix, measure, prerequisites
from planner.lab import build as buildmod
from planner.lab.generate import random_design
from planner.lab.run import netns_list, run

pytestmark = [pytest.mark.kernel, pytest.mark.usefixtures("lab_prereqs")]

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "vepa-hairpin.yaml"
WEB, DB, GW = "host1/ns:web/web0", "host1/ns:db/db0", "station:gw"


def vepa_doc(hairpin: bool = True) -> dict:
    doc = parse_design_text(EXAMPLE.read_text(), EXAMPLE.name)
    doc = copy.deepcopy(doc)
    doc["switches"][0]["ports"][0]["hairpin"] = hairpin
    return doc


def mine(prefix: str) -> list[str]:
    """Namespaces of a lab prefix (the prefix itself or its replicas ``PREFIXrN``), never a longer counter."""
    rx = re.compile(re.escape(prefix) + r"(?![0-9])")
    return [n for n in netns_list() if rx.match(n)]


def private_siblings(hairpin: bool = True, **child_extra) -> dict:
    """A parent with an address and two private children on a hairpin port, plus a station."""
    return {
        "hosts": [{"name": "host1",
                   "parents": [{"name": "eth0", "addresses": ["10.77.0.1/24"],
                                "uplink": {"switch": "sw1", "port": "p1"}}],
                   "children": [{"name": "c1", "parent": "eth0", "mode": "private", "namespace": "a",
                                 "addresses": ["10.77.0.11/24"], **child_extra},
                                {"name": "c2", "parent": "eth0", "mode": "private", "namespace": "b",
                                 "addresses": ["10.77.0.12/24"]}]}],
        "switches": [{"name": "sw1", "ports": [{"name": "p1", "hairpin": hairpin}, {"name": "p9"}]}],
        "stations": [{"name": "gw", "uplink": {"switch": "sw1", "port": "p9"}, "addresses": ["10.77.0.254/24"]}],
    }


# --------------------------------------------------------------------------- the example
def test_prerequisites_are_met():
    assert prerequisites() == []


def test_vepa_hairpin_example_reaches_everything():
    result = measure(load_design(EXAMPLE))
    assert result[(WEB, DB)] and result[(DB, WEB)], "VEPA siblings meet through the hairpin port"
    assert result[(GW, WEB)] and result[(GW, DB)] and result[(WEB, GW)] and result[(DB, GW)]
    assert len(result) == 6


def test_vepa_without_hairpin_separates_siblings():
    result = measure(design_from_dict(vepa_doc(hairpin=False)))
    assert not result[(WEB, DB)] and not result[(DB, WEB)]
    assert result[(GW, WEB)] and result[(GW, DB)], "the gateway still reaches both"


def test_lab_builds_what_the_design_says():
    design = load_design(EXAMPLE)
    with Lab(design) as lab:
        web = lab.dump("host1/ns:web")
        assert "macvlan mode vepa" in web and "10.10.0.11/24" in web
        assert re.search(r"\bweb0@", web)
        assert "hairpin on" in lab.run("switch:sw1", "ip", "-d", "link", "show", "dev", "p0", check=True).stdout
        assert lab.netns_of("host1").startswith(lab.prefix + "-")
        ns, dev = lab.device(GW)
        assert (ns, dev) == (lab.netns_of(GW), "eth0")
        assert lab.run(GW, "ip", "-o", "-4", "addr", "show", "dev", "eth0").stdout.count("10.10.0.1/24") == 1
        # no IPv6 anywhere (no DAD, no NDP noise)
        assert "inet6" not in lab.run("host1/ns:db", "ip", "addr").stdout
        assert lab.ping(WEB, GW)


@pytest.mark.parametrize("seed", range(8))
def test_random_designs_are_built_faithfully(seed):
    """Every interface exists in its namespace with the design's MAC, mode, state and addresses."""
    design = design_from_dict(random_design(seed))
    with Lab(design) as lab:
        for i in design.interfaces:
            ns, dev = lab.device(i.id)
            out = run(["ip", "-n", ns, "-d", "-o", "link", "show", "dev", dev]).stdout
            assert i.mac in out, (i.id, out)
            if i.is_child:
                assert f"{i.kind} mode {i.mode}" in out, (i.id, out)
                assert f"mtu {i.mtu} " in out, (i.id, out)
            if i.kind != "bridge-port":
                assert ("<" in out and ",UP" in out.split(">")[0]) == i.up, (i.id, out)
            addrs = run(["ip", "-n", ns, "-o", "-4", "addr", "show", "dev", dev]).stdout
            for a in i.addresses:
                assert str(a) in addrs, (i.id, addrs)
            for ip, mac in design.static_neighbors(i):
                neigh = run(["ip", "-n", ns, "neigh", "show", "dev", dev]).stdout
                assert re.search(rf"^{re.escape(str(ip))} lladdr {mac} PERMANENT", neigh, re.M), (i.id, neigh)


# --------------------------------------------------------------------------- cold caches
def test_ping_starts_from_cold_caches():
    """Seed facts, hairpin on: parent -> private child works (the reflected broadcast reaches the
    child); private child -> parent does not (its reflected ARP request goes back to itself only)
    - unless the parent pinged first and left its entry in the child's cache."""
    design = design_from_dict(private_siblings(hairpin=True))
    parent, child = "host1/eth0", "host1/ns:a/c1"
    with Lab(design) as lab:
        assert lab.ping(child, parent) is False
        assert lab.ping(parent, child) is True
        # the caches are warm now: a raw ping without flushing succeeds ...
        raw = lab.run("host1/ns:a", "ping", "-n", "-q", "-c1", "-W", "1", "-I", "10.77.0.11", "10.77.0.1")
        assert raw.returncode == 0, raw.stdout + raw.stderr
        # ... but Lab.ping forgets them first, so the order of pings never matters
        assert lab.ping(child, parent) is False
        assert lab.ping(parent, child) is True
        matrix = lab.ping_matrix()
    assert matrix[(parent, child)] and not matrix[(child, parent)]
    assert not matrix[(child, "host1/ns:b/c2")], "private siblings never meet, even with hairpin"
    assert matrix[(child, "station:gw")] and matrix[("station:gw", child)]


def test_private_siblings_without_hairpin():
    result = measure(design_from_dict(private_siblings(hairpin=False)))
    assert not result[("host1/eth0", "host1/ns:a/c1")]
    assert not result[("host1/ns:a/c1", "host1/eth0")]
    assert result[("host1/ns:a/c1", "station:gw")]


def test_flush_keeps_permanent_neighbours_and_drops_learned_entries():
    design = design_from_dict(private_siblings(hairpin=True, neighbors=[{"peer": "host1/eth0"}]))
    parent, child = "host1/eth0", "host1/ns:a/c1"
    with Lab(design) as lab:
        # with a static entry for the parent, the child needs no ARP: the echo request is
        # unicast, reflected by the switch and delivered to the parent
        assert lab.ping(child, parent) is True
        assert lab.ping(parent, child) is True
        fdb = lab.run("switch:sw1", "bridge", "fdb", "show", "br", "br0").stdout
        learned = [line for line in fdb.splitlines() if "master br0" in line and "permanent" not in line]
        assert learned, fdb
        lab.flush_caches()
        assert re.search(r"^10\.77\.0\.1 .*PERMANENT", lab.run("host1/ns:a", "ip", "neigh").stdout, re.M)
        assert lab.run("host1", "ip", "neigh").stdout.strip() == ""
        fdb = lab.run("switch:sw1", "bridge", "fdb", "show", "br", "br0").stdout
        assert not [line for line in fdb.splitlines() if "master br0" in line and "permanent" not in line], fdb


def test_replicas_and_workers_do_not_change_results():
    design = design_from_dict(random_design(21))
    single = measure(design, replicas=1, workers=1)
    assert measure(design, replicas=3) == single
    assert any(single.values()) and not all(single.values())


def test_disjoint_components_ping_concurrently_with_same_result():
    doc = vepa_doc(hairpin=True)
    other = copy.deepcopy(doc)
    other["hosts"][0]["name"] = "host2"
    other["switches"][0]["name"] = "sw2"
    other["hosts"][0]["parents"][0]["uplink"]["switch"] = "sw2"
    other["stations"][0].update(name="gw2", uplink={"switch": "sw2", "port": "p9"})
    for c in other["hosts"][0]["children"]:
        c["addresses"] = [a.replace("10.10.", "10.11.") for a in c["addresses"]]
    other["stations"][0]["addresses"] = ["10.11.0.1/24"]
    doc["hosts"] += other["hosts"]
    doc["switches"] += other["switches"]
    doc["stations"] += other["stations"]
    design = design_from_dict(doc)
    with Lab(design) as lab:
        assert len(set(lab._components.values())) == 2
        concurrent = lab.ping_matrix(workers=8)
        sequential = lab.ping_matrix(workers=1)
    assert concurrent == sequential
    assert concurrent[("host2/ns:web/web0", "host2/ns:db/db0")]
    assert not concurrent[("host1/ns:web/web0", "host2/ns:web/web0")]


def test_first_address_of_the_design_wins_the_route():
    """Two interfaces with the same connected prefix in one namespace: design order decides."""
    for order in (("s1", "s2"), ("s2", "s1")):
        kids = [{"name": n, "parent": "eth0", "mode": "bridge", "addresses": [f"10.78.0.{n[1]}/24"]} for n in order]
        design = design_from_dict({
            "hosts": [{"name": "h", "parents": [{"name": "eth0", "uplink": {"switch": "sw1", "port": "p1"}}],
                       "children": kids}],
            "switches": [{"name": "sw1", "ports": [{"name": "p1"}]}]})
        with Lab(design) as lab:
            out = lab.run("h", "ip", "-4", "route", "get", "10.78.0.50", check=True).stdout
        assert f"dev {order[0]} " in out, (order, out)


# --------------------------------------------------------------------------- cleanup
def test_cleanup_after_normal_exit():
    prefix = default_prefix()
    with Lab(load_design(EXAMPLE), prefix=prefix) as lab:
        assert set(mine(prefix)) == set(lab.namespaces)
        assert len(lab.namespaces) == 5  # host, two containers, station, switch
    assert mine(prefix) == []


def test_cleanup_after_exception_inside_with():
    prefix = default_prefix()
    with pytest.raises(ZeroDivisionError):
        with Lab(load_design(EXAMPLE), prefix=prefix):
            assert mine(prefix)
            raise ZeroDivisionError("a test body that fails half way")
    assert mine(prefix) == []


def test_measure_with_replicas_cleans_up():
    prefix = default_prefix()
    measure(load_design(EXAMPLE), prefix=prefix, replicas=3)
    assert mine(prefix) == []


def test_build_failure_names_the_command_and_cleans_up():
    design = load_design(EXAMPLE)
    broken = dataclasses.replace(design, interfaces=tuple(
        dataclasses.replace(i, mode="bogus") if i.id == DB else i for i in design.interfaces))
    prefix = default_prefix()
    with pytest.raises(LabError) as exc:
        with Lab(broken, prefix=prefix):
            pytest.fail("the build should have failed")
    assert "mode bogus" in str(exc.value) and "link add" in str(exc.value)
    assert exc.value.command and "bogus" in exc.value.command
    assert exc.value.stderr
    assert mine(prefix) == []


def test_kernel_refusal_is_reported_with_its_errno_text():
    """Two macvlans with the same MAC on one parent: the kernel says EADDRINUSE."""
    doc = vepa_doc()
    for c in doc["hosts"][0]["children"]:
        c["mac"] = "02:00:00:00:aa:01"
    prefix = default_prefix()
    with pytest.raises(LabError) as exc:
        with Lab(design_from_dict(doc), prefix=prefix):
            pass
    assert "Address already in use" in f"{exc.value} {exc.value.stderr}"
    assert mine(prefix) == []


def test_interrupt_during_build_cleans_up(monkeypatch):
    """Interrupted while a host's plan runs: every netns goes, the plan-created ones included."""
    prefix = default_prefix()
    real_apply = buildmod._apply_host

    def interrupted(design, host, netns, run_dir):
        real_apply(design, host, netns, run_dir)
        assert len(mine(prefix)) == 5
        raise KeyboardInterrupt

    monkeypatch.setattr(buildmod, "_apply_host", interrupted)
    with pytest.raises(KeyboardInterrupt):
        with Lab(load_design(EXAMPLE), prefix=prefix):
            pass
    assert mine(prefix) == []


def test_existing_namespace_is_never_deleted():
    """A prefix clash fails the build but leaves the namespace that was already there alone."""
    prefix = default_prefix()
    squatter = f"{prefix}-h0"
    run(["ip", "netns", "add", squatter])
    try:
        with pytest.raises(LabError, match="already exists"):
            with Lab(load_design(EXAMPLE), prefix=prefix):
                pass
        assert mine(prefix) == [squatter]
    finally:
        run(["ip", "netns", "del", squatter], check=False)
    assert mine(prefix) == []


def test_unknown_or_addressless_endpoints_are_refused_before_building():
    design = load_design(EXAMPLE)
    with pytest.raises(KeyError):
        measure(design, pairs=[(WEB, "host1/ns:web/nope")])
    with pytest.raises(ValueError):
        measure(design, pairs=[(WEB, "host1/eth0")])
