"""A restore POST whose answer never arrives, or arrives empty, adopts its task.

The cloud accepted the restore; the executor must find the task in the
operation logs and track it, never POST a second restore of that target.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from planner.cli.main import main
from tests.apply.checks import duplicates, read_state, run_events
from tests.apply.drill import in_process, make_drill, simulator, write_drill

Mangle = Callable[[httpx.Request, httpx.Response], httpx.Response]


class Dropping(httpx.AsyncBaseTransport):
    """Forwards to the simulator, then mangles the answers of chosen restore POSTs."""

    def __init__(self, inner: httpx.AsyncBaseTransport, posts: set[int], mangle: Mangle) -> None:
        self.inner = inner
        self.posts = posts  # 0-based indexes of restore POSTs to mangle
        self.mangle = mangle
        self.seen = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.method == "POST" and request.url.path.endswith("/restore"):
            n, self.seen = self.seen, self.seen + 1
            if n in self.posts and response.status_code == 202:
                return self.mangle(request, response)
        return response


def _lose(request: httpx.Request, _response: httpx.Response) -> httpx.Response:
    raise httpx.ReadTimeout("The read operation timed out", request=request)


def _empty(request: httpx.Request, _response: httpx.Response) -> httpx.Response:
    return httpx.Response(202, content=b"", request=request)


@pytest.mark.parametrize("mangle", [_lose, _empty], ids=["lost", "empty-202"])
def test_lost_or_empty_answer_adopts_the_task(tmp_path: Path, mangle: Mangle) -> None:
    drill = make_drill(12, seed=2)
    _inv, plan = write_drill(drill, tmp_path)
    sim, clock = simulator(drill)
    dropping = Dropping(sim.transport(), {0, 2, 5}, mangle)
    with in_process(sim, clock, dropping):
        rc = main(["apply", str(plan), "--auto-approve", "--no-color"])
    assert rc == 0
    assert dropping.seen == len(drill.target)  # one POST per restore: none sent twice
    ledger = sim.ledger()
    assert duplicates(ledger) == []
    assert len(ledger["restores"]) == len(drill.target)
    state = read_state(tmp_path / ".restore-planner" / "state.json")["restores"]
    jobs = {t["target_id"]: t["job_id"] for t in ledger["restores"]}
    assert {r["target"]["id"]: r["task_id"] for r in state.values()} == jobs
    assert {r["status"] for r in state.values()} == {"succeeded"}
    events = run_events(tmp_path / ".restore-planner")
    accepted = [e for e in events if e["kind"] == "restore_accepted"]
    assert len(accepted) == len(drill.target)


def test_lost_with_simulator_fault_then_cleared(tmp_path: Path) -> None:
    """``lost=1.0`` while the first wave is posted, then faults off: adopted, not re-sent."""
    drill = make_drill(6, seed=3)
    _inv, plan = write_drill(drill, tmp_path)
    sim, clock = simulator(drill)
    saved = tmp_path / "drill.plan"
    with in_process(sim, clock) as cloud:
        assert main(["plan", str(plan), "--out", str(saved), "--no-color"]) in (0, 2)
        inner = sim.transport()

        class LoseFirstPosts(httpx.AsyncBaseTransport):
            async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
                is_post = request.method == "POST" and request.url.path.endswith("/restore")
                sim.with_faults(lost=1.0 if is_post and not sim.ledger()["restores"] else 0.0)
                try:
                    return await inner.handle_async_request(request)
                finally:
                    sim.with_faults(lost=0.0)

        cloud.transport = LoseFirstPosts()
        assert main(["apply", str(saved), "--auto-approve", "--no-color"]) == 0
    ledger = sim.ledger()
    assert duplicates(ledger) == []
    assert len(ledger["restores"]) == len(drill.target)
    state = json.loads((tmp_path / ".restore-planner" / "state.json").read_text())
    assert {r["status"] for r in state["restores"].values()} == {"succeeded"}
