"""Export parity: the exported iproute2 script, run inside namespaces, leaves the same live state as
the pyroute2 applier - compared through read_live (design words) and through an independent
``ip -json`` dump of every namespace (ifindexes, nsids, timers and carrier noise removed)."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from designs import KITCHEN, host_netns

from planner.core.model import design_from_dict, load_design
from planner.core.ops import OP_TYPES
from planner.exporters import export
from planner.lab.scratch import Scratch, full_dump, netns_with_prefix
from planner.netlink.apply import apply, verify
from planner.netlink.execute import NETLINK_CALLS
from planner.netlink.live import read_live

pytestmark = pytest.mark.kernel


@pytest.fixture(scope="module")
def kernel(request):
    request.getfixturevalue("lab_prereqs")


def _run_script(design, netns: str, **opts) -> None:
    files = export(design, "iproute2", netns_prefix=f"{netns}-", **opts).files
    (script,) = [t for name, t in files.items() if name.endswith(".sh")]
    # nsenter, not 'ip netns exec': the latter runs in a private (slave) mount namespace, so the
    # 'ip netns add' of the script would mount its namespaces where nobody else sees them. The
    # script's sysfs hairpin form is rehearsed by tests/test_exporters.py (it mounts its own sysfs).
    cp = subprocess.run(["nsenter", f"--net=/run/netns/{netns}", "sh", "-s"], input=script, capture_output=True,
                        text=True, check=False)
    assert cp.returncode == 0, cp.stderr


def _states(design, opts: dict, rundir):
    with Scratch() as a, Scratch() as b:
        na, nb = host_netns(a), host_netns(b)
        res = apply(design, netns=na, yes=True, run_dir_path=rundir)
        assert res.ok, (res.error, res.mismatches)
        _run_script(design, nb, **opts)
        host = design.hosts[0].name
        live_a = read_live(na, host=host).to_dict()
        live_b = read_live(nb, host=host).to_dict()
        dump_a = full_dump(netns_with_prefix(a.prefix), strip_prefix=a.prefix)
        dump_b = full_dump(netns_with_prefix(b.prefix), strip_prefix=b.prefix)
        script_verifies = verify(design, netns=nb)
        return live_a, live_b, dump_a, dump_b, script_verifies


@pytest.mark.parametrize("opts", [{}, {"batch": True}], ids=["plain", "batch"])
def test_script_and_applier_leave_the_same_state(kernel, opts, tmp_path):
    design = design_from_dict(KITCHEN)
    live_a, live_b, dump_a, dump_b, script_verifies = _states(design, opts, tmp_path)
    assert live_a == live_b
    assert set(dump_a) == set(dump_b)
    for ns in dump_a:
        for what in ("links", "addresses", "routes", "neighbours"):
            assert dump_a[ns][what] == dump_b[ns][what], (ns, what)
    assert script_verifies == []


def test_parity_on_an_example(kernel, tmp_path):
    design = load_design(Path(__file__).resolve().parents[2] / "examples" / "host-shim.yaml")
    with Scratch() as a, Scratch() as b:
        na, nb = a.add("h"), b.add("h")
        for s, n in ((a, na), (b, nb)):
            s.ip(n, "link", "add", "eth0", "address", "52:54:00:00:09:01", "type", "veth", "peer", "name", "x0",
                 "address", "52:54:00:00:09:02")
        assert apply(design, netns=na, yes=True, run_dir_path=tmp_path).ok
        _run_script(design, nb)
        assert read_live(na).to_dict() == read_live(nb).to_dict()
        assert full_dump(netns_with_prefix(a.prefix), a.prefix) == full_dump(netns_with_prefix(b.prefix), b.prefix)


def test_every_op_type_has_a_netlink_call():
    assert set(NETLINK_CALLS) == set(OP_TYPES)
