"""The command line people expect: mvplan import, '-o -' is stdout, '-' reads stdin, completion,
-V, explain by address or short name; the --json shapes stay what docs/ says."""
from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from importhelp import DATA

from planner import __version__
from planner.cli import main
from planner.core.model import design_from_dict, load_design
from planner.exporters import export

EX = Path(__file__).parent.parent / "examples"
VEPA = str(EX / "vepa-hairpin.yaml")


def run(capsys, *argv, stdin: str | None = None, monkeypatch=None):
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_import_writes_a_design_and_warns_on_stderr(capsys, tmp_path):
    out = tmp_path / "d.yaml"
    code, _, err = run(capsys, "import", "--from", "docker", str(DATA / "docker/network-lan50.json"), "-o", str(out))
    assert code == 0
    assert "warning: [derived]" in err and f"wrote {out}" in err
    d = load_design(out)
    assert d.hosts[0].name == "node1" and len(d.hosts[0].children) == 2
    assert out.read_text().startswith("# imported by mvplan from")


def test_import_json_strict_stdin_and_failures(capsys, monkeypatch, tmp_path):
    text = (DATA / "kubernetes/multus-macvlan.yaml").read_text()
    code, out, _ = run(capsys, "import", "--from", "multus", "-", "--json", stdin=text, monkeypatch=monkeypatch)
    data = json.loads(out)
    assert code == 0 and set(data) == {"document", "warnings"}
    assert {"code", "source", "where", "message"} == set(data["warnings"][0])
    assert data["warnings"][0]["source"] == "<stdin>"
    design_from_dict(data["document"])
    code, _, _ = run(capsys, "import", "--from", "multus", "-", "--strict", "-o", str(tmp_path / "x.json"),
                     stdin=text, monkeypatch=monkeypatch)
    assert code == 1 and json.loads((tmp_path / "x.json").read_text())["version"] == 1
    code, _, err = run(capsys, "import", "--from", "libvirt", "-", stdin="<domain>", monkeypatch=monkeypatch)
    assert code == 2 and "<stdin>: not well-formed XML" in err
    code, _, err = run(capsys, "import", "--from", "docker", str(tmp_path / "missing.json"))
    assert code == 2 and "missing.json" in err
    with pytest.raises(SystemExit):
        main(["import", "--from", "podman", "x"])


def test_export_to_dash_is_stdout_not_a_file(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(capsys, "export", VEPA, "-f", "iproute2", "-o", "-")
    assert code == 0 and out.startswith("#!/bin/sh\n") and not (tmp_path / "-").exists()
    code, out, _ = run(capsys, "export", VEPA, "-f", "docker", "-o", "-")
    assert "# ==> host1.docker.sh <==" in out and "# ==> host1.compose.yaml <==" in out


def test_dash_reads_the_design_from_stdin(capsys, monkeypatch):
    text = Path(VEPA).read_text()
    for argv in (["check", "-"], ["predict", "-", "--json"], ["plan", "-"], ["export", "-", "-f", "multus"],
                 ["explain", "-", "web0", "db0"], ["predict", "-", "--hairpin", "switch:sw1/p1=off"]):
        code, out, err = run(capsys, *argv, stdin=text, monkeypatch=monkeypatch)
        assert code == 0, (argv, err)
    code, _, err = run(capsys, "check", "-", stdin="parents: 3\n", monkeypatch=monkeypatch)
    assert code == 2 and err.startswith("<stdin>: not a usable design")


def test_export_node_option(capsys, tmp_path):
    f = tmp_path / "d.yaml"
    f.write_text(yaml.safe_dump({"hosts": [{"name": "Node_A-", "parents": [{"name": "eth0"}]},
                                           {"name": "b", "parents": [{"name": "eth0"}]}]}))
    code, _, err = run(capsys, "export", str(f), "-f", "nmstate")
    assert code == 2 and "--node Node_A-=NODE" in err
    code, out, _ = run(capsys, "export", str(f), "-f", "nmstate", "--node", "Node_A-=node-a")
    assert code == 0 and "kubernetes.io/hostname: node-a" in out
    code, _, err = run(capsys, "export", str(f), "-f", "nmstate", "--node", "oops")
    assert code == 2 and "HOST=NODE" in err


def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["-V"])
    assert exc.value.code == 0 and capsys.readouterr().out.strip() == f"mvplan {__version__}"


def test_explain_by_address_namespace_and_short_name(capsys):
    by_id = run(capsys, "explain", VEPA, "host1/ns:web/web0", "station:gw", "--json")[1]
    for a, b in (("10.10.0.11", "10.10.0.1"), ("10.10.0.11/24", "gw"), ("web", "gw"), ("web/web0", "gw"),
                 ("web0", "10.10.0.1")):
        code, out, err = run(capsys, "explain", VEPA, a, b, "--json")
        assert code == 0 and json.loads(out) == json.loads(by_id), (a, b, err)
    code, _, err = run(capsys, "explain", VEPA, "10.10.0.99", "gw")
    assert code == 2 and "no endpoint has the address 10.10.0.99" in err


def test_json_shapes_are_unchanged(capsys):
    """The documented top-level keys of every --json output (docs/reachability.md, docs/apply.md)."""
    assert set(json.loads(run(capsys, "check", VEPA, "--json")[1])) == {"design", "findings", "summary"}
    assert set(json.loads(run(capsys, "predict", VEPA, "--json")[1])) == {
        "endpoints", "classes", "verdicts", "exceptions", "summary"}
    assert set(json.loads(run(capsys, "plan", VEPA, "--json")[1])) == {"design", "ops", "summary", "notes"}
    v = json.loads(run(capsys, "explain", VEPA, "web0", "db0", "--json")[1])
    assert {"reachable", "reason", "message"} <= set(v)


def _complete_bash(script: str, words: list[str]) -> list[str]:
    line = " ".join(f"'{w}'" for w in words)
    cp = subprocess.run(["bash", "-c", f'{script}\nCOMP_WORDS=({line}); COMP_CWORD={len(words) - 1}; _mvplan; '
                                       'printf "%s\\n" "${COMPREPLY[@]}"'], capture_output=True, text=True, check=True)
    return cp.stdout.split()


def test_bash_completion_completes_commands_options_and_choices(capsys):
    code, script, _ = run(capsys, "completion", "bash")
    assert code == 0
    assert _complete_bash(script, ["mvplan", "im"]) == ["import"]
    assert set(_complete_bash(script, ["mvplan", "export", "x.yaml", "-f", ""])) == {
        "iproute2", "nmstate", "networkd", "docker", "multus", "libvirt", "containerlab"}
    assert "kubernetes" in _complete_bash(script, ["mvplan", "import", "--from", ""])
    assert "--strict" in _complete_bash(script, ["mvplan", "import", "--s"])
    assert _complete_bash(script, ["mvplan", "completion", "z"]) == ["zsh"]


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_zsh_and_fish_scripts_parse(capsys, tmp_path, shell, require):
    require(f"{shell} completion", [] if shutil.which(shell) else [f"{shell} (apt-get install {shell})"])
    code, script, _ = run(capsys, "completion", shell)
    f = tmp_path / f"c.{shell}"
    f.write_text(script)
    cp = subprocess.run([shell, "-n", str(f)], capture_output=True, text=True)
    assert cp.returncode == 0, cp.stderr
    if shell == "fish":
        cp = subprocess.run(["fish", "-c", f"source {f}; complete -C 'mvplan export x -f '"], capture_output=True,
                            text=True)
        assert "multus" in cp.stdout.split(), cp.stdout + cp.stderr
    else:
        cp = subprocess.run(["zsh", "-c", f"autoload -U compinit; compinit -u; source {f}; print ${{_comps[mvplan]}}"],
                            capture_output=True, text=True)
        assert cp.stdout.strip() == "_mvplan", cp.stdout + cp.stderr


def test_the_exported_design_of_an_import_checks(capsys, tmp_path):
    """import -> check -> export -> import: the CLI pipeline a user runs."""
    d = tmp_path / "d.yaml"
    assert run(capsys, "import", "--from", "clab", str(DATA / "containerlab/macvlan.clab.yml"), "-o", str(d))[0] == 0
    assert run(capsys, "check", str(d))[0] == 0
    res = export(load_design(d), "containerlab")
    assert res.files
