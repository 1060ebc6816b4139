"""A drill against a simulator on its own clock: the client does not share it.

The simulator runs two hours ahead of the client's VirtualClock (a SimClock).
Apply must still do every restore exactly once, and what it records about a
task (the run log's restore_succeeded: its time and the task's times) must be
on the cloud's clock, not the client's: a finished task is never noticed before
the cloud's ledger says it ended.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from planner.cli.main import main
from tests.apply.checks import duplicates, run_events
from tests.apply.drill import START, addr, in_process, make_drill, simulator, write_drill

SKEW = 7200.0


def _ts(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def test_apply_against_a_simulator_two_hours_ahead(tmp_path: Path) -> None:
    drill = make_drill(8, seed=3, levels=2)
    _inv, plan = write_drill(drill, tmp_path)
    sim, clock = simulator(drill, clock_skew_s=SKEW)
    assert sim.clock.now() - clock.now() == SKEW and clock.now() == START.timestamp()
    with in_process(sim, clock):
        assert main(["apply", str(plan), "--auto-approve", "--no-color"]) == 0
    ledger = sim.ledger()
    assert duplicates(ledger) == []
    assert sorted(e["target_id"] for e in ledger["restores"]) == sorted(drill.target.values())
    ended = {e["target_id"]: _ts(e["ended_at"]) for e in ledger["restores"]}
    assert min(_ts(e["accepted_at"]) for e in ledger["restores"]) >= START.timestamp() + SKEW
    block_of = {addr(b): b for b in drill.target}
    seen = [e for e in run_events(tmp_path / ".restore-planner") if e.get("kind") == "restore_succeeded"]
    assert sorted(block_of[e["address"]] for e in seen) == sorted(drill.target)
    for e in seen:
        end = ended[drill.target[block_of[e["address"]]]]
        assert _ts(e["ended_at"]) == end  # the cloud's task time, as the cloud gave it
        # noticed after the cloud's end, on the cloud's clock (the ledger's: whole seconds)
        assert _ts(e["ts"]) >= end - 1.0, (e, end)
