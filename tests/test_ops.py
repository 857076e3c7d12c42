"""Operations: identity, data round trip, and that every inverse really undoes its op."""
from __future__ import annotations

import dataclasses
import json
from dataclasses import replace

import pytest

from planner.core.compiler import SimulationError, simulate
from planner.core.livestate import LiveAddress, LiveHost, LiveLink, LiveNamespace, LiveNeighbor, LiveRoute, LiveState
from planner.core.ops import (
    OP_TYPES,
    AddAddress,
    AddNeighbor,
    AddRoute,
    CreateBridge,
    CreateMacvlan,
    CreateNamespace,
    CreateVeth,
    DelAddress,
    DeleteLink,
    DeleteNamespace,
    DelNeighbor,
    DelRoute,
    MoveToNamespace,
    NotInvertible,
    SetAlias,
    SetBridgePort,
    SetForwarding,
    SetHairpin,
    SetLinkDown,
    SetLinkUp,
    SetMac,
    SetMode,
    SetMtu,
    SetSourceMacs,
    UnsetBridgePort,
    alias_owner,
    op_from_dict,
    owner_alias,
    owner_prefix,
    temp_name,
)

H = "h1"
MV0 = LiveLink(name="mv0", kind="macvlan", mode="bridge", mac="02:00:00:00:00:10", mtu=1500, state="down",
               link="eth0", link_ns="", source_macs=(), nopromisc=False)


def start_state() -> LiveState:
    """A small host every sample op applies to."""
    root = LiveNamespace(
        name="",
        links=(
            LiveLink(name="eth0", mac="52:54:00:00:00:01", mtu=1500, state="up"),
            LiveLink(name="br0", kind="bridge", mac="02:00:00:00:00:b0", mtu=1500, state="up"),
            LiveLink(name="port1", kind="veth", mtu=1500, state="up", master="br0", hairpin=False, link="peer1",
                     link_ns="web"),
            MV0,
        ),
        # two subnets: removing 10.0.0.2/24 leaves eth0 an address, so nothing is flushed
        addresses=(LiveAddress("eth0", "10.0.0.2/24"), LiveAddress("eth0", "192.168.7.2/24")),
        routes=(LiveRoute("eth0", "10.9.0.0/16", "10.0.0.1"),),
        neighbors=(LiveNeighbor("eth0", "10.0.0.1", "02:00:00:00:00:01"),),
        forwarding=False,
    )
    web = LiveNamespace(name="web", links=(LiveLink(name="peer1", kind="veth", mtu=1500, state="up", link="port1",
                                                    link_ns=""),))
    return LiveState(hosts=(LiveHost(name=H, namespaces=(root, web, LiveNamespace(name="empty", forwarding=False))),))


def sample_ops():
    mk = CreateMacvlan(subject="h1/mv0", host=H, name="mv0", link="eth0", mode="bridge", mac=MV0.mac, mtu=1500)
    return [
        CreateNamespace(subject="h1/ns:x", host=H, name="x"),
        DeleteNamespace(subject="h1/ns:empty", host=H, name="empty"),
        CreateBridge(subject="h1/br9", host=H, name="br9", mac="02:00:00:00:00:99", mtu=1500),
        CreateVeth(subject="h1/va", host=H, name="va", peer="vb", peer_ns="web", peer_subject="h1/ns:web/vb",
                   mac="02:00:00:00:00:aa", mtu=1500, peer_mac="02:00:00:00:00:ab", peer_mtu=1500),
        CreateMacvlan(subject="h1/mv9", host=H, link_kind="macvtap", name="mv9", link="eth0", mode="vepa",
                      mac="02:00:00:00:00:09", mtu=1500),
        mk.inverse(),  # DeleteLink carrying how to rebuild mv0
        SetAlias(subject="h1/mv0", host=H, name="mv0", alias=owner_alias("d", "h1/mv0")),
        MoveToNamespace(subject="h1/ns:web/m0", host=H, name="mv0", target_ns="web", new_name="m0"),
        SetMode(subject="h1/mv0", host=H, name="mv0", mode="vepa", old="bridge"),
        SetMtu(subject="h1/mv0", host=H, name="mv0", mtu=1400, old=1500),
        SetMac(subject="h1/mv0", host=H, name="mv0", mac="02:00:00:00:00:11", old=MV0.mac),
        SetSourceMacs(subject="h1/mv0", host=H, name="mv0", macs=("02:00:00:00:aa:01",), old=()),
        SetBridgePort(subject="h1/eth0", host=H, name="eth0", master="br0"),
        UnsetBridgePort(subject="h1/port1", host=H, name="port1", master="br0"),
        SetHairpin(subject="h1/port1", host=H, name="port1", bridge="br0", on=True),
        AddAddress(subject="h1/eth0", host=H, name="eth0", address="10.0.0.3/24"),
        DelAddress(subject="h1/eth0", host=H, name="eth0", address="10.0.0.2/24"),
        AddNeighbor(subject="h1/eth0", host=H, name="eth0", address="10.0.0.7", mac="02:00:00:00:00:07"),
        DelNeighbor(subject="h1/eth0", host=H, name="eth0", address="10.0.0.1", mac="02:00:00:00:00:01"),
        AddRoute(subject="h1/eth0", host=H, name="eth0", to="0.0.0.0/0", via="10.0.0.1"),
        DelRoute(subject="h1/eth0", host=H, name="eth0", to="10.9.0.0/16", via="10.0.0.1"),
        SetLinkUp(subject="h1/mv0", host=H, name="mv0"),
        SetLinkDown(subject="h1/port1", host=H, name="port1"),
        SetForwarding(subject="h1", host=H, on=True, old=False),
    ]


def normal(state: LiveState) -> dict:
    """State as comparable data: order of links and L3 entries does not matter."""
    d = state.to_dict()
    for h in d["hosts"].values():
        for ns in h["namespaces"].values():
            for k in ns:
                if isinstance(ns[k], list):
                    ns[k] = sorted(ns[k], key=lambda x: json.dumps(x, sort_keys=True))
    return d


def test_every_op_type_has_a_sample():
    assert {type(op) for op in sample_ops()} == set(OP_TYPES.values())


@pytest.mark.parametrize("op", sample_ops(), ids=lambda op: op.kind)
def test_inverse_undoes_the_op(op):
    before = start_state()
    after = simulate(before, [op])
    assert normal(after) != normal(before), "the sample op should change something"
    assert normal(simulate(after, [op.inverse()])) == normal(before)


@pytest.mark.parametrize("op", sample_ops(), ids=lambda op: op.kind)
def test_inverse_of_inverse_is_the_op(op):
    assert op.inverse().inverse() == op
    assert op.inverse().subject == op.subject


@pytest.mark.parametrize("op", sample_ops(), ids=lambda op: op.kind)
def test_round_trip_through_plain_data(op):
    d = op.to_dict()
    assert d["op"] == op.kind and d["key"] == op.key
    json.dumps(d)
    assert op_from_dict(json.loads(json.dumps(d))) == op


@pytest.mark.parametrize("op", sample_ops(), ids=lambda op: op.kind)
def test_round_trip_through_the_journal_record(op):
    rec = op.to_record()
    assert rec["op"] == op.kind and "key" not in rec
    assert op_from_dict(json.loads(json.dumps(rec))) == op
    full = op.to_dict()
    # only fields at their default are left out, and every one of them is
    assert all(full[k] == v for k, v in rec.items() if k != "op" and not isinstance(v, dict))
    at_default = {f.name for f in dataclasses.fields(op)
                  if f.default is not dataclasses.MISSING and getattr(op, f.name) == f.default}
    assert {k for k in full if k not in rec and k != "key"} == at_default


def test_journal_record_keeps_a_value_that_differs_from_the_default():
    op = CreateMacvlan(subject="h/mv0", host="h", name="mv0", link="eth0", mode="vepa", mtu=1400, nopromisc=True)
    rec = op.to_record()
    assert rec["mtu"] == 1400 and rec["nopromisc"] is True and "mac" not in rec and "ns" not in rec
    assert op_from_dict(rec) == op


@pytest.mark.parametrize("op", sample_ops(), ids=lambda op: op.kind)
def test_describe_names_the_design_object(op):
    line = op.describe()
    assert line.startswith(op.subject + ": ") and "\n" not in line


def test_keys_are_unique_and_stable():
    ops = sample_ops()
    assert len({op.key for op in ops}) == len(ops)
    assert [op.key for op in ops] == [op.key for op in sample_ops()]
    a = AddAddress(subject="x", host=H, name="eth0", address="10.0.0.3/24")
    b = AddAddress(subject="y", host=H, name="eth0", address="10.0.0.3/24")
    assert a.key == b.key, "the key is what the op does, not who asked"


def test_change_ops_without_old_value_are_not_invertible():
    with pytest.raises(NotInvertible):
        SetMtu(subject="x", host=H, name="eth0", mtu=9000).inverse()
    with pytest.raises(NotInvertible):
        DeleteLink(subject="x", host=H, name="eth0").inverse()


def test_macvlan_mode_is_always_explicit():
    with pytest.raises(ValueError):
        CreateMacvlan(subject="x", host=H, name="m", link="eth0", mode="")


def test_ownership_alias_round_trip():
    alias = owner_alias("lab one", "h1/ns:web/eth0")
    assert alias == "mvplan:lab one:h1/ns:web/eth0"
    assert alias_owner(alias, "lab one") == "h1/ns:web/eth0"
    assert alias_owner(alias, "lab") is None
    assert alias_owner(None, "lab one") is None
    assert alias_owner("something else", "lab one") is None


@pytest.mark.parametrize("name", ["line\nbreak", "x" * 200, "#hash"])
def test_ownership_prefix_stays_storable(name):
    prefix = owner_prefix(name)
    assert prefix.startswith("mvplan:#") and len(prefix.encode()) < 40
    assert prefix != owner_prefix(name + "!")
    assert alias_owner(owner_alias(name, "h/eth0"), name) == "h/eth0"


def test_temp_names_fit_ifnamsiz_and_differ():
    a, b = temp_name("h1/ns:web/eth0"), temp_name("h1/ns:db/eth0")
    assert a != b and len(a.encode()) <= 15 and len(b.encode()) <= 15
    assert temp_name("h1/ns:web/eth0") == a


def test_simulation_refuses_what_the_kernel_refuses():
    s = start_state()
    with pytest.raises(SimulationError, match="ENETDOWN"):
        simulate(s, [AddRoute(subject="x", host=H, name="mv0", to="10.1.0.0/24")])
    with pytest.raises(SimulationError, match="EEXIST"):
        simulate(s, [CreateBridge(subject="x", host=H, name="br0")])
    with pytest.raises(SimulationError, match="ENODEV"):
        simulate(s, [SetLinkUp(subject="x", host=H, name="nope")])
    with pytest.raises(SimulationError, match="EINVAL"):
        simulate(s, [SetMode(subject="x", host=H, name="mv0", mode="passthru", old="bridge")])


def test_simulated_delete_takes_veth_peer_and_children_along():
    s = start_state()
    gone = simulate(s, [DeleteLink(subject="x", host=H, name="eth0")])
    names = {lk.name for lk in gone.host(H).ns("").links}
    assert "eth0" not in names and "mv0" not in names
    gone = simulate(s, [DeleteLink(subject="x", host=H, name="port1")])
    assert gone.host(H).ns("web").link("peer1") is None


# --------------------------------------------------------------------------- what the kernel flushes
def _l3(state: LiveState, ns: str = "") -> tuple[list, list, list]:
    n = state.host(H).ns(ns)
    return (sorted(a.address for a in n.addresses), sorted((r.dev, r.to) for r in n.routes),
            sorted((x.dev, x.address) for x in n.neighbors))


def _with_mv0_l3(state: LiveState) -> LiveState:
    """start_state() plus an address, a route and a permanent neighbour on mv0 (up)."""
    h = state.host(H)
    root = h.ns("")
    root = LiveNamespace(name="", links=tuple(replace(lk, state="up") if lk.name == "mv0" else lk for lk in root.links),
                         addresses=root.addresses + (LiveAddress("mv0", "10.5.0.2/24"),),
                         routes=root.routes + (LiveRoute("mv0", "10.6.0.0/16", "10.5.0.1"),),
                         neighbors=root.neighbors + (LiveNeighbor("mv0", "10.5.0.1", "02:00:00:00:05:01"),))
    return LiveState(hosts=(LiveHost(name=H, namespaces=(root,) + h.namespaces[1:]),))


def test_removing_the_last_ipv4_address_flushes_routes_and_neighbours():
    s = _with_mv0_l3(start_state())
    gone = simulate(s, [DelAddress(subject="x", host=H, name="mv0", address="10.5.0.2/24")])
    addrs, routes, neigh = _l3(gone)
    assert "10.5.0.2/24" not in addrs
    assert ("mv0", "10.6.0.0/16") not in routes and ("mv0", "10.5.0.1") not in neigh, "mv0 is flushed"
    assert ("eth0", "10.9.0.0/16") in routes and ("eth0", "10.0.0.1") in neigh, "other links keep theirs"
    # not the last one: nothing is flushed (the route's gateway stays, even off-subnet)
    kept = simulate(s, [DelAddress(subject="x", host=H, name="eth0", address="10.0.0.2/24")])
    assert ("eth0", "10.9.0.0/16") in _l3(kept)[1] and ("eth0", "10.0.0.1") in _l3(kept)[2]
    gone = simulate(kept, [DelAddress(subject="x", host=H, name="eth0", address="192.168.7.2/24")])
    assert ("eth0", "10.9.0.0/16") not in _l3(gone)[1] and ("eth0", "10.0.0.1") not in _l3(gone)[2]


def test_deleting_a_primary_address_deletes_its_secondaries():
    s = simulate(start_state(), [AddAddress(subject="x", host=H, name="eth0", address="10.0.0.99/24")])
    # 10.0.0.99/24 is a secondary of 10.0.0.2/24 (promote_secondaries=0, the kernel default)
    after = simulate(s, [DelAddress(subject="x", host=H, name="eth0", address="10.0.0.2/24")])
    assert _l3(after)[0] == ["192.168.7.2/24"]
    # secondaries first is safe under either setting
    after = simulate(s, [DelAddress(subject="x", host=H, name="eth0", address="10.0.0.99/24"),
                         DelAddress(subject="x", host=H, name="eth0", address="10.0.0.2/24")])
    assert _l3(after)[0] == ["192.168.7.2/24"]


def test_link_down_flushes_routes_and_neighbours_but_keeps_addresses():
    s = _with_mv0_l3(start_state())
    down = simulate(s, [SetLinkDown(subject="x", host=H, name="mv0")])
    addrs, routes, neigh = _l3(down)
    assert "10.5.0.2/24" in addrs and ("mv0", "10.6.0.0/16") not in routes and ("mv0", "10.5.0.1") not in neigh
    # a permanent entry added while down stays: down on a down link is no change, so no flush
    again = simulate(down, [AddNeighbor(subject="x", host=H, name="mv0", address="10.5.0.9", mac="02:00:00:00:05:09"),
                            SetLinkDown(subject="x", host=H, name="mv0")])
    assert ("mv0", "10.5.0.9") in _l3(again)[2]


def test_mac_change_flushes_neighbours_only():
    s = _with_mv0_l3(start_state())
    after = simulate(s, [SetMac(subject="x", host=H, name="mv0", mac="02:00:00:00:00:77", old=MV0.mac)])
    assert ("mv0", "10.5.0.1") not in _l3(after)[2] and ("mv0", "10.6.0.0/16") in _l3(after)[1]
    same = simulate(s, [SetMac(subject="x", host=H, name="mv0", mac=MV0.mac.upper(), old=MV0.mac)])
    assert ("mv0", "10.5.0.1") in _l3(same)[2]


def test_route_gateway_must_be_on_the_link():
    s = _with_mv0_l3(start_state())
    off = AddRoute(subject="x", host=H, name="mv0", to="10.7.0.0/16", via="10.0.0.1")
    with pytest.raises(SimulationError, match="ENETUNREACH"):
        simulate(s, [off])
    assert ("mv0", "10.7.0.0/16") in _l3(simulate(s, [off], gateways=False))[1]
    # reachable through a route without a gateway on the same link
    s2 = simulate(s, [AddRoute(subject="x", host=H, name="mv0", to="10.0.0.0/30"), off])
    assert ("mv0", "10.7.0.0/16") in _l3(s2)[1]
