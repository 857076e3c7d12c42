"""The kernel is the judge of routing through a gateway on the LAN: a station that forwards
between two subnets on one interface (a router on a stick), containers with a default route via
it, and the classic trap - container -> internet works through the gateway, host -> container
does not (the macvlan parent never reaches its children). Cold caches before each pair."""
from __future__ import annotations

import pytest
from designs_routed import C1, C2, GW, NET, NIC, looped_routers, routed_lan
from judge import agree

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
