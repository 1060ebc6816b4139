"""Fault soak (DESIGN section 11): a drill under injected faults, through the CLI.

The simulator's ledger is the ground truth: no target restored twice, every
success in state as ``succeeded``, every failed task ``failed`` in state with
its dependents reported skipped (run log and summary), exit code 1 exactly
when something failed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from planner.cli.main import main
from tests.apply.checks import duplicates, read_state, run_events
from tests.apply.drill import Drill, in_process, make_drill, simulator, write_drill

FAULTS = "5xx=0.05,429=0.05,lost=0.02,reset=0.01,task_fail=0.02,slow=0.01"


def _descendants(drill: Drill, block: str) -> set[str]:
    children: dict[str, list[str]] = {}
    for b, deps in drill.deps.items():
        for d in deps:
            children.setdefault(d, []).append(b)
    out: set[str] = set()
    stack = [block]
    while stack:
        for c in children.get(stack.pop(), []):
            if c not in out:
                out.add(c)
                stack.append(c)
    return out


def _soak(
    tmp_path: Path, servers: int, seed: int, capsys: pytest.CaptureFixture[str], pg: tuple[str, str] | None = None
) -> None:
    """``pg``: (connection string, workspace) to keep state, journal and run logs in PostgreSQL."""
    drill = make_drill(servers, seed=seed)
    _inv, plan = write_drill(drill, tmp_path)
    sim, clock = simulator(drill, FAULTS, seed=seed)
    backend_args = ["--backend", "postgres", "--workspace", pg[1]] if pg else []
    with in_process(sim, clock):
        rc = main(["apply", str(plan), "--auto-approve", "--parallelism", "20", "--no-color", *backend_args])
    out = capsys.readouterr().out
    ledger = sim.ledger()
    assert duplicates(ledger) == []
    if pg is not None:
        from planner.state.postgres import PostgresBackend

        backend = PostgresBackend(pg[0], "restore_planner", pg[1])
        try:
            state = backend.store().load().model_dump(mode="json")["restores"]
            events = backend.read_run()
        finally:
            backend.close()
    else:
        state = read_state(tmp_path / ".restore-planner" / "state.json")["restores"]
        events = run_events(tmp_path / ".restore-planner")
    by_target = {r["target"]["id"]: r for r in state.values()}
    failed_blocks = set()
    for task in ledger["restores"]:
        rec = by_target[task["target_id"]]
        assert rec["task_id"] == task["job_id"]
        expected = {"success": "succeeded", "failed": "failed"}[task["status"]]
        assert rec["status"] == expected, rec["address"]
        if expected == "failed":
            failed_blocks.add(rec["address"])
            assert f"  failed   {rec['address']}: BackupService.9910: " in out
    skipped = {e["address"]: e["because"] for e in events if e["kind"] == "restore_skipped"}
    refused = {e["address"] for e in events if e["kind"] == "restore_failed"}
    # every dependent of a failure is skipped (unless it failed itself, earlier) and not run
    for block in refused:
        for d in _descendants(drill, block):
            assert d in skipped or d in refused, (block, d)
            assert drill.target[d] not in {t["target_id"] for t in ledger["restores"]}
    for addr, because in skipped.items():
        assert f"  skipped  {addr}: dependency {', '.join(because)} failed" in out
        assert addr not in state
    assert failed_blocks <= refused
    counts = events[-1]["counts"]
    assert events[-1]["kind"] == "run_finished"
    assert counts["succeeded"] == sum(1 for t in ledger["restores"] if t["status"] == "success")
    assert counts["failed"] == len(refused)
    assert (rc == 1) == bool(refused)
    assert rc in (0, 1)
    assert f"{counts['succeeded']} restored, {counts['failed']} failed, {counts['skipped']} skipped" in out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_fault_soak_150(tmp_path: Path, seed: int, capsys: pytest.CaptureFixture[str]) -> None:
    _soak(tmp_path, 150, seed, capsys)


def test_fault_soak_150_with_state_in_postgresql(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], pg_env: str, pg_workspace: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _soak(tmp_path, 150, 1, capsys, pg=(pg_env, pg_workspace))


def test_soak_without_faults_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    drill = make_drill(30, seed=4)
    _inv, plan = write_drill(drill, tmp_path)
    sim, clock = simulator(drill)
    with in_process(sim, clock):
        assert main(["apply", str(plan), "--auto-approve", "--no-color"]) == 0
    ledger = sim.ledger()
    assert len(ledger["restores"]) == len(drill.target)
    assert {t["status"] for t in ledger["restores"]} == {"success"}
    assert "Apply complete: " + f"{len(drill.target)} restored, 0 failed, 0 skipped" in capsys.readouterr().out


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2])
def test_fault_soak_1000(tmp_path: Path, seed: int, capsys: pytest.CaptureFixture[str]) -> None:
    _soak(tmp_path, 1000, seed, capsys)
