"""kill -9 an apply at random points, RE-PLAN, apply again until it completes (DESIGN section 11).

Real processes: `sim serve` on 127.0.0.1 with a time scale, `plan` and `apply`
on the wall clock, with the plan's default estimates (the client learns the
simulator's pace from its answers). Backups are selectors (``{before: T}``),
so every re-plan resolves them again while the killed apply's restores run.
Each round plans afresh from the YAML into a saved plan (restores left
"started" show as reconcile) and applies that file; after every kill the state
file must parse. At the end the simulator's ledger shows every target restored
exactly once, all succeeded, and state holds the backup each one was sent.
"""

from __future__ import annotations

import random
import subprocess
import sys
import time
from pathlib import Path

import pytest

from planner.state.store import StateStore
from tests.apply.checks import duplicates, read_state
from tests.apply.drill import make_drill, write_drill
from tests.apply.procs import ROOT, ledger, start_apply, start_sim, stop

SCALE = 3000.0
BEFORE = "2026-11-25T00:00:00Z"
PLAN_ARGS = ["--no-color", "--parallelism", "6"]
APPLY_ARGS = ["--no-color", "--parallelism", "6"]


def _kill_after(proc: subprocess.Popen[str], lines: int, sleep: float) -> None:
    assert proc.stdout is not None
    for _ in range(lines):
        if not proc.stdout.readline():
            break
    time.sleep(sleep)
    stop(proc)


def _plan(plan: Path, saved: Path, env: dict[str, str]) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "planner", "plan", str(plan), "--out", str(saved), *PLAN_ARGS],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert out.returncode in (0, 2), out.stderr


def _crash_loop(tmp_path: Path, servers: int, kills: int, faults: str, seed: int) -> dict[str, int]:
    rng = random.Random(seed)
    drill = make_drill(servers, seed=seed, before=BEFORE)
    inventory, plan = write_drill(drill, tmp_path)
    state = tmp_path / ".restore-planner" / "state.json"
    saved = tmp_path / "round.plan"
    sim, env = start_sim(inventory, faults, seed, SCALE)
    try:
        for _ in range(kills):
            _plan(plan, saved, env)  # re-plan while the killed apply's restores may still run
            proc = start_apply([str(saved), *APPLY_ARGS], env)
            try:
                _kill_after(proc, rng.randint(1, 6 * servers), rng.random() * 0.5)
            finally:
                stop(proc)
            if state.exists():
                StateStore(state).load()  # parses, whatever the moment of the kill
        for _ in range(5):
            _plan(plan, saved, env)
            proc = start_apply([str(saved), *APPLY_ARGS], env)
            try:
                _out, err = proc.communicate(timeout=120)
            finally:
                stop(proc)
            if proc.returncode == 0:
                break
        assert proc.returncode == 0, err
        restores = ledger(env)["restores"]
    finally:
        stop(sim)
    assert duplicates({"restores": restores}) == []
    assert {r["status"] for r in restores} == {"success"}
    assert sorted(r["target_id"] for r in restores) == sorted(drill.target.values())
    recorded = read_state(state)["restores"]
    assert {r["status"] for r in recorded.values()} == {"succeeded"}
    assert len(recorded) == len(drill.target)
    sent = {r["target_id"]: r["backup_id"] for r in restores}
    assert {r["target"]["id"]: r["backup"]["id"] for r in recorded.values()} == sent
    return {"restores": len(restores), "kills": kills, "duplicates": len(duplicates({"restores": restores}))}


# real processes, half a minute: `make soak` (with test_kill_9_soak); in process, restores
# left started are adopted, never sent twice: test_adopt_in_flight.py, test_replan_in_flight.py
@pytest.mark.slow
def test_kill_9_then_apply_again(tmp_path: Path) -> None:
    _crash_loop(tmp_path, 12, kills=4, faults="5xx=0.03,429=0.03", seed=7)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_kill_9_soak(tmp_path: Path, seed: int) -> None:
    got = _crash_loop(tmp_path, 40, kills=12, faults="5xx=0.05,429=0.05,lost=0.02,reset=0.01", seed=seed)
    print(f"crash soak seed {seed}: {got['restores']} restores, {got['kills']} kills, {got['duplicates']} duplicates")
