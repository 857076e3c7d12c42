"""systemd-networkd (systemd 252) really runs on the exported files, in a throwaway network
namespace with private mounts (see /work/shared/RECIPES.md), and builds the design: every key is
one it knows (no "Unknown key" in its log), and the live state is what ``mvplan apply`` expects."""
from __future__ import annotations

import os
import subprocess

import pytest
from consumers import differences

from planner.core.model import design_from_dict
from planner.exporters import export
from planner.lab.scratch import Scratch

pytestmark = pytest.mark.kernel

NETWORKD = "/lib/systemd/systemd-networkd"
DESIGN = {
    "name": "networkd-proof",
    "hosts": [{"name": "h1",
               "parents": [{"name": "eth0", "addresses": ["10.7.0.2/24"]},
                           {"name": "vparent", "kind": "veth", "mtu": 1400,
                            "uplink": {"bridge": "br0", "port": "vp0"}}],
               "children": [
                   {"name": "mv0", "parent": "eth0", "mode": "vepa", "mac": "02:00:00:07:00:10",
                    "addresses": ["10.7.0.10/24"], "routes": [{"to": "10.70.0.0/16", "via": "10.7.0.1"}]},
                   {"name": "tap0", "type": "macvtap", "parent": "eth0", "mode": "private", "mtu": 1400},
                   {"name": "pv0", "parent": "vparent", "mode": "bridge", "addresses": ["10.8.0.10/24"]}],
               "bridges": [{"name": "br0", "addresses": ["10.8.0.1/24"],
                            "ports": [{"name": "vp0", "hairpin": True}]}]}],
}

SCRIPT = r"""
set -e
mount -t sysfs -o ro sysfs /sys
mount -t tmpfs tmpfs /run/systemd
mkdir -p /run/systemd/netif && chown systemd-network: /run/systemd/netif
mount --bind "$1" /etc/systemd/network
mount --bind "$2" /usr/lib/systemd/network
SYSTEMD_LOG_LEVEL=debug SYSTEMD_LOG_TARGET=console timeout 12 /lib/systemd/systemd-networkd || true
"""


@pytest.fixture
def networkd(lab_prereqs, require):
    missing = [] if os.path.exists(NETWORKD) else [f"{NETWORKD} (systemd)"]
    require("systemd-networkd", missing)


def test_networkd_builds_the_exported_design(networkd, tmp_path):
    design = design_from_dict(DESIGN)
    res = export(design, "networkd")
    conf, empty = tmp_path / "network", tmp_path / "empty"
    empty.mkdir()
    res.write_dir(conf)
    text = "\n".join(res.files.values())
    assert "[Peer]" in text and "MTUBytes=1400" in res.files["20-mvplan-vparent.network"]
    with Scratch("mvnd") as s:
        ns = s.add("h")
        s.ip(ns, "link", "add", "eth0", "type", "veth", "peer", "name", "wire0")
        s.ip(ns, "link", "set", "wire0", "up")
        script = tmp_path / "run.sh"
        script.write_text(SCRIPT)
        cp = subprocess.run(["nsenter", f"--net=/run/netns/{ns}", "unshare", "-m", "--propagation", "private",
                             "sh", str(script), str(conf), str(empty)], capture_output=True, text=True, timeout=60)
        log = cp.stdout + cp.stderr
        assert "Unknown key" not in log, [x for x in log.splitlines() if "Unknown key" in x]
        assert "Unknown section" not in log
        problems = differences(design, ns, "h1")
        assert problems == [], problems
        assert "hairpin on" in s.ip(ns, "-d", "link", "show", "vp0").stdout
        assert "mtu 1400" in s.ip(ns, "link", "show", "vparent").stdout


def test_the_old_peer_mtu_key_is_unknown_to_networkd(networkd, tmp_path):
    """Why [Peer] MTUBytes= went: systemd 252 reports it and ignores it (measured, not assumed)."""
    conf, empty = tmp_path / "network", tmp_path / "empty"
    conf.mkdir()
    empty.mkdir()
    (conf / "10-v.netdev").write_text("[NetDev]\nName=va\nKind=veth\n\n[Peer]\nName=vb\nMTUBytes=1400\n")
    with Scratch("mvnd") as s:
        ns = s.add("h")
        script = tmp_path / "run.sh"
        script.write_text(SCRIPT)
        cp = subprocess.run(["nsenter", f"--net=/run/netns/{ns}", "unshare", "-m", "--propagation", "private",
                             "sh", str(script), str(conf), str(empty)], capture_output=True, text=True, timeout=60)
        assert "Unknown key 'MTUBytes' in section [Peer]" in cp.stdout + cp.stderr
