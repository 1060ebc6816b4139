"""After an apply let go of a running disk restore (a kill, a second Ctrl-C), the
volume is `restoring-backup` in the cloud. Planning again must show the restore as
`reconcile` (it is this tool's own restore), not refuse the plan because the volume
is not detached: the refusal left nothing able to resume until the cloud finished.
The simulator's ledger is the witness that nothing is restored twice."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from planner.cli.main import main
from planner.clock import VirtualClock
from planner.sim import Simulator, parse_inventory
from planner.sim.generate import generate_inventory
from planner.state.store import StateStore
from tests.apply.checks import duplicates
from tests.apply.drill import START, abandoned_once_accepted, in_process

PLAN = """\
version: 1
cloud: {region: ap-southeast-1}
restores:
  logs:
    volume: {name: app-logs}
    backup: {before: "2026-11-20T00:00:00Z", not_before: "2026-11-19T00:00:00Z"}
"""
ARGS = ["--auto-approve", "--no-color"]


def _plans(tmp_path: Path) -> Path:
    plan = tmp_path / "plans"
    plan.mkdir()
    (plan / "plan.yaml").write_text(PLAN)
    return plan


def test_a_disk_restore_left_running_is_reconciled_by_the_next_plan(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = _plans(tmp_path)
    clock = VirtualClock(start=START.timestamp())
    sim = Simulator(parse_inventory(generate_inventory(9, 2, for_examples=True)), clock=clock)
    saved = tmp_path / "again.plan"
    with in_process(sim, clock), abandoned_once_accepted(1):
        assert main(["apply", str(plan), *ARGS]) == 130
    [sent] = sim.ledger()["restores"]
    state = plan / ".restore-planner" / "state.json"
    assert StateStore(state).load().restores["logs"].status == "started"

    with in_process(sim, clock):
        capsys.readouterr()
        # the volume is being restored by our own restore: not a reason to refuse
        assert main(["plan", str(plan), "--no-color", "--out", str(saved)]) in (0, 2)
        out = capsys.readouterr()
        assert "RP342" not in out.out + out.err and "RP345" not in out.out + out.err
        assert main(["show", str(saved), "--format", "json"]) == 0
        [action] = json.loads(capsys.readouterr().out)["actions"]
        assert action["address"] == "logs" and action["action"] == "reconcile"
        assert action["backup"]["id"] == sent["backup_id"]
        assert main(["apply", str(saved), "--no-color"]) == 0
        assert StateStore(state).load().restores["logs"].status == "succeeded"
        assert main(["plan", str(plan), "--no-color", "--detailed-exitcode"]) == 0
    restores = sim.ledger()["restores"]
    assert duplicates({"restores": restores}) == [] and len(restores) == 1


def test_a_volume_someone_else_is_restoring_is_still_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Not our restore (state holds none): the plan refuses, saying the volume is busy."""
    plan = _plans(tmp_path)
    clock = VirtualClock(start=START.timestamp())
    inv = generate_inventory(9, 2, for_examples=True)
    for v in inv["volumes"]:
        if v["name"] == "app-logs":
            v["status"] = "restoring-backup"
    sim = Simulator(parse_inventory(inv), clock=clock)
    with in_process(sim, clock):
        assert main(["plan", str(plan), "--no-color"]) == 1
    err = capsys.readouterr().err
    assert "error[RP345]: volume app-logs is being restored right now" in err
    assert "RP342" not in err
    assert sim.ledger()["restores"] == []
