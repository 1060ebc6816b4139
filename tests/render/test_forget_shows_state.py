"""A forget (state only: the entry left the plan files) says what state recorded of
it, in the terminal and in the pull-request comment, and it never runs at apply,
whatever a saved plan carries with it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from planner.cli.main import main
from planner.plan import planfile
from planner.plan.diff import diff
from planner.render.plan_markdown import render_markdown
from planner.render.plan_text import render_text
from planner.state.model import BackupInfo, RestoreRecord, State, TargetInfo
from tests.apply.drill import in_process, make_drill, simulator, write_drill
from tests.render.conftest import make_plan

T = datetime(2026, 11, 20, tzinfo=UTC)


def _state() -> State:
    state = State.new()
    state.record(
        RestoreRecord(
            address="database",
            target=TargetInfo(kind="server", id="0a1b2c3d-0000-4000-8000-00000000000d", name="db-primary"),
            backup=BackupInfo(id="9f8e7d6c-0000-4000-8000-00000000000d", name="autobk_db", created_at=T),
            task_id="t-1",
            status="succeeded",
            started_at=T,
            run_id="20261120T000000Z-0000",
        )
    )
    return state


def test_a_forget_shows_the_target_and_backup_state_recorded() -> None:
    [action] = diff([], _state())
    assert action.action == "forget" and action.restore is None
    plan = make_plan([action])
    text = render_text(plan)
    [head] = [line for line in text.splitlines() if "database" in line and "forget" in line]
    assert "state held no details" not in head
    assert "was succeeded: server db-primary from backup autobk_db" in head
    md = render_markdown(plan)
    [row] = [line for line in md.splitlines() if line.startswith("| `database`")]
    assert "state held no details" not in row
    assert "was succeeded: server db-primary from backup autobk\\_db" in row


def test_a_forget_carrying_a_restore_never_runs(tmp_path: Path) -> None:
    """A hand-made saved plan (digest recomputed) attaches a restore to a forget, which
    every view shows as state only: apply must not POST it. The ledger is the witness."""
    drill = make_drill(3, seed=2, levels=1)
    _inventory, plan_yaml = write_drill(drill, tmp_path)
    saved = tmp_path / "drill.plan"
    sim, clock = simulator(drill)
    with in_process(sim, clock):
        assert main(["plan", str(plan_yaml), "--no-color", "--out", str(saved)]) == 0
        plan = planfile.load(str(saved))
        first = plan.actions[0]
        assert first.restore is not None
        first.action = "forget"
        plan.digest = planfile.digest_of(plan)
        planfile.save(plan, saved)
        main(["apply", str(saved), "--auto-approve", "--no-color"])
    sent = {r["target_id"] for r in sim.ledger()["restores"]}
    assert first.restore.target.id not in sent
