"""A poll's listing starts where the tasks in flight do, not minutes before them.

Restores of seconds (``snapshot`` mode) end by the hundred per minute: a listing
that reached 15 minutes back for a task no listing showed yet carried every one
of them (490 rows per listing over 1,000 restores, most of apply's CPU). Once
the cloud's clock is learned, a task the cloud accepted is listed from its POST
less a few seconds; one a listing still misses (a cloud whose Date disagrees
with its own task times) is fetched by id and restored once, as every other,
and later listings reach back by the disagreement seen.
"""

from __future__ import annotations

import json
from email.utils import formatdate
from pathlib import Path

import httpx

from planner.cli.main import main
from planner.timefmt import parse
from tests.apply.checks import duplicates, read_state
from tests.apply.drill import in_process, make_drill, simulator, write_drill


class Listings(httpx.AsyncBaseTransport):
    """Records every operation-log listing's rows and every task fetched by id."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.listings: list[list[dict[str, object]]] = []
        self.by_id = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        content = await response.aread()
        path = request.url.path
        if request.method == "GET" and path.endswith("/operation-logs"):
            self.listings.append(json.loads(content)["operation_logs"])
        elif request.method == "GET" and "/operation-logs/" in path:
            self.by_id += 1
        return httpx.Response(
            response.status_code, headers=response.headers, content=content, request=request
        )


def _apply(tmp_path: Path, date_ahead_s: float = 0.0) -> tuple[int, Listings, dict[str, object], int]:
    drill = make_drill(300, seed=4, quota=20, levels=2, restore_mode="snapshot")
    _inv, plan = write_drill(drill, tmp_path)
    sim, clock = simulator(drill)
    if date_ahead_s:
        # a gateway whose Date runs ahead of the task times the same cloud writes
        sim.date_header = lambda: formatdate(sim.clock.now() + date_ahead_s, usegmt=True)  # type: ignore[method-assign]
    listings = Listings(sim.transport())
    with in_process(sim, clock, listings):
        rc = main(["apply", str(plan), "--auto-approve", "--no-color", "--parallelism", "20"])
    return rc, listings, sim.ledger(), len(drill.target)


def _long_ended(rows: list[dict[str, object]]) -> int:
    """Rows of tasks that had ended half a minute or more before the newest task listed was
    created: nothing in flight needs them."""
    created = [parse(str(r["created_at"])).timestamp() for r in rows]
    newest = max(created, default=0.0)
    return sum(
        1
        for r in rows
        if r.get("ended_at") and parse(str(r["ended_at"])).timestamp() < newest - 30
    )


def test_listings_of_restores_of_seconds_carry_only_what_is_in_flight(tmp_path: Path) -> None:
    rc, listings, ledger, n = _apply(tmp_path)
    assert rc == 0
    assert duplicates(ledger) == [] and len(ledger["restores"]) == n  # type: ignore[arg-type]
    assert len(listings.listings) > 20
    # the first listings come before the cloud's clock is learned: they may reach back
    settled = listings.listings[5:]
    stale = sum(_long_ended(rows) for rows in settled)
    rows = sum(len(rows) for rows in settled)
    # 15 minutes back, most rows of the late listings were restores long finished
    assert stale == 0, f"{stale} of {rows} rows were of tasks ended half a minute before"
    assert rows / len(settled) < 100  # the 20 in flight, those queued and those just ended
    assert listings.by_id == 0  # and none was missed


def test_a_task_the_listing_misses_is_fetched_by_id_and_restored_once(tmp_path: Path) -> None:
    # Date 20 minutes ahead of the task times: the first tasks' POSTs seem to leave after
    # their creation, beyond even the 15 minutes listings reach back before the clock is
    # learned, so no listing shows them: each is fetched by id. From the first one seen,
    # listings reach back that much further, and none is missed again.
    rc, listings, ledger, n = _apply(tmp_path, date_ahead_s=1200.0)
    assert rc == 0
    assert 1 <= listings.by_id <= 20  # the first batch (--parallelism 20), no more
    assert duplicates(ledger) == [] and len(ledger["restores"]) == n  # type: ignore[arg-type]
    states = read_state(tmp_path / ".restore-planner" / "state.json")["restores"]
    assert {r["status"] for r in states.values()} == {"succeeded"}
