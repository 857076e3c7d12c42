"""Design format v1: loading, defaults, and errors that name the path and what is allowed."""
import json

import pytest

from planner.core.errors import DesignError
from planner.core.model import design_from_dict, design_to_dict, load_design, parse_design_text
from planner.core.schema import DEFAULT_MODE, design_schema


def base(**children_extra):
    return {
        "hosts": [{"name": "h1", "parents": [{"name": "eth0", "mtu": 9000, "uplink": {"switch": "sw", "port": "p1"}}],
                   "children": [{"name": "mv0", "parent": "eth0", "namespace": "web", "addresses": ["10.0.0.2/24"],
                                 **children_extra}]}],
        "switches": [{"name": "sw", "ports": [{"name": "p1"}, {"name": "p2"}]}],
    }


def problems(doc):
    with pytest.raises(DesignError) as exc:
        design_from_dict(doc)
    return {p.path: p.message for p in exc.value.problems}


def test_defaults_are_resolved_at_load_time():
    d = design_from_dict(base())
    mv = d.iface("h1/ns:web/mv0")
    assert mv.mode == DEFAULT_MODE == "bridge"
    assert mv.mtu == 9000, "a new macvlan takes its parent's MTU"
    assert mv.mac.startswith("02:") and len(mv.mac) == 17
    assert design_from_dict(base()).iface("h1/ns:web/mv0").mac == mv.mac, "derived MACs are stable"
    assert mv.lower == "h1/eth0" and mv.state == "up" and mv.kind == "macvlan"


def test_passthru_inherits_parent_mac():
    d = design_from_dict(base(mode="passthru"))
    assert d.iface("h1/ns:web/mv0").mac == d.iface("h1/eth0").mac


def test_single_host_shorthand():
    d = design_from_dict({"parents": [{"name": "eth0"}], "children": [{"name": "a", "parent": "eth0"}]})
    assert [i.id for i in d.interfaces] == ["host/eth0", "host/a"]


def test_roundtrip_to_dict():
    d = design_from_dict(base(mode="vepa", neighbors="all-peers", routes=[{"to": "10.9.0.0/16", "via": "10.0.0.1"}]))
    again = design_from_dict(json.loads(json.dumps(design_to_dict(d))))
    assert again.interfaces == d.interfaces
    assert design_to_dict(again) == design_to_dict(d)


@pytest.mark.parametrize("mutate,path,needle", [
    (lambda d: d["hosts"][0]["children"][0].update(colour="red"), "hosts[0].children[0]", "unknown key 'colour'"),
    (lambda d: d["hosts"][0]["children"][0].update(parent="eth9"), "hosts[0].children[0].parent", "does not exist"),
    (lambda d: d["hosts"][0]["children"][0].update(mode="vpa"), "hosts[0].children[0].mode", "use one of"),
    (lambda d: d["hosts"][0]["children"][0].update(mac="02:00:00:00:00"), "hosts[0].children[0].mac", "six hex pairs"),
    (lambda d: d["hosts"][0]["children"][0].update(mac="01:00:5e:00:00:01"), "hosts[0].children[0].mac", "multicast"),
    (lambda d: d["hosts"][0]["children"][0].update(name="a-very-long-name-x"), "hosts[0].children[0].name", "15 bytes"),
    (lambda d: d["hosts"][0]["children"][0].update(name="mv0;rm"), "hosts[0].children[0].name", "interface name"),
    (lambda d: d["hosts"][0]["children"][0].update(name="-x"), "hosts[0].children[0].name", "interface name"),
    (lambda d: d["hosts"][0]["children"][0].update(mtu="1500"), "hosts[0].children[0].mtu", "expected integer"),
    (lambda d: d["hosts"][0]["children"][0].update(mtu=20), "hosts[0].children[0].mtu", "68..65535"),
    (lambda d: d["hosts"][0]["children"][0].update(addresses=["10.0.0.2"]), "hosts[0].children[0].addresses[0]",
     "prefix length"),
    (lambda d: d["hosts"][0]["children"][0].update(addresses=["fe80::1/64"]), "hosts[0].children[0].addresses[0]",
     "link-local"),
    (lambda d: d["hosts"][0]["children"][0].update(addresses=["fd00::/64"]), "hosts[0].children[0].addresses[0]",
     "subnet-router anycast"),
    (lambda d: d["hosts"][0]["children"][0].update(addresses=["ff02::1/64"]), "hosts[0].children[0].addresses[0]",
     "not a unicast"),
    (lambda d: d["hosts"][0]["children"][0].update(routes=[{"to": "10.1.0.0/24", "via": "fd00::1"}]),
     "hosts[0].children[0].routes[0].via", "family of its destination"),
    (lambda d: d["hosts"][0]["children"][0].update(routes=[{"to": "default", "via": "fe80::1"}]),
     "hosts[0].children[0].routes[0].via", "link-local"),
    (lambda d: d["hosts"][0]["children"][0].update(addresses=["10.0.0.0/24"]), "hosts[0].children[0].addresses[0]",
     "network or broadcast"),
    (lambda d: d["hosts"][0]["children"][0].update(routes=[{"to": "10.0.0.5/24"}]),
     "hosts[0].children[0].routes[0].to", "is not a prefix"),
    (lambda d: d["hosts"][0]["children"][0].update(neighbors=[{"address": "10.0.0.3"}]),
     "hosts[0].children[0].neighbors[0]", "'peer'"),
    (lambda d: d["hosts"][0]["children"][0].update(neighbors=[{"peer": "h1/nope"}]),
     "hosts[0].children[0].neighbors[0].peer", "names no interface"),
    (lambda d: d["hosts"][0]["children"].append({"name": "mv0", "parent": "eth0", "namespace": "web"}),
     "hosts[0].children[1].name", "already used"),
    (lambda d: d["hosts"][0]["parents"][0].update(uplink={"switch": "sw", "port": "p7"}),
     "hosts[0].parents[0].uplink.port", "has no port 'p7'"),
    (lambda d: d["hosts"][0]["parents"][0].update(uplink={"switch": "nosw", "port": "p1"}),
     "hosts[0].parents[0].uplink.switch", "does not exist"),
    (lambda d: d.update(stations=[{"name": "gw", "uplink": {"switch": "sw", "port": "p1"}}]),
     "stations[0].uplink.port", "already cabled"),
    (lambda d: d["switches"].append({"name": "sw"}), "switches[1].name", "duplicate switch"),
    (lambda d: d.update(version=2), "version", "must be 1"),
])
def test_bad_input_names_path_and_what_is_allowed(mutate, path, needle):
    doc = base()
    mutate(doc)
    got = problems(doc)
    assert path in got, got
    assert needle in got[path], got[path]


def test_every_problem_is_reported_at_once():
    doc = base(mode="nope", mac="zz")
    doc["hosts"][0]["children"][0]["colour"] = 1
    assert len(problems(doc)) >= 3


def test_yaml_is_read_with_yaml_1_2_scalars():
    doc = parse_design_text("name: on\nparents:\n  - name: eth0\n    mac: 12:34:56:78:9a:bc\n")
    assert doc["name"] == "on"
    assert doc["parents"][0]["mac"] == "12:34:56:78:9a:bc"


def test_unreadable_input():
    with pytest.raises(DesignError, match="not valid YAML"):
        parse_design_text("hosts: [\n")
    with pytest.raises(DesignError, match="mapping"):
        parse_design_text("- 1\n- 2\n")
    with pytest.raises(DesignError, match="cannot read"):
        load_design("/nonexistent/design.yaml")


def test_a_linux_bridge_can_be_a_parent():
    """The kernel accepts a macvlan on a bridge device (measured); so does the format."""
    doc = {"parents": [{"name": "eth0"}], "bridges": [{"name": "br0", "mtu": 9000}],
           "children": [{"name": "a", "parent": "br0"}]}
    a = design_from_dict(doc).iface("host/a")
    assert (a.lower, a.parent_kind, a.mtu) == ("host/br0", "bridge", 9000)


def test_a_bridge_veth_port_can_be_named_as_parent():
    """The kernel refuses it (EBUSY), but the design may say it: MV104 flags it."""
    doc = {"bridges": [{"name": "br0", "ports": [{"name": "vb1", "peer": {"name": "eth0", "namespace": "c"}}]}],
           "children": [{"name": "a", "parent": "vb1"}]}
    a = design_from_dict(doc).iface("host/a")
    assert (a.lower, a.parent_kind) == ("host/vb1", "bridge-port")


def test_schema_is_shipped_and_valid():
    import jsonschema

    jsonschema.Draft202012Validator.check_schema(design_schema())


def test_bridge_ports_with_the_same_name_on_two_hosts():
    def host(name):
        return {"name": name, "parents": [{"name": "eth0", "kind": "veth", "uplink": {"bridge": "br0", "port": "vb1"}}],
                "bridges": [{"name": "br0", "ports": [{"name": "vb1"}]}]}
    d = design_from_dict({"hosts": [host("h1"), host("h2")]})
    assert d.iface("h2/eth0").link == "bridge:br0/vb1"


def test_fast_address_parsing_equals_the_stdlib():
    """The loader builds addresses without ipaddress's constructor; they must be indistinguishable."""
    import ipaddress

    from planner.core.model.load import _quick_cidr

    for text in ("10.1.2.3/24", "192.168.0.1/32", "172.16.5.4/31", "10.0.0.1/8", "100.64.1.9/10"):
        got, want = _quick_cidr(text), ipaddress.IPv4Interface(text)
        assert got is not None
        assert (got == want, hash(got) == hash(want), str(got), got.network, got.netmask, got.ip, got.network.prefixlen,
                got.with_prefixlen, got.is_private) == \
               (True, True, str(want), want.network, want.netmask, want.ip, want.network.prefixlen,
                want.with_prefixlen, want.is_private)
        assert got in {want} and ipaddress.IPv4Address(str(want.ip)) == got.ip
    for bad in ("10.0.0.0/24", "10.0.0.255/24", "0.1.2.3/8", "224.0.0.1/4", "10.1.2.3", "10.01.2.3/24", "10.1.2.3/33"):
        assert _quick_cidr(bad) is None, bad


def test_fast_address_parsing_takes_exactly_the_unicast_host_addresses_the_stdlib_takes():
    """A seeded sweep of edge octets, leading zeros and prefixes: the fast path accepts a text exactly
    when the stdlib parses it as a unicast host address (not network/broadcast below /31), and then
    gives the same address; everything else goes to the slow path, which words the problem."""
    import ipaddress
    import random

    from planner.core.model.load import _quick_cidr

    rnd, accepted = random.Random(8), 0
    for _ in range(20_000):
        parts = [str(rnd.choice([0, 1, 9, 10, 99, 100, 127, 199, 200, 224, 249, 250, 255, 256, rnd.randint(0, 255)]))
                 for _ in range(4)]
        if rnd.random() < 0.05:
            parts[rnd.randrange(4)] = "0" + parts[0]
        text = ".".join(parts) + "/" + str(rnd.choice([0, 1, 8, 16, 24, 30, 31, 32, 33, rnd.randint(0, 40)]))
        try:
            want = ipaddress.IPv4Interface(text)
        except ValueError:
            usable = False
        else:
            net = want.network
            usable = (net.prefixlen >= 1 and 0 < int(want.ip) >> 24 < 224 and not want.ip.is_loopback
                      and (net.prefixlen >= 31 or want.ip not in (net.network_address, net.broadcast_address)))
        got = _quick_cidr(text)
        assert (got is not None) == usable, text
        if got is not None:
            assert (got, str(got), got.network) == (want, str(want), want.network), text
            accepted += 1
    assert accepted > 3000


def test_subnet_key_is_equal_exactly_when_the_networks_are():
    import ipaddress
    import random

    from planner.core.model import subnet_key

    rng = random.Random(3)
    nets = []
    for _ in range(400):
        if rng.random() < 0.5:
            first, prefix = rng.choice([0, 1, 167772160, 167772161]), rng.randint(8, 32)
        else:
            first, prefix = rng.choice([0, 1, 167772160, 2**127]), rng.randint(8, 128)
        nets.append(ipaddress.ip_network((first, prefix), strict=False))
    nets.append(ipaddress.ip_interface("10.0.0.5/24").network)
    for a in nets[:120]:
        for b in nets:
            assert (subnet_key(a) == subnet_key(b)) == (a == b), (a, b)
    assert subnet_key(ipaddress.ip_network("0.0.0.0/8")) != subnet_key(ipaddress.ip_network("::/8"))


def test_stable_mac_is_the_first_five_bytes_of_the_seeds_sha256_behind_02():
    """Derived MACs are part of every saved plan and export: the formula must never drift."""
    import hashlib

    from planner.core.model import stable_mac

    assert stable_mac("host1/eth0") == "02:" + ":".join(
        f"{b:02x}" for b in hashlib.sha256(b"mvplan:host1/eth0").digest()[:5])
    for seed in ("h/ns:web/mv0", "station:gw", "h\u00e9/ns:\u00fc/x", ""):
        digest = hashlib.sha256(("mvplan:" + seed).encode()).digest()
        assert stable_mac(seed) == "02:" + ":".join(f"{b:02x}" for b in digest[:5])
