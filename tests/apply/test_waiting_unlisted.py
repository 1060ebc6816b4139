"""A listing's time filter may apply to a task's START (the SDK describes ListOpLogs'
``start_time`` as the task's start time; cbr-facts 15, UNCONFIRMED), and a task waiting
behind the quota has not started, so no time window shows it. The simulator's
``oplog_time_filter: started`` answers so. Then neither a POST whose answer was lost,
nor an apply that reconciles a restore an earlier apply left waiting, may conclude
that nothing was created and restore the target again. The ledger is the witness."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from planner.cli.main import main
from planner.state.store import StateStore
from tests.apply.checks import duplicates
from tests.apply.drill import (
    DrillKit,
    abandoned_once_accepted,
    in_process,
    make_drill,
    simulator,
    write_drill,
)
from tests.apply.test_lost_response import Dropping, _lose

FILTERS = ["created", "started"]


@pytest.mark.parametrize("time_filter", FILTERS)
def test_a_lost_answer_for_a_task_waiting_behind_the_quota_is_adopted(tmp_path: Path, time_filter: str) -> None:
    drill = make_drill(8, seed=2, levels=1, quota=2, rules={"oplog_time_filter": time_filter})
    _inv, plan = write_drill(drill, tmp_path)
    sim, clock = simulator(drill)
    dropping = Dropping(sim.transport(), {2, 3, 5}, _lose)  # the quota holds 2: these wait
    with in_process(sim, clock, dropping):
        assert main(["apply", str(plan), "--auto-approve", "--no-color", "--parallelism", "8"]) == 0
    assert dropping.seen == len(drill.target)  # one POST per restore
    ledger = sim.ledger()
    assert duplicates(ledger) == []
    assert sorted(r["target_id"] for r in ledger["restores"]) == sorted(drill.target.values())


@pytest.mark.parametrize("time_filter", FILTERS)
def test_reconcile_finds_a_task_still_waiting_that_no_time_window_lists(tmp_path: Path, time_filter: str) -> None:
    drill = make_drill(6, seed=4, levels=1, quota=1, rules={"oplog_time_filter": time_filter})
    _inv, plan = write_drill(drill, tmp_path)
    state = tmp_path / ".restore-planner" / "state.json"
    sim, clock = simulator(drill)
    with in_process(sim, clock), abandoned_once_accepted(len(drill.target)):
        # every restore accepted, one running and five waiting: then a second Ctrl-C
        assert main(["apply", str(plan), "--auto-approve", "--no-color", "--parallelism", "6"]) == 130
    waiting = [r for r in sim.ledger()["restores"] if r["status"] == "waiting"]
    assert len(waiting) == len(drill.target) - 1
    assert {r.status for r in StateStore(state).load().restores.values()} == {"started"}
    with in_process(sim, clock):
        assert main(["apply", str(plan), "--auto-approve", "--no-color", "--parallelism", "6"]) == 0
    restores = sim.ledger()["restores"]
    assert duplicates({"restores": restores}) == []
    assert sorted(r["target_id"] for r in restores) == sorted(drill.target.values())
    assert {r.status for r in StateStore(state).load().restores.values()} == {"succeeded"}


def test_a_replay_of_a_plan_whose_restores_still_wait_names_every_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Another machine has the plan file, not the state, while the first apply's restores
    wait behind the quota: the replay check names each of them, listed or not."""
    kit = DrillKit(make_drill(4, seed=4, levels=1, quota=1, rules={"oplog_time_filter": "started"}), tmp_path)
    with kit.cloud():
        assert main(["plan", str(kit.plan), "--out", str(kit.saved), "--no-color", "--parallelism", "4"]) == 0
        with abandoned_once_accepted(4):
            assert main(["apply", str(kit.saved), "--no-color"]) == 130
        tasks = {r["job_id"] for r in kit.restores()}
        assert len([r for r in kit.restores() if r["status"] == "waiting"]) == 3
        shutil.rmtree(kit.state.parent)  # the other machine: no state at all
        capsys.readouterr()
        assert main(["apply", str(kit.saved), "--no-color"]) == 1
    err = capsys.readouterr().err
    named = {line.split("task ")[1].split()[0] for line in err.splitlines() if "restored since the plan was made" in line}
    assert named == tasks, err
    assert len(kit.restores()) == 4
