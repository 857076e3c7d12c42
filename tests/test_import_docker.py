"""Docker importer: real 'docker network inspect'/'docker inspect' output (recorded from Debian's
docker.io 20.10 on this machine) and Compose files."""
from __future__ import annotations

import json

import pytest
from importhelp import DATA, children, codes, loads, run

from planner.importers import ImportFailure, Source, import_sources


def test_network_inspect_gives_parent_mode_children_gateway_and_aux_stations():
    r = run("docker", "docker/network-lan50.json")
    d = loads(r)
    (host,) = d.hosts
    assert host.name == "node1", "the mvplan.host label names the host"
    assert [p.name for p in host.parents] == ["eth0"]
    kids = children(r)
    assert kids["web/eth0"] == {"name": "eth0", "parent": "eth0", "mode": "vepa", "namespace": "web",
                                "mac": "02:42:00:11:00:02", "addresses": ["192.168.50.10/24"],
                                "routes": [{"to": "default", "via": "192.168.50.1"}]}
    assert kids["db/eth0"]["mac"] == "02:42:c0:a8:32:0b"
    stations = {s.name: str(s.addresses[0]) for s in d.stations}
    assert stations == {"lan50-gateway": "192.168.50.1/24", "host": "192.168.50.2/24"}
    assert codes(r).count("derived") == 2
    # the LAN: parent and stations on one switch, so the containers reach the gateway
    assert {d.iface("station:lan50-gateway").link.split("/")[0]} == {"switch:lan50"}


def test_container_inspect_adds_the_second_network_and_orders_by_name_with_a_warning():
    r = run("docker", "docker/network-lan50-lan60.json", "docker/inspect-web-two-networks.json")
    loads(r)
    kids = children(r)
    assert kids["web/eth1"]["parent"] == "eth1" and kids["web/eth1"]["addresses"] == ["10.60.0.5/24"]
    assert kids["web/eth1"]["mode"] == "bridge", "Docker's default mode"
    assert "routes" not in kids["web/eth1"], "Docker's default route goes through the first network only"
    assert [h["name"] for h in r.document["hosts"]] == ["node1"], "one daemon is one host"
    assert "guessed" in codes(r)


def test_vlan_parent_other_drivers_ipv6_and_options_are_warnings():
    net = [{"Name": "v50", "Driver": "macvlan", "IPAM": {"Config": [
        {"Subnet": "10.50.0.0/24", "Gateway": "10.50.0.1"}, {"Subnet": "fd00::/64"}]},
        "Options": {"parent": "eth0.50", "macvlan_mode": "private", "foo": "1"},
        "Containers": {"a" * 64: {"Name": "c1", "MacAddress": "02:00:00:00:00:01", "IPv4Address": "10.50.0.5/24",
                                  "IPv6Address": "fd00::5/64"}}},
           {"Name": "bridge", "Driver": "bridge", "IPAM": {"Config": []}},
           {"Name": "ipv", "Driver": "ipvlan", "IPAM": {"Config": []}, "Options": {"parent": "eth1"}}]
    r = import_sources("docker", [Source("n.json", json.dumps(net))])
    loads(r)
    assert children(r)["c1/eth0"]["parent"] == "eth0.50"
    assert children(r)["c1/eth0"]["mode"] == "private"
    got = codes(r)
    for code in ("vlan-parent", "ipv6", "not-macvlan", "unsupported"):
        assert code in got, code
    assert got.count("not-macvlan") == 2 and got.count("ipv6") == 2


COMPOSE = """
services:
  web:
    image: nginx
    mac_address: 02:42:c0:a8:01:0a
    networks:
      lan:
        ipv4_address: 192.168.1.10
  worker:
    image: busybox
    networks: [lan]
networks:
  lan:
    driver: macvlan
    driver_opts:
      parent: enp3s0
      macvlan_mode: bridge
    ipam:
      config:
        - subnet: 192.168.1.0/24
          gateway: 192.168.1.1
          ip_range: 192.168.1.128/25
  other:
    external: true
"""


def test_compose_services_are_namespaces_and_dhcp_like_ones_are_warned():
    r = import_sources("compose", [Source("docker-compose.yml", COMPOSE)], host="nas")
    d = loads(r)
    assert d.hosts[0].name == "nas"
    kids = children(r)
    assert kids["web/eth0"]["addresses"] == ["192.168.1.10/24"] and kids["web/eth0"]["mac"] == "02:42:c0:a8:01:0a"
    assert "addresses" not in kids["worker/eth0"]
    got = codes(r)
    assert "no-address" in got and "unsupported" in got  # ip_range


def test_external_network_needs_its_inspect_output():
    text = "services: {a: {networks: {ext: {ipv4_address: 10.9.0.5}}}}\nnetworks: {ext: {external: true}}\n"
    with pytest.raises(ImportFailure) as exc:
        import_sources("docker", [Source("c.yml", text)])
    assert "nothing to import" in exc.value.problems[0].message
    assert exc.value.problems[1].message.startswith("[unresolved] external network ext")
    net = [{"Name": "ext", "Driver": "macvlan", "IPAM": {"Config": [{"Subnet": "10.9.0.0/24"}]},
            "Options": {"parent": "eth0"}}]
    r = import_sources("docker", [Source("c.yml", text), Source("n.json", json.dumps(net))])
    assert children(r)["a/eth0"]["addresses"] == ["10.9.0.5/24"]


@pytest.mark.parametrize("fmt,text", [("docker", "[]"), ("docker", '[{"Name": "x", "Driver": "bridge", "IPAM": {}}]'),
                                      ("kubernetes", "kind: Pod\nmetadata: {name: p}\n"),
                                      ("libvirt", "<domain><name>v</name><devices/></domain>"),
                                      ("containerlab", "topology: {nodes: {a: {kind: linux}}}\n")])
def test_nothing_macvlan_is_a_failure_that_says_what_was_looked_for(fmt, text):
    with pytest.raises(ImportFailure) as exc:
        import_sources(fmt, [Source("f", text)])
    first = exc.value.problems[0]
    assert first.path == "f" and first.message.startswith("nothing to import: no ")


@pytest.mark.parametrize("text,where", [("", "empty"), ("{not json", "JSON"), ("[1, 2", "JSON")])
def test_unreadable_input_is_an_import_failure_naming_the_file(text, where):
    with pytest.raises(ImportFailure) as exc:
        import_sources("docker", [Source("bad.json", text)])
    assert exc.value.problems[0].path == "bad.json" and where.lower() in str(exc.value).lower()


def test_unknown_format():
    with pytest.raises(ValueError, match="unknown import format"):
        import_sources("podman", [Source("x", "{}")])


def test_containers_come_in_the_order_docker_created_them():
    """The network lists its containers by id (db first here); 'docker inspect' says when each was
    created, and that order (the order a script ran) is the design's. Go trims the fraction's
    trailing zeros, so the timestamps are compared as times, not as text."""
    net = (DATA / "docker/network-lan50.json").read_text()
    ctrs = json.loads((DATA / "docker/inspect-web-db.json").read_text())

    def kids(r):
        return [f"{c['namespace']}/{c['name']}" for c in r.document["hosts"][0]["children"]]

    assert kids(import_sources("docker", [Source("n.json", net)])) == ["db/eth0", "web/eth0"]
    ctrs[0]["Created"], ctrs[1]["Created"] = "2026-12-01T12:13:14.5Z", "2026-12-01T12:13:14.499999999Z"
    both = [Source("n.json", net), Source("c.json", json.dumps(ctrs))]
    assert kids(import_sources("docker", both)) == ["db/eth0", "web/eth0"]
    ctrs[0]["Created"] = "2026-12-01T12:13:14.4Z"
    both[1] = Source("c.json", json.dumps(ctrs))
    assert kids(import_sources("docker", both)) == ["web/eth0", "db/eth0"]


def test_a_network_without_gateway_gets_dockers_own():
    """Docker takes the subnet's first address as the gateway when none is given (measured in
    tests/kernel/test_docker_daemon.py) and routes the containers through it."""
    text = ("services: {web: {networks: {lan: {ipv4_address: 10.0.0.5}}}}\n"
            "networks: {lan: {driver: macvlan, driver_opts: {parent: eth0},\n"
            "                 ipam: {config: [{subnet: 10.0.0.0/24}]}}}\n")
    r = import_sources("docker", [Source("c.yml", text)])
    assert children(r)["web/eth0"]["routes"] == [{"to": "default", "via": "10.0.0.1"}]
    (w,) = [w for w in r.warnings if "no gateway given" in w.message]
    assert w.code == "derived" and "10.0.0.1" in w.message
    assert [s["addresses"] for s in r.document["stations"]] == [["10.0.0.1/24"]]
