"""Applying from the browser, end to end: ``mvplan serve --allow-apply`` in a subprocess prints its
token; chromium opens the vepa-hairpin example, enters the token and a throwaway namespace, runs
the dry run, applies, and sees "verified". Needs root (skip, or fail with MVPLAN_REQUIRE_ALL=1).
Every namespace the test made - and those the apply made (``NAME-web``, ``NAME-db``) - is deleted.
"""
from __future__ import annotations

import json
import os
import queue
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.kernel]

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``mvplan serve --allow-apply`` as a child process; reads the apply token it prints."""

    def __init__(self, tmp: Path):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ, MVPLAN_RUN_DIR=str(tmp / "run"), PYTHONUNBUFFERED="1")
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        self.proc = subprocess.Popen(
            [sys.executable, "-c", "import sys; from planner.cli import main; sys.exit(main())", "serve",
             "--allow-apply", "--port", str(self.port), "--instance", str(tmp / "instance")],
            cwd=str(tmp), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        for line in self.proc.stdout:
            self.output.append(line)
            self.lines.put(line)

    def token(self, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                assert self.proc.poll() is None, "mvplan serve exited:\n" + "".join(self.output)
                continue
            if line.startswith("mvplan: apply token: "):
                return line.split(": ", 2)[2].strip()
        raise AssertionError("mvplan serve printed no apply token:\n" + "".join(self.output))

    def wait_up(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(self.url + "/api/meta", timeout=2) as r:
                    meta = json.load(r)
                    assert meta["capabilities"]["apply"] is True, meta
                    return
            except OSError:
                assert time.monotonic() < deadline, "mvplan serve did not answer:\n" + "".join(self.output)
                time.sleep(0.1)

    def design_id(self, name: str) -> int:
        with urllib.request.urlopen(self.url + "/api/designs", timeout=5) as r:
            designs = json.load(r)["designs"]
        return next(d["id"] for d in designs if d["name"] == name)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def test_apply_from_the_browser_into_a_namespace(lab_prereqs, open_page, tmp_path):
    from designs import host_netns

    from planner.lab.scratch import Scratch, full_dump, netns_with_prefix

    s = Scratch("mvb")
    srv = None
    try:
        target = host_netns(s)  # '<prefix>-h' with an eth0 (veth, peer up in '<prefix>-wire')
        srv = Server(tmp_path)
        token = srv.token()
        srv.wait_up()
        did = srv.design_id("vepa-hairpin")

        page = open_page(srv.url, timeout_ms=20000)

        page.goto(f"/designs/{did}")
        page.wait_for_selector("body[data-ready='true']")
        page.click("#tab-apply")
        assert page.is_visible("#apply-form")
        page.fill("#apply-token", token)
        page.fill("#apply-netns", target)
        page.click("#apply-dry-run")
        page.wait_for_selector("body[data-apply='dry-run']")
        dry = page.inner_text("#apply-dry")
        assert f"Dry run on netns {target}" in dry
        assert "host1/ns:web: create network namespace web" in dry
        assert "namespace missing" in dry  # the diff against the live state
        assert page.locator("#apply-dry ol.apply-ops li").count() == 15
        assert page.inner_text("#apply-run") == "Apply 15 operations"
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "apply-dry-run.png"))

        page.click("#apply-run")
        page.wait_for_selector("body[data-apply='verified']")
        outcome = page.locator("#apply-outcome")
        assert outcome.get_attribute("data-status") == "verified"
        text = outcome.inner_text()
        assert "verified" in text and "15/15 operations applied" in text
        assert "Verified: the live state matches the design." in text
        page.screenshot(path=str(ARTIFACTS / "apply-verified.png"))

        # the kernel agrees: both VEPA children are in their namespaces
        dump = full_dump([f"{target}-web", f"{target}-db"], strip_prefix=f"{target}-")
        assert {x["ifname"] for x in dump["web"]["links"]} >= {"web0"}
        assert {x["ifname"] for x in dump["db"]["links"]} >= {"db0"}
        assert page.console_errors == [], page.console_errors
    finally:
        if srv is not None:
            srv.stop()
        s.cleanup()
    assert netns_with_prefix(s.prefix) == []


def test_recover_and_confirm_from_the_browser(lab_prereqs, open_page, tmp_path):
    """The browser versions of ``mvplan apply --recover`` (a journal left by a killed apply) and of
    ``--confirm SECONDS`` (Keep changes in time)."""
    from designs import host_netns

    from planner.lab.scratch import Scratch, full_dump, netns_with_prefix

    s = Scratch("mvb")
    srv = None
    try:
        target = host_netns(s)
        before = full_dump(netns_with_prefix(s.prefix))
        srv = Server(tmp_path)
        token = srv.token()
        srv.wait_up()
        did = srv.design_id("vepa-hairpin")
        env = dict(os.environ, PYTHONPATH=str(ROOT), MVPLAN_KILL_AT="8")
        cp = subprocess.run([sys.executable, "-m", "planner.cli", "apply", str(ROOT / "examples" / "vepa-hairpin.yaml"),
                             "--netns", target, "--yes", "--run-dir", str(tmp_path / "run")],
                            capture_output=True, text=True, env=env, cwd=ROOT, timeout=120, check=False)
        assert cp.returncode == -9, cp.stderr  # killed mid-apply: the journal is left

        page = open_page(srv.url, timeout_ms=20000)
        page.goto(f"/designs/{did}")
        page.wait_for_selector("body[data-ready='true']")
        page.click("#tab-apply")
        page.fill("#apply-token", token)
        page.fill("#apply-netns", target)
        page.click("#apply-dry-run")
        page.wait_for_selector("body[data-apply='dry-run']")
        page.click("#apply-run")
        page.wait_for_selector("body[data-apply='error']")
        assert "did not finish" in page.inner_text("#apply-status")
        assert page.is_visible("#apply-recover-box")
        page.click("#apply-recover-rollback")
        page.wait_for_selector("body[data-apply='recovered-rolled_back']")
        assert not page.is_visible("#apply-recover-box")
        assert full_dump(netns_with_prefix(s.prefix)) == before  # undone, namespaces included

        page.fill("#apply-confirm-seconds", "60")
        page.click("#apply-dry-run")
        page.wait_for_selector("body[data-apply='dry-run']")
        page.click("#apply-run")
        page.wait_for_selector("#apply-keep-box:not([hidden])")
        assert "press Keep changes within" in page.inner_text("#apply-status")
        page.click("#apply-keep")
        page.wait_for_selector("body[data-apply='verified']")
        assert page.locator("#apply-outcome").get_attribute("data-status") == "verified"
        dump = full_dump([f"{target}-web"], strip_prefix=f"{target}-")
        assert {x["ifname"] for x in dump["web"]["links"]} >= {"web0"}
        # the refused apply (journal pending) is a failed request in the console: only exceptions count
        exceptions = [e for e in page.console_errors if e.startswith("pageerror")]
        assert exceptions == [], exceptions
    finally:
        if srv is not None:
            srv.stop()
        s.cleanup()
    assert netns_with_prefix(s.prefix) == []
