"""Designs, versions, drafts, diffs, downloads, apply; escaping in pages."""
from __future__ import annotations

import copy
import json

import yaml
from webhelpers import assert_envelope, no_hairpin


def create(api, doc, message="first"):
    resp = api.post("/api/designs", json={"document": doc, "message": message})
    assert resp.status_code == 201, resp.get_data(as_text=True)
    return resp.get_json()


def test_examples_are_loaded_on_first_start(client):
    names = [d["name"] for d in client.get("/api/designs").get_json()["designs"]]
    assert "vepa-hairpin" in names


def test_examples_are_loaded_only_once(app, tmp_path):
    from planner.web import create_app

    again = create_app({"TESTING": True, "SECRET_KEY": "t", "DATABASE": app.config["DATABASE"]},
                       instance_path=str(tmp_path))
    names = [d["name"] for d in again.test_client().get("/api/designs").get_json()["designs"]]
    assert names.count("vepa-hairpin") == 1


def test_default_database_lives_in_the_instance_folder(tmp_path):
    from planner.web import create_app

    app = create_app({"TESTING": True, "SECRET_KEY": "t"}, instance_path=str(tmp_path / "inst"))
    assert app.config["DATABASE"] == str(tmp_path / "inst" / "mvplan.sqlite3")
    assert (tmp_path / "inst" / "mvplan.sqlite3").exists()


def test_create_get_list(api, vepa_doc):
    rec = create(api, vepa_doc)
    assert rec["version"] == 1 and rec["name"] == "vepa-hairpin" and rec["draft"] is None
    got = api.get(f"/api/designs/{rec['id']}").get_json()
    assert got["document"] == vepa_doc
    assert got["version_info"]["message"] == "first"
    listed = api.get("/api/designs").get_json()["designs"]
    assert any(d["id"] == rec["id"] for d in listed)


def test_create_invalid_is_422(api, vepa_doc):
    vepa_doc["stations"][0]["uplink"]["port"] = "p77"
    err = assert_envelope(api.post("/api/designs", json={"document": vepa_doc}), 422, "invalid_design")
    assert err["details"]["problems"][0]["path"] == "stations[0].uplink.port"


def test_update_appends_versions_and_keeps_every_one(api, vepa_doc):
    rec = create(api, vepa_doc)
    v2 = no_hairpin(copy.deepcopy(vepa_doc))
    resp = api.put(f"/api/designs/{rec['id']}", json={"document": v2, "message": "hairpin off", "base_version": 1})
    assert resp.status_code == 200 and resp.get_json()["version"] == 2
    versions = api.get(f"/api/designs/{rec['id']}/versions").get_json()["versions"]
    assert [(v["version"], v["message"]) for v in versions] == [(2, "hairpin off"), (1, "first")]
    assert api.get(f"/api/designs/{rec['id']}/versions/1").get_json()["document"] == vepa_doc
    assert api.get(f"/api/designs/{rec['id']}/versions/2").get_json()["document"] == v2
    assert_envelope(api.get(f"/api/designs/{rec['id']}/versions/3"), 404, "not_found")


def test_update_from_stale_version_is_409(api, vepa_doc):
    rec = create(api, vepa_doc)
    api.put(f"/api/designs/{rec['id']}", json={"document": vepa_doc, "base_version": 1})
    err = assert_envelope(api.put(f"/api/designs/{rec['id']}", json={"document": vepa_doc, "base_version": 1}),
                          409, "conflict")
    assert err["details"]["latest"] == 2


def test_update_invalid_is_422_and_keeps_version(api, vepa_doc):
    rec = create(api, vepa_doc)
    bad = copy.deepcopy(vepa_doc)
    bad["hosts"][0]["children"][1]["name"] = "web0"
    bad["hosts"][0]["children"][1]["namespace"] = "web"
    assert_envelope(api.put(f"/api/designs/{rec['id']}", json={"document": bad}), 422, "invalid_design")
    assert api.get(f"/api/designs/{rec['id']}").get_json()["version"] == 1


def test_delete(api, vepa_doc):
    rec = create(api, vepa_doc)
    assert api.delete(f"/api/designs/{rec['id']}").status_code == 204
    assert_envelope(api.get(f"/api/designs/{rec['id']}"), 404)
    assert_envelope(api.delete(f"/api/designs/{rec['id']}"), 404)


def test_drafts_may_be_invalid_and_are_dropped_by_a_save(api, vepa_doc):
    rec = create(api, vepa_doc)
    half = {"name": "drawing", "hosts": [{"name": "h1", "children": [{"name": "mv0", "parent": ""}]}]}
    resp = api.put(f"/api/designs/{rec['id']}/draft", json={"document": half, "base_version": 1})
    assert resp.status_code == 200
    got = api.get(f"/api/designs/{rec['id']}").get_json()
    assert got["draft"]["document"] == half and got["draft"]["base_version"] == 1
    assert api.get("/api/designs").get_json()["designs"][0]["has_draft"] is True
    api.put(f"/api/designs/{rec['id']}", json={"document": vepa_doc})
    assert api.get(f"/api/designs/{rec['id']}").get_json()["draft"] is None


def test_delete_draft(api, vepa_doc):
    rec = create(api, vepa_doc)
    api.put(f"/api/designs/{rec['id']}/draft", json={"document": vepa_doc})
    assert api.delete(f"/api/designs/{rec['id']}/draft").status_code == 204
    assert api.get(f"/api/designs/{rec['id']}").get_json()["draft"] is None


def test_diff_between_versions(api, vepa_doc):
    rec = create(api, vepa_doc)
    v2 = no_hairpin(copy.deepcopy(vepa_doc))
    v2["hosts"][0]["children"].append({"name": "cache0", "parent": "eth0", "mode": "bridge", "namespace": "cache",
                                       "addresses": ["10.10.0.13/24"]})
    api.put(f"/api/designs/{rec['id']}", json={"document": v2})
    d = api.get(f"/api/designs/{rec['id']}/diff?from=1&to=2").get_json()
    assert d["from"] == 1 and d["to"] == 2
    assert {"id": "host1/ns:cache/cache0", "kind": "macvlan"} in d["objects"]["added"]
    changed = {c["id"]: c["fields"] for c in d["objects"]["changed"]}
    assert changed["switch:sw1/p1"] == {"hairpin": {"from": True, "to": False}}
    lost = {(p["from"], p["to"]) for p in d["reachability"]["lost"]}
    assert ("host1/ns:web/web0", "host1/ns:db/db0") in lost
    assert d["reachability"]["endpoints_added"] == ["host1/ns:cache/cache0"]
    assert d["summary"]["lost"] == 2
    # default: latest against the one before; and back again
    assert api.get(f"/api/designs/{rec['id']}/diff").get_json()["summary"] == d["summary"]
    back = api.get(f"/api/designs/{rec['id']}/diff?from=2&to=1").get_json()
    assert back["summary"]["gained"] == 2


def test_diff_bad_versions(api, vepa_doc):
    rec = create(api, vepa_doc)
    assert_envelope(api.get(f"/api/designs/{rec['id']}/diff?from=1&to=5"), 404)
    assert_envelope(api.get(f"/api/designs/{rec['id']}/diff?from=x"), 400, "bad_request")


def test_diff_of_documents(api, vepa_doc):
    d = api.post("/api/diff", json={"old": vepa_doc, "new": no_hairpin(copy.deepcopy(vepa_doc))}).get_json()
    assert d["summary"]["lost"] == 2
    assert_envelope(api.post("/api/diff", json={"old": vepa_doc}), 400)


def test_download_json_and_yaml(api, vepa_doc):
    rec = create(api, vepa_doc)
    r = api.get(f"/api/designs/{rec['id']}/download?format=json")
    assert r.headers["Content-Disposition"] == 'attachment; filename="vepa-hairpin-v1.json"'
    assert json.loads(r.get_data(as_text=True)) == vepa_doc
    r = api.get(f"/api/designs/{rec['id']}/download?format=yaml&version=1")
    assert yaml.safe_load(r.get_data(as_text=True)) == vepa_doc
    assert_envelope(api.get(f"/api/designs/{rec['id']}/download?format=xml"), 400, "unsupported_format")


def test_download_filename_is_sanitised(api, vepa_doc):
    vepa_doc["name"] = 'evil"; name=../../x'
    rec = create(api, vepa_doc)
    cd = api.get(f"/api/designs/{rec['id']}/download?format=json").headers["Content-Disposition"]
    assert cd == 'attachment; filename="evil_name_.._.._x-v1.json"'


def test_export_saved_version(api, vepa_doc):
    from planner.web import core

    rec = create(api, vepa_doc)
    r = api.get(f"/api/designs/{rec['id']}/export?format=iproute2&version=1")
    if core.capabilities()["export"]:
        assert r.status_code == 200 and "attachment" in r.headers["Content-Disposition"]
    else:
        assert_envelope(r, 501, "not_implemented")


def test_apply_is_off_by_default(api, vepa_doc):
    rec = create(api, vepa_doc)
    err = assert_envelope(api.post(f"/api/designs/{rec['id']}/apply", json={}), 403, "apply_disabled")
    assert "--allow-apply" in err["message"]  # more in test_web_apply.py


# --------------------------------------------------------------------------- pages
SCRIPT = "<script>alert(1)</script>"


def test_design_name_is_escaped_in_pages(api, vepa_doc):
    vepa_doc["name"] = SCRIPT
    vepa_doc["description"] = SCRIPT
    rec = create(api, vepa_doc, message=SCRIPT)
    api.put(f"/api/designs/{rec['id']}", json={"document": vepa_doc, "message": SCRIPT})
    for url in ["/", f"/designs/{rec['id']}", f"/designs/{rec['id']}/history", f"/designs/{rec['id']}/versions/2",
                f"/designs/{rec['id']}/diff?from=1&to=2"]:
        html = api.get(url).get_data(as_text=True)
        assert SCRIPT not in html, url
        assert "alert(1)" in html, url  # it is there, escaped
    editor = api.get(f"/designs/{rec['id']}").get_data(as_text=True)
    assert "\\u003cscript\\u003e" in editor  # JSON data block escapes < and >


def test_pages_render(api, vepa_doc):
    rec = create(api, vepa_doc)
    api.put(f"/api/designs/{rec['id']}", json={"document": no_hairpin(copy.deepcopy(vepa_doc)), "message": "off"})
    idx = api.get("/").get_data(as_text=True)
    assert f'href="/designs/{rec["id"]}"' in idx
    ed = api.get(f"/designs/{rec['id']}").get_data(as_text=True)
    assert 'id="cy"' in ed and "cytoscape-edgehandles.js" in ed
    hist = api.get(f"/designs/{rec['id']}/history").get_data(as_text=True)
    assert "off" in hist and "v2" in hist
    rev = api.get(f"/designs/{rec['id']}/versions/2").get_data(as_text=True)
    assert "MV203" in rev  # findings
    assert 'class="cell block"' in rev  # matrix
    assert "switch:sw1/p1" in rev and "Changes since v1" in rev  # diff to the previous version
    d = api.get(f"/designs/{rec['id']}/diff?from=1&to=2").get_data(as_text=True)
    assert "hairpin" in d and "Lost (2)" in d


def test_review_of_missing_version_is_404_page(api, vepa_doc):
    rec = create(api, vepa_doc)
    assert api.get(f"/designs/{rec['id']}/versions/9").status_code == 404


def test_serve_uses_instance_in_the_current_directory(tmp_path, monkeypatch):
    import planner.web as web

    seen = {}
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("flask.Flask.run", lambda self, **kw: seen.update(kw, app=self))
    monkeypatch.setattr(web, "_check_port_free", lambda host, port: None)  # port 9999 may be in use here
    web.serve(port=9999, allow_apply=True)
    assert seen["app"].instance_path == str(tmp_path / "instance")
    assert seen["app"].config["ALLOW_APPLY"] is True
    assert seen["host"] == "127.0.0.1" and seen["port"] == 9999 and seen["debug"] is False
    assert (tmp_path / "instance" / "mvplan.sqlite3").exists()


def test_base_version_must_be_an_integer(api, vepa_doc):
    rec = create(api, vepa_doc)
    for bad in (True, "1", 1.5):
        assert_envelope(api.put(f"/api/designs/{rec['id']}", json={"document": vepa_doc, "base_version": bad}), 400)
        assert_envelope(api.put(f"/api/designs/{rec['id']}/draft",
                                json={"document": vepa_doc, "base_version": bad}), 400)
