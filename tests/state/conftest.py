"""Fixtures for the state layer: a record factory and a state path in tmp_path."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from planner.state.model import RestoreRecord

T0 = datetime(2026, 11, 28, 12, 0, 0, tzinfo=UTC)


def _record(address: str, **over: Any) -> RestoreRecord:
    name = address.replace('"', "").replace("[", "-").replace("]", "")
    data: dict[str, Any] = {
        "address": address,
        "target": {"kind": "server", "id": f"srv-{name}", "name": name},
        "backup": {
            "id": f"bk-{name}",
            "name": f"autobk-{name}",
            "created_at": "2026-11-20T00:00:00Z",
        },
        "disks": [{"backup_id": f"child-{name}", "volume_id": f"vol-{name}"}],
        "power_on": True,
        "task_id": f"task-{name}",
        "status": "succeeded",
        "started_at": T0,
        "ended_at": datetime(2026, 11, 28, 12, 10, 0, tzinfo=UTC),
        "run_id": "20261128T120000Z-ab12",
    }
    data.update(over)
    return RestoreRecord.model_validate(data)


@pytest.fixture
def make_record() -> Callable[..., RestoreRecord]:
    return _record


@pytest.fixture
def state_path(tmp_path: Path) -> Path:
    return tmp_path / "plans" / ".restore-planner" / "state.json"
