"""containerlab importer: macvlan links (brief and extended), bridges, exec lines."""
from __future__ import annotations

import pytest
from importhelp import children, codes, loads, run

from planner.importers import ImportFailure, Source, import_sources


def test_macvlan_links_bridges_and_exec_lines():
    r = run("containerlab", "containerlab/macvlan.clab.yml")
    d = loads(r)
    assert d.name == "mvlab" and d.hosts[0].name == "clab-host"
    kids = children(r)
    assert kids["srv1/eth1"] == {"name": "eth1", "parent": "enp0s3", "mode": "bridge", "namespace": "srv1",
                                 "addresses": ["192.168.0.11/24"],
                                 "routes": [{"to": "10.0.0.0/8", "via": "192.168.0.1"}]}
    assert kids["srv2/eth1"]["mode"] == "vepa" and kids["srv2/eth1"]["mac"] == "02:00:00:00:00:12"
    (br,) = d.hosts[0].bridges
    assert br.name == "br-lan" and br.ports[0].peer.namespace == "r1"
    assert str(br.ports[0].peer.addresses[0]) == "10.1.0.5/24"
    got = codes(r)
    assert got.count("not-macvlan") == 2 and "unsupported" in got  # node-node veth, host link; 'ip -4 addr show'


def test_not_a_topology():
    with pytest.raises(ImportFailure, match="containerlab topology"):
        import_sources("clab", [Source("x.yml", "name: x\n")])
