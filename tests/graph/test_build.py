"""Graph rules of DESIGN.md section 3: references, self, waves, conflicts, cycles."""

from __future__ import annotations

from collections.abc import Sequence

from planner.addresses import Address
from planner.config.spec import (
    BackupSelector,
    DependencyRef,
    DiskMapEntry,
    RestoreSpec,
    SelectRef,
    TargetRef,
)
from planner.diagnostics import Diagnostic, Related, SourceRange
from planner.graph.build import GraphNode, build, build_from_specs


def A(text: str) -> Address:
    return Address.parse(text)


def at(line: int, col: int = 3) -> SourceRange:
    return SourceRange("plan.yaml", line, col)


def node(
    text: str,
    deps: Sequence[str] = (),
    wave: int | None = None,
    target: tuple[str, str] | None = None,
    line: int = 1,
    extra: tuple[tuple[str, str], ...] = (),
    unexpanded: bool = False,
) -> GraphNode:
    refs = tuple(DependencyRef(A(d), at(line + 1, 7 + 10 * i)) for i, d in enumerate(deps))
    return GraphNode(A(text), refs, wave, target, at(line), extra, unexpanded)


def summaries(diags: Sequence[Diagnostic]) -> list[tuple[str, str, str]]:
    return [(d.code, str(d.range), d.summary) for d in diags]


def test_block_dependency_means_every_instance() -> None:
    g, diags = build([node('db["a"]'), node('db["b"]'), node("app", ["db"], line=5)])
    assert diags == []
    assert g.dependencies(A("app")) == [A('db["a"]'), A('db["b"]')]
    assert g.edges() == [(A('db["a"]'), A("app")), (A('db["b"]'), A("app"))]
    assert g.dependents(A('db["a"]')) == [A("app")]


def test_instance_dependency_means_that_instance() -> None:
    g, diags = build([node('db["a"]'), node('db["b"]'), node("app", ['db["b"]'], line=5)])
    assert diags == []
    assert g.dependencies(A("app")) == [A('db["b"]')]


def test_unknown_restore_with_suggestion_at_the_item() -> None:
    _g, diags = build([node("db"), node("app", ["web", "dbb"], line=5)])
    assert summaries(diags) == [
        ("RP201", "plan.yaml:6:7", "depends_on names unknown restore web"),
        ("RP201", "plan.yaml:6:17", "depends_on names unknown restore dbb"),
    ]
    assert diags[0].detail == (
        "no restore is named web; depends_on takes a restore name (all its instances) "
        'or one instance, like app["app-01"]'
    )
    assert diags[1].detail == "did you mean db?"


def test_unknown_instance_lists_instances_and_suggests() -> None:
    nodes = [node(f'app["app-0{i}"]') for i in range(1, 4)]
    _g, diags = build([*nodes, node("web", ['app["app-04"]', 'db["x"]'], line=9), node("db")])
    assert summaries(diags) == [
        ("RP202", "plan.yaml:10:7", 'depends_on names unknown instance app["app-04"]'),
        ("RP202", "plan.yaml:10:17", 'depends_on names unknown instance db["x"]'),
    ]
    assert diags[0].detail == (
        'did you mean app["app-03"]? app has 3 instances: '
        'app["app-01"], app["app-02"], app["app-03"]'
    )
    assert diags[1].detail == "db has no for_each instances; depend on db"


def test_self_dependency() -> None:
    _g, diags = build([node("db", ["db"]), node('app["a"]', ['app["a"]'], line=5)])
    assert summaries(diags) == [
        ("RP203", "plan.yaml:2:7", "restore db depends on itself"),
        ("RP203", "plan.yaml:6:7", 'restore app["a"] depends on itself'),
    ]


def test_own_block_reported_once_for_all_instances() -> None:
    nodes = [node(f'app["{k}"]', ["app"], line=5) for k in "abc"]
    g, diags = build(nodes)
    assert summaries(diags) == [("RP203", "plan.yaml:6:7", "restore app depends on its own block")]
    assert g.edges() == []


def test_duplicate_address() -> None:
    _g, diags = build([node("db", line=1), node("db", line=9)])
    assert summaries(diags) == [("RP206", "plan.yaml:9:3", "restore db is defined twice")]
    assert diags[0].related == (Related("db first defined here", at(1)),)


def test_waves_order_after_every_lower_wave() -> None:
    g, diags = build(
        [node("a", wave=1), node("b", wave=1), node("c", wave=2), node("d", wave=5), node("free")]
    )
    assert diags == []
    assert g.dependencies(A("c")) == [A("a"), A("b")]
    assert g.dependencies(A("d")) == [A("a"), A("b"), A("c")]
    assert g.dependencies(A("free")) == [] and g.dependents(A("free")) == []
    assert g.explicit_dependencies(A("d")) == []
    assert g.edges() == []  # wave ordering is not a depends_on edge
    assert g.wave(A("d")) == 5 and g.wave(A("free")) is None


def test_wave_edges_are_linear() -> None:
    nodes = [node(f'r["{i}"]', wave=i % 3) for i in range(3000)]
    g, diags = build(nodes)
    assert diags == []
    assert len(g) == 3000
    assert g.dag.number_of_edges() <= 2 * 3000 + 2
    assert len(g.dependencies(A('r["2"]'))) == 2000


def test_block_dependency_is_linear() -> None:
    nodes = [node(f'db["{i}"]') for i in range(1000)]
    nodes += [node(f'app["{i}"]', ["db"], line=9) for i in range(1000)]
    g, diags = build(nodes)
    assert diags == []
    assert g.dag.number_of_edges() == 2000
    assert len(g.dependencies(A('app["7"]'))) == 1000


def test_conflict_names_both_places() -> None:
    _g, diags = build(
        [
            node("db", target=("server", "s-1"), line=1),
            node("app", target=("server", "s-1"), line=9),
            node("logs", target=("volume", "v-1"), line=20),
            node("srv", target=("server", "s-2"), extra=(("volume", "v-1"),), line=30),
            node("ok", target=("volume", "s-1"), line=40),  # other kind, other id space
        ]
    )
    assert summaries(diags) == [
        ("RP205", "plan.yaml:9:3", "db and app both write server s-1"),
        ("RP205", "plan.yaml:30:3", "logs and srv both write volume v-1"),
    ]
    assert diags[0].related == (Related("db writes server s-1 here", at(1)),)
    assert diags[0].detail == (
        "a restore overwrites its target, so these two would overwrite each other; "
        "keep one of them or point the other at a different server"
    )
    assert diags[1].related == (Related("logs writes volume v-1 here", at(20)),)


def test_one_conflict_per_pair_however_many_targets_they_share() -> None:
    """Two server restores of one server write its volumes too: one problem, not 1 + N."""
    disks = (("volume", "v-1"), ("volume", "v-2"), ("volume", "v-3"))
    _g, diags = build(
        [
            node("b", target=("server", "s-1"), extra=disks, line=1),
            node("c", target=("server", "s-1"), extra=disks, line=9),
        ]
    )
    assert summaries(diags) == [
        ("RP205", "plan.yaml:9:3", "b and c both write server s-1 (and 3 more targets of theirs)")
    ]


def test_cycle_prints_path_at_first_node() -> None:
    _g, diags = build([node("a", ["c"], line=1), node("b", ["a"], line=5), node("c", ["b"], line=9)])
    assert summaries(diags) == [("RP204", "plan.yaml:1:3", "dependency cycle: a -> c -> b -> a")]
    assert diags[0].detail == (
        "a waits for c (depends_on)\n"
        "c waits for b (depends_on)\n"
        "b waits for a (depends_on)\n"
        "remove one of these depends_on entries or change a wave to break the cycle"
    )
    assert diags[0].related == (
        Related("a depends on c here", at(2, 7)),
        Related("c depends on b here", at(10, 7)),
        Related("b depends on a here", at(6, 7)),
    )


def test_each_distinct_cycle_once() -> None:
    # two cycles sharing b, plus a separate one
    _g, diags = build(
        [
            node("a", ["b"], line=1),
            node("b", ["a", "c"], line=5),
            node("c", ["b"], line=9),
            node("x", ["y"], line=20),
            node("y", ["x"], line=30),
        ]
    )
    assert summaries(diags) == [
        ("RP204", "plan.yaml:1:3", "dependency cycle: a -> b -> a"),
        ("RP204", "plan.yaml:5:3", "dependency cycle: b -> c -> b"),
        ("RP204", "plan.yaml:20:3", "dependency cycle: x -> y -> x"),
    ]


def test_cycle_through_a_block_is_shown_once_per_entry() -> None:
    nodes = [node(f'app["{k}"]', ["db"], line=5) for k in "abcd"]
    _g, diags = build([*nodes, node("db", ["app"], line=1)])
    assert summaries(diags) == [("RP204", "plan.yaml:5:3", 'dependency cycle: app["a"] -> db -> app["a"]')]


def test_cycle_against_waves_explains_the_wave() -> None:
    _g, diags = build(
        [node("a", ["c"], wave=1, line=1), node("b", wave=2, line=5), node("c", wave=3, line=9)]
    )
    assert summaries(diags) == [("RP204", "plan.yaml:1:3", "dependency cycle: a -> c -> a")]
    assert diags[0].detail.splitlines()[:2] == [
        "a waits for c (depends_on)",
        "c waits for a (wave 3 runs after wave 1)",
    ]


def test_closure_and_subgraph() -> None:
    g, _ = build(
        [
            node("db"),
            node("app", ["db"]),
            node("web", ["app"]),
            node("other"),
            node("w1", wave=1),
            node("w2", wave=2),
            node("w3", wave=3),
        ]
    )
    assert g.closure([A("web")]) == {A("web"), A("app"), A("db")}
    assert g.closure([A("w3")]) == {A("w1"), A("w2"), A("w3")}
    sub = g.subgraph(g.closure([A("web")]) | {A("w1"), A("w3")})
    assert sub.nodes() == [A("app"), A("db"), A("w1"), A("w3"), A("web")]
    assert sub.dependencies(A("w3")) == [A("w1")]  # wave order kept without wave 2
    assert sub.edges() == [(A("app"), A("web")), (A("db"), A("app"))]
    assert A("other") not in sub and A("db") in sub


def test_build_from_specs() -> None:
    r = at(1)
    specs = [
        RestoreSpec(A("db"), TargetRef("server", id="s-1"), "b-1",
                    disks=(DiskMapEntry("c-1", "v-1"),), ranges={"block": r}),
        RestoreSpec(A("logs"), TargetRef("volume", id="v-1"), "b-2", ranges={"block": at(5)}),
        RestoreSpec(A("byname"), TargetRef("server", name="s-1"), "b-3"),
        RestoreSpec(A("web"), SelectRef("server"), BackupSelector(), wave=2),
        RestoreSpec(A("app"), TargetRef("server", id="s-9"), "b-4",
                    depends_on=(DependencyRef(A('web["web-01"]'), at(12)),)),
    ]
    g, diags = build_from_specs(specs)
    # the disk map volume conflicts; the by-name target is unknown offline
    assert summaries(diags) == [("RP205", "plan.yaml:5:3", "db and logs both write volume v-1")]
    # an instance of a select block is accepted offline and waits for the block
    assert A("web") in g.explicit_dependencies(A("app"))
