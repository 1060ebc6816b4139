"""state mv / pull / push / migrate through the CLI."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from planner.cli.main import main
from planner.state.model import RestoreRecord
from planner.state.postgres import PostgresBackend
from planner.state.store import StateStore


def _local(tmp_path: Path, make_record: Callable[..., RestoreRecord]) -> Path:
    path = tmp_path / "state.json"
    store = StateStore(path)
    state = store.load()
    for addr in ('db["a"]', 'db["b"]', "web"):
        state.record(make_record(addr))
    store.write(state)
    return path


def test_mv_keeps_the_records_under_the_new_name(
    tmp_path: Path, make_record: Callable[..., RestoreRecord], capsys: pytest.CaptureFixture[str]
) -> None:
    path = _local(tmp_path, make_record)
    assert main(["state", "mv", "db", "database", "--state", str(path)]) == 0
    assert capsys.readouterr().out.endswith("Moved 2 address(es) in state (serial 2).\n")
    state = StateStore(path).load()
    assert sorted(state.restores) == ['database["a"]', 'database["b"]', "web"]
    assert state.restores['database["a"]'].task_id == "task-db-a"
    assert main(["state", "mv", "web", 'database["a"]', "--state", str(path)]) == 1
    assert "already in state: database[\"a\"]" in capsys.readouterr().err


def test_pull_push_and_migrate_to_postgres(
    tmp_path: Path,
    make_record: Callable[..., RestoreRecord],
    capsys: pytest.CaptureFixture[str],
    pg_env: str,
    pg_workspace: str,
) -> None:
    path = _local(tmp_path, make_record)
    pg = ["--backend", "postgres", "--workspace", pg_workspace]
    assert main(["state", "migrate", "--state", str(path), "--workspace", pg_workspace]) == 0
    assert "Migrated 3 record(s)" in capsys.readouterr().out
    assert main(["state", "pull", *pg]) == 0
    pulled = json.loads(capsys.readouterr().out)
    local = StateStore(path).load()
    assert pulled["lineage"] == local.lineage and sorted(pulled["restores"]) == sorted(local.restores)
    assert pg_env not in json.dumps(pulled)
    # an older copy is refused; an edited copy of the current one is pushed
    older = tmp_path / "older.json"
    older.write_text(json.dumps({**pulled, "serial": 0}), encoding="utf-8")
    assert main(["state", "push", str(older), *pg]) == 1
    assert "is older (serial 0)" in capsys.readouterr().err
    del pulled["restores"]["web"]
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(pulled), encoding="utf-8")
    assert main(["state", "push", str(edited), "--force", *pg]) == 0
    b = PostgresBackend(pg_env, "restore_planner", pg_workspace)
    assert sorted(b.store().load().restores) == ['db["a"]', 'db["b"]']
    b.close()
    other = tmp_path / "other.json"
    StateStore(other).write(StateStore(other).load())
    assert main(["state", "push", str(other), *pg]) == 1
    assert "is another state" in capsys.readouterr().err
