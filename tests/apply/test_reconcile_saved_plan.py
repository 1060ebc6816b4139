"""A restore left in flight whose backup the plan files then change: the re-plan shows it
as reconcile with the backup it was sent, and the saved plan of that (the GitOps path:
plan --out on the pull request, apply F from CI) applies. Its facts used to record that
backup as "<missing>" (plan refreshed only the backups the files name), so apply F was
refused as stale forever. The same held when the files point the block at another
server or volume: the target the restore was sent to, and its disks, were not refreshed."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from planner.cli.main import main
from planner.sim import generate_inventory
from planner.state.store import StateStore
from tests.apply.drill import Drill, abandoned_once_accepted, in_process, make_drill, simulator


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


def _target_moved_after_a_kill(
    drill: Drill, kind: str, first: str, second: str, backup: dict[str, str], tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # the files now point the block at another target: the reconcile still writes the
    # one it was sent to, so its facts need that target and its disks (they said
    # "server ... state: <missing>", and apply F was refused forever)
    plan, saved = tmp_path / "plan.yaml", tmp_path / "x.plan"
    state = tmp_path / ".restore-planner" / "state.json"
    yaml = f"version: 1\nrestores:\n  x:\n    {kind}: {{target}}\n    backup: {{backup}}\n"
    sim, clock = simulator(drill)
    with in_process(sim, clock):
        plan.write_text(yaml.format(target=first, backup=backup[first]))
        with abandoned_once_accepted(1):
            assert main(["apply", str(plan), "--auto-approve", "--no-color"]) == 130
        plan.write_text(yaml.format(target=second, backup=backup[second]))
        capsys.readouterr()
        assert main(["plan", str(plan), "--no-color", "--out", str(saved)]) == 0
        (action,) = json.loads(saved.read_text())["actions"]
        assert action["action"] == "reconcile" and action["target"]["id"] == first
        # the text plan says what the files now want, as the Markdown and JSON do
        shown = [line.split(None, 1)[1] for line in capsys.readouterr().out.splitlines()
                 if line.strip().startswith("changes ")]  # fmt: skip
        assert shown == action["changes"] and shown[0].startswith("the plan files now want: ")
        assert "<missing>" not in json.dumps(action["facts"])
        capsys.readouterr()
        assert main(["apply", str(saved), "--no-color"]) == 0, capsys.readouterr().err
    (task,) = sim.ledger()["restores"]  # adopted, not sent again; the other target untouched
    assert task["target_id"] == first
    rec = StateStore(state).load().restores["x"]
    assert rec.status == "succeeded" and rec.task_id == task["job_id"] and rec.target.id == first


def _newest(inventory: dict[str, Any]) -> dict[str, str]:
    ordered = sorted(inventory["backups"], key=lambda b: b["created_at"])
    return {b["resource_id"]: b["id"] for b in ordered if b["status"] == "available"}


def test_a_saved_plan_reconciling_a_restore_whose_server_moved_applies(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    drill = make_drill(2, seed=1, levels=1)
    (_a, first), (_b, second) = sorted(drill.target.items())
    _target_moved_after_a_kill(drill, "server", first, second, _newest(drill.inventory), tmp_path, capsys)


def test_a_saved_plan_reconciling_a_restore_whose_volume_moved_applies(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inv = generate_inventory(2, 6, seed=1)
    attached = {a["id"] for s in inv["servers"] for a in s["volumes"]}
    for b in inv["backups"]:
        b["status"] = "available" if b["status"] == "protecting" else b["status"]
    for v in inv["volumes"]:
        v["status"] = "available"
    (vol,) = [v for v in inv["volumes"] if v["id"] not in attached]
    # a second standalone volume, with a backup of its own
    twin = {**copy.deepcopy(vol), "id": "0000aaaa-0000-4000-8000-000000000002", "name": "vol-two"}
    backup = next(b for b in inv["backups"] if b["resource_id"] == vol["id"])
    inv["volumes"].append(twin)
    inv["backups"].append({**copy.deepcopy(backup), "id": "0000bbbb-0000-4000-8000-000000000002",
                           "resource_id": twin["id"], "name": "bk-two"})  # fmt: skip
    newest = _newest(inv)
    first, second = vol["id"], twin["id"]
    _target_moved_after_a_kill(Drill(inv, "", [[]]), "volume", first, second, newest, tmp_path, capsys)
