"""Text forms of the restore DAG: Graphviz dot and Mermaid flowcharts.

Owns quoting for both languages and a deterministic layout (sorted nodes and
edges) so output diffs cleanly in review. Edges point from a dependency to its
dependent ("finishes before"); restores with a wave are grouped in one cluster
per wave. Wave ordering itself is not drawn as edges: the clusters show it
without an edge from every restore of one wave to every restore of the next.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping

from planner.addresses import Address
from planner.graph import RestoreGraph


def to_dot(graph: RestoreGraph, labels: Mapping[Address, str] | None = None) -> str:
    lines = ["digraph restores {", "  rankdir=LR;", "  node [shape=box];"]

    def node(addr: Address, indent: str) -> str:
        label = (labels or {}).get(addr)
        attrs = f" [label={_dot_quote(label)}]" if label is not None else ""
        return f"{indent}{_dot_quote(str(addr))}{attrs};"

    by_wave, loose = _group(graph)
    for wave, members in sorted(by_wave.items()):
        lines.append(f"  subgraph cluster_wave_{_wave_id(wave)} {{")
        lines.append(f"    label={_dot_quote(f'wave {wave}')};")
        lines.extend(node(a, "    ") for a in members)
        lines.append("  }")
    lines.extend(node(a, "  ") for a in loose)
    lines.extend(f"  {_dot_quote(str(u))} -> {_dot_quote(str(v))};" for u, v in graph.edges())
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_mermaid(graph: RestoreGraph, labels: Mapping[Address, str] | None = None) -> str:
    ids = _mermaid_ids(graph.nodes())
    lines = ["flowchart LR"]

    def node(addr: Address, indent: str) -> str:
        label = (labels or {}).get(addr, str(addr))
        return f'{indent}{ids[addr]}["{_mermaid_escape(label)}"]'

    by_wave, loose = _group(graph)
    for wave, members in sorted(by_wave.items()):
        lines.append(f'  subgraph wave_{_wave_id(wave)}["wave {wave}"]')
        lines.extend(node(a, "    ") for a in members)
        lines.append("  end")
    lines.extend(node(a, "  ") for a in loose)
    lines.extend(f"  {ids[u]} --> {ids[v]}" for u, v in graph.edges())
    return "\n".join(lines) + "\n"


def _group(graph: RestoreGraph) -> tuple[dict[int, list[Address]], list[Address]]:
    by_wave: dict[int, list[Address]] = defaultdict(list)
    loose: list[Address] = []
    for addr in graph.nodes():
        wave = graph.wave(addr)
        if wave is None:
            loose.append(addr)
        else:
            by_wave[wave].append(addr)
    return by_wave, loose


def _wave_id(wave: int) -> str:
    return str(wave) if wave >= 0 else f"m{-wave}"


def _dot_quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def _mermaid_escape(text: str) -> str:
    # Mermaid has no backslash escapes inside quoted labels, only entity codes;
    # '#' goes first so the codes we add are not themselves escaped.
    return (
        text.replace("#", "#35;")
        .replace('"', "#quot;")
        .replace("<", "#lt;")
        .replace(">", "#gt;")
        .replace("\n", " ")
    )


def _mermaid_ids(addrs: list[Address]) -> dict[Address, str]:
    """Node ids must be plain words (and not keywords such as ``end``): a prefix
    plus the address with every other character folded to ``_``, numbered on a clash."""
    ids: dict[Address, str] = {}
    used: set[str] = set()
    for addr in addrs:
        base = "r_" + re.sub(r"[^A-Za-z0-9]+", "_", str(addr)).strip("_")
        candidate, n = base, 1
        while candidate in used:
            n += 1
            candidate = f"{base}_{n}"
        used.add(candidate)
        ids[addr] = candidate
    return ids
