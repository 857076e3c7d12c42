"""Reachability semantics (the kernel-backed proof lives in tests/kernel/)."""
import pytest

from planner.core.model import design_from_dict
from planner.core.reachability import apply_what_if, explain, predict

MODES = ("bridge", "vepa", "private", "source")


def pair_design(ma, mb, hairpin, neigh=None, parent_addr=False, parent_state="up"):
    def neighbors(me):
        if neigh == "both" or neigh == me:
            return {"neighbors": [{"peer": "ns:nb/b" if me == "a" else "ns:na/a"}]}
        return {}
    return {
        "hosts": [{"name": "h", "parents": [{"name": "eth0", "state": parent_state,
                                             "uplink": {"switch": "sw", "port": "p1"},
                                             **({"addresses": ["10.0.0.1/24"]} if parent_addr else {})}],
                   "children": [
                       {"name": "a", "parent": "eth0", "mode": ma, "namespace": "na", "addresses": ["10.0.0.11/24"],
                        **neighbors("a")},
                       {"name": "b", "parent": "eth0", "mode": mb, "namespace": "nb", "addresses": ["10.0.0.12/24"],
                        **neighbors("b")}]}],
        "switches": [{"name": "sw", "ports": [{"name": "p1", "hairpin": hairpin}, {"name": "p2"}]}],
        "stations": [{"name": "st", "uplink": {"switch": "sw", "port": "p2"}, "addresses": ["10.0.0.254/24"]}],
    }


def reach(doc, a="h/ns:na/a", b="h/ns:nb/b"):
    return predict(design_from_dict(doc)).reachable(a, b)


# (A mode, B mode) -> (no hairpin, hairpin) with dynamic neighbours, A pings B
DYNAMIC = {
    ("bridge", "bridge"): (True, True),
    ("bridge", "vepa"): (False, True),
    ("vepa", "bridge"): (False, True),
    ("vepa", "vepa"): (False, True),
    ("private", "private"): (False, False),
    ("private", "vepa"): (False, False),
    ("vepa", "private"): (False, False),
    ("bridge", "private"): (False, False),
    ("source", "vepa"): (False, False),
    ("vepa", "source"): (False, False),
}


@pytest.mark.parametrize("pair,expected", sorted(DYNAMIC.items()))
def test_mode_pairs_dynamic_neighbours(pair, expected):
    assert (reach(pair_design(*pair, False)), reach(pair_design(*pair, True))) == expected


@pytest.mark.parametrize("ma", ["bridge", "vepa", "private"])
@pytest.mark.parametrize("mb", ["bridge", "vepa", "private"])
def test_static_neighbours_both_ends_plus_hairpin_always_work(ma, mb):
    assert reach(pair_design(ma, mb, True, neigh="both"))
    assert reach(pair_design(ma, mb, False, neigh="both")) == (ma == mb == "bridge")


def test_private_static_on_one_side_is_not_enough():
    assert not reach(pair_design("private", "private", True, neigh="a"))
    assert not reach(pair_design("private", "private", True, neigh="b"))


@pytest.mark.parametrize("mode", ["bridge", "vepa", "private", "source"])
def test_station_reaches_every_listening_child(mode):
    doc = pair_design(mode, "bridge", False)
    if mode == "source":
        doc["hosts"][0]["children"][0]["source_macs"] = ["02:00:00:00:00:fe"]
        doc["stations"][0]["mac"] = "02:00:00:00:00:fe"
    assert reach(doc, "station:st", "h/ns:na/a")
    assert reach(doc, "h/ns:na/a", "station:st")


def test_source_child_needs_the_station_on_its_list():
    doc = pair_design("source", "bridge", False)
    doc["hosts"][0]["children"][0]["source_macs"] = ["02:00:00:00:00:aa"]
    assert not reach(doc, "station:st", "h/ns:na/a")


def test_host_cannot_reach_its_children_without_hairpin():
    for mode in ("bridge", "vepa", "private"):
        assert not reach(pair_design(mode, "bridge", False, parent_addr=True), "h/eth0", "h/ns:na/a")
        assert not reach(pair_design(mode, "bridge", False, parent_addr=True), "h/ns:na/a", "h/eth0")


def test_private_child_to_parent_is_asymmetric_with_hairpin():
    doc = pair_design("private", "bridge", True, parent_addr=True)
    assert reach(doc, "h/eth0", "h/ns:na/a"), "the parent's ARP is a broadcast from outside: delivered"
    assert not reach(doc, "h/ns:na/a", "h/eth0"), "a private child's reflected broadcast goes back to it only"


def test_parent_down_cuts_every_child():
    doc = pair_design("bridge", "bridge", True, parent_state="down")
    p = predict(design_from_dict(doc))
    assert not p.reachable("h/ns:na/a", "h/ns:nb/b")
    assert not p.reachable("station:st", "h/ns:na/a")
    assert p.verdict("h/ns:na/a", "h/ns:nb/b").reason == "SRC_DOWN"


def test_what_if_toggles_without_editing():
    doc = pair_design("vepa", "vepa", False)
    assert not reach(doc)
    assert reach(apply_what_if(doc, hairpin={"switch:sw/p1": True}))
    assert not reach(apply_what_if(doc, hairpin={"switch:sw/p1": True}, down=["h/eth0"]))
    assert doc["switches"][0]["ports"][0]["hairpin"] is False, "the original stays untouched"
    with pytest.raises(ValueError, match="unknown port"):
        apply_what_if(doc, hairpin={"switch:sw/p9": True})


def test_blocked_verdict_explains_and_fixes():
    v = explain(design_from_dict(pair_design("vepa", "vepa", False)), "a", "b")
    assert not v.reachable and v.reason == "ARP_UNANSWERED"
    assert "hairpin off" in v.message and "switch:sw/p1" in v.message
    assert "bridge link set dev p1 hairpin on" in v.fix


def test_same_namespace_is_local():
    doc = pair_design("vepa", "vepa", False)
    doc["hosts"][0]["children"][1]["namespace"] = "na"
    v = predict(design_from_dict(doc)).verdict("h/ns:na/a", "h/ns:na/b")
    assert v.reachable and v.reason == "LOCAL"


def test_different_parents_on_one_switch_need_no_hairpin():
    doc = pair_design("vepa", "vepa", False)
    doc["hosts"][0]["parents"].append({"name": "eth1", "uplink": {"switch": "sw", "port": "p3"}})
    doc["switches"][0]["ports"].append({"name": "p3"})
    doc["hosts"][0]["children"][1]["parent"] = "eth1"
    assert reach(doc)


def test_json_form_gives_every_pair_through_classes():
    doc = pair_design("vepa", "vepa", True)
    for k in range(3, 8):
        doc["hosts"][0]["children"].append({"name": f"c{k}", "parent": "eth0", "mode": "vepa",
                                            "namespace": f"n{k}", "addresses": [f"10.0.0.{20 + k}/24"]})
    p = predict(design_from_dict(doc))
    out = p.to_dict()
    assert out["summary"]["classes"] < len(out["endpoints"])
    cls = {e["id"]: e["class"] for e in out["endpoints"]}
    parent = {e["id"]: e["parent"] for e in out["endpoints"]}
    table = {(v["from"], v["to"], v["same_parent"]): v["reachable"] for v in out["verdicts"]}
    for (a, b), ok in p.matrix().items():
        assert table[(cls[a], cls[b], parent[a] == parent[b])] == ok
    assert sum(v["pairs"] for v in out["verdicts"]) == out["summary"]["pairs"]


def _merged_equals_unmerged(doc):
    d = design_from_dict(doc)
    merged, plain = predict(d), predict(d, merge=False)
    assert merged.matrix() == plain.matrix()
    for (a, b) in list(plain.matrix())[:50]:
        assert merged.verdict(a, b).reason == plain.verdict(a, b).reason


@pytest.mark.parametrize("seed", range(60))
def test_classes_never_change_a_verdict_random(seed):
    from planner.lab.generate import random_design

    _merged_equals_unmerged(random_design(seed))


def test_classes_never_change_a_verdict_at_scale():
    from planner.lab.shapes import scale_design

    _merged_equals_unmerged(scale_design(children=120, parents=6, seed=3))


# --- rows measured on the kernel (see docs/reachability.md, "Kernel evidence") --------------
def test_passthru_child_and_addressed_parent_never_talk():
    doc = pair_design("passthru", "bridge", True, parent_addr=True)
    doc["hosts"][0]["children"].pop(1)
    p = predict(design_from_dict(doc))
    assert not p.reachable("h/eth0", "h/ns:na/a") and not p.reachable("h/ns:na/a", "h/eth0")
    assert p.reachable("station:st", "h/ns:na/a") and p.reachable("h/ns:na/a", "station:st")


def test_source_list_is_one_way_between_siblings():
    doc = pair_design("source", "vepa", True)
    doc["hosts"][0]["children"][1]["mac"] = "02:00:00:00:00:0b"
    doc["hosts"][0]["children"][0]["source_macs"] = ["02:00:00:00:00:0b"]
    assert reach(doc, "h/ns:nb/b", "h/ns:na/a"), "V -> S works: S hears V's ARP through its list"
    assert not reach(doc, "h/ns:na/a", "h/ns:nb/b"), "S -> V fails: a source child's reflected ARP returns to it"


def test_shim_needs_host_routes():
    doc = {
        "hosts": [{"name": "h",
                   "parents": [{"name": "eth0", "addresses": ["10.7.0.1/24"],
                                "uplink": {"switch": "sw", "port": "p1"}}],
                   "children": [{"name": "shim", "parent": "eth0", "mode": "bridge", "addresses": ["10.7.0.2/32"]},
                                {"name": "c", "parent": "eth0", "mode": "bridge", "namespace": "c",
                                 "addresses": ["10.7.0.11/24"]}]}],
        "switches": [{"name": "sw", "ports": [{"name": "p1"}]}],
    }
    assert not reach(doc, "h/shim", "h/ns:c/c"), "V0: the /24 of eth0 wins, the ARP leaves on the wire"
    assert not reach(doc, "h/ns:c/c", "h/shim"), "V0: the reply leaves through eth0"
    doc["hosts"][0]["children"][0]["routes"] = [{"to": "10.7.0.11/32"}]
    for a, b in (("h/shim", "h/ns:c/c"), ("h/ns:c/c", "h/shim"), ("h/eth0", "h/ns:c/c"), ("h/ns:c/c", "h/eth0")):
        assert reach(doc, a, b), f"V3: /32 routes via the shim: {a} -> {b}"


def test_linux_bridge_port_hairpin_for_a_veth_parent():
    def doc(hairpin):
        return {"hosts": [{"name": "h",
                           "parents": [{"name": "p1", "kind": "veth", "uplink": {"bridge": "br1", "port": "b1"}}],
                           "bridges": [{"name": "br1", "addresses": ["10.8.0.254/24"],
                                        "ports": [{"name": "b1", "hairpin": hairpin},
                                                  {"name": "b2", "peer": {"name": "p2", "namespace": "x",
                                                                          "addresses": ["10.8.0.2/24"]}}]}],
                           "children": [{"name": "v", "parent": "p1", "mode": "vepa", "namespace": "v",
                                         "addresses": ["10.8.0.11/24"]},
                                        {"name": "w", "parent": "p1", "mode": "bridge", "namespace": "w",
                                         "addresses": ["10.8.0.12/24"]}]}]}
    off, on = doc(False), doc(True)
    for d, expected in ((off, False), (on, True)):
        assert reach(d, "h/ns:v/v", "h/ns:x/p2") and reach(d, "h/ns:v/v", "h/br1")
        assert reach(d, "h/br1", "h/ns:v/v") and reach(d, "h/ns:w/w", "h/br1")
        assert reach(d, "h/ns:v/v", "h/ns:w/w") == expected
        assert reach(d, "h/ns:w/w", "h/ns:v/v") == expected


def test_first_arp_answer_that_arrives_wins():
    """A host with two NICs on the switch answers ARP on both (ARP flux); a source-mode pinger
    only hears the NIC on its list, so that answer is the one it keeps (measured: seed 158)."""
    doc = {"hosts": [
        {"name": "h1", "parents": [{"name": "eth1", "mac": "02:00:00:00:0a:01", "addresses": ["10.5.0.1/24"],
                                    "uplink": {"switch": "sw", "port": "p1"}},
                                   {"name": "eth2", "mac": "02:00:00:00:0a:02",
                                    "uplink": {"switch": "sw", "port": "p2"}}]},
        {"name": "h2", "parents": [{"name": "eth0", "uplink": {"switch": "sw", "port": "p3"}}],
         "children": [{"name": "s", "parent": "eth0", "mode": "source", "namespace": "s",
                       "source_macs": ["02:00:00:00:0a:01"], "addresses": ["10.5.0.9/24"]}]}],
        "switches": [{"name": "sw", "ports": [{"name": "p1"}, {"name": "p2"}, {"name": "p3"}]}]}
    assert reach(doc, "h2/ns:s/s", "h1/eth1")
    doc["hosts"][1]["children"][0]["source_macs"] = ["02:00:00:00:0a:02"]
    assert not reach(doc, "h2/ns:s/s", "h1/eth1"), "eth2's answer is heard, but the reply leaves through eth1"
    doc["hosts"][1]["children"][0]["source_macs"] = ["02:00:00:00:0a:03"]
    assert not reach(doc, "h2/ns:s/s", "h1/eth1")


def test_a_race_is_a_verdict_attribute_with_the_usual_outcome():
    """Container -> bridge-mode child of the host bridge, with the switch reflecting: the broadcast
    worker against the reflection. Worker last (usual): lost; worker first: answered."""
    from designs_learning import C1, GW, M, reflected_bridge_parent

    from planner.core.reachability import Reason, Remedy
    from planner.core.reachability.sim import Ping
    from planner.core.reachability.world import World

    d = design_from_dict(reflected_bridge_parent())
    p = predict(d)
    v = p.verdict(C1, M)
    assert (v.reachable, v.reason, v.timing) == (False, Reason.ARP_REPLY_LOST, True)
    assert v.mislearned == "h/eth0" and v.remedy == Remedy.HAIRPIN_OFF and v.fix_ports == ("switch:sw1/p1",)
    assert "Timing-dependent" in v.message and v.to_dict()["timing"] is True
    w = World(d)
    assert not Ping(w, d.iface(C1), d.iface(M)).run().done
    assert Ping(w, d.iface(C1), d.iface(M), eager_broadcast=True).run().done
    assert not p.timing(GW, M) and p.reachable(GW, M)
    assert p.timing_pairs() == {(C1, M), ("h/ns:c2/eth0", M)}


def test_macvlan_hash_is_the_kernels_formula():
    """``macvlan_eth_hash``: the 6 MAC bytes as a little-endian u64 shifted left 16, then hash_64(v, 8)."""
    import random

    from planner.core.reachability.world import macvlan_hash

    def reference(mac: str) -> int:
        raw = bytes(int(x, 16) for x in mac.split(":")) + b"\x00\x00"
        value = (int.from_bytes(raw, "little") << 16) & ((1 << 64) - 1)
        return ((value * 0x61C8864680B583EB) & ((1 << 64) - 1)) >> 56

    rng = random.Random(7)
    macs = [":".join(f"{rng.randrange(256):02x}" for _ in range(6)) for _ in range(500)] + ["ff:ff:ff:ff:ff:ff"]
    assert [macvlan_hash(m) for m in macs] == [reference(m) for m in macs]
    assert all(0 <= macvlan_hash(m) < 256 for m in macs)
