"""Build the restore DAG from restores, in small named steps.

Owns the graph rules of DESIGN.md section 3: depends_on references, wave
ordering, target conflicts and cycles (codes RP201-RP206). Steps, in order:
add nodes, explicit edges, wave edges, conflicts, cycles. Every problem is
collected as a Diagnostic; the graph is returned even when there are errors
(it may then be cyclic: callers stop before analysing it).

Wave rule: ``wave: N`` runs after every restore with a lower wave. Restores
without a wave are not ordered by waves at all (only by depends_on), in either
direction. The ordering goes through one join node per wave, so it costs a
number of edges linear in the number of restores.

Not here: target resolution (``select`` instances appear at plan time) and
anything about backups; see ``planner.resolve`` and ``planner.validate``.
"""

from __future__ import annotations

import difflib
import itertools
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import networkx as nx

from planner.addresses import Address
from planner.config.spec import DependencyRef, RestoreSpec, SelectRef, TargetRef
from planner.diagnostics import Diagnostic, Related, SourceRange, error
from planner.graph import (
    EDGE_BLOCK,
    EDGE_DEPENDS_ON,
    EDGE_WAVE,
    RestoreGraph,
    block_join,
    wave_join,
)

__all__ = ["GraphNode", "RestoreGraph", "build", "build_from_specs", "node_from_spec"]

UNKNOWN_RESTORE = "RP201"
UNKNOWN_INSTANCE = "RP202"
SELF_DEPENDENCY = "RP203"
CYCLE = "RP204"
CONFLICT = "RP205"
DUPLICATE = "RP206"

_MAX_CYCLES_PER_GROUP = 10
_MAX_LISTED = 5


@dataclass(frozen=True)
class GraphNode:
    address: Address
    depends_on: tuple[DependencyRef, ...]
    wave: int | None
    target: tuple[str, str] | None  # (kind, id) the restore writes; None when unknown offline
    range: SourceRange | None  # where the restore is defined
    extra_targets: tuple[tuple[str, str], ...] = ()  # volumes a server restore writes (disk map)
    # A ``select`` block before resolution: one node at the block address whose
    # instances are unknown, so an instance reference into it is accepted offline.
    unexpanded: bool = False


def build(nodes: Sequence[GraphNode]) -> tuple[RestoreGraph, list[Diagnostic]]:
    graph = RestoreGraph()
    diags: list[Diagnostic] = []
    index = _add_nodes(graph, nodes, diags)
    _add_explicit_edges(graph, index, diags)
    _add_wave_edges(graph, index)
    _check_conflicts(index, diags)
    _check_cycles(graph, index, diags)
    return graph, _dedupe(diags)


def build_from_specs(specs: Sequence[RestoreSpec]) -> tuple[RestoreGraph, list[Diagnostic]]:
    return build([node_from_spec(s) for s in specs])


def node_from_spec(spec: RestoreSpec) -> GraphNode:
    target: tuple[str, str] | None = None
    if isinstance(spec.target, TargetRef) and spec.target.id is not None:
        target = (spec.target.kind, spec.target.id)
    return GraphNode(
        address=spec.address,
        depends_on=spec.depends_on,
        wave=spec.wave,
        target=target,
        range=spec.range_of("block"),
        extra_targets=tuple(("volume", d.volume) for d in spec.disks or ()),
        unexpanded=isinstance(spec.target, SelectRef),
    )


# -- step 1: nodes ------------------------------------------------------------


@dataclass
class _Index:
    by_addr: dict[Address, GraphNode]
    by_block: dict[str, list[GraphNode]]


def _add_nodes(graph: RestoreGraph, nodes: Sequence[GraphNode], diags: list[Diagnostic]) -> _Index:
    index = _Index({}, defaultdict(list))
    for n in nodes:
        first = index.by_addr.get(n.address)
        if first is not None:
            diags.append(_duplicate(n, first))
            continue
        index.by_addr[n.address] = n
        index.by_block[n.address.block].append(n)
        graph.add_node(n.address, n.wave)
    return index


def _duplicate(n: GraphNode, first: GraphNode) -> Diagnostic:
    related = [Related(f"{first.address} first defined here", first.range)] if first.range else []
    return error(
        DUPLICATE,
        f"restore {n.address} is defined twice",
        "each restore address must be unique; rename one of them or give for_each distinct keys",
        n.range,
        related,
    )


# -- step 2: explicit edges (depends_on) ----------------------------------------


def _add_explicit_edges(graph: RestoreGraph, index: _Index, diags: list[Diagnostic]) -> None:
    for n in index.by_addr.values():
        for ref in n.depends_on:
            diag = _add_dependency(graph, index, n, ref)
            if diag is not None:
                diags.append(diag)


def _add_dependency(
    graph: RestoreGraph, index: _Index, n: GraphNode, ref: DependencyRef
) -> Diagnostic | None:
    target = ref.address
    where = ref.range or n.range
    instances = index.by_block.get(target.block)
    if not instances:
        return _unknown_restore(target, sorted(index.by_block), where)
    if target.key is None:
        if target.block == n.address.block and len(instances) == 1:
            return _self_dependency(n.address, where)
        if target.block == n.address.block:
            return error(
                SELF_DEPENDENCY,
                f"restore {target.block} depends on its own block",
                f"every instance of {target.block} would wait for every other; "
                f"remove {target.block} from its depends_on",
                where,
            )
        _depend_on_block(graph, instances, n.address, ref)
        return None
    if target == n.address or (instances[0].unexpanded and target.block == n.address.block):
        return _self_dependency(n.address, where)
    if target in index.by_addr:
        graph.add_edge(target, n.address, EDGE_DEPENDS_ON, ref.range)
    elif instances[0].unexpanded:
        # select instances exist only after resolution; offline, wait for the block
        graph.add_edge(instances[0].address, n.address, EDGE_DEPENDS_ON, ref.range)
    else:
        return _unknown_instance(target, instances, where)
    return None


def _self_dependency(addr: Address, where: SourceRange | None) -> Diagnostic:
    return error(
        SELF_DEPENDENCY,
        f"restore {addr} depends on itself",
        f"remove {addr} from its own depends_on",
        where,
    )


def _depend_on_block(
    graph: RestoreGraph, instances: list[GraphNode], addr: Address, ref: DependencyRef
) -> None:
    if len(instances) == 1:
        graph.add_edge(instances[0].address, addr, EDGE_DEPENDS_ON, ref.range)
        return
    # one join per block keeps "app depends on db" linear when both have thousands
    join = block_join(ref.address.block)
    if join not in graph.dag:
        graph.add_node(join)
        for inst in instances:
            graph.add_edge(inst.address, join, EDGE_BLOCK)
    graph.add_edge(join, addr, EDGE_DEPENDS_ON, ref.range)


def _unknown_restore(target: Address, known: list[str], where: SourceRange | None) -> Diagnostic:
    match = difflib.get_close_matches(target.block, known, n=1)
    if match:
        detail = f"did you mean {match[0]}?"
    else:
        detail = (
            f"no restore is named {target.block}; depends_on takes a restore name "
            '(all its instances) or one instance, like app["app-01"]'
        )
    return error(UNKNOWN_RESTORE, f"depends_on names unknown restore {target}", detail, where)


def _unknown_instance(
    target: Address, instances: list[GraphNode], where: SourceRange | None
) -> Diagnostic:
    block = target.block
    if instances[0].address.key is None:
        detail = f"{block} has no for_each instances; depend on {block}"
    else:
        names = [str(i.address) for i in sorted(instances, key=lambda i: i.address)]
        match = difflib.get_close_matches(str(target), names, n=1)
        listed = ", ".join(names[:_MAX_LISTED]) + (", ..." if len(names) > _MAX_LISTED else "")
        hint = f"did you mean {match[0]}? " if match else ""
        detail = f"{hint}{block} has {len(names)} instances: {listed}"
    return error(UNKNOWN_INSTANCE, f"depends_on names unknown instance {target}", detail, where)


# -- step 3: wave edges -------------------------------------------------------------


def _add_wave_edges(graph: RestoreGraph, index: _Index) -> None:
    by_wave: dict[int, list[Address]] = defaultdict(list)
    for n in index.by_addr.values():
        if n.wave is not None:
            by_wave[n.wave].append(n.address)
    waves = sorted(by_wave)
    previous: Address | None = None
    for lower, upper in itertools.pairwise(waves):
        join = wave_join(upper)
        graph.add_node(join)
        for a in by_wave[lower]:
            graph.add_edge(a, join, EDGE_WAVE)
        if previous is not None:
            # keeps lower waves ordered even in a subgraph without this wave's restores
            graph.add_edge(previous, join, EDGE_WAVE)
        for a in by_wave[upper]:
            graph.add_edge(join, a, EDGE_WAVE)
        previous = join


# -- step 4: conflicts ---------------------------------------------------------------


def _check_conflicts(index: _Index, diags: list[Diagnostic]) -> None:
    writers: dict[tuple[str, str], list[GraphNode]] = defaultdict(list)
    for n in index.by_addr.values():
        written = set(n.extra_targets)
        if n.target is not None:
            written.add(n.target)
        for t in written:
            writers[t].append(n)
    # one problem per pair of restores, however many targets they share (a server
    # restore writes its volumes too: one per volume would say the same thing again)
    shared: dict[tuple[Address, Address], list[tuple[str, str]]] = defaultdict(list)
    pairs: dict[tuple[Address, Address], tuple[GraphNode, GraphNode]] = {}
    for (kind, ident), nodes in sorted(writers.items()):
        if len(nodes) < 2:
            continue
        nodes.sort(key=_source_order)
        first = nodes[0]
        for other in nodes[1:]:
            key = (first.address, other.address)
            pairs[key] = (first, other)
            shared[key].append((kind, ident))
    for key, (first, other) in pairs.items():
        # the servers first: a server restore's volumes follow from it
        targets = sorted(shared[key], key=lambda t: (t[0] != "server", t))
        kind, ident = targets[0]
        more = len(targets) - 1
        also = f" (and {more} more target{'s' if more > 1 else ''} of theirs)" if more else ""
        related = []
        if first.range is not None:
            related.append(Related(f"{first.address} writes {kind} {ident} here", first.range))
        diags.append(
            error(
                CONFLICT,
                f"{first.address} and {other.address} both write {kind} {ident}{also}",
                f"a restore overwrites its target, so these two would overwrite each "
                f"other; keep one of them or point the other at a different {kind}",
                other.range,
                related,
            )
        )


def _source_order(n: GraphNode) -> tuple[bool, SourceRange, Address]:
    return (n.range is None, n.range or SourceRange("", 0, 0), n.address)


# -- step 5: cycles ------------------------------------------------------------------


def _check_cycles(graph: RestoreGraph, index: _Index, diags: list[Diagnostic]) -> None:
    """One diagnostic per distinct cycle; every depends_on entry on a cycle shows in one.

    Wave edges alone cannot form a cycle, so each cycle has a depends_on edge;
    for each such edge not yet shown, the shortest way back closes a cycle.
    """
    dag = graph.dag
    groups = [c for c in nx.strongly_connected_components(dag) if len(c) > 1]
    for group in sorted(groups, key=lambda c: min(a for a in c if not graph.is_join(a))):
        sub = dag.subgraph(group)
        covered: set[object] = set()
        shown: set[tuple[Address, ...]] = set()
        for u, v, kind in sorted(sub.edges(data="kind")):
            if kind != EDGE_DEPENDS_ON or _entry(sub, u, v) in covered:
                continue
            ring = nx.shortest_path(sub, v, u)  # v ... u, closed by u -> v
            covered.update(
                _entry(sub, a, b) for a, b in zip(ring, [*ring[1:], ring[0]], strict=True)
            )
            hops = _hops(graph, ring)
            key = tuple(a for a, _b, _r in hops)
            if key in shown:
                continue
            shown.add(key)
            diags.append(_cycle_diag(hops, index))
            if len(shown) >= _MAX_CYCLES_PER_GROUP:
                break


def _entry(dag: nx.DiGraph, u: Address, v: Address) -> object:
    """What wrote an edge: its depends_on item when known. The instances of a
    block share their items, so one cycle per item is shown, not one per instance."""
    where = dag.edges[u, v].get("range")
    return where if where is not None else (u, v)


_Hop = tuple[Address, Address, tuple[str, SourceRange | None]]


def _hops(graph: RestoreGraph, ring: list[Address]) -> list[_Hop]:
    """The cycle as (waiter, waited-for, why) between real restores, joins folded in,
    starting at the smallest address."""
    n = len(ring)
    start = min(i for i, a in enumerate(ring) if not graph.is_join(a))
    ring = ring[start:] + ring[:start]
    hops: list[_Hop] = []
    i = 0
    while i < n:
        j = i + 1
        while graph.is_join(ring[j % n]):
            j += 1
        segment = [(ring[k % n], ring[(k + 1) % n]) for k in range(i, j)]
        hops.append((ring[j % n], ring[i], _why(graph, segment)))
        i = j
    # ring runs in "finishes before" order; people read depends_on the other way
    hops.reverse()
    first = min(range(len(hops)), key=lambda k: hops[k][0])
    return hops[first:] + hops[:first]


def _why(
    graph: RestoreGraph, segment: list[tuple[Address, Address]]
) -> tuple[str, SourceRange | None]:
    for u, v in segment:
        if graph.dag.edges[u, v]["kind"] == EDGE_WAVE:
            before, after = graph.wave(segment[0][0]), graph.wave(segment[-1][1])
            return (f"wave {after} runs after wave {before}", None)
    return ("depends_on", graph.dag.edges[segment[-1]].get("range"))


def _cycle_diag(hops: list[_Hop], index: _Index) -> Diagnostic:
    path = " -> ".join(str(a) for a, _b, _r in hops) + f" -> {hops[0][0]}"
    lines = [f"{a} waits for {b} ({why})" for a, b, (why, _r) in hops]
    lines.append("remove one of these depends_on entries or change a wave to break the cycle")
    related = [Related(f"{a} depends on {b} here", r) for a, b, (_w, r) in hops if r is not None]
    return error(
        CYCLE,
        f"dependency cycle: {path}",
        "\n".join(lines),
        index.by_addr[hops[0][0]].range,
        related,
    )


def _dedupe(diags: list[Diagnostic]) -> list[Diagnostic]:
    """A block's instances share their depends_on ranges: say each problem once."""
    seen: set[tuple[str, str, SourceRange | None]] = set()
    out: list[Diagnostic] = []
    for d in diags:
        key = (d.code, d.summary, d.range)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out
