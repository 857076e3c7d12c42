"""libvirt importer: <interface type='direct'> of domain XML -> macvtap children."""
from __future__ import annotations

import pytest
from importhelp import children, codes, loads, run

from planner.importers import ImportFailure, Source, import_sources


def test_direct_interfaces_become_macvtaps_in_the_guest_namespace():
    r = run("libvirt", "libvirt/vm1.xml", host="hv1")
    loads(r)
    kids = children(r)
    assert kids["vm1/vm1-lan"] == {"name": "vm1-lan", "type": "macvtap", "parent": "eth0", "mode": "bridge",
                                   "namespace": "vm1", "mac": "52:54:00:6d:90:02"}
    assert kids["vm1/macvtap0"]["mode"] == "passthru", "libvirt spells it passthrough"
    assert "mac" not in kids["vm1/macvtap0"], "passthrough: the macvtap takes the NIC's MAC..."
    eth1 = next(p for p in r.document["hosts"][0]["parents"] if p["name"] == "eth1")
    assert eth1["mac"] == "52:54:00:6d:90:03", "... which libvirt sets to the guest's"
    assert kids["vm1/macvtap7"]["mode"] == "vepa", "libvirt's default mode"
    assert kids["vm1/macvtap7"]["mtu"] == 9000
    got = codes(r)
    assert got.count("no-address") == 3 and "not-macvlan" in got and got.count("guessed") == 2


@pytest.mark.parametrize("text,what", [
    ("<domain><name>x</name>", "well-formed"),
    ('<!DOCTYPE d [<!ENTITY a "aaaa">]><domain/>', "ENTITY"),
    ("<network><name>n</name></network>", "not a libvirt domain"),
])
def test_bad_xml_is_refused(text, what):
    with pytest.raises(ImportFailure, match=what):
        import_sources("libvirt", [Source("x.xml", text)])


def test_unknown_mode_falls_back_to_vepa_with_a_warning():
    xml = "<domain><name>g</name><devices><interface type='direct'><source dev='eth0' mode='xxx'/>" \
          "<target dev='g0'/><virtualport type='802.1Qbh'/></interface></devices></domain>"
    r = import_sources("libvirt", [Source("g.xml", xml)])
    assert children(r)["g/g0"]["mode"] == "vepa"
    assert codes(r).count("unsupported") == 2
