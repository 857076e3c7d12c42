"""Helpers shared by the web tests (imported by name; tests/web is on sys.path)."""


def no_hairpin(doc):
    for s in doc["switches"]:
        for p in s["ports"]:
            p["hairpin"] = False
    return doc


def assert_envelope(resp, status, code=None):
    assert resp.status_code == status, resp.get_data(as_text=True)
    body = resp.get_json()
    assert set(body) == {"error"}, body
    err = body["error"]
    assert set(err) == {"code", "message", "details"}
    assert isinstance(err["message"], str) and err["message"]
    assert "Traceback" not in resp.get_data(as_text=True)
    if code:
        assert err["code"] == code, err
    return err
