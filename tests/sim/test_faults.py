"""Fault injection: parsing, reproducibility, effects; rate limit; ledger shape."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest

from planner.clock import VirtualClock
from planner.errors import UserError
from planner.sim import Simulator
from planner.sim.faults import FaultPlan
from planner.timefmt import rfc3339_ms
from tests.sim.simkit import FULL_A, PRJ, call, make_sim, restore


@pytest.mark.parametrize(("spec", "message"), [
    ("5xx", "bad fault spec '5xx': expected KIND=PROBABILITY, e.g. 5xx=0.05"),
    ("boom=0.1", "unknown fault kind 'boom' in 'boom=0.1': known kinds are 5xx, 429, lost, reset, task_fail, slow"),
    ("lost=2", "bad probability '2' for fault lost: expected a number from 0 to 1"),
    ("lost=x", "bad probability 'x' for fault lost: expected a number from 0 to 1"),
])
def test_bad_spec(spec: str, message: str) -> None:
    with pytest.raises(UserError) as exc:
        FaultPlan.parse(spec)
    assert exc.value.message == message


def _run(sim: Simulator, n: int) -> list[str]:
    async def go() -> list[str]:
        out = []
        async with httpx.AsyncClient(transport=sim.transport(), base_url="http://sim.local",
                                     headers={"X-Auth-Token": sim.credentials.token}) as c:
            for _ in range(n):
                try:
                    r = await c.get(f"/v3/{PRJ}/backups", params={"limit": 1})
                    out.append(str(r.status_code))
                except httpx.HTTPError as exc:
                    out.append(type(exc).__name__)
        return out

    return asyncio.run(go())


SPEC = "5xx=0.1,429=0.1,lost=0.1,reset=0.1"


def test_same_seed_same_faults() -> None:
    a, b, c = _run(make_sim(SPEC, seed=7), 200), _run(make_sim(SPEC, seed=7), 200), _run(make_sim(SPEC, seed=8), 200)
    assert a == b and a != c
    assert {"200", "429", "ReadTimeout", "RemoteProtocolError"} <= set(a)
    assert set(a) & {"500", "503"}


def test_faults_apply_to_api_only_and_count() -> None:
    sim = make_sim("reset=1")
    assert _run(sim, 3) == ["RemoteProtocolError"] * 3
    assert call(sim, "GET", "/_sim/ledger").json() == {"restores": [], "requests": 3}


def test_lost_restore_is_accepted() -> None:
    sim = make_sim("lost=1")
    with pytest.raises(httpx.ReadTimeout):
        restore(sim, "bk-a", FULL_A)
    ledger = sim.ledger()
    assert [r["target_id"] for r in ledger["restores"]] == ["srv-a"]
    sim.with_faults(lost=0)
    logs = call(sim, "GET", "/v3/{p}/operation-logs", params={"resource_id": "srv-a"}).json()
    assert logs["operation_logs"][0]["id"] == ledger["restores"][0]["job_id"]


def test_5xx_has_no_side_effect() -> None:
    sim = make_sim("5xx=1")
    r = restore(sim, "bk-a", FULL_A)
    assert r.status_code in (500, 503) and set(r.json()) == {"error_code", "error_msg"}
    assert sim.ledger()["restores"] == []


def test_rate_limit_429_with_retry_after() -> None:
    sim = make_sim(rate_per_s=5)
    codes = [call(sim, "GET", "/v3/{p}/vaults").status_code for _ in range(6)]
    assert codes == [200] * 5 + [429]
    r = call(sim, "GET", "/v3/{p}/vaults")
    assert r.headers["Retry-After"] == "1"
    assert r.json()["error_code"] == "APIGW.0308"
    assert r.json()["error_msg"].startswith("The throttling threshold has been reached: ")
    sim.clock.advance(1)  # type: ignore[attr-defined]
    assert call(sim, "GET", "/v3/{p}/vaults").status_code == 200


def test_ledger_shape() -> None:
    sim = make_sim()
    restore(sim, "bk-a", {**FULL_A, "power_on": False})
    restore(sim, "bk-vol", {"volume_id": "v-free"})
    ledger = call(sim, "GET", "/_sim/ledger").json()
    assert set(ledger) == {"restores", "requests"} and ledger["requests"] == 2
    keys = {"job_id", "backup_id", "target_kind", "target_id", "mappings", "power_on", "accepted_at",
            "started_at", "ended_at", "started_at_ms", "ended_at_ms", "reported_at_ms", "status"}
    for entry in ledger["restores"]:
        assert set(entry) == keys
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", entry["accepted_at"])
        if entry["ended_at"] is not None:
            assert entry["ended_at_ms"].startswith(entry["ended_at"][:-1] + ".")
    assert ledger["restores"][0]["mappings"] == [{"backup_id": "ch-a-boot", "volume_id": "va-boot"},
                                                 {"backup_id": "ch-a-data", "volume_id": "va-data"}]
    assert ledger["restores"][0]["power_on"] is False
    assert call(sim, "GET", "/_sim/health").json()["status"] == "ok"
    assert call(sim, "GET", "/_sim/ledger").json()["requests"] == 2


def test_ledger_records_when_an_answer_first_showed_an_end() -> None:
    """reported_at_ms: the simulator's own time of the first listing or lookup that showed
    a task ended (benches measure lateness by it), not a lost answer's, nor a later one's."""
    sim = make_sim()
    job = restore(sim, "bk-a", {**FULL_A, "power_on": False}).json()["job_id"]
    assert isinstance(sim.clock, VirtualClock)

    def entry() -> dict[str, object]:
        first: dict[str, object] = call(sim, "GET", "/_sim/ledger").json()["restores"][0]
        return first

    call(sim, "GET", "/v3/{p}/operation-logs")
    assert entry()["reported_at_ms"] is None  # not ended yet
    sim.clock.advance(7 * 86400)
    ended = entry()
    assert ended["ended_at_ms"] is not None and ended["reported_at_ms"] is None  # nobody looked
    sim.with_faults(lost=1.0)
    with pytest.raises(httpx.ReadTimeout):
        call(sim, "GET", f"/v3/{{p}}/operation-logs/{job}")
    assert entry()["reported_at_ms"] is None  # that answer never arrived
    sim.with_faults(lost=0.0)
    sim.clock.advance(12.5)
    seen = rfc3339_ms(sim.clock.now())
    call(sim, "GET", "/v3/{p}/operation-logs")
    sim.clock.advance(60)
    call(sim, "GET", f"/v3/{{p}}/operation-logs/{job}")
    assert entry()["reported_at_ms"] == seen  # the first answer's, kept
