"""dot and Mermaid output: golden text, quoting, wave clusters."""

from __future__ import annotations

from planner.addresses import Address
from planner.config.spec import DependencyRef
from planner.graph import RestoreGraph
from planner.graph.build import GraphNode, build
from planner.graph.export import to_dot, to_mermaid

P = Address.parse


def sample() -> RestoreGraph:
    nodes = [
        GraphNode(P('app["app-01"]'), (DependencyRef(P("db")),), 2, None, None),
        GraphNode(P('app["app 01"]'), (DependencyRef(P("db")),), 2, None, None),
        GraphNode(P("end"), (DependencyRef(P("app")),), None, None, None),
        GraphNode(P("db"), (), -1, None, None),
    ]
    g, diags = build(nodes)
    assert diags == []
    return g


def test_dot_golden() -> None:
    assert to_dot(sample(), {P("db"): 'db\n"main"'}) == (
        "digraph restores {\n"
        "  rankdir=LR;\n"
        "  node [shape=box];\n"
        "  subgraph cluster_wave_m1 {\n"
        '    label="wave -1";\n'
        '    "db" [label="db\\n\\"main\\""];\n'
        "  }\n"
        "  subgraph cluster_wave_2 {\n"
        '    label="wave 2";\n'
        '    "app[\\"app 01\\"]";\n'
        '    "app[\\"app-01\\"]";\n'
        "  }\n"
        '  "end";\n'
        '  "app[\\"app 01\\"]" -> "end";\n'
        '  "app[\\"app-01\\"]" -> "end";\n'
        '  "db" -> "app[\\"app 01\\"]";\n'
        '  "db" -> "app[\\"app-01\\"]";\n'
        "}\n"
    )


def test_mermaid_golden() -> None:
    assert to_mermaid(sample(), {P("db"): 'db #1 "main" <x>'}) == (
        "flowchart LR\n"
        '  subgraph wave_m1["wave -1"]\n'
        '    r_db["db #35;1 #quot;main#quot; #lt;x#gt;"]\n'
        "  end\n"
        '  subgraph wave_2["wave 2"]\n'
        '    r_app_app_01["app[#quot;app 01#quot;]"]\n'
        '    r_app_app_01_2["app[#quot;app-01#quot;]"]\n'
        "  end\n"
        '  r_end["end"]\n'
        "  r_app_app_01 --> r_end\n"
        "  r_app_app_01_2 --> r_end\n"
        "  r_db --> r_app_app_01\n"
        "  r_db --> r_app_app_01_2\n"
    )


def test_deterministic_whatever_the_input_order() -> None:
    g1 = sample()
    nodes = [
        GraphNode(P("db"), (), -1, None, None),
        GraphNode(P("end"), (DependencyRef(P("app")),), None, None, None),
        GraphNode(P('app["app 01"]'), (DependencyRef(P("db")),), 2, None, None),
        GraphNode(P('app["app-01"]'), (DependencyRef(P("db")),), 2, None, None),
    ]
    g2, _ = build(nodes)
    assert to_dot(g1) == to_dot(g2)
    assert to_mermaid(g1) == to_mermaid(g2)


def test_without_waves_there_are_no_clusters() -> None:
    g, _ = build([GraphNode(P("a"), (), None, None, None)])
    assert to_dot(g) == 'digraph restores {\n  rankdir=LR;\n  node [shape=box];\n  "a";\n}\n'
    assert to_mermaid(g) == 'flowchart LR\n  r_a["a"]\n'
