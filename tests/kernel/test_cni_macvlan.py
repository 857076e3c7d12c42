"""The real CNI ``macvlan`` plugin (containernetworking-plugins) runs on the exported Multus NADs:
``CNI_COMMAND=ADD`` with host-local IPAM, given what Multus would hand it (``runtimeConfig`` with the
pod's ``ips`` and ``mac`` from the networks annotation), builds in throwaway pod namespaces the
same live state as ``mvplan apply`` of the design; ``CNI_COMMAND=DEL`` removes every interface and
releases every address. See /work/shared/RECIPES.md for how the plugin runs here."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml
from consumers import differences, without_alias

from planner.core.model import design_from_dict
from planner.exporters import export
from planner.importers.kubernetes import NETWORKS_ANNOTATION
from planner.lab.scratch import Scratch
from planner.netlink.apply import apply
from planner.netlink.live import read_live

pytestmark = pytest.mark.kernel

CNI_PATH = "/usr/lib/cni"
DESIGN = {
    "name": "cni-proof",
    "hosts": [{"name": "node1",
               "parents": [{"name": "eth0"}, {"name": "eth1"}],
               "children": [
                   {"name": "net1", "parent": "eth0", "mode": "vepa", "namespace": "web",
                    "mac": "02:00:00:0c:00:11", "addresses": ["10.0.0.11/24"],
                    "routes": [{"to": "default", "via": "10.0.0.1"}]},
                   {"name": "net1", "parent": "eth0", "mode": "bridge", "mtu": 1400, "namespace": "db",
                    "addresses": ["10.0.0.12/24"]},
                   {"name": "stor", "parent": "eth0", "mode": "bridge", "mtu": 1400, "namespace": "db",
                    "addresses": ["10.7.0.12/24"], "routes": [{"to": "10.70.0.0/16", "via": "10.7.0.1"}]},
                   {"name": "net1", "parent": "eth1", "mode": "private", "namespace": "cache",
                    "addresses": ["10.9.0.13/24"]}]}],
}


@pytest.fixture
def cni(lab_prereqs, require):
    missing = [f"{CNI_PATH}/{p} (apt-get install containernetworking-plugins)"
               for p in ("macvlan", "host-local") if not os.access(f"{CNI_PATH}/{p}", os.X_OK)]
    require("CNI macvlan plugin", missing)


def _documents(design) -> tuple[dict[str, dict], list[dict]]:
    docs = [d for d in yaml.safe_load_all(export(design, "multus").files["multus.yaml"]) if d]
    nads = {d["metadata"]["name"]: json.loads(d["spec"]["config"]) for d in docs
            if d["kind"] == "NetworkAttachmentDefinition"}
    return nads, [d for d in docs if d["kind"] == "Pod"]


def _attachments(design, data_dir: Path):
    """(pod, interface, config) in the order Multus calls the plugin: the NAD's CNI config plus the
    ``runtimeConfig`` Multus builds from the selection (the ``ips``/``mac`` capabilities); host-local
    keeps its leases under ``data_dir`` instead of /var/lib/cni."""
    nads, pods = _documents(design)
    for pod in pods:
        for sel in json.loads(pod["metadata"]["annotations"][NETWORKS_ANNOTATION]):
            conf = json.loads(json.dumps(nads[sel["name"]]))
            conf["ipam"]["dataDir"] = str(data_dir)
            conf["runtimeConfig"] = {k: sel[k] for k in ("ips", "mac") if k in sel}
            yield pod["metadata"]["name"], sel["interface"], conf


def _plugin(command: str, host_ns: str, pod: str, ifname: str, conf: dict, **extra: str) -> subprocess.CompletedProcess:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "CNI_COMMAND": command, "CNI_CONTAINERID": pod,
           "CNI_NETNS": f"/run/netns/{host_ns}-{pod}", "CNI_IFNAME": ifname, "CNI_PATH": CNI_PATH, **extra}
    return subprocess.run(["nsenter", f"--net=/run/netns/{host_ns}", f"{CNI_PATH}/{conf['type']}"],
                          input=json.dumps(conf), env=env, capture_output=True, text=True, timeout=30)


def _host(s: Scratch) -> str:
    ns = s.add("h")
    for k, nic in enumerate(("eth0", "eth1")):
        s.ip(ns, "link", "add", nic, "address", f"52:54:00:0c:00:0{k}", "type", "veth", "peer", "name", f"w{nic}",
             "address", f"52:54:00:0c:01:0{k}")
        s.ip(ns, "link", "set", f"w{nic}", "up")
        s.ip(ns, "link", "set", nic, "up")
    return ns


def _leases(data_dir: Path) -> set[str]:
    """The addresses host-local holds (one file per address; its lock and cursor files aside)."""
    return {f.name for f in data_dir.rglob("*") if f.is_file() and not f.name.startswith(("last_reserved_ip", "lock"))}


def _state(netns: str) -> dict:
    return without_alias(read_live(netns, host="node1")).to_dict()


def test_cni_plugin_builds_what_apply_builds_and_del_cleans_up(cni, tmp_path):
    design = design_from_dict(DESIGN)
    with Scratch("mvcni") as s, Scratch("mvcna") as a:
        host = _host(s)
        attachments = list(_attachments(design, tmp_path / "leases"))
        assert {(p, i) for p, i, _ in attachments} == {("web", "net1"), ("db", "net1"), ("db", "stor"),
                                                      ("cache", "net1")}
        for pod in {p for p, _, _ in attachments}:
            s.add(f"h-{pod}")
        results = {}
        for pod, ifname, conf in attachments:
            cp = _plugin("ADD", host, pod, ifname, conf)
            assert cp.returncode == 0, (pod, ifname, cp.stdout, cp.stderr)
            results[pod, ifname] = json.loads(cp.stdout)
        assert results["web", "net1"]["ips"][0]["address"] == "10.0.0.11/24"
        assert results["web", "net1"]["interfaces"][0]["mac"] == "02:00:00:0c:00:11"
        assert _leases(tmp_path / "leases") == {"10.0.0.11", "10.0.0.12", "10.7.0.12", "10.9.0.13"}
        assert differences(design, host, "node1") == []

        applied = _host(a)
        res = apply(design, netns=applied, yes=True, run_dir_path=tmp_path / "run")
        assert res.ok, (res.error, res.mismatches)
        # apply derives the MACs the design leaves open, the export hands the same ones to the plugin
        assert _state(host) == _state(applied)

        for pod, ifname, conf in reversed(attachments):
            cp = _plugin("DEL", host, pod, ifname, conf)
            assert cp.returncode == 0, (pod, ifname, cp.stderr)
        for pod in {p for p, _, _ in attachments}:
            links = json.loads(s.ip(f"{host}-{pod}", "-json", "link", "show").stdout)
            assert [lk["ifname"] for lk in links] == ["lo"], pod
        assert _leases(tmp_path / "leases") == set()



def _multus_calls(nad_docs: dict[str, dict], pods: list[dict], data_dir: Path):
    """(pod, ifname, config, CNI_ARGS) as Multus makes them from raw NADs and pod annotations: the
    first plugin of a chain (the macvlan step; the rest is not mvplan's), the NAD's name when the
    config has none, ``runtimeConfig`` only for the capabilities the config declares, a requested MAC
    also as ``CNI_ARGS`` ``MAC=``, interfaces ``net1``, ``net2``... by position unless named."""
    for pod in pods:
        raw = pod["metadata"]["annotations"][NETWORKS_ANNOTATION]
        sels = json.loads(raw) if raw.strip().startswith("[") else [{"name": n.strip()} for n in raw.split(",")]
        for k, sel in enumerate(sels):
            conf = json.loads(nad_docs[sel["name"]]["spec"]["config"])
            step = {"cniVersion": conf.get("cniVersion"), "name": conf.get("name") or sel["name"],
                    **(conf["plugins"][0] if "plugins" in conf else conf)}
            step.pop("plugins", None)
            step["ipam"] = {**step.get("ipam", {}), "dataDir": str(data_dir)}
            caps = step.get("capabilities") or {}
            runtime = {key: sel[key] for key in ("ips", "mac") if caps.get(key) and key in sel}
            if runtime:
                step["runtimeConfig"] = runtime
            args = f"IgnoreUnknown=true;MAC={sel['mac']}" if sel.get("mac") else ""
            yield pod["metadata"]["name"], sel.get("interface") or f"net{k + 1}", step, args


def test_the_imported_multus_quickstart_is_what_the_plugin_builds(cni, tmp_path):
    """The importer's reading of a hand-written Multus file - CNI's default mode, host-local handing
    out rangeStart upwards in pod order, the route through the range's gateway, static IPAM pinned by
    the annotation, the MTU - is what the real plugins do with it."""
    from importhelp import DATA

    from planner.importers import Source, import_sources

    text = (DATA / "kubernetes/multus-macvlan.yaml").read_text()
    doc = import_sources("kubernetes", [Source("multus.yaml", text)]).document
    design = design_from_dict(doc)
    # where the file gives no MAC, the plugin picks a random one (mvplan plans a derived one)
    random_mac = {f"worker-1/ns:{c['namespace']}/{c['name']}: mac is " for c in doc["hosts"][0]["children"]
                  if "mac" not in c}
    docs = [d for d in yaml.safe_load_all(text) if d]
    nads = {d["metadata"]["name"]: d for d in docs if d["kind"] == "NetworkAttachmentDefinition"}
    pods = [d for d in docs if d["kind"] == "Pod"]
    with Scratch("mvcnq") as s:
        host = s.add("h")
        for nic, mtu in (("eth0", "1500"), ("eth1.50", "9000")):  # a veth stands in for the VLAN parent
            s.ip(host, "link", "add", nic, "mtu", mtu, "type", "veth", "peer", "name", f"w{nic[:6]}", "mtu", mtu)
            s.ip(host, "link", "set", f"w{nic[:6]}", "up")
            s.ip(host, "link", "set", nic, "up")
        for pod in pods:
            s.add(f"h-{pod['metadata']['name']}")
        for pod, ifname, conf, args in _multus_calls(nads, pods, tmp_path / "leases"):
            env_args = {"CNI_ARGS": args} if args else {}
            cp = _plugin("ADD", host, pod, ifname, conf, **env_args)
            assert cp.returncode == 0, (pod, ifname, cp.stdout, cp.stderr)
        problems = differences(design, host, "worker-1")
        assert [p for p in problems if not p.startswith(tuple(random_mac))] == [], problems
        assert len(problems) == len(random_mac) == 2
