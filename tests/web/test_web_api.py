"""Every API endpoint: happy path, error envelope, 422 problems, CSRF, limits."""
from __future__ import annotations

import io
import json
import zipfile

import pytest
import yaml
from webhelpers import assert_envelope, no_hairpin

from planner.web import core


# --------------------------------------------------------------------------- meta, csrf
def test_meta_lists_capabilities(client):
    body = client.get("/api/meta").get_json()
    assert body["capabilities"]["check"] is True
    assert body["capabilities"]["apply"] is False
    assert "iproute2" in body["export_formats"] and "yaml" in body["export_formats"]
    assert body["max_content_length"] == 2 * 1024 * 1024


def test_page_renders_csrf_token_in_meta(client):
    html = client.get("/").get_data(as_text=True)
    tok = client.get("/api/csrf").get_json()["token"]
    assert f'<meta name="csrf-token" content="{tok}">' in html


@pytest.mark.parametrize("method,url", [("post", "/api/check"), ("post", "/api/designs"), ("put", "/api/designs/1"),
                                        ("delete", "/api/designs/1"), ("post", "/api/upload")])
def test_state_changing_requests_without_token_are_refused(client, method, url, vepa_doc):
    resp = getattr(client, method)(url, json={"document": vepa_doc})
    err = assert_envelope(resp, 403, "csrf_failed")
    assert "X-CSRF-Token" in err["message"]


def test_wrong_token_is_refused(client, token, vepa_doc):
    resp = client.post("/api/check", json={"document": vepa_doc}, headers={"X-CSRF-Token": token + "x"})
    assert_envelope(resp, 403, "csrf_failed")


def test_token_of_another_session_is_refused(app, vepa_doc):
    a, b = app.test_client(), app.test_client()
    tok_a = a.get("/api/csrf").get_json()["token"]
    b.get("/api/csrf")
    assert_envelope(b.post("/api/check", json={"document": vepa_doc}, headers={"X-CSRF-Token": tok_a}), 403)


def test_security_headers(client):
    resp = client.get("/")
    assert "script-src 'self'" in resp.headers["Content-Security-Policy"]
    assert resp.headers["X-Content-Type-Options"] == "nosniff"


def test_module_scripts_are_served_as_javascript(client):
    resp = client.get("/static/vendor/cytoscape/cytoscape.esm.min.mjs")
    assert resp.status_code == 200
    assert resp.mimetype == "text/javascript"
    resp.close()


# --------------------------------------------------------------------------- error envelope
def test_unknown_api_path_is_404_envelope(client):
    assert_envelope(client.get("/api/nope"), 404, "not_found")


def test_unknown_design_is_404_envelope(client):
    err = assert_envelope(client.get("/api/designs/999"), 404, "not_found")
    assert "999" in err["message"]


def test_wrong_method_is_405_envelope(client):
    resp = client.get("/api/check")
    err = assert_envelope(resp, 405, "method_not_allowed")
    assert "POST" in err["details"]["allowed"]


def test_too_large_body_is_413_envelope(api):
    big = "x" * (2 * 1024 * 1024 + 10)
    resp = api.post("/api/check", data=json.dumps({"document": {"name": big}}), content_type="application/json")
    assert_envelope(resp, 413, "too_large")


def test_unexpected_error_is_500_envelope_without_traceback(api, vepa_doc, monkeypatch):
    def boom(design):
        raise RuntimeError("secret internals /etc/passwd")
    monkeypatch.setattr(core, "analyse", boom)
    resp = api.post("/api/check", json={"document": vepa_doc})
    err = assert_envelope(resp, 500, "internal_error")
    assert "secret" not in resp.get_data(as_text=True)
    assert err["details"] == {}


def test_bad_json_is_400(api):
    resp = api.post("/api/check", data="{not json", content_type="application/json")
    assert_envelope(resp, 400, "bad_json")


def test_body_without_document_is_400(api):
    assert_envelope(api.post("/api/check", json={"doc": {}}), 400, "bad_request")


def test_html_pages_get_html_errors(client):
    resp = client.get("/designs/999")
    assert resp.status_code == 404
    assert resp.mimetype == "text/html"
    assert "design 999 does not exist" in resp.get_data(as_text=True)


# --------------------------------------------------------------------------- check, what-if
def test_check_returns_findings_and_prediction(api, vepa_doc):
    body = api.post("/api/check", json={"document": vepa_doc}).get_json()
    assert body["valid"] is True
    codes = {f["code"] for f in body["findings"]}
    assert "MV203" not in codes  # the example's port reflects frames
    pred = body["prediction"]
    ids = {e["id"] for e in pred["endpoints"]}
    assert {"host1/ns:web/web0", "host1/ns:db/db0", "station:gw"} <= ids
    assert all(v["reachable"] for v in pred["verdicts"])
    for f in body["findings"]:
        assert set(f) >= {"code", "severity", "title", "subjects", "message", "fix", "commands"}
    assert body["counts"]["error"] == 0
    assert any(i["id"] == "host1/eth0" and i["mac"] for i in body["interfaces"])


def test_check_finds_missing_hairpin(api, vepa_doc):
    body = api.post("/api/check", json={"document": no_hairpin(vepa_doc)}).get_json()
    mv203 = [f for f in body["findings"] if f["code"] == "MV203"]
    assert mv203 and "switch:sw1/p1" in mv203[0]["subjects"]
    pred = body["prediction"]
    cls = {e["id"]: e["class"] for e in pred["endpoints"]}
    par = {e["id"]: e.get("parent") for e in pred["endpoints"]}
    a, b = "host1/ns:web/web0", "host1/ns:db/db0"
    v = [v for v in pred["verdicts"] if v["from"] == cls[a] and v["to"] == cls[b]
         and v.get("same_parent", par[a] == par[b]) == (par[a] == par[b])]
    assert v and v[0]["reachable"] is False


def test_check_invalid_design_is_422_with_paths(api, vepa_doc):
    vepa_doc["hosts"][0]["children"][0]["parent"] = "eth9"
    vepa_doc["hosts"][0]["parents"][0]["mtu"] = 10
    err = assert_envelope(api.post("/api/check", json={"document": vepa_doc}), 422, "invalid_design")
    paths = {p["path"] for p in err["details"]["problems"]}
    assert "hosts[0].parents[0].mtu" in paths
    for p in err["details"]["problems"]:
        assert set(p) == {"path", "message"}


def test_check_semantic_problem_is_422(api, vepa_doc):
    vepa_doc["hosts"][0]["children"][0]["parent"] = "eth9"
    err = assert_envelope(api.post("/api/check", json={"document": vepa_doc}), 422, "invalid_design")
    assert err["details"]["problems"][0]["path"] == "hosts[0].children[0].parent"
    assert "eth9" in err["details"]["problems"][0]["message"]


def test_check_non_object_document_is_422(api):
    assert_envelope(api.post("/api/check", json={"document": [1, 2]}), 422, "invalid_design")


def test_what_if_hairpin_off_loses_pairs(api, vepa_doc):
    body = api.post("/api/what-if", json={"document": vepa_doc, "hairpin": {"switch:sw1/p1": False}}).get_json()
    assert body["what_if"] == {"hairpin": {"switch:sw1/p1": False}, "down": []}
    assert body["changes"]["lost_count"] == 2
    lost = {(p["from"], p["to"]) for p in body["changes"]["lost"]}
    assert ("host1/ns:web/web0", "host1/ns:db/db0") in lost
    assert "MV203" in {f["code"] for f in body["findings"]}


def test_what_if_hairpin_on_gains_pairs(api, vepa_doc):
    body = api.post("/api/what-if",
                    json={"document": no_hairpin(vepa_doc), "hairpin": {"switch:sw1/p1": True}}).get_json()
    assert body["changes"]["gained_count"] == 2
    assert body["changes"]["lost_count"] == 0


def test_what_if_parent_down(api, vepa_doc):
    body = api.post("/api/what-if", json={"document": vepa_doc, "down": ["host1/eth0"]}).get_json()
    assert body["changes"]["lost_count"] >= 4


@pytest.mark.parametrize("payload", [{"hairpin": {"switch:sw1/p1": "yes"}}, {"down": "host1/eth0"},
                                     {"down": ["host1/eth7"]}, {"hairpin": {"switch:nope/p1": True}}])
def test_what_if_bad_input_is_400(api, vepa_doc, payload):
    assert_envelope(api.post("/api/what-if", json={"document": vepa_doc, **payload}), 400, "bad_request")


# --------------------------------------------------------------------------- plan, export
def test_plan_lists_ordered_ops(api, vepa_doc):
    resp = api.post("/api/plan", json={"document": vepa_doc})
    body = resp.get_json()
    assert body["count"] == len(body["ops"]) > 0
    assert [o["index"] for o in body["ops"]] == list(range(1, body["count"] + 1))
    assert all(isinstance(o["description"], str) and o["description"] for o in body["ops"])


def test_plan_of_design_with_errors_is_422_with_findings(api, vepa_doc):
    vepa_doc["hosts"][0]["children"][0]["mode"] = "passthru"  # MV101: passthru needs the parent alone
    err = assert_envelope(api.post("/api/plan", json={"document": vepa_doc}), 422, "check_errors")
    assert "MV101" in {f["code"] for f in err["details"]["findings"]}


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_export_design_document(api, vepa_doc, fmt):
    resp = api.post(f"/api/export?format={fmt}", json={"document": vepa_doc})
    assert resp.status_code == 200
    assert resp.headers["Content-Disposition"] == f'attachment; filename="vepa-hairpin.{fmt}"'
    text = resp.get_data(as_text=True)
    assert (json.loads(text) if fmt == "json" else yaml.safe_load(text)) == vepa_doc


@pytest.mark.parametrize("fmt,opts", [("iproute2", ""), ("iproute2", "&teardown=1"), ("nmstate", ""), ("networkd", "")])
def test_export_formats(api, vepa_doc, fmt, opts):
    resp = api.post(f"/api/export?format={fmt}{opts}", json={"document": vepa_doc})
    if not core.capabilities()["export"]:
        assert_envelope(resp, 501, "not_implemented")
        return
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert "attachment" in resp.headers["Content-Disposition"]
    if resp.mimetype == "application/zip":
        assert zipfile.ZipFile(io.BytesIO(resp.data)).namelist()
    else:
        assert resp.get_data(as_text=True).strip()
    js = api.post(f"/api/export?format={fmt}{opts}&as=json", json={"document": vepa_doc}).get_json()
    assert js["format"] == fmt and js["files"]


def test_export_unknown_format_is_400(api, vepa_doc):
    assert_envelope(api.post("/api/export?format=docx", json={"document": vepa_doc}), 400, "unsupported_format")


def test_export_invalid_design_is_422(api, vepa_doc):
    vepa_doc["switches"][0]["ports"][0]["name"] = "-bad"
    assert_envelope(api.post("/api/export?format=yaml", json={"document": vepa_doc}), 422, "invalid_design")


# --------------------------------------------------------------------------- upload
def test_upload_yaml_multipart(api, vepa_doc):
    data = {"file": (io.BytesIO(yaml.safe_dump(vepa_doc).encode()), "x.yaml")}
    body = api.post("/api/upload", data=data, content_type="multipart/form-data").get_json()
    assert body["document"] == vepa_doc and body["filename"] == "x.yaml"


def test_upload_json_raw_body(api, vepa_doc):
    resp = api.post("/api/upload?filename=x.json", data=json.dumps(vepa_doc), content_type="application/octet-stream")
    assert resp.get_json()["document"] == vepa_doc


def test_upload_and_create(api, vepa_doc):
    data = {"file": (io.BytesIO(yaml.safe_dump(vepa_doc).encode()), "mine.yaml")}
    resp = api.post("/api/upload?create=1", data=data, content_type="multipart/form-data")
    assert resp.status_code == 201
    rec = resp.get_json()
    assert rec["version"] == 1 and rec["document"] == vepa_doc


def test_upload_broken_yaml_is_422(api):
    data = {"file": (io.BytesIO(b"hosts: [\n  - {name: a"), "x.yaml")}
    err = assert_envelope(api.post("/api/upload", data=data, content_type="multipart/form-data"), 422, "invalid_design")
    assert "YAML" in err["details"]["problems"][0]["message"]


def test_upload_invalid_design_is_422_with_document(api, vepa_doc):
    vepa_doc["hosts"][0]["children"][0]["mode"] = "turbo"
    data = {"file": (io.BytesIO(yaml.safe_dump(vepa_doc).encode()), "x.yaml")}
    err = assert_envelope(api.post("/api/upload", data=data, content_type="multipart/form-data"), 422, "invalid_design")
    assert err["details"]["document"] == vepa_doc
    assert err["details"]["problems"][0]["path"] == "hosts[0].children[0].mode"


def test_upload_binary_is_422(api):
    data = {"file": (io.BytesIO(b"\xff\xfe\x00bin"), "x.yaml")}
    assert_envelope(api.post("/api/upload", data=data, content_type="multipart/form-data"), 422)


def test_upload_without_file_is_400(api):
    assert_envelope(api.post("/api/upload", data=b""), 400, "bad_request")


def test_check_can_report_problems_inline(api, vepa_doc):
    vepa_doc["hosts"][0]["children"][0]["parent"] = ""
    resp = api.post("/api/check?problems=inline", json={"document": vepa_doc})
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["valid"] is False and body["problems"][0]["path"] == "hosts[0].children[0].parent"


def test_upload_can_report_problems_inline(api):
    data = {"file": (io.BytesIO(b"name: x\nbogus: 1\n"), "x.yaml")}
    body = api.post("/api/upload?problems=inline", data=data, content_type="multipart/form-data").get_json()
    assert body["valid"] is False and body["document"] == {"name": "x", "bogus": 1}
    assert "bogus" in body["problems"][0]["message"]
    data = {"file": (io.BytesIO(b"hosts: [\n"), "x.yaml")}
    body = api.post("/api/upload?problems=inline&create=1", data=data, content_type="multipart/form-data").get_json()
    assert body["valid"] is False and body["document"] is None
