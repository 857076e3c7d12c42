"""IPv6 in the model, the prediction, the rules, the plan and the exports (no kernel needed; the kernel
tests are tests/kernel/test_ipv6.py)."""
from __future__ import annotations

import ipaddress

import pytest

from planner.core.compiler import compile_plan
from planner.core.errors import DesignError
from planner.core.model import design_from_dict, design_to_dict, eui64_link_local
from planner.core.ops import AddAddress, AddRoute
from planner.core.reachability import explain, predict, predict_families
from planner.core.rules import check
from planner.exporters.iproute2 import export_iproute2
from planner.exporters.networkd import export_networkd
from planner.lab.generate import mirror6, random_design


def dual(**child_extra) -> dict:
    return {"hosts": [{"name": "h", "parents": [{"name": "eth0", "uplink": {"switch": "sw", "port": "p1"}}],
                       "children": [{"name": "a", "parent": "eth0", "namespace": "a",
                                     "addresses": ["10.0.0.2/24", "2001:db8::2/64"], **child_extra},
                                    {"name": "p", "parent": "eth0", "mode": "private", "namespace": "p",
                                     "addresses": ["2001:db8::4/64"]}]}],
            "switches": [{"name": "sw", "ports": [{"name": "p1"}, {"name": "p2"}]}],
            "stations": [{"name": "gw", "uplink": {"switch": "sw", "port": "p2"},
                          "addresses": ["10.0.0.1/24", "2001:db8::1/64"]}]}


def test_one_address_list_holds_both_families_and_dumps_back():
    d = design_from_dict(dual(routes=[{"to": "default", "via": "2001:db8::1"}, {"to": "default", "via": "10.0.0.1"}]))
    a = d.iface("h/ns:a/a")
    assert [str(x) for x in a.addresses] == ["10.0.0.2/24"] and [str(x) for x in a.addresses6] == ["2001:db8::2/64"]
    assert [str(r.to) for r in a.routes6] == ["::/0"] and [str(r.to) for r in a.routes] == ["0.0.0.0/0"]
    child = design_to_dict(d)["hosts"][0]["children"][0]
    assert child["addresses"] == ["10.0.0.2/24", "2001:db8::2/64"]
    assert design_to_dict(design_from_dict(design_to_dict(d))) == design_to_dict(d)


def test_the_ipv6_view_has_link_local_addresses_and_its_own_endpoints():
    d = design_from_dict(dual())
    v6 = d.family_view(6)
    assert [e.id for e in d.endpoints()] == ["h/ns:a/a", "station:gw"]
    assert [e.id for e in v6.endpoints()] == ["h/ns:a/a", "h/ns:p/p", "station:gw"]
    a = v6.iface("h/ns:a/a")
    assert a.link_local == eui64_link_local(a.mac) and a.link_local.is_link_local
    assert str(eui64_link_local("52:54:00:12:34:56")) == "fe80::5054:ff:fe12:3456"
    assert v6.family_view(6) is v6 and d.family_view(6) is v6


@pytest.mark.parametrize("bad, where, words", [
    ({"addresses": ["fe80::1/64"]}, "addresses[0]", "link-local"),
    ({"routes": [{"to": "2001:db8:1::/64", "via": "10.0.0.1"}]}, "routes[0].via", "family of its destination"),
    ({"routes": [{"to": "default", "via": "fe80::1"}]}, "routes[0].via", "link-local"),
    ({"neighbors": [{"address": "2001:db8::9"}]}, "neighbors[0]", "'peer'"),
])
def test_bad_ipv6_input_names_the_field(bad, where, words):
    doc = dual()
    doc["hosts"][0]["children"][0].update(bad)
    with pytest.raises(DesignError) as exc:
        design_from_dict(doc)
    assert any(p.path.endswith(where) and words in p.message for p in exc.value.problems), exc.value.problems


def test_predictions_per_family_with_ndp_words():
    d = design_from_dict(dual())
    preds = predict_families(d)
    assert set(preds) == {4, 6}
    v = preds[6].verdict("h/ns:a/a", "h/ns:p/p")
    assert not v.reachable and v.reason == "NDP_UNANSWERED" and v.family == 6
    assert "neighbour" in v.message and "ARP" not in v.message and "ARP" not in v.fix
    assert preds[6].reachable("h/ns:a/a", "station:gw") and preds[4].reachable("h/ns:a/a", "station:gw")
    assert explain(d, "a", "gw", family=6).family == 6
    out = preds[6].to_dict()
    assert out["summary"]["family"] == 6 and out["duplicates"] == []


def test_ipv6_answers_only_on_the_interface_that_holds_the_address():
    """ARP answers for any address of the namespace (arp_ignore=0), NDP only on the owner: a second NIC
    that is down makes the IPv4 ping work through the first NIC and the IPv6 one fail."""
    doc = {"hosts": [{"name": "h", "parents": [
        {"name": "eth0", "addresses": ["10.1.0.1/24", "fd00:1::1/64"], "uplink": {"switch": "sw", "port": "p1"}},
        {"name": "eth1", "state": "down", "addresses": ["10.1.0.2/24", "fd00:1::2/64"],
         "uplink": {"switch": "sw", "port": "p2"}}]}],
        "switches": [{"name": "sw", "ports": [{"name": "p1"}, {"name": "p2"}, {"name": "p3"}]}],
        "stations": [{"name": "st", "uplink": {"switch": "sw", "port": "p3"},
                      "addresses": ["10.1.0.254/24", "fd00:1::fe/64"]}]}
    preds = predict_families(design_from_dict(doc))
    assert preds[4].reachable("station:st", "h/eth1")
    assert preds[6].verdict("station:st", "h/eth1").reason == "NDP_UNANSWERED"


def _dad_doc(mac_b: str | None = None, passthru: bool = False) -> dict:
    children = ([{"name": "vm", "parent": "eth0", "mode": "passthru", "namespace": "vm",
                  "addresses": ["fd00:2::2/64"]}] if passthru else
                [{"name": "a", "parent": "eth0", "mode": "bridge", "namespace": "a", "mac": "02:00:00:00:00:aa",
                  "addresses": ["fd00:2::3/64"]},
                 {"name": "b", "parent": "eth1", "mode": "bridge", "namespace": "b",
                  "mac": mac_b or "02:00:00:00:00:bb", "addresses": ["fd00:2::4/64"]}])
    return {"hosts": [{"name": "h", "parents": [{"name": "eth0", "uplink": {"switch": "sw", "port": "p1"}},
                                                {"name": "eth1", "uplink": {"switch": "sw", "port": "p3"}}],
                       "children": children}],
            "switches": [{"name": "sw", "ports": [{"name": "p1"}, {"name": "p2"}, {"name": "p3"}]}],
            "stations": [{"name": "st", "uplink": {"switch": "sw", "port": "p2"}, "addresses": ["fd00:2::3/64"]}]}


def test_dad_catches_a_station_holding_a_childs_address_and_the_pairs_are_races():
    d = design_from_dict(_dad_doc())
    mv119 = [f for f in check(d) if f.code == "MV119"]
    assert len(mv119) == 1 and set(mv119[0].subjects) == {"h/ns:a/a", "station:st"}
    assert mv119[0].severity == "error"
    p6 = predict(d.family_view(6))
    race = p6.verdict("h/ns:b/b", "h/ns:a/a")
    assert p6.timing("h/ns:b/b", "h/ns:a/a") and "duplicate address detection" in race.message


@pytest.mark.parametrize("case", ["passthru", "one-mac-two-parents"])
def test_collisions_dad_cannot_see_are_flagged(case):
    d = design_from_dict(_dad_doc(passthru=True) if case == "passthru" else _dad_doc(mac_b="02:00:00:00:00:aa"))
    blind = [f for f in check(d) if f.code == "MV120"]
    assert len(blind) == 1
    expect = {"h/eth0", "h/ns:vm/vm"} if case == "passthru" else {"h/ns:a/a", "h/ns:b/b"}
    assert set(blind[0].subjects) == expect
    assert ("passthru" in blind[0].message) is (case == "passthru")
    dup = next(x for x in predict(d.family_view(6)).world.duplicates if set(x.holders) == expect)
    assert dup.link_local and not dup.caught


def test_a_design_without_ipv6_gets_no_ipv6_findings_or_view():
    doc = _dad_doc(passthru=True)
    for h in doc["hosts"]:
        for c in h["children"]:
            c["addresses"] = ["10.2.0.2/24"]
    doc["stations"][0]["addresses"] = ["10.2.0.3/24"]
    d = design_from_dict(doc)
    assert not d.has_ipv6() and set(predict_families(d)) == {4}
    assert not [f for f in check(d) if f.code in ("MV119", "MV120")]


def test_the_plan_and_the_exports_carry_ipv6():
    d = design_from_dict(dual(routes=[{"to": "default", "via": "2001:db8::1"}],
                              neighbors=[{"address": "2001:db8::1", "mac": "02:00:00:00:00:01"}]))
    plan = compile_plan(d)
    adds = {(op.name, op.address) for op in plan.ops if isinstance(op, AddAddress)}
    assert ("a", "2001:db8::2/64") in adds and ("a", "10.0.0.2/24") in adds
    assert any(isinstance(op, AddRoute) and op.to == "::/0" and op.via == "2001:db8::1" for op in plan.ops)
    script = "\n".join(export_iproute2(d).files.values())
    assert "address add 2001:db8::2/64 dev a" in script and "route add ::/0 via 2001:db8::1 dev a" in script
    assert "neigh add 2001:db8::1 lladdr 02:00:00:00:00:01" in script or "neigh replace 2001:db8::1" in script
    files = export_networkd(design_from_dict({"parents": [{"name": "eth0"}],
                                              "children": [{"name": "mv0", "parent": "eth0",
                                                            "addresses": ["2001:db8::7/64"]}]})).files
    net = next(v for k, v in files.items() if k.endswith("mv0.network"))
    assert "Address=2001:db8::7/64" in net and "LinkLocalAddressing=ipv6" in net


def test_mirrored_random_designs_are_dual_stack_with_the_same_subnets():
    assert mirror6("10.0.0.5/24") == "fd00::a00:5/120" and mirror6("0.0.0.0/0") == "::/0"
    duals = 0
    for seed in range(40):
        d = design_from_dict(random_design(seed))
        if not d.has_ipv6():
            continue
        duals += 1
        for i in d.interfaces:
            assert [ipaddress.ip_interface(mirror6(str(a))) for a in i.addresses] == list(i.addresses6)
    assert 10 <= duals <= 30
