from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from planner.addresses import Address
from planner.apply.runlog import RunLog, list_runs, read_run, runs_dir
from planner.clock import VirtualClock
from planner.errors import UserError

START = 1_795_867_200.0  # 2026-11-28T12:00:00Z


@pytest.fixture
def state_path(tmp_path: Path) -> Path:
    return tmp_path / "plans" / ".restore-planner" / "state.json"


def test_run_log_round_trip(state_path: Path) -> None:
    clock = VirtualClock(START)
    with RunLog.create(state_path, clock=clock) as log:
        assert re.fullmatch(r"20261128T120000Z-[0-9a-f]{4}", log.run_id)
        assert log.path == state_path.parent / "runs" / f"{log.run_id}.jsonl"
        log.event("run_started", summary={"restore": 2}, parallelism=10)
        log.event(
            "restore_started",
            address=Address("app", "app-01"),
            backup_id="bk-1",
            target={"kind": "server", "id": "srv-1", "name": "app-01"},
            batch=1,
            wave=2,
            estimate_s=120.0,
        )
        clock.advance(1.5)
        log.event("restore_accepted", address='app["app-01"]', task_id="task-1")
        log.event(
            "restore_succeeded",
            address='app["app-01"]',
            started_at=datetime(2026, 11, 28, 12, 0, 1, tzinfo=UTC),
            ended_at=datetime(2026, 11, 28, 12, 2, 0, tzinfo=UTC),
        )
        log.event("restore_skipped", address="web", because=['app["app-01"]'], ts=START + 60)
        log.event("run_finished", counts={"succeeded": 1, "skipped": 1}, exit_code=1)

    events = read_run(state_path)
    assert [e["kind"] for e in events] == [
        "run_started",
        "restore_started",
        "restore_accepted",
        "restore_succeeded",
        "restore_skipped",
        "run_finished",
    ]
    assert events[0] == {  # every field of the kind, null or empty where not given
        "ts": "2026-11-28T12:00:00.000Z",
        "kind": "run_started",
        "run_id": "",
        "parallelism": 10,
        "summary": {"restore": 2},
        "plan_estimate_s": None,
        "critical_path": [],
    }
    assert events[1]["address"] == 'app["app-01"]'
    assert events[2]["ts"] == "2026-11-28T12:00:01.500Z"
    assert events[3]["started_at"] == "2026-11-28T12:00:01.000Z"
    assert events[4]["ts"] == "2026-11-28T12:01:00.000Z"
    assert read_run(state_path, log.run_id) == events


def test_unknown_kind_is_a_bug(state_path: Path) -> None:
    log = RunLog.create(state_path, clock=VirtualClock(START))
    with pytest.raises(ValueError, match="unknown run log event kind 'restore_exploded'"):
        log.event("restore_exploded")
    log.close()


def test_unknown_field_or_wrong_type_is_a_bug(state_path: Path) -> None:
    with RunLog.create(state_path, clock=VirtualClock(START)) as log:
        with pytest.raises(ValueError, match="plan"):
            log.event("run_started", plan={"restore": 2})
        with pytest.raises(ValueError, match="progress"):
            log.event("restore_progress", address="db", progress="half")
        with pytest.raises(ValueError, match="address"):
            log.event("restore_accepted", task_id="t-1")
    assert log.path.read_bytes() == b""  # nothing half-written


def test_runs_sorted_and_latest_read(state_path: Path) -> None:
    for i, t in enumerate([START + 3600, START, START + 60]):
        with RunLog.create(state_path, clock=VirtualClock(t)) as log:
            log.event("run_started", parallelism=i)
    runs = list_runs(state_path)
    assert [r[:16] for r in runs] == ["20261128T120000Z", "20261128T120100Z", "20261128T130000Z"]
    assert read_run(state_path)[0]["parallelism"] == 0  # the latest by time, not by creation
    assert read_run(state_path, runs[0])[0]["parallelism"] == 1


def test_torn_last_line_is_dropped(state_path: Path) -> None:
    log = RunLog.create(state_path, run_id="20261128T120000Z-ab12", clock=VirtualClock(START))
    log.event("run_started", parallelism=1)
    log.close()
    with log.path.open("ab") as f:
        f.write(b'{"ts":"2026-11-28T12:00:00.000Z","kind":"restore_sta')
    assert [e["kind"] for e in read_run(state_path)] == ["run_started"]


def test_no_runs_and_unknown_run(state_path: Path) -> None:
    with pytest.raises(UserError) as exc:
        read_run(state_path)
    assert exc.value.message == (
        f"no runs recorded beside {state_path} (looked in {runs_dir(state_path)})"
    )
    RunLog.create(state_path, run_id="20261128T120000Z-ab12").close()
    with pytest.raises(UserError) as exc:
        read_run(state_path, "20261128T120000Z-ab13")
    assert exc.value.message == f"no run 20261128T120000Z-ab13 beside {state_path}"
    assert exc.value.hint == "did you mean 20261128T120000Z-ab12?"
    with pytest.raises(UserError) as exc:
        read_run(state_path, "../../etc/passwd")
    assert exc.value.hint == "1 run(s) recorded; the latest is 20261128T120000Z-ab12"


def test_events_are_one_json_object_per_line(state_path: Path) -> None:
    with RunLog.create(state_path, clock=VirtualClock(START)) as log:
        log.event(
            "restore_failed", address="db", error_code="BackupService.2010", error_message="busy"
        )
    [line] = log.path.read_text().splitlines()
    assert json.loads(line)["error_code"] == "BackupService.2010"
