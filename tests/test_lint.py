"""The house rules hold on the whole tree: ruff (lint and import order) and mypy (types), with the
configuration in pyproject.toml. A finding fails the test with the tool's own report."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _tool(module: str) -> None:
    """Fail (never skip) when a tool the test extras install is missing."""
    try:
        __import__(module)
    except ImportError:
        pytest.fail(f"{module} is not installed: pip install -e '.[test]'")


def test_ruff_is_clean():
    _tool("ruff")
    cp = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", str(ROOT)], cwd=ROOT,
                        capture_output=True, text=True)
    assert cp.returncode == 0, cp.stdout[-6000:] + cp.stderr[-2000:]


def test_mypy_is_clean(tmp_path):
    _tool("mypy")
    cp = subprocess.run([sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "mypy-cache")], cwd=ROOT,
                        capture_output=True, text=True)
    assert cp.returncode == 0, cp.stdout[-6000:] + cp.stderr[-2000:]
    assert "Success" in cp.stdout


def test_the_tools_are_the_pinned_ones():
    """The extras pin the versions the tree is clean under (a new release may add checks)."""
    text = (ROOT / "pyproject.toml").read_text()
    assert '"ruff==' in text and '"mypy==' in text
