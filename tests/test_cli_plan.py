"""The plan/export/apply/discover/rehearse commands (planner.cli.plan) where no root is needed:
argument handling, output shapes, exit codes (0 ok, 1 errors, 2 unusable input). The commands
that touch the kernel are tested in tests/kernel/."""
from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pytest

from planner import cli

ROOT = Path(__file__).resolve().parents[1]
VEPA = str(ROOT / "examples" / "vepa-hairpin.yaml")


def run(capsys, *argv):
    rc = cli.main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def test_commands_are_registered(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    out = capsys.readouterr().out
    for name in ("plan", "export", "apply", "discover", "rehearse"):
        assert name in out
    # main() can run twice in one process (registration is idempotent)
    assert run(capsys, "plan", VEPA)[0] == 0
    assert run(capsys, "plan", VEPA)[0] == 0


def test_plan_text(capsys):
    rc, out, _ = run(capsys, "plan", VEPA)
    assert rc == 0
    assert "create-macvlan" in out and "host1/ns:web/web0" in out
    assert out.strip().splitlines()[-1].startswith("15 op(s): 2 create-namespace")


def test_plan_json(capsys):
    rc, out, _ = run(capsys, "plan", VEPA, "--json")
    doc = json.loads(out)
    assert rc == 0 and doc["design"] == "vepa-hairpin" and len(doc["ops"]) == 15
    assert doc["ops"][0]["op"] == "create-namespace" and "key" in doc["ops"][0]


def test_plan_errors(capsys, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nparents: [{name: eth0}]\nchildren:\n"
                   "  - {name: a, parent: eth0, mode: passthru}\n  - {name: b, parent: eth0, mode: passthru}\n")
    rc, _, err = run(capsys, "plan", str(bad))
    assert rc == 1 and "MV101" in err  # check errors: the design does not compile
    rc, _, err = run(capsys, "plan", VEPA, "--host", "nope")
    assert rc == 2 and "nope" in err
    rc, _, err = run(capsys, "plan", str(tmp_path / "missing.yaml"))
    assert rc == 2


def test_export_iproute2_stdout_teardown_and_files(capsys, tmp_path):
    rc, out, _ = run(capsys, "export", VEPA, "--format", "iproute2")
    assert rc == 0 and out.startswith("#!/bin/sh") and "set -eu" in out and "type macvlan mode vepa" in out
    rc, out, _ = run(capsys, "export", VEPA, "--format", "iproute2", "--teardown")
    assert rc == 0 and "link del" in out
    rc, out, _ = run(capsys, "export", VEPA, "-f", "iproute2", "--hairpin-style", "brctl", "--batch",
                     "--netns-prefix", "lab-")
    assert rc == 0 and "netns add lab-web" in out and "-batch" in out
    rc, _, err = run(capsys, "export", VEPA, "-f", "iproute2", "-o", str(tmp_path / "host1.sh"))
    assert rc == 0 and (tmp_path / "host1.sh").read_text().startswith("#!/bin/sh")
    rc, _, _ = run(capsys, "export", VEPA, "-f", "networkd", "-o", str(tmp_path / "nd"))
    assert rc == 0 and any(p.suffix == ".network" for p in (tmp_path / "nd").iterdir())
    rc, _, _ = run(capsys, "export", VEPA, "-f", "networkd", "-o", str(tmp_path / "nd.tar"))
    with tarfile.open(tmp_path / "nd.tar") as tar:
        assert rc == 0 and tar.getnames()


def test_export_warnings_and_bad_options(capsys):
    rc, out, err = run(capsys, "export", VEPA, "-f", "networkd")
    assert rc == 0 and "# ==> " in out and "warning:" in err  # namespaces: networkd cannot say it
    rc, out, err = run(capsys, "export", VEPA, "-f", "nmstate")
    assert rc == 0 and "interfaces:" in out
    rc, _, err = run(capsys, "export", VEPA, "-f", "nmstate", "--teardown")
    assert rc == 2 and "teardown" in err


def test_apply_argument_errors(capsys, tmp_path):
    rd = str(tmp_path / "run")
    rc, _, err = run(capsys, "apply", "--run-dir", rd)
    assert rc == 2 and "design FILE" in err
    rc, _, err = run(capsys, "apply", "--recover", "rollback", "--netns", "nothing-here", "--run-dir", rd)
    assert rc == 1 and "nothing to recover" in err
    rc, out, _ = run(capsys, "apply", "--confirm-keep", "--netns", "lab1", "--run-dir", rd)
    assert rc == 0 and (tmp_path / "run" / "netns-lab1.confirm").exists()
    rc, _, err = run(capsys, "apply", VEPA, "--netns", "mvplan-no-such-netns-here", "--run-dir", rd)
    assert rc == 2 and "does not exist" in err
