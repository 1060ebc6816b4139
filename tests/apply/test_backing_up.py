"""BackupService.2002 (the target is being backed up) is a wait, not a failure.

The refusal created nothing, so apply waits and sends the restore again; it
gives up with the cloud's code only when the backup never finishes.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from planner.apply.events import Event
from planner.cli.main import main
from tests.apply.checks import duplicates, read_state, run_events
from tests.apply.drill import addr, in_process, make_drill, simulator, write_drill


def test_restore_waits_for_a_running_backup_then_restores(tmp_path: Path) -> None:
    drill = make_drill(6, seed=4)
    _inv, plan = write_drill(drill, tmp_path)
    sim, clock = simulator(drill)
    block, server = sorted(drill.target.items())[0]
    sim.state.protecting_resources.add(server)  # a backup of it is being taken
    waits = 0

    def finish_backup(event: dict[str, object]) -> None:
        nonlocal waits
        if event.get("kind") == "restore_waiting":
            waits += 1
            if waits == 2:
                sim.state.protecting_resources.discard(server)

    import planner.apply.executor as ex

    original = ex.Executor._emit

    def emit(self: ex.Executor, event: Event) -> None:
        original(self, event)
        finish_backup({"kind": event.kind})

    ex.Executor._emit = emit  # type: ignore[method-assign]
    try:
        with in_process(sim, clock):
            rc = main(["apply", str(plan), "--auto-approve", "--no-color"])
    finally:
        ex.Executor._emit = original  # type: ignore[method-assign]
    assert rc == 0
    assert waits == 2
    ledger = sim.ledger()
    assert duplicates(ledger) == []
    assert len(ledger["restores"]) == len(drill.target)
    state = read_state(tmp_path / ".restore-planner" / "state.json")
    assert state["restores"][addr(block)]["status"] == "succeeded"
    kinds = [e["kind"] for e in run_events(tmp_path / ".restore-planner")]
    assert kinds.count("restore_waiting") == 2


def test_a_backup_that_never_finishes_fails_with_the_cloud_code(tmp_path: Path) -> None:
    drill = make_drill(3, seed=4, levels=1)
    _inv, plan = write_drill(drill, tmp_path)
    sim, clock = simulator(drill)
    block, server = sorted(drill.target.items())[0]
    sim.state.protecting_resources.add(server)
    with in_process(sim, clock):
        rc = main(["apply", str(plan), "--auto-approve", "--no-color"])
    assert rc == 1
    state = read_state(tmp_path / ".restore-planner" / "state.json")
    rec = state["restores"][addr(block)]
    assert rec["status"] == "failed"
    assert rec["error"]["code"] == "BackupService.2002"
    assert all(r["target_id"] != server for r in sim.ledger()["restores"])


def test_plan_warns_of_a_backup_being_taken(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Refresh lists backups being taken in the same requests, so the plan says a restore
    will wait (RP346), and the running backup is never the one chosen. (A plan of up to
    16 pinned backups reads them one by one and does not see backups being taken.)"""
    import copy
    import json

    drill = make_drill(20, seed=4, levels=1)
    block, server = sorted(drill.target.items())[0]
    newest = max((b for b in drill.inventory["backups"] if b["resource_id"] == server), key=lambda b: b["created_at"])
    taking = copy.deepcopy(newest)
    taking.update(id="b-being-taken", name="being-taken", status="protecting")
    for child in taking["children"]:
        child["id"] = "c-" + child["id"]
    drill.inventory["backups"].append(taking)
    _inv, plan = write_drill(drill, tmp_path)
    sim, clock = simulator(drill)
    with in_process(sim, clock):
        assert main(["plan", str(plan), "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    warned = [w for w in doc["warnings"] if w["code"] == "RP346"]
    assert len(warned) == 1 and "being backed up right now" in warned[0]["summary"], doc["warnings"]
    chosen = {a["address"]: a["backup"]["id"] for a in doc["actions"]}
    assert chosen[addr(block)] == newest["id"]
