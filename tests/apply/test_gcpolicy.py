"""planner.gcpolicy: apply runs with a leaner collector, and leaves the process as it was."""

from __future__ import annotations

import gc

import pytest

from planner import gcpolicy


def test_lean_gc_freezes_what_exists_and_restores_the_collector() -> None:
    before = gc.get_threshold()
    kept = [object() for _ in range(3)]
    with gcpolicy.lean_gc():
        assert gc.get_threshold() == (gcpolicy.YOUNG_THRESHOLD, *gcpolicy.OLDER_THRESHOLDS)
        assert gc.get_freeze_count() > 0  # what was loaded before is never walked again
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
    assert kept


def test_lean_gc_restores_the_collector_when_the_block_fails() -> None:
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), gcpolicy.lean_gc():
        raise RuntimeError("interrupted")
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


def test_cycles_made_during_the_block_are_still_collected() -> None:
    class Node:
        other: object = None

    with gcpolicy.lean_gc():
        a, b = Node(), Node()
        a.other, b.other = b, a
        del a, b
        assert gc.collect() >= 2
