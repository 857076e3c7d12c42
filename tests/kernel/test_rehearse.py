"""mvplan rehearse: build in throwaway namespaces, ping every pair, compare with the prediction."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from planner import cli
from planner.lab import Lab
from planner.netlink.target import list_netns

pytestmark = pytest.mark.kernel

ROOT = Path(__file__).resolve().parents[2]
VEPA = str(ROOT / "examples" / "vepa-hairpin.yaml")


@pytest.fixture(scope="module")
def kernel(request):
    request.getfixturevalue("lab_prereqs")


@pytest.fixture
def lab_namespaces(monkeypatch):
    """Record the namespaces of every Lab built, to check they are gone afterwards."""
    seen: list[str] = []
    orig = Lab.__enter__

    def enter(self):
        seen.extend(self.namespaces)
        return orig(self)

    monkeypatch.setattr(Lab, "__enter__", enter)
    return seen


def test_rehearse_vepa_hairpin_agrees(kernel, capsys, lab_namespaces):
    assert cli.main(["rehearse", VEPA]) == 0
    out = capsys.readouterr().out
    assert "6/6 pairs agree with the prediction" in out and "DISAGREE" not in out
    assert "host1/ns:web/web0" in out and "station:gw" in out and "predicted" in out and "measured" in out
    assert lab_namespaces and not set(lab_namespaces) & set(list_netns())


def test_rehearse_json(kernel, capsys, lab_namespaces):
    assert cli.main(["rehearse", VEPA, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["summary"]["pairs"] == 6 and doc["summary"]["disagree"] == 0
    pair = next(p for p in doc["pairs"] if p["from"] == "host1/ns:web/web0" and p["to"] == "host1/ns:db/db0")
    assert pair["predicted"] is True and pair["measured"] is True and pair["agree"] is True
    assert not set(lab_namespaces) & set(list_netns())


def test_rehearse_disagreement_exits_1(kernel, capsys, monkeypatch, lab_namespaces):
    """A wrong prediction (here: forced) is reported side by side and makes the exit code 1."""
    import planner.core.reachability as reach

    real = reach.predict_families

    def wrong(design, **kw):
        preds = real(design, **kw)
        pred = preds[4]
        verdict = pred.verdict

        def flipped(a, b):
            v = verdict(a, b)
            if (a, b) == ("host1/ns:web/web0", "host1/ns:db/db0"):
                return type(v)(reachable=not v.reachable, reason="forced-by-test", message="x")
            return v

        pred.verdict = flipped
        return preds

    monkeypatch.setattr(reach, "predict_families", wrong)
    assert cli.main(["rehearse", VEPA]) == 1
    out = capsys.readouterr().out
    assert "DISAGREE" in out and "forced-by-test" in out and "5/6 pairs agree" in out
    assert not set(lab_namespaces) & set(list_netns())


def test_rehearse_unusable_input(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nhosts: [{name: h, children: [{name: c, parent: nope}]}]\n")
    assert cli.main(["rehearse", str(bad)]) == 2
