"""Fixtures for the drill report tests: the hand-written run log and synthetic big runs."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from planner.report.model import RunReport, build_report

DATA = Path(__file__).parent / "data"
DRILL_LOG = DATA / "drill.jsonl"


def load_events(path: Path = DRILL_LOG) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.fixture
def events() -> list[dict[str, Any]]:
    return load_events()


@pytest.fixture
def report(events: list[dict[str, Any]]) -> RunReport:
    return build_report(events)


def _ts(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def synthetic_events(
    n: int,
    waves: int = 4,
    overhead_s: float = 60.0,
    gb_per_min: float = 4.0,
    seed: int = 1,
    noise_s: float = 0.0,
    fail_every: int = 0,
) -> list[dict[str, Any]]:
    """A run of ``n`` restores in ``waves`` waves, each wave starting when the previous ended.

    Durations follow overhead + size / throughput, plus noise drawn in +/- pairs
    (so a fit recovers the parameters exactly in expectation).
    """
    rng = random.Random(seed)
    t0 = datetime(2026, 3, 1, 2, 0, 0, tzinfo=UTC)
    ev: list[dict[str, Any]] = [
        {"ts": _ts(t0), "kind": "run_started", "run_id": "20260301T020000Z-big1", "parallelism": 20,
         "summary": {"restore": n}, "plan_estimate_s": 3600.0, "critical_path": []},
    ]  # fmt: skip
    per_wave = n // waves
    wave_start = t0 + timedelta(seconds=1)
    prev_wave: list[str] = []
    for w in range(1, waves + 1):
        count = per_wave if w < waves else n - per_wave * (waves - 1)
        wave_end = wave_start
        this_wave = []
        for i in range(count):
            addr = f'vm["w{w}-{i:04d}"]'
            size = float(rng.randint(5, 200))
            noise = noise_s if i % 2 == 0 else -noise_s
            dur = overhead_s + size / gb_per_min * 60.0 + noise
            start = wave_start + timedelta(seconds=rng.uniform(0, 30))
            end = start + timedelta(seconds=dur)
            deps = [prev_wave[i % len(prev_wave)]] if prev_wave else []
            ev.append({"ts": _ts(start), "kind": "restore_started", "address": addr, "backup_id": f"b{w}{i}",
                       "target": {"kind": "server", "id": f"s{w}{i}", "name": f"srv-{w}-{i}"}, "batch": w,
                       "wave": w, "estimate_s": overhead_s + size / gb_per_min * 60.0, "depends_on": deps})  # fmt: skip
            if fail_every and i % fail_every == fail_every - 1:
                ev.append({"ts": _ts(end), "kind": "restore_failed", "address": addr, "task_id": f"t{w}{i}",
                           "error_code": "BackupService.2011", "error_message": "disk status does not allow restore",
                           "started_at": _ts(start), "ended_at": _ts(end)})  # fmt: skip
            else:
                ev.append({"ts": _ts(end), "kind": "restore_succeeded", "address": addr, "task_id": f"t{w}{i}",
                           "started_at": _ts(start), "ended_at": _ts(end), "size_gb": size})  # fmt: skip
            wave_end = max(wave_end, end)
            this_wave.append(addr)
        prev_wave = this_wave
        wave_start = wave_end + timedelta(seconds=5)
    ev.append(
        {
            "ts": _ts(wave_start),
            "kind": "run_finished",
            "counts": {},
            "exit_code": 0,
            "interrupted": False,
        }
    )
    return ev
