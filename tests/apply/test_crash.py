"""kill -9 an apply at random points, apply again until it completes (DESIGN section 11).

Real processes: `sim serve` on 127.0.0.1 with a time scale, `apply` on the wall
clock. After every kill the state file must parse; each new apply plans afresh
from the YAML (restores left "started" show as reconcile). At the end the
simulator's ledger shows every target restored exactly once, all succeeded.
"""

from __future__ import annotations

import random
import subprocess
import time
from pathlib import Path

import pytest

from planner.state.store import StateStore
from tests.apply.checks import duplicates, read_state
from tests.apply.drill import make_drill, write_drill
from tests.apply.procs import ledger, start_apply, start_sim, stop

SCALE = 3000.0
ARGS = ["--auto-approve", "--no-color", "--parallelism", "6", "--poll-interval", "0.1"]


def _kill_after(proc: subprocess.Popen[str], lines: int, sleep: float) -> None:
    assert proc.stdout is not None
    for _ in range(lines):
        if not proc.stdout.readline():
            break
    time.sleep(sleep)
    stop(proc)


def _crash_loop(tmp_path: Path, servers: int, kills: int, faults: str, seed: int) -> None:
    rng = random.Random(seed)
    drill = make_drill(servers, seed=seed, time_scale=SCALE)
    inventory, plan = write_drill(drill, tmp_path)
    state = tmp_path / ".restore-planner" / "state.json"
    sim, env = start_sim(inventory, faults, seed, SCALE)
    try:
        for _ in range(kills):
            proc = start_apply([str(plan), *ARGS], env)
            try:
                _kill_after(proc, rng.randint(1, 6 * servers), rng.random() * 0.5)
            finally:
                stop(proc)
            if state.exists():
                StateStore(state).load()  # parses, whatever the moment of the kill
        for _ in range(5):
            proc = start_apply([str(plan), *ARGS], env)
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


def test_kill_9_then_apply_again(tmp_path: Path) -> None:
    _crash_loop(tmp_path, 12, kills=4, faults="5xx=0.03,429=0.03", seed=7)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_kill_9_soak(tmp_path: Path, seed: int) -> None:
    _crash_loop(tmp_path, 40, kills=12, faults="5xx=0.05,429=0.05,lost=0.02,reset=0.01", seed=seed)
