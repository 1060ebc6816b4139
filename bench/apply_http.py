"""Apply over real HTTP against `sim serve --time-scale 600` (issue 11 item 6, the bench row).

A generated drill (tests/apply/drill.py: a few dozen restores in 4 levels with
sparse dependencies) and a plan with the client's DEFAULT estimates; the
simulator keeps its own pace (seeded, unlike the estimate) and runs 600 times
faster than the wall clock, which the client learns only from the times it
returns. `sim serve`, `plan --out` and `apply PLANFILE --auto-approve` run as
subprocesses, as a user would. Prints the apply's wall time against the
simulated lower bound / 600, the lower bound = max(critical path, total work /
quota) from the ledger's actual durations; target <= 1.2x. An apply still
running after ``--timeout`` wall seconds is stopped and the row reads MISSED.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.apply_makespan import QUOTA, lower_bound
from tests.apply.drill import make_drill, write_drill
from tests.apply.procs import ROOT, ledger, start_sim, stop

SCALE = 600.0
TARGET = 1.2


def _cli(args: list[str], env: dict[str, str], timeout: float) -> tuple[int | None, float, str]:
    """Runs the CLI; (exit code or None on timeout, wall seconds, stderr tail)."""
    t = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "planner", *args], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        _out, err = proc.communicate(timeout=timeout)
        return proc.returncode, time.monotonic() - t, err[-2000:]
    except subprocess.TimeoutExpired:
        stop(proc)
        return None, time.monotonic() - t, ""


def main_bench(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--restores", type=int, default=40)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=600.0, help="wall seconds the apply may take")
    args = ap.parse_args(argv)
    drill = make_drill(args.restores, seed=args.seed, quota=QUOTA)
    with tempfile.TemporaryDirectory() as tmp:
        inv, plan = write_drill(drill, Path(tmp))
        sim, env = start_sim(inv, time_scale=SCALE)
        try:
            saved = Path(tmp) / "drill.plan"
            rc, _, err = _cli(["plan", str(plan), "--out", str(saved), "--no-color", "--parallelism", "20"],
                              env, args.timeout)
            if rc not in (0, 2):
                print(f"plan failed ({rc}):\n{err}")
                return 1
            rc, wall, err = _cli(["apply", str(saved), "--auto-approve", "--no-color", "--parallelism", "20"],
                                 env, args.timeout)
            book = ledger(env)
        finally:
            stop(sim)
    restores = len(drill.target)
    print(f"apply over HTTP: {restores} restores, 4 levels, quota {QUOTA}, --parallelism 20, "
          f"sim serve --time-scale {SCALE:g}, default estimates")
    if rc is None:
        print(f"apply did not finish within {args.timeout:g} s of wall time: MISSED "
              f"({sum(e['status'] == 'success' for e in book['restores'])} of {restores} restores succeeded)")
        return 0
    if rc != 0:
        print(f"apply failed ({rc}):\n{err}")
        return 1
    bound, path, work = lower_bound(drill, book)
    ideal = bound / SCALE
    ratio = wall / ideal
    print(f"lower bound {bound:.0f} simulated s = max(critical path {path:.0f}, work/quota {work:.0f}) "
          f"-> {ideal:.1f} s of wall time at {SCALE:g}x")
    print(f"apply wall time {wall:.1f} s, ratio {ratio:.2f} (target <= {TARGET}): "
          f"{'met' if ratio <= TARGET else 'MISSED'}; {book['requests'] / restores:.2f} API requests per restore")
    return 0


if __name__ == "__main__":
    sys.exit(main_bench())
