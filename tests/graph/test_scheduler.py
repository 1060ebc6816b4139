"""The apply decision core: eager, priority, parallelism, exclusivity, failure, cancel."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.addresses import Address
from planner.config.spec import DependencyRef
from planner.graph import RestoreGraph
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


def names(addrs: list[Address]) -> list[str]:
    return [str(a) for a in addrs]


def test_eager_start_when_own_dependencies_succeed() -> None:
    # level 1: a (long), b (short); c waits only for b; d waits for a
    g = graph({"a": [], "b": [], "c": ["b"], "d": ["a"]})
    s = Scheduler(g, {A("a"): 10, A("b"): 1, A("c"): 1, A("d"): 1}, {}, parallelism=4)
    assert names(s.ready()) == ["a", "b"]
    s.started(A("a"))
    s.started(A("b"))
    assert s.ready() == []
    s.succeeded(A("b"))
    assert names(s.ready()) == ["c"]  # a is still running: no level barrier
    assert s.outcome(A("d")) == "pending"


def test_priority_then_address() -> None:
    g = graph({"a": [], "b": [], "c": [], "d": []})
    s = Scheduler(g, {A("a"): 1, A("b"): 5, A("c"): 5, A("d"): 3}, {}, parallelism=10)
    assert names(s.ready()) == ["b", "c", "d", "a"]
    assert names(s.ready(limit=2)) == ["b", "c"]


def test_parallelism_limit() -> None:
    g = graph({n: [] for n in "abcde"})
    s = Scheduler(g, {}, {}, parallelism=2)
    first = s.ready()
    assert names(first) == ["a", "b"]
    assert names(s.ready()) == ["a", "b"]  # ready is read-only until started
    for a in first:
        s.started(a)
    assert s.ready() == []
    with pytest.raises(ValueError, match="2 restores already in flight"):
        s.started(A("c"))
    s.succeeded(A("a"))
    assert names(s.ready()) == ["c"]
    assert s.in_flight == [A("b")]
    assert s.pending == 3


def test_exclusivity_keys() -> None:
    g = graph({n: [] for n in "abcd"})
    keys = {A("a"): ["backup-1"], A("b"): ["backup-1"], A("c"): ["server-9"], A("d"): ["server-9", "x"]}
    s = Scheduler(g, {A("a"): 4, A("b"): 3, A("c"): 2, A("d"): 1}, keys, parallelism=10)
    assert names(s.ready()) == ["a", "c"]  # b and d share a key with a better choice
    s.started(A("a"))
    assert names(s.ready()) == ["c"]
    with pytest.raises(ValueError, match="a holds backup-1"):
        s.started(A("b"))
    s.started(A("c"))
    assert s.ready() == []
    s.succeeded(A("a"))
    assert names(s.ready()) == ["b"]
    s.failed(A("c"))  # a failure releases its keys too
    assert names(s.ready()) == ["b", "d"]


def test_failure_skips_dependents_transitively_but_not_other_branches() -> None:
    g = graph({"db": [], "app": ["db"], "web": ["app"], "cache": [], "api": ["cache"], "both": ["app", "api"]})
    s = Scheduler(g, {}, {}, parallelism=10)
    for a in s.ready():
        s.started(a)
    assert names(s.failed(A("db"))) == ["app", "both", "web"]
    assert s.outcome(A("web")) == "skipped" and s.outcome(A("db")) == "failed"
    assert names(s.ready()) == []
    s.succeeded(A("cache"))
    assert names(s.ready()) == ["api"]
    s.started(A("api"))
    s.succeeded(A("api"))
    assert s.done and s.pending == 0


def test_failure_in_a_wave_skips_later_waves() -> None:
    g = graph({"a": [], "b": [], "c": [], "free": []}, waves={"a": 1, "b": 1, "c": 2})
    s = Scheduler(g, {}, {}, parallelism=10)
    assert names(s.ready()) == ["a", "b", "free"]
    for a in s.ready():
        s.started(a)
    s.succeeded(A("a"))
    assert names(s.failed(A("b"))) == ["c"]
    s.succeeded(A("free"))
    assert s.done


def test_waves_gate_until_lower_wave_done() -> None:
    g = graph({"a": [], "b": [], "c": []}, waves={"a": 1, "b": 1, "c": 2})
    s = Scheduler(g, {}, {}, parallelism=10)
    for a in s.ready():
        s.started(a)
    s.succeeded(A("a"))
    assert s.ready() == []
    s.succeeded(A("b"))
    assert names(s.ready()) == ["c"]


def test_cancel_pending_starts_nothing_new() -> None:
    g = graph({"a": [], "b": [], "c": ["a"]})
    s = Scheduler(g, {}, {}, parallelism=1)
    s.started(A("a"))
    s.cancel_pending()
    assert not s.done  # a is still in flight and is tracked to the end
    assert s.ready() == []
    s.succeeded(A("a"))
    assert s.ready() == [] and s.done
    assert s.outcome(A("b")) == "pending" and s.outcome(A("c")) == "pending"


def test_mark_succeeded_unblocks_dependents() -> None:
    g = graph({"db": [], "app": ["db"], "web": ["app"]})
    s = Scheduler(g, {}, {}, parallelism=5)
    s.mark_succeeded([A("db"), A("db")])
    assert names(s.ready()) == ["app"]
    assert s.pending == 2
    s.started(A("app"))
    with pytest.raises(ValueError, match="cannot mark app succeeded: it is running"):
        s.mark_succeeded([A("app")])


def test_misuse_is_refused() -> None:
    g = graph({"a": [], "b": ["a"]})
    s = Scheduler(g, {}, {}, parallelism=5)
    with pytest.raises(ValueError, match="its dependencies have not all succeeded"):
        s.started(A("b"))
    with pytest.raises(ValueError, match="a is pending, expected running"):
        s.succeeded(A("a"))
    with pytest.raises(KeyError):
        s.outcome(A("zzz"))
    with pytest.raises(ValueError, match="parallelism must be at least 1"):
        Scheduler(g, {}, {}, parallelism=0)


@st.composite
def dags(draw: st.DrawFn) -> tuple[dict[str, list[str]], dict[str, int], dict[str, list[str]]]:
    n = draw(st.integers(1, 25))
    deps = {f"n{i}": sorted({f"n{j}" for j in draw(st.lists(st.integers(0, max(i - 1, 0)), max_size=3)) if j < i}) for i in range(n)}
    # waves never decrease along dependencies (index order), or the plan would be cyclic
    levels = sorted(draw(st.lists(st.integers(1, 3), min_size=n, max_size=n)))
    waves = {f"n{i}": levels[i] for i in range(n) if draw(st.booleans())}
    keys = {k: [f"k{v}"] for k, v in draw(st.dictionaries(st.sampled_from(sorted(deps)), st.integers(0, 4))).items()}
    return deps, waves, keys


@settings()
@given(dags(), st.integers(1, 4), st.randoms(use_true_random=False))
def test_never_starts_before_dependencies_and_finishes(case, parallelism, rnd) -> None:  # type: ignore[no-untyped-def]
    deps, waves, keys = case
    g = graph(deps, waves)
    s = Scheduler(g, {A(k): rnd.random() for k in deps}, {A(k): v for k, v in keys.items()}, parallelism)
    succeeded: set[Address] = set()
    running: list[Address] = []
    while not s.done:
        for a in s.ready(limit=rnd.choice([None, 1, 2])):
            assert set(g.dependencies(a)) <= succeeded
            held = {k for r in running for k in keys.get(str(r), [])}
            assert not held.intersection(keys.get(str(a), []))
            s.started(a)
            running.append(a)
        assert 0 < len(running) <= parallelism
        done = running.pop(rnd.randrange(len(running)))
        s.succeeded(done)
        succeeded.add(done)
    assert succeeded == set(g.nodes())
    assert all(s.outcome(a) == "succeeded" for a in g.nodes())
