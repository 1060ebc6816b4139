"""Ctrl-C while a restore waits out BackupService.2002 (its target is being backed up).

The refused POST created nothing. After the first Ctrl-C nothing is sent again,
the waiting restore leaves state as it was before the apply (state says exactly
what the cloud accepted), what the cloud did accept is tracked to its end, and
the apply exits 130. The simulator's request log is the witness.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

import planner.apply.executor as ex
from planner.apply.events import Event
from planner.apply.journal import Journal
from planner.cli.main import main
from planner.sim import Simulator
from planner.sim.http import SimRequest, SimResponse
from tests.apply.checks import read_state, run_events
from tests.apply.drill import addr, in_process, make_drill, simulator, write_drill


@contextmanager
def _on_event(hook: Callable[[ex.Executor, str], None]) -> Iterator[None]:
    original = ex.Executor._emit

    def emit(self: ex.Executor, event: Event) -> None:
        original(self, event)
        hook(self, event.kind)

    ex.Executor._emit = emit  # type: ignore[method-assign]
    try:
        yield
    finally:
        ex.Executor._emit = original  # type: ignore[method-assign]


def _posts(sim: Simulator) -> list[tuple[float, str]]:
    """Every restore POST the simulator receives (accepted or refused), with its time."""
    seen: list[tuple[float, str]] = []
    handle = sim.handle

    def counting(req: SimRequest) -> SimResponse:
        if req.method == "POST" and req.path.endswith("/restore"):
            seen.append((sim.clock.now(), req.path))
        return handle(req)

    sim.handle = counting  # type: ignore[method-assign]
    return seen


def test_first_ctrl_c_sends_nothing_more_and_state_keeps_only_what_the_cloud_accepted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    drill = make_drill(4, seed=4, levels=1)
    _inv, plan = write_drill(drill, tmp_path)
    sim, clock = simulator(drill)
    (block, server), *others = sorted(drill.target.items())
    sim.state.protecting_resources.add(server)  # a backup of it is being taken: 2002
    posts = _posts(sim)
    stopped_at: list[int] = []

    waiting: list[int] = []

    def interrupt(executor: ex.Executor, kind: str) -> None:
        # Ctrl-C while the refused restore waits to be sent again (and the others run)
        waiting.extend([1] if kind == "restore_waiting" else [])
        if kind == "restore_succeeded" and waiting and not stopped_at:
            stopped_at.append(len(posts))
            executor.stop_starting()

    with in_process(sim, clock), _on_event(interrupt):
        rc = main(["apply", str(plan), "--auto-approve", "--no-color"])
    assert rc == 130
    assert stopped_at and len(posts) == stopped_at[0]  # not one POST after the Ctrl-C
    state = read_state(tmp_path / ".restore-planner" / "state.json")["restores"]
    assert addr(block) not in state  # the cloud never accepted it
    accepted = {r["target_id"] for r in sim.ledger()["restores"]}
    assert server not in accepted
    for other, _sid in others:  # what the cloud accepted was tracked to its end
        assert state[addr(other)]["status"] == "succeeded"
    assert Journal(tmp_path / ".restore-planner" / "state.json.journal").pending() == []
    kinds = [e["kind"] for e in run_events(tmp_path / ".restore-planner")]
    assert "restore_withdrawn" in kinds
    # the drill report says it was never sent, not that its outcome is unknown
    capsys.readouterr()
    assert main(["report", "--state", str(tmp_path / ".restore-planner" / "state.json"),
                 "--format", "json"]) == 0  # fmt: skip
    rows = {r["address"]: r for r in json.loads(capsys.readouterr().out)["restores"]}
    assert rows[addr(block)]["outcome"] == "skipped"
    assert rows[addr(block)]["skipped_reason"].startswith("withdrawn (interrupted before")
    assert [a for a, r in rows.items() if r["outcome"] == "unknown"] == []
    # the next plan shows it as a restore still to do, not as a reconcile
    with in_process(sim, clock):
        assert main(["plan", str(plan), "--no-color", "--detailed-exitcode"]) == 2


def test_second_ctrl_c_leaves_accepted_restores_started_for_the_next_apply(tmp_path: Path) -> None:
    drill = make_drill(4, seed=4, levels=1)
    _inv, plan = write_drill(drill, tmp_path)
    sim, clock = simulator(drill)
    (block, server), *_ = sorted(drill.target.items())
    sim.state.protecting_resources.add(server)
    posts = _posts(sim)
    presses: list[int] = []

    waiting: list[int] = []

    def interrupt(executor: ex.Executor, kind: str) -> None:
        waiting.extend([1] if kind == "restore_waiting" else [])
        if kind == "restore_accepted" and waiting and len(posts) == len(drill.target) and not presses:
            presses.append(len(posts))
            executor.stop_starting()
            executor.abandon()

    with in_process(sim, clock), _on_event(interrupt):
        rc = main(["apply", str(plan), "--auto-approve", "--no-color"])
    assert rc == 130
    assert len(posts) == presses[0]
    state = read_state(tmp_path / ".restore-planner" / "state.json")["restores"]
    assert addr(block) not in state
    accepted = {r["target_id"]: r for r in sim.ledger()["restores"]}
    started = {a for a, r in state.items() if r["status"] == "started"}
    assert len(started) == len(accepted) == len(drill.target) - 1  # exactly what the cloud accepted
    # the next apply reconciles them (no second restore) and restores the one never sent
    sim.state.protecting_resources.discard(server)
    with in_process(sim, clock):
        assert main(["apply", str(plan), "--auto-approve", "--no-color"]) == 0
    ledger = sim.ledger()["restores"]
    assert sorted(r["target_id"] for r in ledger) == sorted(drill.target.values())
