"""discover(apply(design)) round-trips: the discovered document loads, expects what the original
expects, and plans nothing against the live state. Throwaway namespaces only."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from designs import KITCHEN, host_netns

from planner.core.compiler import compile_plan, expected_state
from planner.core.livestate import compare
from planner.core.model import design_from_dict, load_design
from planner.lab.scratch import Scratch
from planner.netlink.apply import apply
from planner.netlink.discover import design_doc_from_live, discover, parse_alias
from planner.netlink.live import read_live

pytestmark = pytest.mark.kernel

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def kernel(request):
    request.getfixturevalue("lab_prereqs")


def _links(design, host):
    """(namespace, name) -> the decided fields of every link the design expects."""
    out = {}
    for ns in expected_state(design, hosts=[host]).hosts[0].namespaces:
        for lk in ns.links:
            out[(ns.name, lk.name)] = (lk.kind, lk.mode, lk.mac, lk.alias, lk.master, lk.hairpin, lk.state,
                                       lk.nopromisc, tuple(sorted(lk.source_macs or ())))
    return out


def _l3(design, host):
    out = set()
    for ns in expected_state(design, hosts=[host]).hosts[0].namespaces:
        out |= {("a", ns.name, a.dev, a.address) for a in ns.addresses}
        out |= {("n", ns.name, n.dev, n.address, n.mac) for n in ns.neighbors}
        out |= {("r", ns.name, r.dev, r.to, r.via) for r in ns.routes}
    return out


def _round_trip(original, netns: str, tmp_path: Path):
    res = apply(original, netns=netns, yes=True, run_dir_path=tmp_path / "run")
    assert res.ok, (res.error, res.mismatches)
    doc, skipped = discover(netns)
    text = yaml.safe_dump(doc, sort_keys=False)
    (tmp_path / "d.yaml").write_text(text)
    found = load_design(tmp_path / "d.yaml")
    assert found.name == original.name
    host = original.hosts[0].name
    assert [h.name for h in found.hosts] == [host]
    live = read_live(netns, host=host)
    # the discovered design plans nothing and verifies clean against what was applied
    assert compile_plan(found, live, check=False).ops == ()
    assert compare(expected_state(found, hosts=[host]), live) == []
    # and it expects the same links (kind, mode, MAC, alias, master, hairpin, state) and L3
    want, got = _links(original, host), _links(found, host)
    assert set(got) == set(want)
    for key, fields in want.items():
        for w, g in zip(fields, got[key], strict=True):
            assert w is None or w == g, (key, fields, got[key])
    assert _l3(found, host) == _l3(original, host)
    return doc, skipped


def test_discover_round_trips_the_kitchen_design(kernel, tmp_path):
    original = design_from_dict(KITCHEN)
    with Scratch() as s:
        n = host_netns(s)
        doc, skipped = _round_trip(original, n, tmp_path)
        h = doc["hosts"][0]
        kinds = {p["name"]: p["kind"] for p in h["parents"]}
        assert kinds == {"eth0": "ethernet", "eth1": "ethernet", "eth2": "ethernet", "vparent": "veth"}
        vparent = next(p for p in h["parents"] if p["name"] == "vparent")
        assert vparent["uplink"] == {"bridge": "br0", "port": "vp0"}
        br = h["bridges"][0]
        assert {p["name"]: p.get("hairpin") for p in br["ports"]} == {"vp0": True, "vp1": False, "eth2": True}
        assert next(p for p in br["ports"] if p["name"] == "eth2")["enslave"] is True
        src = next(c for c in h["children"] if c["name"] == "src0")
        assert src["type"] == "macvtap" and src["mode"] == "source"
        assert sorted(src["source_macs"]) == ["02:00:00:00:aa:01", "02:00:00:00:aa:02"]
        pt0 = next(c for c in h["children"] if c["name"] == "pt0")
        assert pt0["nopromisc"] is True and pt0["namespace"] == "vm" and "mac" not in pt0
        # inner0 was declared on outer0; the kernel re-parented it onto eth0 - the truth is written
        assert next(c for c in h["children"] if c["name"] == "inner0")["parent"] == "eth0"
        assert any("weth0" in x or "wire" in x for x in skipped) or skipped == []


@pytest.mark.parametrize("example", ["vepa-hairpin", "host-shim", "passthru-vm"])
def test_discover_round_trips_examples(kernel, tmp_path, example):
    original = load_design(ROOT / "examples" / f"{example}.yaml")
    with Scratch() as s:
        n = s.add()
        for k, p in enumerate(original.hosts[0].parents):
            s.ip(n, "link", "add", p.name, "type", "veth", "peer", "name", f"x{k}")
        _round_trip(original, n, tmp_path)


def test_cli_discover_writes_a_loadable_file(kernel, tmp_path):
    from planner import cli

    original = design_from_dict(KITCHEN)
    with Scratch() as s:
        n = host_netns(s)
        assert apply(original, netns=n, yes=True, run_dir_path=tmp_path / "run").ok
        for name in ("out.yaml", "out.json"):
            assert cli.main(["discover", "--netns", n, "-o", str(tmp_path / name)]) == 0
            d = load_design(tmp_path / name)
            assert d.name == "apply-kitchen" and len(d.hosts[0].children) == 7
        assert cli.main(["discover", "--netns", n + "-nonexistent"]) == 2


def test_unowned_state_is_described_too(kernel):
    """A host mvplan never touched: its macvlans become children, the design name is generic."""
    with Scratch() as s:
        n = s.add()
        s.add("c1")
        s.ip(n, "link", "add", "eth0", "type", "veth", "peer", "name", "peer0")
        s.ip(n, "addr", "add", "10.9.0.2/24", "dev", "eth0")
        s.ip(n, "link", "add", "link", "eth0", "name", "mvx", "type", "macvlan", "mode", "private")
        s.ip(n, "link", "set", "mvx", "netns", f"{n}-c1")
        s.ip(f"{n}-c1", "addr", "add", "10.9.0.5/24", "dev", "mvx")
        doc, skipped = discover(n)
        assert doc["name"] == "discovered" and doc["hosts"][0]["name"] == "host"
        child = doc["hosts"][0]["children"][0]
        assert (child["name"], child["mode"], child["namespace"], child["addresses"]) == \
            ("mvx", "private", "c1", ["10.9.0.5/24"])
        assert doc["hosts"][0]["parents"][0]["addresses"] == ["10.9.0.2/24"]
        assert any("peer0" in x for x in skipped)
        design_from_dict(doc)  # accepted by the model


def test_parse_alias():
    assert parse_alias("mvplan:lab:host1/ns:web/web0") == ("lab", "host1/ns:web/web0")
    assert parse_alias("mvplan:#0123456789ab:host1/x") is None
    assert parse_alias("something else") is None and parse_alias(None) is None
    assert design_doc_from_live  # exported
