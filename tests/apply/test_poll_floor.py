"""Without --poll-interval, restores of seconds are seen in time: the floor between two
listings follows the restores in flight (planner.apply.policy.poll_floor)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from planner.apply.policy import AUTO_POLL_MIN_S, poll_floor
from planner.cli.main import main
from planner.sim.http import SimRequest, SimResponse
from tests.apply.checks import duplicates
from tests.apply.drill import in_process, make_drill, simulator, write_drill


def _ts(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _drill_makespan(tmp_path: Path, *args: str) -> tuple[float, dict[str, Any]]:
    """Cloud seconds from the first acceptance to the last end (the simulator's ledger);
    the ledger carries the simulator's times of the operation-log listings too."""
    drill = make_drill(60, seed=3, quota=10, restore_mode="snapshot")
    _inv, plan = write_drill(drill, tmp_path)
    sim, clock = simulator(drill)
    listed: list[float] = []
    handle = sim.handle

    def counted(req: SimRequest) -> SimResponse:
        if req.method == "GET" and req.path.endswith("/operation-logs"):
            listed.append(sim.clock.now())
        return handle(req)

    sim.handle = counted  # type: ignore[method-assign]
    with in_process(sim, clock):
        rc = main(["apply", str(plan), "--auto-approve", "--no-color", "--parallelism", "10", *args])
    assert rc == 0
    ledger = {**sim.ledger(), "listed": listed}
    runs = ledger["restores"]
    assert len(runs) == len(drill.target) and duplicates(ledger) == []
    span = max(_ts(r["ended_at_ms"]) for r in runs) - min(_ts(r["accepted_at"]) for r in runs)
    return span, ledger


def _lateness(ledger: dict[str, Any]) -> list[float]:
    """How long after each end an answer first showed it (the simulator's own clock)."""
    return sorted(_ts(r["reported_at_ms"]) - _ts(r["ended_at_ms"]) for r in ledger["restores"])


def test_restores_of_seconds_are_not_left_waiting_for_a_five_second_listing(tmp_path: Path) -> None:
    auto, ledger = _drill_makespan(tmp_path / "auto")
    fixed, fixed_ledger = _drill_makespan(tmp_path / "fixed", "--poll-interval", "5")
    durations = [_ts(r["ended_at_ms"]) - _ts(r["started_at_ms"]) for r in ledger["restores"]]
    assert max(durations) < 30  # restores of seconds, as snapshot mode gives
    # every slot waits for the listing that shows its end: at 5 s about 2.5 s, half again
    # a restore's length; the default floor (a tenth of a restore, 0.5 s at least) is a
    # small part. While the cloud's pace is learned, apply looks every second.
    late, fixed_late = _lateness(ledger), _lateness(fixed_ledger)
    assert late[len(late) // 2] < 0.3 * fixed_late[len(fixed_late) // 2]
    assert late[int(0.95 * len(late))] <= 1.0
    assert auto < 0.9 * fixed
    # --poll-interval 5 holds from the first listing on, while the cloud's clock is
    # still being learned too (which lists every second without one)
    gaps = [b - a for a, b in zip(fixed_ledger["listed"], fixed_ledger["listed"][1:], strict=False)]
    assert gaps and min(gaps) >= 5.0 - 0.1
    assert min(b - a for a, b in zip(ledger["listed"], ledger["listed"][1:], strict=False)) < 1.5


@pytest.mark.parametrize(
    ("explicit", "expected", "floor"),
    [
        (None, [], 5.0),  # nothing known yet: the documented default
        (None, [3600.0, 7200.0], 5.0),  # restores of hours: as before
        (None, [4.0, 3600.0], AUTO_POLL_MIN_S),  # one of seconds in flight
        (None, [20.0], 2.0),  # a tenth of the shortest
        (5.0, [4.0], 5.0),  # --poll-interval given: it is the floor
        (0.2, [3600.0], 0.2),
    ],
)
def test_poll_floor(explicit: float | None, expected: list[float], floor: float) -> None:
    assert poll_floor(explicit, expected, 5.0) == pytest.approx(floor)
