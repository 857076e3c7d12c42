"""The pyroute2 applier against the kernel, in throwaway namespaces (root + netns).

Every namespace is created by :class:`planner.lab.scratch.Scratch` under a prefix unique to
this process and deleted when the test ends, pass or fail - including the ``<prefix>-<ns>``
namespaces an apply creates for the design's namespaces.
"""
from __future__ import annotations

import copy
import fcntl
import io
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from designs import KITCHEN, host_netns

from planner.core.compiler import compile_plan, expected_state
from planner.core.errors import CompileError
from planner.core.livestate import compare
from planner.core.model import design_from_dict
from planner.lab.scratch import Scratch, full_dump, netns_with_prefix
from planner.netlink.apply import (
    FailAt,
    JournalPending,
    LockBusy,
    apply,
    confirm_keep,
    verify,
)
from planner.netlink.live import read_live

pytestmark = pytest.mark.kernel

ROOT = Path(__file__).resolve().parents[2]

def changed_kitchen() -> dict:
    """KITCHEN with something of every kind of difference: a mode change, a passthru child rebuilt
    as bridge, a child removed and one added, an MTU, a hairpin, a route and a neighbour removed,
    an address moved."""
    doc = copy.deepcopy(KITCHEN)
    h = doc["hosts"][0]
    kids = {c["name"]: c for c in h["children"]}
    kids["web0"]["mode"] = "bridge"
    kids["pt0"]["mode"] = "bridge"
    del kids["pt0"]["nopromisc"]
    kids["outer0"]["mtu"] = 1300
    kids["priv0"]["neighbors"] = []
    kids["priv1"]["addresses"] = ["10.40.0.13/24"]
    h["children"] = [c for c in h["children"] if c["name"] != "src0"]
    h["children"].append({"name": "new0", "parent": "eth0", "mode": "vepa", "namespace": "web",
                          "addresses": ["10.20.0.77/24"]})
    h["bridges"][0]["ports"][0]["hairpin"] = False
    h["bridges"][0]["ports"][1]["peer"]["routes"] = []
    return doc


@pytest.fixture(scope="module")
def kernel(request):
    """Root, namespaces, veth/macvlan/macvtap/bridge: tests/conftest.py's ``lab_prereqs`` (skips,
    or fails with MVPLAN_REQUIRE_ALL=1)."""
    request.getfixturevalue("lab_prereqs")


@pytest.fixture
def rundir(tmp_path):
    d = tmp_path / "run"
    d.mkdir()
    return str(d)


def dump(s: Scratch) -> dict:
    return full_dump(netns_with_prefix(s.prefix), strip_prefix=s.prefix)


def test_dry_run_changes_nothing(kernel, rundir):
    d = design_from_dict(KITCHEN)
    with Scratch() as s:
        n = host_netns(s)
        before = dump(s)
        res = apply(d, netns=n, run_dir_path=rundir)
        assert res.dry_run and len(res.plan.ops) > 40
        assert dump(s) == before
        assert not list(Path(rundir).iterdir())  # no lock, no journal for a dry run


def test_apply_verifies_and_second_apply_is_a_noop(kernel, rundir):
    d = design_from_dict(KITCHEN)
    with Scratch() as s:
        n = host_netns(s)
        res = apply(d, netns=n, yes=True, run_dir_path=rundir)
        assert res.ok, (res.error, res.mismatches)
        assert res.verified and res.applied == len(res.plan.ops)
        live = read_live(n, host="host1")
        assert compare(expected_state(d, hosts=["host1"]), live) == []
        assert compile_plan(d, live).ops == ()
        # namespaces of the design are <netns>-<name>
        assert set(netns_with_prefix(s.prefix)) >= {f"{n}-{x}" for x in ("web", "vm", "nested", "app", "app2", "ctr")}
        again = apply(d, netns=n, yes=True, run_dir_path=rundir, use_stamp=False)
        assert again.ok and again.plan.ops == () and again.verified and not again.cached
        stamped = apply(d, netns=n, yes=True, run_dir_path=rundir)
        assert stamped.ok and stamped.cached and stamped.plan.ops == ()
        # a change made behind mvplan's back invalidates the stamp
        s.ip(f"{n}-web", "link", "set", "web0", "down")
        fixed = apply(d, netns=n, yes=True, run_dir_path=rundir)
        assert not fixed.cached and fixed.ok and fixed.verified
        assert {op.kind for op in fixed.plan.ops} == {"set-link-up", "add-neighbor", "add-route"}  # down flushed them


def _sweep(d, n: str, s: Scratch, rundir: str, before: dict) -> int:
    total = len(apply(d, netns=n, run_dir_path=rundir).plan.ops)
    assert total > 0
    for k in range(total):
        res = apply(d, netns=n, yes=True, run_dir_path=rundir, fault=FailAt(k))
        assert res.error and res.rolled_back and res.applied == k, (k, res.error)
        assert res.rollback_errors == [], (k, res.plan.ops[k].describe(), res.rollback_errors)
        after = dump(s)
        assert after == before, f"state differs after a fault before op {k}: {res.plan.ops[k].describe()}"
    return total


def test_rollback_at_every_position_of_a_fresh_apply(kernel, rundir):
    d = design_from_dict(KITCHEN)
    with Scratch() as s:
        n = host_netns(s)
        before = dump(s)
        total = _sweep(d, n, s, rundir, before)
        assert total > 60
        assert not list(Path(rundir).glob("*.journal"))  # every rollback finished its journal


def test_rollback_at_every_position_of_a_change(kernel, rundir):
    a, b = design_from_dict(KITCHEN), design_from_dict(changed_kitchen())
    with Scratch() as s:
        n = host_netns(s)
        assert apply(a, netns=n, yes=True, run_dir_path=rundir).ok
        before = dump(s)
        plan = apply(b, netns=n, run_dir_path=rundir).plan
        kinds = {op.kind for op in plan.ops}
        assert {"delete-link", "set-mode", "set-mtu", "set-hairpin", "del-route", "del-neighbor",
                "del-address", "create-macvlan"} <= kinds
        _sweep(b, n, s, rundir, before)


def test_a_failing_op_is_rolled_back_without_injection(kernel, rundir):
    """A real kernel refusal (EEXIST from a name collision created behind the plan's back)."""
    d = design_from_dict(KITCHEN)
    with Scratch() as s:
        n = host_netns(s)
        before = dump(s)
        plan = apply(d, netns=n, run_dir_path=rundir).plan
        # make the last namespace of the plan exist (unmanaged) right before it is created
        ns_ops = [k for k, op in enumerate(plan.ops) if op.kind == "create-namespace"]
        victim = plan.ops[ns_ops[-1]].name

        def collide(k, op):
            if k == ns_ops[-1]:
                subprocess.run(["ip", "netns", "add", f"{n}-{victim}"], check=True)

        res = apply(d, netns=n, yes=True, run_dir_path=rundir, fault=collide)
        assert res.rolled_back and "EEXIST" in res.error and res.applied == ns_ops[-1]
        subprocess.run(["ip", "netns", "del", f"{n}-{victim}"], check=True)
        assert dump(s) == before


def test_ownership_unowned_links_are_never_deleted(kernel, rundir):
    d = design_from_dict(KITCHEN)
    with Scratch() as s:
        n = host_netns(s)
        # someone else's macvlan on eth0 and someone else's link named like a design child
        s.ip(n, "link", "add", "link", "eth0", "name", "theirs0", "type", "macvlan", "mode", "bridge")
        assert apply(d, netns=n, yes=True, run_dir_path=rundir).ok
        assert read_live(n).hosts[0].link("", "theirs0") is not None
        # drop a child from the design: its (owned) link goes, theirs0 stays
        doc = copy.deepcopy(KITCHEN)
        doc["hosts"][0]["children"] = [c for c in doc["hosts"][0]["children"] if c["name"] != "outer0"
                                       and c["name"] != "inner0"]
        res = apply(design_from_dict(doc), netns=n, yes=True, run_dir_path=rundir)
        assert res.ok, res.error
        deleted = [op.name for op in res.plan.ops if op.kind == "delete-link"]
        assert "outer0" in deleted and "theirs0" not in deleted
        host = read_live(n).hosts[0]
        assert host.link("", "outer0") is None and host.link("", "theirs0") is not None
    with Scratch() as s:
        n = host_netns(s)
        # a link in the way that mvplan did not create (wrong lower device) is an error, not a delete
        s.ip(n, "link", "add", "link", "eth1", "name", "outer0", "type", "macvlan", "mode", "vepa")
        before = dump(s)
        with pytest.raises(CompileError, match="did not create it"):
            apply(d, netns=n, yes=True, run_dir_path=rundir)
        assert dump(s) == before


def test_verify_reports_every_mismatch(kernel, rundir):
    d = design_from_dict(KITCHEN)
    with Scratch() as s:
        n = host_netns(s)
        assert apply(d, netns=n, yes=True, run_dir_path=rundir).ok
        assert verify(d, netns=n) == []
        s.ip(f"{n}-web", "link", "set", "web0", "type", "macvlan", "mode", "private")
        s.ip(n, "link", "set", "outer0", "mtu", "1280")
        s.ip(f"{n}-ctr", "addr", "del", "10.40.0.20/24", "dev", "eth0")
        problems = verify(d, netns=n)
        text = "\n".join(problems)
        assert "web0: mode is 'private', expected 'vepa'" in text
        assert "outer0: mtu is 1280, expected 1400" in text
        assert "10.40.0.20/24" in text
        assert len(problems) >= 3


def test_cli_exit_code_on_verification_failure(kernel, rundir, monkeypatch, capsys):
    from planner import cli
    from planner.netlink import transaction

    with Scratch() as s:
        n = host_netns(s)
        path = Path(rundir) / "k.json"
        path.write_text(json.dumps(KITCHEN))
        monkeypatch.setattr(transaction, "compare", lambda expected, live: ["host1/eth0: mtu is 1, expected 2"])
        rc = cli.main(["apply", str(path), "--netns", n, "--yes", "--run-dir", rundir])
        out = capsys.readouterr().out
        assert rc == 1 and "verification FAILED" in out and "mtu is 1, expected 2" in out


def test_lock_one_apply_at_a_time(kernel, rundir):
    d = design_from_dict(KITCHEN)
    with Scratch() as s:
        n = host_netns(s)
        lock = Path(rundir) / f"netns-{n}.lock"
        fd = os.open(lock, os.O_RDWR | os.O_CREAT)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            os.write(fd, b"4242\n")
            with pytest.raises(LockBusy, match="pid 4242"):
                apply(d, netns=n, yes=True, run_dir_path=rundir)
            assert apply(d, netns=n, run_dir_path=rundir).dry_run  # a dry run does not need the lock
        finally:
            os.close(fd)
        assert apply(d, netns=n, yes=True, run_dir_path=rundir).ok


def _cli(*args, env=None, rundir):
    e = dict(os.environ, PYTHONPATH=str(ROOT), **(env or {}))
    return subprocess.run([sys.executable, "-m", "planner.cli", *args, "--run-dir", rundir],
                          capture_output=True, text=True, env=e, cwd=ROOT, timeout=120, check=False)


def test_killed_apply_recovers_by_rollback_and_by_completion(kernel, rundir, tmp_path):
    path = tmp_path / "kitchen.json"
    path.write_text(json.dumps(KITCHEN))
    d = design_from_dict(KITCHEN)
    with Scratch() as s:
        n = host_netns(s)
        before = dump(s)
        total = len(apply(d, netns=n, run_dir_path=rundir).plan.ops)
        for kill_at in (1, total // 2, total - 1):
            cp = _cli("apply", str(path), "--netns", n, "--yes", env={"MVPLAN_KILL_AT": str(kill_at)}, rundir=rundir)
            assert cp.returncode == -9, cp.stderr
            journal = Path(rundir) / f"netns-{n}.journal"
            assert journal.exists()
            lines = journal.read_text().splitlines()
            # the done map: the ops before the kill are marked, the rest still pending
            assert json.loads(lines[0])["host"] == "host1" and lines[-1] == "+" * kill_at + "." * (total - kill_at)
            with pytest.raises(JournalPending):
                apply(d, netns=n, yes=True, run_dir_path=rundir)
            cp = _cli("apply", "--recover", "rollback", "--netns", n, rundir=rundir)
            assert cp.returncode == 0, cp.stdout + cp.stderr
            assert "rolled back" in cp.stdout
            assert not journal.exists()
            assert dump(s) == before, f"not restored after a kill before op {kill_at}"
        cp = _cli("apply", str(path), "--netns", n, "--yes", env={"MVPLAN_KILL_AT": str(total // 2)}, rundir=rundir)
        assert cp.returncode == -9
        cp = _cli("apply", "--recover", "complete", "--netns", n, rundir=rundir)
        assert cp.returncode == 0, cp.stdout + cp.stderr
        assert "verified: the live state matches the design" in cp.stdout
        assert verify(d, netns=n) == []


def test_confirm_timeout_rolls_back_and_confirm_keeps(kernel, rundir):
    d = design_from_dict(KITCHEN)
    with Scratch() as s:
        n = host_netns(s)
        before = dump(s)
        err = io.StringIO()
        res = apply(d, netns=n, yes=True, run_dir_path=rundir, confirm_seconds=0.3, confirm_stdin=False, stream=err)
        assert res.rolled_back and res.confirmed is False and "not confirmed" in res.error
        assert "--confirm-keep" in err.getvalue()
        assert dump(s) == before
        t = threading.Timer(0.3, confirm_keep, kwargs={"netns": n, "run_dir_path": rundir})
        t.start()
        res = apply(d, netns=n, yes=True, run_dir_path=rundir, confirm_seconds=10, confirm_stdin=False,
                    stream=io.StringIO())
        t.join()
        assert res.ok and res.confirmed and not res.rolled_back
        assert verify(d, netns=n) == []


def test_progress_display_for_big_plans(kernel, rundir):
    kids = [{"name": f"mv{i}", "parent": "eth0", "mode": "bridge", "addresses": [f"10.77.{i}.1/24"]}
            for i in range(40)]
    d = design_from_dict({"version": 1, "name": "progress", "hosts": [{"name": "h", "parents": [{"name": "eth0"}],
                                                                        "children": kids}]})
    with Scratch() as s:
        n = host_netns(s)
        out = io.StringIO()
        res = apply(d, netns=n, yes=True, run_dir_path=rundir, progress=True, stream=out)
        assert res.ok and len(res.plan.ops) > 30
        assert f"{len(res.plan.ops)}/{len(res.plan.ops)} ops applied" in out.getvalue()
        quiet = io.StringIO()
        apply(d, netns=n, yes=True, run_dir_path=rundir, stream=quiet)  # not a terminal: no display
        assert quiet.getvalue() == ""


def test_multi_host_design_needs_host(kernel, rundir):
    from planner.core.errors import DesignError

    doc = copy.deepcopy(KITCHEN)
    doc["hosts"].append({"name": "host2", "parents": [{"name": "eth0"}]})
    with Scratch() as s:
        n = host_netns(s)
        with pytest.raises(DesignError, match="--host"):
            apply(design_from_dict(doc), netns=n)
        assert apply(design_from_dict(doc), netns=n, host="host1", yes=True, run_dir_path=rundir).ok


def test_bench_helpers_work(kernel, rundir):
    """bench/apply.py's pieces at 200 children (timing targets are the bench's business, not a
    unit test's: this machine's noise would make them flaky)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_apply", ROOT / "bench" / "apply.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    d = design_from_dict(bench.design_doc(200))
    text = bench.batch_text(d)
    assert text.count("link add link eth0") == 200 and text.count("address add") == 200
    assert bench.time_ip_batch(text) > 0
    first, noop, noop_full, timings = bench.time_apply(d, rundir)  # asserts the applies are ok and no-ops
    assert {"read", "compile", "execute", "verify"} <= set(timings)
    assert noop < first


def test_parent_mtu_is_set_verified_and_carrier_checked(kernel, rundir):
    """A parent with mtu 9000 gets it before its children (one of which asks for 9000 too); a NIC
    whose MTU changes behind mvplan's back fails verification; a parent without carrier is warned of."""
    doc = {"version": 1, "name": "mtu", "hosts": [{"name": "h", "parents": [{"name": "eth0", "mtu": 9000}],
                                                   "children": [{"name": "a", "parent": "eth0", "mtu": 9000,
                                                                 "namespace": "x"},
                                                                {"name": "b", "parent": "eth0", "namespace": "y"}]}]}
    d = design_from_dict(doc)
    with Scratch() as s:
        n = s.add("h")
        s.ip(n, "link", "add", "eth0", "type", "veth", "peer", "name", "w0")  # w0 stays down: no carrier
        res = apply(d, netns=n, yes=True, run_dir_path=rundir, use_stamp=False)
        assert res.ok, res.error
        assert any("eth0 has no carrier" in w for w in res.warnings)
        assert '"mtu": 9000' in json.dumps(read_live(n, prefix=f"{n}-").to_dict())
        for ns in ("x", "y"):
            out = subprocess.run(["ip", "-n", f"{n}-{ns}", "-o", "link"], capture_output=True, text=True).stdout
            assert "mtu 9000" in out, out
        s.ip(n, "link", "set", "eth0", "mtu", "1500")
        assert any("mtu" in m for m in verify(d, netns=n)), "a parent MTU that differs is reported"
