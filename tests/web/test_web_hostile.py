"""Hostile input over HTTP: every case issue 9 reproduced as a 500 (or as bloat stored for good)
is answered with the documented envelope - 413 ``too_large`` for what expands past the limits,
422 ``invalid_design`` naming the field, 400 for a body that is not JSON, 404 for ids past 2^63 -
quickly, and without storing anything.
"""
from __future__ import annotations

import json
import sqlite3
import time

import pytest
from webhelpers import assert_envelope

BIG = 2**63  # one past SQLite's INTEGER


def bomb_text(levels: int = 9) -> str:
    lines = ["version: 1", "name: bomb", "layout:", "  l0: &l0 [" + ", ".join(["xxxxxxxxxx"] * 10) + "]"]
    lines += [f"  l{k}: &l{k} [" + ", ".join([f"*l{k - 1}"] * 10) + "]" for k in range(1, levels)]
    return "\n".join(lines) + "\n"


def count_designs(api) -> int:
    return len(api.get("/api/designs").get_json()["designs"])


def raw(api, method, url, data: str | bytes, ctype="application/json"):
    return getattr(api, method)(url, data=data, headers={"Content-Type": ctype})


# --------------------------------------------------------------------------- the alias bomb
@pytest.mark.parametrize("query", ["?filename=bomb.yaml", "?filename=bomb.yaml&create=1",
                                   "?filename=bomb.yaml&create=1&problems=inline"])
def test_upload_of_the_alias_bomb_is_413_fast_and_stores_nothing(api, query):
    before = count_designs(api)
    t0 = time.perf_counter()
    resp = raw(api, "post", "/api/upload" + query, bomb_text(), "application/yaml")
    assert time.perf_counter() - t0 < 3.0
    err = assert_envelope(resp, 413, "too_large")
    assert err["details"]["limit"] == "nodes" and err["details"]["maximum"] == 250_000
    assert "aliases counted where they expand" in err["message"]
    assert count_designs(api) == before


def test_multipart_upload_of_the_bomb_is_413(api):
    import io

    resp = api.post("/api/upload?create=1", data={"file": (io.BytesIO(bomb_text().encode()), "bomb.yaml")},
                    content_type="multipart/form-data")
    assert_envelope(resp, 413, "too_large")


def test_a_json_body_with_too_many_values_is_413(api, vepa_doc):
    body = json.dumps({"document": dict(vepa_doc, layout={"x": [0] * 300_000})})
    assert len(body) < 2 * 1024 * 1024
    for url in ("/api/check", "/api/designs", "/api/plan"):
        err = assert_envelope(raw(api, "post", url, body), 413, "too_large")
        assert err["details"]["limit"] == "nodes"


# --------------------------------------------------------------------------- shapes
@pytest.mark.parametrize("url", ["/api/check", "/api/check?problems=inline", "/api/designs", "/api/plan",
                                 "/api/export?format=iproute2", "/api/what-if"])
def test_json_nested_thousands_deep_is_not_a_500(api, url):
    body = '{"document": {"name": "x", "layout": ' + "[" * 20_000 + "]" * 20_000 + "}}"
    resp = raw(api, "post", url, body)
    err = assert_envelope(resp, 400, "bad_json")
    assert "nested deeper" in err["message"]
    moderate = '{"document": {"name": "x", "layout": ' + "[" * 200 + "]" * 200 + "}}"
    err = assert_envelope(raw(api, "post", url.replace("?problems=inline", ""), moderate), 422, "invalid_design")
    assert err["details"]["problems"][0]["path"].startswith("layout")


@pytest.mark.parametrize("url", ["/api/check", "/api/designs", "/api/plan"])
def test_integers_of_thousands_of_digits_are_not_a_500(api, url):
    body = '{"document": {"version": ' + "9" * 5000 + ', "name": "x"}}'
    err = assert_envelope(raw(api, "post", url, body), 400, "bad_json")
    assert "9223372036854775807" in err["message"]


def test_yaml_upload_with_a_huge_integer_or_deep_nesting_is_422(api):
    for text in ("version: " + "9" * 5000 + "\n", "layout: " + "[" * 5000 + "]" * 5000 + "\n",
                 "layout: &a {x: *a}\n"):
        err = assert_envelope(raw(api, "post", "/api/upload?filename=x.yaml&create=1", text, "application/yaml"),
                              422, "invalid_design")
        assert err["details"]["problems"][0]["message"]
    ok = api.post("/api/upload?filename=x.yaml&problems=inline", data="layout: &a {x: *a}\n",
                  headers={"Content-Type": "application/yaml"})
    assert ok.status_code == 200 and ok.get_json()["valid"] is False
    assert "recursive YAML alias" in ok.get_json()["problems"][0]["message"]


def test_a_recursive_alias_is_not_stored_and_not_a_500(api):
    before = count_designs(api)
    resp = raw(api, "post", "/api/upload?filename=r.yaml&create=1", "name: r\nlayout: &a {x: *a}\n",
               "application/yaml")
    assert_envelope(resp, 422, "invalid_design")
    assert count_designs(api) == before


@pytest.mark.parametrize("field,where", [("name", "document"), ("description", "document"), ("message", "body")])
def test_lone_surrogates_are_refused_not_500(api, vepa_doc, field, where):
    doc = dict(vepa_doc)
    body: dict = {"document": doc}
    (doc if where == "document" else body)[field] = "x\ud800y"
    text = json.dumps(body)  # ensure_ascii: the surrogate travels as the escape \ud800
    assert "\\ud800" in text
    for method, url in (("post", "/api/designs"), ("post", "/api/check")):
        resp = raw(api, method, url, text)
        if where == "document":
            err = assert_envelope(resp, 422, "invalid_design")
            assert err["details"]["problems"][0]["path"] == field
        else:
            err = assert_envelope(resp, 400, "bad_request")
            assert "message" in err["message"] and "surrogate" in err["message"]


def test_nan_in_a_draft_is_refused_and_the_editor_page_stays_valid(api, vepa_doc):
    rec = api.post("/api/designs", json={"document": vepa_doc}).get_json()
    for text in ('{"document": {"name": "x", "layout": {"x": NaN}}}',
                 '{"document": {"name": "x", "layout": {"x": Infinity}}}',
                 '{"document": {"name": "x", "layout": {"x": 1e999}}}'):
        assert_envelope(raw(api, "put", f"/api/designs/{rec['id']}/draft", text), 400, "bad_json")
    assert api.get(f"/api/designs/{rec['id']}").get_json()["draft"] is None
    page = api.get(f"/designs/{rec['id']}").get_data(as_text=True)
    blob = page.split('id="design-data">', 1)[1].split("</script>", 1)[0]
    json.loads(blob, parse_constant=lambda c: pytest.fail(f"{c} in the page"))


def test_the_editor_page_embeds_the_stored_document_as_is_and_script_safe(api, vepa_doc):
    """The editor page's #design-data carries the document as the database holds it (the JSON text,
    in the document's own key order, not parsed and serialised again) beside the summary, draft
    and capabilities, and nothing in it can end the script element or open a comment."""
    doc = {**vepa_doc, "description": "</script><!-- & 'quoted' \u2028 caf\u00e9 -->"}
    rec = api.post("/api/designs", json={"document": doc}).get_json()
    draft = {**doc, "name": "draft </script>"}
    assert api.put(f"/api/designs/{rec['id']}/draft", json={"document": draft}).status_code == 200
    page = api.get(f"/designs/{rec['id']}").get_data(as_text=True)
    blob = page.split('id="design-data">', 1)[1].split("</script>", 1)[0]
    assert not any(c in blob for c in "<>&'")
    data = json.loads(blob)
    assert list(data) == ["id", "name", "version", "document", "draft", "capabilities"]
    assert (data["id"], data["name"], data["version"]) == (rec["id"], rec["name"], rec["version"])
    stored = api.get(f"/api/designs/{rec['id']}").get_json()
    assert data["document"] == stored["document"] and data["document"]["description"] == doc["description"]
    assert list(data["document"]) == list(stored["document"])  # the document's own order, as stored
    assert data["draft"]["document"]["name"] == "draft </script>" and data["draft"]["base_version"] == rec["version"]
    assert set(data["capabilities"]) >= {"check", "apply"}
    assert api.get("/designs/999999").status_code == 404


def test_a_draft_with_nan_left_by_an_older_version_does_not_break_the_page(app, api, vepa_doc):
    rec = api.post("/api/designs", json={"document": vepa_doc}).get_json()
    conn = sqlite3.connect(app.config["DATABASE"])
    conn.execute("INSERT INTO drafts(design_id, base_version, updated, document) VALUES(?, 1, 'x', ?)",
                 (rec["id"], '{"name": "x", "layout": {"x": NaN}}'))
    conn.commit()
    conn.close()
    page = api.get(f"/designs/{rec['id']}")
    assert page.status_code == 200
    blob = page.get_data(as_text=True).split('id="design-data">', 1)[1].split("</script>", 1)[0]
    data = json.loads(blob, parse_constant=lambda c: pytest.fail(f"{c} in the page"))
    assert data["draft"] is None
    assert api.get(f"/api/designs/{rec['id']}").get_json()["draft"] is None


def test_a_draft_may_be_invalid_but_not_past_the_limits(api, vepa_doc):
    rec = api.post("/api/designs", json={"document": vepa_doc}).get_json()
    ok = api.put(f"/api/designs/{rec['id']}/draft", json={"document": {"hosts": "not yet"}})
    assert ok.status_code == 200
    deep = '{"document": {"layout": ' + "[" * 100 + "]" * 100 + "}}"
    assert_envelope(raw(api, "put", f"/api/designs/{rec['id']}/draft", deep), 422, "invalid_design")
    big = json.dumps({"document": {"layout": [0] * 300_000}})
    assert_envelope(raw(api, "put", f"/api/designs/{rec['id']}/draft", big), 413, "too_large")


# --------------------------------------------------------------------------- ids past 2^63
@pytest.mark.parametrize("method,url", [
    ("get", f"/api/designs/{BIG}"), ("put", f"/api/designs/{BIG}"), ("delete", f"/api/designs/{BIG}"),
    ("put", f"/api/designs/{BIG}/draft"), ("delete", f"/api/designs/{BIG}/draft"),
    ("get", f"/api/designs/{BIG}/versions"), ("get", f"/api/designs/{BIG}/versions/1"),
    ("get", "/api/designs/1/versions/" + str(BIG)), ("get", f"/api/designs/{BIG}/diff"),
    ("get", f"/api/designs/1/diff?from={BIG}"), ("get", f"/api/designs/1/diff?to={BIG}"),
    ("get", f"/api/designs/{BIG}/download"), ("get", f"/api/designs/1/download?version={BIG}"),
    ("get", f"/api/designs/1/export?format=iproute2&version={BIG}"),
    ("get", "/api/designs/" + "9" * 400),
])
def test_ids_and_versions_past_2_63_are_404(api, vepa_doc, method, url):
    api.post("/api/designs", json={"document": vepa_doc})
    kw = {"json": {"document": vepa_doc, "base_version": 1}} if method == "put" else {}
    assert_envelope(getattr(api, method)(url, **kw), 404, "not_found")


@pytest.mark.parametrize("url", [f"/designs/{BIG}", f"/designs/{BIG}/history", f"/designs/1/versions/{BIG}",
                                 f"/designs/1/diff?from={BIG}", f"/designs/1/diff?to=1&from={BIG}"])
def test_pages_with_ids_past_2_63_are_404(api, vepa_doc, url):
    api.post("/api/designs", json={"document": vepa_doc})
    resp = api.get(url)
    assert resp.status_code == 404, resp.get_data(as_text=True)


@pytest.mark.parametrize("base", [BIG, -BIG - 1, 0, -1])
def test_base_version_out_of_range_is_400_not_500(api, vepa_doc, base):
    rec = api.post("/api/designs", json={"document": vepa_doc}).get_json()
    for url in (f"/api/designs/{rec['id']}/draft", f"/api/designs/{rec['id']}"):
        resp = api.put(url, json={"document": vepa_doc, "base_version": base})
        if abs(base) >= BIG:  # refused while parsing the body: no 64-bit integer
            err = assert_envelope(resp, 400, "bad_json")
            assert str(base) in err["message"] and "64 bits" in err["message"]
        else:
            err = assert_envelope(resp, 400, "bad_request")
            assert "base_version" in err["message"]


def test_apply_version_past_2_63_is_404(tmp_path, vepa_doc):
    from planner.web import create_app

    app = create_app({"TESTING": True, "SECRET_KEY": "t", "DATABASE": str(tmp_path / "a.sqlite3"),
                      "SEED_EXAMPLES": False, "ALLOW_APPLY": True, "APPLY_TOKEN": "tok"}, instance_path=str(tmp_path))
    c = app.test_client()
    h = {"X-CSRF-Token": c.get("/api/csrf").get_json()["token"], "X-Apply-Token": "tok"}
    did = c.post("/api/designs", json={"document": vepa_doc}, headers=h).get_json()["id"]
    for url in (f"/api/designs/{did}/apply/dry-run", f"/api/designs/{did}/apply"):
        resp = c.post(url, json={"target": {"kind": "netns", "netns": "x"}, "version": BIG}, headers=h)
        assert_envelope(resp, 400, "bad_json")
        for version in (0, -1, BIG - 1):
            resp = c.post(url, json={"target": {"kind": "netns", "netns": "x"}, "version": version}, headers=h)
            assert_envelope(resp, 404, "not_found")
