"""The kernel is the judge of learning: hairpin that makes a bridge or switch learn a MAC behind the
wrong port, a hairpin loop, and one MAC on two parents. Every ordered pair, both directions, from
cold neighbour caches and cold fdb tables (the lab flushes both before each ping)."""
from __future__ import annotations

import pytest
from designs_learning import C1, C2, GW, ST, M, X, Y, Z, bridged_host, reflected_bridge_parent, shared_mac
from judge import agree

from planner.core.model import design_from_dict
from planner.core.reachability import Reason, predict
from planner.core.rules import check

pytestmark = [pytest.mark.kernel, pytest.mark.usefixtures("lab_prereqs")]


def _measured(doc: dict) -> dict[tuple[str, str], bool]:
    return agree(doc)[0]


def test_hairpin_on_the_bridge_uplink_port_loses_the_station():
    """The station's broadcast is reflected back to the switch, which learns the station behind the
    host's port: the container's answer goes nowhere."""
    got = _measured(bridged_host(bridge_hairpin=True, switch_hairpin=False))
    assert not got[(GW, C1)] and not got[(GW, C2)]
    assert got[(C1, GW)] and got[(C2, GW)]


def test_hairpin_on_the_switch_port_loses_the_containers_answers():
    """The switch reflects the container's broadcast; the host bridge learns the container behind its
    uplink and drops what comes back for it."""
    got = _measured(bridged_host(bridge_hairpin=False, switch_hairpin=True))
    assert not got[(C1, GW)] and not got[(C2, GW)]
    assert got[(GW, C1)] and got[(GW, C2)]


def test_without_hairpin_everything_works():
    got = _measured(bridged_host(bridge_hairpin=False, switch_hairpin=False))
    assert all(got.values())


def test_hairpin_at_both_ends_is_a_loop_never_predicted_reachable():
    design = design_from_dict(bridged_host(bridge_hairpin=True, switch_hairpin=True))
    assert "MV116" in {f.code for f in check(design)}
    pred = predict(design)
    for (a, b), ok in pred.matrix().items():
        assert not ok and pred.verdict(a, b).reason == Reason.L2_LOOP


def test_one_mac_on_two_parents():
    got = _measured(shared_mac())
    assert not got[(X, Y)] and not got[(Y, X)], "the parent takes a frame from the shared MAC for its own child's"
    assert not got[(Z, Y)], "z's frames for the shared MAC never leave eth0: x owns it there"
    assert got[(ST, X)] and got[(ST, Y)] and got[(X, Z)] and got[(Z, X)]


def test_reflection_into_a_bridge_parent_is_a_race_the_model_names():
    """Races are excused only where the model predicts one; everything else must agree, and with the
    reflection gone every pair works for certain."""
    design = design_from_dict(reflected_bridge_parent())
    pred = predict(design)
    assert pred.timing(C1, M) and not pred.reachable(C1, M)
    _measured(reflected_bridge_parent())
    got = _measured(reflected_bridge_parent(switch_hairpin=False))
    assert all(got.values())
    assert not predict(design_from_dict(reflected_bridge_parent(switch_hairpin=False))).timing_pairs()
