#!/usr/bin/env python3
"""Load on ``mvplan serve`` (waitress) over loopback: N concurrent clients POST /api/check for S
seconds; then the same with one more client uploading the YAML alias bomb in a loop. Prints
throughput, p50/p99 and errors of the check clients side by side, and the p99 ratio (issue 9's
target: no errors, the bomb raises the others' p99 by less than 2x).

Usage: python bench/serve_load.py [--clients 50] [--seconds 60] [--threads 8]
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DESIGN = {"version": 1, "name": "load",
          "hosts": [{"name": "h1", "parents": [{"name": "eth0", "uplink": {"switch": "sw", "port": "p1"}}],
                     "children": [{"name": f"mv{k}", "parent": "eth0", "mode": ("bridge", "vepa", "private")[k % 3],
                                   "namespace": f"n{k}", "addresses": [f"10.0.0.{k + 2}/24"]} for k in range(6)]}],
          "switches": [{"name": "sw", "ports": [{"name": "p1", "hairpin": True}]}]}


def alias_bomb(levels: int = 9, width: int = 10) -> str:
    lines = ["version: 1", "name: bomb", "layout:", f"  l0: &l0 [{', '.join(['xxxxxxxxxx'] * width)}]"]
    lines += [f"  l{k}: &l{k} [{', '.join([f'*l{k - 1}'] * width)}]" for k in range(1, levels)]
    return "\n".join(lines) + "\n"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, instance: str, threads: int) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.Popen([sys.executable, "-m", "planner.cli", "serve", "--port", str(port), "--instance",
                             instance, "--threads", str(threads), "--connection-limit", "200"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", "/api/meta")
            c.getresponse().read()
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("mvplan serve did not start")


def session(port: int) -> dict:
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("GET", "/api/csrf")
    resp = c.getresponse()
    token = json.loads(resp.read())["token"]
    cookie = resp.getheader("Set-Cookie", "").split(";", 1)[0]
    return {"X-CSRF-Token": token, "Cookie": cookie}


class Client(threading.Thread):
    """One keep-alive connection sending the same request until told to stop."""

    def __init__(self, port: int, headers: dict, path: str, body: bytes, ctype: str, stop: threading.Event,
                 ok_status: int):
        super().__init__(daemon=True)
        self.port, self.path, self.body, self.stop, self.ok_status = port, path, body, stop, ok_status
        self.headers = {**headers, "Content-Type": ctype}
        self.latencies: list[float] = []
        self.errors = 0

    def run(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        while not self.stop.is_set():
            t0 = time.perf_counter()
            try:
                conn.request("POST", self.path, body=self.body, headers=self.headers)
                resp = conn.getresponse()
                resp.read()
                if resp.status != self.ok_status:
                    self.errors += 1
                self.latencies.append((time.perf_counter() - t0) * 1000)
            except (OSError, http.client.HTTPException):
                self.errors += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)


def run_phase(port: int, headers: dict, clients: int, seconds: float, bomb: bool) -> dict:
    stop = threading.Event()
    body = json.dumps({"document": DESIGN}).encode()
    checkers = [Client(port, headers, "/api/check", body, "application/json", stop, 200) for _ in range(clients)]
    extra = [Client(port, headers, "/api/upload?filename=bomb.yaml&create=1", alias_bomb().encode(),
                    "application/yaml", stop, 413)] if bomb else []
    for c in checkers + extra:
        c.start()
    time.sleep(seconds)
    stop.set()
    for c in checkers + extra:
        c.join(35)
    lat = sorted(x for c in checkers for x in c.latencies)
    out = {"requests": len(lat), "rps": len(lat) / seconds, "errors": sum(c.errors for c in checkers),
           "p50": statistics.median(lat) if lat else float("nan"),
           "p99": lat[min(len(lat) - 1, int(len(lat) * 0.99))] if lat else float("nan")}
    if bomb:
        out["bombs"] = len(extra[0].latencies)
        out["bomb_errors"] = extra[0].errors
        out["bomb_p50"] = statistics.median(extra[0].latencies) if extra[0].latencies else float("nan")
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--threads", type=int, default=8)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        proc = start_server(port, str(Path(tmp) / "instance"), args.threads)
        try:
            headers = session(port)
            base = run_phase(port, headers, args.clients, args.seconds, bomb=False)
            loaded = run_phase(port, headers, args.clients, args.seconds, bomb=True)
        finally:
            proc.terminate()
            proc.wait(10)
    print(f"mvplan serve (waitress, {args.threads} threads), {args.clients} clients POST /api/check, "
          f"{args.seconds:g} s per run, loopback")
    print(f"{'':28}{'baseline':>12}{'+ alias bomb':>14}")
    for key, fmt in (("requests", "{:.0f}"), ("rps", "{:.1f}"), ("p50", "{:.1f} ms"), ("p99", "{:.1f} ms"),
                     ("errors", "{:.0f}")):
        print(f"{key:28}{fmt.format(base[key]):>12}{fmt.format(loaded[key]):>14}")
    print(f"bomb uploads (all 413 expected): {loaded['bombs']}, unexpected answers {loaded['bomb_errors']}, "
          f"p50 {loaded['bomb_p50']:.1f} ms")
    ratio = loaded["p99"] / base["p99"] if base["p99"] else float("nan")
    print(f"p99 ratio (bomb / baseline): {ratio:.2f}x (target < 2x); errors: {base['errors'] + loaded['errors']} "
          "(target 0)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
