"""Apply makespan of the scheduling policy versus simpler ones (DESIGN.md section 10).

1,000 restores in a 4-level DAG, each with 0-3 dependencies on the previous
level (seeded); duration 60 s + size / (4 GB per minute), sizes uniform
20-500 GB; parallelism 20. Prints makespan / lower bound, where the lower
bound is max(critical path, total work / 20), for: our scheduler (eager,
critical path first), level-by-level batches, and FIFO eager. Then times the
Scheduler alone on 10,000 restores. Pure simulation: no cloud, no simulator.
"""

from __future__ import annotations

import heapq
import random
import time
from collections import deque

from planner.addresses import Address
from planner.config.spec import DependencyRef
from planner.graph import RestoreGraph
from planner.graph.analysis import (
    batches,
    critical_path,
    estimate_makespan,
    remaining_path,
    simulate,
)
from planner.graph.build import GraphNode, build
from planner.graph.scheduler import Scheduler

PARALLELISM = 20
LEVELS = 4


def make_dag(n: int, seed: int) -> tuple[RestoreGraph, dict[Address, float]]:
    rnd = random.Random(seed)
    per_level = n // LEVELS
    levels: list[list[Address]] = []
    nodes: list[GraphNode] = []
    weights: dict[Address, float] = {}
    for lvl in range(LEVELS):
        here = [Address(f"l{lvl}", f"{i:05d}") for i in range(per_level)]
        for a in here:
            prev = levels[-1] if levels else []
            deps = rnd.sample(prev, rnd.randint(0, 3)) if prev else []
            nodes.append(GraphNode(a, tuple(DependencyRef(d) for d in deps), None, None, None))
            size_gb = rnd.uniform(20, 500)
            weights[a] = 60.0 + size_gb / 4.0 * 60.0
        levels.append(here)
    graph, diags = build(nodes)
    assert not diags, diags
    return graph, weights


def level_by_level(graph: RestoreGraph, weights: dict[Address, float]) -> float:
    """Each level eagerly, in address order; the next level starts when it is all done."""
    total = 0.0
    for level in batches(graph):
        slots = [0.0] * min(PARALLELISM, len(level))
        for a in level:
            start = heapq.heappop(slots)
            heapq.heappush(slots, start + weights[a])
        total += max(slots)
    return total


def fifo_eager(graph: RestoreGraph, weights: dict[Address, float]) -> float:
    """Eager, but ready restores start in the order they became ready."""
    waiting = {n: len(graph.dependencies(n)) for n in graph.nodes()}
    queue = deque(n for n in graph.nodes() if waiting[n] == 0)
    events: list[tuple[float, Address]] = []
    now = 0.0
    while queue or events:
        while queue and len(events) < PARALLELISM:
            a = queue.popleft()
            heapq.heappush(events, (now + weights[a], a))
        now, done = heapq.heappop(events)
        for s in graph.dependents(done):
            waiting[s] -= 1
            if waiting[s] == 0:
                queue.append(s)
    return now


def time_scheduler(n: int) -> tuple[float, int]:
    graph, weights = make_dag(n, seed=7)
    priority = remaining_path(graph, weights)
    keys = {a: [f"backup-{a}", f"server-{a}"] for a in graph.nodes()}
    sched = Scheduler(graph, priority, keys, PARALLELISM)
    counting = _Counting(sched)
    t0 = time.perf_counter()
    simulate(counting, graph, weights)  # type: ignore[arg-type]
    return time.perf_counter() - t0, counting.ops


class _Counting:
    """Counts the calls the executor would make."""

    def __init__(self, inner: Scheduler) -> None:
        self.inner, self.ops = inner, 0

    @property
    def done(self) -> bool:
        return self.inner.done

    def ready(self) -> list[Address]:
        self.ops += 1
        return self.inner.ready()

    def started(self, a: Address) -> None:
        self.ops += 1
        self.inner.started(a)

    def succeeded(self, a: Address) -> None:
        self.ops += 1
        self.inner.succeeded(a)


def main() -> None:
    print(f"{'seed':>4}  {'bound s':>9}  {'ours':>6}  {'levels':>6}  {'fifo':>6}")
    worst = 0.0
    for seed in range(5):
        graph, weights = make_dag(1000, seed)
        crit, _path = critical_path(graph, weights)
        bound = max(crit, sum(weights.values()) / PARALLELISM)
        ours = estimate_makespan(graph, weights, PARALLELISM) / bound
        worst = max(worst, ours)
        levels = level_by_level(graph, weights) / bound
        fifo = fifo_eager(graph, weights) / bound
        print(f"{seed:>4}  {bound:>9.0f}  {ours:>6.3f}  {levels:>6.3f}  {fifo:>6.3f}")
    print(f"ours worst ratio {worst:.3f} (target <= 1.05): {'ok' if worst <= 1.05 else 'MISSED'}")
    secs, ops = time_scheduler(10_000)
    print(f"Scheduler on 10,000 restores: {ops} ops in {secs:.2f} s = {ops / secs:,.0f} ops/s")


if __name__ == "__main__":
    main()
