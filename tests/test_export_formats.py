"""Docker, Multus, libvirt and containerlab exports: golden files, and a warning (in the result
and in the files) for everything a target cannot express.

Regenerate the golden files with ``MVPLAN_UPDATE_GOLDEN=1 pytest tests/test_export_formats.py``."""
from __future__ import annotations

import json
import shlex
import subprocess

import pytest
import yaml
from test_export_roundtrip import CLAB, DOCKER, LIBVIRT, MULTUS
from test_exporters import GOLDEN, KITCHEN, TWO_HOSTS, UPDATE, VEPA, flatten

from planner.core.model import design_from_dict, load_design
from planner.exporters import export

DESIGNS = {"vepa-hairpin": VEPA, "kitchen-sink": KITCHEN, "two-hosts": TWO_HOSTS, "docker-rt": DOCKER,
           "multus-rt": MULTUS, "libvirt-rt": LIBVIRT, "clab-rt": CLAB}
NEW = ("docker", "multus", "libvirt", "containerlab")
CASES = [(d, f) for d in ("vepa-hairpin", "kitchen-sink", "two-hosts") for f in NEW] + \
        [("docker-rt", "docker"), ("multus-rt", "multus"), ("libvirt-rt", "libvirt"), ("clab-rt", "containerlab")]


def _load(name):
    raw = DESIGNS[name]
    return design_from_dict(raw) if isinstance(raw, dict) else load_design(raw)


@pytest.mark.parametrize("design,fmt", CASES, ids=[f"{d}.{f}" for d, f in CASES])
def test_golden(design, fmt):
    got = flatten(export(_load(design), fmt))
    golden = GOLDEN / f"{design}.{fmt}.txt"
    if UPDATE:
        golden.write_text(got, "utf-8")
    assert golden.exists(), f"missing {golden.name}: run with MVPLAN_UPDATE_GOLDEN=1"
    assert got == golden.read_text("utf-8"), f"{golden.name} changed: review, then MVPLAN_UPDATE_GOLDEN=1"


@pytest.mark.parametrize("fmt", NEW)
def test_every_warning_is_also_in_the_files(fmt):
    res = export(_load("kitchen-sink"), fmt)
    assert res.warnings
    text = "\n".join(res.files.values())
    for w in res.warnings:
        assert w.replace("--", "- -") in text or w in text, w


def test_kitchen_sink_says_what_each_target_cannot_express():
    got = {fmt: "\n".join(export(_load("kitchen-sink"), fmt).warnings) for fmt in NEW}
    assert "host1/src0: Docker cannot create macvlan interfaces in the host's own namespace" in got["docker"]
    assert "inner0: Docker allows one macvlan network, so one mode, per parent" in got["docker"]  # bridge on eth0
    assert "host1/outer0: Docker cannot create macvlan interfaces in the host's own namespace" in got["docker"]
    assert "host1/eth0: Docker does not configure the parent NIC" in got["docker"]
    assert "host1/ns:web/web0: Docker has no static neighbour entries" in got["docker"]
    assert "declared on outer0, which is itself a macvlan" in got["docker"]
    assert "host1/ns:vm/pt0: Docker has no nopromisc flag" in got["docker"]
    assert "host1/ns:ctr/eth0: a container holds only Docker's own interfaces" in got["docker"]
    assert "a NAD attaches interfaces to pods only" in got["multus"]
    assert "the CNI macvlan plugin has no nopromisc setting" in got["multus"]
    assert "a libvirt direct interface is a macvtap; the macvlan web0 is not exported" in got["libvirt"]
    assert "source mode is not one: src0 is not exported" in got["libvirt"]
    assert "containerlab does not set hairpin on bridge ports" in got["containerlab"]
    assert "host1/eth2: only bridge ports whose veth peer lives in a namespace" in got["containerlab"]


def test_docker_several_modes_on_one_parent_and_second_network_mac():
    d = design_from_dict({"hosts": [{"name": "h", "parents": [{"name": "eth0"}, {"name": "eth1"}], "children": [
        {"name": "eth0", "parent": "eth0", "mode": "vepa", "namespace": "a", "addresses": ["10.0.0.2/24"]},
        {"name": "eth0", "parent": "eth0", "mode": "bridge", "namespace": "b", "addresses": ["10.0.0.3/24"]},
        {"name": "eth1", "parent": "eth1", "namespace": "a", "mac": "02:00:00:00:01:01", "mtu": 1400,
         "addresses": ["10.1.0.2/24", "10.1.0.9/24"]}]}]})
    res = export(d, "docker")
    w = "\n".join(res.warnings)
    assert "h/ns:b/eth0: Docker allows one macvlan network, so one mode, per parent" in w
    assert "'docker network connect' cannot set a MAC" in w and "no MTU option" in w
    assert "one IPv4 address per network; 10.1.0.9/24" in w
    assert "the unused 10.0.0.1 is reserved as the gateway" in w
    script = res.files["h.docker.sh"]
    assert "$DOCKER network connect --ip 10.1.0.2 macvlan-eth1 ns-a\n" in script
    # Docker refuses one-character container names ('Invalid container name' - measured)
    assert "h/ns:a: Docker refuses container names shorter than two characters" in w
    assert "--name ns-a " in script and "--name ns-b " in script


def test_docker_overlapping_subnets_on_two_parents_are_refused_in_words():
    """Measured on dockerd 20.10: a second macvlan network whose subnet overlaps the first fails
    with 'Pool overlaps with other one on this address space' - the export must not write it."""
    d = design_from_dict({"hosts": [{"name": "h", "parents": [{"name": "eth0"}, {"name": "eth1"}], "children": [
        {"name": "eth0", "parent": "eth0", "namespace": "a", "addresses": ["10.0.0.2/24"]},
        {"name": "eth0", "parent": "eth1", "namespace": "b", "addresses": ["10.0.0.3/25"]},
        {"name": "eth1", "parent": "eth1", "namespace": "a", "addresses": ["10.0.1.2/24"]}]}]})
    res = export(d, "docker")
    (w,) = [x for x in res.warnings if "overlapping" in x]
    assert w.startswith("h/ns:b/eth0: Docker refuses two networks with overlapping subnets")
    assert "10.0.0.0/25 on eth1 overlaps 10.0.0.0/24 of macvlan-eth0" in w
    script = res.files["h.docker.sh"]
    assert "--name ns-b" not in script and "--subnet 10.0.0.0/25" not in script
    assert "--subnet 10.0.1.0/24" in script and "$DOCKER network connect --ip 10.0.1.2 macvlan-eth1 ns-a" in script


def test_docker_script_quotes_every_argument(tmp_path):
    """A fake docker records its argument vectors: labels with JSON and quotes arrive intact."""
    raw = dict(DOCKER, name="Bob's \"lab\" $(touch pwned)")
    res = export(design_from_dict(raw), "docker")
    fake = tmp_path / "docker"
    log = tmp_path / "calls"
    fake.write_text(f"#!/bin/sh\nfor a in \"$@\"; do printf '%s\\037' \"$a\"; done >> '{log}'\n"
                    f"printf '\\036' >> '{log}'\n")
    fake.chmod(0o755)
    script = tmp_path / "h1.docker.sh"
    script.write_text(res.files["h1.docker.sh"])
    subprocess.run(["sh", str(script)], check=True, cwd=tmp_path, env={"PATH": "/usr/bin:/bin", "DOCKER": str(fake)})
    calls = [c.split("\x1f")[:-1] for c in log.read_text().split("\x1e")[:-1]]
    assert not (tmp_path / "pwned").exists()
    create = next(c for c in calls if c[:2] == ["network", "create"])
    labels = dict(create[i + 1].split("=", 1) for i, a in enumerate(create) if a == "--label")
    assert labels["mvplan.design"] == raw["name"]
    assert json.loads(labels["mvplan.outside"])["design"] == raw["name"]
    runs = [c for c in calls if c[0] == "run"]
    assert [c[c.index("--name") + 1] for c in runs] == ["web", "db", "cache"]
    assert runs[0][-3:] == ["busybox", "sleep", "infinity"]


def test_multus_nad_config_is_what_the_cni_plugin_reads():
    docs = list(yaml.safe_load_all(export(_load("multus-rt"), "multus").files["multus.yaml"]))
    nads = {d["metadata"]["name"]: json.loads(d["spec"]["config"]) for d in docs if d["kind"].startswith("Network")}
    assert nads["eth0-vepa"] == {"cniVersion": "0.4.0", "name": "eth0-vepa", "type": "macvlan", "master": "eth0",
                                 "mode": "vepa", "capabilities": {"ips": True, "mac": True},
                                 "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.0.0.0/24"}]],
                                          "routes": [{"dst": "0.0.0.0/0", "gw": "10.0.0.1"}]}}
    assert nads["eth0-bridge-mtu1400"]["mtu"] == 1400
    assert nads["eth0-bridge-mtu1400"]["ipam"]["ranges"] == [[{"subnet": "10.0.0.0/24"}, {"subnet": "10.7.0.0/24"}]]
    pods = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Pod"}
    assert pods["api"]["spec"]["nodeName"] == "node-b"
    sel = json.loads(pods["db"]["metadata"]["annotations"]["k8s.v1.cni.cncf.io/networks"])
    assert [s["interface"] for s in sel] == ["net1", "stor"] and sel[0]["ips"] == ["10.0.0.12/24"]


def test_libvirt_reserved_target_names_and_host_namespace_macvtaps():
    d = design_from_dict({"parents": [{"name": "eth0"}], "children": [
        {"name": "macvtap3", "type": "macvtap", "parent": "eth0", "namespace": "g"},
        {"name": "tap9", "type": "macvtap", "parent": "eth0", "mode": "vepa"}]})
    res = export(d, "libvirt")
    w = "\n".join(res.warnings)
    assert "libvirt ignores target names starting with vnet/vif/macvtap/macvlan" in w
    assert "host/tap9: a macvtap in the host's own namespace has no guest; exported as guest tap9" in w
    assert sorted(res.files) == ["g-macvtap3.interface.xml", "g.domain.xml", "tap9-tap9.interface.xml",
                                 "tap9.domain.xml"]


def test_containerlab_exec_lines():
    topo = yaml.safe_load(export(_load("clab-rt"), "containerlab").files["h1.clab.yml"])
    assert topo["topology"]["nodes"]["db"]["exec"] == [
        "ip addr add 10.0.0.12/24 dev lan0",
        "ip neigh replace 10.0.0.1 lladdr 02:00:00:00:00:01 dev lan0 nud permanent",
        "ip addr add 10.8.0.12/24 dev lan1", "ip link set dev lan1 down", "ip addr add 10.5.0.3/24 dev eth1"]
    for line in topo["topology"]["nodes"]["db"]["exec"]:
        assert shlex.split(line)[0] == "ip"
