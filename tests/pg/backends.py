"""Both state backends behind one fixture: ``backend_kind`` runs a test on each."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from planner.state.backend import Backend, LocalBackend
from planner.state.postgres import PostgresBackend

KINDS = ["local", "postgres"]


@pytest.fixture(params=KINDS)
def backend_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def open_backend(
    backend_kind: str, request: pytest.FixtureRequest, tmp_path: Path, pg_workspace: str
) -> Iterator[Callable[[], Backend]]:
    """Opens a fresh handle (as another process would) on one test's state, each call."""
    opened: list[Backend] = []
    conn = request.getfixturevalue("pg_conn_str") if backend_kind == "postgres" else ""
    path = tmp_path / ".restore-planner" / "state.json"

    def make() -> Backend:
        b: Backend = (
            PostgresBackend(conn, "restore_planner", pg_workspace)
            if backend_kind == "postgres"
            else LocalBackend(path)
        )
        opened.append(b)
        return b

    yield make
    for b in opened:
        b.close()
