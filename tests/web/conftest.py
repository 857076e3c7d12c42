"""Fixtures for the web tests: an app on a temporary instance folder and a CSRF-aware client."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from planner.web import create_app

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture
def app(tmp_path):
    return create_app({"TESTING": True, "SECRET_KEY": "test", "DATABASE": str(tmp_path / "mvplan.sqlite3")},
                      instance_path=str(tmp_path))


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def token(client):
    return client.get("/api/csrf").get_json()["token"]


class Api:
    """Test client wrapper that sends the CSRF header on state-changing requests."""

    def __init__(self, client, token):
        self.client, self.token = client, token

    def _h(self, headers=None):
        return {"X-CSRF-Token": self.token, **(headers or {})}

    def get(self, url, **kw):
        return self.client.get(url, **kw)

    def post(self, url, **kw):
        return self.client.post(url, headers=self._h(kw.pop("headers", None)), **kw)

    def put(self, url, **kw):
        return self.client.put(url, headers=self._h(kw.pop("headers", None)), **kw)

    def delete(self, url, **kw):
        return self.client.delete(url, headers=self._h(kw.pop("headers", None)), **kw)


@pytest.fixture
def api(client, token):
    return Api(client, token)


@pytest.fixture
def vepa_doc():
    return yaml.safe_load((EXAMPLES / "vepa-hairpin.yaml").read_text())
