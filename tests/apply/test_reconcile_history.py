"""Reconcile after a kill, where the journal and state disagree, or where the cloud
holds an older task of the same backup and target.

1. A kill lost a journal "finished" line of a restore state records as succeeded (the
   next plan shows it unchanged): apply closes the intent and goes on. It crashed on
   every later apply ("... is succeeded, expected pending") and nothing could resume.
2. A re-restore killed before its POST left (state "started", no task): its reconcile
   must not adopt the task of the restore before it, which matches the same backup
   and target within the lookup's 15 minutes. It did, and recorded a restore that
   never ran as succeeded. State now keeps the tasks a record replaced.
The simulator's ledger is the witness."""

from __future__ import annotations

from pathlib import Path

import pytest

import planner.apply.executor as ex
from planner.addresses import Address
from planner.apply.journal import Journal, journal_path
from planner.cli.main import main
from planner.state.store import StateStore
from tests.apply.checks import duplicates
from tests.apply.drill import addr, in_process, make_drill, simulator, write_drill

ARGS = ["--auto-approve", "--no-color"]


def test_an_intent_whose_success_state_holds_is_closed_not_adopted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    drill = make_drill(3, seed=5, levels=1)
    _inventory, plan = write_drill(drill, tmp_path)
    first, *rest = drill.levels[0]
    state = tmp_path / ".restore-planner" / "state.json"
    sim, clock = simulator(drill)
    with in_process(sim, clock):
        assert main(["apply", str(plan), *ARGS, "--target", first]) == 0
        rec = StateStore(state).load().restores[addr(first)]
        assert rec.status == "succeeded"
        # what a kill leaves: the intent written, its "finished" line lost
        journal = Journal(journal_path(state))
        journal.intent(rec.run_id, Address.parse(addr(first)), rec.backup.id, rec.target.id, "sha256:x", rec.started_at)
        assert rec.task_id is not None
        journal.accepted(Address.parse(addr(first)), rec.task_id, rec.started_at)
        journal.sync()
        assert [str(e.address) for e in Journal(journal_path(state)).pending()] == [addr(first)]
        capsys.readouterr()
        assert main(["apply", str(plan), *ARGS]) == 0, capsys.readouterr()
        assert Journal(journal_path(state)).pending() == []
        recorded = StateStore(state).load().restores
        assert {a: r.status for a, r in recorded.items()} == {addr(b): "succeeded" for b in [first, *rest]}
    restores = sim.ledger()["restores"]
    assert duplicates({"restores": restores}) == [] and len(restores) == 3


class _Killed(BaseException):
    """A kill -9 at this point: nothing after it runs (no withdraw, no final write)."""


def test_a_re_restore_killed_before_its_post_does_not_adopt_the_task_before_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    drill = make_drill(1, seed=6, levels=1, restore_mode="snapshot")  # restores of seconds
    _inventory, plan = write_drill(drill, tmp_path)
    [block] = drill.levels[0]
    state = tmp_path / ".restore-planner" / "state.json"
    sim, clock = simulator(drill)
    with in_process(sim, clock):
        assert main(["apply", str(plan), *ARGS]) == 0
        [t1] = [r["job_id"] for r in sim.ledger()["restores"]]
        clock.advance(150)  # within the lookup's 15 minutes (and past the replay check's 2)
        saved = tmp_path / "again.plan"
        assert main(["plan", str(plan), "--no-color", "--replace", block, "--out", str(saved)]) == 0
        original = ex.Executor._post

        async def killed(self: ex.Executor, f: ex.Flight, body: object) -> None:
            raise _Killed  # after "started" is durable, before the POST leaves

        ex.Executor._post = killed  # type: ignore[method-assign]
        try:
            with pytest.raises(_Killed):
                main(["apply", str(saved), "--no-color"])
        finally:
            ex.Executor._post = original  # type: ignore[method-assign]
        rec = StateStore(state).load().restores[addr(block)]
        assert rec.status == "started" and rec.task_id is None and t1 in rec.earlier_tasks
        assert len(sim.ledger()["restores"]) == 1  # the re-restore never reached the cloud
        capsys.readouterr()
        assert main(["plan", str(plan), "--no-color", "--out", str(saved)]) == 0
        assert "reconcile" in capsys.readouterr().out
        assert main(["apply", str(saved), "--no-color"]) == 0
        rec = StateStore(state).load().restores[addr(block)]
    tasks = [r["job_id"] for r in sim.ledger()["restores"]]
    # the reviewed re-restore ran (once): state records its own task, not the first one
    assert len(tasks) == 2 and rec.status == "succeeded" and rec.task_id == tasks[1] != t1
