"""The simulator's clock reaches the client only through what it returns.

Every response carries an RFC 7231 ``Date`` on the simulator's clock; a clock
skew moves every time it returns and every time filter it reads; a SimClock
gives the simulator a clock the client does not share.
"""

from __future__ import annotations

import copy
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path

import httpx
import pytest
import yaml

from planner.cli.main import main
from planner.clock import VirtualClock
from planner.sim import Simulator, parse_inventory, serve_in_thread
from planner.sim.clock import SimClock
from planner.timefmt import rfc3339_s as rfc3339
from tests.sim.simkit import INVENTORY, PRJ, T0, call, make_sim, restore

HOUR = 3600.0
ROOT = Path(__file__).resolve().parents[2]


def _date(resp: httpx.Response) -> float:
    return parsedate_to_datetime(resp.headers["date"]).timestamp()


def test_every_response_carries_the_simulators_date() -> None:
    sim = make_sim()
    assert call(sim, "GET", "/v3/{p}/backups").headers["date"] == formatdate(T0, usegmt=True)
    assert call(sim, "GET", "/v3/{p}/backups", auth=False).status_code == 401
    assert _date(call(sim, "GET", "/v3/{p}/backups", auth=False)) == T0
    assert _date(call(sim, "GET", "/v3/{p}/nothing-here")) == T0  # 404 from the gateway
    assert _date(call(sim, "GET", "/_sim/ledger")) == T0
    sim.clock.advance(90.7)  # type: ignore[attr-defined]
    assert _date(call(sim, "GET", "/v3/{p}/operation-logs")) == T0 + 90  # whole seconds


def test_throttled_and_failed_answers_carry_a_date_too() -> None:
    sim = make_sim(faults="429=1")
    resp = call(sim, "GET", "/v3/{p}/backups")
    assert resp.status_code == 429 and _date(resp) == T0
    sim = make_sim(faults="5xx=1")
    resp = call(sim, "GET", "/v3/{p}/backups")
    assert resp.status_code in (500, 503) and _date(resp) == T0


def test_clock_skew_moves_every_returned_time() -> None:
    sim = make_sim(clock_skew_s=HOUR)
    job = restore(sim, "bk-vol", {"volume_id": "v-free"}).json()["job_id"]  # 960 s
    assert _date(call(sim, "GET", "/v3/{p}/backups")) == T0 + HOUR
    sim.base_clock.advance(1000)  # type: ignore[attr-defined]  # the clock the client shares
    log = call(sim, "GET", f"/v3/{{p}}/operation-logs/{job}").json()["operation_log"]
    assert (log["created_at"], log["started_at"], log["ended_at"]) == (
        rfc3339(T0 + HOUR), rfc3339(T0 + HOUR), rfc3339(T0 + HOUR + 960))
    entry = sim.ledger()["restores"][0]  # the ledger is on the same (skewed) clock
    assert (entry["accepted_at"], entry["ended_at"]) == (rfc3339(T0 + HOUR), rfc3339(T0 + HOUR + 960))
    assert sim.health()["now"] == rfc3339(T0 + HOUR + 1000)


def test_operation_log_time_filters_read_the_skewed_clock() -> None:
    sim = make_sim(clock_skew_s=HOUR)
    restore(sim, "bk-vol", {"volume_id": "v-free"})

    def count(**params: str) -> int:
        return int(call(sim, "GET", "/v3/{p}/operation-logs", params=params).json()["count"])

    # the client's own clock says T0; the cloud created the task at T0 + 1 h
    half = rfc3339(T0 + HOUR / 2)
    assert count(start_time=half) == 1
    assert count(end_time=half) == 0
    assert count(start_time=rfc3339(T0 + HOUR + 1)) == 0


def test_skew_from_the_inventory_rules_and_the_argument_wins() -> None:
    data = copy.deepcopy(INVENTORY)
    data["rules"] = {**data["rules"], "clock_skew_s": -300}
    sim = Simulator(parse_inventory(data), clock=VirtualClock(T0))
    assert _date(call(sim, "GET", "/v3/{p}/backups")) == T0 - 300
    sim = Simulator(parse_inventory(data), clock=VirtualClock(T0), clock_skew_s=42)
    assert _date(call(sim, "GET", "/v3/{p}/backups")) == T0 + 42


def test_a_simulator_on_its_own_faster_clock() -> None:
    client = VirtualClock(T0)
    cloud = SimClock(client, offset=-7.0, rate=10.0)
    sim = Simulator(parse_inventory(copy.deepcopy(INVENTORY)), clock=cloud)
    job = restore(sim, "bk-vol", {"volume_id": "v-free"}).json()["job_id"]  # 960 s of the cloud's
    assert _date(call(sim, "GET", "/v3/{p}/backups")) == T0 - 7
    client.advance(95)  # 950 s of the cloud's
    log = call(sim, "GET", f"/v3/{{p}}/operation-logs/{job}").json()["operation_log"]
    assert (log["status"], log["extra_info"]["common"]["progress"]) == ("running", 98)
    client.advance(1)
    resp = call(sim, "GET", f"/v3/{{p}}/operation-logs/{job}")
    assert resp.json()["operation_log"]["ended_at"] == rfc3339(T0 - 7 + 960)
    assert _date(resp) == T0 - 7 + 960
    assert cloud.to_base(T0 - 7 + 960) == T0 + 96


def test_over_http_the_date_is_the_simulators_not_the_servers() -> None:
    sim = make_sim(clock_skew_s=HOUR)  # T0 is 2026-09-21, far from the wall clock
    with serve_in_thread(sim) as base, httpx.Client(base_url=base, timeout=10) as c:
        api = c.get(f"/v3/{PRJ}/backups", headers={"X-Auth-Token": sim.credentials.token})
        ledger = c.get("/_sim/ledger")
    assert api.headers.get_list("date") == [formatdate(T0 + HOUR, usegmt=True)]
    assert ledger.headers.get_list("date") == [formatdate(T0 + HOUR, usegmt=True)]
    assert abs(datetime.now(UTC).timestamp() - (T0 + HOUR)) > 86400


def test_sim_serve_clock_skew(tmp_path: Path) -> None:
    inv_path = tmp_path / "inv.yaml"
    inv_path.write_text(yaml.safe_dump(INVENTORY))
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [sys.executable, "-m", "planner", "sim", "serve", "--inventory", str(inv_path), "--port", "0",
         "--clock-skew", "86400"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT, env=env,
    )
    try:
        assert proc.stdout is not None
        exports = dict(proc.stdout.readline().strip().removeprefix("export ").split("=", 1) for _ in range(6))
        for _ in range(200):
            try:
                r = httpx.get(f"{exports['HW_ENDPOINT']}/v3/{PRJ}/backups",
                              headers={"X-Auth-Token": exports["HW_AUTH_TOKEN"]}, timeout=5)
                break
            except httpx.ConnectError:
                time.sleep(0.05)
        # a day ahead of this machine's clock (the margin is only for a slow machine)
        assert abs(_date(r) - (time.time() + 86400)) < 600
        assert r.status_code == 200 and len(r.headers.get_list("date")) == 1  # uvicorn's own is off
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)


@pytest.mark.parametrize("value", ["nan", "1e12"])
def test_sim_serve_refuses_a_bad_clock_skew(value: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inv_path = tmp_path / "inv.yaml"
    inv_path.write_text(yaml.safe_dump(INVENTORY))
    assert main(["sim", "serve", "--inventory", str(inv_path), "--clock-skew", value]) == 1
    assert f"--clock-skew must be a number of seconds within ±3.1536e+08, got {float(value)}" in capsys.readouterr().err
