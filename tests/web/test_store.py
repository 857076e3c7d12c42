"""planner.web.store: versions are append-only, drafts are one per design, seeding happens once."""
from __future__ import annotations

import threading

import pytest

from planner.web.store import Conflict, NotFound, Store


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "s.sqlite3")
    yield s
    s.close()


def test_versions_are_kept(store):
    rec = store.create({"name": "a"}, "one")
    assert rec["version"] == 1
    store.save(rec["id"], {"name": "b"}, "two")
    store.save(rec["id"], {"name": "c"})
    assert [v["version"] for v in store.versions(rec["id"])] == [3, 2, 1]
    assert store.document(rec["id"], 1) == {"name": "a"}
    assert store.get(rec["id"])["name"] == "c"
    assert store.versions(rec["id"])[0]["message"] == "version 3"


def test_conflict(store):
    rec = store.create({"name": "a"})
    store.save(rec["id"], {"name": "a"}, base_version=1)
    with pytest.raises(Conflict) as exc:
        store.save(rec["id"], {"name": "a"}, base_version=1)
    assert exc.value.latest == 2


def test_not_found(store):
    with pytest.raises(NotFound):
        store.get(5)
    rec = store.create({"name": "a"})
    with pytest.raises(NotFound):
        store.get(rec["id"], 2)
    with pytest.raises(NotFound):
        store.put_draft(99, {}, 1)


def test_drafts(store):
    rec = store.create({"name": "a"})
    store.put_draft(rec["id"], {"half": True}, 1)
    store.put_draft(rec["id"], {"half": 2}, 1)
    assert store.get(rec["id"])["draft"]["document"] == {"half": 2}
    store.save(rec["id"], {"name": "a"})
    assert store.get(rec["id"])["draft"] is None


def test_seed_once(store):
    assert store.seed([({"name": "x"}, "example")]) == 1
    assert store.seed([({"name": "x"}, "example")]) == 0
    assert [d["name"] for d in store.list()] == ["x"]


def test_delete_removes_versions(store):
    rec = store.create({"name": "a"})
    store.save(rec["id"], {"name": "a"})
    store.delete(rec["id"])
    with pytest.raises(NotFound):
        store.versions(rec["id"])


def test_concurrent_saves_number_versions_densely(store):
    rec = store.create({"name": "a"})

    def work():
        for _ in range(20):
            store.save(rec["id"], {"name": "a"})

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [v["version"] for v in store.versions(rec["id"])] == list(range(81, 0, -1))
