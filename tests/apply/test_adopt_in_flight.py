"""A restore found in flight is tracked whatever the plan now says of its limits.

An earlier apply left restores running in the cloud (a second Ctrl-C or a
kill): the next apply adopts every one of them, even when there are more than
its ``--parallelism`` or when a dependency is now to be restored again, and
never sends them twice. (Both used to crash the scheduler: "cannot start ...:
10 restores already in flight", "its dependencies have not all succeeded".)
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from planner.cli.main import main
from tests.apply.checks import duplicates, read_state
from tests.apply.drill import (
    abandoned_once_accepted,
    addr,
    in_process,
    make_drill,
    simulator,
    write_drill,
)


def _leave_running(tmp_path: Path, plan: Path, sim: Any, clock: Any, count: int, *args: str) -> None:
    with in_process(sim, clock), abandoned_once_accepted(count):
        assert main(["apply", str(plan), "--auto-approve", "--no-color", *args]) == 130


def test_more_restores_in_flight_than_the_parallelism_are_all_adopted(tmp_path: Path) -> None:
    drill = make_drill(8, seed=2, levels=1)
    _inv, plan = write_drill(drill, tmp_path)
    sim, clock = simulator(drill)
    _leave_running(tmp_path, plan, sim, clock, 8, "--parallelism", "8")
    state = read_state(tmp_path / ".restore-planner" / "state.json")["restores"]
    assert sum(r["status"] == "started" for r in state.values()) == 8
    with in_process(sim, clock):
        assert main(["apply", str(plan), "--auto-approve", "--no-color", "--parallelism", "2"]) == 0
    ledger = sim.ledger()
    assert duplicates(ledger) == [] and len(ledger["restores"]) == 8
    state = read_state(tmp_path / ".restore-planner" / "state.json")["restores"]
    assert {r["status"] for r in state.values()} == {"succeeded"}


def test_a_dependent_in_flight_is_adopted_while_its_dependency_is_replaced(tmp_path: Path) -> None:
    drill = make_drill(6, seed=3, levels=2, max_deps=3)
    _inv, plan = write_drill(drill, tmp_path)
    sim, clock = simulator(drill)
    with in_process(sim, clock):
        first_level = drill.levels[0]
        assert main(["apply", str(plan), "--auto-approve", "--no-color",
                     *[x for b in first_level for x in ("--target", b)]]) == 0  # fmt: skip
    dependent = next(b for b in drill.levels[1] if drill.deps[b])
    _leave_running(tmp_path, plan, sim, clock, 1, "--target", dependent)
    dep = drill.deps[dependent][0]
    with in_process(sim, clock):
        rc = main(["apply", str(plan), "--auto-approve", "--no-color", "--replace", dep])
    assert rc == 0
    ledger = sim.ledger()["restores"]
    by_target = [r["target_id"] for r in ledger]
    assert by_target.count(drill.target[dependent]) == 1  # adopted, never sent again
    assert by_target.count(drill.target[dep]) == 2  # restored again, as --replace asked
    state = read_state(tmp_path / ".restore-planner" / "state.json")["restores"]
    assert state[addr(dependent)]["status"] == "succeeded"


def test_replace_of_a_select_block_restores_every_instance_again(
    tmp_path: Path, capsys: Any
) -> None:
    drill = make_drill(6, seed=4, levels=1)
    drill.plan_yaml = (
        "version: 1\nrestores:\n  web:\n    select: {kind: server, tags: {tier: web}}\n"
        '    backup: {before: "2026-11-25T00:00:00Z"}\n'
    )
    _inv, plan = write_drill(drill, tmp_path)
    sim, clock = simulator(drill)
    with in_process(sim, clock):
        assert main(["apply", str(plan), "--auto-approve", "--no-color"]) == 0
        webs = len(sim.ledger()["restores"])
        assert webs >= 2
        capsys.readouterr()
        assert main(["plan", str(plan), "--no-color", "--replace", "web", "--detailed-exitcode"]) == 2
        out = capsys.readouterr().out
        assert f"Plan: 0 to restore, {webs} to re-restore" in out
        assert main(["apply", str(plan), "--auto-approve", "--no-color", "--replace", "web"]) == 0
    assert len(sim.ledger()["restores"]) == 2 * webs


def test_the_report_of_an_apply_that_adopted_counts_from_the_first_adopted_start(
    tmp_path: Path, capsys: Any
) -> None:
    # the first apply lets go of 4 restores; they end while no apply runs; the next apply
    # adopts them and restores the rest. Its report counts from the first adopted start:
    # no tier is "ready" before the run began, and makespan and "ready after" agree
    drill = make_drill(8, seed=5, levels=2)
    _inv, plan = write_drill(drill, tmp_path)
    sim, clock = simulator(drill)
    _leave_running(tmp_path, plan, sim, clock, 4, "--parallelism", "4")
    clock.advance(6 * 3600.0)  # long enough for every one of them to have ended
    with in_process(sim, clock):
        assert main(["apply", str(plan), "--auto-approve", "--no-color"]) == 0
    assert duplicates(sim.ledger()) == [] and len(sim.ledger()["restores"]) == 8
    capsys.readouterr()
    state = tmp_path / ".restore-planner" / "state.json"
    assert main(["report", "--state", str(state), "--format", "json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["adopted"] == 4
    first, origin, started = (datetime.fromisoformat(r[k]) for k in ("first_start", "origin", "started_at"))
    assert origin == first < started  # the adopted restores began hours before this run
    for w in r["waves"]:
        assert w["ready_after_s"] >= 0
        assert w["ready_after_s"] == (datetime.fromisoformat(w["last_end"]) - origin).total_seconds()
    assert max(w["ready_after_s"] for w in r["waves"]) == r["makespan_s"]
    assert main(["report", "--state", str(state), "--format", "markdown"]) == 0
    md = capsys.readouterr().out
    assert "(it adopted 4 restores an earlier apply started, the first at " in md


def test_replace_of_a_restore_in_flight_is_shown_not_applied(tmp_path: Path, capsys: Any) -> None:
    # --replace of a restore whose outcome is unknown would restore a target whose first
    # restore may still run: the plan says it is not applied (it said nothing), and the
    # apply adopts the task instead of sending a second restore
    drill = make_drill(2, seed=6, levels=1)
    _inv, plan = write_drill(drill, tmp_path)
    sim, clock = simulator(drill)
    block = drill.levels[0][0]
    _leave_running(tmp_path, plan, sim, clock, 2, "--parallelism", "2")
    capsys.readouterr()
    with in_process(sim, clock):
        assert main(["plan", str(plan), "--no-color", "--replace", block]) == 0
        out = capsys.readouterr().out
        assert re.search(rf"! {re.escape(addr(block))} +reconcile", out)
        assert "changes  --replace not applied: this restore's outcome is unknown" in out
        assert main(["apply", str(plan), "--auto-approve", "--no-color", "--replace", block]) == 0
    targets = [r["target_id"] for r in sim.ledger()["restores"]]
    assert sorted(targets) == sorted(drill.target.values())  # each once
