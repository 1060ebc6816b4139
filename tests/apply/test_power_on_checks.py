"""A server restored with power_on is confirmed ACTIVE (ECS) before it counts as done.
The check is made at once only when it can start something sooner: a free slot that
the restores already ready would not fill, or a dependent that comes before them.
Otherwise it waits to be made with others, and the drill takes no longer for it."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from planner.apply.executor import Executor
from planner.cli.main import main
from tests.apply.checks import duplicates
from tests.apply.drill import in_process, make_drill, simulator, write_drill


def _ts(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


class _Counting(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.paths: Counter[str] = Counter()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.paths[request.url.path.rsplit("/", 2)[-2] + "/" + request.url.path.rsplit("/", 1)[-1]] += 1
        return await self.inner.handle_async_request(request)


def _drill(tmp_path: Path) -> tuple[float, int, int]:
    """(ledger makespan, ECS checks, servers restored) of a drill whose slots stay full."""
    drill = make_drill(200, seed=5, quota=20)
    _inv, plan = write_drill(drill, tmp_path)
    sim, clock = simulator(drill)
    counting = _Counting(sim.transport())
    with in_process(sim, clock, counting):
        rc = main(["apply", str(plan), "--auto-approve", "--no-color", "--parallelism", "20"])
    assert rc == 0
    ledger: dict[str, Any] = sim.ledger()
    runs = ledger["restores"]
    assert len(runs) == len(drill.target) and duplicates(ledger) == []
    span = max(_ts(r["ended_at_ms"]) for r in runs) - min(_ts(r["accepted_at"]) for r in runs)
    return span, counting.paths["cloudservers/detail"], len(runs)


def test_checks_that_start_nothing_sooner_wait_for_others(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    span, checks, servers = _drill(tmp_path / "now")
    # every check made at once whenever it unblocks a dependent (the earlier behaviour)
    monkeypatch.setattr(Executor, "_check_pays", lambda self, urgent: True)
    eager_span, eager_checks, _ = _drill(tmp_path / "eager")
    # 78 against 105 checks for 200 servers (1,000 restores in bench/apply_makespan.py: 341 against 511)
    assert checks < 0.85 * eager_checks, (checks, eager_checks, servers)
    assert span <= eager_span * 1.01  # the slots were full anyway: no later for it
