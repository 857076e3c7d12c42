"""/api/import: the browser's Upload of Docker, Kubernetes/Multus, libvirt and containerlab files -
the same importers as 'mvplan import', warnings as data, failures as 4xx envelopes naming the file."""
from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from webhelpers import assert_envelope

from planner.importers import FORMATS, Source, import_sources

DATA = Path(__file__).resolve().parents[1] / "data" / "import"


def _file(rel: str, name: str | None = None):
    return (io.BytesIO((DATA / rel).read_bytes()), name or Path(rel).name)


def test_formats_are_listed_here_and_in_meta(client):
    body = client.get("/api/import/formats").get_json()
    assert [f["name"] for f in body["formats"]] == list(FORMATS)
    assert body["aliases"]["multus"] == "kubernetes"
    assert client.get("/api/meta").get_json()["import_formats"] == list(FORMATS)


def test_several_docker_files_give_the_cli_document_and_warnings(api):
    data = {"file": [_file("docker/network-lan50-lan60.json"), _file("docker/inspect-web-two-networks.json")]}
    body = api.post("/api/import?from=docker", data=data, content_type="multipart/form-data").get_json()
    want = import_sources("docker", [Source(n, (DATA / "docker" / n).read_text()) for n in
                                     ("network-lan50-lan60.json", "inspect-web-two-networks.json")])
    assert body["document"] == want.document and body["format"] == "docker"
    assert body["filenames"] == ["network-lan50-lan60.json", "inspect-web-two-networks.json"]
    assert body["warnings"] == want.to_dict()["warnings"] and body["warnings"]
    assert {"code", "source", "where", "message"} == set(body["warnings"][0])


@pytest.mark.parametrize("fmt,rel", [("multus", "kubernetes/multus-macvlan.yaml"), ("libvirt", "libvirt/vm1.xml"),
                                     ("clab", "containerlab/macvlan.clab.yml")])
def test_raw_body_with_alias_host_and_name(api, fmt, rel):
    resp = api.post(f"/api/import?from={fmt}&filename={Path(rel).name}&host=hv9&name=mine",
                    data=(DATA / rel).read_bytes(), content_type="application/octet-stream")
    body = resp.get_json()
    assert resp.status_code == 200, body
    assert body["document"]["name"] == "mine" and [h["name"] for h in body["document"]["hosts"]] == ["hv9"]
    assert all(w["source"] == Path(rel).name for w in body["warnings"])


def test_create_stores_the_design_with_its_warnings(api):
    data = {"file": [_file("docker/network-lan50.json")]}
    resp = api.post("/api/import?from=docker&create=1", data=data, content_type="multipart/form-data")
    assert resp.status_code == 201
    rec = resp.get_json()
    assert rec["version"] == 1 and rec["warnings"] and rec["document"]["hosts"][0]["name"] == "node1"
    stored = api.get(f"/api/designs/{rec['id']}").get_json()
    assert stored["document"] == rec["document"]
    assert "imported from network-lan50.json (docker)" in json.dumps(stored)


def test_failures_are_envelopes_naming_the_file(api):
    err = assert_envelope(api.post("/api/import?from=libvirt&filename=vm.xml", data=b"<domain>",
                                   content_type="application/octet-stream"), 422, "import_failed")
    assert err["details"]["problems"][0]["path"].startswith("vm.xml")
    err = assert_envelope(api.post("/api/import?from=podman", data=b"{}"), 400, "bad_request")
    assert "docker" in err["message"]
    assert_envelope(api.post("/api/import", data=b"{}"), 400, "bad_request")
    assert_envelope(api.post("/api/import?from=docker", data=b""), 400, "bad_request")
    err = assert_envelope(api.post("/api/import?from=docker", data={"file": [(io.BytesIO(b"\xff\xfe"), "x.json")]},
                                   content_type="multipart/form-data"), 422, "import_failed")
    assert err["details"]["problems"][0]["path"] == "x.json"
    err = assert_envelope(api.post("/api/import?from=docker&filename=n.json", data=b"[1, 2",
                                   content_type="application/octet-stream"), 422, "import_failed")
    assert "n.json" in err["details"]["problems"][0]["path"]


def test_import_needs_the_csrf_token(client):
    assert_envelope(client.post("/api/import?from=docker", data=b"[]"), 403, "csrf_failed")
