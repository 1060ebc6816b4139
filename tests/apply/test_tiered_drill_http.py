"""A tiered drill over real HTTP with every fault on (DESIGN sections 9 and 11).

`sim serve` with the full fault spec and a time scale, `plan --out` then `apply`
of the saved plan as subprocesses. Every restore must be accounted for exactly
once: succeeded (one ledger success, recorded succeeded), failed (recorded
failed with the cloud's code, reported), or skipped because a lower wave failed
(never sent). Both drills, 60 and 300 servers, run under make soak.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from planner.sim import dump_inventory, generate_inventory
from tests.apply.checks import read_state, run_events
from tests.apply.procs import ROOT, ledger, start_apply, start_sim, stop

FAULTS = "5xx=0.05,429=0.05,lost=0.02,reset=0.01,task_fail=0.02,slow=0.01"
SCALE = 4000.0

PLAN = """\
version: 1
vars:
  point_in_time: "2026-12-31T00:00:00Z"
defaults:
  # the client runs on the wall clock, the simulator SCALE times faster
  restore_overhead: 1s
  throughput_gb_per_min: {throughput}
guards:
  max_backup_age: 2000h
restores:
  db:
    select: {{kind: server, tags: {{tier: db, env: drill}}}}
    backup: {{before: "{{{{ point_in_time }}}}"}}
    power_on: false
    wave: 1
  app:
    select: {{kind: server, tags: {{tier: app, env: drill}}}}
    backup: {{before: "{{{{ point_in_time }}}}"}}
    wave: 2
  web:
    select: {{kind: server, tags: {{tier: web, env: drill}}}}
    backup: {{before: "{{{{ point_in_time }}}}"}}
    wave: 3
"""


def _inventory(servers: int, seed: int) -> dict[str, object]:
    inv = generate_inventory(servers, 1, seed=seed)
    bad = {b["resource_id"] for b in inv["backups"] if b["status"] != "available"}
    for s in inv["servers"]:
        if s["status"] != "ACTIVE" or s["id"] in bad:
            s["tags"]["env"] = "quarantine"  # outside the drill: broken or being backed up
    return inv


def _drill(tmp_path: Path, servers: int, seed: int) -> None:
    inv_path = tmp_path / "inventory.json"
    inv_path.write_text(dump_inventory(_inventory(servers, seed), fmt="json"))
    (tmp_path / "plans").mkdir()
    (tmp_path / "plans" / "drill.yaml").write_text(PLAN.format(throughput=4 * SCALE))
    sim, env = start_sim(inv_path, FAULTS, seed, SCALE)
    try:
        planned = subprocess.run(
            [sys.executable, "-m", "planner", "plan", str(tmp_path / "plans"), "--out", str(tmp_path / "drill.plan")],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
        )
        assert planned.returncode == 0, planned.stderr
        plan = json.loads((tmp_path / "drill.plan").read_text())
        wanted = {a["address"]: a["target"]["id"] for a in plan["actions"] if a["action"] == "restore"}
        assert len(wanted) > servers * 0.7
        proc = start_apply([str(tmp_path / "drill.plan"), "--auto-approve", "--parallelism", "25", "--poll-interval", "0.2"], env)
        try:
            out, err = proc.communicate(timeout=600)
        finally:
            stop(proc)
        restores = ledger(env)["restores"]
    finally:
        stop(sim)
    assert "Traceback" not in err, err
    state = read_state(tmp_path / "plans" / ".restore-planner" / "state.json")["restores"]
    events = run_events(tmp_path / "plans" / ".restore-planner")
    skipped = {e["address"] for e in events if e["kind"] == "restore_skipped"}

    by_target = Counter(r["target_id"] for r in restores)
    assert [t for t, n in by_target.items() if n > 1] == [], "a target was restored twice"
    outcome = {r["target_id"]: r["status"] for r in restores}
    for address, target in wanted.items():
        rec = state.get(address)
        if address in skipped:
            assert target not in outcome, f"{address} was skipped but sent"
            assert rec is None
        elif outcome.get(target) == "success":
            assert rec is not None and rec["status"] == "succeeded", address
        else:
            assert rec is not None and rec["status"] == "failed", address
            assert f"failed   {address}:" in out
    failed = [a for a, r in state.items() if r["status"] == "failed"]
    assert proc.returncode == (1 if failed else 0), out[-2000:]
    for address in skipped:
        assert f"skipped  {address}:" in out


# real processes over HTTP: `make soak`; in process, every fault on and every restore
# accounted for exactly once: test_fault_soak.py::test_fault_soak_150
@pytest.mark.slow
def test_tiered_drill_over_http_with_faults(tmp_path: Path) -> None:
    _drill(tmp_path, 60, seed=11)


@pytest.mark.slow
def test_300_vm_tiered_drill_over_http_with_faults(tmp_path: Path) -> None:
    _drill(tmp_path, 300, seed=12)
