"""A re-restore (or a retry of a failed restore) planned within two minutes of the
restore before it: the replay check must not count the task state already records
as "restored since the plan was made". It refused the plan, and planning again did
not help until two minutes had passed. A real replay is still refused
(tests/plan covers that). The simulator's ledger is the witness."""

from __future__ import annotations

from pathlib import Path

import pytest

from planner.cli.main import main
from planner.state.store import StateStore
from tests.apply.drill import addr, in_process, make_drill, simulator, write_drill


def test_a_re_restore_right_after_the_restore_is_not_a_replay(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    drill = make_drill(1, seed=6, levels=1, restore_mode="snapshot")  # restores of seconds
    _inventory, plan = write_drill(drill, tmp_path)
    [block] = drill.levels[0]
    sim, clock = simulator(drill)
    saved = tmp_path / "again.plan"
    with in_process(sim, clock):
        assert main(["apply", str(plan), "--auto-approve", "--no-color"]) == 0
        clock.advance(20)
        assert main(["plan", str(plan), "--no-color", "--replace", block, "--out", str(saved)]) == 0
        capsys.readouterr()
        assert main(["apply", str(saved), "--no-color"]) == 0, capsys.readouterr().err
    state = StateStore(tmp_path / ".restore-planner" / "state.json").load()
    tasks = [r["job_id"] for r in sim.ledger()["restores"]]
    assert len(tasks) == 2 and state.restores[addr(block)].task_id == tasks[1]
