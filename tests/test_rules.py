"""One case per finding code: the rule fires on a minimal design and stays quiet on its fix."""
import designs_learning
import designs_upstream
import pytest

from planner.core.findings import CODES
from planner.core.model import design_from_dict
from planner.core.rules import check


def host(children, parents=None, bridges=None, hairpin=False, stations=()):
    return {
        "hosts": [{"name": "h", "parents": parents or [{"name": "eth0", "uplink": {"switch": "sw", "port": "p1"}}],
                   "children": children, **({"bridges": bridges} if bridges else {})}],
        "switches": [{"name": "sw", "ports": [{"name": "p1", "hairpin": hairpin}, {"name": "p2"}, {"name": "p3"}]}],
        "stations": list(stations),
    }


def kid(name, mode="bridge", n=0, **kw):
    return {"name": name, "parent": "eth0", "mode": mode, "namespace": f"ns{name}",
            "addresses": [f"10.0.0.{10 + n}/24"], **kw}


def kid6(name, mode="bridge", n=0, **kw):
    return {"name": name, "parent": "eth0", "mode": mode, "namespace": f"ns{name}",
            "addresses": [f"fd00::{10 + n:x}/64"], **kw}


TWO_PARENTS = [{"name": "eth0", "uplink": {"switch": "sw", "port": "p1"}},
               {"name": "eth1", "uplink": {"switch": "sw", "port": "p2"}}]

CASES = {
    "MV101": (host([kid("a", "passthru"), kid("b", "bridge", 1)]), host([kid("a", "passthru")])),
    "MV102": (host([kid("a", nopromisc=True)]), host([kid("a", "passthru", nopromisc=True)])),
    "MV103": (host([kid("a", source_macs=["02:00:00:00:00:01"])]),
              host([kid("a", "source", source_macs=["02:00:00:00:00:01"])])),
    "MV104": (host([kid("a")], parents=[{"name": "eth0"}],
                   bridges=[{"name": "br0", "ports": [{"name": "eth0", "enslave": True}]}]),
              host([kid("a")])),
    "MV105": (host([kid("a")], parents=[{"name": "eth0", "kind": "loopback"}]), host([kid("a")])),
    "MV106": (host([{"name": "outer", "parent": "eth0"}, {"name": "inner", "parent": "outer"}]),
              host([{"name": "outer", "parent": "eth0"}, {"name": "inner", "parent": "eth0"}])),
    "MV114": (host([{"name": "outer", "parent": "eth0"}, {"name": "vm", "parent": "outer", "mode": "passthru"}]),
              host([{"name": "vm", "parent": "eth0", "mode": "passthru"}])),
    "MV115": (host([kid("a")], parents=[{"name": "eth0", "addresses": ["10.0.0.1/24"],
                                         "uplink": {"switch": "sw", "port": "p1"}},
                                        {"name": "eth1", "uplink": {"switch": "sw", "port": "p2"}}]),
              host([kid("a")], parents=[{"name": "eth0", "addresses": ["10.0.0.1/24"],
                                         "uplink": {"switch": "sw", "port": "p1"}},
                                        {"name": "eth1"}])),
    "MV116": (host([kid("a")], parents=[{"name": "eth0", "uplink": {"switch": "sw", "port": "p1"}},
                                        {"name": "eth1", "uplink": {"switch": "sw", "port": "p2"}}],
                   bridges=[{"name": "br0", "ports": [{"name": "eth0", "enslave": True},
                                                      {"name": "eth1", "enslave": True}]}]),
              host([kid("a")], parents=[{"name": "eth0", "uplink": {"switch": "sw", "port": "p1"}},
                                        {"name": "eth1"}])),
    "MV117": (designs_learning.reflected_bridge_parent(),
              designs_learning.reflected_bridge_parent(switch_hairpin=False)),
    "MV118": (designs_upstream.filtered_host(platform="hyper-v"),
              designs_upstream.filtered_host(allowed=[designs_upstream.MAC_A, designs_upstream.MAC_V,
                                                      designs_upstream.MAC_P])),
    "MV119": (host([kid6("a"), kid6("b")]), host([kid6("a"), kid6("b", n=1)])),
    "MV120": (host([kid6("a", mac="02:00:00:00:00:07"), kid6("b", n=1, parent="eth1", mac="02:00:00:00:00:07")],
                   parents=TWO_PARENTS),
              host([kid6("a", mac="02:00:00:00:00:07"), kid6("b", n=1, parent="eth1", mac="02:00:00:00:00:08")],
                   parents=TWO_PARENTS)),
    "MV107": (host([kid("a", mtu=9000)]), host([kid("a", mtu=1400)])),
    "MV108": (host([kid("a", mac="02:00:00:00:00:05"), kid("b", n=1, mac="02:00:00:00:00:05")]),
              host([kid("a", mac="02:00:00:00:00:05"), kid("b", n=1, mac="02:00:00:00:00:06")])),
    "MV109": (host([kid("a"), kid("b")]), host([kid("a"), kid("b", n=1)])),
    "MV110": (host([kid("a"), {**kid("b", n=1), "namespace": "nsa"}]), host([kid("a"), kid("b", n=1)])),
    "MV111": (host([kid("a", "passthru")]), host([kid("a", "bridge")])),
    "MV112": (host([kid("a"), {**kid("b", n=1), "addresses": ["10.0.0.11/16"]}]), host([kid("a"), kid("b", n=1)])),
    "MV113": (host([kid("a", "source")]), host([kid("a", "source", source_macs=["02:00:00:00:00:01"])])),
    "MV201": (host([kid("a", "private"), kid("b", "private", 1)]), host([kid("a"), kid("b", n=1)])),
    "MV202": (host([kid("a", "private", neighbors=[{"peer": "ns:nsb/b"}]),
                    kid("b", "private", 1, neighbors=[{"peer": "ns:nsa/a"}])]),
              host([kid("a", "private", neighbors=[{"peer": "ns:nsb/b"}]),
                    kid("b", "private", 1, neighbors=[{"peer": "ns:nsa/a"}])], hairpin=True)),
    "MV203": (host([kid("a", "vepa"), kid("b", "vepa", 1)]),
              host([kid("a", "vepa"), kid("b", "vepa", 1)], hairpin=True)),
    "MV204": (host([kid("a")], parents=[{"name": "eth0", "addresses": ["10.0.0.1/24"],
                                         "uplink": {"switch": "sw", "port": "p1"}}]),
              host([kid("a")], parents=[{"name": "eth0", "addresses": ["10.0.0.1/24"],
                                         "uplink": {"switch": "sw", "port": "p1"}}], hairpin=True)),
    "MV205": (host([kid("a")]), host([])),
    "MV206": (host([kid("a")], parents=[{"name": "eth0", "state": "down"}]), host([kid("a")])),
    "MV207": (host([kid("a", "source", source_macs=["02:00:00:00:00:01"]), kid("b", n=1)]),
              host([kid("a", "source", source_macs=["02:00:00:00:00:01"]), kid("b", n=1, mac="02:00:00:00:00:01")])),
    "MV208": (host([kid("a", neighbors=[{"address": "10.0.0.11", "mac": "02:00:00:00:00:99"}]), kid("b", n=1)]),
              host([kid("a", neighbors=[{"peer": "ns:nsb/b"}]), kid("b", n=1)])),
    "MV209": (host([kid("a", routes=[{"to": "10.0.0.0/24"}])]), host([kid("a", routes=[{"to": "10.0.0.7/32"}])])),
    "MV301": (host([kid("a"), kid("b", n=1)]), host([kid("a")])),
    "MV302": (host([kid("a")], parents=[{"name": "eth0", "kind": "wifi"}]), host([kid("a")])),
    "MV303": (host([kid(f"c{i}", n=i) for i in range(40)]), host([kid(f"c{i}", n=i) for i in range(10)])),
    "MV304": (host([kid("a", "vepa"), kid("b", "vepa", 1)], hairpin=True), host([kid("a"), kid("b", n=1)])),
    "MV305": (host([kid("a", type="macvtap")]), host([{**kid("a", type="macvtap"), "namespace": None}])),
}


def _clean(doc):
    """Drop keys set to None (used to express 'remove this field' in a fixed design)."""
    for h in doc["hosts"]:
        for c in h.get("children", []):
            for k in [k for k, v in c.items() if v is None]:
                del c[k]
    return doc


def codes(doc):
    return {f.code for f in check(design_from_dict(_clean(doc)))}


def test_every_code_has_a_case():
    assert set(CASES) == set(CODES)


@pytest.mark.parametrize("code", sorted(CASES))
def test_rule_fires_and_fix_silences_it(code):
    bad, good = CASES[code]
    assert code in codes(bad)
    assert code not in codes(good)


def test_findings_are_data_with_fix_and_commands():
    fs = check(design_from_dict(CASES["MV203"][0]))
    f = next(f for f in fs if f.code == "MV203")
    d = f.to_dict()
    assert d["severity"] == "warning" and "switch:sw/p1" in d["subjects"]
    assert "bridge link set dev p1 hairpin on" in d["commands"]
    assert any(c.startswith("brctl hairpin") for c in d["commands"])
    assert any("hairpin_mode" in c for c in d["commands"])


def test_kernel_refusals_carry_errno():
    fs = check(design_from_dict(CASES["MV101"][0]))
    assert next(f for f in fs if f.code == "MV101").errno == "EINVAL"
    fs = check(design_from_dict(CASES["MV104"][0]))
    assert next(f for f in fs if f.code == "MV104").errno == "EBUSY"


def test_shim_proposal_names_a_free_address():
    fs = check(design_from_dict(CASES["MV204"][0]))
    f = next(f for f in fs if f.code == "MV204")
    assert any("type macvlan mode bridge" in c for c in f.commands)
    assert any(c.startswith("ip route add 10.0.0.10/32") for c in f.commands)


def test_every_code_is_documented():
    from pathlib import Path

    text = (Path(__file__).parent.parent / "docs" / "rules.md").read_text()
    for code in CODES:
        assert f"| {code} |" in text, f"{code} missing from docs/rules.md"


def test_two_routes_to_one_prefix_in_a_namespace_are_refused():
    doc = host([{**kid("a", routes=[{"to": "10.0.0.50/32"}]), "namespace": "shared"},
                {**kid("b", n=1, routes=[{"to": "10.0.0.50/32"}]), "namespace": "shared",
                 "addresses": ["10.0.1.11/24"]}])
    fs = [f for f in check(design_from_dict(doc)) if f.code == "MV209"]
    assert fs and fs[0].errno == "EEXIST" and "both route 10.0.0.50/32" in fs[0].message


def test_mv101_names_only_the_children_the_kernel_refuses():
    """a, b (bridge), p (passthru), d (vepa), created in that order: only p is refused (EINVAL)."""
    kids = [kid("a"), kid("b", "bridge", 1), kid("p", "passthru", 2), kid("d", "vepa", 3)]
    fs = [f for f in check(design_from_dict(host(kids))) if f.code == "MV101"]
    assert [f.subjects[0] for f in fs] == ["h/ns:nsp/p"]
    # once a passthru child exists, every later child is refused
    kids = [kid("p", "passthru"), kid("b", "bridge", 1), kid("d", "vepa", 2)]
    fs = [f for f in check(design_from_dict(host(kids))) if f.code == "MV101"]
    assert sorted(f.subjects[0] for f in fs) == ["h/ns:nsb/b", "h/ns:nsd/d"]


def test_mv116_sees_two_reflecting_bridges_facing_one_switch():
    from designs_learning import two_mirrors

    from planner.core.reachability import Reason, predict

    d = design_from_dict(two_mirrors())
    loops = [f for f in check(d) if f.code == "MV116"]
    assert loops and sorted(loops[0].subjects) == ["h/eth0", "h2/eth0"]
    p = predict(d)
    assert p.verdict("station:gw", "h/ns:c1/eth0").reason == Reason.L2_LOOP


def test_mv117_names_the_reflecting_port_and_the_fix():
    from designs_learning import C1, M, reflected_bridge_parent

    d = design_from_dict(reflected_bridge_parent())
    fs = [f for f in check(d) if f.code == "MV117"]
    assert len(fs) == 1
    f = fs[0]
    assert f.subjects[:2] == ("switch:sw1/p1", "h/eth0") and C1 in f.subjects and M in f.subjects
    assert f.commands == ("bridge link set dev p1 hairpin off (on switch sw1)",)
    assert "race" in f.message  # the two container -> child pairs are timing-dependent
    assert not [f for f in check(design_from_dict(reflected_bridge_parent(switch_hairpin=False)))
                if f.code == "MV117"]
