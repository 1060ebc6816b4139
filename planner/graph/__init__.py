"""The restore DAG: a generic graph of addresses and "finishes before" edges.

Owns ``RestoreGraph``; knows nothing of backups, targets or the cloud. An edge
u -> v means "u must finish before v starts" (u is a dependency of v).

Besides real restores the graph holds *join* nodes, which keep orderings that
relate whole groups linear in size instead of quadratic:

- a wave join ``<wave>["N"]`` sits between the restores of the previous wave and
  those of wave N (3,000 restores in 3 waves: ~6,000 edges, not millions);
- a block join ``<all>["app"]`` stands for "every instance of app has finished"
  when something depends on a whole block of many instances.

Joins are never returned by the public queries (``nodes``, ``dependencies``,
``edges``, ``closure``); algorithms in this package walk ``dag`` and treat a
join as a zero-length step (``is_join``). Building happens in ``build.py``;
longest paths, batches and estimates in ``analysis.py``.
"""

from __future__ import annotations

from collections.abc import Iterable

import networkx as nx

from planner.addresses import Address
from planner.diagnostics import SourceRange

EDGE_DEPENDS_ON = "depends_on"  # written by the user (possibly through a block join)
EDGE_WAVE = "wave"  # implied by wave numbers
EDGE_BLOCK = "block"  # an instance into its block join

_WAVE_JOIN = "<wave>"
_BLOCK_JOIN = "<all>"


def wave_join(wave: int) -> Address:
    return Address(_WAVE_JOIN, str(wave))


def block_join(block: str) -> Address:
    return Address(_BLOCK_JOIN, block)


class RestoreGraph:
    def __init__(self) -> None:
        # Edge attribute "kind" is one of EDGE_*; "range" is the depends_on item
        # that created a depends_on edge (for diagnostics), when known.
        self.dag: nx.DiGraph = nx.DiGraph()
        self._waves: dict[Address, int] = {}

    # -- building (used by build.py) ---------------------------------------

    def add_node(self, addr: Address, wave: int | None = None) -> None:
        self.dag.add_node(addr)
        if wave is not None:
            self._waves[addr] = wave

    def add_edge(
        self, before: Address, after: Address, kind: str, range: SourceRange | None = None
    ) -> None:
        if not self.dag.has_edge(before, after):
            self.dag.add_edge(before, after, kind=kind, range=range)

    # -- queries -------------------------------------------------------------

    @staticmethod
    def is_join(addr: Address) -> bool:
        return addr.block in (_WAVE_JOIN, _BLOCK_JOIN)

    def __contains__(self, addr: object) -> bool:
        return isinstance(addr, Address) and not self.is_join(addr) and addr in self.dag

    def __len__(self) -> int:
        return sum(1 for n in self.dag if not self.is_join(n))

    def nodes(self) -> list[Address]:
        return sorted(n for n in self.dag if not self.is_join(n))

    def wave(self, addr: Address) -> int | None:
        return self._waves.get(addr)

    def waves(self) -> dict[Address, int]:
        return dict(self._waves)

    def dependencies(self, addr: Address) -> list[Address]:
        """Restores addr waits for directly, by depends_on or by wave (all lower waves).

        Costs the size of what it returns: call it per restore only for small graphs.
        """
        return sorted(self._through_joins(addr, backward=True, explicit_only=False))

    def dependents(self, addr: Address) -> list[Address]:
        """Restores that wait directly for addr, by depends_on or by wave (all higher waves)."""
        return sorted(self._through_joins(addr, backward=False, explicit_only=False))

    def explicit_dependencies(self, addr: Address) -> list[Address]:
        """Only what depends_on asked for (a block reference expanded to its instances)."""
        return sorted(self._through_joins(addr, backward=True, explicit_only=True))

    def edges(self) -> list[tuple[Address, Address]]:
        """(dependency, dependent) pairs written by depends_on; wave ordering excluded."""
        out: list[tuple[Address, Address]] = []
        for v in self.nodes():
            out.extend((u, v) for u in self.explicit_dependencies(v))
        return sorted(out)

    def closure(self, addrs: Iterable[Address]) -> set[Address]:
        """addrs plus everything they transitively wait for (``--target``)."""
        seen: set[Address] = set()
        stack = [a for a in addrs if a in self.dag]
        while stack:
            n = stack.pop()
            if n in seen:
                continue
            seen.add(n)
            stack.extend(p for p in self.dag.predecessors(n) if p not in seen)
        return {n for n in seen if not self.is_join(n)}

    def subgraph(self, addrs: Iterable[Address]) -> RestoreGraph:
        """The graph induced by addrs. Joins are kept, so wave ordering survives;
        pass a dependency-closed set (``closure``) to keep every depends_on ordering."""
        keep = {a for a in addrs if a in self}
        keep.update(n for n in self.dag if self.is_join(n))
        out = RestoreGraph()
        for n in keep:
            out.add_node(n, self._waves.get(n))
        for u, v, data in self.dag.edges(data=True):
            if u in keep and v in keep:
                out.add_edge(u, v, data["kind"], data.get("range"))
        return out

    def _through_joins(self, addr: Address, backward: bool, explicit_only: bool) -> set[Address]:
        step = self.dag.predecessors if backward else self.dag.successors
        found: set[Address] = set()
        seen: set[Address] = set()
        stack = [addr]
        while stack:
            n = stack.pop()
            for m in step(n):
                if m in seen:
                    continue
                seen.add(m)
                if not self.is_join(m):
                    found.add(m)
                elif not explicit_only or m.block == _BLOCK_JOIN:
                    stack.append(m)
        return found
