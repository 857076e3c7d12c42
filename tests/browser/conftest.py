"""Browser tests: Playwright driving Debian's chromium against a live server in a thread.

Skipped when chromium or playwright is missing, unless MVPLAN_REQUIRE_ALL=1 (then they fail).
Screenshots go to test-artifacts/ (gitignored).
"""
from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("MVPLAN_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
REQUIRE = os.environ.get("MVPLAN_REQUIRE_ALL") == "1"

pytestmark = pytest.mark.browser


def _missing(why: str):
    if REQUIRE:
        pytest.fail(f"MVPLAN_REQUIRE_ALL=1 but {why}")
    pytest.skip(why)


@pytest.fixture(scope="session")
def playwright_api():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the playwright package is not installed")
    if not (os.path.exists(CHROMIUM) and os.access(CHROMIUM, os.X_OK)) and not shutil.which("chromium"):
        _missing(f"no chromium at {CHROMIUM} (apt-get install -y chromium)")
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright_api):
    exe = CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")
    try:
        b = playwright_api.chromium.launch(executable_path=exe, args=ARGS)
    except Exception as exc:  # noqa: BLE001 - any launch failure means "no usable browser"
        _missing(f"chromium does not start: {exc}")
    yield b
    b.close()


class LiveServer:
    def __init__(self, app):
        from werkzeug.serving import make_server

        self.app = app
        self.srv = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.srv.server_port}"
        self.thread = threading.Thread(target=self.srv.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.srv.shutdown()
        self.thread.join(5)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    from planner.web import create_app

    inst = tmp_path_factory.mktemp("instance")
    app = create_app({"SECRET_KEY": "browser-tests", "DATABASE": str(inst / "mvplan.sqlite3")}, instance_path=str(inst))
    with LiveServer(app) as srv:
        yield srv


def _record_errors(pg) -> None:
    """Keep the page's console errors and warnings and its uncaught exceptions in ``pg.console_errors``
    (``console.error: ...``, ``console.warning: ...``, ``pageerror: ...``)."""
    pg.console_errors = []
    pg.on("console", lambda m: pg.console_errors.append(f"console.{m.type}: {m.text}")
          if m.type in ("error", "warning") else None)
    pg.on("pageerror", lambda e: pg.console_errors.append(f"pageerror: {e}"))


@pytest.fixture
def open_page(browser, request):
    """open_page(base_url, timeout_ms=15000): a new 1280x800 page on its own browser context,
    recording its errors (``page.console_errors``); at teardown a screenshot of how it ended goes
    to test-artifacts/ and the context is closed. For tests that start a server of their own."""
    opened = []

    def _open(base_url: str, timeout_ms: int = 15000):
        ctx = browser.new_context(viewport={"width": 1280, "height": 800}, accept_downloads=True, base_url=base_url)
        pg = ctx.new_page()
        _record_errors(pg)
        pg.set_default_timeout(timeout_ms)
        opened.append((ctx, pg))
        return pg

    yield _open
    ARTIFACTS.mkdir(exist_ok=True)
    for n, (ctx, pg) in enumerate(opened):
        try:
            pg.screenshot(path=str(ARTIFACTS / f"{request.node.name}{f'-{n}' if n else ''}-end.png"))
        except Exception:  # noqa: BLE001 - best effort
            pass
        ctx.close()


@pytest.fixture
def page(open_page, live_server):
    return open_page(live_server.url)


@pytest.fixture
def shot():
    """shot(page, name): save a screenshot to test-artifacts/NAME.png."""
    def _shot(page, name: str) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
    return _shot

