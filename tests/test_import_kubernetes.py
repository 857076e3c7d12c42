"""Kubernetes/Multus importer: NADs with CNI macvlan configs and pods' network annotations."""
from __future__ import annotations

import json

import pytest
from importhelp import children, codes, loads, run

from planner.importers import ImportFailure, Source, import_sources


def test_quickstart_nad_and_pods():
    r = run("kubernetes", "kubernetes/multus-macvlan.yaml")
    d = loads(r)
    assert [h.name for h in d.hosts] == ["worker-1"]
    kids = children(r)
    # host-local allocates from rangeStart upwards, in the order the pods appear (a warned guess)
    assert kids["samplepod/net1"]["addresses"] == ["192.168.1.200/24"]
    assert kids["db/net1"]["addresses"] == ["192.168.1.201/24"] and kids["db/net1"]["mac"] == "c2:b0:57:49:47:f1"
    # a CNI route without gw goes through the range's gateway
    assert kids["samplepod/net1"]["routes"] == [{"to": "default", "via": "192.168.1.1"}]
    # the JSON annotation form: interface name and pinned ips; the NAD's MTU and mode
    assert kids["db/stor0"] == {"name": "stor0", "parent": "eth1.50", "mode": "vepa", "namespace": "db",
                                "mtu": 9000, "addresses": ["10.50.0.7/24"]}
    assert [s.name for s in d.stations] == ["macvlan-conf-gateway"]
    got = codes(r)
    for code in ("guessed", "vlan-parent", "unsupported", "derived"):
        assert code in got, code


def _nad(name, conf, ns="default"):
    return {"apiVersion": "k8s.cni.cncf.io/v1", "kind": "NetworkAttachmentDefinition",
            "metadata": {"name": name, "namespace": ns}, "spec": {"config": json.dumps(conf)}}


def _pod(name, ann, node="n1"):
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "annotations": {
        "k8s.v1.cni.cncf.io/networks": ann}}, "spec": {"nodeName": node}}


def test_dhcp_ipvlan_unknown_networks_and_passthrough_spelling():
    docs = {"kind": "List", "items": [
        _nad("dhcp", {"type": "macvlan", "master": "eth0", "mode": "passthrough", "ipam": {"type": "dhcp"}}),
        _nad("ipv", {"type": "ipvlan", "master": "eth0", "ipam": {}}),
        _pod("p1", "dhcp@lan0, ipv, nope"),
    ]}
    r = import_sources("k8s", [Source("all.json", json.dumps(docs))])
    loads(r)
    kid = children(r)["p1/lan0"]
    assert kid["mode"] == "passthru" and "addresses" not in kid
    got = codes(r)
    assert "no-address" in got and "not-macvlan" in got and got.count("unresolved") == 2


def test_static_ipam_shared_by_two_pods_is_a_conflict_and_no_pods_is_unresolved():
    nad = _nad("st", {"type": "macvlan", "master": "eth0", "ipam": {
        "type": "static", "addresses": [{"address": "10.0.0.9/24", "gateway": "10.0.0.1"}]}})
    r = import_sources("kubernetes", [Source("a.json", json.dumps({"kind": "List", "items": [
        nad, _pod("a", "st"), _pod("b", "st")]}))])
    assert "conflict" in codes(r)
    with pytest.raises(ImportFailure) as exc:
        import_sources("kubernetes", [Source("a.json", json.dumps(nad))])
    assert [p.message.split("]")[0] for p in exc.value.problems[1:]] == ["[unresolved"]
    assert "no pod attached to a NetworkAttachmentDefinition" in exc.value.problems[0].message


def test_pods_on_two_nodes_are_two_hosts_cabled_to_one_lan():
    nad = _nad("lan", {"type": "macvlan", "master": "ens1", "ipam": {
        "type": "host-local", "ranges": [[{"subnet": "10.1.0.0/24", "gateway": "10.1.0.1"}]]}})
    r = import_sources("kubernetes", [Source("a.yaml", "\n---\n".join(json.dumps(x) for x in (
        nad, _pod("a", "lan", "n1"), _pod("b", "lan", "n2"))))])
    d = loads(r)
    assert [h.name for h in d.hosts] == ["n1", "n2"]
    links = {d.iface(f"{h}/ens1").link for h in ("n1", "n2")}
    assert all(x.startswith("switch:lan/") for x in links) and len(links) == 2
    # each node's host-local starts afresh: both get the range's first address
    assert children(r, "n1")["a/net1"]["addresses"] == children(r, "n2")["b/net1"]["addresses"] == ["10.1.0.2/24"]
