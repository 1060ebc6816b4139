from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from planner.addresses import Address
from planner.errors import UserError
from planner.state.model import RestoreRecord, State
from planner.state.store import StateStore, default_state_path

MakeRecord = Callable[..., RestoreRecord]


def test_missing_file_gives_new_state_without_writing(state_path: Path) -> None:
    state = StateStore(state_path).load()
    assert state.serial == 0
    assert state.restores == {}
    assert state.format_version == 1
    assert len(state.lineage) == 36
    assert not state_path.parent.exists()


def test_write_bumps_serial_and_keeps_backup(state_path: Path, make_record: MakeRecord) -> None:
    store = StateStore(state_path)
    state = store.load()
    state.record(make_record("db"))
    assert store.write(state).serial == 1
    first = state_path.read_bytes()
    assert not store.backup_path.exists()

    state.record(make_record('app["app-01"]'))
    store.write(state)
    assert state.serial == 2
    assert store.backup_path.read_bytes() == first
    on_disk = json.loads(state_path.read_text())
    assert on_disk["serial"] == 2
    assert sorted(on_disk["restores"]) == ['app["app-01"]', "db"]
    # nothing but the state and its backup: no temp files left behind
    assert sorted(p.name for p in state_path.parent.iterdir()) == [
        "state.json",
        "state.json.backup",
    ]


def test_round_trip_is_lossless(state_path: Path, make_record: MakeRecord) -> None:
    state = State.new()
    rec = make_record(
        'web["w 1"]',
        status="failed",
        error={"code": "BackupService.2010", "message": "busy"},
        ended_at=None,
        destination_path="/data",
    )
    state.record(rec)
    StateStore(state_path).write(state)
    again = StateStore(state_path).load()
    assert again == state
    assert again.get(Address("web", "w 1")) == rec
    assert again.addresses() == [Address("web", "w 1")]
    raw = json.loads(state_path.read_text())
    assert raw["restores"]['web["w 1"]']["started_at"] == "2026-11-28T12:00:00Z"


def test_remove(make_record: MakeRecord) -> None:
    state = State.new()
    state.record(make_record("db"))
    assert state.remove(Address("db")) is not None
    assert state.remove(Address("db")) is None
    assert state.get(Address("db")) is None


def test_refuses_other_lineage(state_path: Path) -> None:
    StateStore(state_path).write(State.new())
    before = state_path.read_bytes()
    other = State.new()
    with pytest.raises(UserError) as exc:
        StateStore(state_path).write(other)
    assert "belongs to another state" in exc.value.message
    assert state_path.read_bytes() == before


def test_refuses_when_someone_else_wrote_since_load(
    state_path: Path, make_record: MakeRecord
) -> None:
    StateStore(state_path).write(State.new())
    a, b = StateStore(state_path), StateStore(state_path)
    sa, sb = a.load(), b.load()
    sa.record(make_record("db"))
    a.write(sa)
    sb.record(make_record("web"))
    with pytest.raises(UserError) as exc:
        b.write(sb)
    assert exc.value.message == (
        f"state file {state_path} was written by someone else since it was read "
        "(serial 2 on disk, 1 read); refusing to overwrite it"
    )
    assert list(StateStore(state_path).load().restores) == ["db"]


def test_many_writes_in_a_row(state_path: Path, make_record: MakeRecord) -> None:
    store = StateStore(state_path)
    state = store.load()
    for i in range(1000):
        state.record(make_record(f'app["a{i:04d}"]'))
    for i in range(20):
        key = f'app["a{i:04d}"]'
        state.record(state.restores[key].model_copy(update={"status": "failed"}))
        store.write(state)
    loaded = StateStore(state_path).load()
    assert loaded.serial == 20
    assert len(loaded.restores) == 1000
    assert loaded.restores['app["a0019"]'].status == "failed"
    assert loaded.restores['app["a0020"]'].status == "succeeded"
    assert loaded == state


def test_file_has_one_line_per_address(state_path: Path, make_record: MakeRecord) -> None:
    state = State.new()
    state.record(make_record("web"))
    state.record(make_record("db"))
    StateStore(state_path).write(state)
    lines = state_path.read_text().splitlines()
    assert lines[0] == (
        f'{{"format_version":1,"lineage":"{state.lineage}","serial":1,"restores":{{'
    )
    assert [line.split(":", 1)[0] for line in lines[1:3]] == ['"db"', '"web"']
    assert lines[3] == "}}"


def test_records_are_frozen(make_record: MakeRecord) -> None:
    rec = make_record("db")
    with pytest.raises(ValueError, match="frozen"):
        rec.status = "failed"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "is not valid JSON"),
        ("[]", "is not a restore-planner state (expected a JSON object)"),
        ('{"lineage": "x"}', "is not a restore-planner state (no valid format_version)"),
        (
            '{"format_version": 1, "lineage": "x", "serial": 3, "restores": {"db": {"status": "done"}}}',
            "is not valid: restores.db.address: Field required",
        ),
        (
            '{"format_version": 1, "lineage": "x", "serial": 3, "restores": {}, "extra": 1}',
            "is not valid: extra: Extra inputs are not permitted",
        ),
    ],
)
def test_damaged_state_refused_and_untouched(state_path: Path, content: str, message: str) -> None:
    state_path.parent.mkdir(parents=True)
    state_path.write_text(content)
    before = state_path.read_bytes()
    store = StateStore(state_path)
    with pytest.raises(UserError) as exc:
        store.load()
    assert exc.value.message.startswith(f"state file {state_path} {message}")
    assert "left untouched" in exc.value.hint
    # a writer that did not load first is refused too
    with pytest.raises(UserError):
        store.write(State.new())
    assert state_path.read_bytes() == before
    assert sorted(p.name for p in state_path.parent.iterdir()) == ["state.json"]


def test_newer_format_refused_and_untouched(state_path: Path) -> None:
    state_path.parent.mkdir(parents=True)
    state_path.write_text('{"format_version": 2, "lineage": "x", "serial": 9, "whatever": []}')
    before = state_path.read_bytes()
    with pytest.raises(UserError) as exc:
        StateStore(state_path).load()
    assert exc.value.message == (
        f"state file {state_path} has format_version 2, written by a newer restore-planner; "
        "this version reads format_version 1"
    )
    with pytest.raises(UserError):
        StateStore(state_path).write(State.new())
    assert state_path.read_bytes() == before


def test_record_key_must_match_address(make_record: MakeRecord) -> None:
    raw = {"format_version": 1, "lineage": "x", "restores": {"web": make_record("db").model_dump()}}
    with pytest.raises(ValueError, match="restores key 'web' holds the record of 'db'"):
        State.model_validate(raw)


def test_default_state_path(tmp_path: Path) -> None:
    plans = tmp_path / "plans"
    plans.mkdir()
    (plans / "drill.yaml").write_text("version: 1\n")
    assert default_state_path(str(plans)) == plans / ".restore-planner" / "state.json"
    assert (
        default_state_path(str(plans / "drill.yaml")) == plans / ".restore-planner" / "state.json"
    )
    assert default_state_path(str(plans / "new.yaml")) == plans / ".restore-planner" / "state.json"
    assert (
        default_state_path(str(tmp_path / "later"))
        == tmp_path / "later" / ".restore-planner" / "state.json"
    )
