"""Routing through a gateway station: the model (tests/kernel/test_routed_gateway.py is the kernel's
word on the same designs)."""
from __future__ import annotations

from designs_routed import C1, C2, GW, NET, NIC, looped_routers, routed_lan

from planner.core.model import design_from_dict, design_to_dict
from planner.core.reachability import Reason, Remedy, Step, predict


def test_containers_reach_the_far_subnet_through_the_forwarding_gateway():
    p = predict(design_from_dict(routed_lan()))
    for a, b in ((C1, NET), (NET, C2)):
        v = p.verdict(a, b)
        assert v.reachable and v.routers == (GW,) and not v.asymmetric
        assert Step.ROUTED in v.steps and "(routed)" in v.message
    assert not p.reachable(NIC, NET), "the host has no route to the far subnet"
    assert p.verdict(NIC, NET).reason == Reason.NO_ROUTE


def test_the_host_reaches_the_far_subnet_with_a_route_but_never_its_children():
    p = predict(design_from_dict(routed_lan(host_route_via_gw=True)))
    assert p.reachable(NIC, NET) and p.reachable(NET, NIC)
    assert not p.reachable(NIC, C1) and not p.reachable(C1, NIC)


def test_a_gateway_that_does_not_forward_is_named_with_the_fix():
    p = predict(design_from_dict(routed_lan(forwarding=False)))
    v = p.verdict(C1, NET)
    assert v.reason == Reason.NOT_FORWARDED and v.remedy == Remedy.FORWARDING
    assert "station:gw" in v.message and "ip_forward" in v.fix
    assert p.reachable(C1, GW), "the gateway itself still answers"


def test_a_missing_return_route_and_no_route_at_the_router():
    v = predict(design_from_dict(routed_lan(net_route=False))).verdict(C1, NET)
    assert v.reason == Reason.REPLY_NO_ROUTE
    doc = routed_lan()
    doc["stations"][0]["addresses"] = ["10.63.0.1/24"]          # the gateway loses its far leg
    doc["stations"][1]["routes"] = [{"to": "default", "via": "198.51.100.1"}]
    v = predict(design_from_dict(doc)).verdict(C1, NET)
    assert not v.reachable


def test_a_routing_loop_runs_out_of_ttl():
    v = predict(design_from_dict(looped_routers())).verdict(C1, NET)
    assert v.reason == Reason.ROUTING_LOOP and v.remedy == Remedy.ROUTE


def test_forwarding_round_trips_and_classes_agree_with_the_exact_replay():
    d = design_from_dict(routed_lan())
    assert design_to_dict(design_from_dict(design_to_dict(d))) == design_to_dict(d)
    assert design_to_dict(d)["stations"][0]["forwarding"] is True
    for kw in ({}, {"forwarding": False}, {"net_route": False}, {"host_route_via_gw": True}):
        d = design_from_dict(routed_lan(**kw))
        assert predict(d).matrix() == predict(d, merge=False).matrix(), kw


def test_a_host_namespace_routes_when_one_of_its_interfaces_says_forwarding():
    from designs_routed import host_router

    from planner.core.reachability import predict_families

    for where, router in (("ns", "h/ns:rt"), ("root", "h")):
        near = "h/ns:a/a" if where == "ns" else "station:st"
        on = predict_families(design_from_dict(host_router(where=where)))
        off = predict_families(design_from_dict(host_router(where=where, forwarding=False)))
        for family in (4, 6):
            v = on[family].verdict(near, "station:srv")
            assert v.reachable and v.routers == (router,), (where, family, v.message)
            w = off[family].verdict(near, "station:srv")
            assert w.reason == Reason.NOT_FORWARDED and w.remedy == Remedy.FORWARDING
        assert "net.ipv6.conf.all.forwarding" in off[6].verdict(near, "station:srv").message


def test_forwarding_is_planned_once_per_namespace_and_exported():
    from designs_routed import host_router

    from planner.core.compiler import compile_plan, expected_state
    from planner.exporters.iproute2 import export_iproute2
    from planner.exporters.networkd import export_networkd

    doc = host_router(where="ns")
    doc["hosts"][0]["children"][1]["forwarding"] = True      # said twice in one namespace: one op
    d = design_from_dict(doc)
    assert design_to_dict(d)["hosts"][0]["children"][0]["forwarding"] is True
    ops = [op for op in compile_plan(d).ops if op.kind == "set-forwarding"]
    assert [(op.ns, op.on, op.old) for op in ops] == [("rt", True, False)]
    assert ops[0].inverse().on is False
    assert expected_state(d).host("h").ns("rt").forwarding is True
    assert compile_plan(d, expected_state(d)).ops == ()           # nothing to do once it forwards
    script = "\n".join(export_iproute2(d).files.values())
    assert "ip netns exec rt sysctl -q -e -w net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1" in script
    root = export_networkd(design_from_dict(host_router(where="root"))).files
    assert any("IPForward=yes" in text for name, text in root.items() if name.endswith("eth0.network"))
