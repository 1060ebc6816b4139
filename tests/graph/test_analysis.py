"""Batches, critical path, remaining path and the makespan estimate."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

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


def A(text: str) -> Address:
    return Address.parse(text)


def graph(deps: dict[str, list[str]], waves: dict[str, int] | None = None) -> RestoreGraph:
    nodes = [
        GraphNode(A(n), tuple(DependencyRef(A(d)) for d in ds), (waves or {}).get(n), None, None)
        for n, ds in deps.items()
    ]
    g, diags = build(nodes)
    assert diags == []
    return g


def W(**kw: float) -> dict[Address, float]:
    return {A(k): v for k, v in kw.items()}


def test_batches_are_levels_without_joins() -> None:
    g = graph({"a": [], "b": [], "c": ["a"], "d": [], "e": []}, waves={"d": 1, "e": 2})
    assert batches(g) == [[A("a"), A("b"), A("d")], [A("c")], [A("e")]]


def test_critical_and_remaining_path() -> None:
    g = graph({"db": [], "app": ["db"], "web": ["app"], "big": [], "tail": ["big"]})
    w = W(db=10, app=20, web=5, big=30, tail=1)
    assert critical_path(g, w) == (35.0, [A("db"), A("app"), A("web")])
    assert remaining_path(g, w) == W(db=35, app=25, web=5, big=31, tail=1)


def test_critical_path_crosses_waves() -> None:
    g = graph({"a": [], "b": [], "c": []}, waves={"a": 1, "b": 1, "c": 2})
    assert critical_path(g, W(a=5, b=7, c=1)) == (8.0, [A("b"), A("c")])
    assert critical_path(RestoreGraph(), {}) == (0.0, [])


def test_makespan_uses_critical_path_first() -> None:
    # with 2 slots, starting the long chain first gives 13 (the bound is 12.5);
    # by name only (no priority) the chain starts late: 18
    g = graph({"a": [], "b": [], "c": [], "long": [], "tail": ["long"]})
    w = W(a=6, b=6, c=1, long=6, tail=6)
    assert estimate_makespan(g, w, parallelism=2) == 13.0
    assert simulate(Scheduler(g, {}, {}, 2), g, w) == 18.0
    assert estimate_makespan(g, w, parallelism=10) == 12.0  # the critical path
    assert estimate_makespan(g, w, parallelism=1) == 25.0


def test_makespan_respects_exclusivity() -> None:
    g = graph({"a": [], "b": []})
    w = W(a=5, b=5)
    assert estimate_makespan(g, w, 2) == 5.0
    assert estimate_makespan(g, w, 2, {A("a"): ["t"], A("b"): ["t"]}) == 10.0


@settings()
@given(st.data())
def test_makespan_is_at_least_the_lower_bound(data: st.DataObject) -> None:
    n = data.draw(st.integers(1, 30))
    deps = {
        f"n{i}": sorted({f"n{j}" for j in data.draw(st.lists(st.integers(0, i), max_size=3)) if j < i})
        for i in range(n)
    }
    w = {A(k): float(data.draw(st.integers(1, 100))) for k in deps}
    p = data.draw(st.integers(1, 5))
    g = graph(deps)
    span = estimate_makespan(g, w, p)
    crit, path = critical_path(g, w)
    assert span >= max(crit, sum(w.values()) / p) - 1e-9
    assert span <= sum(w.values()) + 1e-9
    assert sum(w[a] for a in path) == crit
