"""``mvplan serve`` on a port that is taken says so - and prints no URL first (issue 10)."""
from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_serve_on_a_taken_port_fails_before_printing_its_url(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = subprocess.run([sys.executable, "-c", "import sys; from planner.cli import main; sys.exit(main())",
                               "serve", "--port", str(port), "--instance", str(tmp_path / "instance")],
                              cwd=str(ROOT), capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    assert "http://" not in proc.stderr + proc.stdout
    assert f"cannot listen on 127.0.0.1:{port}" in proc.stderr and "--port" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
