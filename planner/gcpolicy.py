"""Garbage collection tuned for apply, one long command.

CPython's cyclic collector runs a young collection every 700 net allocations of
container objects, and every few of those an older one that walks the whole heap,
the plan and state of thousands of restores included. Apply allocates a few
short-lived containers per event, request and listing row, so the collector ran
hundreds of times per 1,000 restores and took about 4 % of the apply's CPU
(``bench/apply_makespan.py``; it walks the simulator's objects too in the bench).

``lean_gc`` freezes what exists when the command starts (it lives as long as
the command: the loaded plan, state and configuration) so that no collection
walks it again, and collects the young generation every ``YOUNG_THRESHOLD``
allocations: fewer collections, and objects that die by reference counting
before one (most of ours) are never walked. Memory held by cycles waits a
little longer, nothing more: every generation is still collected.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

YOUNG_THRESHOLD = 10_000
OLDER_THRESHOLDS = (20, 100)


@contextmanager
def lean_gc() -> Iterator[None]:
    """Within the block: what existed before it is frozen, collections are rarer.
    Restored after it (the CLI runs in-process in tests and the bench)."""
    before = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, *OLDER_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()
