"""Exporters: golden files, shell safety, warnings for what a format cannot express.

Regenerate the golden files with ``MVPLAN_UPDATE_GOLDEN=1 pytest tests/test_exporters.py``.
"""
from __future__ import annotations

import configparser
import io
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest
import yaml

from planner.core.compiler import compile_plan
from planner.core.errors import CompileError
from planner.core.model import design_from_dict, load_design
from planner.exporters import FORMATS, ExportResult, export
from planner.exporters._common import GENERATOR
from planner.exporters.iproute2 import argv, shell_line

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden"
VEPA = ROOT / "examples" / "vepa-hairpin.yaml"
KITCHEN = GOLDEN / "kitchen-sink.yaml"
UPDATE = os.environ.get("MVPLAN_UPDATE_GOLDEN") == "1"

TWO_HOSTS = {
    "name": "two hosts",
    "hosts": [
        {"name": "node-a", "parents": [{"name": "eth0", "uplink": {"switch": "sw", "port": "p1"}}],
         "children": [{"name": "mv0", "parent": "eth0", "mode": "bridge", "addresses": ["10.1.0.10/24"]}]},
        {"name": "node-b", "parents": [{"name": "eth0", "uplink": {"switch": "sw", "port": "p2"}}],
         "children": [{"name": "mv0", "parent": "eth0", "mode": "bridge", "addresses": ["10.1.0.20/24"]}]},
    ],
    "switches": [{"name": "sw", "ports": [{"name": "p1"}, {"name": "p2"}]}],
}

VARIANTS = {
    "iproute2": ("iproute2", {}),
    "iproute2-teardown": ("iproute2", {"teardown": True}),
    "iproute2-batch": ("iproute2", {"batch": True}),
    "iproute2-brctl": ("iproute2", {"hairpin_style": "brctl"}),
    "iproute2-sysfs": ("iproute2", {"hairpin_style": "sysfs"}),
    "nmstate": ("nmstate", {}),
    "networkd": ("networkd", {}),
}
CASES = [("vepa-hairpin", VEPA, v) for v in ("iproute2", "iproute2-teardown", "nmstate", "networkd")] + \
        [("kitchen-sink", KITCHEN, v) for v in VARIANTS] + \
        [("two-hosts", None, v) for v in ("iproute2", "nmstate", "networkd")]


def load(path):
    return design_from_dict(TWO_HOSTS) if path is None else load_design(path)


def flatten(res: ExportResult) -> str:
    """All files and warnings as one text; the version is masked so a release keeps the goldens."""
    out = []
    for name, text in res.files.items():
        out.append(f"==> {name} <==\n{text}")
    out.append("==> warnings <==\n" + "".join(f"{w}\n" for w in res.warnings))
    return "\n".join(out).replace(GENERATOR, "mvplan VERSION")


@pytest.mark.parametrize("design,path,variant", CASES, ids=[f"{d}.{v}" for d, _, v in CASES])
def test_golden(design, path, variant):
    fmt, opts = VARIANTS[variant]
    got = flatten(export(load(path), fmt, **opts))
    golden = GOLDEN / f"{design}.{variant}.txt"
    if UPDATE:
        golden.write_text(got, "utf-8")
    assert golden.exists(), f"missing {golden.name}: run with MVPLAN_UPDATE_GOLDEN=1"
    assert got == golden.read_text("utf-8"), f"{golden.name} changed: review, then MVPLAN_UPDATE_GOLDEN=1"


def test_export_is_deterministic():
    for fmt in FORMATS:
        assert export(load_design(KITCHEN), fmt).files == export(load_design(KITCHEN), fmt).files


def test_unknown_format_and_option():
    with pytest.raises(ValueError, match="unknown export format"):
        export(load_design(VEPA), "ifupdown")
    with pytest.raises(ValueError, match="iproute2"):
        export(load_design(VEPA), "iproute2", colour=True)
    with pytest.raises(ValueError, match="hairpin_style"):
        export(load_design(VEPA), "iproute2", hairpin_style="carrier-pigeon")


def test_design_with_errors_is_not_exported():
    d = design_from_dict({"parents": [{"name": "eth0"}],
                          "children": [{"name": "a", "parent": "eth0", "mode": "passthru"},
                                       {"name": "b", "parent": "eth0", "mode": "bridge"}]})
    for fmt in FORMATS:
        with pytest.raises(CompileError):
            export(d, fmt)


# --------------------------------------------------------------------------- iproute2
@pytest.mark.skipif(shutil.which("sh") is None, reason="needs sh")
@pytest.mark.parametrize("variant", [v for v in VARIANTS if v.startswith("iproute2")])
def test_scripts_pass_sh_n(variant, tmp_path):
    fmt, opts = VARIANTS[variant]
    for path in (VEPA, KITCHEN, None):
        for name, text in export(load(path), fmt, **opts).files.items():
            f = tmp_path / name
            f.write_text(text)
            subprocess.run(["sh", "-n", str(f)], check=True)
            assert text.startswith("#!/bin/sh\n") and "\nset -eu\n" in text


def test_three_hairpin_forms():
    d = load_design(KITCHEN)
    lines = {style: export(d, "iproute2", hairpin_style=style).files["host1.sh"]
             for style in ("bridge", "brctl", "sysfs")}
    assert "\nbridge link set dev vp0 hairpin on\n" in lines["bridge"]
    assert "\nbrctl hairpin br0 vp0 on\n" in lines["brctl"]
    # sysfs shows the namespace of whoever mounted it: every write mounts a fresh one of its own
    assert ("\nunshare -m sh -c 'mount --make-rslave / && mount -t sysfs sysfs /sys && echo \"$1\" > \"$2\"' "
            "sh 1 /sys/class/net/br0/brif/vp0/hairpin_mode\n") in lines["sysfs"]
    assert "\nlink set dev vp0 type bridge_slave hairpin on\n" in export(d, "iproute2", batch=True).files["host1.sh"]


def test_header_says_how_to_run_the_script():
    setup = export(load_design(VEPA), "iproute2").files["host1.sh"]
    head = setup.split("set -eu\n", 1)[0]
    assert "# Run it as root on the host itself:  sh host1.sh\n" in head
    assert "#   nsenter --net=/run/netns/NS sh host1.sh\n" in head and "--netns-prefix NS-" in head
    # the script creates namespaces: ip netns exec would hide them (never recommended)
    assert "# Not with 'ip netns exec NS sh host1.sh'" in head
    assert "(ip netns exec NS sh SCRIPT)" not in head
    teardown = export(load_design(VEPA), "iproute2", teardown=True).files["host1-teardown.sh"]
    assert "sh host1-teardown.sh" in teardown and "run it after that script only" in teardown
    plain = export(design_from_dict(TWO_HOSTS), "iproute2").files["node-a.sh"]
    assert "sh node-a.sh" in plain and "ip netns exec" not in plain, "no namespaces, no caveat"


def test_namespaced_ops_use_ip_n_and_prefix():
    text = export(load_design(VEPA), "iproute2", netns_prefix="lab1-").files["host1.sh"]
    assert "\nip netns add lab1-web\n" in text
    assert "netns lab1-web name web0\n" in text
    assert "\nip -n lab1-web address add 10.10.0.11/24 dev web0\n" in text


def test_every_op_has_one_comment_and_one_command():
    d = load_design(KITCHEN)
    plan = compile_plan(d)
    text = export(d, "iproute2", plan=plan).files["host1.sh"]
    body = text.split("set -eu\n", 1)[1].strip().split("\n\n")
    assert len(body) == len(plan.ops)
    for block, op in zip(body, plan.ops, strict=True):
        comment, line = block.split("\n")
        assert comment == f"# {op.describe()}" and line == shell_line(op)


EVIL = "Bob's \"lab\" $(touch pwned) `touch pwned2` ; rm -rf ./x & echo $HOME \\ end"


def _fake_tools(tmp_path: Path) -> Path:
    """ip, bridge, brctl and unshare that record their argument vectors instead of touching the
    system."""
    bindir = tmp_path / "bin"
    bindir.mkdir(exist_ok=True)
    log = tmp_path / "calls"
    for tool in ("ip", "bridge", "brctl", "unshare"):
        f = bindir / tool
        f.write_text(f"#!/bin/sh\nprintf '%s\\037' {tool} \"$@\" >> '{log}'\nprintf '\\036' >> '{log}'\n")
        f.chmod(0o755)
    return log


def _recorded(log: Path) -> list[list[str]]:
    raw = log.read_text() if log.exists() else ""
    return [rec.split("\x1f")[:-1] for rec in raw.split("\x1e")[:-1]]


@pytest.mark.skipif(shutil.which("sh") is None, reason="needs sh")
@pytest.mark.parametrize("name", [EVIL, "two\nlines; touch pwned3"])
@pytest.mark.parametrize("style", ["bridge", "brctl", "sysfs"])
def test_every_argument_survives_the_shell(name, style, tmp_path):
    raw = yaml.safe_load(KITCHEN.read_text())
    raw["name"] = name
    d = design_from_dict(raw)
    plan = compile_plan(d)
    for teardown in (False, True):
        res = export(d, "iproute2", plan=plan, teardown=teardown, hairpin_style=style)
        (script_name, text), = res.files.items()
        log = _fake_tools(tmp_path)
        if log.exists():
            log.unlink()
        script = tmp_path / script_name
        script.write_text(text)
        env = {"PATH": f"{tmp_path / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path)}
        subprocess.run(["sh", str(script)], check=True, cwd=tmp_path, env=env)
        ops = plan.inverse().ops if teardown else plan.ops
        assert _recorded(log) == [argv(op, hairpin_style=style) for op in ops]
        assert not any((tmp_path / f).exists() for f in ("pwned", "pwned2", "pwned3"))
    aliases = [op.alias for op in plan.ops if op.kind == "set-alias"]
    assert all(a.startswith("mvplan:") for a in aliases)
    if "\n" not in name:
        assert all(name in a for a in aliases)


def test_teardown_script_deletes_what_setup_created():
    d = load_design(KITCHEN)
    text = export(d, "iproute2", teardown=True).files["host1-teardown.sh"]
    assert "teardown script" in text
    assert "\nip -n web link del dev web0\n" in text and "\nip netns del web\n" in text
    assert "link set dev eth0 down" not in text, "a teardown never takes down a NIC it did not create"


# --------------------------------------------------------------------------- nmstate
def test_nmstate_uses_nmstate_schema():
    res = export(load_design(KITCHEN), "nmstate")
    state = yaml.safe_load(res.files["host1.nmstate.yml"])
    by = {i["name"]: i for i in state["interfaces"]}
    assert by["outer0"]["type"] == "mac-vlan"
    assert by["outer0"]["mac-vlan"] == {"base-iface": "eth0", "mode": "bridge", "promiscuous": True}
    assert by["src0"]["type"] == "mac-vtap" and by["src0"]["mac-vtap"]["mode"] == "source"
    assert by["br0"]["type"] == "linux-bridge"
    assert {p["name"]: p["stp-hairpin-mode"] for p in by["br0"]["bridge"]["port"]} == {"eth2": True, "vp0": True}
    assert by["vp0"]["veth"] == {"peer": "vparent"}
    assert by["eth0"]["ipv4"]["address"] == [{"ip": "10.20.0.2", "prefix-length": 24}]
    assert state["routes"]["config"] == [{"destination": "10.99.0.0/16", "next-hop-interface": "eth0",
                                          "next-hop-address": "10.20.0.1"}]


def test_nmstate_warns_about_what_it_cannot_express():
    res = export(load_design(KITCHEN), "nmstate")
    text = res.files["host1.nmstate.yml"]
    joined = "\n".join(res.warnings)
    assert "host1/ns:web/web0: nmstate has no network namespaces" in joined
    assert "host1/eth0: nmstate has no static neighbour entries" in joined
    assert "host1/src0: nmstate cannot list the source MACs" in joined
    assert "host1/vp1: its veth peer eth0 lives in namespace ctr" in joined
    for w in res.warnings:
        assert f"# WARNING: {w}" in text


def test_nncp_per_host_for_multi_host_designs():
    res = export(design_from_dict(TWO_HOSTS), "nmstate")
    assert sorted(res.files) == ["node-a.nncp.yaml", "node-b.nncp.yaml"]
    doc = yaml.safe_load(res.files["node-b.nncp.yaml"])
    assert doc["apiVersion"] == "nmstate.io/v1" and doc["kind"] == "NodeNetworkConfigurationPolicy"
    assert doc["metadata"]["name"] == "two-hosts-node-b"
    assert doc["spec"]["nodeSelector"] == {"kubernetes.io/hostname": "node-b"}
    mv = next(i for i in doc["spec"]["desiredState"]["interfaces"] if i["name"] == "mv0")
    assert mv["mac-vlan"]["mode"] == "bridge"
    single = export(load_design(VEPA), "nmstate", kubernetes=True).files
    assert list(single) == ["host1.nncp.yaml"]


# --------------------------------------------------------------------------- networkd
def _ini(text: str) -> configparser.ConfigParser:
    cp = configparser.ConfigParser(strict=False, interpolation=None)
    cp.optionxform = str
    cp.read_string(text)
    return cp


def test_networkd_files():
    res = export(load_design(KITCHEN), "networkd")
    f = res.files
    src = _ini(f["10-mvplan-src0.netdev"])
    assert src["NetDev"]["Kind"] == "macvtap" and src["MACVTAP"]["Mode"] == "source"
    assert src["MACVTAP"]["SourceMACAddress"] == "02:00:00:00:aa:01 02:00:00:00:aa:02"
    outer = _ini(f["10-mvplan-outer0.netdev"])
    assert outer["MACVLAN"]["Mode"] == "bridge" and outer["NetDev"]["MTUBytes"] == "1400"
    eth0 = f["20-mvplan-eth0.network"]
    assert "MACVLAN=outer0" in eth0 and "MACVTAP=src0" in eth0 and "Address=10.20.0.2/24" in eth0
    assert "[Neighbor]\nAddress=10.20.0.1\nLinkLayerAddress=" in eth0
    assert "[Route]\nDestination=10.99.0.0/16\nGateway=10.20.0.1" in eth0
    assert "Bridge=br0" in f["20-mvplan-eth2.network"] and "HairPin=yes" in f["20-mvplan-eth2.network"]
    assert _ini(f["10-mvplan-vp0.netdev"])["Peer"]["Name"] == "vparent"
    for name, text in f.items():
        if name.endswith((".netdev", ".network")):
            _ini(text)


def test_networkd_warnings():
    d = design_from_dict({"parents": [{"name": "eth0"}, {"name": "eth1", "state": "down"}],
                          "children": [{"name": "pt0", "parent": "eth0", "mode": "passthru", "nopromisc": True},
                                       {"name": "c0", "parent": "eth1", "namespace": "ns1"}]})
    res = export(d, "networkd", check=False)
    joined = "\n".join(res.warnings)
    assert "host/pt0: systemd-networkd has no nopromisc flag" in joined
    assert "host/ns:ns1/c0: systemd-networkd cannot place links in network namespaces" in joined
    assert "# WARNING: host/pt0: systemd-networkd has no nopromisc flag" in res.files["10-mvplan-pt0.netdev"]
    readme = res.files["00-mvplan-README.txt"]
    assert all(f"# WARNING: {w}" in readme for w in res.warnings)
    assert "ActivationPolicy=down" in res.files["20-mvplan-eth1.network"]
    assert "MACAddress" not in res.files["10-mvplan-pt0.netdev"], "a passthru child takes its parent's MAC"


def test_networkd_multi_host_folders_and_archives(tmp_path):
    res = export(design_from_dict(TWO_HOSTS), "networkd")
    assert "node-a/10-mvplan-mv0.netdev" in res.files and "node-b/20-mvplan-eth0.network" in res.files
    written = res.write_dir(tmp_path / "out")
    assert all(p.is_file() for p in written) and len(written) == len(res.files)
    blob = res.write_tar(tmp_path / "out.tar")
    assert blob == res.write_tar() and (tmp_path / "out.tar").read_bytes() == blob
    with tarfile.open(fileobj=io.BytesIO(blob)) as tar:
        assert sorted(tar.getnames()) == sorted(res.files)
        member = tar.extractfile("node-a/10-mvplan-mv0.netdev")
        assert member is not None and member.read().decode() == res.files["node-a/10-mvplan-mv0.netdev"]
    with pytest.raises(ValueError):
        ExportResult(files={"../escape": "x"}).write_dir(tmp_path / "safe")


# --------------------------------------------------------------------------- kernel
def _can_unshare() -> bool:
    if os.geteuid() != 0 or shutil.which("unshare") is None or shutil.which("ip") is None:
        return False
    r = subprocess.run(["unshare", "-mn", "true"], capture_output=True)
    return r.returncode == 0


LAB = r"""
set -e
mkdir -p /run/netns && mount -t tmpfs mvplan-test /run/netns
ip link add eth0 address 52:54:00:00:00:10 type veth peer name eth0-x
ip link add eth1 mtu 9000 type veth peer name eth1-x mtu 9000
ip link add eth2 type veth peer name eth2-x
sh "$1"
ip -n web -d link show web0 | grep -q "macvlan mode vepa"
ip -n web neigh show 10.20.0.1 | grep -q PERMANENT
ip -n ctr route show 10.20.0.0/24 | grep -q "via 10.40.0.1"
ip -d link show vp0 | grep -q "hairpin on"
ip -d link show src0 | grep -q "remotes (2)"
ip -o link show br0 | grep -q "alias mvplan:kitchen-sink:host1/br0"
sh "$2"
test -z "$(ip netns list)"
test "$(ip -o link show | wc -l)" -eq 7
"""


@pytest.mark.kernel
@pytest.mark.skipif(not _can_unshare(), reason="needs root and unshare -mn")
@pytest.mark.parametrize("style", ["bridge", "sysfs"])
def test_iproute2_script_runs_in_a_network_namespace(tmp_path, style):
    """In a fresh network + mount namespace that plays the host (its /sys still shows the
    machine's namespace: the sysfs form must not depend on it)."""
    d = load_design(KITCHEN)
    setup = tmp_path / "host1.sh"
    setup.write_text(export(d, "iproute2", hairpin_style=style).files["host1.sh"])
    teardown = tmp_path / "host1-teardown.sh"
    teardown.write_text(export(d, "iproute2", teardown=True, hairpin_style=style).files["host1-teardown.sh"])
    lab = tmp_path / "lab.sh"
    lab.write_text(LAB)
    r = subprocess.run(["unshare", "-mn", "--propagation", "private", "sh", str(lab), str(setup), str(teardown)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr


def test_what_the_plan_leaves_out_is_a_warning_in_every_format():
    d = design_from_dict({"parents": [{"name": "eth0"}],
                          "children": [{"name": "a0", "parent": "eth0", "state": "down", "addresses": ["10.0.0.1/24"],
                                        "routes": [{"to": "default", "via": "10.0.0.254"}]}]})
    for fmt in FORMATS:
        res = export(d, fmt, check=False)
        assert any(w.startswith("host/a0: routes not planned") for w in res.warnings), fmt
        assert any("routes not planned" in text for text in res.files.values()), fmt


@pytest.mark.kernel
@pytest.mark.parametrize("style", ["bridge", "sysfs"])
def test_script_rehearsed_under_nsenter_as_the_header_says(lab_prereqs, style):
    """The header's rehearsal: export with --netns-prefix NS-, run with nsenter --net. The sysfs
    hairpin form must reach the bridges of NS and of its design namespaces, not the machine's."""
    from designs import KITCHEN as APPLY_KITCHEN
    from designs import host_netns

    from planner.lab.scratch import Scratch, netns_with_prefix
    from planner.netlink.apply import verify

    d = design_from_dict(APPLY_KITCHEN)
    def own_links() -> set[str]:  # of the namespace this test runs in (the machine's, usually)
        out = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True).stdout
        return {line.split(": ")[1].split("@")[0] for line in out.splitlines()}

    own_before = own_links()
    with Scratch() as s:
        n = host_netns(s)
        opts = {"netns_prefix": f"{n}-", "hairpin_style": style}
        setup = export(d, "iproute2", **opts).files["host1.sh"]
        teardown = export(d, "iproute2", teardown=True, **opts).files["host1-teardown.sh"]
        assert "nsenter --net=/run/netns/NS sh host1.sh" in setup
        cp = subprocess.run(["nsenter", f"--net=/run/netns/{n}", "sh", "-s"], input=setup, capture_output=True,
                            text=True)
        assert cp.returncode == 0, cp.stderr
        assert verify(d, netns=n) == [], "the rehearsal verifies: hairpin included"
        for port in ("vp0", "eth2"):
            assert "hairpin on" in s.ip(n, "-d", "link", "show", port).stdout
        assert set(netns_with_prefix(n)) >= {f"{n}-{x}" for x in ("web", "vm", "nested", "app", "app2", "ctr")}
        cp = subprocess.run(["nsenter", f"--net=/run/netns/{n}", "sh", "-s"], input=teardown, capture_output=True,
                            text=True)
        assert cp.returncode == 0, cp.stderr
        assert netns_with_prefix(n) == [n]
    design_links = {i.name for i in d.interfaces}
    assert (own_links() - own_before) & design_links == set(), "nothing was created in the machine's namespace"
