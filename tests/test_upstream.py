"""Upstreams that filter MACs or isolate ports: the model (the kernel tests prove it in
tests/kernel/test_filtering_ports.py)."""
from __future__ import annotations

import pytest
from designs_upstream import GW, MAC_A, MAC_B, MAC_P, MAC_V, NIC, ST, A, B, P, V, filtered_host

from planner.core.errors import DesignError
from planner.core.model import design_from_dict, design_to_dict
from planner.core.reachability import Filter, Remedy, predict
from planner.core.rules import check
from planner.core.schema import PLATFORMS, vocabulary
from planner.core.upstream import port_filters


def test_a_cloud_parent_cuts_its_children_off_the_lan_but_not_each_other():
    p = predict(design_from_dict(filtered_host(platform="aws")))
    for outside in (GW, ST, B):
        for child in (A, V):
            for a, b in ((outside, child), (child, outside)):
                v = p.verdict(a, b)
                assert not v.reachable and v.filtered_by == Filter.PORT_SECURITY, (a, b, v)
                assert v.filtered_at == "switch:sw1/p1" and v.remedy == Remedy.ALLOW_MAC
        assert p.reachable(outside, NIC) and p.reachable(NIC, outside), "the NIC's own MAC passes"
    assert p.verdict(A, GW).filtered_mac == MAC_A
    assert "ENI" in p.verdict(GW, A).message and "ipvlan" in p.verdict(GW, A).fix
    assert p.reachable(GW, ST) and p.reachable(B, GW), "the other NIC's children are unaffected"


def test_allowing_a_mac_lets_exactly_that_child_through():
    p = predict(design_from_dict(filtered_host(allowed=[MAC_A])))
    assert p.reachable(GW, A) and p.reachable(A, GW)
    v = p.verdict(GW, V)
    assert not v.reachable and v.filtered_mac == MAC_V
    assert v.fix.endswith("bridge fdb add 02:00:00:00:30:0b dev p1 master static (on switch sw1)")


def test_non_filtering_platforms_change_nothing():
    plain = predict(design_from_dict(filtered_host())).matrix()
    for name, platform in PLATFORMS.items():
        if not platform.filters:
            assert predict(design_from_dict(filtered_host(platform=name))).matrix() == plain, name


def test_isolated_ports_do_not_talk_to_each_other_only():
    p = predict(design_from_dict(filtered_host(isolated=("p2", "p8", "p9"))))
    assert not p.reachable(GW, ST) and not p.reachable(B, GW)
    v = p.verdict(GW, ST)
    assert v.filtered_by == Filter.ISOLATION and v.remedy == Remedy.ISOLATION_OFF
    assert "isolated off" in v.fix
    assert p.reachable(GW, A) and p.reachable(A, ST), "an isolated port still talks to ordinary ones"


def test_classes_keep_allowed_owners_apart():
    """With one child allowed and its siblings not, merged classes must give the exact replay's answer."""
    d = design_from_dict(filtered_host(allowed=[MAC_A], hairpin=True))
    merged, exact = predict(d), predict(d, merge=False)
    assert merged.matrix() == exact.matrix()


def test_mv118_names_the_refused_children_and_the_fix_per_platform():
    fs = [f for f in check(design_from_dict(filtered_host(platform="esxi"))) if f.code == "MV118"]
    assert len(fs) == 1
    assert set(fs[0].subjects) == {"h/eth0", "switch:sw1/p1", A, V, P}
    assert "Forged transmits" in fs[0].fix
    fs = [f for f in check(design_from_dict(filtered_host(allowed=[MAC_A]))) if f.code == "MV118"]
    assert fs[0].commands == tuple(f"bridge fdb add {m} dev p1 master static (on switch sw1)" for m in (MAC_V, MAC_P))
    assert not [f for f in check(design_from_dict(filtered_host(allowed=[MAC_A, MAC_V, MAC_P]))) if f.code == "MV118"]


def test_port_filters_and_round_trip():
    doc = filtered_host(platform="gcp", allowed=[MAC_B], isolated=("p9",))
    d = design_from_dict(doc)
    assert port_filters(d) == {"switch:sw1/p1": frozenset({"02:00:00:00:30:01", MAC_B})}
    again = design_to_dict(design_from_dict(design_to_dict(d)))
    assert again == design_to_dict(d)
    sw = again["switches"][0]["ports"]
    assert sw[0]["allowed_macs"] == [MAC_B] and sw[3]["isolated"] is True
    assert again["hosts"][0]["parents"][0]["platform"] == "gcp"
    assert set(vocabulary()["platforms"]) == set(PLATFORMS)


@pytest.mark.parametrize("field,value,where", [
    ("platform", "openstack", "platform"),
    ("allowed_macs", ["nope"], "allowed_macs"),
])
def test_bad_upstream_fields_name_the_field(field, value, where):
    doc = filtered_host()
    if field == "platform":
        doc["hosts"][0]["parents"][0]["platform"] = value
    else:
        doc["switches"][0]["ports"][0]["allowed_macs"] = value
    with pytest.raises(DesignError) as exc:
        design_from_dict(doc)
    assert where in str(exc.value)


def test_a_mac_accepted_on_two_ports_is_refused_with_its_place():
    doc = filtered_host(allowed=[MAC_A])
    doc["switches"][0]["ports"][1]["allowed_macs"] = [MAC_A]
    with pytest.raises(DesignError) as exc:
        design_from_dict(doc)
    assert "switches[0].ports[1].allowed_macs" in str(exc.value) and "switch:sw1/p1" in str(exc.value)
    doc = filtered_host(platform="aws")            # the NIC's own MAC is accepted on p1 already
    doc["switches"][0]["ports"][2]["allowed_macs"] = ["02:00:00:00:30:01"]
    with pytest.raises(DesignError):
        design_from_dict(doc)
