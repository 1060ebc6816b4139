"""Pure measures of an acyclic RestoreGraph under a duration model.

Owns batches (levels), the critical path, each restore's remaining path (the
scheduler's priority) and the makespan estimate. ``weights`` maps each restore
to its estimated seconds; join nodes weigh nothing and never appear in results.
The estimate runs the real ``Scheduler`` on a virtual timeline, so plan and
apply share one policy.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence

import networkx as nx

from planner.addresses import Address
from planner.graph import RestoreGraph
from planner.graph.scheduler import Scheduler


def batches(graph: RestoreGraph) -> list[list[Address]]:
    """Topological generations (level by level), sorted within a level."""
    out = []
    for generation in nx.topological_generations(graph.dag):
        level = sorted(a for a in generation if not graph.is_join(a))
        if level:
            out.append(level)
    return out


def critical_path(
    graph: RestoreGraph, weights: Mapping[Address, float]
) -> tuple[float, list[Address]]:
    """The longest chain of restores by total weight, and its length."""
    finish: dict[Address, float] = {}
    via: dict[Address, Address | None] = {}
    for n in nx.lexicographical_topological_sort(graph.dag):
        best: Address | None = None
        for p in graph.dag.predecessors(n):
            if best is None or (finish[p], best) > (finish[best], p):
                best = p
        finish[n] = (finish[best] if best is not None else 0.0) + _weight(graph, weights, n)
        via[n] = best
    if not finish:
        return 0.0, []
    end = min(finish, key=lambda n: (-finish[n], n))
    path: list[Address] = []
    cursor: Address | None = end
    while cursor is not None:
        if not graph.is_join(cursor):
            path.append(cursor)
        cursor = via[cursor]
    return finish[end], path[::-1]


def remaining_path(graph: RestoreGraph, weights: Mapping[Address, float]) -> dict[Address, float]:
    """Longest path from each restore to any sink, its own weight included."""
    rest: dict[Address, float] = {}
    for n in reversed(list(nx.topological_sort(graph.dag))):
        tail = max((rest[s] for s in graph.dag.successors(n)), default=0.0)
        rest[n] = tail + _weight(graph, weights, n)
    return {n: v for n, v in rest.items() if not graph.is_join(n)}


def estimate_makespan(
    graph: RestoreGraph,
    weights: Mapping[Address, float],
    parallelism: int,
    exclusive: Mapping[Address, Sequence[str]] | None = None,
) -> float:
    """Seconds to run everything with the apply policy (eager, critical path first)."""
    sched = Scheduler(graph, remaining_path(graph, weights), exclusive or {}, parallelism)
    return simulate(sched, graph, weights)


def simulate(sched: Scheduler, graph: RestoreGraph, weights: Mapping[Address, float]) -> float:
    """Drive sched on a virtual clock where each restore takes its weight."""
    now = 0.0
    events: list[tuple[float, Address]] = []
    while not sched.done:
        for addr in sched.ready():
            sched.started(addr)
            heapq.heappush(events, (now + _weight(graph, weights, addr), addr))
        if not events:
            raise ValueError("the graph cannot finish: is it cyclic?")
        now, addr = heapq.heappop(events)
        sched.succeeded(addr)
        while events and events[0][0] == now:  # finish together, then decide
            sched.succeeded(heapq.heappop(events)[1])
    return now


def _weight(graph: RestoreGraph, weights: Mapping[Address, float], n: Address) -> float:
    return 0.0 if graph.is_join(n) else float(weights[n])
