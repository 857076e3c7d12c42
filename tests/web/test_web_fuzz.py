"""Fuzzing every API route that ``docs/api.md`` documents (issue 9): random path ids, query strings
and bodies (raw bytes, arbitrary JSON, designs with one value replaced). Every answer must be
below 500, and every 4xx the documented envelope ``{"error": {code, message, details}}``.
Applying stays disabled (no kernel is touched). Each test prints how many requests it sent.
"""
from __future__ import annotations

import copy
import json
import os
import re
from pathlib import Path
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner.web import create_app

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = int(os.environ.get("MVPLAN_FUZZ_EXAMPLES", "300"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])
_ROUTE = re.compile(r"`(GET|POST|PUT|DELETE) (/api/[^`?\s]*)")


def documented_routes() -> list[tuple[str, str]]:
    text = (ROOT / "docs" / "api.md").read_text("utf-8")
    return sorted(set(_ROUTE.findall(text)))


ROUTES = documented_routes()
SMALL = {"version": 1, "name": "f", "hosts": [{"name": "h1", "parents": [{"name": "eth0"}],
                                               "children": [{"name": "mv0", "parent": "eth0", "mode": "bridge",
                                                             "addresses": ["10.0.0.2/24"]}]}]}
HOSTILE = ["\n", "\u2028", "\ud800", "9" * 30, str(2**63), "-1", "0", "NaN", "../", "%00", "<script>", "'", "\x85"]
scalars = (st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | st.floats(allow_nan=False)
           | st.text(max_size=12) | st.sampled_from(HOSTILE))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(st.text(max_size=8) | st.sampled_from(["document", "name", "hosts", "target",
                                                                             "version", "base_version", "message"]),
                                        inner, max_size=3), max_leaves=10)
path_ids = (st.sampled_from(["1", "2", "0", "-1", str(2**63), "9" * 40, "x", "%2e%2e", "1.5"])
            | st.integers(0, 5).map(str))
queries = st.dictionaries(st.sampled_from(["format", "version", "from", "to", "filename", "create", "problems",
                                           "teardown", "host", "what_if"]),
                          st.sampled_from(["iproute2", "nmstate", "networkd", "yaml", "json", "inline", "1", "0",
                                           str(2**63), "x.yaml", "x.json", "", "\u2028"]) | st.text(max_size=6),
                          max_size=3)


def _leaf_paths(doc, prefix=()):
    yield prefix
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _leaf_paths(v, prefix + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from _leaf_paths(v, prefix + (i,))


PATHS = [p for p in _leaf_paths(SMALL) if p]


def _replaced(path, value):
    doc = copy.deepcopy(SMALL)
    target = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return doc


def _body(kind: str, value, path, raw: bytes) -> bytes | None:
    if kind == "none":
        return None
    if kind == "raw":
        return raw
    if kind == "json":
        return json.dumps(value).encode()
    return json.dumps({"document": _replaced(path, value), "base_version": 1, "message": "m"}).encode()


@pytest.fixture
def fuzz_client(tmp_path):
    app = create_app({"TESTING": True, "SECRET_KEY": "fuzz", "DATABASE": str(tmp_path / "f.sqlite3"),
                      "SEED_EXAMPLES": False}, instance_path=str(tmp_path))
    client = app.test_client()
    token = client.get("/api/csrf").get_json()["token"]
    headers = {"X-CSRF-Token": token}
    client.post("/api/designs", json={"document": SMALL}, headers=headers)
    return client, headers


def _assert_answer(resp, method, url):
    assert resp.status_code < 500, (method, url, resp.status_code, resp.get_data(as_text=True)[:500])
    if resp.status_code >= 400 and url.startswith("/api/"):
        body = resp.get_json(silent=True)
        assert isinstance(body, dict) and set(body) == {"error"}, (method, url, resp.get_data(as_text=True)[:300])
        assert set(body["error"]) == {"code", "message", "details"} and body["error"]["message"]


def test_docs_list_the_routes_the_app_serves():
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE": ":memory:", "SEED_EXAMPLES": False})
    served = {re.sub(r"<[^>]+>", "<>", r.rule) for r in app.url_map.iter_rules() if r.rule.startswith("/api/")}
    documented = {re.sub(r"<[^>]+>", "<>", url) for _, url in ROUTES}
    assert len(ROUTES) >= 15
    missing = {u for u in served if u not in documented and u != "/api/csrf"}
    assert not missing, f"routes missing from docs/api.md: {sorted(missing)}"


def test_fuzz_every_documented_route(fuzz_client, capsys):
    client, headers = fuzz_client
    sent = {"n": 0}
    statuses: dict[int, int] = {}

    @FUZZ
    @given(route=st.sampled_from(ROUTES), ident=path_ids, n=path_ids, query=queries,
           kind=st.sampled_from(["none", "raw", "json", "design"]), value=values, path=st.sampled_from(PATHS),
           raw=st.binary(max_size=64), ctype=st.sampled_from(["application/json", "application/yaml", "text/plain"]))
    def run(route, ident, n, query, kind, value, path, raw, ctype):
        method, template = route
        url = template.replace("<id>", ident).replace("<n>", n).replace("<job>", ident)
        if query:
            url += "?" + urlencode(query)
        data = _body(kind, value, path, raw) if method != "GET" else None
        kw = {"headers": {**headers, "Content-Type": ctype}} if method != "GET" else {}
        resp = client.open(url, method=method, data=data, **kw)
        sent["n"] += 1
        statuses[resp.status_code] = statuses.get(resp.status_code, 0) + 1
        _assert_answer(resp, method, url)
        if method == "DELETE" and resp.status_code == 204:  # keep a design to aim at
            client.post("/api/designs", json={"document": SMALL}, headers=headers)

    run()
    with capsys.disabled():
        print(f"\nfuzz: API, {len(ROUTES)} documented routes: {sent['n']} requests sent; statuses "
              + ", ".join(f"{k}×{v}" for k, v in sorted(statuses.items())))
    assert sent["n"] >= min(EXAMPLES, 50)


def test_fuzz_uploads(fuzz_client, capsys):
    client, headers = fuzz_client
    sent = {"n": 0}

    @FUZZ
    @given(text=st.text(max_size=300) | st.sampled_from(["layout: &a {x: *a}\n", "version: " + "9" * 50 + "\n",
                                                          "a: " + "[" * 3000 + "]" * 3000 + "\n"]),
           name=st.sampled_from(["x.yaml", "x.json", "x.txt", "", "../x.yaml"]), create=st.booleans(),
           inline=st.booleans())
    def run(text, name, create, inline):
        q = {"filename": name, **({"create": "1"} if create else {}), **({"problems": "inline"} if inline else {})}
        url = "/api/upload?" + urlencode(q)
        resp = client.post(url, data=text.encode("utf-8", "surrogatepass"),
                           headers={**headers, "Content-Type": "application/yaml"})
        sent["n"] += 1
        _assert_answer(resp, "POST", url)

    run()
    with capsys.disabled():
        print(f"\nfuzz: API uploads: {sent['n']} requests sent")
    assert sent["n"] >= min(EXAMPLES, 50)
