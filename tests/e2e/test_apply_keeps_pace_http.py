"""Apply keeps pace with a cloud it does not share a clock with (issue 11 item 6).

`sim serve --time-scale 600` (600 simulated seconds per wall second, its own
seeded pace, unlike the plan's default estimates), `plan --out` and `apply
PLANFILE` as subprocesses. The client learns the cloud's time only from its
answers, so the apply ends within a small multiple of the simulated lower bound
/ 600. The old client waited 300 s of its own clock before a first look at each
batch and so took minutes; the exact ratio is bench/apply_http.py's to print
(a timing assertion here is kept loose: the machines are shared).
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from bench.apply_makespan import QUOTA, lower_bound
from tests.apply.checks import duplicates
from tests.apply.drill import make_drill, write_drill
from tests.apply.procs import ROOT, ledger, start_sim, stop

SCALE = 600.0


# the cloud restores at 50 GB/min where the plan estimates 4: ten times faster than the
# plan says, and 600 times faster than the client's clock
def test_apply_against_a_time_scaled_cloud_with_default_estimates(tmp_path: Path) -> None:
    drill = make_drill(6, seed=5, levels=2, quota=QUOTA, rules={"throughput_gb_per_min": 50.0})
    inv, plan = write_drill(drill, tmp_path)
    saved = tmp_path / "drill.plan"
    sim, env = start_sim(inv, time_scale=SCALE)
    try:
        out = subprocess.run(
            [sys.executable, "-m", "planner", "plan", str(plan), "--out", str(saved), "--no-color"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert out.returncode == 0, out.stderr
        t0 = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "planner", "apply", str(saved), "--no-color"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=240,
        )  # fmt: skip
        wall = time.monotonic() - t0
        book = ledger(env)
    finally:
        stop(sim)
    assert done.returncode == 0, done.stdout + done.stderr
    assert duplicates(book) == [] and len(book["restores"]) == len(drill.target)
    bound, _path, _work = lower_bound(drill, book)
    ideal = bound / SCALE
    assert wall <= 3.0 * ideal + 10.0, f"apply took {wall:.1f} s for {ideal:.1f} s of simulated work at {SCALE:g}x"
