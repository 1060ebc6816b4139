from __future__ import annotations

import json
import os
import shlex
import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from planner.cli.main import main
from planner.state.lock import StateLock, lock_paths
from planner.state.model import RestoreRecord, State
from planner.state.store import StateStore

MakeRecord = Callable[..., RestoreRecord]


@pytest.fixture
def saved(state_path: Path, make_record: MakeRecord) -> State:
    state = State.new()
    state.record(make_record("db"))
    state.record(
        make_record(
            'app["app-01"]',
            status="failed",
            error={"code": "BackupService.2010", "message": "resource busy"},
            disks=[
                {"backup_id": "child-1", "volume_id": "vol-1"},
                {"backup_id": "child-2", "volume_id": "vol-2"},
            ],
        )
    )
    return StateStore(state_path).write(state)


def _out(capsys: pytest.CaptureFixture[str]) -> tuple[list[str], list[str]]:
    cap = capsys.readouterr()
    return cap.out.splitlines(), cap.err.splitlines()


def test_list_text(saved: State, state_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plans_dir = state_path.parent.parent
    assert main(["state", "list", str(plans_dir)]) == 0
    out, err = _out(capsys)
    assert out == [
        'app["app-01"]  failed     server app-app-01  autobk-app-app-01 (2026-11-20T00:00:00Z)',
        "db             succeeded  server db          autobk-db (2026-11-20T00:00:00Z)",
    ]
    assert err == []


def test_list_json(saved: State, state_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["state", "list", "--state", str(state_path), "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert (doc["state"], doc["lineage"], doc["serial"]) == (str(state_path), saved.lineage, 1)
    assert [r["address"] for r in doc["restores"]] == ['app["app-01"]', "db"]
    assert doc["restores"][1]["target"] == {"kind": "server", "id": "srv-db", "name": "db"}


def test_list_empty(state_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["state", "list", "--state", str(state_path)]) == 0
    assert _out(capsys) == ([f"No restores recorded in {state_path}."], [])
    assert not state_path.exists()


def test_show_text(saved: State, state_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["state", "show", 'app["app-01"]', "--state", str(state_path)]) == 0
    out, _ = _out(capsys)
    assert out == [
        '# app["app-01"]',
        "status           failed",
        "error            BackupService.2010: resource busy",
        "target           server app-app-01 (id srv-app-app-01)",
        "backup           autobk-app-app-01 (id bk-app-app-01), created 2026-11-20T00:00:00Z",
        "disks            child-1 -> vol-1",
        "                 child-2 -> vol-2",
        "power_on         true",
        "destination_path -",
        "task_id          task-app-app-01",
        "started_at       2026-11-28T12:00:00Z",
        "ended_at         2026-11-28T12:10:00Z",
        "run_id           20261128T120000Z-ab12",
    ]


def test_show_json(saved: State, state_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["state", "show", "db", "--state", str(state_path), "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc == saved.restores["db"].model_dump(mode="json")
    assert doc["started_at"] == "2026-11-28T12:00:00Z"


def test_show_errors(saved: State, state_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["state", "show", "dbb", "--state", str(state_path)]) == 1
    assert _out(capsys) == (
        [],
        [f"error: not in state {state_path}: dbb", "hint: did you mean db instead of dbb?"],
    )
    assert main(["state", "show", "app", "--state", str(state_path)]) == 1
    assert _out(capsys) == (
        [],
        [
            "error: app has 1 instance(s) in state; show one of them",
            'hint: instances: app["app-01"]',
        ],
    )
    assert main(["state", "show", "app[x]", "--state", str(state_path)]) == 1
    _, err = _out(capsys)
    assert err[0] == (
        "error: 'app[x]' is not a restore address; expected NAME or NAME[\"KEY\"], "
        'for example db or app["app-01"]'
    )


def test_rm(saved: State, state_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["state", "rm", "db", "app", "--state", str(state_path)]) == 0
    assert _out(capsys) == (["Removed 2 address(es) from state (serial 2)."], [])
    after = StateStore(state_path).load()
    assert (after.restores, after.serial, after.lineage) == ({}, 2, saved.lineage)
    assert not lock_paths(state_path)[1].exists()


def test_rm_default_path(
    saved: State, state_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["state", "rm", 'app["app-01"]', "--path", str(state_path.parent.parent)]) == 0
    assert _out(capsys) == (["Removed 1 address(es) from state (serial 2)."], [])
    assert list(StateStore(state_path).load().restores) == ["db"]


def test_rm_unknown_changes_nothing(
    saved: State, state_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = state_path.read_bytes()
    assert main(["state", "rm", "db", "wbe", "--state", str(state_path)]) == 1
    assert _out(capsys) == (
        [],
        [
            f"error: not in state {state_path}: wbe",
            "hint: `restore-planner state list` shows the recorded addresses",
        ],
    )
    assert state_path.read_bytes() == before


def test_rm_while_locked(
    saved: State, state_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with StateLock(state_path, "apply") as lock:
        assert main(["state", "rm", "db", "--state", str(state_path)]) == 1
        _, err = _out(capsys)
        assert lock.info is not None
        assert err[0].startswith("error: state ") and f" is locked by apply (pid {os.getpid()} on " in err[0]
        assert err[1].startswith(
            f"hint: if that process is dead, run: restore-planner force-unlock {lock.info.id} --state "
        )
        hinted = shlex.split(err[1].split("run: ", 1)[1])
    assert StateStore(state_path).load().serial == 1
    # the hint's command, as printed, names this state (not ./.restore-planner's)
    with StateLock(state_path, "apply") as lock:
        assert lock.info is not None
        hinted[2] = lock.info.id
        # a live holder is never broken: refused, for this state
        assert main(hinted[1:]) == 1
        _, refused = _out(capsys)
        assert f"error: lock {lock.info.id} is held by a running process" in refused[0], refused


@pytest.mark.parametrize("prefix", [["force-unlock"], ["state", "force-unlock"]])
def test_force_unlock(
    prefix: list[str], state_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state_path.parent.mkdir(parents=True)
    info = {
        "id": "7f3a",
        "holder": "root",
        "host": "host-a",
        "pid": 4242,
        "operation": "apply",
        "created": "2026-11-28T12:00:00Z",
        "version": "0.1.0",
    }
    lock_paths(state_path)[1].write_text(json.dumps(info))
    assert main([*prefix, "7f3b", "--state", str(state_path)]) == 1
    _, err = _out(capsys)
    assert err[0] == (
        f"error: lock id 7f3b does not match the lock on {state_path}: it is 7f3a, held by "
        "apply (pid 4242 on host-a, user root, since 2026-11-28T12:00:00Z)"
    )
    assert main([*prefix, "7f3a", "--state", str(state_path)]) == 0
    assert _out(capsys) == (
        [
            "Removed lock 7f3a held by apply (pid 4242 on host-a, user root, since "
            f"2026-11-28T12:00:00Z); {state_path} is unlocked."
        ],
        [],
    )
    assert not lock_paths(state_path)[1].exists()
    assert socket.gethostname() != "host-a"


def test_damaged_state_is_reported(state_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state_path.parent.mkdir(parents=True)
    state_path.write_text("{")
    assert main(["state", "list", "--state", str(state_path)]) == 1
    _, err = _out(capsys)
    assert err[0].startswith(f"error: state file {state_path} is not valid JSON (")
    assert err[1] == (
        "hint: the file was left untouched; fix it by hand, or restore state.json.backup "
        "(the previous version) if it is damaged"
    )
