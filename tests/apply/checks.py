"""Checks the apply tests share: state, run logs and the ledger, read back."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from planner.state.store import StateStore


def read_state(path: Path) -> dict[str, Any]:
    """The state as a plain dict, through the store (so it must parse)."""
    return StateStore(path).load().model_dump(mode="json")


def run_events(state_dir: Path) -> list[dict[str, Any]]:
    """Every event of every run log beside the state, runs in order."""
    events: list[dict[str, Any]] = []
    for f in sorted((state_dir / "runs").glob("*.jsonl")):
        events += [json.loads(line) for line in f.read_text().splitlines() if line.strip()]
    return events


def duplicates(ledger: dict[str, Any]) -> list[str]:
    """Targets the simulator accepted more than one restore for."""
    counts = Counter(r["target_id"] for r in ledger["restores"])
    return sorted(t for t, n in counts.items() if n > 1)
