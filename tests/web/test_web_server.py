"""The server side of issue 9: DNS rebinding (Host allow list), cross-origin state changes
(Origin/Referer), the database file's mode, and ``mvplan serve`` as a real waitress server
(bounded, timeouts, no version banner, a loud warning on a non-loopback bind)."""
from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from webhelpers import assert_envelope

from planner.web import create_app
from planner.web.hostcheck import allowed_hosts, host_allowed
from planner.web.server import ServerLimits, exposure_warnings, waitress_options

ROOT = Path(__file__).resolve().parents[2]
EVIL = "evil.example:8080"


# --------------------------------------------------------------------------- DNS rebinding
@pytest.mark.parametrize("url", ["/api/csrf", "/", "/api/designs", "/designs/1"])
def test_a_rebound_host_gets_nothing(client, url):
    resp = client.get(url, headers={"Host": EVIL})
    assert resp.status_code == 400
    text = resp.get_data(as_text=True)
    assert "csrf" not in resp.headers.get("Set-Cookie", "") and 'name="csrf-token"' not in text
    assert "--allowed-host evil.example" in text
    if url.startswith("/api/"):
        assert_envelope(resp, 400, "host_not_allowed")


def test_a_rebound_host_cannot_delete_a_design(api, client, vepa_doc):
    did = api.post("/api/designs", json={"document": vepa_doc}).get_json()["id"]
    resp = client.delete(f"/api/designs/{did}", headers={"Host": EVIL, "X-CSRF-Token": api.token})
    assert_envelope(resp, 400, "host_not_allowed")
    assert api.get(f"/api/designs/{did}").status_code == 200


@pytest.mark.parametrize("host", ["localhost", "localhost:8080", "127.0.0.1:8080", "[::1]:8080", "127.0.0.2",
                                  "app.localhost:1", "LOCALHOST."])
def test_loopback_hosts_are_served(client, host):
    assert client.get("/api/csrf", headers={"Host": host}).status_code == 200


def test_allowed_hosts_from_the_command_line(tmp_path):
    app = create_app({"TESTING": True, "SECRET_KEY": "t", "DATABASE": str(tmp_path / "d.sqlite3"),
                      "SEED_EXAMPLES": False, "ALLOWED_HOSTS": allowed_hosts("192.0.2.7", ["planner.example",
                                                                                         ".lab.example"])},
                     instance_path=str(tmp_path))
    c = app.test_client()
    for host in ("192.0.2.7:8080", "planner.example", "PLANNER.example:443", "a.lab.example", "lab.example"):
        assert c.get("/api/csrf", headers={"Host": host}).status_code == 200, host
    for host in ("192.0.2.8", "planner.example.evil", "evillab.example", ""):
        assert c.get("/api/csrf", headers={"Host": host}).status_code == 400, host


def test_allow_list_building():
    assert allowed_hosts("0.0.0.0") == ["localhost", "127.0.0.1", "::1"]
    assert allowed_hosts("::") == ["localhost", "127.0.0.1", "::1"]
    assert "fd00::1" in allowed_hosts("fd00::1")
    assert host_allowed("[fd00::1]:8080", allowed_hosts("fd00::1"))
    assert not host_allowed("[fd00::2]:8080", allowed_hosts("fd00::1"))
    assert host_allowed("anything", ["*"])


# --------------------------------------------------------------------------- Origin / Referer
@pytest.mark.parametrize("headers", [{"Origin": "http://evil.example"}, {"Origin": "null"},
                                     {"Origin": "http://localhost:9999"},
                                     {"Referer": "http://evil.example/page"}])
def test_cross_origin_state_changes_are_refused(api, vepa_doc, headers):
    before = len(api.get("/api/designs").get_json()["designs"])
    resp = api.post("/api/designs", json={"document": vepa_doc}, headers=headers)
    err = assert_envelope(resp, 403, "origin_refused")
    assert "cross-origin" in err["message"]
    assert len(api.get("/api/designs").get_json()["designs"]) == before


@pytest.mark.parametrize("headers", [{}, {"Origin": "http://localhost"}, {"Origin": "http://localhost:80"},
                                     {"Referer": "http://localhost/designs/1"}])
def test_same_origin_and_scripted_state_changes_pass(api, vepa_doc, headers):
    assert api.post("/api/designs", json={"document": vepa_doc}, headers=headers).status_code == 201


def test_reads_do_not_need_an_origin(client):
    assert client.get("/api/designs", headers={"Origin": "http://evil.example"}).status_code == 200


# --------------------------------------------------------------------------- the database file
def test_the_database_file_is_private(tmp_path, api, vepa_doc, app):
    api.post("/api/designs", json={"document": vepa_doc})
    db = Path(app.config["DATABASE"])
    for path in [db] + [db.with_name(db.name + s) for s in ("-wal", "-shm")]:
        if path.exists():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_an_old_readable_database_is_tightened(tmp_path):
    from planner.web.store import Store

    db = tmp_path / "old.sqlite3"
    Store(db).close()
    os.chmod(db, 0o644)
    Store(db).close()
    assert stat.S_IMODE(db.stat().st_mode) == 0o600


# --------------------------------------------------------------------------- the real server
def test_waitress_options_are_bounded():
    opts = waitress_options(ServerLimits(threads=3, timeout=7))
    assert opts["threads"] == 3 and opts["channel_timeout"] == 7 and opts["cleanup_interval"] <= 7
    assert opts["connection_limit"] == 100 and opts["ident"] is None and opts["expose_tracebacks"] is False
    with pytest.raises(ValueError, match="--threads"):
        ServerLimits(threads=0)


@pytest.mark.parametrize("host,allow_apply,count", [("127.0.0.1", True, 0), ("::1", True, 0), ("localhost", True, 0),
                                                    ("0.0.0.0", False, 1), ("0.0.0.0", True, 2),
                                                    ("192.0.2.7", True, 2), ("::", False, 1)])
def test_a_non_loopback_bind_warns(host, allow_apply, count):
    warnings = exposure_warnings(host, allow_apply)
    assert len(warnings) == count
    if count:
        assert "TLS reverse proxy" in warnings[0] and "plain HTTP" in warnings[0]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def served(tmp_path):
    """``mvplan serve`` in a child process on a loopback port (3 threads, 2 s timeout)."""
    port = _free_port()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.Popen([sys.executable, "-m", "planner.cli", "serve", "--port", str(port), "--instance",
                             str(tmp_path / "inst"), "--threads", "3", "--timeout", "2"],
                            cwd=str(tmp_path), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(url + "/api/meta", timeout=2).close()
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, proc.stdout.read() if proc.stdout else ""
                time.sleep(0.1)
        yield url, port, proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def test_mvplan_serve_is_waitress_without_a_banner_and_checks_the_host(served):
    url, port, proc = served
    with urllib.request.urlopen(url + "/api/meta", timeout=5) as resp:
        assert resp.status == 200
        assert "Server" not in resp.headers, resp.headers.get("Server")
    req = urllib.request.Request(url + "/api/csrf", headers={"Host": f"evil.example:{port}"})
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(req, timeout=5)
    assert info.value.code == 400 and "Server" not in info.value.headers
    assert b"host_not_allowed" in info.value.read()


def test_mvplan_serve_drops_a_half_sent_request_after_its_timeout(served):
    url, port, proc = served
    with socket.create_connection(("127.0.0.1", port), timeout=15) as s:
        s.sendall(b"GET /api/meta HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # never finishes its headers
        t0 = time.monotonic()
        assert s.recv(100) == b""  # closed by the server, not by our timeout
        assert time.monotonic() - t0 < 10
    with urllib.request.urlopen(url + "/api/meta", timeout=5) as resp:  # and it still serves others
        assert resp.status == 200
