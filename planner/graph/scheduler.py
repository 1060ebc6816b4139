"""The pure decision core of apply: which restores may start now.

Owns the walk state of one apply over a ``RestoreGraph``; no clock, no I/O, no
threads. The executor drives it::

    sched = Scheduler(graph, remaining_path(graph, weights), keys, parallelism)
    sched.mark_succeeded(already_done)
    while not sched.done:
        for addr in sched.ready():
            sched.started(addr)        # after the restore POST was sent
            ...
        # on completion:  sched.succeeded(addr)  or  skipped = sched.failed(addr)
        # on Ctrl-C:      sched.cancel_pending()   (then track in-flight to the end)

Policy (DESIGN.md section 7): eager (a restore is ready when its own
dependencies succeeded, never waiting for a level), highest priority first
(the longest remaining critical path), ties by address; at most
``parallelism`` in flight; never two in flight sharing an exclusivity key
(backup id, target id). A failure skips every pending restore that waits for
it, transitively through pending restores; independent branches go on.

Cost: O(log n) per operation with distinct keys. A restore blocked by a key
is parked under that key and comes back when the key is released, so restores
sharing one key cost in proportion to how many wait on it.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Literal

from planner.addresses import Address
from planner.graph import RestoreGraph

Outcome = Literal["pending", "running", "succeeded", "failed", "skipped"]
_Entry = tuple[float, Address]


class Scheduler:
    def __init__(
        self,
        graph: RestoreGraph,
        priority: Mapping[Address, float],
        exclusive: Mapping[Address, Sequence[str]],
        parallelism: int,
    ) -> None:
        if parallelism < 1:
            raise ValueError(f"parallelism must be at least 1, got {parallelism}")
        self._dag = graph.dag
        self._is_join = graph.is_join
        self._priority = priority
        self._keys = {a: tuple(dict.fromkeys(ks)) for a, ks in exclusive.items()}
        self._parallelism = parallelism
        self._state: dict[Address, Outcome] = dict.fromkeys(self._dag, "pending")
        self._waiting: dict[Address, int] = dict(self._dag.in_degree())
        self._heap: list[_Entry] = []
        self._parked: dict[str, list[_Entry]] = defaultdict(list)
        self._held: dict[str, Address] = {}
        self._running: set[Address] = set()
        self._slot_free: set[Address] = set()  # running, but no longer counted against parallelism
        self._pending = sum(1 for n in self._dag if not self._is_join(n))
        self._cancelled = False
        self._release([n for n, w in self._waiting.items() if w == 0])

    # -- queries ---------------------------------------------------------------

    @property
    def in_flight(self) -> list[Address]:
        return sorted(self._running)

    @property
    def pending(self) -> int:
        """Restores not started, not skipped and not already succeeded."""
        return self._pending

    @property
    def done(self) -> bool:
        """Nothing in flight and nothing left that may still start."""
        return not self._running and (self._cancelled or self._pending == 0)

    def outcome(self, addr: Address) -> Outcome:
        if self._is_join(addr) or addr not in self._state:
            raise KeyError(f"{addr} is not in the graph")
        return self._state[addr]

    def priority(self, addr: Address) -> float:
        """The order ``ready`` offers restores in: higher first."""
        return self._priority.get(addr, 0.0)

    def ready(self, limit: int | None = None) -> list[Address]:
        """What may start now, best first. Read-only: call ``started`` for each one
        actually started; the rest stay ready for the next call."""
        slots = self._parallelism - len(self._running) + len(self._slot_free)
        if limit is not None:
            slots = min(slots, limit)
        if self._cancelled or slots <= 0:
            return []
        chosen: list[_Entry] = []
        aside: list[_Entry] = []
        claimed: set[str] = set()
        while self._heap and len(chosen) < slots:
            entry = heapq.heappop(self._heap)
            addr = entry[1]
            if self._state[addr] != "pending":
                continue  # started or marked succeeded since it was queued
            keys = self._keys.get(addr, ())
            held = next((k for k in keys if k in self._held), None)
            if held is not None:
                self._parked[held].append(entry)
            elif claimed.intersection(keys):
                aside.append(entry)  # conflicts with a better one chosen in this call
            else:
                chosen.append(entry)
                claimed.update(keys)
        for entry in chosen + aside:
            heapq.heappush(self._heap, entry)
        return [a for _p, a in chosen]

    # -- transitions --------------------------------------------------------------

    def started(self, addr: Address) -> None:
        self._expect(addr, "pending")
        if self._cancelled:
            raise ValueError(f"cannot start {addr}: pending restores were cancelled")
        if self._waiting[addr] != 0:
            raise ValueError(f"cannot start {addr}: its dependencies have not all succeeded")
        if len(self._running) - len(self._slot_free) >= self._parallelism:
            raise ValueError(f"cannot start {addr}: {self._parallelism} restores already in flight")
        keys = self._keys.get(addr, ())
        for k in keys:
            if k in self._held:
                raise ValueError(f"cannot start {addr}: {self._held[k]} holds {k}")
        for k in keys:
            self._held[k] = addr
        self._state[addr] = "running"
        self._running.add(addr)
        self._pending -= 1

    def adopt(self, addr: Address) -> None:
        """A restore an earlier apply started, found running in the cloud: it is in
        flight whatever its dependencies, the parallelism or its keys say (it must be
        watched to its end, never sent again)."""
        self._expect(addr, "pending")
        for k in self._keys.get(addr, ()):
            self._held.setdefault(k, addr)
        self._state[addr] = "running"
        self._running.add(addr)
        self._pending -= 1

    def release_slot(self, addr: Address) -> None:
        """The cloud's work for addr is done (only a check is left): its slot goes to the
        next restore; its dependents still wait for ``succeeded``."""
        self._expect(addr, "running")
        self._slot_free.add(addr)

    def withdraw(self, addr: Address) -> None:
        """A started restore the cloud never accepted (Ctrl-C before it was sent
        again): pending once more, for a later apply."""
        self._expect(addr, "running")
        self._running.discard(addr)
        self._slot_free.discard(addr)
        for k in self._keys.get(addr, ()):
            if self._held.get(k) == addr:
                del self._held[k]
                for entry in self._parked.pop(k, ()):
                    heapq.heappush(self._heap, entry)
        self._state[addr] = "pending"
        self._pending += 1
        if self._waiting[addr] == 0:
            heapq.heappush(self._heap, (-self._priority.get(addr, 0.0), addr))

    def succeeded(self, addr: Address) -> None:
        self._expect(addr, "running")
        self._finish(addr, "succeeded")
        self._release(self._satisfy(addr))

    def failed(self, addr: Address) -> list[Address]:
        """Mark addr failed; returns the restores newly skipped because of it."""
        self._expect(addr, "running")
        self._finish(addr, "failed")
        return self._skip_dependents(addr)

    def mark_succeeded(self, addrs: Iterable[Address]) -> None:
        """Restores already done before this apply (unchanged in state)."""
        for addr in addrs:
            state = self.outcome(addr)
            if state == "succeeded":
                continue
            if state != "pending":
                raise ValueError(f"cannot mark {addr} succeeded: it is {state}")
            self._state[addr] = "succeeded"
            self._pending -= 1
            self._release(self._satisfy(addr))

    def cancel_pending(self) -> None:
        """Ctrl-C: start nothing new; restores in flight are still tracked."""
        self._cancelled = True

    # -- internals ----------------------------------------------------------------

    def _expect(self, addr: Address, state: Outcome) -> None:
        actual = self.outcome(addr)
        if actual != state:
            raise ValueError(f"{addr} is {actual}, expected {state}")

    def _finish(self, addr: Address, outcome: Outcome) -> None:
        self._state[addr] = outcome
        self._running.discard(addr)
        self._slot_free.discard(addr)
        for k in self._keys.get(addr, ()):
            if self._held.get(k) != addr:
                continue  # an adopted restore sharing a key with another one
            del self._held[k]
            for entry in self._parked.pop(k, ()):
                heapq.heappush(self._heap, entry)

    def _satisfy(self, addr: Address) -> list[Address]:
        """Count addr as done for its dependents; returns those now free to go."""
        freed = []
        for s in self._dag.successors(addr):
            self._waiting[s] -= 1
            if self._waiting[s] == 0 and self._state[s] == "pending":
                freed.append(s)
        return freed

    def _release(self, addrs: list[Address]) -> None:
        stack = list(addrs)
        while stack:
            n = stack.pop()
            if self._is_join(n):
                self._state[n] = "succeeded"  # a join is an ordering point: no work
                stack.extend(self._satisfy(n))
            else:
                heapq.heappush(self._heap, (-self._priority.get(n, 0.0), n))

    def _skip_dependents(self, addr: Address) -> list[Address]:
        skipped: list[Address] = []
        stack = [addr]
        while stack:
            for s in self._dag.successors(stack.pop()):
                if self._state[s] != "pending":
                    continue  # already skipped, or already done before this apply
                self._state[s] = "skipped"
                stack.append(s)
                if not self._is_join(s):
                    skipped.append(s)
                    self._pending -= 1
        return sorted(skipped)
