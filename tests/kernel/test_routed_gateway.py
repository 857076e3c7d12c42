"""The kernel is the judge of routing through a gateway on the LAN: a station that forwards
between two subnets on one interface (a router on a stick), containers with a default route via
it, and the classic trap - container -> internet works through the gateway, host -> container
does not (the macvlan parent never reaches its children). Cold caches before each pair."""
from __future__ import annotations

import pytest
from designs_routed import C1, C2, GW, NET, NIC, looped_routers, routed_lan
from judge import agree, agree6

from planner.core.reachability import Reason

pytestmark = [pytest.mark.kernel, pytest.mark.usefixtures("lab_prereqs")]


def test_containers_reach_the_internet_through_the_gateway_the_host_does_not_reach_them():
    got, pred = agree(routed_lan(host_route_via_gw=True))
    assert got[(C1, NET)] and got[(NET, C2)]
    assert pred.verdict(C1, NET).routers == (GW,)
    assert got[(NIC, NET)], "the host reaches the internet through the gateway too"
    assert not got[(NIC, C1)] and not got[(C1, NIC)], "but not its own children"


def test_a_gateway_that_does_not_forward():
    got, pred = agree(routed_lan(forwarding=False))
    assert not got[(C1, NET)] and not got[(NET, C1)]
    assert pred.verdict(C1, NET).reason == Reason.NOT_FORWARDED
    assert got[(C1, GW)]


def test_a_missing_return_route():
    got, pred = agree(routed_lan(net_route=False))
    assert not got[(C1, NET)]
    assert pred.verdict(C1, NET).reason == Reason.REPLY_NO_ROUTE


def test_a_routing_loop():
    got, pred = agree(looped_routers())
    assert not got[(C1, NET)] and pred.verdict(C1, NET).reason == Reason.ROUTING_LOOP
    assert not got[(C2, NET)], "c2's default route ends in the same loop at gw"
    assert got[(C1, GW)], "the gateway itself answers"


@pytest.mark.parametrize("where", ["ns", "root"])
@pytest.mark.parametrize("forwarding", [True, False], ids=["forwarding", "no-forwarding"])
def test_a_host_namespace_that_routes(where, forwarding):
    """A container namespace (or the host's own) with forwarding: true routes between its subnets,
    over IPv4 and IPv6 - built by the applier (its set-forwarding op), judged by the kernel."""
    from designs_routed import host_router

    doc = host_router(where=where, forwarding=forwarding)
    near = "h/ns:a/a" if where == "ns" else "station:st"
    got, pred = agree(doc)
    got6 = agree6(doc)
    assert got[(near, "station:srv")] is forwarding and got6[(near, "station:srv")] is forwarding
    v = pred.verdict(near, "station:srv")
    if forwarding:
        assert v.routers == (("h/ns:rt" if where == "ns" else "h"),)
    else:
        assert v.reason == Reason.NOT_FORWARDED


def test_forwarding_is_planned_verified_and_rolled_back(tmp_path):
    """The applier turns forwarding on with the value before recorded; verification reads it back;
    a rollback restores the value it found (off, in a fresh namespace)."""
    from designs_routed import host_router

    from planner.core.model import design_from_dict
    from planner.lab.scratch import Scratch
    from planner.netlink.apply import FailAt, apply
    from planner.netlink.live import read_live

    d = design_from_dict(host_router(where="root"))
    with Scratch() as s:
        n, wire = s.add("h"), s.add("wire")
        for k, nic in enumerate(("eth0", "eth1")):  # the host's NICs, veths with their far ends up elsewhere
            s.ip(n, "link", "add", nic, "address", f"02:00:00:00:41:0{k + 1}", "type", "veth", "peer", "name",
                 f"w{nic}", "netns", wire)
            s.ip(wire, "link", "set", f"w{nic}", "up")
        plan = apply(d, netns=n, host="h", run_dir_path=str(tmp_path)).plan
        fw = [op for op in plan.ops if op.kind == "set-forwarding"]
        assert len(fw) == 1 and fw[0].on and fw[0].old is False and fw[0].ns == ""
        last = len(plan.ops) - 1
        res = apply(d, netns=n, host="h", yes=True, run_dir_path=str(tmp_path), fault=FailAt(last))
        assert res.rolled_back and not res.rollback_errors
        assert read_live(n, host="h").host("h").ns("").forwarding is False
        res = apply(d, netns=n, host="h", yes=True, run_dir_path=str(tmp_path))
        assert res.ok and res.verified, (res.error, res.mismatches)
        assert read_live(n, host="h").host("h").ns("").forwarding is True
