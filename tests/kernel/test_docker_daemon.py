"""The real Docker daemon (Debian's docker.io) runs the exported ``docker network create`` /
``docker run`` script and the exported Compose file: ``docker network inspect`` says what the design
says (driver, parent, mode, subnet, gateway, each container's MAC and address), the containers'
network namespaces hold the live state ``mvplan apply`` would build, and what Docker reports imports
back as the same design with the same predictions (round trip through the real tool).

The daemon is one per module, inside a throwaway network namespace that holds the parent NICs
(veths), with its own data-root, exec-root and socket, no iptables and no default bridge; the image
is a static busybox imported from a tarball (no registry). See /work/shared/RECIPES.md."""
from __future__ import annotations

import ipaddress
import json
import os
import shutil
import signal
import subprocess
import tarfile
import time
from pathlib import Path

import pytest
from consumers import differences
from test_export_roundtrip import DOCKER

from planner.core.model import design_from_dict, design_to_dict
from planner.core.reachability import predict
from planner.exporters import export
from planner.importers import Source, import_sources
from planner.lab.scratch import Scratch, netns_with_prefix

pytestmark = pytest.mark.kernel

DOCKERD, DOCKER_CLI, BUSYBOX = "/usr/sbin/dockerd", "/usr/bin/docker", "/bin/busybox"
COMPOSE = shutil.which("docker-compose") or "/usr/bin/docker-compose"
IMAGE = "mvplan-bb:1"
NICS = {"eth0": "52:54:00:0d:00:00", "eth1": "52:54:00:0d:00:01"}


class Daemon:
    """dockerd in network namespace ``netns``, everything it writes under ``root``."""

    def __init__(self, netns: str, root: Path):
        self.netns, self.root = netns, root
        self.sock = f"unix://{root}/sock"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        config = self.root / "daemon.json"
        # its own trust key: by default dockerd 20.10 writes /etc/docker/key.json
        config.write_text(json.dumps({"deprecated-key-path": f"{self.root}/key.json"}) + "\n")
        self.log = open(self.root / "dockerd.log", "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            ["nsenter", f"--net=/run/netns/{self.netns}", DOCKERD, "--config-file", str(config),
             "--iptables=false", "--ip6tables=false", "--ip-forward=false", "--ip-masq=false", "--bridge=none",
             "--storage-driver=vfs", "--data-root", f"{self.root}/data", "--exec-root", f"{self.root}/exec",
             "--pidfile", f"{self.root}/pid", "-H", self.sock],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while self.docker("version", check=False).returncode != 0:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("dockerd did not start:\n" + (self.root / "dockerd.log").read_text()[-3000:])
            time.sleep(0.3)

    def docker(self, *args: str, check: bool = True, **kw) -> subprocess.CompletedProcess:
        cp = subprocess.run([DOCKER_CLI, "-H", self.sock, *args], capture_output=True, text=True, timeout=120, **kw)
        if check and cp.returncode != 0:
            raise AssertionError(f"docker {' '.join(args)}: {cp.stderr}")
        return cp

    def clear(self) -> None:
        """Remove every container and network the tests made (and the names given to their netns)."""
        for name in netns_with_prefix(self.netns):
            if name != self.netns:
                subprocess.run(["ip", "netns", "del", name], capture_output=True, check=False)
        ids = self.docker("ps", "-aq").stdout.split()
        if ids:
            self.docker("rm", "-f", *ids)
        nets = [n for n in self.docker("network", "ls", "--format", "{{.Name}}").stdout.split()
                if n not in ("host", "none", "bridge")]
        if nets:
            self.docker("network", "rm", *nets)

    def stop(self) -> None:
        if self.proc is None:
            return
        try:
            self.clear()
        finally:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
            self.log.close()
            subprocess.run(["umount", "-R", "-l", str(self.root)], capture_output=True, check=False)


def _ldd(path: str) -> str:
    cp = subprocess.run(["ldd", path], capture_output=True, text=True, check=False)
    return cp.stdout + cp.stderr


def _busybox_image(daemon: Daemon, work: Path) -> None:
    rootfs = work / "rootfs"
    (rootfs / "bin").mkdir(parents=True)
    shutil.copy(BUSYBOX, rootfs / "bin" / "busybox")
    for tool in ("sh", "sleep", "ip", "ping"):
        (rootfs / "bin" / tool).symlink_to("busybox")
    with tarfile.open(work / "bb.tar", "w") as tar:
        tar.add(rootfs, arcname=".")
    daemon.docker("import", str(work / "bb.tar"), IMAGE)


@pytest.fixture(scope="module")
def docker(request, tmp_path_factory):
    request.getfixturevalue("lab_prereqs")
    from prereq import require  # the function: the fixture is function-scoped
    missing = [f"{p} (apt-get install {pkg})" for p, pkg in
               ((DOCKERD, "docker.io"), (DOCKER_CLI, "docker.io"), (BUSYBOX, "busybox-static"))
               if not os.access(p, os.X_OK)]
    if not missing and "not a dynamic executable" not in _ldd(BUSYBOX):
        missing.append(f"{BUSYBOX} is dynamically linked; the image needs a static one "
                       "(apt-get install busybox-static)")
    require("the Docker daemon", missing)
    work = tmp_path_factory.mktemp("docker")
    with Scratch("mvdk") as s:
        host = s.add("h")
        # the design's switch: eth0 on a hairpin port (reflective relay for vepa), eth1 on a plain one
        s.ip(host, "link", "add", "sw", "type", "bridge")
        s.ip(host, "link", "set", "sw", "up")
        for nic, mac in NICS.items():
            s.ip(host, "link", "add", nic, "address", mac, "type", "veth", "peer", "name", f"w{nic}")
            s.ip(host, "link", "set", f"w{nic}", "master", "sw", "up")
            s.ip(host, "link", "set", nic, "up")
        subprocess.run(["bridge", "-n", host, "link", "set", "dev", "weth0", "hairpin", "on"], check=True)
        daemon = Daemon(host, work)
        try:
            daemon.start()
            _busybox_image(daemon, work)
            yield s, daemon
        finally:
            daemon.stop()


def _attach_container_netns(s: Scratch, daemon: Daemon, container: str) -> None:
    """Name the container's network namespace ``<host netns>-<container>`` so read_live finds it."""
    pid = daemon.docker("inspect", "-f", "{{.State.Pid}}", container).stdout.strip()
    subprocess.run(["ip", "netns", "attach", f"{daemon.netns}-{container}", pid], check=True, capture_output=True)


def _inspect(daemon: Daemon, design) -> tuple[list[dict], list[dict]]:
    nets = json.loads(daemon.docker("network", "inspect", *sorted({f"macvlan-{p.name}" for h in design.hosts
                                                                   for p in h.parents})).stdout)
    names = sorted(c.namespace for h in design.hosts for c in h.children)
    return nets, json.loads(daemon.docker("inspect", *names).stdout)


def _check_inspect(nets: list[dict], containers: list[dict], design) -> None:
    """``docker network inspect`` / ``docker inspect`` against the design's own words."""
    by_parent = {n["Options"]["parent"]: n for n in nets}
    for c in design.hosts[0].children:
        net = by_parent[c.parent]
        assert net["Driver"] == "macvlan" and net["Options"]["macvlan_mode"] == c.mode
        (ipam,) = net["IPAM"]["Config"]
        assert ipam["Subnet"] == str(ipaddress.IPv4Interface(str(c.addresses[0])).network)
        assert ipam["Gateway"] == next(str(r.via) for r in c.routes if r.to.prefixlen == 0)
        (entry,) = [e for e in net["Containers"].values() if e["Name"] == c.namespace]
        assert entry["IPv4Address"] == str(c.addresses[0])
        (ctr,) = [x for x in containers if x["Name"] == f"/{c.namespace}"]
        assert ctr["NetworkSettings"]["Networks"][net["Name"]]["MacAddress"] == entry["MacAddress"]


def _canonical(design, any_order: bool = False) -> dict:
    doc = design_to_dict(design)
    doc.pop("description", None)
    doc.pop("layout", None)
    if any_order:
        for h in doc["hosts"]:
            h["children"].sort(key=lambda c: (c.get("namespace", ""), c["name"]))
    return doc


def _round_trip(s: Scratch, daemon: Daemon, design, any_order: bool = False) -> None:
    """Inspect says the design; the containers' netns hold apply's state; the inspect output imports
    back as the design (``any_order``: the containers may have been created in any order)."""
    nets, containers = _inspect(daemon, design)
    _check_inspect(nets, containers, design)
    for ns in {c.namespace for c in design.hosts[0].children}:
        _attach_container_netns(s, daemon, ns)
    assert differences(design, daemon.netns, "h1") == []
    back = import_sources("docker", [Source("networks.json", json.dumps(nets)),
                                     Source("containers.json", json.dumps(containers))])
    assert back.warnings == []
    again = design_from_dict(back.document)
    got, want = _canonical(again, any_order), _canonical(design, any_order)
    assert got == want
    assert predict(design_from_dict(got)).to_dict() == predict(design_from_dict(want)).to_dict()


def test_exported_script_runs_on_the_daemon_and_imports_back(docker, tmp_path):
    s, daemon = docker
    design = design_from_dict(DOCKER)
    res = export(design, "docker")
    assert res.warnings == []
    script = tmp_path / "h1.docker.sh"
    script.write_text(res.files["h1.docker.sh"])
    env = {**os.environ, "DOCKER": f"{DOCKER_CLI} -H {daemon.sock}", "MVPLAN_IMAGE": IMAGE,
           "MVPLAN_COMMAND": "/bin/sleep 600"}
    try:
        cp = subprocess.run(["sh", str(script)], env=env, capture_output=True, text=True, timeout=120)
        assert cp.returncode == 0, cp.stderr
        _round_trip(s, daemon, design)
        # the vepa containers reach each other only through the switch's hairpin port, as predicted
        assert predict(design).reachable("h1/ns:web/eth0", "h1/ns:db/eth0")
        daemon.docker("exec", "web", "/bin/ping", "-c1", "-W2", "10.0.0.12")
        subprocess.run(["bridge", "-n", daemon.netns, "link", "set", "dev", "weth0", "hairpin", "off"], check=True)
        subprocess.run(["ip", "-n", daemon.netns, "link", "set", "dev", "sw", "type", "bridge", "fdb_flush"],
                       check=True)
        assert daemon.docker("exec", "web", "/bin/ping", "-c1", "-W1", "10.0.0.12", check=False).returncode != 0
        subprocess.run(["bridge", "-n", daemon.netns, "link", "set", "dev", "weth0", "hairpin", "on"], check=True)
    finally:
        daemon.clear()


def test_exported_compose_file_runs_on_the_daemon_and_imports_back(docker, tmp_path, require):
    missing = [] if os.access(COMPOSE, os.X_OK) else ["docker-compose (apt-get install docker-compose)"]
    require("docker-compose", missing)
    s, daemon = docker
    design = design_from_dict(DOCKER)
    compose = tmp_path / "h1.compose.yaml"
    compose.write_text(export(design, "docker").files["h1.compose.yaml"])
    env = {**os.environ, "DOCKER_HOST": daemon.sock, "MVPLAN_IMAGE": IMAGE, "MVPLAN_COMMAND": "/bin/sleep 600"}
    try:
        cp = subprocess.run([COMPOSE, "-f", str(compose), "-p", "mvplan", "up", "-d"], env=env, capture_output=True,
                            text=True, timeout=180)
        assert cp.returncode == 0, cp.stderr
        _round_trip(s, daemon, design, any_order=True)  # Compose creates the services in parallel
    finally:
        daemon.clear()


TWO_NETWORKS = {"name": "docker-two", "hosts": [{"name": "h1", "parents": [
    {"name": "eth0", "uplink": {"switch": "sw", "port": "p1"}},
    {"name": "eth1", "uplink": {"switch": "sw", "port": "p2"}}],
    "children": [
        {"name": "eth0", "parent": "eth0", "mode": "vepa", "namespace": "app", "addresses": ["10.0.0.21/24"],
         "routes": [{"to": "default", "via": "10.0.0.1"}]},
        {"name": "eth1", "parent": "eth1", "mode": "private", "namespace": "app", "addresses": ["10.1.0.21/24"]}]}],
    "switches": [{"name": "sw", "ports": [{"name": p} for p in ("p1", "p2", "p8", "p9")]}],
    "stations": [{"name": "gw", "uplink": {"switch": "sw", "port": "p9"}, "addresses": ["10.0.0.1/24"]},
                 {"name": "gw1", "uplink": {"switch": "sw", "port": "p8"}, "addresses": ["10.1.0.1/24"]}]}


def _addresses(netns: str) -> dict[str, list[str]]:
    cp = subprocess.run(["ip", "-n", netns, "-j", "-4", "addr", "show"], capture_output=True, text=True, check=True)
    return {i["ifname"]: [f"{a['local']}/{a['prefixlen']}" for a in i["addr_info"]] for i in json.loads(cp.stdout)
            if i["ifname"] != "lo"}


@pytest.mark.parametrize("form", ["script", "compose"])
def test_a_container_on_two_networks_gets_them_in_the_designs_order(docker, tmp_path, require, form):
    """Docker records the interface order nowhere; the export relies on 'docker network connect'
    (script) and 'priority' (Compose) making the second network eth1 - measured here."""
    if form == "compose":
        missing = [] if os.access(COMPOSE, os.X_OK) else ["docker-compose (apt-get install docker-compose)"]
        require("docker-compose", missing)
    s, daemon = docker
    design = design_from_dict(TWO_NETWORKS)
    res = export(design, "docker")
    assert [w for w in res.warnings if "cannot set a MAC" not in w] == [], res.warnings
    env = {**os.environ, "DOCKER": f"{DOCKER_CLI} -H {daemon.sock}", "DOCKER_HOST": daemon.sock,
           "MVPLAN_IMAGE": IMAGE, "MVPLAN_COMMAND": "/bin/sleep 600"}
    name = "h1.docker.sh" if form == "script" else "h1.compose.yaml"
    (tmp_path / name).write_text(res.files[name])
    argv = ["sh", str(tmp_path / name)] if form == "script" else [COMPOSE, "-f", str(tmp_path / name), "-p", "two",
                                                                  "up", "-d"]
    try:
        cp = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=180)
        assert cp.returncode == 0, cp.stderr
        _attach_container_netns(s, daemon, "app")
        assert _addresses(f"{daemon.netns}-app") == {"eth0": ["10.0.0.21/24"], "eth1": ["10.1.0.21/24"]}
        routes = subprocess.run(["ip", "-n", f"{daemon.netns}-app", "-4", "route", "show", "default"],
                                capture_output=True, text=True, check=True).stdout
        assert routes.split()[:5] == ["default", "via", "10.0.0.1", "dev", "eth0"]
    finally:
        daemon.clear()


def test_a_hand_made_network_without_gateway_imports_as_docker_runs_it(docker):
    """'docker network create' without --gateway: inspect shows none, yet Docker takes the subnet's
    first address and routes the containers through it; the import plans exactly that (warning
    'derived'), so the design's expected state is the container's live one."""
    s, daemon = docker
    try:
        daemon.docker("network", "create", "-d", "macvlan", "--subnet", "10.0.0.0/24", "-o", "parent=eth0", "lan")
        daemon.docker("run", "-d", "--name", "web", "--network", "lan", "--ip", "10.0.0.5", IMAGE, "/bin/sleep", "600")
        nets = daemon.docker("network", "inspect", "lan").stdout
        assert "Gateway" not in json.loads(nets)[0]["IPAM"]["Config"][0]
        back = import_sources("docker", [Source("net.json", nets),
                                         Source("ctr.json", daemon.docker("inspect", "web").stdout)])
        assert [w.code for w in back.warnings].count("derived") == 2  # the gateway, and it as a station
        design = design_from_dict(back.document)
        (web,) = design.hosts[0].children
        assert [(str(r.to), str(r.via)) for r in web.routes] == [("0.0.0.0/0", "10.0.0.1")]
        _attach_container_netns(s, daemon, "web")
        assert differences(design, daemon.netns, design.hosts[0].name) == []
    finally:
        daemon.clear()


def test_one_character_namespaces_run_under_the_exported_container_names(docker, tmp_path):
    """Docker refuses 'a' as a container name; the export names it ns-a (with a warning) and runs."""
    s, daemon = docker
    refused = daemon.docker("create", "--name", "a", IMAGE, "/bin/sleep", "1", check=False)
    assert refused.returncode != 0 and "Invalid container name" in refused.stderr
    design = design_from_dict({"name": "short", "hosts": [{"name": "h1", "parents": [{"name": "eth0"}], "children": [
        {"name": "eth0", "parent": "eth0", "namespace": "a", "addresses": ["10.0.0.2/24"],
         "routes": [{"to": "default", "via": "10.0.0.1"}]}]}],
        "switches": [{"name": "sw", "ports": [{"name": "p1"}, {"name": "p9"}]}],
        "stations": [{"name": "gw", "uplink": {"switch": "sw", "port": "p9"}, "addresses": ["10.0.0.1/24"]}]})
    res = export(design, "docker")
    assert any("namespace a is container ns-a" in w for w in res.warnings)
    (tmp_path / "s.sh").write_text(res.files["h1.docker.sh"])
    env = {**os.environ, "DOCKER": f"{DOCKER_CLI} -H {daemon.sock}", "MVPLAN_IMAGE": IMAGE,
           "MVPLAN_COMMAND": "/bin/sleep 600"}
    try:
        cp = subprocess.run(["sh", str(tmp_path / "s.sh")], env=env, capture_output=True, text=True, timeout=120)
        assert cp.returncode == 0, cp.stderr
        assert daemon.docker("inspect", "-f", "{{.State.Running}}", "ns-a").stdout.strip() == "true"
    finally:
        daemon.clear()
