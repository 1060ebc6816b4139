# ruff: noqa: F811  (the backend fixtures are imported by name, then requested by name)
"""The state, lock, journal and run log contract, run on both backends (local file, PostgreSQL).

Each ``open_backend()`` is a new handle, as a second process would open it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from planner.addresses import Address
from planner.clock import VirtualClock
from planner.errors import StateLockedError, UserError
from planner.state.backend import Backend
from planner.state.model import RestoreRecord, State
from planner.state.postgres import PostgresBackend
from tests.pg.backends import backend_kind, open_backend  # noqa: F401

Open = Callable[[], Backend]
T = 1_790_000_000.0
DB = Address("db")
APP = Address("app", "app-01")


def test_a_new_state_is_empty_and_not_written(open_backend: Open) -> None:
    b = open_backend()
    state = b.store().load()
    assert (state.serial, state.restores) == (0, {})
    assert open_backend().store().load().lineage != state.lineage  # nothing was stored


def test_write_append_load_round_trip(
    open_backend: Open, make_record: Callable[..., RestoreRecord]
) -> None:
    b = open_backend()
    store = b.store()
    state = store.load()
    state.record(make_record('app["a"]', status="started", task_id=None))
    state = store.write(state)
    assert state.serial == 1
    done = make_record('app["a"]')
    state.record(done)
    state.record(make_record("db"))
    state = store.append(state, [done, state.restores["db"]])
    assert state.serial == 2
    state = store.compact(state)
    again = open_backend().store().load()
    assert (again.lineage, again.serial) == (state.lineage, state.serial)
    assert again.restores == state.restores
    assert again.restores['app["a"]'].status == "succeeded"


def test_removed_records_are_gone_after_write(
    open_backend: Open, make_record: Callable[..., RestoreRecord]
) -> None:
    store = open_backend().store()
    state = store.load()
    for name in ("a", "b", "c"):
        state.record(make_record(f'app["{name}"]'))
    state = store.write(state)
    state.remove(Address("app", "b"))
    store.write(state)
    assert sorted(open_backend().store().load().restores) == ['app["a"]', 'app["c"]']


def test_a_writer_behind_the_state_is_refused(
    open_backend: Open, make_record: Callable[..., RestoreRecord]
) -> None:
    first = open_backend().store()
    state = first.write(first.load())
    second = open_backend().store()
    theirs = second.load()
    theirs.record(make_record("db"))
    second.write(theirs)  # serial 2
    state.record(make_record("web"))
    with pytest.raises(UserError) as exc:
        first.append(state, [state.restores["web"]])
    assert "was written by someone else since it was read (serial 2" in exc.value.message
    assert sorted(open_backend().store().load().restores) == ["db"]


def test_another_lineage_is_refused(open_backend: Open) -> None:
    store = open_backend().store()
    store.write(store.load())
    other = open_backend().store()
    other.load()
    with pytest.raises(UserError) as exc:
        other.write(State.new())
    assert "belongs to another state" in exc.value.message


def test_second_lock_fails_at_once_naming_the_holder(open_backend: Open) -> None:
    b = open_backend()
    with b.lock("apply") as lock:
        assert lock.info is not None
        with pytest.raises(StateLockedError) as exc:
            open_backend().lock("state rm").acquire()
        assert f"is locked by apply (pid {lock.info.pid} on {lock.info.host}" in exc.value.message
        assert exc.value.message.endswith(f"lock id {lock.info.id}")
        held = open_backend().held_lock()
        assert held is not None and held.id == lock.info.id
    assert open_backend().held_lock() is None
    with open_backend().lock("apply") as again:
        assert again.stale is None


def test_force_unlock_checks_the_id(open_backend: Open) -> None:
    b = open_backend()
    lock = b.lock("apply")
    info = lock.acquire()
    with pytest.raises(UserError) as exc:
        open_backend().force_unlock("nope")
    assert exc.value.message.startswith("lock id nope does not match the lock on ")
    with pytest.raises(UserError) as exc:  # its holder (this process) is alive
        open_backend().force_unlock(info.id)
    assert exc.value.message.startswith(f"lock {info.id} is held by a running process")
    lock.release()
    with pytest.raises(UserError) as exc:
        open_backend().force_unlock(info.id)
    assert "is not locked" in exc.value.message


def test_journal_pending_accepted_finished_compact(open_backend: Open) -> None:
    b = open_backend()
    with b.journal() as j:
        j.intent("r1", DB, "bk-db", "srv-db", "sha256:aa", T, sync=False)
        j.intent("r1", APP, "bk-app", "srv-app", "sha256:bb", T + 1, sync=False)
        j.sync()
        j.accepted(DB, "task-1", T + 2)
        j.accepted(APP, "task-2", T + 3)
        j.finished(APP, "succeeded", T + 4)
    b.close()
    fresh = open_backend()
    with fresh.journal() as j:
        pending = j.pending()
        assert [(e.address, e.task_id, e.backup_id) for e in pending] == [(DB, "task-1", "bk-db")]
        assert pending[0].at == datetime.fromtimestamp(T, tz=UTC)
        j.compact()
        assert [e.address for e in j.pending()] == [DB]
        j.finished(DB, "succeeded", T + 5)
        j.compact()
        assert j.pending() == []


def test_synced_intent_is_visible_to_another_process_before_the_post(open_backend: Open) -> None:
    b = open_backend()
    j = b.journal()
    j.intent("r1", DB, "bk-db", "srv-db", "sha256:aa", T)  # sync=True: durable on return
    assert [e.address for e in open_backend().journal().pending()] == [DB]
    j.close()


def test_run_logs_list_and_read(open_backend: Open) -> None:
    b = open_backend()
    clock = VirtualClock(start=T)
    with b.runlog(clock=clock) as log:
        log.event("run_started", summary={"restore": 1}, parallelism=2)
        clock.advance(60)
        log.event("run_finished", counts={"succeeded": 1}, exit_code=0)
        first = log.run_id
    assert open_backend().list_runs() == [first]
    events = open_backend().read_run()
    assert [e["kind"] for e in events] == ["run_started", "run_finished"]
    assert events[1]["ts"] == "2026-09-21T14:14:20.000Z"
    assert events[0]["summary"] == {"restore": 1}
    with pytest.raises(UserError) as exc:
        open_backend().read_run("20990101T000000Z-ffff")
    assert exc.value.message.startswith("no run 20990101T000000Z-ffff ")


@pytest.mark.parametrize("damage", ["{not json", "[1, 2]", "9" * 5000, "[" * 100_000])
def test_a_damaged_run_event_is_a_refusal_not_a_crash(open_backend: Open, damage: str) -> None:
    """A run log's damaged line, in a file or a database row: refused with its place,
    never a traceback (a huge number or deep nesting included)."""
    b = open_backend()
    run_id = "20261120T000000Z-a3b4"
    if isinstance(b, PostgresBackend):
        with b._tx("test: write a run") as cur:
            cur.execute(f'INSERT INTO "{b.schema}".runs (workspace, run_id) VALUES (%s, %s)', (b.workspace, run_id))
            cur.execute(
                f'INSERT INTO "{b.schema}".run_events (workspace, run_id, n, line) VALUES (%s, %s, 1, %s)',
                (b.workspace, run_id, damage),
            )
    else:
        runs = Path(b.ref).parent / "runs"
        runs.mkdir(parents=True)
        (runs / f"{run_id}.jsonl").write_text(damage + "\n")
    with pytest.raises(UserError, match="damaged"):
        b.read_run(run_id)
