"""What the issue found in the networkd and nmstate exports: a NIC that only carries children must
not lose its own configuration silently, nmstate must not turn off what the design does not say
(IPv6 on a NIC), and networkd must not get keys systemd 252 ignores ([Peer] MTUBytes=)."""
from __future__ import annotations

import yaml

from planner.core.model import design_from_dict
from planner.exporters import export

DESIGN = {"name": "takeover", "hosts": [{"name": "h1", "parents": [
    {"name": "eth0"}, {"name": "eth1", "addresses": ["10.1.0.2/24"]},
    {"name": "vp", "kind": "veth", "mtu": 1400, "uplink": {"bridge": "br0", "port": "vq"}}],
    "children": [{"name": "mv0", "parent": "eth0", "addresses": ["10.0.0.10/24"]},
                 {"name": "mv1", "parent": "eth1", "mode": "private", "addresses": ["10.1.0.10/24"]}],
    "bridges": [{"name": "br0", "ports": [{"name": "vq"}]}]}]}


def _nmstate():
    res = export(design_from_dict(DESIGN), "nmstate")
    (text,) = res.files.values()
    return {i["name"]: i for i in yaml.safe_load(text)["interfaces"]}, text, res.warnings


def test_nmstate_leaves_a_children_only_nic_out_and_says_so():
    ifaces, text, _ = _nmstate()
    assert "eth0" not in ifaces
    assert "# note: h1/eth0: not listed, so nmstate leaves eth0 as it is" in text
    assert ifaces["mv0"]["mac-vlan"]["base-iface"] == "eth0"


def test_nmstate_does_not_disable_ipv6_on_a_nic_it_lists():
    ifaces, _, warnings = _nmstate()
    assert ifaces["eth1"]["ipv4"]["address"] == [{"ip": "10.1.0.2", "prefix-length": 24}]
    assert "ipv6" not in ifaces["eth1"] and "type" not in ifaces["eth1"]
    assert any(w.startswith("h1/eth1: listed because the design configures it") for w in warnings)
    assert ifaces["mv1"]["ipv6"] == {"enabled": False}, "a link mvplan creates: nmstate's default, said"


def test_networkd_warns_when_a_children_only_nic_file_takes_over():
    res = export(design_from_dict(DESIGN), "networkd")
    takeover = [w for w in res.warnings if "replaces the NIC's whole configuration" in w]
    assert [w.split(":")[0] for w in takeover] == ["h1/eth0"], "eth1 has an address of its own: no warning"
    assert "DHCP=yes" in takeover[0]
    assert "# WARNING: h1/eth0: 20-mvplan-eth0.network only attaches children" in res.files["20-mvplan-eth0.network"]


def test_networkd_veth_peer_mtu_goes_to_the_peers_network_file():
    files = export(design_from_dict(DESIGN), "networkd").files
    netdev, peer = files["10-mvplan-vq.netdev"].split("[Peer]")
    assert "MTUBytes=1500" in netdev and "Name=vp" in peer and "MTUBytes" not in peer
    assert "MTUBytes=1400" in files["20-mvplan-vp.network"]
