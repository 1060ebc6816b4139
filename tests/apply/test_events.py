"""The run-log events (planner.apply.events): the schema in specs/ is the models', every line
an apply writes (its run log, its ``--format json`` stream) is valid against it, writing is
strict and reading is tolerant."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import pytest

from planner.apply import events
from planner.apply.runlog import RunLog, read_run
from planner.cli.main import main
from planner.clock import VirtualClock
from tests.apply.drill import in_process, make_drill, simulator, write_drill

SCHEMA_PATH = Path(__file__).parents[2] / "specs" / "run-log.schema.json"
START = 1_795_867_200.0  # 2026-11-28T12:00:00Z
T1 = datetime(2026, 11, 28, 12, 0, 1, tzinfo=UTC)
T2 = datetime(2026, 11, 28, 12, 2, 0, tzinfo=UTC)


def _validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_schema_file_matches_the_models() -> None:
    text = events.schema_text()
    if os.environ.get("UPDATE_GOLDEN") == "1":
        SCHEMA_PATH.write_text(text, encoding="utf-8")
    assert SCHEMA_PATH.read_text(encoding="utf-8") == text, (
        "specs/run-log.schema.json is stale; UPDATE_GOLDEN=1 regenerates it"
    )


def test_schema_has_one_branch_per_kind() -> None:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert set(schema["discriminator"]["mapping"]) == events.KINDS == {
        "run_started", "restore_started", "restore_accepted", "restore_progress", "restore_succeeded",
        "restore_failed", "restore_skipped", "restore_withdrawn", "restore_waiting", "run_finished",
    }  # fmt: skip


def _every_kind(tmp_path: Path) -> list[str]:
    """One event of every kind, with the fields apply gives it; the lines as written."""
    with RunLog.create(tmp_path / "state.json", clock=VirtualClock(START)) as log:
        log.event("run_started", run_id=log.run_id, parallelism=10, summary={"restore": 3, "unchanged": 1},
                  plan_estimate_s=600.0, critical_path=['app["a"]'])  # fmt: skip
        log.event("restore_started", address='app["a"]', backup_id="bk-1",
                  target={"kind": "server", "id": "srv-1", "name": "app-01"}, batch=1, wave=None,
                  estimate_s=120.0, depends_on=[], size_gb=40, adopted=False)  # fmt: skip
        log.event("restore_waiting", address='app["a"]', reason="BackupService.2002: backing up", retry_in_s=120.0)
        log.event("restore_accepted", address='app["a"]', task_id="task-1")
        log.event("restore_progress", address='app["a"]', progress=50)
        log.event("restore_succeeded", address='app["a"]', task_id="task-1", started_at=T1, ended_at=T2,
                  seen_at=T2, size_gb=40)  # fmt: skip
        log.event("restore_failed", address="db", task_id=None, error_code="BackupService.2010",
                  error_message="busy", started_at=None, ended_at=None)  # fmt: skip
        log.event("restore_skipped", address="web", because=["db"], wave=None, batch=2, estimate_s=60.0,
                  depends_on=["db"])  # fmt: skip
        log.event("restore_withdrawn", address="cache", reason="interrupted before it was sent")
        counts = {**dict.fromkeys(events.RUN_COUNTS, 0), "succeeded": 1, "failed": 1}
        log.event("run_finished", counts=counts, exit_code=1, interrupted=False)
    return log.path.read_text(encoding="utf-8").splitlines()


def test_every_kind_as_written_is_valid_and_reads_back_the_same(tmp_path: Path) -> None:
    lines = _every_kind(tmp_path)
    validator = _validator()
    for line in lines:
        validator.validate(json.loads(line))
        event = events.decode(json.loads(line))
        assert event is not None
        assert events.encode(event) == line  # the reader loses nothing the writer wrote
    assert [json.loads(line)["kind"] for line in lines][:2] == ["run_started", "restore_started"]
    assert json.loads(lines[5]) == {
        "ts": "2026-11-28T12:00:00.000Z", "kind": "restore_succeeded", "address": 'app["a"]',
        "task_id": "task-1", "started_at": "2026-11-28T12:00:01.000Z", "ended_at": "2026-11-28T12:02:00.000Z",
        "seen_at": "2026-11-28T12:02:00.000Z", "size_gb": 40,
    }  # fmt: skip


def test_a_real_apply_streams_valid_events(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``apply --format json``: each stdout line is one event, the same line the run log holds."""
    drill = make_drill(6, seed=4)
    _inv, plan = write_drill(drill, tmp_path)
    sim, clock = simulator(drill, faults="task_fail=0.3", seed=3)
    with in_process(sim, clock):
        assert main(["plan", str(plan), "--out", str(tmp_path / "drill.plan"), "--no-color"]) in (0, 2)
        capsys.readouterr()
        rc = main(["apply", str(tmp_path / "drill.plan"), "--auto-approve", "--format", "json"])
    assert rc in (0, 1)
    out = capsys.readouterr().out.splitlines()
    state = next(tmp_path.rglob("state.json"))
    # the very bytes of the run log's lines, and the same events read back
    run_file = next((state.parent / "runs").glob("*.jsonl"))
    assert out == run_file.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in out] == read_run(state)
    validator = _validator()
    kinds = set()
    for line in out:
        obj = json.loads(line)
        validator.validate(obj)
        kinds.add(obj["kind"])
    assert {"run_started", "restore_started", "restore_accepted", "restore_succeeded", "run_finished"} <= kinds
    assert len(sim.ledger()["restores"]) == sum(json.loads(line)["kind"] == "restore_accepted" for line in out)


def test_reading_is_tolerant() -> None:
    ok = {"ts": "2026-11-28T12:00:00.000Z", "kind": "restore_started", "address": "db"}
    damaged = events.decode({**ok, "wave": "two", "batch": True, "target": 5, "ts": "yesterday", "new": 1})
    assert isinstance(damaged, events.RestoreStarted)
    assert (damaged.address, damaged.wave, damaged.batch, damaged.ts) == ("db", None, None, None)
    assert damaged.target == events.Target()
    # numbers where text belongs are read as text, as before
    accepted = events.decode({"kind": "restore_accepted", "address": 7, "task_id": 12})
    assert isinstance(accepted, events.RestoreAccepted)
    assert (accepted.address, accepted.task_id) == ("7", "12")
    for skipped in (
        {**ok, "kind": "restore_exploded"},
        {**ok, "kind": ["restore_started"]},
        {**ok, "address": ""},
        {**ok, "address": None},
        {"kind": "restore_succeeded"},
        "not an object",
        None,
    ):
        assert events.decode(skipped) is None, skipped


def test_writing_refuses_what_the_schema_would() -> None:
    with pytest.raises(ValueError, match="unknown run log event kind"):
        events.make("restore_exploded", {})
    with pytest.raises(ValueError, match="extra"):
        events.make("restore_accepted", {"address": "db", "task": "t-1"})
    with pytest.raises(ValueError):
        events.make("restore_progress", {"address": "db", "progress": True})
    with pytest.raises(ValueError, match="without a time"):
        events.encode(events.RestoreAccepted(address="db", task_id="t-1"))


def test_a_run_id_with_a_trailing_newline_is_refused() -> None:
    """`^...$` with match lets "...\n" through; a run id becomes a file name."""
    import pytest

    from planner.apply.runlog import check_run_id
    from planner.errors import UserError
    from planner.state.backend import check_names

    assert check_run_id("20261120T000000Z-a3b4") == "20261120T000000Z-a3b4"
    with pytest.raises(ValueError):
        check_run_id("20261120T000000Z-a3b4\n")
    with pytest.raises(UserError):
        check_names("restore_planner\n", "default")
    with pytest.raises(UserError):
        check_names("restore_planner", "default\n")


@pytest.mark.parametrize(
    "line",
    [
        {"kind": "restore_started", "address": "db", "backup_id": "b", "target": {}, "batch": 1, "wave": None,
         "estimate_s": 1.0, "depends_on": [], "size_gb": 1, "adopted": False},
        {"kind": "run_finished", "counts": {}, "exit_code": 0, "interrupted": False},
        {"kind": "run_finished", "counts": {"succeeded": 1}, "exit_code": 0, "interrupted": False},
    ],
)  # fmt: skip
def test_the_schema_refuses_a_line_missing_what_every_line_has(line: dict[str, object]) -> None:
    """"Every field of the kind is present": nested ones too (a target's kind, id and
    name; every count of run_finished)."""
    with pytest.raises(jsonschema.ValidationError):
        _validator().validate({"ts": "2026-11-28T12:00:00.000Z", **line})
