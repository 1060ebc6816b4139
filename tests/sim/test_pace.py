"""The simulated cloud keeps its own pace: seeded per restore, not the client's estimate.

Durations are read back from what the cloud returns (the ledger's and the
operation log's started_at/ended_at, whole seconds), never from the
simulator's internals.
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

import pytest

from planner.clock import VirtualClock
from planner.config.spec import Estimates
from planner.errors import UserError
from planner.sim import Simulator, parse_inventory
from tests.sim.simkit import FULL_A, INVENTORY, T0, call, restore

# the estimator's own constants: the simulator's defaults must not be these
ESTIMATE = Estimates()


def _sim(seed: int = 0, inventory: dict[str, Any] | None = None, **rules: Any) -> Simulator:
    """The simkit inventory with the simulator's DEFAULT pace (simkit pins one), quota 10."""
    data = copy.deepcopy(inventory or INVENTORY)
    data["rules"] = {"quota": 10, "rate_per_s": 1000, **rules}
    return Simulator(parse_inventory(data), clock=VirtualClock(T0), seed=seed)


def _ts(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _durations(sim: Simulator) -> list[float]:
    sim.clock.advance(100_000)  # type: ignore[attr-defined]
    out = []
    for e in sim.ledger()["restores"]:
        assert e["status"] == "success"
        out.append(_ts(e["ended_at"]) - _ts(e["started_at"]))
    return out


def _volume_restore(seed: int) -> float:
    sim = _sim(seed)
    assert restore(sim, "bk-vol", {"volume_id": "v-free"}).status_code == 202
    return _durations(sim)[0]


def test_default_pace_is_not_the_estimators_and_is_seeded_per_restore() -> None:
    # a 60 GB disk backup: the client estimates 60 s + 60 GB / 4 GB/min = 960 s
    estimate = ESTIMATE.duration_s(60)
    assert estimate == 960
    # the simulator: (45 s + 20 s per disk + 60 GB / 5 GB/min) x pace in [0.7, 1.4]
    base = 45 + 20 + 60 / 5 * 60
    durations = [_volume_restore(seed) for seed in range(12)]
    assert all(0.7 * base - 1 <= d <= 1.4 * base + 1 for d in durations), durations
    assert len({round(d) for d in durations}) >= 10, durations  # drawn, not one formula
    assert sum(abs(d - estimate) < 1 for d in durations) <= 1, durations
    # the same seed gives the same pace
    assert [_volume_restore(seed) for seed in range(12)] == durations


def test_pace_does_not_depend_on_the_order_restores_arrive_in() -> None:
    def run(order: list[str]) -> dict[str, float]:
        sim = _sim(seed=7)
        bodies: dict[str, dict[str, Any]] = {"bk-vol": {"volume_id": "v-free"}, "bk-a": FULL_A}
        for backup in order:
            assert restore(sim, backup, bodies[backup]).status_code == 202
        sim.clock.advance(100_000)  # type: ignore[attr-defined]
        return {e["backup_id"]: _ts(e["ended_at"]) - _ts(e["started_at"]) for e in sim.ledger()["restores"]}

    assert run(["bk-vol", "bk-a"]) == run(["bk-a", "bk-vol"])


def test_per_disk_overhead_and_throughput_from_the_rules() -> None:
    sim = _sim(restore_overhead_s=30, per_disk_overhead_s=10, throughput_gb_per_min=6, pace_spread=[1, 1])
    restore(sim, "bk-a", FULL_A)  # 2 disks, 40 + 80 GB
    restore(sim, "bk-vol", {"volume_id": "v-free"})  # 1 disk, 60 GB
    assert _durations(sim) == [30 + 2 * 10 + 120 / 6 * 60, 30 + 10 + 60 / 6 * 60]


def test_pace_multiplier_scales_the_whole_restore() -> None:
    sim = _sim(restore_overhead_s=60, per_disk_overhead_s=0, throughput_gb_per_min=4, pace_spread=[2.5, 2.5])
    restore(sim, "bk-vol", {"volume_id": "v-free"})
    assert _durations(sim) == [2.5 * 960]


def test_snapshot_mode_restores_finish_in_seconds() -> None:
    inv = copy.deepcopy(INVENTORY)
    for b in inv["backups"]:
        if b["id"] in ("bk-a", "bk-vol"):
            b["restore_mode"] = "snapshot"
    sim = _sim(inventory=inv)
    job = restore(sim, "bk-a", FULL_A).json()["job_id"]
    restore(sim, "bk-vol", {"volume_id": "v-free"})
    sim.clock.advance(6)  # type: ignore[attr-defined]  # 4 s x pace at most 1.4
    log = call(sim, "GET", f"/v3/{{p}}/operation-logs/{job}").json()["operation_log"]
    assert (log["status"], log["extra_info"]["common"]["progress"]) == ("success", 100)
    assert [e["status"] for e in sim.ledger()["restores"]] == ["success", "success"]
    assert all(1 <= d <= 6 for d in _durations(sim))


def test_queued_beyond_the_quota_start_when_a_slot_frees() -> None:
    sim = _sim(quota=1)
    first = restore(sim, "bk-vol", {"volume_id": "v-free"}).json()["job_id"]
    second = restore(sim, "bk-a", FULL_A).json()["job_id"]
    log = call(sim, "GET", f"/v3/{{p}}/operation-logs/{second}").json()["operation_log"]
    assert (log["status"], log["started_at"], log["extra_info"]["common"]["progress"]) == ("waiting", None, 0)
    sim.clock.advance(100_000)  # type: ignore[attr-defined]
    by_job = {e["job_id"]: e for e in sim.ledger()["restores"]}
    assert by_job[second]["started_at"] == by_job[first]["ended_at"]  # the moment the slot freed


def test_progress_is_a_whole_percent_in_the_clouds_steps() -> None:
    sim = _sim(restore_overhead_s=100, per_disk_overhead_s=0, throughput_gb_per_min=60, pace_spread=[1, 1],
               progress_step=10)
    job = restore(sim, "bk-vol", {"volume_id": "v-free"}).json()["job_id"]  # 100 + 60 = 160 s
    seen = []
    for _ in range(16):
        sim.clock.advance(10)  # type: ignore[attr-defined]
        log = call(sim, "GET", f"/v3/{{p}}/operation-logs/{job}").json()["operation_log"]
        seen.append(log["extra_info"]["common"]["progress"])
    assert all(isinstance(p, int) and p % 10 == 0 for p in seen), seen
    assert seen[0] == 0 and seen[7] == 50 and seen[-1] == 100, seen


@pytest.mark.parametrize(("rules", "message"), [
    ({"pace_spread": [1.4, 0.7]}, "rules.pace_spread: Value error, expected [low, high] with 0 <= low <= high, got [1.4, 0.7]"),
    ({"pace_spread": [0, 2]}, "rules.pace_spread: Value error, the pace multipliers must be positive, e.g. [0.7, 1.4]"),
    ({"protecting_s": [10, 5]}, "rules.protecting_s: Value error, expected [low, high] with 0 <= low <= high, got [10, 5]"),
    ({"progress_step": 0}, "rules.progress_step: Input should be greater than or equal to 1"),
])
def test_bad_pace_rules_are_refused(rules: dict[str, Any], message: str) -> None:
    with pytest.raises(UserError) as exc:
        parse_inventory({"rules": rules}, "inv.yaml")
    assert exc.value.message == f"inv.yaml: invalid simulator inventory:\n  {message}"
