"""The command line: exit codes 0 clean / 1 findings / 2 unusable input, and JSON outputs."""
import json
from pathlib import Path

import pytest

from planner.cli import main

EX = Path(__file__).parent.parent / "examples"


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_check_clean_example_exits_0(capsys):
    code, out, _ = run(capsys, "check", str(EX / "vepa-hairpin.yaml"))
    assert code == 0 and "0 error(s)" in out


def test_check_errors_exit_1_and_json_is_data(tmp_path, capsys):
    f = tmp_path / "bad.yaml"
    f.write_text("parents: [{name: eth0}]\nchildren:\n  - {name: a, parent: eth0, mode: passthru}\n"
                 "  - {name: b, parent: eth0}\n")
    code, out, _ = run(capsys, "check", str(f), "--json")
    assert code == 1
    data = json.loads(out)
    mv101 = [x for x in data["findings"] if x["code"] == "MV101"]
    assert mv101 and mv101[0]["severity"] == "error" and mv101[0]["errno"] == "EINVAL" and mv101[0]["fix"]


def test_strict_makes_warnings_fail(capsys):
    code, _, _ = run(capsys, "check", str(EX / "two-parent-host.yaml"))
    assert code == 0
    code, _, _ = run(capsys, "check", str(EX / "two-parent-host.yaml"), "--strict")
    assert code == 1


def test_unusable_input_exits_2_and_names_the_path(tmp_path, capsys):
    f = tmp_path / "bad.yaml"
    f.write_text("children:\n  - {name: a, parent: eth9, colour: red}\n")
    code, _, err = run(capsys, "check", str(f))
    assert code == 2
    assert "children[0]: unknown key 'colour'" in err


def test_predict_json_and_what_if(capsys):
    code, out, _ = run(capsys, "predict", str(EX / "vepa-hairpin.yaml"), "--json")
    assert code == 0 and json.loads(out)["summary"]["reachable_pairs"] == 6
    code, out, _ = run(capsys, "predict", str(EX / "vepa-hairpin.yaml"), "--json", "--hairpin", "switch:sw1/p1=off")
    assert json.loads(out)["summary"]["reachable_pairs"] == 4
    code, out, _ = run(capsys, "predict", str(EX / "vepa-hairpin.yaml"), "--down", "host1/eth0")
    assert "SRC_DOWN" in out and "bring the parent up" in out


@pytest.mark.parametrize("bad", ["switch:sw1/p1", "switch:nope/p1=on"])
def test_bad_what_if_is_input_error(capsys, bad):
    code, _, err = run(capsys, "predict", str(EX / "vepa-hairpin.yaml"), "--hairpin", bad)
    assert code == 2 and "hairpin" in err


def test_explain(capsys):
    code, out, _ = run(capsys, "explain", str(EX / "two-parent-host.yaml"), "host1/ns:a1/mv0", "host1/ns:a2/mv0")
    assert code == 1 and "BLOCKED (ARP_UNANSWERED)" in out and "hairpin" in out
    code, out, _ = run(capsys, "explain", str(EX / "vepa-hairpin.yaml"), "web0", "db0", "--json")
    assert code == 0 and json.loads(out)["reachable"] is True
    code, _, err = run(capsys, "explain", str(EX / "two-parent-host.yaml"), "mv0", "gw")
    assert code == 2 and "ambiguous" in err


def test_schema(capsys):
    code, out, _ = run(capsys, "schema")
    assert code == 0 and json.loads(out)["title"].startswith("mvplan design")
