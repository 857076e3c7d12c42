"""Can labs be built here? Probed by really building a tiny one."""
from __future__ import annotations

import os
import shutil

from .run import LabError, netns_exists, run

__all__ = ["prerequisites"]


def prerequisites() -> list[str]:
    """What is missing to build labs here (empty list: everything is fine).

    Probes by actually creating a tiny netns with a veth, a macvlan, a macvtap and a bridge,
    and pinging its loopback with a fractional timeout, then deleting it.
    """
    missing: list[str] = []
    if os.geteuid() != 0:
        missing.append("must run as root (creating network namespaces needs CAP_SYS_ADMIN and CAP_NET_ADMIN)")
    for tool, pkg in (("ip", "iproute2"), ("ping", "iputils-ping")):
        if shutil.which(tool) is None:
            missing.append(f"`{tool}` not found on PATH (install {pkg})")
    if missing:
        return missing
    ns = f"mvlprobe{os.getpid() % 100000}"
    steps = [
        ("create a network namespace", ["ip", "netns", "add", ns]),
        ("create a veth pair", ["ip", "-n", ns, "link", "add", "name", "pa", "type", "veth", "peer", "name", "pb"]),
        ("create a macvlan", ["ip", "-n", ns, "link", "add", "name", "pm", "link", "pa", "type", "macvlan",
                              "mode", "bridge"]),
        ("create a macvtap", ["ip", "-n", ns, "link", "add", "name", "pt", "link", "pb", "type", "macvtap",
                              "mode", "vepa"]),
        ("create a Linux bridge", ["ip", "-n", ns, "link", "add", "name", "pbr", "type", "bridge", "stp_state", "0"]),
        ("set hairpin on a bridge port", None),
        ("bring up loopback", ["ip", "-n", ns, "link", "set", "dev", "lo", "up"]),
        ("ping with a fractional timeout inside a namespace",
         ["ip", "netns", "exec", ns, "ping", "-n", "-q", "-c1", "-W", "0.5", "127.0.0.1"]),
    ]
    try:
        for what, argv in steps:
            if argv is None:  # hairpin: needs a bridge port
                argv = ["ip", "-n", ns, "link", "add", "name", "ph", "type", "veth", "peer", "name", "pi"]
                cp = run(argv, check=False)
                if cp.returncode == 0:
                    cp = run(["ip", "-n", ns, "link", "set", "dev", "ph", "master", "pbr"], check=False)
                if cp.returncode == 0:
                    cp = run(["ip", "-n", ns, "link", "set", "dev", "ph", "type", "bridge_slave", "hairpin", "on"],
                              check=False)
            else:
                cp = run(argv, check=False, timeout=10)
            if cp.returncode != 0:
                missing.append(f"cannot {what}: {(cp.stderr or cp.stdout).strip() or 'rc=' + str(cp.returncode)}")
                break
    except LabError as exc:
        missing.append(f"probe failed: {exc}")
    finally:
        if netns_exists(ns):
            run(["ip", "netns", "del", ns], check=False)
    return missing
