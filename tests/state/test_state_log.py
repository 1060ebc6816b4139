"""The state log: appended updates, replayed on load, compacted into snapshots."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from planner.errors import UserError
from planner.state import store as store_mod
from planner.state.model import RestoreRecord, State
from planner.state.store import StateStore

Make = Callable[..., RestoreRecord]


def _base(path: Path, make_record: Make, n: int = 3) -> tuple[StateStore, State]:
    store = StateStore(path)
    state = State.new()
    for i in range(n):
        state.record(make_record(f"r{i}"))
    return store, store.write(state)


def test_appends_are_replayed_and_bump_the_serial(tmp_path: Path, make_record: Make) -> None:
    path = tmp_path / "state.json"
    store, state = _base(path, make_record)
    snapshot = path.read_bytes()
    rec = make_record("r1", status="failed", error={"code": "BackupService.9910", "message": "boom"})
    state.record(rec)
    store.append(state, [rec])
    new = make_record("r9", status="started", ended_at=None, task_id=None)
    state.record(new)
    store.append(state, [new])
    assert path.read_bytes() == snapshot  # the snapshot is not rewritten
    assert len(store.log_path.read_text().splitlines()) == 2
    again = StateStore(path).load()
    assert again.serial == state.serial == 3
    assert again.restores["r1"].status == "failed"
    assert again.restores["r9"].status == "started"
    assert again.restores == state.restores


def test_write_folds_the_log_into_the_snapshot(tmp_path: Path, make_record: Make) -> None:
    path = tmp_path / "state.json"
    store, state = _base(path, make_record)
    rec = make_record("r0", status="failed")
    state.record(rec)
    store.append(state, [rec])
    store.compact(state)
    assert not store.log_path.exists()
    assert StateStore(path).load().restores["r0"].status == "failed"


def test_log_compacts_past_its_limit(tmp_path: Path, make_record: Make, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_mod, "COMPACT_AFTER", 4)
    path = tmp_path / "state.json"
    store, state = _base(path, make_record)
    for i in range(6):
        rec = make_record(f"n{i}")
        state.record(rec)
        store.append(state, [rec])
        if store.log_path.exists():
            assert len(store.log_path.read_text().splitlines()) <= 4
    loaded = StateStore(path).load()
    assert sorted(loaded.restores) == sorted(state.restores) and loaded.serial == state.serial


def test_a_torn_last_line_is_dropped_and_not_glued(tmp_path: Path, make_record: Make) -> None:
    path = tmp_path / "state.json"
    store, state = _base(path, make_record)
    rec = make_record("a")
    state.record(rec)
    store.append(state, [rec])
    with store.log_path.open("ab") as f:
        f.write(b'{"serial":9,"lineage":"x","rec')  # a kill mid-write
    loaded = StateStore(path).load()
    assert "a" in loaded.restores and loaded.serial == state.serial
    store2 = StateStore(path)
    state2 = store2.load()
    b = make_record("b")
    state2.record(b)
    store2.append(state2, [b])
    assert set(StateStore(path).load().restores) >= {"a", "b"}


def test_log_lines_already_in_the_snapshot_are_skipped(tmp_path: Path, make_record: Make) -> None:
    path = tmp_path / "state.json"
    store, state = _base(path, make_record)
    rec = make_record("r0", status="failed")
    state.record(rec)
    store.append(state, [rec])
    kept = store.log_path.read_bytes()
    store.compact(state)
    store.log_path.write_bytes(kept)  # a crash between the snapshot rename and the log removal
    assert StateStore(path).load().serial == state.serial


def test_a_damaged_middle_line_is_refused(tmp_path: Path, make_record: Make) -> None:
    path = tmp_path / "state.json"
    store, state = _base(path, make_record)
    for name in ("a", "b"):
        rec = make_record(name)
        state.record(rec)
        store.append(state, [rec])
    lines = store.log_path.read_bytes().split(b"\n")
    lines[0] = b"{not json"
    store.log_path.write_bytes(b"\n".join(lines))
    with pytest.raises(UserError, match="line 1 is damaged"):
        StateStore(path).load()


def test_another_writers_append_is_a_conflict(tmp_path: Path, make_record: Make) -> None:
    path = tmp_path / "state.json"
    store, state = _base(path, make_record)
    other = StateStore(path)
    theirs = other.load()
    x = make_record("x")
    theirs.record(x)
    other.append(theirs, [x])
    y = make_record("y")
    state.record(y)
    with pytest.raises(UserError, match="written by someone else"):
        store.append(state, [y])
