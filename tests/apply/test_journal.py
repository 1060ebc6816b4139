from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from planner.addresses import Address
from planner.apply.journal import Journal, JournalEntry, journal_path
from planner.errors import UserError
from planner.timefmt import rfc3339_ms

T = 1_790_000_000.0  # 2026-09-21T... on a VirtualClock
DB = Address("db")
APP = Address("app", "app-01")


def _at(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, tz=UTC)


def test_journal_path_is_beside_the_state(tmp_path: Path) -> None:
    assert journal_path(tmp_path / "state.json") == tmp_path / "state.json.journal"


def test_pending_is_intents_without_finished(tmp_path: Path) -> None:
    path = tmp_path / ".restore-planner" / "state.json.journal"
    with Journal(path) as j:
        j.intent("r1", DB, "bk-db", "srv-db", "sha256:aa", T)
        j.intent("r1", APP, "bk-app", "srv-app", "sha256:bb", T + 1)
        j.accepted(DB, "task-1", T + 2)
        j.accepted(APP, "task-2", T + 3)
        j.finished(APP, "succeeded", T + 4)
    # a fresh reader (the next apply) sees the same thing
    assert Journal(path).pending() == [
        JournalEntry(
            run_id="r1",
            address=DB,
            backup_id="bk-db",
            target_id="srv-db",
            body_digest="sha256:aa",
            at=_at(T),
            task_id="task-1",
            accepted_at=_at(T + 2),
        )
    ]
    first = json.loads(path.read_text().splitlines()[0])
    assert first == {
        "event": "intent",
        "run_id": "r1",
        "address": "db",
        "backup_id": "bk-db",
        "target_id": "srv-db",
        "body_digest": "sha256:aa",
        "at": rfc3339_ms(T),
    }


def test_intent_without_accept_has_no_task_id(tmp_path: Path) -> None:
    j = Journal(tmp_path / "j")
    j.intent("r1", APP, "b", "t", "d", datetime(2026, 11, 28, 12, 0, tzinfo=UTC))
    [entry] = j.pending()
    assert entry.task_id is None
    assert entry.address == APP
    assert rfc3339_ms(entry.at) == "2026-11-28T12:00:00.000Z"


def test_a_new_intent_supersedes_an_old_one(tmp_path: Path) -> None:
    j = Journal(tmp_path / "j")
    j.intent("r1", DB, "b1", "t", "d1", T)
    j.accepted(DB, "task-old", T + 1)
    j.intent("r2", DB, "b1", "t", "d1", T + 100)  # reconciled elsewhere, retried
    [entry] = j.pending()
    assert (entry.run_id, entry.task_id) == ("r2", None)


def test_torn_last_line_is_ignored_and_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "j"
    j = Journal(path)
    j.intent("r1", DB, "b", "t", "d", T)
    j.close()
    with path.open("ab") as f:  # a kill in the middle of writing the next event
        f.write(b'{"event":"accepted","address":"db","task_')
    [entry] = Journal(path).pending()
    assert entry.task_id is None

    j2 = Journal(path)
    j2.accepted(DB, "task-1", T + 1)
    j2.close()
    lines = path.read_text().splitlines()
    assert len(lines) == 2
    assert json.loads(lines[1])["task_id"] == "task-1"
    assert Journal(path).pending()[0].task_id == "task-1"


def test_torn_only_line(tmp_path: Path) -> None:
    path = tmp_path / "j"
    path.write_bytes(b'{"event":"inte')
    assert Journal(path).pending() == []
    j = Journal(path)
    j.finished(DB, "failed", T)
    j.close()  # an unsynced line is written by then at the latest
    assert path.read_text().count("\n") == 1


def test_unsynced_lines_go_out_with_the_next_intent_in_order(tmp_path: Path) -> None:
    path = tmp_path / "j"
    j = Journal(path)
    j.intent("r1", DB, "b-db", "s-db", "d1", T)
    j.accepted(DB, "task-1", T)
    j.finished(DB, "succeeded", T)
    assert [json.loads(x)["event"] for x in path.read_text().splitlines()] == ["intent"]
    j.intent("r1", APP, "b-app", "s-app", "d2", T)  # synced: everything before it is on disk
    events = [json.loads(x) for x in path.read_text().splitlines()]
    assert [(e["event"], e["address"]) for e in events] == [
        ("intent", "db"),
        ("accepted", "db"),
        ("finished", "db"),
        ("intent", str(APP)),
    ]
    assert [e.address for e in Journal(path).pending()] == [APP]


def test_damage_before_the_last_line_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "j"
    path.write_text('{"event":"finished","address":"db","status":"failed","at":"x"}\ngarbage\n{}\n')
    with pytest.raises(UserError) as exc:
        Journal(path).pending()
    assert exc.value.message == f"{path}:2: damaged line in a file restore-planner only appends to"


def test_missing_journal_has_nothing_pending(tmp_path: Path) -> None:
    assert Journal(tmp_path / "none").pending() == []


def test_compact_keeps_only_pending_events_in_order(tmp_path: Path) -> None:
    path = tmp_path / "j"
    j = Journal(path)
    j.intent("r1", DB, "b", "t", "d", T)
    j.intent("r1", APP, "b2", "t2", "d2", T + 1)
    j.accepted(DB, "task-1", T + 2)
    j.finished(APP, "succeeded", T + 3)
    before = j.pending()
    j.compact()
    assert [json.loads(x)["event"] for x in path.read_text().splitlines()] == ["intent", "accepted"]
    assert Journal(path).pending() == before
    j.finished(DB, "succeeded", T + 4)  # still usable after compacting
    j.compact()
    assert path.read_bytes() == b""
    assert j.pending() == []


def test_lines_are_compact_utf8_json_and_compact_keeps_what_orjson_cannot_write(
    tmp_path: Path,
) -> None:
    path = tmp_path / "j"
    j = Journal(path)
    ward = Address("app", "病房-01")  # a key is any text a plan gives
    j.intent("r1", ward, "b", "t", "d", T)
    j.flush()
    line = path.read_bytes()
    assert line.endswith(b"\n") and line.count(b"\n") == 1 and b", " not in line
    assert json.loads(line)["address"] == str(ward)
    assert "病房".encode() in line  # UTF-8, as the state and the run log write it
    # a hand-edited line with an integer past 64 bits (valid JSON, which orjson refuses)
    with path.open("a") as f:
        f.write('{"event":"intent","run_id":"r0","address":"db","backup_id":"b","target_id":"t",'
                f'"body_digest":"d","at":"{rfc3339_ms(T)}","note":{2**70}}}\n')  # fmt: skip
    before = Journal(path).pending()
    j.compact()
    assert Journal(path).pending() == before
    assert f'"note":{2**70}' in path.read_text()


def test_lines_only_json_reads_are_still_read(tmp_path: Path) -> None:
    # NaN and an integer past 64 bits are JSON to json.loads, not to orjson
    path = tmp_path / "j"
    path.write_text(
        '{"event":"intent","run_id":"r1","address":"db","backup_id":"b","target_id":"t",'
        f'"body_digest":"d","at":"{rfc3339_ms(T)}","x":NaN,"y":{2**70}}}\n'
    )
    assert [e.address for e in Journal(path).pending()] == [DB]
