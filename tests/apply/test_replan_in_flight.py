"""In process, the property of test_replan_after_kill.py (which kills real processes,
behind `make soak`): an apply stops tracking once the cloud accepted every restore
(its restores stay "started", as a kill leaves them), then a RE-PLAN of selector
backups keeps the backup each target was sent (the backups are `restoring` now),
the apply of that saved plan restores nothing twice, and the next plan has
nothing to do. The simulator's ledger is the witness."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from planner.cli.main import main
from planner.state.store import StateStore
from tests.apply.checks import duplicates
from tests.apply.drill import (
    abandoned_once_accepted,
    addr,
    in_process,
    make_drill,
    simulator,
    write_drill,
)

BEFORE = "2026-11-25T00:00:00Z"
ARGS = ["--auto-approve", "--no-color", "--parallelism", "4"]


def test_replan_while_restores_run_keeps_the_backup_sent_and_restores_nothing_twice(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    drill = make_drill(4, seed=4, levels=1, before=BEFORE)
    _inventory, plan = write_drill(drill, tmp_path)
    state = tmp_path / ".restore-planner" / "state.json"
    saved = tmp_path / "again.plan"
    sim, clock = simulator(drill)
    with in_process(sim, clock), abandoned_once_accepted(len(drill.target)):
        assert main(["apply", str(plan), *ARGS]) == 130
    sent = {r["target_id"]: r["backup_id"] for r in sim.ledger()["restores"]}
    assert len(sent) == len(drill.target)
    started = StateStore(state).load().restores
    assert {r.status for r in started.values()} == {"started"}

    with in_process(sim, clock):
        assert main(["plan", str(plan), "--no-color", "--out", str(saved)]) in (0, 2)
        capsys.readouterr()
        assert main(["show", str(saved), "--format", "json"]) == 0
        shown = json.loads(capsys.readouterr().out)
        by_addr = {a["address"]: a for a in shown["actions"]}
        for block, server in drill.target.items():
            action = by_addr[addr(block)]
            # the restore already sent: reconciled (or done), always with the backup sent
            assert action["action"] in ("reconcile", "unchanged"), action
            assert action["backup"]["id"] == sent[server]
        assert main(["apply", str(saved), "--no-color"]) == 0
        recorded = StateStore(state).load().restores
        for block, server in drill.target.items():
            rec = recorded[addr(block)]
            assert rec.status == "succeeded" and rec.backup.id == sent[server]
        # nothing left: no re-restore
        assert main(["plan", str(plan), "--no-color", "--detailed-exitcode"]) == 0
    restores = sim.ledger()["restores"]
    assert duplicates({"restores": restores}) == []
    assert sorted(r["target_id"] for r in restores) == sorted(drill.target.values())
