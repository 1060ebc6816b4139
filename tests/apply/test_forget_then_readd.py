"""A restore let go in flight (its intent open in the journal), then forgotten (removed
from the plan files, or `state rm`), its task ended, and planned again later as
`+ restore`: apply restores, as the plan shows. It used to adopt the old task as its
own, recording a restore that never ran (the journal intent stayed open forever)."""

from __future__ import annotations

from pathlib import Path

import pytest

from planner.cli.main import main
from planner.state.store import StateStore
from tests.apply.drill import abandoned_once_accepted, in_process, make_drill, simulator


def _yaml(targets: dict[str, tuple[str, str]]) -> str:
    lines = ["version: 1", "restores:"]
    for name, (server, backup) in targets.items():
        lines += [f"  {name}:", f"    server: {server}", f"    backup: {backup}"]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("how", ["forget", "state-rm"])
def test_a_forgotten_restore_planned_again_restores(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], how: str
) -> None:
    drill = make_drill(2, seed=1, levels=1)
    (_x, x_server), (_other, o_server) = sorted(drill.target.items())
    newest = {b["resource_id"]: b["id"] for b in sorted(drill.inventory["backups"], key=lambda b: b["created_at"])}
    both = {"x": (x_server, newest[x_server]), "other": (o_server, newest[o_server])}
    plan = tmp_path / "plan.yaml"
    state = tmp_path / ".restore-planner" / "state.json"
    sim, clock = simulator(drill)
    with in_process(sim, clock):
        plan.write_text(_yaml(both))
        with abandoned_once_accepted(2):
            assert main(["apply", str(plan), "--auto-approve", "--no-color"]) == 130
        if how == "forget":
            plan.write_text(_yaml({"other": both["other"]}))
            assert main(["apply", str(plan), "--auto-approve", "--no-color"]) == 0
        else:
            assert main(["state", "rm", "x", "--state", str(state)]) == 0
        clock.advance(6 * 3600)  # the old task ended long ago
        plan.write_text(_yaml(both))
        capsys.readouterr()
        assert main(["plan", str(plan), "--no-color"]) == 0
        shown = capsys.readouterr().out
        assert any(line.strip().startswith("+ x") for line in shown.splitlines()), shown
        assert main(["apply", str(plan), "--auto-approve", "--no-color"]) == 0
    tasks = [r for r in sim.ledger()["restores"] if r["target_id"] == x_server]
    assert len(tasks) == 2, tasks  # the first, and the one the plan showed
    rec = StateStore(state).load().restores["x"]
    assert rec.status == "succeeded" and rec.task_id == max(tasks, key=lambda r: r["accepted_at"])["job_id"]
