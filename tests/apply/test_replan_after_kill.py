"""kill -9 an apply after the cloud accepted its restores, then RE-PLAN, then apply.

The reproduction of "never twice": plans whose backups are selectors
(``backup: {before: T}``). While the killed apply's tasks run, their backups
are ``restoring``; a re-plan must keep the backup the earlier apply sent (the
selector must not move to an older one, and the reconcile must show and record
the one sent), the plan must not be refused for the restores it reconciles,
and after the apply the next plan has nothing to do. The simulator's ledger is
the witness: every target restored exactly once.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from planner.state.store import StateStore
from tests.apply.checks import duplicates
from tests.apply.drill import addr, make_drill, write_drill
from tests.apply.procs import ROOT, ledger, start_apply, start_sim, stop

BEFORE = "2026-11-25T00:00:00Z"
ARGS = ["--auto-approve", "--no-color", "--parallelism", "4"]


def _cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "planner", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def _kill_after_accepted(proc: subprocess.Popen[str], accepted: int) -> None:
    assert proc.stdout is not None
    seen = 0
    for line in proc.stdout:
        if ": accepted, task " in line:
            seen += 1
            if seen >= accepted:
                break
    stop(proc)  # kill -9


# real processes (kill -9 is a real signal), 15 s at 600x; test_replan_in_flight.py checks
# the same property in process
def test_kill_9_then_replan_keeps_the_backup_sent_and_restores_nothing_twice(tmp_path: Path) -> None:
    drill = make_drill(4, seed=4, levels=1, before=BEFORE)
    inventory, plan = write_drill(drill, tmp_path)
    state = tmp_path / ".restore-planner" / "state.json"
    saved = tmp_path / "again.plan"
    sim, env = start_sim(inventory, "", 4, time_scale=600.0)
    try:
        _kill_after_accepted(start_apply([str(plan), *ARGS], env), accepted=len(drill.target))
        sent = {r["target_id"]: r["backup_id"] for r in ledger(env)["restores"]}
        assert len(sent) == len(drill.target)

        replan = _cli(["plan", str(plan), "--no-color", "--out", str(saved), "--state", str(state)], env)
        assert replan.returncode in (0, 2), replan.stderr
        shown = json.loads(_cli(["show", str(saved), "--format", "json"], env).stdout)
        by_addr = {a["address"]: a for a in shown["actions"]}
        for block, server in drill.target.items():
            action = by_addr[addr(block)]
            # the restore already sent: reconciled (or done), always with the backup sent
            assert action["action"] in ("reconcile", "unchanged"), action
            assert action["backup"]["id"] == sent[server]

        done = _cli(["apply", str(saved), "--no-color"], env)
        assert done.returncode == 0, done.stdout + done.stderr
        recorded = StateStore(state).load().restores
        for block, server in drill.target.items():
            rec = recorded[addr(block)]
            assert rec.status == "succeeded" and rec.backup.id == sent[server]

        after = _cli(["plan", str(plan), "--no-color", "--detailed-exitcode", "--state", str(state)], env)
        assert after.returncode == 0, after.stdout + after.stderr  # nothing left: no re-restore
        restores = ledger(env)["restores"]
    finally:
        stop(sim)
    assert duplicates({"restores": restores}) == []
    assert sorted(r["target_id"] for r in restores) == sorted(drill.target.values())
