"""Apply makespan, API cost and client CPU on the simulator (DESIGN.md section 10).

1,000 restores in a 4-level DAG, each depending on 0-3 restores of the previous
level (explicit ``depends_on`` between named restores), one disk of 20-500 GB
each; simulator quota 20, ``--parallelism 20``; all on a VirtualClock in
process, through the CLI (``plan --out`` then ``apply PLANFILE``). Prints
makespan / lower bound, lower bound = max(critical path, total work / quota)
from the durations in the simulator's ledger (started_at..ended_at) of that run,
for the
executor's policy (eager, critical path first), level-by-level batches (the
same restores as waves) and FIFO (eager, plan order); API requests per restore
over plan + apply; and the client's CPU seconds per 1,000 restores (process
CPU of the apply minus the CPU spent inside the simulator). CPU time on a shared
machine swings by a third between identical runs, so the executor's policy runs
``--repeat`` times (default 3) and the least CPU is reported, with the spread.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import io
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from planner.addresses import Address
from planner.apply.executor import Executor, PriorityPolicy
from planner.cli import apply as apply_cli
from planner.cli.main import main
from planner.graph import RestoreGraph
from planner.sim import Simulator
from planner.sim import transport as sim_transport
from planner.sim.http import SimResponse
from tests.apply.drill import Drill, estimator_pace, in_process, make_drill, simulator, write_drill

QUOTA = 20


def _ts(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def ledger_durations(drill: Drill, ledger: dict[str, Any]) -> dict[str, tuple[float, float]]:
    """Block -> (started_at, ended_at) of its successful task, as the simulator recorded it."""
    block_of = {target: block for block, target in drill.target.items()}
    done: dict[str, tuple[float, float]] = {}
    for e in ledger["restores"]:
        if e["status"] == "success" and e["target_id"] in block_of:
            # to the millisecond where the simulator says (its API answers in whole seconds)
            start, end = e.get("started_at_ms") or e["started_at"], e.get("ended_at_ms") or e["ended_at"]
            done[block_of[e["target_id"]]] = (_ts(start), _ts(end))
    if len(done) != len(drill.target):
        raise SystemExit(f"only {len(done)} of {len(drill.target)} restores succeeded")
    return done


def lower_bound(drill: Drill, ledger: dict[str, Any]) -> tuple[float, float, float]:
    """(bound, critical path, total work / quota) in seconds, from the ledger's actual durations
    (the simulator's pace is its own, not the client's estimate)."""
    dur = {b: end - start for b, (start, end) in ledger_durations(drill, ledger).items()}
    finish: dict[str, float] = {}
    for level in drill.levels:
        for b in level:
            finish[b] = max((finish[d] for d in drill.deps[b]), default=0.0) + dur[b]
    path = max(finish.values())
    work = sum(dur.values()) / QUOTA
    return max(path, work), path, work


def fifo(graph: RestoreGraph, weights: Mapping[Address, float]) -> dict[Address, float]:
    """Plan order (the order the restores are listed in): earlier first."""
    order = sorted(weights, key=str)
    return {a: float(len(order) - i) for i, a in enumerate(order)}


@contextmanager
def _sim_cpu(sim: Simulator) -> Iterator[list[float]]:
    """Accumulates the process CPU seconds spent inside the simulator: answering,
    encoding the answer and reading the request's URL (a server's side of HTTP)."""
    spent = [0.0]
    handle, content, parse_request = sim.handle, SimResponse.content, sim_transport.to_sim_request

    def timed(fn: Callable[..., Any]) -> Callable[..., Any]:
        def run(*args: Any) -> Any:
            t = time.process_time()
            try:
                return fn(*args)
            finally:
                spent[0] += time.process_time() - t

        return run

    timed_handle, timed_content, timed_parse = timed(handle), timed(content), timed(parse_request)

    sim.handle = timed_handle  # type: ignore[method-assign]
    SimResponse.content = timed_content  # type: ignore[method-assign]
    sim_transport.to_sim_request = timed_parse
    try:
        yield spent
    finally:
        SimResponse.content = content  # type: ignore[method-assign]
        sim_transport.to_sim_request = parse_request


def run_once(
    drill: Drill, workdir: Path, policy: PriorityPolicy | None, bound_drill: Drill | None = None
) -> dict[str, float]:
    _inv, plan_yaml = write_drill(drill, workdir)
    sim, clock = simulator(drill)
    saved = workdir / "drill.plan"
    # the CLI builds the Executor; swap the class it uses for one with this policy
    namespace = vars(apply_cli)
    original: Callable[..., Executor] = namespace["Executor"]
    if policy is not None:
        namespace["Executor"] = functools.partial(Executor, priority=policy)
    try:
        with in_process(sim, clock):
            rc = main(["plan", str(plan_yaml), "--no-color", "--out", str(saved), "--parallelism", "20"])
            if rc != 2 and rc != 0:
                raise SystemExit(f"plan failed with exit code {rc}")
            t0 = sim.clock.now()
            with _sim_cpu(sim) as spent:
                cpu = time.process_time()
                rc = main(["apply", str(saved), "--auto-approve", "--parallelism", "20", "--format", "json"])
                cpu = time.process_time() - cpu
    finally:
        namespace["Executor"] = original
    if rc != 0:
        raise SystemExit(f"apply failed with exit code {rc}")
    ledger = sim.ledger()
    ends = [_ts(r.get("ended_at_ms") or r["ended_at"]) for r in ledger["restores"]]
    # the bound of the dependency DAG (waves are a stricter order of the same restores)
    bound, path, work = lower_bound(bound_drill or drill, ledger)
    return {
        "bound": bound,
        "path": path,
        "work": work,
        "makespan": max(ends) - t0,
        "requests": float(ledger["requests"]),
        "restores": float(len(ledger["restores"])),
        "client_cpu": cpu - spent[0],
        "sim_cpu": spent[0],
    }


def main_bench(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--restores", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=3, help="runs of our policy; the least CPU is reported")
    ap.add_argument("--pace", type=float, default=0.0,
                    help="the simulator's pace as a multiple of the client's estimate (default: its own pace)")
    ap.add_argument(
        "--listed-children", choices=("nested", "flat", "empty"), default="nested",
        help="how the simulator lists a server backup's disk backups (bench/refresh_cost.py "
        "measures what each costs plan); empty, the documented example, adds a ShowBackup "
        "per restore to the plan's requests",
    )
    args = ap.parse_args(argv)
    n = args.restores
    rules = {
        **(estimator_pace(args.pace) if args.pace > 0 else {}),
        "listed_children": args.listed_children,
    }
    drill = make_drill(n, seed=args.seed, quota=QUOTA, rules=rules)
    rows: list[tuple[str, dict[str, float]]] = []
    cpus: list[float] = []
    shares: list[float] = []
    for name, d, policy, repeat in (
        ("ours (eager, critical path first)", drill, None, max(1, args.repeat)),
        ("level-by-level batches", make_drill(n, seed=args.seed, quota=QUOTA, waves=True, rules=rules), None, 1),
        ("FIFO (eager, plan order)", drill, fifo, 1),
    ):
        runs = []
        for _ in range(repeat):
            with (
                tempfile.TemporaryDirectory() as tmp,
                contextlib.redirect_stdout(io.StringIO()),
                contextlib.redirect_stderr(io.StringIO()),
            ):
                runs.append(run_once(d, Path(tmp), policy, drill))
        if policy is None and not cpus:
            cpus = [r["client_cpu"] for r in runs]
            shares = sorted(r["client_cpu"] / r["sim_cpu"] for r in runs)
        rows.append((name, min(runs, key=lambda r: r["client_cpu"])))
    restores = len(drill.size_gb)
    pace = f"{args.pace:g}x the estimate" if args.pace > 0 else "the simulator's own (seeded spread)"
    print(f"apply makespan: {restores} restores, 4 levels, quota {QUOTA}, --parallelism 20 (virtual clock), "
          f"cloud pace {pace}, listed children {args.listed_children}")
    ours = rows[0][1]
    bound = ours["bound"]
    print(f"lower bound {bound:.0f} s = max(critical path {ours['path']:.0f} s, work/quota {ours['work']:.0f} s)"
          " from the ledger")
    print(f"{'policy':<36} {'makespan s':>11} {'ratio':>7} {'req/restore':>12} {'client CPU s/1000':>18}")
    for name, r in rows:
        print(
            f"{name:<36} {r['makespan']:>11.0f} {r['makespan'] / r['bound']:>7.3f} "
            f"{r['requests'] / restores:>12.2f} {r['client_cpu'] / restores * 1000:>18.2f}"
        )
    ok = ours["makespan"] / bound <= 1.05 and ours["requests"] / restores <= 3 and ours["client_cpu"] / restores * 1000 < 2
    spread = ", ".join(f"{c / restores * 1000:.2f}" for c in cpus)
    print(
        f"targets: ratio <= 1.05, <= 3 requests/restore, < 2 CPU s/1000: {'met' if ok else 'MISSED'} "
        f"(client CPU of our {len(cpus)} runs: {spread}; simulator CPU excluded: {ours['sim_cpu']:.2f} s)"
    )
    # The machine's speed swings by up to 1.7x within an hour on a shared host; the
    # simulator answers the same requests in every run, so its CPU is a yardstick of it.
    print(
        f"client CPU / simulator CPU over our runs: least {shares[0]:.3f}, median "
        f"{shares[len(shares) // 2]:.3f} (compare runs on a noisy machine by this, not by seconds)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main_bench())
