"""The simulator as a real HTTP server: serve_in_thread and `python -m planner sim serve`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import yaml

from planner.clock import VirtualClock
from planner.sim import Simulator, parse_inventory, serve_in_thread
from tests.sim.simkit import FULL_A, INVENTORY, PRJ, make_sim

ROOT = Path(__file__).resolve().parents[2]


def test_serve_in_thread_real_http() -> None:
    sim = make_sim()
    with serve_in_thread(sim) as base:
        assert base.startswith("http://127.0.0.1:")
        with httpx.Client(base_url=base, headers={"X-Auth-Token": sim.credentials.token}, timeout=10) as c:
            r = c.post(f"/v3/{PRJ}/backups/bk-a/restore", json={"restore": FULL_A})
            assert r.status_code == 202
            assert r.headers["content-type"] == "application/json"
            assert c.get(f"/v3/{PRJ}/operation-logs/{r.json()['job_id']}").json()["operation_log"]["status"] == "running"
            assert c.get("/_sim/ledger").json()["requests"] == 2


def test_connection_faults_over_http() -> None:
    inv = parse_inventory(INVENTORY)
    sim = Simulator(inv, clock=VirtualClock(), faults="lost=1")
    sim.lost_hold_s = 0.05
    with serve_in_thread(sim) as base, httpx.Client(base_url=base, timeout=5) as c:
        try:
            c.post(f"/v3/{PRJ}/backups/bk-a/restore", json={"restore": FULL_A},
                   headers={"X-Auth-Token": sim.credentials.token})
            raise AssertionError("expected the response to be lost")
        except httpx.TransportError as exc:
            assert isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError)
        assert [e["target_id"] for e in c.get("/_sim/ledger").json()["restores"]] == ["srv-a"]


def test_sim_serve_subprocess(tmp_path: Path) -> None:
    inv_path = tmp_path / "inv.yaml"
    inv_path.write_text(yaml.safe_dump(INVENTORY))
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [sys.executable, "-m", "planner", "sim", "serve", "--inventory", str(inv_path), "--port", "0",
         "--time-scale", "60"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env,
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline().strip() for _ in range(6)]
        exports = dict(line.removeprefix("export ").split("=", 1) for line in lines)
        assert list(exports) == ["HW_ENDPOINT", "HW_REGION_NAME", "HW_PROJECT_ID", "HW_AUTH_TOKEN",
                                 "HW_ACCESS_KEY", "HW_SECRET_KEY"]
        assert exports["HW_PROJECT_ID"] == PRJ and exports["HW_REGION_NAME"] == "sim-1"
        deadline = time.monotonic() + 10
        while True:
            try:
                r = httpx.get(f"{exports['HW_ENDPOINT']}/v1/{PRJ}/cloudservers/detail",
                              headers={"X-Auth-Token": exports["HW_AUTH_TOKEN"]}, timeout=5)
                break
            except httpx.ConnectError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        assert r.json()["count"] == 5
    finally:
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=10)
        err = proc.stderr.read() if proc.stderr else ""
    assert rc == 0, err
    assert proc.stdout is not None and proc.stdout.read() == ""  # logs go to stderr only
