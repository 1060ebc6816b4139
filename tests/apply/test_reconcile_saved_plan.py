"""A restore left in flight whose backup the plan files then change: the re-plan shows it
as reconcile with the backup it was sent, and the saved plan of that (the GitOps path:
plan --out on the pull request, apply F from CI) applies. Its facts used to record that
backup as "<missing>" (plan refreshed only the backups the files name), so apply F was
refused as stale forever."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from planner.cli.main import main
from planner.state.store import StateStore
from tests.apply.drill import abandoned_once_accepted, in_process, make_drill, simulator


def test_a_saved_plan_reconciling_a_restore_whose_backup_moved_applies(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    drill = make_drill(1, seed=1, levels=1)
    ((_block, server),) = drill.target.items()
    backups = sorted((b for b in drill.inventory["backups"] if b["resource_id"] == server and b["status"] == "available"),
                     key=lambda b: b["created_at"])  # fmt: skip
    older, newest = backups[-2]["id"], backups[-1]["id"]
    plan, saved = tmp_path / "plan.yaml", tmp_path / "x.plan"
    state = tmp_path / ".restore-planner" / "state.json"
    yaml = "version: 1\nrestores:\n  x:\n    server: {server}\n    backup: {backup}\n"
    sim, clock = simulator(drill)
    with in_process(sim, clock):
        plan.write_text(yaml.format(server=server, backup=newest))
        with abandoned_once_accepted(1):
            assert main(["apply", str(plan), "--auto-approve", "--no-color"]) == 130
        plan.write_text(yaml.format(server=server, backup=older))  # the files now want another
        assert main(["plan", str(plan), "--no-color", "--out", str(saved)]) == 0
        (action,) = json.loads(saved.read_text())["actions"]
        assert action["action"] == "reconcile" and action["backup"]["id"] == newest
        assert "<missing>" not in json.dumps(action["facts"])
        capsys.readouterr()
        assert main(["apply", str(saved), "--no-color"]) == 0, capsys.readouterr().err
    (task,) = sim.ledger()["restores"]  # adopted, not sent again
    rec = StateStore(state).load().restores["x"]
    assert rec.status == "succeeded" and rec.task_id == task["job_id"] and rec.backup.id == newest
