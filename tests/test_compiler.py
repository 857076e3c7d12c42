"""The compiler: deterministic plans, dependency order, diffs against live state, ownership."""
from __future__ import annotations

import copy
import json
import random
from dataclasses import replace
from pathlib import Path

import pytest

from planner.core.compiler import Plan, assumed_state, compile_plan, expected_state, simulate
from planner.core.errors import CompileError
from planner.core.livestate import LiveHost, LiveLink, LiveNamespace, LiveNeighbor, LiveRoute, LiveState, compare
from planner.core.model import design_from_dict, load_design, parse_design_text
from planner.core.ops import (
    AddAddress,
    AddRoute,
    CreateMacvlan,
    CreateNamespace,
    DelAddress,
    DeleteLink,
    MoveToNamespace,
    SetAlias,
    SetHairpin,
    SetLinkDown,
    SetLinkUp,
    owner_alias,
)

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
KITCHEN = ROOT / "tests" / "golden" / "kitchen-sink.yaml"
DESIGNS = EXAMPLES + [KITCHEN]


def doc(children=None, parents=None, bridges=None, name="t"):
    return {"name": name, "hosts": [{
        "name": "h",
        "parents": parents if parents is not None else [{"name": "eth0", "uplink": {"switch": "sw", "port": "p1"}}],
        "children": children if children is not None else [
            {"name": "a0", "parent": "eth0", "mode": "bridge", "namespace": "a", "addresses": ["10.0.0.11/24"]},
            {"name": "b0", "parent": "eth0", "mode": "bridge", "namespace": "b", "addresses": ["10.0.0.12/24"]},
        ],
        **({"bridges": bridges} if bridges else {})}],
        "switches": [{"name": "sw", "ports": [{"name": "p1"}]}]}


def kinds(plan: Plan) -> list[str]:
    return [op.kind for op in plan.ops]


def pos(plan: Plan, pred) -> int:
    return next(n for n, op in enumerate(plan.ops) if pred(op))


def apply(design, live=None):
    """Compile, then replay on the live state: (plan, resulting state)."""
    live = live or assumed_state(design)
    plan = compile_plan(design, live)
    return plan, simulate(live, plan.ops)


# --------------------------------------------------------------------------- whole designs
@pytest.mark.parametrize("path", DESIGNS, ids=lambda p: p.name)
def test_plan_is_executable_and_idempotent(path):
    d = load_design(path)
    plan, after = apply(d)  # simulate raises on anything the kernel would refuse
    assert plan.ops
    assert compile_plan(d, after).ops == (), "a second compile against the result must be empty"
    assert compare(expected_state(d), after) == []


@pytest.mark.parametrize("path", DESIGNS, ids=lambda p: p.name)
def test_compile_against_expected_state_is_empty(path):
    d = load_design(path)
    assert compile_plan(d, expected_state(d)).ops == ()


@pytest.mark.parametrize("path", DESIGNS, ids=lambda p: p.name)
def test_teardown_returns_to_the_start(path):
    d = load_design(path)
    plan, after = apply(d)
    back = simulate(after, plan.inverse().ops)
    start = assumed_state(d)
    for h in start.hosts:
        bh = back.host(h.name)
        assert [n.name for n in bh.namespaces] == [""], "created namespaces are deleted"
        assert sorted(lk.name for lk in bh.ns("").links) == sorted(lk.name for lk in h.ns("").links)
        assert bh.ns("").addresses == () and bh.ns("").routes == () and bh.ns("").neighbors == ()
        assert all(lk.master is None for lk in bh.ns("").links)


@pytest.mark.parametrize("path", DESIGNS, ids=lambda p: p.name)
def test_same_design_same_plan(path):
    a = compile_plan(load_design(path))
    b = compile_plan(load_design(path))
    assert a.to_dict() == b.to_dict()
    assert len({op.key for op in a.ops}) == len(a.ops)


def _shuffle_mappings(value, rng):
    if isinstance(value, dict):
        items = list(value.items())
        rng.shuffle(items)
        return {k: _shuffle_mappings(v, rng) for k, v in items}
    if isinstance(value, list):
        return [_shuffle_mappings(v, rng) for v in value]
    return value


@pytest.mark.parametrize("seed", range(5))
def test_key_order_of_the_document_does_not_matter(seed):
    raw = parse_design_text(KITCHEN.read_text(), KITCHEN.name)
    shuffled = _shuffle_mappings(copy.deepcopy(raw), random.Random(seed))
    assert compile_plan(design_from_dict(shuffled)).to_dict() == compile_plan(design_from_dict(raw)).to_dict()


def test_live_link_order_does_not_matter():
    d = load_design(KITCHEN)
    exp = expected_state(d)
    h = exp.hosts[0]
    rev = LiveHost(name=h.name, namespaces=tuple(
        replace(n, links=tuple(reversed(n.links))) for n in reversed(h.namespaces)))
    stale = LiveLink(name="old0", kind="macvlan", mode="bridge", link="eth0", link_ns="",
                     alias=owner_alias(d.name, "host1/old0"))
    a = compile_plan(d, LiveState(hosts=(replace(h, namespaces=(replace(h.namespaces[0], links=h.namespaces[0].links +
                                                                         (stale,)),) + h.namespaces[1:]),)))
    b = compile_plan(d, LiveState(hosts=(replace(rev, namespaces=tuple(
        replace(n, links=(stale,) + n.links) if n.name == "" else n for n in rev.namespaces)),)))
    assert a.to_dict() == b.to_dict() and kinds(a) == ["delete-link"]


def test_plan_data():
    p = compile_plan(load_design(ROOT / "examples" / "vepa-hairpin.yaml"))
    d = json.loads(json.dumps(p.to_dict()))
    assert d["design"] == "vepa-hairpin" and len(d["ops"]) == len(p)
    assert p.summary() == {"create-namespace": 2, "create-macvlan": 2, "set-alias": 2, "move-to-namespace": 2,
                           "add-address": 2, "set-link-up": 5}  # 2 of them: the new namespaces' loopback
    assert p.hosts == ["host1"] and len(p.for_host("host1")) == len(p) and not p.for_host("nope")


# --------------------------------------------------------------------------- order
def test_namespaced_child_is_created_marked_moved_then_configured():
    p = compile_plan(design_from_dict(doc()))
    create = pos(p, lambda o: isinstance(o, CreateMacvlan) and o.subject == "h/ns:a/a0")
    alias = pos(p, lambda o: isinstance(o, SetAlias) and o.subject == "h/ns:a/a0")
    ns = pos(p, lambda o: isinstance(o, CreateNamespace) and o.name == "a")
    move = pos(p, lambda o: isinstance(o, MoveToNamespace) and o.subject == "h/ns:a/a0")
    addr = pos(p, lambda o: isinstance(o, AddAddress) and o.subject == "h/ns:a/a0")
    up = pos(p, lambda o: isinstance(o, SetLinkUp) and o.subject == "h/ns:a/a0")
    assert ns < move and create < alias < move < addr < up
    op = p.ops[create]
    assert op.ns == "" and op.name != "a0" and op.mode == "bridge" and op.link == "eth0"
    assert p.ops[move].new_name == "a0" and p.ops[move].target_ns == "a"
    assert p.ops[alias].alias == "mvplan:t:h/ns:a/a0"


def test_addresses_and_links_up_follow_design_order():
    children = [{"name": f"c{k}", "parent": "eth0", "mode": "bridge", "namespace": "shared",
                 "addresses": [f"10.0.{k}.1/16"]} for k in (3, 1, 2)]
    p = compile_plan(design_from_dict(doc(children=children)), check=False)
    assert [o.name for o in p.ops if isinstance(o, AddAddress)] == ["c3", "c1", "c2"]
    assert [o.name for o in p.ops if isinstance(o, SetLinkUp) and o.name != "lo"] == ["eth0", "c3", "c1", "c2"]
    last_addr = max(n for n, o in enumerate(p.ops) if isinstance(o, AddAddress))
    first_up = min(n for n, o in enumerate(p.ops) if isinstance(o, SetLinkUp))
    assert last_addr < first_up


def test_routes_after_the_link_is_up():
    children = [{"name": "a0", "parent": "eth0", "mode": "bridge", "addresses": ["10.0.0.11/24"],
                 "routes": [{"to": "default", "via": "10.0.0.1"}]}]
    p = compile_plan(design_from_dict(doc(children=children)))
    assert pos(p, lambda o: isinstance(o, SetLinkUp) and o.name == "a0") < pos(p, lambda o: isinstance(o, AddRoute))
    assert p.ops[-1].to == "0.0.0.0/0" and p.ops[-1].via == "10.0.0.1"


def test_macvlan_on_macvlan_is_created_on_the_declared_parent_after_it():
    d = load_design(KITCHEN)
    p = compile_plan(d)
    outer = pos(p, lambda o: isinstance(o, CreateMacvlan) and o.subject == "host1/outer0")
    inner = pos(p, lambda o: isinstance(o, CreateMacvlan) and o.subject == "host1/ns:nested/inner0")
    assert outer < inner and p.ops[inner].link == "outer0"
    assert expected_state(d).host("host1").ns("nested").link("inner0").link == "eth0", "the kernel re-parents"


def test_veth_parent_is_created_before_its_children():
    p = compile_plan(load_design(KITCHEN))
    veth = pos(p, lambda o: o.kind == "create-veth" and "vparent" in (o.name, o.peer))
    kid = pos(p, lambda o: isinstance(o, CreateMacvlan) and o.link == "vparent")
    assert veth < kid


def test_bridge_port_hairpin_after_enslaving():
    p = compile_plan(load_design(KITCHEN))
    for hp in (o for o in p.ops if isinstance(o, SetHairpin)):
        sp = pos(p, lambda o, port=hp.name: o.kind == "set-bridge-port" and o.name == port)
        assert sp < p.ops.index(hp) and hp.on


def test_passthru_child_lets_the_kernel_choose_mac_and_mtu():
    p = compile_plan(load_design(KITCHEN))
    pt = next(o for o in p.ops if isinstance(o, CreateMacvlan) and o.mode == "passthru")
    assert pt.mac is None and pt.mtu is None and pt.nopromisc


def test_parent_with_state_down_stays_down():
    parents = [{"name": "eth0", "state": "down", "uplink": {"switch": "sw", "port": "p1"}}]
    d = design_from_dict(doc(parents=parents))
    p = compile_plan(d, check=False)
    assert not any(isinstance(o, SetLinkUp) and o.name == "eth0" for o in p.ops)
    live = LiveState(hosts=(LiveHost("h", (LiveNamespace("", (LiveLink("eth0", state="up"),)),)),))
    p2 = compile_plan(d, live, check=False)
    assert any(isinstance(o, SetLinkDown) and o.name == "eth0" for o in p2.ops)


def test_check_errors_stop_the_compiler():
    children = [{"name": "a0", "parent": "eth0", "mode": "passthru"},
                {"name": "b0", "parent": "eth0", "mode": "bridge"}]
    with pytest.raises(CompileError) as exc:
        compile_plan(design_from_dict(doc(children=children)))
    assert "MV101" in str(exc.value) and {f.code for f in exc.value.findings} == {"MV101"}
    assert compile_plan(design_from_dict(doc(children=children)), check=False).ops


def test_hosts_filter_and_live_restrict_the_plan():
    d = design_from_dict({"hosts": [
        {"name": "h1", "parents": [{"name": "eth0"}], "children": [{"name": "m", "parent": "eth0"}]},
        {"name": "h2", "parents": [{"name": "eth0"}], "children": [{"name": "m", "parent": "eth0"}]}]})
    assert compile_plan(d).hosts == ["h1", "h2"]
    assert compile_plan(d, hosts=["h2"]).hosts == ["h2"]
    live = LiveState(hosts=(LiveHost("h2", (LiveNamespace("", (LiveLink("eth0"),)),)),))
    assert compile_plan(d, live).hosts == ["h2"]


# --------------------------------------------------------------------------- diffs
def test_changed_mode_is_changed_in_place():
    before = design_from_dict(doc())
    _, live = apply(before)
    new = doc()
    new["hosts"][0]["children"][0]["mode"] = "vepa"
    p = compile_plan(design_from_dict(new), live)
    assert kinds(p) == ["set-mode"] and p.ops[0].old == "bridge" and p.ops[0].ns == "a"
    assert compile_plan(design_from_dict(new), simulate(live, p.ops)).ops == ()


def test_change_to_passthru_rebuilds_the_child():
    _, live = apply(design_from_dict(doc()))
    new = doc(children=[doc()["hosts"][0]["children"][0] | {"mode": "passthru"}])
    d = design_from_dict(new)
    p = compile_plan(d, live)
    assert kinds(p)[:2] == ["delete-link", "delete-link"]  # a0 rebuilt, b0 removed
    assert {o.name for o in p.ops if isinstance(o, DeleteLink)} == {"a0", "b0"}
    assert any(isinstance(o, CreateMacvlan) and o.mode == "passthru" for o in p.ops)
    assert compile_plan(d, simulate(live, p.ops)).ops == ()


def test_removed_child_is_deleted_and_nothing_else():
    _, live = apply(design_from_dict(doc()))
    new = doc(children=doc()["hosts"][0]["children"][:1])
    p = compile_plan(design_from_dict(new), live)
    assert kinds(p) == ["delete-link"]
    op = p.ops[0]
    assert (op.ns, op.name, op.subject) == ("b", "b0", "h/ns:b/b0")
    assert isinstance(op.recreate, CreateMacvlan) and op.recreate.netns == "b"


def test_changed_address_is_swapped():
    _, live = apply(design_from_dict(doc()))
    new = doc()
    new["hosts"][0]["children"][1]["addresses"] = ["10.0.0.99/24"]
    p = compile_plan(design_from_dict(new), live)
    assert [(o.kind, o.address) for o in p.ops] == [("del-address", "10.0.0.12/24"), ("add-address", "10.0.0.99/24")]
    assert isinstance(p.ops[0], DelAddress) and p.ops[0].ns == "b"


def test_unmarked_links_are_never_deleted():
    d = design_from_dict(doc())
    _, live = apply(d)
    h = live.host("h")
    foreign = (LiveLink("docker0", kind="bridge", state="up"),
               LiveLink("user0", kind="macvlan", mode="bridge", link="eth0", link_ns=""),
               LiveLink("other0", kind="macvlan", mode="bridge", link="eth0", link_ns="",
                        alias=owner_alias("another design", "h/other0")))
    live2 = LiveState(hosts=(replace(h, namespaces=tuple(
        replace(n, links=n.links + foreign) if n.name == "" else n for n in h.namespaces)),))
    assert compile_plan(d, live2).ops == ()
    # even when the design is emptied, only its own links go
    p = compile_plan(design_from_dict(doc(children=[])), live2)
    assert {o.name for o in p.ops if isinstance(o, DeleteLink)} == {"a0", "b0"}


def test_foreign_link_in_the_way_is_an_error_not_a_delete():
    d = design_from_dict(doc())
    live = LiveState(hosts=(LiveHost("h", (LiveNamespace("", (LiveLink("eth0"),)),
                                           LiveNamespace("a", (LiveLink("a0", kind="veth"),)))),))
    with pytest.raises(CompileError, match="a0.*mvplan did not create it"):
        compile_plan(d, live)


def test_existing_unmarked_link_that_matches_is_used_as_is():
    d = design_from_dict(doc())
    exp = expected_state(d)
    h = exp.host("h")
    unmarked = LiveState(hosts=(replace(h, namespaces=tuple(
        replace(n, links=tuple(replace(lk, alias=None) for lk in n.links)) for n in h.namespaces)),))
    assert compile_plan(d, unmarked).ops == ()


def test_missing_nic_is_an_error():
    d = design_from_dict(doc())
    live = LiveState(hosts=(LiveHost("h", (LiveNamespace(""),)),))
    with pytest.raises(CompileError, match="eth0.*does not exist"):
        compile_plan(d, live)


def test_hairpin_changed_on_a_bridge_port():
    d = load_design(KITCHEN)
    _, live = apply(d)
    raw = parse_design_text(KITCHEN.read_text(), KITCHEN.name)
    raw["hosts"][0]["bridges"][0]["ports"][0]["hairpin"] = False
    d2 = design_from_dict(raw)
    p = compile_plan(d2, live)
    assert [(o.kind, o.name, o.on) for o in p.ops] == [("set-hairpin", "vp0", False)]


def test_bridge_removed_with_its_ports():
    d = load_design(KITCHEN)
    _, live = apply(d)
    raw = parse_design_text(KITCHEN.read_text(), KITCHEN.name)
    host = raw["hosts"][0]
    del host["bridges"]
    host["parents"] = [p for p in host["parents"] if p["name"] != "vparent"]
    host["children"] = [c for c in host["children"] if c["parent"] != "vparent"]
    d2 = design_from_dict(raw)
    p = compile_plan(d2, live)
    deleted = {o.name for o in p.ops if isinstance(o, DeleteLink)}
    assert {"br0", "priv0", "priv1"} <= deleted and "eth2" not in deleted
    # priv0/priv1 go before their lower device; a veth pair is deleted once
    after = simulate(live, p.ops)
    assert compile_plan(d2, after).ops == ()
    assert after.host("host1").ns("").link("eth2").master is None


def test_routes_on_a_down_interface_are_noted_not_planned():
    children = [{"name": "a0", "parent": "eth0", "mode": "bridge", "state": "down", "addresses": ["10.0.0.11/24"],
                 "routes": [{"to": "default", "via": "10.0.0.1"}]}]
    p = compile_plan(design_from_dict(doc(children=children)), check=False)
    assert not any(isinstance(o, AddRoute) for o in p.ops)
    assert any("routes not planned" in n for n in p.notes)


def test_diff_plan_inverse_restores_the_previous_state():
    _, live = apply(design_from_dict(doc()))
    new = doc()
    new["hosts"][0]["children"][0]["mode"] = "vepa"
    new["hosts"][0]["children"][1]["addresses"] = ["10.0.0.99/24"]
    p = compile_plan(design_from_dict(new), live)
    after = simulate(live, p.ops)
    back = simulate(after, p.inverse().ops)
    assert compare(expected_state(design_from_dict(doc())), back) == []


@pytest.mark.parametrize("path", DESIGNS, ids=lambda p: p.name)
def test_teardown_from_live_state_removes_only_what_is_ours(path):
    from planner.core.compiler import compile_teardown

    d = load_design(path)
    _, live = apply(d)
    # something that is not ours, in the host namespace and in a namespace of the design
    h = live.hosts[0]
    nss = list(h.namespaces)
    nss[0] = replace(nss[0], links=nss[0].links + (LiveLink("user0", kind="bridge", state="up"),))
    kept_ns = nss[1].name if len(nss) > 1 else None
    if kept_ns is not None:
        nss[1] = replace(nss[1], links=nss[1].links + (LiveLink("lo", state="up"), LiveLink("tap9", kind="tun")))
    live = replace(live, hosts=(replace(h, namespaces=tuple(nss)),) + live.hosts[1:])
    plan = compile_teardown(d, live)
    assert all(not isinstance(o, (SetLinkDown, CreateMacvlan)) for o in plan.ops)
    after = simulate(live, plan.ops)
    for hh in after.hosts:
        assert not [lk for _, lk in hh.iter_links() if lk.alias and lk.alias.startswith(f"mvplan:{d.name}:")]
        root = hh.ns("")
        assert root.addresses == () and root.routes == () and root.neighbors == ()
    assert after.hosts[0].ns("").link("user0") is not None
    if kept_ns is not None:
        assert after.hosts[0].ns(kept_ns).link("tap9") is not None
        assert any("namespace kept" in n for n in plan.notes)
    assert compile_teardown(d, after).ops == (), "a second teardown has nothing left to do"


# --------------------------------------------------------------------------- what the kernel flushes
GW_MAC = "02:00:00:00:00:01"


def l3_doc(parents=None, **b0):
    """doc() where b0 (namespace b) has a static neighbour for its gateway and a route through it."""
    d = doc(parents=parents)
    d["hosts"][0]["children"][1].update(neighbors=[{"address": "10.0.0.1", "mac": GW_MAC}],
                                        routes=[{"to": "10.99.0.0/16", "via": "10.0.0.1"}])
    d["hosts"][0]["children"][1].update(b0)
    return d


def one_apply_verifies(old: dict, new: dict, live=None, check: bool = True):
    """Apply ``old``, plan ``new`` against the result, replay it: one apply must verify clean and
    leave nothing for a second one. Returns (plan, state before, state after)."""
    if live is None:
        _, live = apply(design_from_dict(old))
    d = design_from_dict(new)
    p = compile_plan(d, live, check=check)
    after = simulate(live, p.ops)  # also raises when an op would find its entry already flushed
    assert compare(expected_state(d), after) == [], "one apply must verify clean"
    assert compile_plan(d, after, check=check).ops == (), "a second apply must have nothing to do"
    return p, live, after


@pytest.mark.parametrize("address,gw", [("10.0.0.99/24", "10.0.0.1"), ("10.1.0.12/24", "10.1.0.1")],
                         ids=["same-subnet", "new-subnet"])
def test_address_change_replans_what_removing_the_last_address_flushes(address, gw):
    old = l3_doc()
    new = l3_doc(addresses=[address], neighbors=[{"address": gw, "mac": GW_MAC}],
                 routes=[{"to": "10.99.0.0/16", "via": gw}])
    p, live, after = one_apply_verifies(old, new)
    assert [(o.kind, o.name) for o in p.ops] == [
        ("del-route", "b0"), ("del-neighbor", "b0"), ("del-address", "b0"),  # before the flush
        ("add-address", "b0"), ("add-neighbor", "b0"), ("add-route", "b0")]  # after, gateway reachable
    back = simulate(after, p.inverse().ops)
    assert compare(expected_state(design_from_dict(old)), back) == [], "the inverse puts back what was flushed"


def test_dropping_the_primary_address_keeps_the_secondary():
    old = l3_doc(addresses=["10.0.0.12/24", "10.0.0.13/24"])
    p, _, _ = one_apply_verifies(old, l3_doc(addresses=["10.0.0.13/24"]))
    assert [(o.kind, getattr(o, "address", None)) for o in p.ops if "address" in o.kind] == [
        ("del-address", "10.0.0.13/24"), ("del-address", "10.0.0.12/24"), ("add-address", "10.0.0.13/24")]
    p, _, _ = one_apply_verifies(old, l3_doc(addresses=["10.0.0.12/24"]))
    assert kinds(p) == ["del-address"], "a secondary goes alone; the link keeps an address, nothing is flushed"


def test_mac_change_re_adds_static_neighbours():
    p, _, _ = one_apply_verifies(l3_doc(mac="02:00:00:00:0b:01"), l3_doc(mac="02:00:00:00:0b:02"))
    assert kinds(p) == ["del-neighbor", "set-mac", "add-neighbor"]


def test_link_taken_down_keeps_its_static_neighbours_and_what_is_not_ours():
    nic = {"name": "eth0", "uplink": {"switch": "sw", "port": "p1"}, "addresses": ["10.0.0.2/24"],
           "neighbors": [{"address": "10.0.0.1", "mac": GW_MAC}], "routes": [{"to": "10.98.0.0/16", "via": "10.0.0.1"}]}
    _, live = apply(design_from_dict(doc(parents=[nic])))
    h = live.host("h")
    root = h.ns("")
    foreign = replace(root, neighbors=root.neighbors + (LiveNeighbor("eth0", "10.0.0.7", "02:00:00:00:00:07"),),
                      routes=root.routes + (LiveRoute("eth0", "10.97.0.0/16", "10.0.0.1"),))
    live = LiveState(hosts=(replace(h, namespaces=(foreign,) + h.namespaces[1:]),))
    p, _, after = one_apply_verifies(None, doc(parents=[nic | {"state": "down"}]), live=live, check=False)
    eth0 = [(o.kind, getattr(o, "address", None) or getattr(o, "to", None)) for o in p.ops if o.name == "eth0"]
    assert eth0 == [("del-route", "10.98.0.0/16"), ("del-route", "10.97.0.0/16"), ("del-neighbor", "10.0.0.1"),
                    ("del-neighbor", "10.0.0.7"), ("set-link-down", None), ("add-neighbor", "10.0.0.1"),
                    ("add-neighbor", "10.0.0.7")]
    neigh = {(n.dev, n.address) for n in after.host("h").ns("").neighbors}
    assert neigh == {("eth0", "10.0.0.1"), ("eth0", "10.0.0.7")}, "ours and the one that is not are both back"
    assert any("10.97.0.0/16 via 10.0.0.1 (not from this design) cannot be put back" in n for n in p.notes)


def test_flushing_ops_come_after_removals_and_before_additions():
    """The order holds by dependency, not by phase: shuffled input gives the same plan."""
    from planner.core.compiler.order import order_ops as _order

    _, live = apply(design_from_dict(l3_doc(mac="02:00:00:00:0b:01")))
    d = design_from_dict(l3_doc(mac="02:00:00:00:0b:02", addresses=["10.0.0.99/24"]))
    p = compile_plan(d, live)
    assert kinds(p) == ["del-route", "del-neighbor", "del-address", "set-mac", "add-address", "add-neighbor",
                        "add-route"]
    flat = {op.key: (0, 0, 0, 0) for op in p.ops}  # no tie-break help from phases
    for seed in range(5):
        ops = list(p.ops)
        random.Random(seed).shuffle(ops)
        simulate(live, _order(ops, flat, {}))


@pytest.mark.kernel
def test_each_change_verifies_after_one_apply_in_the_kernel(lab_prereqs, tmp_path):
    """The real kernel flushes what the simulator says (promote_secondaries as the host has it):
    after every change below, one apply of the netlink applier verifies and a second has nothing
    to do."""
    from planner.lab.scratch import Scratch
    from planner.netlink.apply import apply as nl_apply

    def step(**changes):
        d = l3_doc(**changes.get("b0", {}), parents=changes.get("parents"))
        d["hosts"][0]["children"][0] |= {"mac": changes.get("a0_mac", "02:00:00:00:0a:01"),
                                         "neighbors": [{"address": "10.0.0.1", "mac": GW_MAC}]}
        return design_from_dict(d)

    nic = {"name": "eth0", "uplink": {"switch": "sw", "port": "p1"}, "addresses": ["10.0.0.2/24"],
           "neighbors": [{"address": "10.0.0.1", "mac": GW_MAC}]}
    steps = [
        ("start", step(b0={"addresses": ["10.0.0.12/24", "10.0.0.13/24"]})),
        ("primary dropped, a0 MAC changed", step(b0={"addresses": ["10.0.0.13/24"]}, a0_mac="02:00:00:00:0a:02")),
        ("last address replaced", step(b0={"addresses": ["10.0.0.99/24"]})),
        ("NIC with a neighbour", step(parents=[nic])),
        ("NIC taken down", step(parents=[nic | {"state": "down"}])),
    ]
    with Scratch() as s:
        n = s.add("h")
        s.ip(n, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0-x")
        s.ip(n, "link", "set", "eth0-x", "up")
        for what, d in steps:
            res = nl_apply(d, netns=n, yes=True, run_dir_path=tmp_path, use_stamp=False)
            assert res.ok and res.verified, (what, res.error, res.mismatches)
            again = nl_apply(d, netns=n, yes=True, run_dir_path=tmp_path, use_stamp=False)
            assert again.ok and again.plan.ops == (), (what, [o.describe() for o in again.plan.ops])


def test_compare_names_every_difference_in_words():
    """Verification's lines: a differing field, a missing link, and missing layer-3 items (as
    plain data with sorted keys); what only the live side has, or fields the design leaves open, are
    not differences."""
    from planner.core.livestate import LiveAddress

    expected = LiveState(hosts=(LiveHost(name="h", namespaces=(LiveNamespace(
        name="", links=(LiveLink(name="a", mode="vepa", mtu=1500), LiveLink(name="b"),
                        LiveLink(name="c", hairpin=False, source_macs=("02:00:00:00:00:02", "02:00:00:00:00:01"))),
        addresses=(LiveAddress("a", "10.0.0.1/24"), LiveAddress("a", "10.0.0.2/24")),
        routes=(LiveRoute("a", "10.9.0.0/16", "10.0.0.254"), LiveRoute("a", "0.0.0.0/0")),
        neighbors=(LiveNeighbor("a", "10.0.0.9", "02:00:00:00:00:09"),)),)),))
    live = LiveState(hosts=(LiveHost(name="h", namespaces=(LiveNamespace(
        name="", links=(LiveLink(name="a", mode="private", mtu=1500, state="up"),
                        LiveLink(name="c", hairpin=None, source_macs=("02:00:00:00:00:01", "02:00:00:00:00:02"))),
        addresses=(LiveAddress("a", "10.0.0.2/24"), LiveAddress("a", "10.0.0.3/24")),
        routes=(LiveRoute("a", "0.0.0.0/0"),)),)),))
    assert compare(expected, live) == [
        "h/a: mode is 'private', expected 'vepa'",
        "h/b: link missing",
        "h: address missing: {'address': '10.0.0.1/24', 'dev': 'a'}",
        "h: route missing: {'dev': 'a', 'to': '10.9.0.0/16', 'via': '10.0.0.254'}",
        "h: neighbor missing: {'address': '10.0.0.9', 'dev': 'a', 'mac': '02:00:00:00:00:09'}",
    ]
    assert compare(live, live) == []
