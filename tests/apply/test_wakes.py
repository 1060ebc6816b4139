"""Apply wakes when something is due, and then does it.

A sleep of ``at - now`` on the cloud clock could fall short: the clock's ``now``
never goes back, so after a refit it may stand ahead of its fit's mapping of the
client's clock (the one a sleep runs on), and a float's rounding at epoch
magnitudes can leave it a microsecond before ``at``. Each short fall cost a wake
that did nothing and another right after it: a third of the wakes of
``bench/apply_makespan.py``. Here the simulator runs on its own clock, ahead of the
client's and a little faster, so the client lives on its model of that clock.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from planner.apply.executor import Executor
from planner.cli.main import main
from tests.apply.checks import duplicates
from tests.apply.drill import in_process, make_drill, simulator, write_drill


@pytest.mark.parametrize("rate", [1.0, 1.3])
def test_every_wake_does_what_it_woke_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rate: float
) -> None:
    drill = make_drill(200, seed=2, quota=20)
    _inv, plan = write_drill(drill, tmp_path)
    sim, clock = simulator(drill, clock_skew_s=1800.0, clock_rate=rate)
    wakes: list[int] = []  # requests each wake made
    step = Executor._step

    async def counted(self: Executor) -> None:
        before = sim.requests
        await step(self)
        wakes.append(sim.requests - before)

    monkeypatch.setattr(Executor, "_step", counted)
    with in_process(sim, clock):
        rc = main(["apply", str(plan), "--auto-approve", "--no-color", "--parallelism", "20"])
    assert rc == 0
    ledger = sim.ledger()
    assert len(ledger["restores"]) == len(drill.target) and duplicates(ledger) == []
    idle = sum(1 for n in wakes if n == 0)
    # a third of them did nothing before (checked); a wake may still find its listing
    # moved by what another answer taught the clock, rarely
    assert len(wakes) > 200 and idle <= 0.02 * len(wakes), (idle, len(wakes))
