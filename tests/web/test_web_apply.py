"""Applying from the browser: off by default, the apply token, targets, dry run, jobs; and, with
root, real applies into throwaway namespaces (verified; an injected fault rolled back).

Kernel tests use tests/conftest.py's ``lab_prereqs`` (skip, or fail with MVPLAN_REQUIRE_ALL=1)
and :class:`planner.lab.scratch.Scratch`, which deletes every namespace under its prefix -
also the ``NAME-<design namespace>`` ones an apply creates - when the ``with`` block ends.
"""
from __future__ import annotations

import copy
import fcntl
import os
import threading
import time

import pytest
from webhelpers import assert_envelope

from planner.web import applying, create_app

TOKEN = "t0k3n-for-tests"


def create(api, doc, message="created"):
    resp = api.post("/api/designs", json={"document": doc, "message": message})
    assert resp.status_code == 201, resp.get_data(as_text=True)
    return resp.get_json()


@pytest.fixture
def rundir(tmp_path):
    d = tmp_path / "run"
    d.mkdir()
    return str(d)


@pytest.fixture
def apply_app(tmp_path, rundir):
    return create_app({"TESTING": True, "SECRET_KEY": "test", "DATABASE": str(tmp_path / "apply.sqlite3"),
                       "SEED_EXAMPLES": False, "ALLOW_APPLY": True, "APPLY_TOKEN": TOKEN,
                       "APPLY_RUN_DIR": rundir}, instance_path=str(tmp_path))


class ApplyApi:
    """A client that sends the CSRF header and (unless told otherwise) the apply token."""

    def __init__(self, app):
        self.app = app
        self.client = app.test_client()
        self.csrf = self.client.get("/api/csrf").get_json()["token"]

    def headers(self, token=TOKEN, csrf=True):
        h = {}
        if csrf:
            h["X-CSRF-Token"] = self.csrf
        if token is not None:
            h["X-Apply-Token"] = token
        return h

    def post(self, url, json=None, token=TOKEN, csrf=True):
        return self.client.post(url, json=json, headers=self.headers(token, csrf))

    def get(self, url, token=TOKEN):
        return self.client.get(url, headers=self.headers(token, csrf=False))

    def design(self, doc) -> int:
        resp = self.client.post("/api/designs", json={"document": doc}, headers={"X-CSRF-Token": self.csrf})
        assert resp.status_code == 201, resp.get_data(as_text=True)
        return resp.get_json()["id"]

    def dry_run(self, design_id, netns, **extra):
        return self.post(f"/api/designs/{design_id}/apply/dry-run",
                         json={"target": {"kind": "netns", "netns": netns}, **extra})

    def apply(self, design_id, netns, **extra):
        return self.post(f"/api/designs/{design_id}/apply", json={"target": {"kind": "netns", "netns": netns}, **extra})

    def wait(self, job_id, timeout=60.0) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            resp = self.get(f"/api/apply/{job_id}")
            assert resp.status_code == 200, resp.get_data(as_text=True)
            job = resp.get_json()
            if job["finished"]:
                return job
            assert time.monotonic() < deadline, f"apply job still running after {timeout}s: {job}"
            time.sleep(0.05)


@pytest.fixture
def aapi(apply_app):
    return ApplyApi(apply_app)


# =========================================================================== off by default
def test_apply_is_off_by_default(api, vepa_doc):
    rec = create(api, vepa_doc)
    body = {"target": {"kind": "netns", "netns": "lab1"}}
    for url in (f"/api/designs/{rec['id']}/apply", f"/api/designs/{rec['id']}/apply/dry-run"):
        err = assert_envelope(api.post(url, json=body, headers={"X-Apply-Token": "anything"}), 403, "apply_disabled")
        assert err["message"] == "applying designs from the browser is off; start the server with --allow-apply"
    assert_envelope(api.get("/api/apply/0123456789abcdef"), 403, "apply_disabled")
    assert api.get("/api/meta").get_json()["capabilities"]["apply"] is False
    page = api.get(f"/designs/{rec['id']}").get_data(as_text=True)
    assert 'id="apply-off"' in page and 'id="apply-form"' not in page


def test_editor_has_the_apply_form_when_allowed(aapi, vepa_doc):
    did = aapi.design(vepa_doc)
    page = aapi.client.get(f"/designs/{did}").get_data(as_text=True)
    assert 'id="apply-form"' in page and 'id="apply-token"' in page and 'id="apply-confirm-host"' in page
    assert TOKEN not in page  # the token is never rendered into a page
    assert aapi.client.get("/api/meta").get_json()["capabilities"]["apply"] is True


# =========================================================================== token
@pytest.mark.parametrize("token", [None, "", "wrong", TOKEN + "x", TOKEN[:-1], TOKEN.upper(), "ä" * 5])
def test_apply_token_is_required_and_checked(aapi, vepa_doc, token):
    did = aapi.design(vepa_doc)
    body = {"target": {"kind": "netns", "netns": "lab1"}}
    for resp in (aapi.post(f"/api/designs/{did}/apply/dry-run", json=body, token=token),
                 aapi.post(f"/api/designs/{did}/apply", json=body, token=token),
                 aapi.get("/api/apply/0123456789abcdef", token=token),
                 aapi.post("/api/designs/999/apply", json=body, token=token)):  # no design: still 403 first
        err = assert_envelope(resp, 403, "apply_token")
        assert "X-Apply-Token" in err["message"]


def test_right_token_passes_and_unknown_job_is_404(aapi):
    assert_envelope(aapi.get("/api/apply/0123456789abcdef"), 404, "not_found")


def test_token_is_compared_in_constant_time(aapi, vepa_doc, monkeypatch):
    seen = []
    real = applying.hmac.compare_digest

    def spy(a, b):
        seen.append((a, b))
        return real(a, b)

    monkeypatch.setattr(applying.hmac, "compare_digest", spy)
    aapi.get("/api/apply/0123456789abcdef", token="nope")
    assert (b"nope", TOKEN.encode()) in seen


def test_token_and_csrf_are_both_needed(aapi, vepa_doc):
    did = aapi.design(vepa_doc)
    resp = aapi.post(f"/api/designs/{did}/apply", json={"target": {"kind": "netns", "netns": "lab1"}}, csrf=False)
    assert_envelope(resp, 403, "csrf_failed")


def test_no_token_configured_means_nothing_matches(tmp_path, vepa_doc):
    app = create_app({"TESTING": True, "SECRET_KEY": "t", "DATABASE": str(tmp_path / "x.sqlite3"),
                      "SEED_EXAMPLES": False, "ALLOW_APPLY": True}, instance_path=str(tmp_path))
    a = ApplyApi(app)
    did = a.design(vepa_doc)
    for token in (None, "", "None"):
        assert_envelope(a.post(f"/api/designs/{did}/apply/dry-run",
                               json={"target": {"kind": "netns", "netns": "lab1"}}, token=token), 403, "apply_token")


def test_serve_prints_a_fresh_apply_token(tmp_path, monkeypatch, capsys):
    from planner import web

    apps = []
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("flask.Flask.run", lambda self, **kw: apps.append(self))
    monkeypatch.setattr(web, "_check_port_free", lambda host, port: None)  # port 9999 may be in use here
    web.serve(port=9999, allow_apply=True)
    web.serve(port=9999, allow_apply=True)
    err = capsys.readouterr().err
    printed = [line.split("mvplan: apply token: ", 1)[1].strip() for line in err.splitlines()
               if line.startswith("mvplan: apply token: ")]
    assert len(printed) == 2 and printed[0] != printed[1] and len(printed[0]) >= 20
    assert [a.config["APPLY_TOKEN"] for a in apps] == printed
    web.serve(port=9999, allow_apply=False)
    assert "apply token" not in capsys.readouterr().err
    assert apps[-1].config["APPLY_TOKEN"] is None and apps[-1].config["ALLOW_APPLY"] is False


# =========================================================================== targets and designs
BAD_NAMES = ["", "a/b", "../etc", "..", ".", "-lab", "_lab", "lab 1", "lab;rm -rf", "lab\n1", "x" * 33, "läb",
             "lab.1", "<script>", 5, None, ["lab1"], {"n": 1}]


@pytest.mark.parametrize("name", BAD_NAMES, ids=[repr(n)[:20] for n in BAD_NAMES])
def test_namespace_names_are_validated_strictly(aapi, vepa_doc, name):
    did = aapi.design(vepa_doc)
    for url in (f"/api/designs/{did}/apply/dry-run", f"/api/designs/{did}/apply"):
        err = assert_envelope(aapi.post(url, json={"target": {"kind": "netns", "netns": name}}), 400, "bad_netns")
        assert "1 to 32 characters" in err["message"]


@pytest.mark.parametrize("name", ["lab1", "L", "a" * 32, "mvt123x4-h", "my_lab-2"])
def test_good_namespace_names_pass_validation(name):
    assert applying.parse_target({"target": {"kind": "netns", "netns": name}}, real=True).netns == name


def test_target_shapes(aapi, vepa_doc):
    did = aapi.design(vepa_doc)
    url = f"/api/designs/{did}/apply"
    for body in ({}, {"target": "lab1"}, {"target": {"kind": "vm"}}, {"target": None}):
        assert_envelope(aapi.post(url, json=body), 400, "bad_target")
    for confirm in (None, False, "yes", 1):
        t = {"kind": "host"} if confirm is None else {"kind": "host", "confirm": confirm}
        err = assert_envelope(aapi.post(url, json={"target": t}), 400, "host_not_confirmed")
        assert "confirm" in err["message"]
    assert_envelope(aapi.post(url, json={"target": {"kind": "netns", "netns": "lab1"}, "version": "1"}), 400,
                    "bad_request")
    assert_envelope(aapi.post(url, json={"target": {"kind": "netns", "netns": "lab1"}, "version": 7}), 404,
                    "not_found")
    assert_envelope(aapi.post("/api/designs/999/apply", json={"target": {"kind": "netns", "netns": "lab1"}}), 404,
                    "not_found")


def test_design_with_check_errors_is_422_with_findings(aapi, vepa_doc):
    vepa_doc["hosts"][0]["children"][0]["mode"] = "passthru"  # MV101: passthru needs the parent alone
    did = aapi.design(vepa_doc)
    for url in (f"/api/designs/{did}/apply/dry-run", f"/api/designs/{did}/apply"):
        err = assert_envelope(aapi.post(url, json={"target": {"kind": "netns", "netns": "lab1"}}), 422, "check_errors")
        assert "MV101" in {f["code"] for f in err["details"]["findings"]}


def test_multi_host_design_needs_a_host(aapi, vepa_doc):
    doc = copy.deepcopy(vepa_doc)
    h2 = copy.deepcopy(doc["hosts"][0])
    h2["name"] = "host2"
    h2["parents"][0]["uplink"] = {"switch": "sw1", "port": "p9"}
    h2["children"] = [{"name": "app0", "parent": "eth0", "mode": "bridge", "addresses": ["10.10.0.21/24"]}]
    doc["hosts"].append(h2)
    doc["stations"] = []
    did = aapi.design(doc)
    err = assert_envelope(aapi.post(f"/api/designs/{did}/apply", json={"target": {"kind": "netns", "netns": "lab1"}}),
                          400, "bad_host")
    assert err["details"]["hosts"] == ["host1", "host2"]
    assert_envelope(aapi.post(f"/api/designs/{did}/apply", json={"target": {"kind": "netns", "netns": "lab1"},
                                                                 "host": "nope"}), 400, "bad_host")


# =========================================================================== jobs (no kernel: a stand-in applier)
class FakeApplier:
    """Stands in for planner.netlink.apply in tests that exercise the job machinery only."""

    def __init__(self, real, block: threading.Event | None = None, boom: Exception | None = None):
        self.real = real
        self.block = block
        self.boom = boom
        self.calls = []

    def __getattr__(self, name):
        return getattr(self.real, name)

    def apply(self, design, *, netns=None, host=None, yes=False, fault=None, **kw):
        from planner.core.compiler import compile_plan
        from planner.netlink.apply import ApplyResult

        self.calls.append(("apply", netns, yes))
        plan = compile_plan(design, hosts=[host])
        if yes:
            if self.boom is not None:
                raise self.boom
            if self.block is not None:
                assert self.block.wait(10)
            for k, op in enumerate(plan.ops):
                fault and fault(k, op)
        return ApplyResult(host=host, target=f"netns {netns}", plan=plan, dry_run=not yes,
                           applied=len(plan.ops) if yes else 0, verified=yes)

    def verify(self, design, *, netns=None, host=None, prefix=None):
        return ["host1/ns:web: namespace missing"]


@pytest.fixture
def fake(monkeypatch, vepa_doc):
    import planner.netlink.apply as real
    from planner.netlink import target as target_mod

    class NoTarget:
        def __init__(self, netns=None, prefix=None):
            if netns == "missing":
                raise target_mod.TargetMissing(f"network namespace {netns!r} does not exist")

        def close(self):
            pass

    monkeypatch.setattr(target_mod, "Target", NoTarget)

    def make(**kw):
        f = FakeApplier(real, **kw)
        monkeypatch.setattr(applying, "_applier", lambda: f)
        return f
    return make


def test_dry_run_shape(aapi, vepa_doc, fake):
    fake()
    did = aapi.design(vepa_doc)
    resp = aapi.dry_run(did, "lab1")
    assert resp.status_code == 200, resp.get_data(as_text=True)
    body = resp.get_json()
    assert body["design"] == {"id": did, "name": "vepa-hairpin", "version": 1}
    assert body["target"]["kind"] == "netns" and body["target"]["netns"] == "lab1"
    assert body["host"] == "host1" and body["differences"] == ["host1/ns:web: namespace missing"]
    ops = body["plan"]["ops"]
    assert body["plan"]["count"] == len(ops) == 15
    assert [o["index"] for o in ops] == list(range(1, 16)) and all(o["description"] and o["op"] for o in ops)
    assert isinstance(body["plan_digest"], str) and len(body["plan_digest"]) == 32


def test_host_target_dry_run_needs_no_confirmation_but_apply_does(aapi, vepa_doc, fake):
    f = fake()
    did = aapi.design(vepa_doc)
    resp = aapi.post(f"/api/designs/{did}/apply/dry-run", json={"target": {"kind": "host"}})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.get_json()["target"]["kind"] == "host" and resp.get_json()["target"]["netns"] is None
    assert f.calls == [("apply", None, False)]
    assert_envelope(aapi.post(f"/api/designs/{did}/apply", json={"target": {"kind": "host"}}), 400,
                    "host_not_confirmed")
    assert len(f.calls) == 1  # refused before anything ran
    resp = aapi.post(f"/api/designs/{did}/apply", json={"target": {"kind": "host", "confirm": True}})
    assert resp.status_code == 202, resp.get_data(as_text=True)
    job = aapi.wait(resp.get_json()["job"])
    assert job["status"] == "verified" and job["target"] == {"kind": "host", "netns": None}
    assert ("apply", None, True) in f.calls


def test_one_apply_at_a_time_busy_is_409(aapi, vepa_doc, fake):
    gate = threading.Event()
    fake(block=gate)
    did = aapi.design(vepa_doc)
    first = aapi.apply(did, "lab1")
    assert first.status_code == 202, first.get_data(as_text=True)
    job = first.get_json()
    assert first.headers["Location"] == f"/api/apply/{job['job']}" == job["status_url"]
    try:
        err = assert_envelope(aapi.apply(did, "lab2"), 409, "apply_busy")
        assert err["details"]["job"] == job["job"]
        assert_envelope(aapi.dry_run(did, "lab1"), 409, "apply_busy")
        running = aapi.get(f"/api/apply/{job['job']}").get_json()
        assert running["status"] == "running" and running["finished"] is False
    finally:
        gate.set()
    done = aapi.wait(job["job"])
    assert done["status"] == "verified" and done["progress"]["done"] == done["progress"]["total"] == 15
    assert done["result"]["verified"] is True and done["result"]["mismatches"] == []
    again = aapi.apply(did, "lab1")  # free again
    assert again.status_code == 202
    aapi.wait(again.get_json()["job"])


def test_unexpected_failure_in_a_job_reaches_the_browser_without_traceback(aapi, vepa_doc, fake):
    fake(boom=RuntimeError("secret internals /etc/shadow"))
    did = aapi.design(vepa_doc)
    job = aapi.wait(aapi.apply(did, "lab1").get_json()["job"])
    assert job["status"] == "failed" and job["finished"] is True
    assert job["error"]["code"] == "internal_error"
    text = str(job)
    assert "Traceback" not in text and "secret internals" not in text


def test_missing_target_is_404_before_a_job_starts(aapi, vepa_doc, fake):
    fake()
    did = aapi.design(vepa_doc)
    err = assert_envelope(aapi.apply(did, "missing"), 404, "target_missing")
    assert "ip netns add missing" in err["message"]


def test_a_changed_plan_stops_the_apply(aapi, vepa_doc, fake):
    f = fake()
    did = aapi.design(vepa_doc)
    job = aapi.wait(aapi.apply(did, "lab1", plan_digest="0" * 32).get_json()["job"])
    assert job["status"] == "failed" and job["error"]["code"] == "plan_changed"
    assert ("apply", "lab1", True) not in f.calls  # nothing was applied
    digest = aapi.dry_run(did, "lab1").get_json()["plan_digest"]
    assert aapi.wait(aapi.apply(did, "lab1", plan_digest=digest).get_json()["job"])["status"] == "verified"
    assert_envelope(aapi.apply(did, "lab1", plan_digest=5), 400, "bad_request")


def test_lock_held_by_another_process_is_409(aapi, vepa_doc, fake, rundir):
    fake()
    did = aapi.design(vepa_doc)
    fd = os.open(os.path.join(rundir, "netns-lab1.lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.pwrite(fd, b"4242\n", 0)
        err = assert_envelope(aapi.apply(did, "lab1"), 409, "apply_busy")
        assert "4242" in err["message"]
    finally:
        os.close(fd)
    with open(os.path.join(rundir, "netns-lab1.journal"), "w") as fh:
        fh.write("{}\n")
    err = assert_envelope(aapi.apply(did, "lab1"), 409, "journal_pending")
    assert "--recover" in err["message"]


# =========================================================================== the kernel
def _vepa_target(s):
    """A netns standing for vepa-hairpin's host1: eth0 is a veth whose peer is up in '<prefix>-wire'."""
    from designs import host_netns

    return host_netns(s)


@pytest.mark.kernel
def test_kernel_dry_run_lists_ops_and_changes_nothing(lab_prereqs, aapi, vepa_doc):
    from planner.lab.scratch import Scratch, full_dump, netns_with_prefix

    did = aapi.design(vepa_doc)
    s = Scratch("mvw")
    try:
        n = _vepa_target(s)
        before = full_dump(netns_with_prefix(s.prefix))
        resp = aapi.dry_run(did, n)
        assert resp.status_code == 200, resp.get_data(as_text=True)
        body = resp.get_json()
        assert body["target"] == {"kind": "netns", "netns": n, "describe": f"netns {n}"}
        descs = [o["description"] for o in body["plan"]["ops"]]
        assert body["plan"]["count"] == 15 and "host1/ns:web: create network namespace web" in descs
        assert "host1/ns:web: namespace missing" in body["differences"]
        assert full_dump(netns_with_prefix(s.prefix)) == before
    finally:
        s.cleanup()
    assert netns_with_prefix(s.prefix) == []


@pytest.mark.kernel
def test_kernel_apply_verifies_and_builds_the_design(lab_prereqs, aapi, vepa_doc):
    from planner.lab.scratch import Scratch, full_dump, netns_with_prefix

    did = aapi.design(vepa_doc)
    s = Scratch("mvw")
    try:
        n = _vepa_target(s)
        digest = aapi.dry_run(did, n).get_json()["plan_digest"]
        resp = aapi.apply(did, n, plan_digest=digest)
        assert resp.status_code == 202, resp.get_data(as_text=True)
        job = aapi.wait(resp.get_json()["job"])
        assert job["status"] == "verified", job
        r = job["result"]
        assert r["verified"] is True and r["mismatches"] == [] and r["applied"] == r["total"] == 15
        assert job["progress"] == {"done": 15, "total": 15, "current": None}
        # the live state of the namespaces has the design's links
        assert sorted(netns_with_prefix(s.prefix)) == sorted([n, f"{n}-web", f"{n}-db", f"{s.prefix}-wire"])
        dump = full_dump([f"{n}-web", f"{n}-db"], strip_prefix=f"{n}-")
        for ns, name, addr in (("web", "web0", "10.10.0.11"), ("db", "db0", "10.10.0.12")):
            link = next(x for x in dump[ns]["links"] if x["ifname"] == name)
            assert link["linkinfo"]["info_kind"] == "macvlan"
            assert link["linkinfo"]["info_data"]["mode"] == "vepa"
            assert link["ifalias"] == f"mvplan:vepa-hairpin:host1/ns:{ns}/{name}"
            assert (name, addr, 24) in [a[:3] for a in dump[ns]["addresses"]]
        # a second apply has nothing to do and still verifies
        job2 = aapi.wait(aapi.apply(did, n).get_json()["job"])
        assert job2["status"] == "verified" and job2["result"]["applied"] == 0
    finally:
        s.cleanup()
    assert netns_with_prefix(s.prefix) == []


@pytest.mark.kernel
def test_kernel_injected_fault_is_rolled_back(lab_prereqs, apply_app, vepa_doc):
    from planner.lab.scratch import Scratch, full_dump, netns_with_prefix

    apply_app.config["APPLY_FAULT_AT"] = 7  # op 8 of 13: after the namespaces and both macvlans exist
    a = ApplyApi(apply_app)
    did = a.design(vepa_doc)
    s = Scratch("mvw")
    try:
        n = _vepa_target(s)
        before = full_dump(netns_with_prefix(s.prefix))
        job = a.wait(a.apply(did, n).get_json()["job"])
        assert job["status"] == "rolled_back", job
        r = job["result"]
        assert r["rolled_back"] is True and r["rollback_errors"] == [] and r["applied"] == 7
        assert "injected fault" in r["error"] and r["failed_op"]["index"] == 8
        assert full_dump(netns_with_prefix(s.prefix)) == before  # as before, namespaces included
    finally:
        s.cleanup()
    assert netns_with_prefix(s.prefix) == []


@pytest.mark.kernel
def test_kernel_missing_namespace_is_404(lab_prereqs, aapi, vepa_doc):
    from planner.lab.scratch import scratch_prefix

    did = aapi.design(vepa_doc)
    name = scratch_prefix("mvw")  # no such namespace
    assert_envelope(aapi.dry_run(did, name), 404, "target_missing")
    assert_envelope(aapi.apply(did, name), 404, "target_missing")
